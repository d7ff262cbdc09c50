#include "registrar/site_store.h"

#include <array>

#include "store/audit_log.h"
#include "store/open_database.h"

namespace concierge::registrar {
namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE makers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  ca_der BLOB NOT NULL UNIQUE,
  approval TEXT NOT NULL CHECK (approval IN ('auto', 'manual')),
  added_at INTEGER NOT NULL
);
CREATE TABLE devices (
  id INTEGER PRIMARY KEY,
  maker_id INTEGER NOT NULL REFERENCES makers(id),
  serial TEXT NOT NULL,
  idevid_der BLOB NOT NULL,
  masa_url TEXT NOT NULL,
  mud_url TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'vouchered', 'enrolled')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (maker_id, serial)
);
CREATE TABLE pledge_nonces (
  maker_id INTEGER NOT NULL REFERENCES makers(id),
  serial TEXT NOT NULL,
  nonce BLOB NOT NULL,
  PRIMARY KEY (maker_id, serial, nonce)
);
CREATE TABLE vouchers (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices(id),
  voucher_cms BLOB NOT NULL,
  nonce BLOB NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE TABLE certificates (
  serial TEXT PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices(id),
  kind TEXT NOT NULL,
  der BLOB NOT NULL,
  not_after INTEGER NOT NULL,
  issued_at INTEGER NOT NULL
);
CREATE INDEX certificates_device ON certificates(device_id);
CREATE TABLE telemetry (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices(id),
  kind TEXT NOT NULL,
  status INTEGER NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL
);
)sql";

// The device queries look up each device's latest telemetry and vouchers.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE INDEX telemetry_device ON telemetry(device_id, kind, id);
CREATE INDEX vouchers_device ON vouchers(device_id);
)sql";

// The address a device enrolled from, for the MUD manager's policy.
constexpr std::string_view kSchemaV3 = R"sql(
ALTER TABLE devices ADD COLUMN address TEXT NOT NULL DEFAULT '';
)sql";

// Devices leaving or gone (transfer, decommission), and the certificates that revoked.
constexpr std::string_view kSchemaV4 = R"sql(
CREATE TABLE departures (
  device_id INTEGER PRIMARY KEY REFERENCES devices(id),
  kind TEXT NOT NULL CHECK (kind IN ('leaving', 'retiring', 'transferred', 'decommissioned')),
  registrar_url TEXT NOT NULL DEFAULT '',
  chain BLOB NOT NULL DEFAULT x'',
  at INTEGER NOT NULL
);
CREATE TABLE revocations (
  serial TEXT PRIMARY KEY REFERENCES certificates(serial),
  revoked_at INTEGER NOT NULL
);
CREATE TABLE crl_numbers (
  number INTEGER PRIMARY KEY,
  issued_at INTEGER NOT NULL
);
)sql";

// Tenants: time-bound delegations of some devices to a tenant key.
constexpr std::string_view kSchemaV5 = R"sql(
CREATE TABLE delegations (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  tenant_key BLOB NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  last_request_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE delegated_devices (
  delegation_id INTEGER NOT NULL REFERENCES delegations(id),
  device_id INTEGER NOT NULL REFERENCES devices(id),
  PRIMARY KEY (delegation_id, device_id)
);
)sql";

// Issued or confirmed: when the device first used each certificate. Certificates issued before
// this was recorded count as confirmed when they were issued.
constexpr std::string_view kSchemaV6 = R"sql(
ALTER TABLE certificates ADD COLUMN confirmed_at INTEGER NOT NULL DEFAULT 0;
UPDATE certificates SET confirmed_at = issued_at;
)sql";

// A device's latest certificate is found by walking this index backwards (issued_at, then the
// rowid every index ends with), so the device queries sort nothing; sorting in a temporary
// B-tree for each of their subqueries cost more than the rest of an enrollment's SQL.
constexpr std::string_view kSchemaV7 = R"sql(
CREATE INDEX certificates_latest ON certificates(device_id, issued_at);
DROP INDEX certificates_device;
)sql";

// The certificate inventory reads certificates by expiry.
constexpr std::string_view kSchemaV8 = R"sql(
CREATE INDEX certificates_expiry ON certificates(not_after);
)sql";

