#include "masa/masa_http.h"

#include "metrics/metrics.h"
#include "voucher/cose_voucher.h"
#include "voucher/voucher.h"

namespace concierge::masa {
namespace {

constexpr std::string_view kChainPrefix = "/ownership/chain";
constexpr std::string_view kStatementPath = "/ownership/statement";
constexpr std::string_view kCborType = "application/cbor";
constexpr std::string_view kCoseType = "application/cose";

std::string_view MediaType(const std::string& header) {
  std::string_view type = header;
  return type.substr(0, type.find(';'));
}

// The ownership endpoints: GET /ownership/chain/SERIAL, POST /ownership/chain (an owner's longer
// chain), POST /ownership/statement (a signed statement). They need no client certificate: what
// they accept is signed by the device's owner of record or its escrow agents.
http::HttpResponse HandleOwnershipRequest(MasaService& service, const http::HttpRequest& request,
                                          std::string_view target) {
  using http::MakeErrorResponse;
  using http::MakeResponse;
  ByteSpan body = AsBytes(request.body);
  if (request.method == "GET" && target.starts_with(kChainPrefix) &&
      target.size() > kChainPrefix.size() + 1 && target[kChainPrefix.size()] == '/') {
    std::string serial(target.substr(kChainPrefix.size() + 1));
    auto chain = service.OwnershipChain(serial);
    return chain ? MakeResponse(200, kCborType, ToString(*chain))
                 : MakeErrorResponse(chain.error());
  }
  if (request.method != "POST") {
    return MakeResponse(405, "text/plain; charset=utf-8", "use GET for a chain, POST to submit\n");
  }
  if (target == kChainPrefix) {
    if (MediaType(request.Header("content-type")) != kCborType) {
      return MakeResponse(415, "text/plain; charset=utf-8", "expected application/cbor\n");
    }
    auto submitted = service.SubmitChain(body);
    return submitted ? MakeResponse(200, "text/plain; charset=utf-8", "chain recorded\n")
                     : MakeErrorResponse(submitted.error());
  }
  if (target == kStatementPath) {
    if (MediaType(request.Header("content-type")) != kCoseType) {
      return MakeResponse(415, "text/plain; charset=utf-8", "expected application/cose\n");
    }
    auto done = service.SubmitStatement(body);
    return done ? MakeResponse(200, "text/plain; charset=utf-8", *done + "\n")
                : MakeErrorResponse(done.error());
  }
  return MakeResponse(404, "text/plain; charset=utf-8", "not found\n");
}

}  // namespace

http::HttpResponse HandleMasaRequest(MasaService& service, const http::HttpRequest& request,
                                     const http::ConnectionInfo& connection) {
  using http::MakeErrorResponse;
  using http::MakeResponse;
  std::string_view target = request.target;
  target = target.substr(0, target.find('?'));
  bool voucher_request = target == "/.well-known/brski/requestvoucher";
  bool audit_request = target == "/.well-known/brski/requestauditlog";
  if (target.starts_with("/ownership/")) {
    return HandleOwnershipRequest(service, request, target);
  }
  if (!voucher_request && !audit_request) {
    return MakeResponse(404, "text/plain; charset=utf-8", "not found\n");
  }
  if (request.method != "POST") {
    return MakeResponse(405, "text/plain; charset=utf-8", "use POST\n");
  }
  std::string content_type = request.Header("content-type");
  std::string accept_header = request.Header("accept");
  std::string_view type = MediaType(content_type);
  if (type != voucher::kVoucherCmsMediaType && type != voucher::kVoucherCoseMediaType) {
    return MakeResponse(415, "text/plain; charset=utf-8",
                        "expected content-type application/voucher-cms+json or "
                        "application/voucher+cose\n");
  }
  voucher::Format format =
      type == voucher::kVoucherCoseMediaType ? voucher::Format::kCose : voucher::Format::kCms;
  std::string_view accept = MediaType(accept_header);
  if (!accept.empty() && accept != "*/*" && accept != type) {
    return MakeResponse(
        406, "text/plain; charset=utf-8",
        "a voucher is answered in the format of its request (" + std::string(type) + ")\n");
  }
  auto rvr = voucher::OpenVoucherRequestAs(format, AsBytes(request.body),
                                           voucher::RequestFrom::kRegistrar);
  if (!rvr) {
    return MakeErrorResponse(rvr.error());
  }
  if (audit_request) {
    auto log = service.RequestAuditLog(*rvr);
    return log ? MakeResponse(200, "application/json", log->dump())
               : MakeErrorResponse(log.error());
  }
  auto signed_voucher = service.RequestVoucher(*rvr, connection);
  metrics::Labels labels{{"format", format == voucher::Format::kCose ? "cose" : "cms"},
                         {"result", signed_voucher ? "issued" : "refused"}};
  if (!signed_voucher) {
    labels.emplace_back("reason", std::string(ErrorCodeName(signed_voucher.error().code())));
  }
  metrics::Global().Count("concierge_masa_vouchers_total",
                          "Vouchers this MASA issued or refused, by format and refusal reason",
                          labels);
  return signed_voucher ? MakeResponse(200, type, ToString(*signed_voucher))
                        : MakeErrorResponse(signed_voucher.error());
}

}  // namespace concierge::masa
