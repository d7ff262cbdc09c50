#pragma once

#include "http/https_client.h"
#include "pledge/pledge.h"

namespace concierge::pledge {

// HttpsConnector opens real TLS connections to one registrar address.
class HttpsConnector final : public Connector {
 public:
  explicit HttpsConnector(http::HostPort registrar,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60))
      : registrar_(std::move(registrar)), timeout_(timeout) {}

  Result<std::unique_ptr<RegistrarConnection>> Open(
      const http::TlsIdentity& client, const std::vector<crypto::Certificate>& anchors) override;

 private:
  http::HostPort registrar_;
  std::chrono::milliseconds timeout_;
};

}  // namespace concierge::pledge