constexpr std::array<std::string_view, 9> kMigrations = {store::kAuditSchema, kSchemaV1, kSchemaV2,
                                                         kSchemaV3,           kSchemaV4, kSchemaV5,
                                                         kSchemaV6,           kSchemaV7, kSchemaV8};

constexpr std::string_view kDeviceColumns = R"sql(
  SELECT d.id, d.maker_id, m.name, d.serial,
         CASE WHEN d.state = 'enrolled' AND coalesce((SELECT confirmed_at FROM certificates c
              WHERE c.device_id = d.id ORDER BY issued_at DESC, rowid DESC LIMIT 1), 0) = 0
              THEN 'issued' ELSE d.state END,
         d.masa_url, d.mud_url, d.created_at, d.updated_at,
         (SELECT serial FROM certificates c WHERE c.device_id = d.id
            ORDER BY issued_at DESC, rowid DESC LIMIT 1),
         (SELECT not_after FROM certificates c WHERE c.device_id = d.id
            ORDER BY issued_at DESC, rowid DESC LIMIT 1),
         (SELECT CASE WHEN status <> 0 THEN 'ok' ELSE 'failed: ' || reason END FROM telemetry t
            WHERE t.device_id = d.id AND t.kind = 'enrollstatus' ORDER BY id DESC LIMIT 1),
         d.address,
         coalesce((SELECT kind FROM departures p WHERE p.device_id = d.id), ''),
         coalesce((SELECT confirmed_at FROM certificates c WHERE c.device_id = d.id
            ORDER BY issued_at DESC, rowid DESC LIMIT 1), 0)
  FROM devices d JOIN makers m ON m.id = d.maker_id
)sql";

DeviceRecord ReadDevice(const store::Statement& row) {
  DeviceRecord device;
  device.id = row.Int(0);
  device.maker_id = row.Int(1);
  device.maker_name = row.Text(2);
  device.serial = row.Text(3);
  device.state = row.Text(4);
  device.masa_url = row.Text(5);
  device.mud_url = row.Text(6);
  device.created_at = row.Int(7);
  device.updated_at = row.Int(8);
  device.ldevid_serial = row.Text(9);
  device.ldevid_not_after = row.Int(10);
  device.enroll_status = row.Text(11);
  device.address = row.Text(12);
  device.departure = row.Text(13);
  device.ldevid_confirmed_at = row.Int(14);
  return device;
}

std::string ApprovalName(Approval approval) {
  return approval == Approval::kAuto ? "auto" : "manual";
}

}  // namespace

Result<int64_t> SiteStore::MakersVersion() {
  std::lock_guard lock(mutex_);
  // Makers are only ever added, so the newest id identifies the set.
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT coalesce(max(id), 0) FROM makers"));
  ASSIGN_OR_RETURN(bool row, query.Step());
  return row ? query.Int(0) : 0;
}

Result<std::unique_ptr<SiteStore>> SiteStore::Open(const std::filesystem::path& path,
                                                   const Clock& clock) {
  ASSIGN_OR_RETURN(auto db, store::OpenDatabase(path.string()));
  ASSIGN_OR_RETURN_CTX(auto store, Open(std::move(db), clock), path.string());
  return store;
}

Result<std::unique_ptr<SiteStore>> SiteStore::Open(std::unique_ptr<store::Database> db,
                                                   const Clock& clock) {
  RETURN_IF_ERROR(store::Migrate(*db, kMigrations));
  return std::unique_ptr<SiteStore>(new SiteStore(std::move(db), clock));
}

Result<int64_t> SiteStore::AddTrustedMaker(const std::string& name, const crypto::Certificate& ca,
                                           Approval approval) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO makers(name, ca_der, approval, added_at)"
                                             " VALUES (?,?,?,?) RETURNING id"));
  insert.BindAll(name, ca.Der(), ApprovalName(approval), ToUnixSeconds(clock_.Now()));
  auto inserted = insert.RunReturningId();
  if (!inserted) {
    if (inserted.error().code() == ErrorCode::kAlreadyExists) {
      return MakeError(ErrorCode::kAlreadyExists,
                       "maker CA \"" + ca.SubjectText() + "\" is already trusted");
    }
    return std::unexpected(inserted.error());
  }
  int64_t id = *inserted;
  RETURN_IF_ERROR(audit_.Append("maker.trusted", "maker:" + std::to_string(id),
                                Json{{"name", name},
                                     {"ca_subject", ca.SubjectText()},
                                     {"approval", ApprovalName(approval)},
                                     {"ca_sha256", HexEncode(crypto::Sha256(ca.Der()))}}));
  RETURN_IF_ERROR(tx.Commit());
  return id;
}

