#include "pledge/https_connector.h"

namespace concierge::pledge {
namespace {

class HttpsRegistrarConnection final : public RegistrarConnection {
 public:
  HttpsRegistrarConnection(std::shared_ptr<SSL_CTX> ctx, http::HttpsClient client)
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
  std::shared_ptr<SSL_CTX> ctx_;
  http::HttpsClient client_;
};

}  // namespace

HttpsConnector::HttpsConnector(http::HostPort registrar, std::chrono::milliseconds timeout)
    : registrar_(std::move(registrar)), timeout_(timeout) {}

Result<std::shared_ptr<SSL_CTX>> HttpsConnector::Context(
    const std::vector<crypto::Certificate>& anchors) {
  Bytes key;
  for (const auto& anchor : anchors) {
    Bytes der = anchor.Der();
    key.insert(key.end(), der.begin(), der.end());
  }
  std::lock_guard lock(mutex_);
  auto it = contexts_.find(key);
  if (it != contexts_.end()) {
    return it->second;
  }
  ASSIGN_OR_RETURN(auto ctx, http::MakeClientContext(std::nullopt, anchors));
  std::shared_ptr<SSL_CTX> shared(ctx.release(), SSL_CTX_free);
  contexts_.emplace(std::move(key), shared);
  return shared;
}

Result<std::unique_ptr<RegistrarConnection>> HttpsConnector::Open(
    const http::TlsIdentity& client, const std::vector<crypto::Certificate>& anchors) {
  ASSIGN_OR_RETURN(auto ctx, Context(anchors));
  // A pledge reaches its registrar by address; the domain's certificate names are not known
  // to it, so the name check is done by the voucher's pin instead (RFC 8995 §5.1).
  http::ClientOptions options;
  options.timeout = timeout_;
  options.check_server_name = false;
  options.identity = &client;
  auto connection = http::HttpsClient::Connect(registrar_, ctx.get(), options);
  if (!connection) {
    return std::unexpected(connection.error());
  }
  return std::unique_ptr<RegistrarConnection>(
      new HttpsRegistrarConnection(std::move(ctx), std::move(*connection)));
}

}  // namespace concierge::pledge
