#include "mud/mud_store.h"

#include <algorithm>
#include <array>

#include "common/bytes.h"
#include "common/ip_network.h"
#include "store/audit_log.h"
#include "store/open_database.h"

namespace concierge::mud {
namespace {

// Devices were kept here in mud_devices until the device registry took them over; a database
// made since never has that table (registry/device_registry.cc moves an older one's rows).
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE mud_files (
  url TEXT PRIMARY KEY,
  body BLOB NOT NULL,
  signature BLOB NOT NULL,
  signer TEXT NOT NULL,
  fetched_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE mud_fetch_status (
  url TEXT PRIMARY KEY,
  attempted_at INTEGER NOT NULL,
  error TEXT NOT NULL
);
CREATE TABLE mud_signer_anchors (
  authority TEXT NOT NULL,
  anchor_der BLOB NOT NULL,
  added_at INTEGER NOT NULL,
  PRIMARY KEY (authority, anchor_der)
);
CREATE TABLE site_facts (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (kind, key, value)
);
CREATE TABLE dns_records (
  name TEXT PRIMARY KEY,
  addresses TEXT NOT NULL,
  resolved_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE applied_policy (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  ruleset TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  applied_at INTEGER NOT NULL
);
)sql";

constexpr std::array<std::string_view, 2> kMigrations = {store::kAuditSchema, kSchemaV1};

}  // namespace

Result<std::unique_ptr<MudStore>> MudStore::Open(const std::filesystem::path& path,
                                                 const Clock& clock) {
  ASSIGN_OR_RETURN(auto db, store::OpenDatabase(path.string()));
  ASSIGN_OR_RETURN_CTX(auto store, Open(std::move(db), clock), path.string());
  return store;
}

Result<std::unique_ptr<MudStore>> MudStore::Open(std::unique_ptr<store::Database> db,
                                                 const Clock& clock) {
  RETURN_IF_ERROR(store::MigrateComponent(*db, "mud", kMigrations));
  return std::unique_ptr<MudStore>(new MudStore(std::move(db), clock));
}

Result<std::optional<StoredMudFile>> MudStore::FindFile(const std::string& url) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT body, signature, signer, fetched_at, expires_at"
                                            " FROM mud_files WHERE url=?"));
  query.BindAll(url);
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return std::optional<StoredMudFile>();
  }
  Bytes body = query.Blob(0);
  return StoredMudFile{url,           std::string(body.begin(), body.end()),
                       query.Blob(1), query.Text(2),
                       query.Int(3),  query.Int(4)};
}

Status MudStore::StoreFile(const StoredMudFile& file, const std::string& sha256_hex,
                           const std::vector<std::string>& warnings) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto previous, db_->Prepare("SELECT body FROM mud_files WHERE url=?"));
  previous.BindAll(file.url);
  ASSIGN_OR_RETURN(bool had, previous.Step());
  Bytes body(file.body.begin(), file.body.end());
  bool changed = !had || previous.Blob(0) != body;
  ASSIGN_OR_RETURN(auto upsert,
                   db_->Prepare("INSERT INTO mud_files(url, body, signature, signer, fetched_at,"
                                " expires_at) VALUES (?,?,?,?,?,?) ON CONFLICT(url) DO UPDATE SET"
                                " body=excluded.body, signature=excluded.signature,"
                                " signer=excluded.signer, fetched_at=excluded.fetched_at,"
                                " expires_at=excluded.expires_at"));
  upsert.BindAll(file.url, body, file.signature, file.signer, file.fetched_at, file.expires_at);
  RETURN_IF_ERROR(upsert.Run());
  ASSIGN_OR_RETURN(auto status,
                   db_->Prepare("INSERT INTO mud_fetch_status(url, attempted_at, error)"
                                " VALUES (?,?,'') ON CONFLICT(url) DO UPDATE SET"
                                " attempted_at=excluded.attempted_at, error=''"));
  status.BindAll(file.url, file.fetched_at);
  RETURN_IF_ERROR(status.Run());
  if (changed) {
    Json detail{{"sha256", sha256_hex}, {"signer", file.signer}, {"expires_at", file.expires_at}};
    if (!warnings.empty()) {
      detail["warnings"] = warnings;
    }
    RETURN_IF_ERROR(audit_.Append("mud.file_accepted", "mud:" + file.url, detail));
  }
  return tx.Commit();
}

