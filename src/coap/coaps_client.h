#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/url.h"
#include "crypto/identity.h"

namespace concierge::coap {

struct ClientRequest {
  std::string method;  // "GET", "POST"
  std::string path;    // "/.well-known/brski/rv"
  std::optional<uint16_t> content_format = std::nullopt;
  std::optional<uint16_t> accept = std::nullopt;
  Bytes payload = {};
};

struct ClientResponse {
  int code = 0;  // class * 100 + detail
  std::optional<uint16_t> content_format;
  Bytes payload;
  std::optional<uint32_t> max_age;
};

// CoapsClient is one DTLS session to a CoAPS server, presenting the client credential. It does
// not verify the server: the caller reads ServerCertificate and decides (a pledge trusts the
// registrar only once a voucher pins it). Requests block until their answer; libcoap
// retransmits, and splits and joins large bodies (RFC 7959). Not thread-safe: one per thread.
class CoapsClient {
 public:
  static Result<std::unique_ptr<CoapsClient>> Connect(const HostPort& server,
                                                      const crypto::Credential& client,
                                                      std::chrono::milliseconds timeout);
  ~CoapsClient();
  CoapsClient(const CoapsClient&) = delete;
  CoapsClient& operator=(const CoapsClient&) = delete;

  Result<ClientResponse> Send(const ClientRequest& request);

  const crypto::Certificate& ServerCertificate() const { return server_certificate_; }

  const std::vector<crypto::Certificate>& ServerChain() const { return server_chain_; }

  class Impl;

 private:
  CoapsClient(std::unique_ptr<Impl> impl, crypto::Certificate server,
              std::vector<crypto::Certificate> chain);
  std::unique_ptr<Impl> impl_;
  crypto::Certificate server_certificate_;
  std::vector<crypto::Certificate> server_chain_;
};

}  // namespace concierge::coap
