#include "registrar/https_masa_client.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include "metrics/metrics.h"
#include "voucher/voucher.h"

namespace concierge::registrar {

HttpsMasaClient::HttpsMasaClient(std::optional<http::TlsIdentity> identity,
                                 std::function<std::vector<crypto::Certificate>()> anchors,
                                 std::chrono::milliseconds timeout)
    : identity_(std::move(identity)), anchors_(std::move(anchors)), timeout_(timeout) {}

HttpsMasaClient::~HttpsMasaClient() = default;

Result<std::shared_ptr<SSL_CTX>> HttpsMasaClient::Context() {
  std::vector<crypto::Certificate> anchors = anchors_();
  if (anchors.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition, "no trust anchors for MASA connections");
  }
  ASSIGN_OR_RETURN(auto ctx, http::MakeClientContext(identity_, anchors));
  return std::shared_ptr<SSL_CTX>(ctx.release(), SSL_CTX_free);
}

void HttpsMasaClient::DropCalls() {
  std::unique_ptr<http::AsyncHttpsClient> async;
  {
    std::lock_guard lock(mutex_);
    async = std::move(async_);
  }
  async.reset();  // joins its threads; not under the lock, which starting a call takes
}

http::AsyncHttpsClient& HttpsMasaClient::Async() {
  std::lock_guard lock(mutex_);
  if (!async_) {
    http::ClientOptions options;
    options.timeout = timeout_;
    async_ = std::make_unique<http::AsyncHttpsClient>([this] { return Context(); }, options);
  }
  return *async_;
}

Result<http::HttpsClient> HttpsMasaClient::Checkout(const Url& url, bool fresh) {
  if (!fresh) {
    std::lock_guard lock(mutex_);
    auto& idle = idle_[url.Authority()];
    if (!idle.empty()) {
      http::HttpsClient client = std::move(idle.back());
      idle.pop_back();
      return client;
    }
  }
  ASSIGN_OR_RETURN(auto ctx, Context());
  http::ClientOptions options;
  options.timeout = timeout_;
  options.server_name = url.host;
  return http::HttpsClient::Connect({url.host, url.port}, ctx.get(), options);
}

void HttpsMasaClient::DropIdle(const Url& url) {
  std::lock_guard lock(mutex_);
  idle_.erase(url.Authority());
}

void HttpsMasaClient::Return(const Url& url, http::HttpsClient client) {
  std::lock_guard lock(mutex_);
  auto& idle = idle_[url.Authority()];
  if (idle.size() < 64) {
    idle.push_back(std::move(client));
  }
}

namespace {

// OwnershipUrl puts an ownership resource at the root the MASA's BRSKI resources hang from.
Result<Url> OwnershipUrl(const std::string& masa_base_url, std::string_view resource) {
  ASSIGN_OR_RETURN(Url url, ParseHttpsUrl(masa_base_url));
  constexpr std::string_view kBrski = "/.well-known/brski";
  std::string_view root = url.path;
  while (root.ends_with('/')) {
    root.remove_suffix(1);
  }
  if (root.ends_with(kBrski)) {
    root.remove_suffix(kBrski.size());
  }
  url.path = std::string(root) + "/ownership/" + std::string(resource);
  return url;
}

}  // namespace

Result<std::string> HttpsMasaClient::Exchange(const Url& url, const Call& call) {
  // A pooled connection may have been closed by the MASA (idle timeout, restart); then the
  // others idle as long are likely closed too, and one retry on a new connection covers it.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = attempt > 0;
    ASSIGN_OR_RETURN(http::HttpsClient client, Checkout(url, fresh));
    auto response = call.method == "GET"
                        ? http::Get(client, url.path, call.accept)
                        : http::Post(client, url.path, call.content_type, call.body, call.accept);
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
    return std::move(response->body);
  }
  return MakeError(ErrorCode::kUnavailable, "MASA connection failed twice");
}

