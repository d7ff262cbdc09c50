#include "http/https_client.h"

#include "http/tls_stream.h"

namespace concierge::http {
struct HttpsClient::Impl {
  Impl(TlsStream s, ParserLimits limits, std::string h)
      : stream(std::move(s)), parser(MessageParser::Kind::kResponse, limits), host(std::move(h)) {}

  TlsStream stream;
  MessageParser parser;
  std::string host;
  crypto::Certificate peer = crypto::Certificate::Adopt(nullptr);
  std::vector<crypto::Certificate> chain;
};

Status ConfigureClientSession(SSL* ssl, const std::string& host, const ClientOptions& options) {
  if (options.identity != nullptr) {
    RETURN_IF_ERROR(UseIdentity(ssl, *options.identity));
  }
  const std::string& name = options.server_name.empty() ? host : options.server_name;
  if (IsIpLiteral(name)) {
    if (options.check_server_name) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    }
  } else if (!name.empty()) {
    SSL_set_tlsext_host_name(ssl, name.c_str());
    if (options.check_server_name) {
      SSL_set1_host(ssl, name.c_str());
    }
  }
  return OkStatus();
}

HttpsClient::HttpsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpsClient::HttpsClient(HttpsClient&&) noexcept = default;
HttpsClient& HttpsClient::operator=(HttpsClient&&) noexcept = default;

HttpsClient::~HttpsClient() {
  if (impl_) {
    impl_->stream.Shutdown();
  }
}

Result<HttpsClient> HttpsClient::Connect(const HostPort& address, SSL_CTX* ctx,
                                         const ClientOptions& options) {
  ASSIGN_OR_RETURN(Fd fd, ConnectTcp(address, options.timeout));
  crypto::OpenSslPtr<SSL> ssl(SSL_new(ctx));
  if (!ssl) {
    return std::unexpected(crypto::OpenSslError(ErrorCode::kInternal, "creating TLS session"));
  }
  RETURN_IF_ERROR(ConfigureClientSession(ssl.get(), address.host, options));
  TlsStream stream(std::move(fd), std::move(ssl));
  RETURN_IF_ERROR_CTX(stream.Handshake(/*server=*/false),
                      "connecting to " + address.host + ":" + std::to_string(address.port));
  auto impl = std::make_unique<Impl>(std::move(stream), options.limits, address.host);
  X509* peer = SSL_get1_peer_certificate(impl->stream.ssl());
  if (peer == nullptr) {
    return MakeError(ErrorCode::kSecurity, "TLS server sent no certificate");
  }
  impl->peer = crypto::Certificate::Adopt(peer);
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(impl->stream.ssl());
  // On the client side OpenSSL's peer chain starts with the leaf.
  for (int i = 1; chain != nullptr && i < sk_X509_num(chain); ++i) {
    impl->chain.push_back(crypto::Certificate::Share(sk_X509_value(chain, i)));
  }
  if (address.port != 443) {
    impl->host += ':';
    impl->host += std::to_string(address.port);
  }
  return HttpsClient(std::move(impl));
}

Result<HttpResponse> HttpsClient::Send(const HttpRequest& request) {
  RETURN_IF_ERROR_CTX(impl_->stream.WriteAll(SerializeRequest(request, impl_->host)),
                      "sending " + request.method + " " + request.target + " to " + impl_->host);
  if (auto read = impl_->stream.ReadMessage(impl_->parser); !read) {
    if (read.error().code() == ErrorCode::kTimeout) {
      return MakeError(ErrorCode::kTimeout, impl_->host + " did not answer " + request.method +
                                                " " + request.target + " in time (" +
                                                impl_->parser.Progress() + " of the response)");
    }
    return std::unexpected(read.error().WithContext(impl_->host + " answering " + request.method +
                                                    " " + request.target));
  }
  return impl_->parser.TakeResponse();
}

const crypto::Certificate& HttpsClient::PeerCertificate() const {
  return impl_->peer;
}

const std::vector<crypto::Certificate>& HttpsClient::PeerChain() const {
  return impl_->chain;
}

Result<HttpResponse> Post(HttpsClient& client, std::string_view path, std::string_view content_type,
                          std::string body, std::string_view accept) {
  HttpRequest request;
  request.method = "POST";
  request.target = std::string(path);
  request.headers["content-type"] = std::string(content_type);
  if (!accept.empty()) {
    request.headers["accept"] = std::string(accept);
  }
  request.body = std::move(body);
  return client.Send(request);
}

Result<HttpResponse> Get(HttpsClient& client, std::string_view path, std::string_view accept) {
  HttpRequest request;
  request.method = "GET";
  request.target = std::string(path);
  if (!accept.empty()) {
    request.headers["accept"] = std::string(accept);
  }
  return client.Send(request);
}

}  // namespace concierge::http
