#include "masa/maker_store.h"

#include <array>

#include "store/audit_log.h"
#include "store/open_database.h"

namespace concierge::masa {
namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE devices (
  serial TEXT PRIMARY KEY,
  idevid_der BLOB NOT NULL,
  mud_url TEXT NOT NULL DEFAULT '',
  key_generated_by TEXT NOT NULL,
  key_store TEXT NOT NULL,
  key_extractable INTEGER NOT NULL,
  minted_at INTEGER NOT NULL,
  owner_domain TEXT NOT NULL DEFAULT '',
  owner_since INTEGER,
  sold_to TEXT NOT NULL DEFAULT ''
);
CREATE TABLE voucher_log (
  id INTEGER PRIMARY KEY,
  serial TEXT NOT NULL REFERENCES devices(serial),
  at INTEGER NOT NULL,
  domain_id TEXT NOT NULL,
  nonce BLOB,
  assertion TEXT NOT NULL,
  UNIQUE (serial, nonce)
);
)sql";

// Each device's ownership chain (ownership/chain.h) and what its owner of record has asked for.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE ownership (
  serial TEXT PRIMARY KEY REFERENCES devices(serial),
  chain BLOB NOT NULL,
  stolen INTEGER NOT NULL DEFAULT 0,
  last_statement_at INTEGER NOT NULL DEFAULT 0,
  escrow_statement BLOB
);
CREATE TABLE escrow_approvals (
  serial TEXT NOT NULL REFERENCES devices(serial),
  agent BLOB NOT NULL,
  new_owner BLOB NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (serial, agent)
);
)sql";

constexpr std::array<std::string_view, 3> kMigrations = {store::kAuditSchema, kSchemaV1, kSchemaV2};

}  // namespace

Result<std::unique_ptr<MakerStore>> MakerStore::Open(const std::filesystem::path& path,
                                                     const Clock& clock) {
  ASSIGN_OR_RETURN(auto db, store::OpenDatabase(path.string()));
  ASSIGN_OR_RETURN_CTX(auto store, Open(std::move(db), clock), path.string());
  return store;
}

Result<std::unique_ptr<MakerStore>> MakerStore::Open(std::unique_ptr<store::Database> db,
                                                     const Clock& clock) {
  RETURN_IF_ERROR(store::Migrate(*db, kMigrations));
  return std::unique_ptr<MakerStore>(new MakerStore(std::move(db), clock));
}

Status MakerStore::AddMintedDevice(const crypto::Certificate& idevid, const std::string& mud_url,
                                   const crypto::KeyProvenance& provenance) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto insert,
                   db_->Prepare("INSERT INTO devices(serial, idevid_der, mud_url, key_generated_by,"
                                " key_store, key_extractable, minted_at) VALUES (?,?,?,?,?,?,?)"));
  std::string serial = idevid.SubjectSerialNumber();
  insert.BindAll(serial, idevid.Der(), mud_url, provenance.generated_by, provenance.store,
                 provenance.extractable, ToUnixSeconds(clock_.Now()));
  if (auto status = insert.Run(); !status) {
    if (status.error().code() == ErrorCode::kAlreadyExists) {
      return MakeError(ErrorCode::kAlreadyExists, "serial " + serial + " was already minted");
    }
    return status;
  }
  RETURN_IF_ERROR(audit_.Append("device.minted", serial,
                                Json{{"certificate_serial", idevid.SerialHex()},
                                     {"mud_url", mud_url},
                                     {"key",
                                      {{"generated_by", provenance.generated_by},
                                       {"store", provenance.store},
                                       {"extractable", provenance.extractable}}}}));
  return tx.Commit();
}

Result<std::optional<MintedDevice>> MakerStore::FindDevice(const std::string& serial) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT serial, idevid_der, mud_url, owner_domain,"
                                            " sold_to FROM devices WHERE serial = ?"));
  query.BindAll(serial);
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return std::optional<MintedDevice>();
  }
  return MintedDevice{query.Text(0), query.Blob(1), query.Text(2), query.Text(3), query.Text(4)};
}

