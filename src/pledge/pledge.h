#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/scheduler.h"
#include "crypto/certificate.h"
#include "crypto/key.h"
#include "pledge/transport.h"

namespace concierge::pledge {

struct PledgeIdentity {
  crypto::Certificate idevid;
  crypto::PrivateKey key;
  std::vector<crypto::Certificate> chain;         // sent after the IDevID in TLS and CMS
  std::vector<crypto::Certificate> masa_anchors;  // who may sign vouchers for this device
};

struct PledgeOptions {
  size_t nonce_size = 16;
  // A registrar's 202 Retry-After is capped at 60 s (RFC 8995 §5.6); the pledge gives up after
  // max_pending_wait in total.
  std::chrono::seconds max_retry_after{60};
  std::chrono::seconds max_pending_wait{600};
  // accept_domain, when set, decides whether the domain a valid voucher pins may have the
  // device (a device changing owners accepts only the owner its chain names).
  std::function<Status(const crypto::Certificate& pinned)> accept_domain;
};

struct EnrollResult {
  Bytes voucher_cms;
  crypto::Certificate ldevid;
  crypto::PrivateKey ldevid_key;
  std::vector<crypto::Certificate> domain_anchors;
  int pending_rounds = 0;
};

// Pledge runs the device side of BRSKI (RFC 8995 §5.2–5.9): provisional session, a signed
// voucher-request with a fresh nonce, voucher checks, registrar re-validation against the
// pinned domain certificate, EST enrollment, and telemetry. It waits for an operator's approval
// through the scheduler, never by sleeping. Failures after the voucher is received are reported
// to the registrar before the error is returned.
class Pledge {
 public:
  Pledge(PledgeIdentity identity, Connector& connector, const Clock& clock, Scheduler& scheduler,
         Random& random, PledgeOptions options = {});
  ~Pledge();
  // An enrollment in flight refers to its pledge, which therefore stays where it was made.
  Pledge(const Pledge&) = delete;
  Pledge& operator=(const Pledge&) = delete;

  // Enroll runs the flow and calls done once, inline or from the scheduler. The pledge must
  // outlive the call to done; one enrollment at a time.
  void Enroll(Callback<EnrollResult> done);
  // EnrollAndWait is Enroll for the owner of the scheduler: it runs the scheduler until done.
  Result<EnrollResult> EnrollAndWait();

 private:
  class Run;

  PledgeIdentity identity_;
  Connector& connector_;
  const Clock& clock_;
  Scheduler& scheduler_;
  Random& random_;
  PledgeOptions options_;
  std::string serial_;
  std::shared_ptr<Run> run_;
};

}  // namespace concierge::pledge
