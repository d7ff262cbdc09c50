#pragma once

#include <map>
#include <mutex>

#include "http/https_client.h"
#include "pledge/transport.h"

namespace concierge::pledge {

// HttpsConnector opens real TLS connections to one registrar address.
class HttpsConnector final : public Connector {
 public:
  explicit HttpsConnector(HostPort registrar,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // Open connects and completes the TLS handshake before it returns.
  void Open(const crypto::Credential& client, const std::vector<crypto::Certificate>& anchors,
            Callback<std::unique_ptr<RegistrarConnection>> done) override;

 private:
  // Context returns the shared TLS context for this set of anchors (an empty set is the
  // provisional one). Contexts are costly to build and hold no identity, so every pledge using
  // this connector shares them.
  Result<std::shared_ptr<SSL_CTX>> Context(const std::vector<crypto::Certificate>& anchors);
  Result<std::unique_ptr<RegistrarConnection>> Connect(
      const crypto::Credential& client, const std::vector<crypto::Certificate>& anchors);

  HostPort registrar_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::map<Bytes, std::shared_ptr<SSL_CTX>> contexts_;  // by the anchors' DER
};

}  // namespace concierge::pledge
