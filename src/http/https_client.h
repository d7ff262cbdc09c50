#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "crypto/certificate.h"
#include "http/http_message.h"
#include "http/socket_io.h"
#include "http/tls.h"

namespace concierge::http {

struct ClientOptions {
  std::chrono::milliseconds timeout{30000};
  ParserLimits limits;
  // server_name is sent as SNI (unless it is an IP literal) and, when the context verifies
  // the server, checked against the certificate's names.
  std::string server_name;
  // check_server_name off leaves authentication to the anchors alone, as a BRSKI pledge that
  // reaches its registrar by address must (the voucher's pin names the domain instead).
  bool check_server_name = true;
  // identity, when set, is this connection's client certificate, overriding the context's;
  // one context can then serve many identities.
  const TlsIdentity* identity = nullptr;
};

// ConfigureClientSession prepares a new client session to host as options say: its client
// certificate, SNI, and which name or address the server's certificate must carry.
Status ConfigureClientSession(SSL* ssl, const std::string& host, const ClientOptions& options);

// HttpsClient is one keep-alive HTTPS connection. Not thread-safe; move-only.
class HttpsClient {
 public:
  static Result<HttpsClient> Connect(const HostPort& address, SSL_CTX* ctx,
                                     const ClientOptions& options);
  HttpsClient(HttpsClient&&) noexcept;
  HttpsClient& operator=(HttpsClient&&) noexcept;
  ~HttpsClient();

  // Send writes request and reads the whole response; the body is bounded by options.limits.
  Result<HttpResponse> Send(const HttpRequest& request);

  // PeerCertificate is the server's leaf certificate, as sent in the handshake.
  const crypto::Certificate& PeerCertificate() const;
  const std::vector<crypto::Certificate>& PeerChain() const;  // intermediates, leaf excluded

 private:
  struct Impl;
  explicit HttpsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Post is the common one-shot form: POST body with content_type to path.
Result<HttpResponse> Post(HttpsClient& client, std::string_view path, std::string_view content_type,
                          std::string body, std::string_view accept = "");
Result<HttpResponse> Get(HttpsClient& client, std::string_view path, std::string_view accept = "");

}  // namespace concierge::http
