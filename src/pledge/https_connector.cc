#include "pledge/https_connector.h"

#include "pledge/http_registrar.h"

namespace concierge::pledge {

HttpsConnector::HttpsConnector(HostPort registrar, std::chrono::milliseconds timeout)
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

void HttpsConnector::Open(const crypto::Credential& client,
                          const std::vector<crypto::Certificate>& anchors,
                          Callback<std::unique_ptr<RegistrarConnection>> done) {
  done(Connect(client, anchors));
}

Result<std::unique_ptr<RegistrarConnection>> HttpsConnector::Connect(
    const crypto::Credential& client, const std::vector<crypto::Certificate>& anchors) {
  ASSIGN_OR_RETURN(auto ctx, Context(anchors));
  // A pledge reaches its registrar by address; the domain's certificate names are not known
  // to it, so the name check is done by the voucher's pin instead (RFC 8995 §5.1).
  http::ClientOptions options;
  options.timeout = timeout_;
  options.check_server_name = false;
  options.identity = &client;
  ASSIGN_OR_RETURN(auto connected, http::HttpsClient::Connect(registrar_, ctx.get(), options));
  auto client_connection = std::make_shared<http::HttpsClient>(std::move(connected));
  crypto::Certificate server = client_connection->PeerCertificate();
  std::vector<crypto::Certificate> chain = client_connection->PeerChain();
  // The exchange holds the connection and the context it was made from.
  return MakeHttpRegistrarConnection(
      [client_connection, ctx](const http::HttpRequest& request) {
        return client_connection->Send(request);
      },
      std::move(server), std::move(chain));
}

}  // namespace concierge::pledge
