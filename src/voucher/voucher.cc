#include "voucher/voucher.h"

#include "common/json.h"

namespace concierge::voucher {
namespace {

constexpr std::string_view kVoucherContainer = "ietf-voucher:voucher";
constexpr std::string_view kRequestContainer = "ietf-voucher-request:voucher";

Result<Assertion> ParseAssertion(std::string_view text) {
  if (text == "verified") {
    return Assertion::kVerified;
  }
  if (text == "logged") {
    return Assertion::kLogged;
  }
  if (text == "proximity") {
    return Assertion::kProximity;
  }
  if (text == "agent-proximity") {
    return Assertion::kAgentProximity;
  }
  return MakeError(ErrorCode::kBadFormat,
                   "assertion: unknown value \"" + std::string(text.substr(0, 32)) + "\"");
}

Status CheckNonce(const Bytes& nonce, std::string_view path) {
  if (nonce.size() < kMinNonceSize || nonce.size() > kMaxNonceSize) {
    return MakeError(
        ErrorCode::kBadFormat,
        std::string(path) + ".nonce: must be 8 to 32 bytes, got " + std::to_string(nonce.size()));
  }
  return OkStatus();
}

Result<std::optional<SystemTime>> OptionalTime(const JsonObjectReader& reader, std::string_view key,
                                               std::string_view path) {
  ASSIGN_OR_RETURN(std::string text, reader.OptionalString(key));
  if (text.empty()) {
    return std::optional<SystemTime>();
  }
  ASSIGN_OR_RETURN_CTX(SystemTime time, ParseRfc3339(text),
                       std::string(path) + "." + std::string(key));
  return std::optional<SystemTime>(time);
}

Result<Json> OpenContainer(std::string_view json, std::string_view container) {
  ASSIGN_OR_RETURN(Json document, ParseJsonObject(json, container));
  if (document.size() != 1 || !document.contains(container)) {
    return MakeError(ErrorCode::kBadFormat,
                     "expected exactly one member \"" + std::string(container) + "\"");
  }
  Json inner = document[std::string(container)];
  if (!inner.is_object()) {
    return MakeError(ErrorCode::kBadFormat, std::string(container) + ": expected an object");
  }
  return inner;
}

template <typename T, typename Decode>
Result<Signed<T>> Open(ByteSpan cms_der, size_t max_size, std::string_view what, Decode decode) {
  if (cms_der.size() > max_size) {
    return MakeError(ErrorCode::kTooLarge,
                     std::string(what) + " is " + std::to_string(cms_der.size()) +
                         " bytes, more than the limit of " + std::to_string(max_size));
  }
  ASSIGN_OR_RETURN_CTX(crypto::CmsSigned cms, crypto::CmsVerifySignature(cms_der), what);
  ASSIGN_OR_RETURN_CTX(T value, decode(ToString(cms.content)), what);
  return Signed<T>{std::move(value),
                   Format::kCms,
                   std::move(cms.signer),
                   std::move(cms.certificates),
                   Bytes(cms_der.begin(), cms_der.end()),
                   std::move(cms.content_type)};
}

}  // namespace

std::string_view FormatMediaType(Format format) {
  return format == Format::kCose ? kVoucherCoseMediaType : kVoucherCmsMediaType;
}

std::string_view AssertionName(Assertion assertion) {
  switch (assertion) {
    case Assertion::kVerified:
      return "verified";
    case Assertion::kLogged:
      return "logged";
    case Assertion::kProximity:
      return "proximity";
    case Assertion::kAgentProximity:
      return "agent-proximity";
  }
  return "logged";
}

std::string EncodeVoucherJson(const Voucher& voucher) {
  Json inner{{"assertion", AssertionName(voucher.assertion)},
             {"created-on", FormatRfc3339(voucher.created_on)},
             {"serial-number", voucher.serial_number},
             {"pinned-domain-cert", Base64Encode(voucher.pinned_domain_cert)},
             {"domain-cert-revocation-checks", voucher.domain_cert_revocation_checks}};
  if (voucher.expires_on) {
    inner["expires-on"] = FormatRfc3339(*voucher.expires_on);
  }
  if (!voucher.nonce.empty()) {
    inner["nonce"] = Base64Encode(voucher.nonce);
  }
  if (!voucher.idevid_issuer.empty()) {
    inner["idevid-issuer"] = Base64Encode(voucher.idevid_issuer);
  }
  return Json{{kVoucherContainer, inner}}.dump();
}

Result<Voucher> DecodeVoucherJson(std::string_view json) {
  ASSIGN_OR_RETURN(Json inner, OpenContainer(json, kVoucherContainer));
  JsonObjectReader reader(inner, "voucher");
  RETURN_IF_ERROR(reader.RejectUnknown({"assertion", "created-on", "expires-on", "serial-number",
                                        "nonce", "pinned-domain-cert", "idevid-issuer",
                                        "domain-cert-revocation-checks", "last-renewal-date"}));
  Voucher voucher;
  ASSIGN_OR_RETURN(std::string assertion, reader.RequiredString("assertion"));
  ASSIGN_OR_RETURN_CTX(voucher.assertion, ParseAssertion(assertion), "voucher");
  ASSIGN_OR_RETURN(auto created_on, OptionalTime(reader, "created-on", "voucher"));
  if (!created_on) {
    return MakeError(ErrorCode::kBadFormat, "voucher.created-on: missing");
  }
  voucher.created_on = *created_on;
  ASSIGN_OR_RETURN(voucher.expires_on, OptionalTime(reader, "expires-on", "voucher"));
  ASSIGN_OR_RETURN(voucher.serial_number, reader.RequiredString("serial-number"));
  ASSIGN_OR_RETURN(voucher.nonce, reader.OptionalBase64("nonce"));
  if (reader.Has("nonce")) {
    RETURN_IF_ERROR(CheckNonce(voucher.nonce, "voucher"));
  } else if (!voucher.expires_on) {
    return MakeError(ErrorCode::kBadFormat, "voucher: a nonceless voucher needs expires-on");
  }
  ASSIGN_OR_RETURN(voucher.pinned_domain_cert, reader.RequiredBase64("pinned-domain-cert"));
  ASSIGN_OR_RETURN(voucher.idevid_issuer, reader.OptionalBase64("idevid-issuer"));
  ASSIGN_OR_RETURN(voucher.domain_cert_revocation_checks,
                   reader.OptionalBool("domain-cert-revocation-checks", false));
  return voucher;
}

std::string EncodeVoucherRequestJson(const VoucherRequest& request) {
  Json inner{{"assertion", AssertionName(request.assertion)},
             {"serial-number", request.serial_number}};
  if (request.created_on) {
    inner["created-on"] = FormatRfc3339(*request.created_on);
  }
  if (!request.nonce.empty()) {
    inner["nonce"] = Base64Encode(request.nonce);
  }
  if (!request.proximity_registrar_cert.empty()) {
    inner["proximity-registrar-cert"] = Base64Encode(request.proximity_registrar_cert);
  }
  if (!request.idevid_issuer.empty()) {
    inner["idevid-issuer"] = Base64Encode(request.idevid_issuer);
  }
  if (!request.prior_signed_voucher_request.empty()) {
    inner["prior-signed-voucher-request"] = Base64Encode(request.prior_signed_voucher_request);
  }
  return Json{{kRequestContainer, inner}}.dump();
}

Result<VoucherRequest> DecodeVoucherRequestJson(std::string_view json) {
  ASSIGN_OR_RETURN(Json inner, OpenContainer(json, kRequestContainer));
  JsonObjectReader reader(inner, "voucher-request");
  RETURN_IF_ERROR(reader.RejectUnknown({"assertion", "created-on", "expires-on", "serial-number",
                                        "nonce", "proximity-registrar-cert", "idevid-issuer",
                                        "prior-signed-voucher-request",
                                        "domain-cert-revocation-checks", "pinned-domain-cert"}));
  VoucherRequest request;
  ASSIGN_OR_RETURN(std::string assertion, reader.RequiredString("assertion"));
  ASSIGN_OR_RETURN_CTX(request.assertion, ParseAssertion(assertion), "voucher-request");
  ASSIGN_OR_RETURN(request.created_on, OptionalTime(reader, "created-on", "voucher-request"));
  ASSIGN_OR_RETURN(request.serial_number, reader.RequiredString("serial-number"));
  if (request.serial_number.empty()) {
    return MakeError(ErrorCode::kBadFormat, "voucher-request.serial-number: empty");
  }
  ASSIGN_OR_RETURN(request.nonce, reader.OptionalBase64("nonce"));
  if (reader.Has("nonce")) {
    RETURN_IF_ERROR(CheckNonce(request.nonce, "voucher-request"));
  }
  ASSIGN_OR_RETURN(request.proximity_registrar_cert,
                   reader.OptionalBase64("proximity-registrar-cert"));
  ASSIGN_OR_RETURN(request.idevid_issuer, reader.OptionalBase64("idevid-issuer"));
  ASSIGN_OR_RETURN(request.prior_signed_voucher_request,
                   reader.OptionalBase64("prior-signed-voucher-request"));
  return request;
}

Result<Bytes> SignVoucher(const Voucher& voucher, const crypto::Certificate& signer,
                          const crypto::PrivateKey& key,
                          const std::vector<crypto::Certificate>& chain) {
  return crypto::CmsSign(ToBytes(EncodeVoucherJson(voucher)), signer, key, chain,
                         {.content_type = crypto::kOidAnimaJsonVoucher});
}

Result<Signed<Voucher>> OpenVoucher(ByteSpan cms_der) {
  return Open<Voucher>(cms_der, kMaxVoucherSize, "voucher", DecodeVoucherJson);
}

Result<Bytes> SignVoucherRequest(const VoucherRequest& request, const crypto::Certificate& signer,
                                 const crypto::PrivateKey& key,
                                 const std::vector<crypto::Certificate>& chain) {
  return crypto::CmsSign(ToBytes(EncodeVoucherRequestJson(request)), signer, key, chain,
                         {.content_type = crypto::kOidAnimaJsonVoucher});
}

Result<Signed<VoucherRequest>> OpenVoucherRequest(ByteSpan cms_der, RequestFrom from) {
  bool pledge = from == RequestFrom::kPledge;
  return Open<VoucherRequest>(
      cms_der, pledge ? kMaxPledgeVoucherRequestSize : kMaxRegistrarVoucherRequestSize,
      pledge ? "pledge voucher-request" : "registrar voucher-request", DecodeVoucherRequestJson);
}

}  // namespace concierge::voucher

namespace concierge::voucher {

bool NamesRegistrar(const VoucherRequest& pvr, const crypto::Certificate& registrar) {
  if (!pvr.proximity_registrar_cert.empty()) {
    return pvr.proximity_registrar_cert == registrar.Der();
  }
  auto spki = registrar.PublicKeyDer();
  return !pvr.proximity_registrar_pubk.empty() && spki && pvr.proximity_registrar_pubk == *spki;
}

std::string DomainId(const crypto::Certificate& domain_cert) {
  Bytes ski = domain_cert.SubjectKeyId();
  if (!ski.empty()) {
    return Base64Encode(ski);
  }
  auto spki = domain_cert.PublicKeyDer();
  return spki ? Base64Encode(crypto::Sha256(*spki)) : std::string();
}

}  // namespace concierge::voucher
