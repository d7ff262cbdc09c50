#include "registrar/site_ownership.h"

#include <algorithm>
#include <map>
#include <set>

#include "crypto/crl.h"
#include "ownership/chain.h"
#include "store/audit_log.h"

namespace concierge::registrar {
namespace {

using ownership::OwnershipChain;

constexpr OwnershipChain::Authorities kMakerAsMasa{.masa_key = {}, .masa_is_maker = true};
constexpr std::chrono::hours kCrlValidity{24 * 7};

struct Leaving {
  DeviceRecord device;
  Bytes chain;
};

Result<std::vector<DeviceRecord>> SelectDevices(SiteStore& store,
                                                const std::vector<std::string>& serials) {
  ASSIGN_OR_RETURN(auto all, store.ListDevices());
  std::vector<DeviceRecord> chosen;
  if (serials.empty()) {
    for (DeviceRecord& device : all) {
      bool staying = device.departure.empty() || device.departure == kDepartureLeaving;
      if (staying && device.HoldsLdevid()) {
        chosen.push_back(std::move(device));
      }
    }
    return chosen;
  }
  std::map<std::string, DeviceRecord> by_serial;
  for (DeviceRecord& device : all) {
    by_serial[device.serial] = std::move(device);
  }
  for (const std::string& serial : serials) {
    auto it = by_serial.find(serial);
    if (it == by_serial.end()) {
      return MakeError(ErrorCode::kNotFound, "no device " + serial + " on this site");
    }
    if (!it->second.departure.empty() && it->second.departure != kDepartureLeaving) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "device " + serial + " is already " + it->second.departure);
    }
    if (!it->second.HoldsLdevid()) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "device " + serial + " is " + it->second.state + ", not enrolled");
    }
    chosen.push_back(it->second);
  }
  return chosen;
}

}  // namespace

Result<Bytes> SiteOwnership::OwnerKey() const {
  return registrar_.identity().domain_ca_key.PublicKeyDer();
}

Result<ownership::TransferBundle> SiteOwnership::Export(const ExportRequest& request,
                                                        const std::string& actor) {
  ASSIGN_OR_RETURN(Bytes own_key, OwnerKey());
  if (request.new_owner_key == own_key) {
    return MakeError(ErrorCode::kInvalidArgument, "the new owner's key is this site's own key");
  }
  if (auto key = crypto::PublicKeyFromDer(request.new_owner_key); !key) {
    return std::unexpected(key.error().WithContext("new owner key"));
  }
  if (request.new_registrar_url.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "the new owner's registrar URL is needed");
  }
  ASSIGN_OR_RETURN(auto devices, SelectDevices(store_, request.serials));
  if (devices.empty()) {
    return MakeError(ErrorCode::kNotFound, "no enrolled device to transfer");
  }
  const crypto::PrivateKey& owner = registrar_.identity().domain_ca_key;
  std::vector<Leaving> leaving;
  leaving.reserve(devices.size());
  for (DeviceRecord& device : devices) {
    std::string context = "device " + device.serial;
    ASSIGN_OR_RETURN_CTX(Bytes recorded, masa_.FetchChain(device.masa_url, device.serial),
                         context + ": fetching its chain");
    ASSIGN_OR_RETURN_CTX(auto chain, OwnershipChain::Decode(recorded, kMakerAsMasa), context);
    if (chain.header().device_id != device.serial) {
      return MakeError(ErrorCode::kSecurity, context + ": the MASA answered with the chain of " +
                                                 chain.header().device_id);
    }
    if (!chain.OwnedBy(own_key)) {
      return MakeError(ErrorCode::kPermissionDenied,
                       context + ": its MASA records another owner; this site cannot transfer it");
    }
    RETURN_IF_ERROR_CTX(chain.Extend(owner, request.new_owner_key, ownership::EntryKind::kTransfer,
                                     clock_.Now(), kMakerAsMasa),
                        context);
    ASSIGN_OR_RETURN(Bytes extended, chain.Encode());
    leaving.push_back({std::move(device), std::move(extended)});
  }

  ASSIGN_OR_RETURN(auto makers, store_.ListMakers());
  ownership::TransferBundle bundle;
  bundle.from = registrar_.identity().site_name;
  bundle.new_owner_key = request.new_owner_key;
  std::set<int64_t> makers_used;
  for (Leaving& item : leaving) {
    RETURN_IF_ERROR(store_.RecordExport(item.device.id, request.new_registrar_url, item.chain,
                                        request.new_owner, actor));
    makers_used.insert(item.device.maker_id);
    bundle.devices.push_back(
        {item.device.serial, item.device.maker_name, item.device.masa_url, std::move(item.chain)});
  }
  for (const TrustedMaker& maker : makers) {
    if (makers_used.contains(maker.id)) {
      bundle.makers.push_back({maker.name, maker.ca.Pem()});
    }
  }
  return bundle;
}

