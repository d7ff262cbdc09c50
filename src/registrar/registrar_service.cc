#include "registrar/registrar_service.h"

#include "crypto/certificate_builder.h"
#include "voucher/cose_voucher.h"
#include "voucher/voucher.h"

namespace concierge::registrar {
namespace {

using crypto::Certificate;

constexpr std::chrono::minutes kClockSkew{5};

}  // namespace

Status RequireClientCertificate(const PeerIdentity& peer, std::string_view credential) {
  if (!peer.certificate) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "no client certificate (" + std::string(credential) + ") presented");
  }
  return OkStatus();
}

Result<std::string> MasaBaseUrl(const Certificate& idevid) {
  ASSIGN_OR_RETURN(std::string masa, idevid.Ia5Extension(crypto::kOidMasaUrl));
  if (masa.empty()) {
    return MakeError(ErrorCode::kBadFormat,
                     "IDevID has no MASA URL extension (1.3.6.1.5.5.7.1.32)");
  }
  if (masa.find("://") == std::string::npos) {
    masa = "https://" + masa;
  }
  if (masa.find('/', masa.find("://") + 3) == std::string::npos) {
    masa += "/.well-known/brski";
  }
  return masa;
}

RegistrarService::RegistrarService(SiteStore& store, MasaClient& masa, const Clock& clock,
                                   Random& random, RegistrarIdentity identity,
                                   RegistrarPolicy policy)
    : store_(store),
      masa_(masa),
      clock_(clock),
      random_(random),
      identity_(std::move(identity)),
      policy_(policy) {}

Result<std::vector<TrustedMaker>> RegistrarService::TrustedMakers() {
  std::lock_guard lock(makers_mutex_);
  ASSIGN_OR_RETURN(int64_t version, store_.MakersVersion());
  if (version != makers_version_) {
    ASSIGN_OR_RETURN(makers_, store_.ListMakers());
    makers_version_ = version;
  }
  return makers_;
}

Result<RegistrarService::Pledge> RegistrarService::IdentifyPledge(const PeerIdentity& peer) {
  RETURN_IF_ERROR(RequireClientCertificate(peer, "IDevID"));
  const Certificate& idevid = *peer.certificate;
  ASSIGN_OR_RETURN(auto makers, TrustedMakers());
  std::optional<Error> issuer_error;
  for (const auto& maker : makers) {
    auto verified = crypto::VerifyChain(idevid, peer.chain, {maker.ca}, {.at = clock_.Now()});
    if (verified) {
      return Pledge{maker, idevid};
    }
    if (maker.ca.SubjectText() == idevid.IssuerText()) {
      issuer_error = verified.error();
    }
  }
  if (issuer_error) {
    return std::unexpected(issuer_error->WithContext("IDevID refused"));
  }
  return MakeError(
      ErrorCode::kPermissionDenied,
      "unknown maker: IDevID issuer \"" + idevid.IssuerText() + "\" is not a trusted maker");
}

Result<RegistrarService::VoucherCall> RegistrarService::PrepareVoucherCall(
    const voucher::Signed<voucher::VoucherRequest>& pvr, const PeerIdentity& peer) {
  ASSIGN_OR_RETURN(Pledge pledge, IdentifyPledge(peer));
  if (!(pvr.signer == pledge.idevid)) {
    return MakeError(ErrorCode::kSecurity,
                     "pledge voucher-request is not signed by the IDevID of this TLS connection");
  }
  std::string serial = pledge.idevid.SubjectSerialNumber();
  if (serial.empty() || pvr.value.serial_number != serial) {
    return MakeError(ErrorCode::kSecurity, "pledge voucher-request serial-number \"" +
                                               pvr.value.serial_number +
                                               "\" is not the IDevID's \"" + serial + "\"");
  }
  if (pvr.value.assertion != voucher::Assertion::kProximity ||
      !voucher::NamesRegistrar(pvr.value, identity_.registrar_cert)) {
    return MakeError(ErrorCode::kSecurity,
                     "pledge voucher-request does not assert proximity to this registrar");
  }
  if (pvr.value.nonce.empty()) {
    return MakeError(ErrorCode::kBadFormat, "pledge voucher-request has no nonce");
  }
  ASSIGN_OR_RETURN(std::string masa_url, MasaBaseUrl(pledge.idevid));
  ASSIGN_OR_RETURN(std::string mud_url, pledge.idevid.Ia5Extension(crypto::kOidMudUrl));
  VoucherCall call{
      std::nullopt,    masa_url,
      serial,          pvr.value.nonce,
      pledge.maker.ca, {pledge.maker.id, serial, pledge.idevid.Der(), masa_url, mud_url},
      pvr.format,      {}};
  ASSIGN_OR_RETURN(auto device, store_.FindDevice(pledge.maker.id, serial));
  if (pledge.maker.approval == Approval::kManual && !device) {
    ASSIGN_OR_RETURN(device, store_.AddPendingDevice(call.seen));
  }
  if (device && device->state == kStatePending) {
    call.answer_now = VoucherOutcome{{}, policy_.pending_retry_after};
    return call;
  }
  ASSIGN_OR_RETURN(bool replayed, store_.PledgeNonceUsed(pledge.maker.id, serial, pvr.value.nonce));
  if (replayed) {
    return MakeError(ErrorCode::kSecurity,
                     "replayed pledge voucher-request: this nonce was already used");
  }

  voucher::VoucherRequest rvr;
  rvr.assertion = pvr.value.assertion;
  rvr.created_on = clock_.Now();
  rvr.serial_number = serial;
  rvr.nonce = pvr.value.nonce;
  rvr.idevid_issuer = pledge.idevid.AuthorityKeyIdExtnValue();
  rvr.prior_signed_voucher_request = pvr.encoded;
  if (pvr.format == voucher::Format::kCose) {
    // cBRSKI -30: the bag carries the registrar's chain and the pledge's, so the MASA can check
    // the pledge's signature inside without a database of devices.
    // A pledge's chain rarely has more than a CA or two; the bag stays well under the eight
    // certificates a COSE reader accepts (cose/sign1.cc).
    constexpr size_t kMaxBag = 6;
    std::vector<Certificate> bag{identity_.registrar_cert, identity_.domain_ca, pledge.idevid};
    for (const auto& cert : peer.chain) {
      if (!(cert == pledge.idevid) && bag.size() < kMaxBag) {
        bag.push_back(cert);
      }
    }
    ASSIGN_OR_RETURN(call.rvr, voucher::SignCoseVoucherRequest(rvr, identity_.registrar_key, bag));
  } else {
    ASSIGN_OR_RETURN(call.rvr,
                     voucher::SignVoucherRequest(rvr, identity_.registrar_cert,
                                                 identity_.registrar_key, {identity_.domain_ca}));
  }
  return call;
}