Result<std::vector<TrustedMaker>> SiteStore::ListMakers() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT id, name, ca_der, approval FROM makers"));
  std::vector<TrustedMaker> makers;
  while (true) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      return makers;
    }
    ASSIGN_OR_RETURN(auto ca, crypto::Certificate::FromDer(query.Blob(2)));
    makers.push_back(TrustedMaker{query.Int(0), query.Text(1), ca,
                                  query.Text(3) == "auto" ? Approval::kAuto : Approval::kManual});
  }
}

Result<std::optional<DeviceRecord>> SiteStore::QueryOneDevice(std::string_view where, int64_t key,
                                                              std::string_view text_key) {
  ASSIGN_OR_RETURN(auto query, db_->Prepare(std::string(kDeviceColumns) + std::string(where)));
  if (!text_key.empty()) {
    query.BindAll(key, text_key);
  } else {
    query.BindAll(key);
  }
  ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) {
    return std::optional<DeviceRecord>();
  }
  return ReadDevice(query);
}

Result<int64_t> SiteStore::InsertDevice(const SeenDevice& seen, std::string_view state) {
  int64_t now = ToUnixSeconds(clock_.Now());
  ASSIGN_OR_RETURN(auto insert,
                   db_->Prepare("INSERT INTO devices(maker_id, serial, idevid_der, masa_url, "
                                "mud_url, state, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)"
                                " RETURNING id"));
  ASSIGN_OR_RETURN(int64_t id, insert
                                   .BindAll(seen.maker_id, seen.serial, seen.idevid_der,
                                            seen.masa_url, seen.mud_url, state, now, now)
                                   .RunReturningId());
  RETURN_IF_ERROR(audit_.Append("device.seen", store::DeviceSubject(seen.serial),
                                Json{{"serial", seen.serial},
                                     {"maker_id", seen.maker_id},
                                     {"state", state},
                                     {"masa_url", seen.masa_url},
                                     {"mud_url", seen.mud_url}}));
  return id;
}

Result<DeviceRecord> SiteStore::AddPendingDevice(const SeenDevice& seen) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto existing, QueryOneDevice(" WHERE d.maker_id = ? AND d.serial = ?",
                                                 seen.maker_id, seen.serial));
  if (existing) {
    return *existing;
  }
  ASSIGN_OR_RETURN(int64_t id, InsertDevice(seen, kStatePending));
  RETURN_IF_ERROR(tx.Commit());
  ASSIGN_OR_RETURN(auto created, QueryOneDevice(" WHERE d.id = ?", id, ""));
  if (!created) {
    return MakeError(ErrorCode::kInternal, "device " + std::to_string(id) + " vanished");
  }
  return *created;
}

Status SiteStore::SetState(int64_t device_id, std::string_view state) {
  ASSIGN_OR_RETURN(auto update,
                   db_->Prepare("UPDATE devices SET state = ?, updated_at = ? WHERE id = ?"));
  return update.BindAll(state, ToUnixSeconds(clock_.Now()), device_id).Run();
}

Status SiteStore::ApproveDevice(int64_t device_id, const std::string& actor) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto device, QueryOneDevice(" WHERE d.id = ?", device_id, ""));
  if (!device) {
    return MakeError(ErrorCode::kNotFound, "no device with id " + std::to_string(device_id));
  }
  if (device->state != kStatePending) {
    return MakeError(ErrorCode::kFailedPrecondition, "device " + std::to_string(device_id) +
                                                         " is " + device->state + ", not pending");
  }
  RETURN_IF_ERROR(SetState(device_id, kStateApproved));
  RETURN_IF_ERROR(audit_.Append("device.approved", store::DeviceSubject(device->serial),
                                Json{{"serial", device->serial}, {"by", actor}}));
  return tx.Commit();
}

