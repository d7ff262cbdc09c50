#include "registrar/registrar_coap.h"

#include "coap/coap_codes.h"
#include "coap/multipart_core.h"
#include "crypto/cms.h"
#include "metrics/metrics.h"
#include "voucher/cose_voucher.h"
#include "voucher/telemetry.h"

namespace concierge::registrar {
namespace {

namespace cf = coap::content_format;
using coap::Request;
using coap::Responder;
using coap::Response;

// CsrAttrs ::= SEQUENCE { ecdsa-with-SHA256 }, as over HTTPS.
constexpr uint8_t kCsrAttrs[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};

Response Refusal(const Error& error) {
  CoapCode code = CoapCodeFor(error);
  return {code.code_class * 100 + code.detail, std::nullopt, ToBytes(error.message())};
}

Response Plain(int code, std::string text) {
  return {code, std::nullopt, ToBytes(text)};
}

void CountEnrollment(std::string_view result, std::string_view reason = "") {
  metrics::Labels labels{{"result", std::string(result)}, {"transport", "coaps"}};
  if (!reason.empty()) {
    labels.emplace_back("reason", std::string(reason));
  }
  metrics::Global().Count("concierge_constrained_enrollments_total",
                          "EST-coaps enrollments (LDevIDs issued or refused), by result and "
                          "refusal reason",
                          labels);
}

bool IsVoucherFormat(uint16_t format) {
  return format == cf::kVoucherCose || format == cf::kCoseSign1 || format == cf::kVoucherCoseLegacy;
}

void RequestVoucher(RegistrarService& service, const Request& request, Responder respond) {
  if (!request.content_format || !IsVoucherFormat(*request.content_format)) {
    respond(Plain(coap::code::kUnsupportedContentFormat,
                  "expected content-format 836 (application/voucher+cose)"));
    return;
  }
  if (request.accept && !IsVoucherFormat(*request.accept)) {
    respond(Plain(coap::code::kNotAcceptable, "vouchers are answered as 836, 18 or 65502"));
    return;
  }
  // Without Accept the answer follows the request's format (cBRSKI §"Content-Format").
  uint16_t answer_format = request.accept.value_or(*request.content_format);
  if (auto presented = RequireClientCertificate(request.peer, "IDevID"); !presented) {
    respond(Refusal(presented.error()));
    return;
  }
  auto pvr = voucher::OpenCoseVoucherRequest(request.payload, voucher::RequestFrom::kPledge,
                                             {*request.peer.certificate});
  if (!pvr) {
    respond(Refusal(pvr.error()));
    return;
  }
  service.RequestVoucherAsync(
      *pvr, request.peer, [respond, answer_format](Result<VoucherOutcome> outcome) {
        if (!outcome) {
          respond(Refusal(outcome.error()));
        } else if (outcome->retry_after) {
          // RFC 9148 §5.7: not yet; ask again after Max-Age seconds.
          Response later = Plain(coap::code::kServiceUnavailable,
                                 "waiting for an operator to approve this device");
          later.max_age = static_cast<uint32_t>(outcome->retry_after->count());
          respond(std::move(later));
        } else {
          respond({coap::code::kChanged, answer_format, std::move(outcome->voucher)});
        }
      });
}

void ReportStatus(RegistrarService& service, voucher::StatusKind kind, const Request& request,
                  Responder respond) {
  if (auto presented = RequireClientCertificate(request.peer, "IDevID or LDevID"); !presented) {
    respond(Refusal(presented.error()));
    return;
  }
  Result<voucher::StatusReport> report;
  if (request.content_format == cf::kCbor) {
    report = voucher::DecodeStatusCbor(request.payload, kind);
  } else if (request.content_format == cf::kJson) {
    report = voucher::DecodeStatusJson(ToString(request.payload), kind);
  } else {
    respond(Plain(coap::code::kUnsupportedContentFormat, "expected content-format 60 (CBOR)"));
    return;
  }
  if (!report) {
    respond(Refusal(report.error()));
    return;
  }
  auto status = service.ReportStatus(kind, *report, request.peer);
  respond(status ? Response{coap::code::kChanged, std::nullopt, {}} : Refusal(status.error()));
}

// CaCertificates answers /crts in the format asked for: multipart-core (62, the default),
// PKCS#7 certs-only (281), or the one CA that issues LDevIDs (287).
void CaCertificates(RegistrarService& service, const Request& request, Responder respond) {
  std::vector<crypto::Certificate> cas = service.CaCertificates();
  uint16_t format = request.accept.value_or(cf::kMultipartCore);
  if (format == cf::kPkixCert) {
    if (cas.size() != 1) {
      respond(Plain(coap::code::kNotAcceptable, "this domain has more than one CA"));
      return;
    }
    respond({coap::code::kContent, cf::kPkixCert, cas.front().Der()});
    return;
  }
  if (format == cf::kPkcs7CertsOnly) {
    auto der = crypto::CertsOnlyDer(cas);
    respond(der ? Response{coap::code::kContent, cf::kPkcs7CertsOnly, std::move(*der)}
                : Refusal(der.error()));
    return;
  }
  if (format != cf::kMultipartCore) {
    respond(Plain(coap::code::kNotAcceptable, "/crts is served as 62, 281 or 287"));
    return;
  }
  coap::Parts parts;
  for (const auto& ca : cas) {
    parts.emplace_back(cf::kPkixCert, ca.Der());
  }
  auto encoded = coap::EncodeMultipartCore(parts);
  respond(encoded ? Response{coap::code::kContent, cf::kMultipartCore, std::move(*encoded)}
                  : Refusal(encoded.error()));
}

void Enroll(RegistrarService& service, bool renewal, const Request& request, Responder respond) {
  if (request.content_format != cf::kPkcs10) {
    respond(Plain(coap::code::kUnsupportedContentFormat,
                  "expected content-format 286 (application/pkcs10)"));
    return;
  }
  uint16_t format = request.accept.value_or(cf::kPkixCert);
  if (format != cf::kPkixCert && format != cf::kPkcs7CertsOnly) {
    respond(Plain(coap::code::kNotAcceptable, "certificates are answered as 287 or 281"));
    return;
  }
  auto cert = renewal ? service.SimpleReenroll(request.payload, request.peer)
                      : service.SimpleEnroll(request.payload, request.peer);
  if (!cert) {
    CountEnrollment("refused", ErrorCodeName(cert.error().code()));
    respond(Refusal(cert.error()));
    return;
  }
  CountEnrollment(renewal ? "reenrolled" : "enrolled");
  if (format == cf::kPkcs7CertsOnly) {
    auto der = crypto::CertsOnlyDer({*cert});
    respond(der ? Response{coap::code::kChanged, cf::kPkcs7CertsOnly, std::move(*der)}
                : Refusal(der.error()));
    return;
  }
  respond({coap::code::kChanged, cf::kPkixCert, cert->Der()});
}

}  // namespace

std::vector<coap::Resource> RegistrarCoapResources(RegistrarService& service) {
  RegistrarService* s = &service;
  using voucher::StatusKind;
  return {
      // The bases (no handler: listed, not served). The DTLS version is said here too: the
      // draft wants DTLS 1.3, which no Debian 12 library offers (docs/constrained.md).
      {"/.well-known/brski", "", nullptr, "rt=brski;dtls=\"1.2\"", std::nullopt},
      {"/.well-known/est", "", nullptr, "rt=ace.est;dtls=\"1.2\"", std::nullopt},
      {"/.well-known/brski/rv", "POST",
       [s](const Request& r, Responder respond) { RequestVoucher(*s, r, std::move(respond)); },
       "rt=brski.rv;ct=836", 402},
      {"/.well-known/brski/vs", "POST",
       [s](const Request& r, Responder respond) {
         ReportStatus(*s, StatusKind::kVoucherStatus, r, std::move(respond));
       },
       "rt=brski.vs;ct=\"50 60\"", 403},
      {"/.well-known/brski/es", "POST",
       [s](const Request& r, Responder respond) {
         ReportStatus(*s, StatusKind::kEnrollStatus, r, std::move(respond));
       },
       "rt=brski.es;ct=\"50 60\"", 401},
      {"/.well-known/est/crts", "GET",
       [s](const Request& r, Responder respond) { CaCertificates(*s, r, std::move(respond)); },
       "rt=ace.est.crts;ct=\"62 281 287\"", 301},
      {"/.well-known/est/sen", "POST",
       [s](const Request& r, Responder respond) { Enroll(*s, false, r, std::move(respond)); },
       "rt=ace.est.sen;ct=\"281 287\"", 302},
      {"/.well-known/est/sren", "POST",
       [s](const Request& r, Responder respond) { Enroll(*s, true, r, std::move(respond)); },
       "rt=ace.est.sren;ct=\"281 287\"", 303},
      {"/.well-known/est/att", "GET",
       [](const Request&, Responder respond) {
         respond({coap::code::kContent, cf::kCsrAttrs,
                  Bytes(std::begin(kCsrAttrs), std::end(kCsrAttrs))});
       },
       "rt=ace.est.att;ct=285", 306},
  };
}

std::vector<coap::Resource> RegistrarDiscoveryLinks(const std::optional<std::string>& local_host,
                                                    uint16_t coaps_port,
                                                    std::optional<uint16_t> jpy_port) {
  std::string port = std::to_string(coaps_port);
  // One hop away, the registrar is its own join proxy: the pledge sends DTLS to the address
  // this answer came from, at this port (draft-ietf-anima-constrained-join-proxy-20 §"Pledge
  // discovery of Join Proxy").
  std::vector<coap::Resource> links = {{"", "", nullptr, "brski-jp=" + port, std::nullopt}};
  // A stateful join proxy looks for rt=brski and needs an address it can send to.
  if (local_host) {
    links.push_back({"coaps://" + *local_host + ":" + port + "/.well-known/brski", "", nullptr,
                     "rt=brski", std::nullopt});
  }
  // A stateless join proxy looks for rt=brski.rjp: JPY has no default port, so it is said.
  if (local_host && jpy_port) {
    links.push_back({"jpy://" + *local_host + ":" + std::to_string(*jpy_port), "", nullptr,
                     "rt=brski.rjp", std::nullopt});
  }
  return links;
}

}  // namespace concierge::registrar