namespace {

constexpr std::string_view kMasaCallSeconds = "concierge_masa_call_duration_seconds";
constexpr std::string_view kMasaCallHelp = "Calls from this registrar to makers' MASAs, by result";

Result<Url> RequestVoucherUrl(const std::string& masa_base_url) {
  ASSIGN_OR_RETURN(Url url, ParseHttpsUrl(masa_base_url));
  if (!url.path.ends_with('/')) {
    url.path += '/';
  }
  url.path += "requestvoucher";
  return url;
}

}  // namespace

void HttpsMasaClient::RequestVoucherAsync(const std::string& masa_base_url, voucher::Format format,
                                          Bytes rvr, Callback<Bytes> done) {
  auto url = RequestVoucherUrl(masa_base_url);
  if (!url) {
    done(std::unexpected(url.error()));
    return;
  }
  http::HttpRequest request;
  request.method = "POST";
  request.target = url->path;
  request.headers["content-type"] = std::string(voucher::FormatMediaType(format));
  request.headers["accept"] = std::string(voucher::FormatMediaType(format));
  request.body = ToString(rvr);
  auto timer =
      std::make_shared<metrics::Timer>(std::string(kMasaCallSeconds), std::string(kMasaCallHelp),
                                       metrics::Labels{{"call", "requestvoucher"}});
  Async().Send({url->host, url->port}, std::move(request),
               [done = std::move(done), timer](Result<http::HttpResponse> response) {
                 if (!response) {
                   timer->Stop({"result", "unreachable"});
                   done(std::unexpected(response.error()));
                 } else if (response->status != 200) {
                   timer->Stop({"result", "refused"});
                   done(std::unexpected(http::ErrorFromPeerStatus("MASA", *response)));
                 } else {
                   timer->Stop({"result", "ok"});
                   done(ToBytes(response->body));
                 }
               });
}

Result<Bytes> HttpsMasaClient::RequestVoucher(const std::string& masa_base_url,
                                              voucher::Format format, ByteSpan rvr) {
  ASSIGN_OR_RETURN(Url url, RequestVoucherUrl(masa_base_url));
  metrics::Timer timer(std::string(kMasaCallSeconds), std::string(kMasaCallHelp),
                       {{"call", "requestvoucher"}});
  std::string type(voucher::FormatMediaType(format));
  auto voucher = Exchange(url, {"POST", type, ToString(rvr), type});
  timer.Stop({"result", voucher ? "ok" : "failed"});
  if (!voucher) {
    return std::unexpected(voucher.error());
  }
  return ToBytes(*voucher);
}

Result<Bytes> HttpsMasaClient::FetchChain(const std::string& masa_base_url,
                                          const std::string& serial) {
  bool plain = !serial.empty() && std::all_of(serial.begin(), serial.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
  });
  if (!plain) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "serial " + serial + " cannot be named in a URL path as it is");
  }
  ASSIGN_OR_RETURN(Url url, OwnershipUrl(masa_base_url, "chain/" + serial));
  ASSIGN_OR_RETURN(std::string chain, Exchange(url, {"GET", "", "", "application/cbor"}));
  return ToBytes(chain);
}

Status HttpsMasaClient::SubmitChain(const std::string& masa_base_url, ByteSpan chain) {
  ASSIGN_OR_RETURN(Url url, OwnershipUrl(masa_base_url, "chain"));
  ASSIGN_OR_RETURN(std::string answer,
                   Exchange(url, {"POST", "application/cbor", ToString(chain), ""}));
  return OkStatus();
}

Result<std::string> HttpsMasaClient::SubmitStatement(const std::string& masa_base_url,
                                                     ByteSpan statement) {
  ASSIGN_OR_RETURN(Url url, OwnershipUrl(masa_base_url, "statement"));
  ASSIGN_OR_RETURN(std::string answer,
                   Exchange(url, {"POST", "application/cose", ToString(statement), ""}));
  return std::string(TrimTrailingSpace(answer));
}

}  // namespace concierge::registrar
