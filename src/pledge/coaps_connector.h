#pragma once

#include <chrono>

#include "common/url.h"
#include "pledge/transport.h"

namespace concierge::pledge {

// CoapsConnector opens DTLS sessions to one registrar's CoAPS endpoint and speaks cBRSKI and
// EST-coaps (docs/constrained.md): COSE vouchers, CBOR telemetry, DER certificates. A session
// opened with anchors is kept only if the registrar's certificate chains to one of them.
class CoapsConnector final : public Connector {
 public:
  explicit CoapsConnector(HostPort registrar,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

  void Open(const crypto::Credential& client, const std::vector<crypto::Certificate>& anchors,
            Callback<std::unique_ptr<RegistrarConnection>> done) override;

 private:
  HostPort registrar_;
  std::chrono::milliseconds timeout_;
};

// ParseCoapsUrl reads coaps://HOST[:PORT] (port 5684 when not given).
Result<HostPort> ParseCoapsUrl(std::string_view url);

}  // namespace concierge::pledge
