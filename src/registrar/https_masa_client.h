#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "http/async_https_client.h"
#include "http/https_client.h"
#include "http/tls.h"
#include "registrar/registrar_service.h"

namespace concierge::registrar {

// HttpsMasaClient talks to MASAs over HTTPS with the registrar's certificate as TLS client
// identity, authenticating each MASA by DNS-ID/IP against anchors() and sending SNI. Idle
// connections are kept per authority and reused. RequestVoucherAsync runs on threads of the
// client's own, started on first use, so a registrar's voucher requests wait for their MASAs
// without holding its workers. Thread-safe.
class HttpsMasaClient final : public MasaClient {
 public:
  // identity is nullopt for a client that is not a registrar (an escrow agent).
  HttpsMasaClient(std::optional<http::TlsIdentity> identity,
                  std::function<std::vector<crypto::Certificate>()> anchors,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

  ~HttpsMasaClient() override;

  Result<Bytes> RequestVoucher(const std::string& masa_base_url, voucher::Format format,
                               ByteSpan rvr) override;
  void RequestVoucherAsync(const std::string& masa_base_url, voucher::Format format, Bytes rvr,
                           Callback<Bytes> done) override;
  void DropCalls() override;
  Result<Bytes> FetchChain(const std::string& masa_base_url, const std::string& serial) override;
  Status SubmitChain(const std::string& masa_base_url, ByteSpan chain) override;
  Result<std::string> SubmitStatement(const std::string& masa_base_url,
                                      ByteSpan statement) override;

 private:
  struct Call {
    std::string method;  // GET or POST
    std::string content_type;
    std::string body;
    std::string accept;
  };

  // Exchange sends one request to the MASA at url and returns a 200 answer's body.
  Result<std::string> Exchange(const Url& url, const Call& call);
  // Checkout takes an idle pooled connection, or (fresh, or none idle) makes a new one.
  Result<http::HttpsClient> Checkout(const Url& url, bool fresh);
  void DropIdle(const Url& url);
  void Return(const Url& url, http::HttpsClient client);

  std::optional<http::TlsIdentity> identity_;
  std::function<std::vector<crypto::Certificate>()> anchors_;
  std::chrono::milliseconds timeout_;
  Result<std::shared_ptr<SSL_CTX>> Context();
  http::AsyncHttpsClient& Async();

  std::mutex mutex_;
  std::map<std::string, std::vector<http::HttpsClient>> idle_;
  std::unique_ptr<http::AsyncHttpsClient> async_;  // made on first use
};

}  // namespace concierge::registrar