Result<bool> SiteStore::PledgeNonceUsed(int64_t maker_id, const std::string& serial,
                                        const Bytes& nonce) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT 1 FROM pledge_nonces WHERE maker_id = ? AND "
                                            "serial = ? AND nonce = ?"));
  query.BindAll(maker_id, serial, nonce);
  return query.Step();
}

Status SiteStore::RecordVoucher(const SeenDevice& seen, const Bytes& voucher_cms,
                                const Bytes& nonce) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto nonce_insert, db_->Prepare("INSERT INTO pledge_nonces(maker_id, serial, "
                                                   "nonce) VALUES (?,?,?)"));
  if (auto status = nonce_insert.BindAll(seen.maker_id, seen.serial, nonce).Run(); !status) {
    if (status.error().code() == ErrorCode::kAlreadyExists) {
      return MakeError(ErrorCode::kSecurity,
                       "replayed pledge voucher-request: this nonce was already used");
    }
    return status;
  }
  ASSIGN_OR_RETURN(auto existing, QueryOneDevice(" WHERE d.maker_id = ? AND d.serial = ?",
                                                 seen.maker_id, seen.serial));
  int64_t device_id = 0;
  if (existing) {
    device_id = existing->id;
  } else {
    ASSIGN_OR_RETURN(device_id, InsertDevice(seen, kStateApproved));
  }
  ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO vouchers(device_id, voucher_cms, nonce,"
                                             " received_at) VALUES (?,?,?,?)"));
  RETURN_IF_ERROR(insert.BindAll(device_id, voucher_cms, nonce, ToUnixSeconds(clock_.Now())).Run());
  RETURN_IF_ERROR(SetState(device_id, kStateVouchered));
  ASSIGN_OR_RETURN(auto returned, db_->Prepare("DELETE FROM departures WHERE device_id = ?"));
  RETURN_IF_ERROR(returned.BindAll(device_id).Run());
  RETURN_IF_ERROR(audit_.Append("voucher.received", store::DeviceSubject(seen.serial),
                                Json{{"nonce", Base64Encode(nonce)},
                                     {"voucher_sha256", HexEncode(crypto::Sha256(voucher_cms))}}));
  return tx.Commit();
}

Status SiteStore::RecordCertificate(int64_t device_id, const crypto::Certificate& certificate,
                                    std::string_view kind, const std::string& address) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  int64_t now = ToUnixSeconds(clock_.Now());
  ASSIGN_OR_RETURN(Json unconfirmed, RevokeCertificates(device_id, "confirmed_at = 0", now, ""));
  ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO certificates(serial, device_id, kind, "
                                             "der, not_after, issued_at) VALUES (?,?,?,?,?,?)"));
  RETURN_IF_ERROR(insert
                      .BindAll(certificate.SerialHex(), device_id, kind, certificate.Der(),
                               ToUnixSeconds(certificate.NotAfter()), now)
                      .Run());
  RETURN_IF_ERROR(SetState(device_id, kStateEnrolled));
  if (!address.empty()) {
    ASSIGN_OR_RETURN(auto update, db_->Prepare("UPDATE devices SET address=? WHERE id=?"));
    RETURN_IF_ERROR(update.BindAll(address, device_id).Run());
  }
  ASSIGN_OR_RETURN(std::string subject, DeviceSubjectOf(device_id));
  RETURN_IF_ERROR(audit_.Append("certificate.issued", subject,
                                Json{{"kind", kind},
                                     {"serial", certificate.SerialHex()},
                                     {"subject", certificate.SubjectText()},
                                     {"not_after", FormatRfc3339(certificate.NotAfter())},
                                     {"address", address},
                                     {"revoked_unconfirmed", unconfirmed}}));
  return tx.Commit();
}

