// The operator's use cases on makers, devices, the audit chain, tenants and ownership.
#include <algorithm>

#include "site/site.h"

namespace concierge::site {

Result<int64_t> Site::TrustMaker(const std::string& name, const crypto::Certificate& ca,
                                 registrar::Approval approval) {
  if (!ca.IsCa()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"" + ca.SubjectText() + "\" is not a CA certificate");
  }
  return store_->AddTrustedMaker(name, ca, approval);
}

Result<std::vector<registrar::DeviceRecord>> Site::Devices(std::string_view state) {
  ASSIGN_OR_RETURN(auto devices, store_->ListDevices());
  if (!state.empty()) {
    std::erase_if(devices, [&](const registrar::DeviceRecord& d) { return d.state != state; });
  }
  return devices;
}

Status Site::ApproveDevice(int64_t device_id, const std::string& actor) {
  return store_->ApproveDevice(device_id, actor);
}

Result<std::vector<store::AuditRecord>> Site::AuditEvents() {
  return store_->ReadAudit();
}

Result<std::vector<store::AuditRecord>> Site::DeviceAuditTrail(std::string_view device) {
  // Every event names a device by its serial; an id from Devices finds it too.
  ASSIGN_OR_RETURN(auto devices, store_->ListDevices());
  auto known = std::find_if(devices.begin(), devices.end(), [&](const auto& d) {
    return d.serial == device || std::to_string(d.id) == device;
  });
  std::string name = known == devices.end() ? std::string(device) : known->serial;
  ASSIGN_OR_RETURN(auto records, store_->ReadAudit(store::DeviceSubject(name)));
  if (records.empty() && known == devices.end()) {
    return MakeError(ErrorCode::kNotFound, "no device " + std::string(device) + " on this site");
  }
  return records;
}

Result<AuditVerdict> Site::VerifyAudit() {
  ASSIGN_OR_RETURN(auto records, AuditEvents());
  RETURN_IF_ERROR(store::VerifyAuditChain(records));
  return AuditVerdict{records.size(), records.empty() ? Bytes() : records.back().hash};
}

Result<int64_t> Site::GrantTenant(const std::string& tenant, const Bytes& tenant_key,
                                  const std::vector<std::string>& serials, SystemTime from,
                                  SystemTime until, const std::string& actor) {
  return store_->AddDelegation(tenant, tenant_key, serials, ToUnixSeconds(from),
                               ToUnixSeconds(until), actor);
}

Status Site::RevokeTenant(int64_t delegation_id, const std::string& actor) {
  return store_->RevokeDelegation(delegation_id, actor);
}

Result<std::vector<TenantDelegation>> Site::Delegations() {
  ASSIGN_OR_RETURN(auto delegations, store_->ListDelegations());
  int64_t now = ToUnixSeconds(clock_.Now());
  std::vector<TenantDelegation> states;
  states.reserve(delegations.size());
  for (auto& delegation : delegations) {
    std::string state = delegation.revoked_at != 0    ? "revoked"
                        : now >= delegation.not_after ? "expired"
                        : now < delegation.not_before ? "scheduled"
                                                      : "in force";
    states.push_back({std::move(delegation), std::move(state)});
  }
  return states;
}

Result<DeviceDetail> Site::DescribeDevice(const std::string& name) {
  ASSIGN_OR_RETURN(registry::DeviceRegistry * registry, Registry());
  ASSIGN_OR_RETURN(auto record, registry->Find(name));
  if (!record) {
    return MakeError(ErrorCode::kNotFound, "no device named \"" + name + "\" on this site");
  }
  DeviceDetail detail{std::move(*record), std::nullopt, {}};
  if (!detail.record.serial.empty()) {
    ASSIGN_OR_RETURN(detail.onboarding,
                     store_->FindNewestDevice(detail.record.maker, detail.record.serial));
  }
  ASSIGN_OR_RETURN(auto delegations, Delegations());
  for (const auto& [delegation, state] : delegations) {
    if (state == "in force" && delegation.devices.contains(detail.record.serial) &&
        !detail.record.serial.empty()) {
      detail.tenants.push_back(delegation.tenant);
    }
  }
  return detail;
}

Status Site::SetZone(const std::string& name, const std::string& zone) {
  ASSIGN_OR_RETURN(registry::DeviceRegistry * registry, Registry());
  return registry->SetZone(name, zone);
}

Result<DeviceOwnership> Site::OwnershipOf(const std::string& serial) {
  ASSIGN_OR_RETURN(auto devices, store_->ListDevices());
  auto device = std::find_if(devices.begin(), devices.end(),
                             [&](const auto& d) { return d.serial == serial; });
  if (device == devices.end()) {
    return MakeError(ErrorCode::kNotFound, "no device " + serial + " on this site");
  }
  ASSIGN_OR_RETURN(Bytes bytes, masa_->FetchChain(device->masa_url, serial));
  ASSIGN_OR_RETURN(auto chain, ownership::OwnershipChain::Decode(
                                   bytes, {.masa_key = {}, .masa_is_maker = true}));
  ASSIGN_OR_RETURN(Bytes own, ownership_->OwnerKey());
  return DeviceOwnership{std::move(chain), std::move(own)};
}

}  // namespace concierge::site