Result<VoucherOutcome> RegistrarService::AcceptVoucher(const VoucherCall& call,
                                                       Result<Bytes> answer) {
  if (!answer) {
    return std::unexpected(answer.error().WithContext("MASA " + call.masa_url));
  }
  bool cose = call.format == voucher::Format::kCose;
  ASSIGN_OR_RETURN_CTX(auto v,
                       cose ? voucher::OpenCoseVoucher(*answer, {}) : voucher::OpenVoucher(*answer),
                       "MASA reply");
  RETURN_IF_ERROR_CTX(
      crypto::VerifyChain(v.signer, v.certificates, {call.maker_ca}, {.at = clock_.Now()}),
      "MASA voucher signer");
  if (v.value.serial_number != call.serial || v.value.nonce != call.nonce) {
    return MakeError(ErrorCode::kSecurity, "MASA voucher is for another request");
  }
  if (v.value.pinned_domain_cert != identity_.domain_ca.Der() &&
      v.value.pinned_domain_cert != identity_.registrar_cert.Der()) {
    return MakeError(ErrorCode::kSecurity, "MASA voucher pins another domain");
  }
  Bytes for_pledge = std::move(*answer);
  if (cose) {
    ASSIGN_OR_RETURN(for_pledge, voucher::ForwardableVoucher(for_pledge));
  }
  RETURN_IF_ERROR(store_.RecordVoucher(call.seen, for_pledge, call.nonce));
  return VoucherOutcome{std::move(for_pledge), std::nullopt};
}

Result<VoucherOutcome> RegistrarService::RequestVoucher(
    const voucher::Signed<voucher::VoucherRequest>& pvr, const PeerIdentity& peer) {
  ASSIGN_OR_RETURN(VoucherCall call, PrepareVoucherCall(pvr, peer));
  if (call.answer_now) {
    return *call.answer_now;
  }
  return AcceptVoucher(call, masa_.RequestVoucher(call.masa_url, call.format, call.rvr));
}

void RegistrarService::RequestVoucherAsync(const voucher::Signed<voucher::VoucherRequest>& pvr,
                                           const PeerIdentity& peer,
                                           Callback<VoucherOutcome> done) {
  auto call = PrepareVoucherCall(pvr, peer);
  if (!call || call->answer_now) {
    done(call ? Result<VoucherOutcome>(*call->answer_now)
              : Result<VoucherOutcome>(std::unexpected(call.error())));
    return;
  }
  auto shared = std::make_shared<VoucherCall>(std::move(*call));
  Bytes rvr = shared->rvr;
  masa_.RequestVoucherAsync(shared->masa_url, shared->format, std::move(rvr),
                            [this, shared, done = std::move(done)](Result<Bytes> answer) {
                              done(AcceptVoucher(*shared, std::move(answer)));
                            });
}

Result<DeviceRecord> RegistrarService::AuthenticateLdevid(const PeerIdentity& peer) {
  RETURN_IF_ERROR(RequireClientCertificate(peer, "LDevID"));
  RETURN_IF_ERROR_CTX(crypto::VerifyChain(*peer.certificate, peer.chain, {identity_.domain_ca},
                                          {.at = clock_.Now()}),
                      "not a current LDevID of this site");
  return DeviceOfLdevid(*peer.certificate);
}