Result<ImportReport> SiteOwnership::Import(const ownership::TransferBundle& bundle) {
  ASSIGN_OR_RETURN(Bytes own_key, OwnerKey());
  if (bundle.new_owner_key != own_key) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "the bundle hands its devices to another owner, not to this site");
  }
  // Every chain is checked before anything is recorded.
  for (const ownership::BundleDevice& device : bundle.devices) {
    std::string context = "device " + device.serial;
    ASSIGN_OR_RETURN_CTX(auto chain, OwnershipChain::Decode(device.chain, kMakerAsMasa), context);
    if (chain.header().device_id != device.serial) {
      return MakeError(ErrorCode::kSecurity,
                       context + ": its chain is the chain of " + chain.header().device_id);
    }
    if (!chain.OwnedBy(own_key)) {
      return MakeError(ErrorCode::kPermissionDenied,
                       context + ": its chain does not end at this site's key");
    }
  }
  ImportReport report;
  ASSIGN_OR_RETURN(auto trusted, store_.ListMakers());
  for (const ownership::BundleMaker& maker : bundle.makers) {
    ASSIGN_OR_RETURN_CTX(auto ca, crypto::Certificate::FromPem(maker.ca_pem),
                         "maker " + maker.name);
    bool known = std::any_of(trusted.begin(), trusted.end(),
                             [&](const TrustedMaker& t) { return t.ca.Der() == ca.Der(); });
    if (!known) {
      if (auto added = store_.AddTrustedMaker(maker.name, ca, Approval::kAuto); !added) {
        return std::unexpected(added.error());
      }
      report.makers_added.push_back(maker.name);
    }
  }
  for (const ownership::BundleDevice& device : bundle.devices) {
    RETURN_IF_ERROR_CTX(masa_.SubmitChain(device.masa_url, device.chain),
                        "device " + device.serial + ": recording its chain at " + device.masa_url);
    // The device has no record here until it enrolls; the event names it by serial, as
    // `audit show --device SERIAL` looks for.
    RETURN_IF_ERROR(
        store_.RecordEvent("transfer.imported", store::DeviceSubject(device.serial),
                           Json{{"serial", device.serial},
                                {"from", bundle.from},
                                {"chain_sha256", HexEncode(crypto::Sha256(device.chain))}}));
    ++report.devices;
  }
  return report;
}

Result<DeviceRecord> SiteOwnership::FindActive(const std::string& serial) {
  ASSIGN_OR_RETURN(auto devices, store_.ListDevices());
  for (DeviceRecord& device : devices) {
    if (device.serial != serial) {
      continue;
    }
    if (!device.Active()) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "device " + serial + " is already " + device.departure);
    }
    return std::move(device);
  }
  return MakeError(ErrorCode::kNotFound, "no device " + serial + " on this site");
}

