#include "masa/masa_service.h"

#include "voucher/cose_voucher.h"
#include "voucher/voucher.h"

namespace concierge::masa {
namespace {

using crypto::Certificate;

// FindDomainCa returns the CA among the RVR's certificates that issued the registrar's
// certificate: the domain the MASA pins.
Result<Certificate> FindDomainCa(const Certificate& registrar,
                                 const std::vector<Certificate>& certificates, SystemTime now) {
  for (const auto& candidate : certificates) {
    if (!candidate.IsCa() || candidate == registrar) {
      continue;
    }
    if (crypto::VerifyChain(registrar, {}, {candidate}, {.at = now, .allow_partial = true})) {
      return candidate;
    }
  }
  return MakeError(ErrorCode::kSecurity,
                   "registrar voucher-request does not carry the CA that issued the registrar "
                   "certificate \"" +
                       registrar.SubjectText() + "\"");
}

}  // namespace

MasaService::MasaService(MakerStore& store, const Clock& clock, MasaIdentity identity,
                         MasaPolicy policy)
    : store_(store),
      clock_(clock),
      identity_(std::move(identity)),
      policy_(policy),
      maker_key_(identity_.signer_key.PublicKeyDer().value_or(Bytes{})) {}

namespace {

// OpenPledgeRequest opens the pledge's request inside a registrar's. A CMS one carries its
// signer. A COSE one carries none (a pledge saves the bytes), so its signer is looked for in the
// registrar's x5bag, which holds the pledge's chain (cBRSKI -30): among the certificates for the
// serial number the registrar's request names.
Result<voucher::Signed<voucher::VoucherRequest>> OpenPledgeRequest(
    const MasaService::SignedRequest& rvr) {
  const Bytes& prior = rvr.value.prior_signed_voucher_request;
  if (rvr.format == voucher::Format::kCms) {
    return voucher::OpenVoucherRequest(prior, voucher::RequestFrom::kPledge);
  }
  std::vector<Certificate> candidates;
  for (const auto& cert : rvr.certificates) {
    if (cert.SubjectSerialNumber() == rvr.value.serial_number) {
      candidates.push_back(cert);
    }
  }
  if (candidates.empty()) {
    return MakeError(ErrorCode::kSecurity,
                     "the registrar's x5bag holds no certificate for serial-number \"" +
                         rvr.value.serial_number + "\" to verify the pledge's request with");
  }
  ASSIGN_OR_RETURN(
      auto pvr, voucher::OpenCoseVoucherRequest(prior, voucher::RequestFrom::kPledge, candidates));
  pvr.certificates = rvr.certificates;  // the pledge's chain is in the registrar's bag
  return pvr;
}

}  // namespace

Result<MasaService::CheckedRequest> MasaService::CheckRequest(const SignedRequest& rvr,
                                                              const crypto::PeerIdentity* peer) {
  SystemTime now = clock_.Now();
  const Certificate& registrar = rvr.signer;
  if (peer != nullptr && peer->certificate && !(*peer->certificate == registrar)) {
    return MakeError(ErrorCode::kSecurity,
                     "voucher-request is not signed by the registrar's TLS client certificate");
  }
  ASSIGN_OR_RETURN(Certificate domain_ca, FindDomainCa(registrar, rvr.certificates, now));
  const auto& request = rvr.value;
  if (request.prior_signed_voucher_request.empty()) {
    return MakeError(ErrorCode::kBadFormat,
                     "voucher-request.prior-signed-voucher-request: missing (nonceless vouchers "
                     "are not offered)");
  }
  ASSIGN_OR_RETURN_CTX(auto pvr, OpenPledgeRequest(rvr), "prior-signed-voucher-request");
  const Certificate& idevid = pvr.signer;
  RETURN_IF_ERROR_CTX(
      crypto::VerifyChain(idevid, pvr.certificates, {identity_.maker_ca}, {.at = now}),
      "pledge IDevID");
  std::string serial = idevid.SubjectSerialNumber();
  if (serial.empty() || serial != pvr.value.serial_number || serial != request.serial_number) {
    return MakeError(ErrorCode::kSecurity, "serial-number mismatch: IDevID \"" + serial +
                                               "\", pledge request \"" + pvr.value.serial_number +
                                               "\", registrar request \"" + request.serial_number +
                                               "\"");
  }
  ASSIGN_OR_RETURN(auto minted, store_.FindDevice(serial));
  if (!minted || minted->idevid_der != idevid.Der()) {
    return MakeError(ErrorCode::kNotFound, "device " + serial + " was not minted by this MASA");
  }
  if (pvr.value.nonce.empty() || pvr.value.nonce != request.nonce) {
    return MakeError(ErrorCode::kSecurity,
                     "registrar voucher-request nonce differs from the pledge's");
  }
  if (pvr.value.assertion != voucher::Assertion::kProximity ||
      !voucher::NamesRegistrar(pvr.value, registrar)) {
    return MakeError(ErrorCode::kSecurity,
                     "pledge request's proximity-registrar-cert (or -pubk) is not the registrar "
                     "that signed the registrar voucher-request");
  }
  if (!request.idevid_issuer.empty() && request.idevid_issuer != idevid.AuthorityKeyIdExtnValue()) {
    return MakeError(ErrorCode::kSecurity, "idevid-issuer does not match the IDevID");
  }
  return CheckedRequest{serial, request.nonce, domain_ca, voucher::DomainId(domain_ca)};
}

Result<Bytes> MasaService::RequestVoucher(const SignedRequest& rvr,
                                          const crypto::PeerIdentity& registrar) {
  ASSIGN_OR_RETURN(CheckedRequest checked, CheckRequest(rvr, &registrar));
  ASSIGN_OR_RETURN(Bytes domain_key, checked.domain_ca.PublicKeyDer());
  ASSIGN_OR_RETURN(auto record, store_.FindOwnership(checked.serial));
  if (record && record->stolen) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "device " + checked.serial +
                         " is reported stolen: no voucher is issued to anyone until its owner of "
                         "record clears the report");
  }
  ASSIGN_OR_RETURN(ownership::OwnershipChain chain, LoadChain(checked.serial, record));
  VoucherOwnership ownership;
  ownership::OwnershipChain::Authorities authorities{maker_key_};
  if (chain.OwnedBy(maker_key_)) {
    // Unclaimed, or released after decommissioning: the maker sells it to this claimant.
    bool released = !chain.entries().empty();
    Bytes before = record ? record->chain : Bytes{};
    RETURN_IF_ERROR(chain.Extend(identity_.signer_key, domain_key, ownership::EntryKind::kSale,
                                 clock_.Now(), authorities));
    ASSIGN_OR_RETURN(Bytes after, chain.Encode());
    ownership.chain_swap =
        ChainSwap{std::move(before), std::move(after), "ownership.sold",
                  Json{{"domain", checked.domain_id}, {"entry", chain.entries().size() - 1}}};
    ownership.owner_by_chain = released;
  } else if (chain.OwnedBy(domain_key)) {
    ownership.owner_by_chain = true;
  } else {
    return MakeError(ErrorCode::kPermissionDenied,
                     "device " + checked.serial +
                         " is owned by another domain: its ownership chain ends at another "
                         "owner's key");
  }
  voucher::Voucher v;
  v.assertion = voucher::Assertion::kProximity;
  v.created_on = clock_.Now();
  if (policy_.voucher_lifetime) {
    v.expires_on = v.created_on + *policy_.voucher_lifetime;
  }
  v.serial_number = checked.serial;
  v.nonce = checked.nonce;
  v.pinned_domain_cert = checked.domain_ca.Der();
  // The maker CA is left out: pledges and registrars verify against it as their own anchor,
  // and every certificate carried costs each verifier a parse. A COSE voucher carries the
  // signer for the registrar, which removes it before the pledge, which knows the key, sees it.
  ASSIGN_OR_RETURN(Bytes signed_voucher,
                   rvr.format == voucher::Format::kCose
                       ? voucher::SignCoseVoucher(v, identity_.signer_key, {identity_.signer})
                       : voucher::SignVoucher(v, identity_.signer, identity_.signer_key, {}));
  // Logged only once signed, so the log never names a voucher that was not issued.
  RETURN_IF_ERROR(store_.RecordVoucher(checked.serial, checked.domain_id, checked.nonce,
                                       std::string(voucher::AssertionName(v.assertion)),
                                       ownership));
  return signed_voucher;
}

Result<Json> MasaService::RequestAuditLog(const SignedRequest& rvr) {
  // The log is for the device's owner: a replayed RVR is acceptable here, the nonce is not
  // consumed; the ownership check is what protects it.
  ASSIGN_OR_RETURN(CheckedRequest checked, CheckRequest(rvr, nullptr));
  ASSIGN_OR_RETURN(auto minted, store_.FindDevice(checked.serial));
  if (!minted || minted->owner_domain != checked.domain_id) {
    return MakeError(ErrorCode::kNotFound,
                     "no audit log for " + checked.serial + " is available to this domain");
  }
  ASSIGN_OR_RETURN(auto entries, store_.VoucherLog(checked.serial));
  Json events = Json::array();
  for (const auto& entry : entries) {
    events.push_back(
        {{"date", FormatRfc3339(FromUnixSeconds(entry.at))},
         {"domainID", entry.domain_id},
         {"nonce", entry.nonce.empty() ? Json(nullptr) : Json(Base64Encode(entry.nonce))},
         {"assertion", entry.assertion}});
  }
  return Json{{"version", "1"}, {"events", events}, {"truncation", Json::object()}};
}

}  // namespace concierge::masa