Status MudStore::RecordFetchFailure(const std::string& url, const std::string& reason) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto status,
                   db_->Prepare("INSERT INTO mud_fetch_status(url, attempted_at, error)"
                                " VALUES (?,?,?) ON CONFLICT(url) DO UPDATE SET"
                                " attempted_at=excluded.attempted_at,"
                                " error=excluded.error"));
  status.BindAll(url, ToUnixSeconds(clock_.Now()), reason);
  RETURN_IF_ERROR(status.Run());
  RETURN_IF_ERROR(audit_.Append("mud.file_refused", "mud:" + url, Json{{"reason", reason}}));
  return tx.Commit();
}

Result<std::optional<FetchStatus>> MudStore::FindFetchStatus(const std::string& url) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query,
                   db_->Prepare("SELECT attempted_at, error FROM mud_fetch_status WHERE url=?"));
  query.BindAll(url);
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return std::optional<FetchStatus>();
  }
  return FetchStatus{query.Int(0), query.Text(1)};
}

Status MudStore::AddSignerAnchor(const std::string& authority, const crypto::Certificate& anchor) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT OR IGNORE INTO mud_signer_anchors(authority,"
                                             " anchor_der, added_at) VALUES (?,?,?)"));
  insert.BindAll(authority, anchor.Der(), ToUnixSeconds(clock_.Now()));
  RETURN_IF_ERROR(insert.Run());
  if (db_->Changes() == 0) {
    return OkStatus();
  }
  RETURN_IF_ERROR(audit_.Append("mud.signer_trusted", "authority:" + authority,
                                Json{{"anchor_subject", anchor.SubjectText()},
                                     {"anchor_sha256", HexEncode(crypto::Sha256(anchor.Der()))}}));
  return tx.Commit();
}

Result<std::vector<crypto::Certificate>> MudStore::SignerAnchors(const std::string& authority) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query,
                   db_->Prepare("SELECT anchor_der FROM mud_signer_anchors WHERE authority=?"));
  query.BindAll(authority);
  return ReadAnchors(query);
}

Result<std::vector<crypto::Certificate>> MudStore::AllSignerAnchors() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT DISTINCT anchor_der FROM mud_signer_anchors"));
  return ReadAnchors(query);
}

Result<std::vector<crypto::Certificate>> MudStore::ReadAnchors(store::Statement& query) {
  std::vector<crypto::Certificate> anchors;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      return anchors;
    }
    ASSIGN_OR_RETURN(auto anchor, crypto::Certificate::FromDer(query.Blob(0)));
    anchors.push_back(std::move(anchor));
  }
}

Status MudStore::AddFact(std::string_view kind, const std::string& key, const std::string& value) {
  if (kind == kFactLocalNetwork || kind == kFactController || kind == kFactMyController) {
    RETURN_IF_ERROR_CTX(IpNetwork::Parse(value), std::string(kind));
  } else if (kind != kFactDnsServer) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "unknown fact \"" + std::string(kind) +
                         "\"; one of local-network, controller, my-controller, dns-server");
  }
  if ((kind == kFactController || kind == kFactMyController) == key.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(kind) +
                         (key.empty() ? " needs a key (a class URI or MUD URL)" : " takes no key"));
  }
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(
      auto insert,
      db_->Prepare("INSERT OR IGNORE INTO site_facts(kind, key, value) VALUES (?,?,?)"));
  insert.BindAll(kind, key, value);
  RETURN_IF_ERROR(insert.Run());
  if (db_->Changes() == 0) {
    return OkStatus();
  }
  RETURN_IF_ERROR(audit_.Append("site.fact_added", "site",
                                Json{{"kind", kind}, {"key", key}, {"value", value}}));
  return tx.Commit();
}

