#include "registrar/registrar_http.h"

#include "crypto/cms.h"
#include "metrics/metrics.h"
#include "voucher/telemetry.h"
#include "voucher/voucher.h"

namespace concierge::registrar {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using http::MakeErrorResponse;
using http::MakeResponse;

constexpr std::string_view kBrski = "/.well-known/brski/";
constexpr std::string_view kEst = "/.well-known/est/";
constexpr std::string_view kSite = "/.well-known/concierge/";
constexpr std::string_view kCertsOnly = "application/pkcs7-mime; smime-type=certs-only";
// CsrAttrs ::= SEQUENCE { ecdsa-with-SHA256 }: sign the CSR with ECDSA over SHA-256.
constexpr uint8_t kCsrAttrs[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};

bool MediaTypeIs(const HttpRequest& request, std::string_view expected) {
  std::string type = request.Header("content-type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') {
    type.pop_back();
  }
  return type == expected;
}

// BodyBytes accepts DER as sent on the wire, or base64 as RFC 7030 (and some BRSKI pledges)
// send it; DER always starts with a SEQUENCE tag, which is not a base64 character.
Result<Bytes> BodyBytes(const HttpRequest& request) {
  if (!request.body.empty() && static_cast<uint8_t>(request.body[0]) == 0x30) {
    return ToBytes(request.body);
  }
  return Base64DecodeLenient(request.body);
}

HttpResponse Base64Response(std::string_view content_type, ByteSpan der) {
  HttpResponse response = MakeResponse(200, content_type, Base64Encode(der));
  response.headers["content-transfer-encoding"] = "base64";
  return response;
}

HttpResponse UnsupportedMediaType(std::string_view expected) {
  return MakeResponse(415, "text/plain; charset=utf-8",
                      "expected content-type " + std::string(expected) + "\n");
}

// OpenPledgeRequest decodes a POST to /requestvoucher, or gives the answer that refuses it.
std::expected<voucher::Signed<voucher::VoucherRequest>, HttpResponse> OpenPledgeRequest(
    const HttpRequest& request, const PeerIdentity& peer) {
  if (!MediaTypeIs(request, voucher::kVoucherCmsMediaType)) {
    return std::unexpected(UnsupportedMediaType(voucher::kVoucherCmsMediaType));
  }
  if (auto presented = RequireClientCertificate(peer, "IDevID"); !presented) {
    return std::unexpected(MakeErrorResponse(presented.error()));
  }
  auto body = BodyBytes(request);
  if (!body) {
    return std::unexpected(MakeErrorResponse(body.error().WithContext("requestvoucher body")));
  }
  auto pvr = voucher::OpenVoucherRequest(*body, voucher::RequestFrom::kPledge);
  if (!pvr) {
    return std::unexpected(MakeErrorResponse(pvr.error()));
  }
  return std::move(*pvr);
}

// Counted by result, and refusals by their error's kind (a small fixed set).
void CountVoucherRequest(std::string_view result, std::string_view reason = "") {
  metrics::Labels labels{{"result", std::string(result)}};
  if (!reason.empty()) {
    labels.emplace_back("reason", std::string(reason));
  }
  metrics::Global().Count("concierge_voucher_requests_total",
                          "Pledges' voucher requests, by result and refusal reason", labels);
}

void CountEnrollment(std::string_view result, std::string_view reason = "") {
  metrics::Labels labels{{"result", std::string(result)}};
  if (!reason.empty()) {
    labels.emplace_back("reason", std::string(reason));
  }
  metrics::Global().Count("concierge_enrollments_total",
                          "EST enrollments (LDevIDs issued or refused), by result and refusal "
                          "reason",
                          labels);
}

HttpResponse VoucherResponse(const Result<VoucherOutcome>& outcome) {
  if (!outcome) {
    CountVoucherRequest("refused", ErrorCodeName(outcome.error().code()));
    return MakeErrorResponse(outcome.error());
  }
  CountVoucherRequest(outcome->retry_after ? "pending" : "vouchered");
  if (const auto& retry_after = outcome->retry_after) {
    HttpResponse response = MakeResponse(202, "text/plain; charset=utf-8",
                                         "waiting for an operator to approve this device\n");
    response.headers["retry-after"] = std::to_string(retry_after->count());
    return response;
  }
  return MakeResponse(200, voucher::kVoucherCmsMediaType, ToString(outcome->voucher));
}

HttpResponse HandleBrski(RegistrarService& service, std::string_view resource,
                         const HttpRequest& request, const PeerIdentity& peer) {
  if (resource == "requestvoucher") {
    auto pvr = OpenPledgeRequest(request, peer);
    if (!pvr) {
      return std::move(pvr.error());
    }
    return VoucherResponse(service.RequestVoucher(*pvr, peer));
  }
  if (resource == "voucher_status" || resource == "enrollstatus") {
    if (!MediaTypeIs(request, "application/json")) {
      return UnsupportedMediaType("application/json");
    }
    if (auto presented = RequireClientCertificate(peer, "IDevID or LDevID"); !presented) {
      return MakeErrorResponse(presented.error());
    }
    auto kind = resource == "voucher_status" ? voucher::StatusKind::kVoucherStatus
                                             : voucher::StatusKind::kEnrollStatus;
    auto report = voucher::DecodeStatusJson(request.body, kind);
    if (!report) {
      return MakeErrorResponse(report.error());
    }
    auto status = service.ReportStatus(kind, *report, peer);
    return status ? MakeResponse(200, "", "") : MakeErrorResponse(status.error());
  }
  return MakeResponse(404, "text/plain; charset=utf-8", "no such BRSKI resource\n");
}

HttpResponse HandleEst(RegistrarService& service, std::string_view resource,
                       const HttpRequest& request, const PeerIdentity& peer) {
  if (resource == "cacerts" && request.method == "GET") {
    auto der = crypto::CertsOnlyDer(service.CaCertificates());
    return der ? Base64Response(kCertsOnly, *der) : MakeErrorResponse(der.error());
  }
  if (resource == "csrattrs" && request.method == "GET") {
    return Base64Response("application/csrattrs", kCsrAttrs);
  }
  if ((resource == "simpleenroll" || resource == "simplereenroll") && request.method == "POST") {
    if (!MediaTypeIs(request, "application/pkcs10")) {
      return UnsupportedMediaType("application/pkcs10");
    }
    auto csr = BodyBytes(request);
    if (!csr) {
      return MakeErrorResponse(csr.error().WithContext("PKCS#10 body"));
    }
    auto cert = resource == "simpleenroll" ? service.SimpleEnroll(*csr, peer)
                                           : service.SimpleReenroll(*csr, peer);
    if (!cert) {
      CountEnrollment("refused", ErrorCodeName(cert.error().code()));
      return MakeErrorResponse(cert.error());
    }
    CountEnrollment(resource == "simpleenroll" ? "enrolled" : "reenrolled");
    auto der = crypto::CertsOnlyDer({*cert});
    return der ? Base64Response(kCertsOnly, *der) : MakeErrorResponse(der.error());
  }
  return MakeResponse(404, "text/plain; charset=utf-8", "no such EST resource\n");
}

HttpResponse HandleSite(SiteOwnership& ownership, std::string_view resource,
                        const HttpRequest& request, const PeerIdentity& peer) {
  if (resource == "instructions" && request.method == "GET") {
    auto instruction = ownership.Instruction(peer);
    if (!instruction) {
      return MakeErrorResponse(instruction.error());
    }
    const std::optional<ownership::MoveInstruction>& pending = *instruction;
    if (!pending.has_value()) {
      return MakeResponse(204, "", "");
    }
    return MakeResponse(200, "application/json", ownership::EncodeMoveInstruction(*pending));
  }
  if (resource == "moved" && request.method == "POST") {
    if (!MediaTypeIs(request, "application/pkix-cert")) {
      return UnsupportedMediaType("application/pkix-cert");
    }
    auto confirmed = ownership.ConfirmMove(peer, ToBytes(request.body));
    return confirmed ? MakeResponse(200, "text/plain; charset=utf-8", "membership ended\n")
                     : MakeErrorResponse(confirmed.error());
  }
  if (resource == "reset" && request.method == "POST") {
    auto confirmed = ownership.ConfirmReset(peer);
    return confirmed ? MakeResponse(200, "text/plain; charset=utf-8", "membership ended\n")
                     : MakeErrorResponse(confirmed.error());
  }
  if (resource == "tenant" && request.method == "POST") {
    if (!MediaTypeIs(request, "application/cose")) {
      return UnsupportedMediaType("application/cose");
    }
    auto answer = ownership.TenantRequest(ToBytes(request.body));
    return answer ? MakeResponse(200, "application/json", answer->dump(1) + "\n")
                  : MakeErrorResponse(answer.error());
  }
  if (resource == "crl" && request.method == "GET") {
    auto crl = ownership.Crl();
    return crl ? MakeResponse(200, "application/pkix-crl", ToString(*crl))
               : MakeErrorResponse(crl.error());
  }
  return MakeResponse(404, "text/plain; charset=utf-8", "no such resource\n");
}

// TargetPath is a request's target without its query.
std::string_view TargetPath(const HttpRequest& request) {
  std::string_view target = request.target;
  return target.substr(0, target.find('?'));
}

}  // namespace