Result<std::string> SiteOwnership::SubmitStatement(const std::string& serial,
                                                   ownership::Statement statement) {
  ASSIGN_OR_RETURN(DeviceRecord device, FindActive(serial));
  statement.device_id = serial;
  // Statements are ordered by their time (milliseconds) at the MASA.
  statement.issued_at = std::max(statement.issued_at, ToUnixMillis(clock_.Now()));
  ASSIGN_OR_RETURN(Bytes signed_statement,
                   ownership::SignStatement(registrar_.identity().domain_ca_key, statement));
  ASSIGN_OR_RETURN(std::string done, masa_.SubmitStatement(device.masa_url, signed_statement));
  RETURN_IF_ERROR(
      store_.RecordEvent("ownership." + std::string(ownership::ActionName(statement.action)),
                         store::DeviceSubject(serial), Json{{"serial", serial}, {"masa", done}}));
  return done;
}

Result<std::string> SiteOwnership::Decommission(const std::string& serial, bool device_gone,
                                                const std::string& actor) {
  ASSIGN_OR_RETURN(DeviceRecord device, FindActive(serial));
  if (device.departure == kDepartureLeaving) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "device " + serial + " is being transferred; it is not this site's to retire");
  }
  ASSIGN_OR_RETURN(Bytes own_key, OwnerKey());
  ASSIGN_OR_RETURN_CTX(Bytes recorded, masa_.FetchChain(device.masa_url, serial),
                       "device " + serial + ": fetching its chain");
  ASSIGN_OR_RETURN(auto chain, OwnershipChain::Decode(recorded, kMakerAsMasa));
  std::string done;
  if (chain.OwnedBy(own_key)) {
    ownership::Statement release;
    release.action = ownership::Action::kRelease;
    ASSIGN_OR_RETURN(done, SubmitStatement(serial, release));
  } else if (chain.OwnedBy(chain.header().maker_key)) {
    done = "already released at its MASA";  // a decommission interrupted before
  } else {
    return MakeError(ErrorCode::kPermissionDenied,
                     "device " + serial +
                         ": its MASA records another owner; it is not this "
                         "site's to release");
  }
  if (device_gone) {
    RETURN_IF_ERROR(store_.RecordDeparture(device.id, kDepartureDecommissioned,
                                           "decommissioned without the device", actor));
    return done + "; membership ended and certificates revoked";
  }
  RETURN_IF_ERROR(store_.RecordRetiring(device.id, actor));
  return done + "; the device resets at its next check-in";
}

Status SiteOwnership::ConfirmReset(const PeerIdentity& peer) {
  ASSIGN_OR_RETURN(DeviceRecord device, registrar_.AuthenticateLdevid(peer));
  if (device.departure != kDepartureRetiring) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "device " + device.serial + " was not told to reset");
  }
  return store_.RecordDeparture(device.id, kDepartureDecommissioned, "the device reset itself");
}

Result<std::optional<ownership::MoveInstruction>> SiteOwnership::Instruction(
    const PeerIdentity& peer) {
  ASSIGN_OR_RETURN(DeviceRecord device, registrar_.AuthenticateLdevid(peer));
  if (device.departure == kDepartureRetiring) {
    return std::optional(
        ownership::MoveInstruction{ownership::MoveInstruction::Action::kReset, "", {}});
  }
  if (device.departure != kDepartureLeaving) {
    return std::optional<ownership::MoveInstruction>();
  }
  ASSIGN_OR_RETURN(auto departure, store_.FindDeparture(device.id));
  if (!departure) {
    return std::optional<ownership::MoveInstruction>();
  }
  return ownership::MoveInstruction{ownership::MoveInstruction::Action::kMove,
                                    departure->registrar_url, departure->chain};
}

