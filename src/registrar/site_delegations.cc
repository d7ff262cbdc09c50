#include "registrar/site_store.h"
#include "store/audit_log.h"

namespace concierge::registrar {

Result<int64_t> SiteStore::AddDelegation(const std::string& tenant, const Bytes& tenant_key,
                                         const std::vector<std::string>& serials,
                                         int64_t not_before, int64_t not_after,
                                         const std::string& actor) {
  if (tenant.empty() || serials.empty() || not_after <= not_before) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a delegation needs a tenant name, devices and an end after its start");
  }
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  // One delegation in force per key at any time, so a request has one set of rules.
  ASSIGN_OR_RETURN(auto overlapping,
                   db_->Prepare("SELECT id, not_after FROM delegations WHERE tenant_key = ? AND "
                                "revoked_at = 0 AND not_before < ? AND not_after > ? LIMIT 1"));
  overlapping.BindAll(tenant_key, not_after, not_before);
  ASSIGN_OR_RETURN(bool overlaps, overlapping.Step());
  if (overlaps) {
    std::string until = FormatRfc3339(FromUnixSeconds(overlapping.Int(1)));
    return MakeError(ErrorCode::kFailedPrecondition,
                     "this tenant key already has delegation " +
                         std::to_string(overlapping.Int(0)) + " in force until " + until +
                         "; revoke it, or start the new one at " + until);
  }
  ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO delegations(tenant, tenant_key, "
                                             "not_before, not_after, created_at) "
                                             "VALUES (?,?,?,?,?) RETURNING id"));
  ASSIGN_OR_RETURN(
      int64_t id,
      insert.BindAll(tenant, tenant_key, not_before, not_after, ToUnixSeconds(clock_.Now()))
          .RunReturningId());
  Json detail{{"delegation", id},
              {"tenant", tenant},
              {"tenant_key_sha256", HexEncode(crypto::Sha256(tenant_key))},
              {"not_before", FormatRfc3339(FromUnixSeconds(not_before))},
              {"not_after", FormatRfc3339(FromUnixSeconds(not_after))}};
  if (!actor.empty()) {
    detail["by"] = actor;
  }
  for (const std::string& serial : serials) {
    ASSIGN_OR_RETURN(auto matches,
                     db_->Prepare("SELECT d.id FROM devices d WHERE d.serial = ? AND NOT EXISTS "
                                  "(SELECT 1 FROM departures p WHERE p.device_id = d.id AND "
                                  "p.kind IN ('transferred', 'decommissioned'))"));
    matches.BindAll(serial);
    ASSIGN_OR_RETURN(bool found, matches.Step());
    if (!found) {
      return MakeError(ErrorCode::kNotFound, "no device " + serial + " on this site");
    }
    int64_t device_id = matches.Int(0);
    ASSIGN_OR_RETURN(auto link, db_->Prepare("INSERT INTO delegated_devices(delegation_id, "
                                             "device_id) VALUES (?,?)"));
    RETURN_IF_ERROR(link.BindAll(id, device_id).Run());
    RETURN_IF_ERROR(audit_.Append("delegation.granted", store::DeviceSubject(serial), detail));
  }
  RETURN_IF_ERROR(tx.Commit());
  return id;
}

Status SiteStore::RevokeDelegation(int64_t id, const std::string& actor) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto revoke, db_->Prepare("UPDATE delegations SET revoked_at = ? "
                                             "WHERE id = ? AND revoked_at = 0"));
  RETURN_IF_ERROR(revoke.BindAll(ToUnixSeconds(clock_.Now()), id).Run());
  if (db_->Changes() == 0) {
    return MakeError(ErrorCode::kNotFound,
                     "no delegation " + std::to_string(id) + " in force to revoke");
  }
  ASSIGN_OR_RETURN(auto devices, db_->Prepare("SELECT d.serial FROM delegated_devices g JOIN "
                                              "devices d ON d.id = g.device_id "
                                              "WHERE g.delegation_id = ?"));
  devices.BindAll(id);
  while (true) {
    ASSIGN_OR_RETURN(bool row, devices.Step());
    if (!row) {
      break;
    }
    Json detail{{"delegation", id}};
    if (!actor.empty()) {
      detail["by"] = actor;
    }
    RETURN_IF_ERROR(
        audit_.Append("delegation.revoked", store::DeviceSubject(devices.Text(0)), detail));
  }
  return tx.Commit();
}

Result<std::vector<ownership::Delegation>> SiteStore::ListDelegations() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT id, tenant, tenant_key, not_before, "
                                            "not_after, revoked_at, last_request_at "
                                            "FROM delegations ORDER BY id"));
  std::vector<ownership::Delegation> list;
  while (true) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      break;
    }
    ownership::Delegation delegation;
    delegation.id = query.Int(0);
    delegation.tenant = query.Text(1);
    delegation.tenant_key = query.Blob(2);
    delegation.not_before = query.Int(3);
    delegation.not_after = query.Int(4);
    delegation.revoked_at = query.Int(5);
    delegation.last_request_at = query.Int(6);
    list.push_back(std::move(delegation));
  }
  ASSIGN_OR_RETURN(auto devices, db_->Prepare("SELECT l.delegation_id, d.serial FROM "
                                              "delegated_devices l JOIN devices d ON "
                                              "d.id = l.device_id"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, devices.Step());
    if (!row) {
      return list;
    }
    for (ownership::Delegation& delegation : list) {
      if (delegation.id == devices.Int(0)) {
        delegation.devices.insert(devices.Text(1));
      }
    }
  }
}

Status SiteStore::RecordTenantRequest(int64_t id, int64_t issued_at) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto update, db_->Prepare("UPDATE delegations SET last_request_at = ? "
                                             "WHERE id = ? AND last_request_at < ?"));
  RETURN_IF_ERROR(update.BindAll(issued_at, id, issued_at).Run());
  if (db_->Changes() == 0) {
    return MakeError(ErrorCode::kPermissionDenied, "replayed tenant request");
  }
  return OkStatus();
}

}  // namespace concierge::registrar
