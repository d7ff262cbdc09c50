#include "masa/masa_http.h"

#include "voucher/voucher.h"

namespace concierge::masa {

http::HttpResponse HandleMasaRequest(MasaService& service, const http::HttpRequest& request,
                                     const http::ConnectionInfo& connection) {
  using http::MakeErrorResponse;
  using http::MakeResponse;
  std::string_view target = request.target;
  target = target.substr(0, target.find('?'));
  bool voucher_request = target == "/.well-known/brski/requestvoucher";
  bool audit_request = target == "/.well-known/brski/requestauditlog";
  if (!voucher_request && !audit_request) {
    return MakeResponse(404, "text/plain; charset=utf-8", "not found\n");
  }
  if (request.method != "POST") {
    return MakeResponse(405, "text/plain; charset=utf-8", "use POST\n");
  }
  std::string type = request.Header("content-type");
  if (type.substr(0, type.find(';')) != voucher::kVoucherCmsMediaType) {
    return MakeResponse(415, "text/plain; charset=utf-8",
                        "expected content-type application/voucher-cms+json\n");
  }
  ByteSpan body(reinterpret_cast<const uint8_t*>(request.body.data()), request.body.size());
  if (audit_request) {
    auto log = service.RequestAuditLog(body);
    return log ? MakeResponse(200, "application/json", log->dump())
               : MakeErrorResponse(log.error());
  }
  auto voucher_cms = service.RequestVoucher(body, connection.peer_certificate);
  return voucher_cms ? MakeResponse(200, voucher::kVoucherCmsMediaType, ToString(*voucher_cms))
                     : MakeErrorResponse(voucher_cms.error());
}

}  // namespace concierge::masa
