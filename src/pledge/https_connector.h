#pragma once

#include <map>
#include <mutex>

#include "http/https_client.h"
#include "pledge/pledge.h"

namespace concierge::pledge {

// HttpsConnector opens real TLS connections to one registrar address.
class HttpsConnector final : public Connector {
 public:
  explicit HttpsConnector(http::HostPort registrar,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

  Result<std::unique_ptr<RegistrarConnection>> Open(
      const http::TlsIdentity& client, const std::vector<crypto::Certificate>& anchors) override;

 private:
  // Context returns the shared TLS context for this set of anchors (an empty set is the
  // provisional one). Contexts are costly to build and hold no identity, so every pledge using
  // this connector shares them.
  Result<std::shared_ptr<SSL_CTX>> Context(const std::vector<crypto::Certificate>& anchors);

  http::HostPort registrar_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::map<Bytes, std::shared_ptr<SSL_CTX>> contexts_;  // by the anchors' DER
};

}  // namespace concierge::pledge
