#include "crypto/certificate.h"
#include "registrar/site_store.h"
#include "store/audit_log.h"

namespace concierge::registrar {
namespace {}  // namespace

Result<DeviceRecord> SiteStore::ActiveDevice(int64_t device_id) {
  ASSIGN_OR_RETURN(auto device, QueryOneDevice(" WHERE d.id = ?", device_id, ""));
  if (!device) {
    return MakeError(ErrorCode::kNotFound, "no device " + std::to_string(device_id));
  }
  if (!device->Active()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "device " + device->serial + " is already " + device->departure);
  }
  return std::move(*device);
}

namespace {

// WithActor adds who asked to an event's detail, when someone did.
Json WithActor(Json detail, const std::string& actor) {
  if (!actor.empty()) {
    detail["by"] = actor;
  }
  return detail;
}

}  // namespace

Status SiteStore::RecordExport(int64_t device_id, const std::string& registrar_url,
                               const Bytes& chain, const std::string& new_owner,
                               const std::string& actor) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(DeviceRecord device, ActiveDevice(device_id));
  if (!device.HoldsLdevid()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "device " + device.serial + " is " + device.state +
                         ", not enrolled: it has no credentials to move with");
  }
  ASSIGN_OR_RETURN(auto upsert,
                   db_->Prepare("INSERT INTO departures(device_id, kind, registrar_url, chain, at) "
                                "VALUES (?,?,?,?,?) ON CONFLICT(device_id) DO UPDATE SET "
                                "registrar_url = excluded.registrar_url, chain = excluded.chain, "
                                "at = excluded.at"));
  RETURN_IF_ERROR(
      upsert
          .BindAll(device_id, kDepartureLeaving, registrar_url, chain, ToUnixSeconds(clock_.Now()))
          .Run());
  RETURN_IF_ERROR(audit_.Append("transfer.exported", store::DeviceSubject(device.serial),
                                WithActor(Json{{"serial", device.serial},
                                               {"new_owner", new_owner},
                                               {"registrar", registrar_url},
                                               {"chain_sha256", HexEncode(crypto::Sha256(chain))}},
                                          actor)));
  return tx.Commit();
}

Status SiteStore::RecordRetiring(int64_t device_id, const std::string& actor) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(DeviceRecord device, ActiveDevice(device_id));
  ASSIGN_OR_RETURN(auto upsert,
                   db_->Prepare("INSERT INTO departures(device_id, kind, registrar_url, chain, at) "
                                "VALUES (?,?,'',x'',?) ON CONFLICT(device_id) DO UPDATE SET "
                                "kind = excluded.kind, registrar_url = '', chain = x'', "
                                "at = excluded.at"));
  RETURN_IF_ERROR(upsert.BindAll(device_id, kDepartureRetiring, ToUnixSeconds(clock_.Now())).Run());
  RETURN_IF_ERROR(audit_.Append("device.retiring", store::DeviceSubject(device.serial),
                                WithActor(Json{{"serial", device.serial}}, actor)));
  return tx.Commit();
}

Result<std::optional<Departure>> SiteStore::FindDeparture(int64_t device_id) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT kind, registrar_url, chain, at FROM departures "
                                            "WHERE device_id = ?"));
  query.BindAll(device_id);
  ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) {
    return std::optional<Departure>();
  }
  return Departure{device_id, query.Text(0), query.Text(1), query.Blob(2), query.Int(3)};
}

Status SiteStore::RecordDeparture(int64_t device_id, std::string_view kind,
                                  const std::string& reason, const std::string& actor) {
  if (kind != kDepartureTransferred && kind != kDepartureDecommissioned) {
    return MakeError(ErrorCode::kInvalidArgument, "a device cannot depart as " + std::string(kind));
  }
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(DeviceRecord device, ActiveDevice(device_id));
  int64_t now = ToUnixSeconds(clock_.Now());
  ASSIGN_OR_RETURN(auto upsert, db_->Prepare("INSERT INTO departures(device_id, kind, at) "
                                             "VALUES (?,?,?) ON CONFLICT(device_id) DO UPDATE SET "
                                             "kind = excluded.kind, at = excluded.at"));
  RETURN_IF_ERROR(upsert.BindAll(device_id, kind, now).Run());
  ASSIGN_OR_RETURN(auto revoke,
                   db_->Prepare("INSERT OR IGNORE INTO revocations(serial, revoked_at) "
                                "SELECT serial, ? FROM certificates WHERE device_id = ?"));
  RETURN_IF_ERROR(revoke.BindAll(now, device_id).Run());
  ASSIGN_OR_RETURN(auto revoked, db_->Prepare("SELECT c.serial FROM certificates c JOIN "
                                              "revocations r ON r.serial = c.serial "
                                              "WHERE c.device_id = ? ORDER BY c.issued_at"));
  revoked.BindAll(device_id);
  Json serials = Json::array();
  while (true) {
    ASSIGN_OR_RETURN(bool row, revoked.Step());
    if (!row) {
      break;
    }
    serials.push_back(revoked.Text(0));
  }
  RETURN_IF_ERROR(audit_.Append(
      "device." + std::string(kind), store::DeviceSubject(device.serial),
      WithActor(Json{{"serial", device.serial}, {"reason", reason}, {"revoked", serials}}, actor)));
  return tx.Commit();
}

Result<std::vector<Revocation>> SiteStore::ListRevocations() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query,
                   db_->Prepare("SELECT serial, revoked_at FROM revocations ORDER BY serial"));
  std::vector<Revocation> list;
  while (true) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      return list;
    }
    list.push_back({query.Text(0), query.Int(1)});
  }
}

Result<bool> SiteStore::IsRevoked(const std::string& serial_hex) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT 1 FROM revocations WHERE serial = ?"));
  query.BindAll(serial_hex);
  return query.Step();
}

Status SiteStore::RecordEvent(std::string_view kind, const std::string& subject,
                              const Json& detail) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  RETURN_IF_ERROR(audit_.Append(kind, subject, detail));
  return tx.Commit();
}

Result<int64_t> SiteStore::NextCrlNumber() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto insert,
                   db_->Prepare("INSERT INTO crl_numbers(issued_at) VALUES (?) RETURNING number"));
  return insert.BindAll(ToUnixSeconds(clock_.Now())).RunReturningId();
}

}  // namespace concierge::registrar
