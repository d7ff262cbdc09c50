#include "pledge/https_connector.h"

namespace concierge::pledge {
namespace {

class HttpsRegistrarConnection final : public RegistrarConnection {
 public:
  HttpsRegistrarConnection(crypto::OpenSslPtr<SSL_CTX> ctx, http::HttpsClient client)
      : ctx_(std::move(ctx)), client_(std::move(client)) {}

  Result<http::HttpResponse> Post(std::string_view path, std::string_view content_type,
                                  std::string body, std::string_view accept) override {
    return http::Post(client_, path, content_type, std::move(body), accept);
  }

  Result<http::HttpResponse> Get(std::string_view path, std::string_view accept) override {
    return http::Get(client_, path, accept);
  }

  const crypto::Certificate& ServerCertificate() const override {
    return client_.PeerCertificate();
  }

  std::vector<crypto::Certificate> ServerChain() const override { return client_.PeerChain(); }

 private:
  crypto::OpenSslPtr<SSL_CTX> ctx_;
  http::HttpsClient client_;
};

}  // namespace

Result<std::unique_ptr<RegistrarConnection>> HttpsConnector::Open(
    const http::TlsIdentity& client, const std::vector<crypto::Certificate>& anchors) {
  ASSIGN_OR_RETURN(auto ctx, http::MakeClientContext(client, anchors));
  // A pledge reaches its registrar by address; the domain's certificate names are not known
  // to it, so the name check is done by the voucher's pin instead (RFC 8995 §5.1).
  http::ClientOptions options;
  options.timeout = timeout_;
  options.check_server_name = false;
  auto connection = http::HttpsClient::Connect(registrar_, ctx.get(), options);
  if (!connection) {
    return std::unexpected(connection.error());
  }
  return std::unique_ptr<RegistrarConnection>(
      new HttpsRegistrarConnection(std::move(ctx), std::move(*connection)));
}

}  // namespace concierge::pledge