void HandleSiteRequestAsync(RegistrarService& service, SiteOwnership& ownership,
                            const HttpRequest& request, const http::ConnectionInfo& connection,
                            const http::Respond& respond) {
  std::string_view target = TargetPath(request);
  if (request.method == "POST" && target.starts_with(kBrski) &&
      target.substr(kBrski.size()) == "requestvoucher") {
    auto pvr = OpenPledgeRequest(request, connection);
    if (!pvr) {
      respond(std::move(pvr.error()));
      return;
    }
    service.RequestVoucherAsync(*pvr, connection, [respond](Result<VoucherOutcome> outcome) {
      respond(VoucherResponse(outcome));
    });
    return;
  }
  respond(HandleSiteRequest(service, ownership, request, connection));
}

HttpResponse HandleSiteRequest(RegistrarService& service, SiteOwnership& ownership,
                               const HttpRequest& request, const http::ConnectionInfo& connection) {
  std::string_view target = TargetPath(request);
  if (target.starts_with(kSite)) {
    return HandleSite(ownership, target.substr(kSite.size()), request, connection);
  }
  return HandleRegistrarRequest(service, request, connection);
}

HttpResponse HandleRegistrarRequest(RegistrarService& service, const HttpRequest& request,
                                    const http::ConnectionInfo& connection) {
  std::string_view target = TargetPath(request);
  const PeerIdentity& peer = connection;
  if (target.starts_with(kBrski)) {
    if (request.method != "POST") {
      return MakeResponse(405, "text/plain; charset=utf-8", "BRSKI resources take POST\n");
    }
    return HandleBrski(service, target.substr(kBrski.size()), request, peer);
  }
  if (target.starts_with(kEst)) {
    return HandleEst(service, target.substr(kEst.size()), request, peer);
  }
  return MakeResponse(404, "text/plain; charset=utf-8", "not found\n");
}

}  // namespace concierge::registrar
