#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "common/scheduler.h"
#include "pledge/transport.h"
#include "registrar/registrar_service.h"
#include "registrar/site_ownership.h"

namespace concierge::testing {

// DirectConnector carries the pledge's typed operations straight to a RegistrarService, with
// no HTTP on either side: the second transport the seam has, and the proof that the protocol
// logic needs none. Every answer arrives `latency` later on the scheduler, as over a link.
class DirectConnector final : public pledge::Connector {
 public:
  DirectConnector(registrar::RegistrarService& service, registrar::SiteOwnership& ownership,
                  const Clock& clock, Scheduler& scheduler, std::chrono::milliseconds latency)
      : service_(service),
        ownership_(ownership),
        clock_(clock),
        scheduler_(scheduler),
        latency_(latency) {}

  void Open(const crypto::Credential& client, const std::vector<crypto::Certificate>& anchors,
            Callback<std::unique_ptr<pledge::RegistrarConnection>> done) override;

  // Deliver hands a result to its callback after the link's latency.
  template <typename T>
  void Deliver(Callback<T> done, Result<T> result) {
    auto shared = std::make_shared<Result<T>>(std::move(result));
    scheduler_.After(latency_, [done = std::move(done), shared] { done(std::move(*shared)); });
  }

  registrar::RegistrarService& service() { return service_; }

  registrar::SiteOwnership& ownership() { return ownership_; }

  int operations = 0;  // how many operations the pledges started
  // The voucher format the link carries: CMS as over HTTPS, or COSE as over CoAP.
  voucher::Format format = voucher::Format::kCms;
  // When set, rewrites each voucher on its way to the pledge: a registrar or MASA that lies.
  std::function<void(Bytes& voucher)> rewrite_voucher;

 private:
  registrar::RegistrarService& service_;
  registrar::SiteOwnership& ownership_;
  const Clock& clock_;
  Scheduler& scheduler_;
  std::chrono::milliseconds latency_;
};

}  // namespace concierge::testing