Result<Json> SiteStore::RevokeCertificates(int64_t device_id, std::string_view condition,
                                           int64_t now, const std::string& except) {
  std::string which = "device_id = ? AND serial != ? AND " + std::string(condition) +
                      " AND serial NOT IN (SELECT serial FROM revocations)";
  ASSIGN_OR_RETURN(auto select, db_->Prepare("SELECT serial FROM certificates WHERE " + which +
                                             " ORDER BY rowid"));
  select.BindAll(device_id, except);
  Json serials = Json::array();
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) {
      break;
    }
    serials.push_back(select.Text(0));
  }
  if (!serials.empty()) {
    ASSIGN_OR_RETURN(auto revoke,
                     db_->Prepare("INSERT INTO revocations(serial, revoked_at) SELECT serial, ? "
                                  "FROM certificates WHERE " +
                                  which));
    RETURN_IF_ERROR(revoke.BindAll(now, device_id, except).Run());
  }
  return serials;
}

Status SiteStore::ConfirmCertificate(const std::string& serial_hex, std::string_view how) {
  std::lock_guard lock(mutex_);
  int64_t device_id = 0;
  int64_t rowid = 0;
  {
    ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT device_id, confirmed_at, rowid "
                                              "FROM certificates WHERE serial = ?"));
    query.BindAll(serial_hex);
    ASSIGN_OR_RETURN(bool found, query.Step());
    if (!found) {
      return MakeError(ErrorCode::kNotFound, "certificate " + serial_hex + " was not issued here");
    }
    if (query.Int(1) != 0) {
      return OkStatus();  // the common case: a device using its confirmed LDevID writes nothing
    }
    device_id = query.Int(0);
    rowid = query.Int(2);
  }
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  int64_t now = ToUnixSeconds(clock_.Now());
  ASSIGN_OR_RETURN(auto confirm, db_->Prepare("UPDATE certificates SET confirmed_at = ? "
                                              "WHERE serial = ? AND confirmed_at = 0"));
  RETURN_IF_ERROR(confirm.BindAll(now, serial_hex).Run());
  if (db_->Changes() == 0) {
    return OkStatus();  // confirmed meanwhile by another request
  }
  ASSIGN_OR_RETURN(
      Json superseded,
      RevokeCertificates(device_id, "rowid < " + std::to_string(rowid), now, serial_hex));
  ASSIGN_OR_RETURN(std::string subject, DeviceSubjectOf(device_id));
  RETURN_IF_ERROR(audit_.Append(
      "certificate.confirmed", subject,
      Json{{"serial", serial_hex}, {"how", how}, {"revoked_superseded", superseded}}));
  return tx.Commit();
}

Status SiteStore::RecordTelemetry(int64_t device_id, std::string_view kind, bool status,
                                  const std::string& reason) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO telemetry(device_id, kind, status, "
                                             "reason, at) VALUES (?,?,?,?,?)"));
  RETURN_IF_ERROR(
      insert.BindAll(device_id, kind, status, reason, ToUnixSeconds(clock_.Now())).Run());
  ASSIGN_OR_RETURN(std::string subject, DeviceSubjectOf(device_id));
  RETURN_IF_ERROR(audit_.Append("telemetry." + std::string(kind), subject,
                                Json{{"status", status}, {"reason", reason}}));
  return tx.Commit();
}

Result<std::string> SiteStore::DeviceSubjectOf(int64_t device_id) {
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT serial FROM devices WHERE id = ?"));
  query.BindAll(device_id);
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return MakeError(ErrorCode::kNotFound, "no device " + std::to_string(device_id));
  }
  return store::DeviceSubject(query.Text(0));
}

Result<std::optional<DeviceRecord>> SiteStore::FindDevice(int64_t maker_id,
                                                          const std::string& serial) {
  std::lock_guard lock(mutex_);
  return QueryOneDevice(" WHERE d.maker_id = ? AND d.serial = ?", maker_id, serial);
}

Result<std::vector<store::AuditRecord>> SiteStore::ReadAudit(std::string_view subject) {
  std::lock_guard lock(mutex_);
  return store::ReadAuditEvents(*db_, subject);
}

Result<store::AuditPage> SiteStore::ReadAuditPage(
    std::string_view subject, const std::optional<std::vector<std::string>>& within, size_t offset,
    size_t limit) {
  std::lock_guard lock(mutex_);
  return store::ReadAuditPage(*db_, subject, within, offset, limit);
}

