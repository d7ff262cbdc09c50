#include "registrar/https_masa_client.h"

#include "voucher/voucher.h"

namespace concierge::registrar {

HttpsMasaClient::HttpsMasaClient(http::TlsIdentity identity,
                                 std::function<std::vector<crypto::Certificate>()> anchors,
                                 std::chrono::milliseconds timeout)
    : identity_(std::move(identity)), anchors_(std::move(anchors)), timeout_(timeout) {}

Result<http::HttpsClient> HttpsMasaClient::Checkout(const http::Url& url, bool fresh) {
  if (!fresh) {
    std::lock_guard lock(mutex_);
    auto& idle = idle_[url.Authority()];
    if (!idle.empty()) {
      http::HttpsClient client = std::move(idle.back());
      idle.pop_back();
      return client;
    }
  }
  std::vector<crypto::Certificate> anchors = anchors_();
  if (anchors.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition, "no trust anchors for MASA connections");
  }
  ASSIGN_OR_RETURN(auto ctx, http::MakeClientContext(identity_, anchors));
  http::ClientOptions options;
  options.timeout = timeout_;
  options.server_name = url.host;
  return http::HttpsClient::Connect({url.host, url.port}, ctx.get(), options);
}

void HttpsMasaClient::DropIdle(const http::Url& url) {
  std::lock_guard lock(mutex_);
  idle_.erase(url.Authority());
}

void HttpsMasaClient::Return(const http::Url& url, http::HttpsClient client) {
  std::lock_guard lock(mutex_);
  auto& idle = idle_[url.Authority()];
  if (idle.size() < 64) {
    idle.push_back(std::move(client));
  }
}

Result<Bytes> HttpsMasaClient::RequestVoucher(const std::string& masa_base_url, ByteSpan rvr_cms) {
  ASSIGN_OR_RETURN(http::Url url, http::ParseHttpsUrl(masa_base_url));
  std::string path = url.path;
  if (!path.ends_with('/')) {
    path += '/';
  }
  path += "requestvoucher";
  // A pooled connection may have been closed by the MASA (idle timeout, restart); then the
  // others idle as long are likely closed too, and one retry on a new connection covers it.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = attempt > 0;
    ASSIGN_OR_RETURN(http::HttpsClient client, Checkout(url, fresh));
    auto response = http::Post(client, path, voucher::kVoucherCmsMediaType, ToString(rvr_cms),
                               voucher::kVoucherCmsMediaType);
    if (!response) {
      if (!fresh && response.error().code() == ErrorCode::kUnavailable) {
        DropIdle(url);
        continue;
      }
      return std::unexpected(response.error());
    }
    if (response->keep_alive) {
      Return(url, std::move(client));
    }
    if (response->status != 200) {
      return std::unexpected(http::ErrorFromPeerStatus("MASA", *response));
    }
    return ToBytes(response->body);
  }
  return MakeError(ErrorCode::kUnavailable, "MASA connection failed twice");
}

}  // namespace concierge::registrar
