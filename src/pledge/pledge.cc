#include "pledge/pledge.h"

#include "common/json.h"
#include "crypto/certificate_builder.h"
#include "crypto/cms.h"
#include "voucher/voucher.h"

namespace concierge::pledge {
namespace {

using crypto::Certificate;

constexpr std::string_view kRequestVoucher = "/.well-known/brski/requestvoucher";
constexpr std::string_view kVoucherStatus = "/.well-known/brski/voucher_status";
constexpr std::string_view kEnrollStatus = "/.well-known/brski/enrollstatus";
constexpr std::string_view kCaCerts = "/.well-known/est/cacerts";
constexpr std::string_view kCsrAttrs = "/.well-known/est/csrattrs";
constexpr std::string_view kSimpleEnroll = "/.well-known/est/simpleenroll";

Error Refused(std::string_view what, const http::HttpResponse& response) {
  return http::ErrorFromPeerStatus("registrar", response).WithContext(what);
}

Result<std::vector<Certificate>> DecodeCertsOnly(const http::HttpResponse& response) {
  ASSIGN_OR_RETURN(Bytes der, Base64DecodeLenient(response.body));
  return crypto::ParseCertsOnly(der);
}

}  // namespace

Pledge::Pledge(PledgeIdentity identity, Connector& connector, const Clock& clock, Random& random,
               PledgeOptions options)
    : identity_(std::move(identity)),
      connector_(connector),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      serial_(identity_.idevid.SubjectSerialNumber()) {}

void Pledge::Report(RegistrarConnection& connection, std::string_view resource,
                    const Error* failure) {
  Json body{{"version", 1}, {"status", failure == nullptr}};
  if (failure != nullptr) {
    body["reason"] = failure->message();
  }
  // Telemetry is best effort: the registrar's answer does not change what the pledge does.
  (void)connection.Post(resource, "application/json", body.dump(), "");
}

Result<Certificate> Pledge::CheckVoucher(ByteSpan voucher_cms, const Bytes& nonce) {
  ASSIGN_OR_RETURN(auto v, voucher::OpenVoucher(voucher_cms));
  SystemTime now = clock_.Now();
  RETURN_IF_ERROR_CTX(
      crypto::VerifyChain(v.cms.signer, v.cms.certificates, identity_.masa_anchors, {.at = now}),
      "voucher signer is not this device's MASA");
  if (v.value.serial_number != serial_) {
    return MakeError(ErrorCode::kSecurity, "voucher is for serial \"" + v.value.serial_number +
                                               "\", not this device's \"" + serial_ + "\"");
  }
  if (!ConstantTimeEqual(v.value.nonce, nonce)) {
    return MakeError(ErrorCode::kSecurity, "voucher nonce does not match the request's nonce");
  }
  if (v.value.expires_on && *v.value.expires_on < now) {
    return MakeError(ErrorCode::kSecurity,
                     "voucher expired at " + FormatRfc3339(*v.value.expires_on));
  }
  ASSIGN_OR_RETURN_CTX(Certificate pinned, Certificate::FromDer(v.value.pinned_domain_cert),
                       "voucher.pinned-domain-cert");
  return pinned;
}

Result<Pledge::VoucherStep> Pledge::ObtainVoucher(RegistrarConnection& connection) {
  std::chrono::seconds waited{0};
  for (int round = 0;; ++round) {
    voucher::VoucherRequest pvr;
    pvr.assertion = voucher::Assertion::kProximity;
    pvr.created_on = clock_.Now();
    pvr.serial_number = serial_;
    pvr.nonce = random_.Generate(options_.nonce_size);
    pvr.proximity_registrar_cert = connection.ServerCertificate().Der();
    ASSIGN_OR_RETURN(Bytes pvr_cms, voucher::SignVoucherRequest(pvr, identity_.idevid,
                                                                identity_.key, identity_.chain));
    ASSIGN_OR_RETURN(auto response,
                     connection.Post(kRequestVoucher, voucher::kVoucherCmsMediaType,
                                     ToString(pvr_cms), voucher::kVoucherCmsMediaType));
    if (response.status == 202) {
      auto retry = std::chrono::seconds(std::atoi(response.Header("retry-after").c_str()));
      retry = std::clamp(retry, std::chrono::seconds(1), options_.max_retry_after);
      if (waited + retry > options_.max_pending_wait) {
        return MakeError(ErrorCode::kTimeout, "registrar kept the device pending for " +
                                                  std::to_string(waited.count()) + " s");
      }
      if (options_.sleep) {
        options_.sleep(retry);
      }
      waited += retry;
      continue;
    }
    if (response.status != 200) {
      return std::unexpected(Refused("the voucher request", response));
    }
    Bytes voucher_cms = ToBytes(response.body);
    auto pinned = CheckVoucher(voucher_cms, pvr.nonce);
    if (!pinned) {
      Report(connection, kVoucherStatus, &pinned.error());
      return std::unexpected(pinned.error().WithContext("voucher refused"));
    }
    return VoucherStep{std::move(voucher_cms), *pinned, round};
  }
}

Result<std::vector<Certificate>> Pledge::FetchDomainAnchors(RegistrarConnection& connection,
                                                            const Certificate& pinned) {
  ASSIGN_OR_RETURN(auto response, connection.Get(kCaCerts, ""));
  if (response.status != 200) {
    return std::unexpected(Refused("/cacerts", response));
  }
  ASSIGN_OR_RETURN_CTX(auto certs, DecodeCertsOnly(response), "/cacerts");
  std::vector<Certificate> anchors{pinned};
  for (const auto& cert : certs) {
    if (!(cert == pinned) &&
        crypto::VerifyChain(cert, certs, {pinned}, {.at = clock_.Now(), .allow_partial = true})) {
      anchors.push_back(cert);
    }
  }
  return anchors;
}

Result<std::pair<Certificate, crypto::PrivateKey>> Pledge::EnrollLdevid(
    RegistrarConnection& connection, const std::vector<Certificate>& anchors) {
  // BRSKI pledges must ask for CSR attributes (RFC 8995 §5.9.2); this pledge always makes a
  // P-256 key signed with ECDSA-SHA256, which is all this project's registrar asks for.
  (void)connection.Get(kCsrAttrs, "");
  ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::GenerateP256());
  ASSIGN_OR_RETURN(Bytes csr, crypto::Csr::CreateDer(key, {serial_, serial_, ""}));
  ASSIGN_OR_RETURN(auto response,
                   connection.Post(kSimpleEnroll, "application/pkcs10", Base64Encode(csr), ""));
  if (response.status != 200) {
    return std::unexpected(Refused("/simpleenroll", response));
  }
  ASSIGN_OR_RETURN_CTX(auto certs, DecodeCertsOnly(response), "/simpleenroll");
  const Certificate& ldevid = certs.front();
  RETURN_IF_ERROR_CTX(
      crypto::VerifyChain(ldevid, certs, anchors, {.at = clock_.Now(), .allow_partial = true}),
      "LDevID");
  if (EVP_PKEY_eq(ldevid.PublicKey(), key.get()) != 1 || ldevid.SubjectSerialNumber() != serial_) {
    return MakeError(ErrorCode::kSecurity, "LDevID does not certify this device's new key");
  }
  return std::make_pair(ldevid, key);
}