Status MakerStore::RecordSale(const std::string& serial, const std::string& domain_id) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto owned, db_->Prepare("SELECT owner_domain FROM devices WHERE serial = ?"));
  owned.BindAll(serial);
  ASSIGN_OR_RETURN(bool known, owned.Step());
  if (known && !owned.Text(0).empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "device " + serial +
                         " has an owner of record; only that owner can transfer it (concierge "
                         "transfer export), or its escrow agents");
  }
  ASSIGN_OR_RETURN(auto update, db_->Prepare("UPDATE devices SET sold_to = ? WHERE serial = ?"));
  RETURN_IF_ERROR(update.BindAll(domain_id, serial).Run());
  if (db_->Changes() == 0) {
    return MakeError(ErrorCode::kNotFound, "no device with serial " + serial);
  }
  RETURN_IF_ERROR(audit_.Append("device.sold", serial, Json{{"to_domain", domain_id}}));
  return tx.Commit();
}

Status MakerStore::RecordVoucher(const std::string& serial, const std::string& domain_id,
                                 const Bytes& nonce, const std::string& assertion,
                                 const VoucherOwnership& ownership) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  if (ownership.chain_swap) {
    RETURN_IF_ERROR(SwapChainLocked(serial, *ownership.chain_swap));
  }
  ASSIGN_OR_RETURN(auto query,
                   db_->Prepare("SELECT owner_domain, sold_to FROM devices WHERE serial = ?"));
  query.BindAll(serial);
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return MakeError(ErrorCode::kNotFound, "device " + serial + " was not minted by this MASA");
  }
  std::string owner = query.Text(0);
  std::string sold_to = query.Text(1);
  if (owner.empty() && !sold_to.empty() && sold_to != domain_id && !ownership.owner_by_chain) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "device " + serial + " was sold to another domain");
  }
  bool transfer = !owner.empty() && owner != domain_id;
  if (transfer && sold_to != domain_id && !ownership.owner_by_chain) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "device " + serial +
                         " is owned by another domain and no sale record names "
                         "the requesting domain");
  }
  if (owner != domain_id) {
    ASSIGN_OR_RETURN(auto pin, db_->Prepare("UPDATE devices SET owner_domain = ?, owner_since = ?,"
                                            " sold_to = '' WHERE serial = ?"));
    RETURN_IF_ERROR(pin.BindAll(domain_id, ToUnixSeconds(clock_.Now()), serial).Run());
    RETURN_IF_ERROR(audit_.Append(transfer ? "device.owner-transferred" : "device.owner-pinned",
                                  serial, Json{{"domain", domain_id}, {"previous", owner}}));
  }
  ASSIGN_OR_RETURN(auto log, db_->Prepare("INSERT INTO voucher_log(serial, at, domain_id, nonce,"
                                          " assertion) VALUES (?,?,?,?,?)"));
  log.BindAll(serial, ToUnixSeconds(clock_.Now()), domain_id, nonce, assertion);
  if (nonce.empty()) {
    log.BindNull(4);
  }
  if (auto status = log.Run(); !status) {
    if (status.error().code() == ErrorCode::kAlreadyExists) {
      return MakeError(ErrorCode::kSecurity,
                       "replayed voucher request: this nonce was already used for " + serial);
    }
    return status;
  }
  RETURN_IF_ERROR(audit_.Append(
      "voucher.issued", serial,
      Json{{"domain", domain_id}, {"nonce", Base64Encode(nonce)}, {"assertion", assertion}}));
  return tx.Commit();
}

Result<std::vector<VoucherLogEntry>> MakerStore::VoucherLog(const std::string& serial) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT at, domain_id, nonce, assertion FROM "
                                            "voucher_log WHERE serial = ? ORDER BY id"));
  query.BindAll(serial);
  std::vector<VoucherLogEntry> entries;
  while (true) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      return entries;
    }
    entries.push_back(VoucherLogEntry{query.Int(0), query.Text(1), query.Blob(2), query.Text(3)});
  }
}

}  // namespace concierge::masa
