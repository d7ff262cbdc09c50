#include "http/https_client.h"
#include "http/tls.h"
#include "mud/network.h"

namespace concierge::mud {
namespace {

class HttpsFetcher final : public Fetcher {
 public:
  HttpsFetcher(crypto::OpenSslPtr<SSL_CTX> ctx, std::chrono::milliseconds timeout)
      : ctx_(std::move(ctx)), timeout_(timeout) {}

  Result<std::string> Fetch(const std::string& url_text, size_t max_bytes) override {
    ASSIGN_OR_RETURN(Url url, ParseHttpsUrl(url_text));
    http::ClientOptions options;
    options.timeout = timeout_;
    options.server_name = url.host;
    options.limits.max_body_bytes = max_bytes;
    ASSIGN_OR_RETURN_CTX(http::HttpsClient client,
                         http::HttpsClient::Connect({url.host, url.port}, ctx_.get(), options),
                         url_text);
    ASSIGN_OR_RETURN_CTX(http::HttpResponse response, http::Get(client, url.path), url_text);
    if (response.status != 200) {
      return std::unexpected(http::ErrorFromPeerStatus(url_text, response));
    }
    return std::move(response.body);
  }

 private:
  crypto::OpenSslPtr<SSL_CTX> ctx_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

Result<std::unique_ptr<Fetcher>> MakeHttpsFetcher(
    const std::vector<crypto::Certificate>& extra_anchors, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(auto ctx, http::MakeWebClientContext(extra_anchors));
  return std::unique_ptr<Fetcher>(new HttpsFetcher(std::move(ctx), timeout));
}

}  // namespace concierge::mud