Result<EnrollResult> Pledge::Enroll() {
  http::TlsIdentity idevid{identity_.idevid, identity_.key, identity_.chain};
  ASSIGN_OR_RETURN(auto provisional, connector_.Open(idevid, {}));
  ASSIGN_OR_RETURN(VoucherStep step, ObtainVoucher(*provisional));

  // The voucher turns the provisional connection into a trusted one only if the registrar's
  // certificate chains to what the MASA pinned.
  auto registrar_trusted =
      crypto::VerifyChain(provisional->ServerCertificate(), provisional->ServerChain(),
                          {step.pinned}, {.at = clock_.Now(), .allow_partial = true});
  if (!registrar_trusted) {
    Report(*provisional, kVoucherStatus, &registrar_trusted.error());
    return std::unexpected(
        registrar_trusted.error().WithContext("registrar not the pinned domain"));
  }
  if (options_.accept_domain) {
    if (auto accepted = options_.accept_domain(step.pinned); !accepted) {
      Report(*provisional, kVoucherStatus, &accepted.error());
      return std::unexpected(accepted.error());
    }
  }
  Report(*provisional, kVoucherStatus, nullptr);

  auto enroll_steps = [&]()
      -> Result<std::pair<std::vector<Certificate>, std::pair<Certificate, crypto::PrivateKey>>> {
    ASSIGN_OR_RETURN(auto anchors, FetchDomainAnchors(*provisional, step.pinned));
    ASSIGN_OR_RETURN(auto issued, EnrollLdevid(*provisional, anchors));
    return std::make_pair(std::move(anchors), std::move(issued));
  };
  auto enrolled = enroll_steps();
  if (!enrolled) {
    Report(*provisional, kEnrollStatus, &enrolled.error());
    return std::unexpected(enrolled.error());
  }
  auto& [anchors, issued] = *enrolled;
  auto& [ldevid, key] = issued;

  // Success is reported over a new connection that proves the LDevID works (RFC 8995 §5.9.4).
  auto confirmed = connector_.Open(http::TlsIdentity{ldevid, key, {}}, anchors);
  if (!confirmed) {
    Report(*provisional, kEnrollStatus, &confirmed.error());
    return std::unexpected(confirmed.error().WithContext("LDevID connection"));
  }
  Report(**confirmed, kEnrollStatus, nullptr);
  return EnrollResult{std::move(step.voucher_cms), ldevid, key, anchors, step.pending_rounds};
}

}  // namespace concierge::pledge