Result<CertificatePage> SiteStore::Certificates(
    int64_t now, int64_t before, size_t offset, size_t limit,
    const std::optional<std::vector<std::string>>& only) {
  std::string where = " WHERE c.serial NOT IN (SELECT serial FROM revocations)";
  const std::vector<std::string> devices = only.value_or(std::vector<std::string>());
  if (only) {
    where += " AND " + store::InList("d.serial", devices.size());
  }
  constexpr int64_t kDay = 86400;
  std::lock_guard lock(mutex_);
  CertificatePage page;
  ASSIGN_OR_RETURN(
      auto forecast,
      db_->Prepare(
          "SELECT COALESCE(SUM(CASE WHEN c.not_after <= ? THEN 1 ELSE 0 END), 0),"
          " COALESCE(SUM(CASE WHEN c.not_after > ? AND c.not_after <= ? THEN 1 ELSE 0 END), 0),"
          " COALESCE(SUM(CASE WHEN c.not_after > ? AND c.not_after <= ? THEN 1 ELSE 0 END), 0),"
          " COALESCE(SUM(CASE WHEN c.not_after > ? AND c.not_after <= ? THEN 1 ELSE 0 END), 0),"
          " COALESCE(SUM(CASE WHEN c.not_after > ? THEN 1 ELSE 0 END), 0)"
          " FROM certificates c JOIN devices d ON d.id = c.device_id" +
          where));
  forecast.BindAll(now, now, now + 7 * kDay, now, now + 30 * kDay, now, now + 90 * kDay, now);
  forecast.BindTexts(9, devices);
  ASSIGN_OR_RETURN(bool counted, forecast.Step());
  if (counted) {
    page.forecast = {forecast.Int(0), forecast.Int(1), forecast.Int(2), forecast.Int(3),
                     forecast.Int(4)};
  }
  std::string window = before > 0 ? " AND c.not_after <= " + std::to_string(before) : "";
  ASSIGN_OR_RETURN(auto count, db_->Prepare("SELECT COUNT(*) FROM certificates c JOIN devices d"
                                            " ON d.id = c.device_id" +
                                            where + window));
  count.BindTexts(1, devices);
  ASSIGN_OR_RETURN(bool total, count.Step());
  page.total = total ? static_cast<size_t>(count.Int(0)) : 0;
  ASSIGN_OR_RETURN(
      auto query,
      db_->Prepare("SELECT c.serial, d.serial, c.kind, c.der, c.not_after, c.issued_at,"
                   " c.confirmed_at FROM certificates c JOIN devices d ON d.id = c.device_id" +
                   where + window + " ORDER BY c.not_after, c.serial LIMIT " +
                   std::to_string(limit) + " OFFSET " + std::to_string(offset)));
  query.BindTexts(1, devices);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      return page;
    }
    page.certificates.push_back({query.Text(0), query.Text(1), query.Text(2), query.Blob(3),
                                 query.Int(4), query.Int(5), query.Int(6), 0});
  }
}

Result<std::optional<DeviceRecord>> SiteStore::FindNewestDevice(const std::string& maker_name,
                                                                const std::string& serial) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query,
                   db_->Prepare(std::string(kDeviceColumns) + " WHERE m.name = ? AND d.serial = ?"
                                                              " ORDER BY d.id DESC LIMIT 1"));
  query.BindAll(maker_name, serial);
  ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) {
    return std::optional<DeviceRecord>();
  }
  return ReadDevice(query);
}

Result<std::optional<DeviceRecord>> SiteStore::FindDeviceByCertificate(
    const std::string& serial_hex) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT device_id FROM certificates WHERE serial = ?"));
  query.BindAll(serial_hex);
  ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) {
    return std::optional<DeviceRecord>();
  }
  return QueryOneDevice(" WHERE d.id = ?", query.Int(0), "");
}

Result<std::vector<DeviceRecord>> SiteStore::ListDevices() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare(std::string(kDeviceColumns) + " ORDER BY d.id"));
  std::vector<DeviceRecord> devices;
  while (true) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      return devices;
    }
    devices.push_back(ReadDevice(query));
  }
}

}  // namespace concierge::registrar