Status SiteOwnership::ConfirmMove(const PeerIdentity& peer, ByteSpan new_ldevid_der) {
  ASSIGN_OR_RETURN(DeviceRecord device, registrar_.AuthenticateLdevid(peer));
  ASSIGN_OR_RETURN(auto departure, store_.FindDeparture(device.id));
  if (!departure || departure->kind != kDepartureLeaving) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "device " + device.serial + " was not told to move");
  }
  ASSIGN_OR_RETURN_CTX(auto chain, OwnershipChain::Decode(departure->chain, kMakerAsMasa),
                       "recorded chain of " + device.serial);
  ASSIGN_OR_RETURN_CTX(auto ldevid, crypto::Certificate::FromDer(new_ldevid_der), "new LDevID");
  ASSIGN_OR_RETURN(auto new_owner, crypto::PublicKeyFromDer(chain.owner_key()));
  if (X509_verify(ldevid.get(), new_owner.get()) != 1) {
    crypto::ClearOpenSslErrors();
    return MakeError(ErrorCode::kPermissionDenied,
                     "the new LDevID of " + device.serial + " is not signed by its new owner");
  }
  if (ldevid.SubjectSerialNumber() != device.serial) {
    return MakeError(
        ErrorCode::kPermissionDenied,
        "the new LDevID names device " + ldevid.SubjectSerialNumber() + ", not " + device.serial);
  }
  return store_.RecordDeparture(device.id, kDepartureTransferred,
                                "moved; new LDevID " + ldevid.SerialHex());
}

Result<Json> SiteOwnership::TenantRequest(ByteSpan signed_request) {
  ASSIGN_OR_RETURN(auto request, ownership::DecodeTenantRequest(signed_request));
  ASSIGN_OR_RETURN(auto delegations, store_.ListDelegations());
  ASSIGN_OR_RETURN(auto decision, ownership::AuthorizeTenant(delegations, request, clock_.Now()));
  const ownership::Delegation& delegation = *decision.delegation;
  RETURN_IF_ERROR(store_.RecordTenantRequest(delegation.id, request.request.issued_at));
  ASSIGN_OR_RETURN(auto devices, store_.ListDevices());
  Json answer{{"tenant", delegation.tenant},
              {"delegation", delegation.id},
              {"until", FormatRfc3339(FromUnixSeconds(delegation.not_after))}};
  Json list = Json::array();
  for (const DeviceRecord& device : devices) {
    bool wanted = request.request.operation == ownership::TenantOperation::kList
                      ? delegation.devices.contains(device.serial)
                      : device.serial == request.request.device;
    if (!wanted || !device.Active()) {
      continue;
    }
    Json entry{
        {"serial", device.serial},
        {"maker", device.maker_name},
        {"state", device.state},
        {"address", device.address},
        {"ldevid_not_after",
         device.ldevid_not_after ? FormatRfc3339(FromUnixSeconds(device.ldevid_not_after)) : ""}};
    if (request.request.operation == ownership::TenantOperation::kAudit) {
      ASSIGN_OR_RETURN(auto events, store_.ReadAudit(store::DeviceSubject(device.serial)));
      Json history = Json::array();
      for (const auto& event : events) {
        history.push_back({{"at", FormatRfc3339(FromUnixSeconds(event.at))}, {"kind", event.kind}});
      }
      entry["history"] = history;
    }
    list.push_back(entry);
  }
  answer["devices"] = list;
  return answer;
}

Result<Bytes> SiteOwnership::Crl() {
  ASSIGN_OR_RETURN(auto revocations, store_.ListRevocations());
  SystemTime now = clock_.Now();
  std::lock_guard lock(crl_mutex_);
  if (crl_ && crl_->revocations == revocations && now >= crl_->issued_at &&
      now < crl_->issued_at + kCrlValidity / 2) {
    return crl_->der;
  }
  std::vector<crypto::RevokedCertificate> revoked;
  revoked.reserve(revocations.size());
  for (const Revocation& revocation : revocations) {
    revoked.push_back({revocation.serial, FromUnixSeconds(revocation.revoked_at)});
  }
  ASSIGN_OR_RETURN(int64_t number, store_.NextCrlNumber());
  const RegistrarIdentity& identity = registrar_.identity();
  ASSIGN_OR_RETURN(Bytes der, crypto::IssueCrl(identity.domain_ca, identity.domain_ca_key, revoked,
                                               number, now, now + kCrlValidity));
  crl_ = IssuedCrl{std::move(revocations), now, der};
  return der;
}

}  // namespace concierge::registrar