Result<DeviceRecord> RegistrarService::DeviceOfLdevid(const Certificate& cert) {
  ASSIGN_OR_RETURN(bool revoked, store_.IsRevoked(cert.SerialHex()));
  if (revoked) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "LDevID " + cert.SerialHex() + " has been revoked");
  }
  ASSIGN_OR_RETURN(auto device, store_.FindDeviceByCertificate(cert.SerialHex()));
  if (!device) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "certificate " + cert.SerialHex() + " was not issued to a device");
  }
  if (!device->Active()) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "device " + device->serial + " was " + device->departure);
  }
  // Its first use proves the device holds the LDevID the registrar issued.
  RETURN_IF_ERROR(store_.ConfirmCertificate(cert.SerialHex(), "first use"));
  if (device->state == kStateIssued && cert.SerialHex() == device->ldevid_serial) {
    device->state = kStateEnrolled;
  }
  return *device;
}

Result<DeviceRecord> RegistrarService::IdentifyDevice(const PeerIdentity& peer) {
  RETURN_IF_ERROR(RequireClientCertificate(peer, "IDevID or LDevID"));
  if (crypto::VerifyChain(*peer.certificate, peer.chain, {identity_.domain_ca},
                          {.at = clock_.Now()})) {
    return DeviceOfLdevid(*peer.certificate);
  }
  ASSIGN_OR_RETURN(Pledge pledge, IdentifyPledge(peer));
  ASSIGN_OR_RETURN(auto device,
                   store_.FindDevice(pledge.maker.id, pledge.idevid.SubjectSerialNumber()));
  if (!device) {
    return MakeError(ErrorCode::kPermissionDenied, "device " + pledge.idevid.SubjectSerialNumber() +
                                                       " has not asked for a voucher");
  }
  return *device;
}

Status RegistrarService::ReportStatus(voucher::StatusKind kind, const voucher::StatusReport& report,
                                      const PeerIdentity& peer) {
  ASSIGN_OR_RETURN(DeviceRecord device, IdentifyDevice(peer));
  return store_.RecordTelemetry(device.id, voucher::StatusKindName(kind), report.success,
                                report.reason.substr(0, voucher::kMaxStatusReasonSize));
}

std::vector<Certificate> RegistrarService::CaCertificates() const {
  return {identity_.domain_ca};
}

Result<Certificate> RegistrarService::IssueLdevid(const DeviceRecord& device, ByteSpan csr_der,
                                                  const std::string& expected_serial,
                                                  const std::string& address) {
  ASSIGN_OR_RETURN(crypto::Csr csr, crypto::Csr::FromDer(csr_der));
  RETURN_IF_ERROR(csr.VerifySelfSignature());
  if (csr.SubjectSerialNumber() != expected_serial) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "CSR subject serialNumber \"" + csr.SubjectSerialNumber() +
                         "\" does not match the device's \"" + expected_serial + "\"");
  }
  SystemTime now = clock_.Now();
  crypto::CertificateSpec spec;
  spec.subject = {expected_serial, expected_serial, identity_.site_name};
  spec.public_key = csr.PublicKey();
  spec.not_before = now - kClockSkew;
  spec.not_after = now + policy_.ldevid_validity;
  spec.key_usage = "critical,digitalSignature,keyAgreement";
  spec.extended_key_usage = "clientAuth,serverAuth";
  if (!device.mud_url.empty()) {
    spec.ia5_extensions.emplace_back(crypto::kOidMudUrl, device.mud_url);
  }
  // 128 random bits make a collision negligible; the certificates table's primary key makes
  // one impossible, and a retry draws a fresh serial.
  for (int attempt = 0; attempt < 3; ++attempt) {
    spec.serial = random_.Generate(16);
    ASSIGN_OR_RETURN(Certificate cert,
                     crypto::IssueCertificate(spec, &identity_.domain_ca, identity_.domain_ca_key));
    auto recorded = store_.RecordCertificate(device.id, cert, "ldevid", address);
    if (recorded) {
      return cert;
    }
    if (recorded.error().code() != ErrorCode::kAlreadyExists) {
      return std::unexpected(recorded.error());
    }
  }
  return MakeError(ErrorCode::kInternal, "could not draw an unused certificate serial");
}

Result<Certificate> RegistrarService::SimpleEnroll(ByteSpan csr_der, const PeerIdentity& peer) {
  ASSIGN_OR_RETURN(Pledge pledge, IdentifyPledge(peer));
  std::string serial = pledge.idevid.SubjectSerialNumber();
  ASSIGN_OR_RETURN(auto device, store_.FindDevice(pledge.maker.id, serial));
  if (!device || (device->state != kStateVouchered && !device->HoldsLdevid())) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "EST enroll refused: device " + serial + " has no successful voucher");
  }
  return IssueLdevid(*device, csr_der, serial, peer.address);
}

Result<Certificate> RegistrarService::SimpleReenroll(ByteSpan csr_der, const PeerIdentity& peer) {
  ASSIGN_OR_RETURN_CTX(DeviceRecord device, AuthenticateLdevid(peer), "re-enroll refused");
  return IssueLdevid(device, csr_der, device.serial, peer.address);
}

}  // namespace concierge::registrar