Status MudStore::RemoveFact(std::string_view kind, const std::string& key,
                            const std::string& value) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto remove,
                   db_->Prepare("DELETE FROM site_facts WHERE kind=? AND key=? AND value=?"));
  remove.BindAll(kind, key, value);
  RETURN_IF_ERROR(remove.Run());
  if (db_->Changes() == 0) {
    return MakeError(ErrorCode::kNotFound, "no such fact: " + std::string(kind) + " " + key +
                                               (key.empty() ? "" : " ") + value);
  }
  RETURN_IF_ERROR(audit_.Append("site.fact_removed", "site",
                                Json{{"kind", kind}, {"key", key}, {"value", value}}));
  return tx.Commit();
}

Result<std::vector<std::array<std::string, 3>>> MudStore::ListFacts() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(
      auto query,
      db_->Prepare("SELECT kind, key, value FROM site_facts ORDER BY kind, key, value"));
  std::vector<std::array<std::string, 3>> facts;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      return facts;
    }
    facts.push_back({query.Text(0), query.Text(1), query.Text(2)});
  }
}

Result<SiteFacts> MudStore::LoadSiteFacts() {
  ASSIGN_OR_RETURN(auto facts, ListFacts());
  SiteFacts site;
  for (const auto& [kind, key, value] : facts) {
    if (kind == kFactLocalNetwork) {
      site.local_networks.push_back(value);
    } else if (kind == kFactController) {
      site.controllers[key].push_back(value);
    } else if (kind == kFactMyController) {
      site.my_controllers[key].push_back(value);
    }
  }
  return site;
}

Result<std::optional<DnsRecord>> MudStore::FindDnsRecord(const std::string& name) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT addresses, resolved_at, expires_at"
                                            " FROM dns_records WHERE name=?"));
  query.BindAll(name);
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return std::optional<DnsRecord>();
  }
  return DnsRecord{SplitWords(query.Text(0)), query.Int(1), query.Int(2)};
}

Status MudStore::StoreDnsRecord(const std::string& name, const DnsRecord& record) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto upsert,
                   db_->Prepare("INSERT INTO dns_records(name, addresses, resolved_at, expires_at)"
                                " VALUES (?,?,?,?) ON CONFLICT(name) DO UPDATE SET"
                                " addresses=excluded.addresses, resolved_at=excluded.resolved_at,"
                                " expires_at=excluded.expires_at"));
  upsert.BindAll(name, JoinWords(record.addresses), record.resolved_at, record.expires_at);
  return upsert.Run();
}

Result<std::optional<AppliedPolicy>> MudStore::FindAppliedPolicy() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query,
                   db_->Prepare("SELECT ruleset, sha256, applied_at FROM applied_policy"));
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return std::optional<AppliedPolicy>();
  }
  return AppliedPolicy{query.Text(0), query.Text(1), query.Int(2)};
}

Status MudStore::RecordApplied(const AppliedPolicy& policy, const Json& summary) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto upsert,
                   db_->Prepare("INSERT INTO applied_policy(id, ruleset, sha256, applied_at)"
                                " VALUES (1,?,?,?) ON CONFLICT(id) DO UPDATE SET"
                                " ruleset=excluded.ruleset, sha256=excluded.sha256,"
                                " applied_at=excluded.applied_at"));
  upsert.BindAll(policy.ruleset, policy.sha256, policy.applied_at);
  RETURN_IF_ERROR(upsert.Run());
  Json detail = summary;
  detail["sha256"] = policy.sha256;
  RETURN_IF_ERROR(audit_.Append("policy.applied", "site", detail));
  return tx.Commit();
}

}  // namespace concierge::mud
