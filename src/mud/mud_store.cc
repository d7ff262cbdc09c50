#include "mud/mud_store.h"

#include <algorithm>
#include <array>
#include <sstream>

#include "common/bytes.h"
#include "common/ip_network.h"
#include "store/audit_log.h"
#include "store/sqlite_database.h"

namespace concierge::mud {
namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE mud_devices (
  name TEXT PRIMARY KEY,
  mac TEXT UNIQUE,
  addresses TEXT NOT NULL DEFAULT '',
  mud_url TEXT NOT NULL DEFAULT '',
  url_source TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL
);
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

int Strength(std::string_view source) {
  if (source == kSourceManual) {
    return 3;
  }
  if (source == kSourceIdevid) {
    return 2;
  }
  return source == kSourceDhcp ? 1 : 0;
}

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& word : words) {
    out += (out.empty() ? "" : " ") + word;
  }
  return out;
}

std::vector<std::string> SplitWords(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) {
    words.push_back(word);
  }
  return words;
}

Status CheckAddresses(const std::vector<std::string>& addresses) {
  for (const std::string& text : addresses) {
    ASSIGN_OR_RETURN(IpNetwork address, IpNetwork::Parse(text));
    if (!address.IsHost()) {
      return MakeError(ErrorCode::kInvalidArgument, text + " is a network, not an address");
    }
  }
  return OkStatus();
}

Result<std::string> NormalizeMac(const std::string& mac) {
  std::string out;
  int digits = 0;
  for (char c : mac) {
    if (std::isxdigit(static_cast<unsigned char>(c)) != 0) {
      if (digits > 0 && digits % 2 == 0) {
        out += ':';
      }
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ++digits;
    } else if (c != ':' && c != '-' && c != '.') {
      digits = -100;
      break;
    }
  }
  if (digits != 12) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"" + mac.substr(0, 40) + "\" is not a MAC address (aa:bb:cc:dd:ee:ff)");
  }
  return out;
}

MudDevice NewDevice(const std::string& name) {
  MudDevice device;
  device.name = name;
  return device;
}

}  // namespace

Result<std::unique_ptr<MudStore>> MudStore::Open(const std::filesystem::path& path,
                                                 const Clock& clock) {
  ASSIGN_OR_RETURN(auto db, store::OpenSqliteDatabase(path, /*create=*/true));
  ASSIGN_OR_RETURN_CTX(auto store, Open(std::move(db), clock), path.string());
  return store;
}

Result<std::unique_ptr<MudStore>> MudStore::Open(std::unique_ptr<store::Database> db,
                                                 const Clock& clock) {
  RETURN_IF_ERROR(store::MigrateComponent(*db, "mud", kMigrations));
  return std::unique_ptr<MudStore>(new MudStore(std::move(db), clock));
}

Result<std::optional<MudDevice>> MudStore::QueryDevice(std::string_view where,
                                                       const std::string& key) {
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT name, COALESCE(mac, ''), addresses, mud_url,"
                                            " url_source, updated_at FROM mud_devices WHERE " +
                                            std::string(where)));
  query.BindAll(key);
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return std::optional<MudDevice>();
  }
  return MudDevice{query.Text(0), query.Text(1), SplitWords(query.Text(2)),
                   query.Text(3), query.Text(4), query.Int(5)};
}

Status MudStore::UpsertDevice(const MudDevice& device) {
  ASSIGN_OR_RETURN(auto upsert,
                   db_->Prepare("INSERT INTO mud_devices(name, mac, addresses, mud_url, url_source,"
                                " updated_at) VALUES (?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET"
                                " mac=excluded.mac, addresses=excluded.addresses,"
                                " mud_url=excluded.mud_url, url_source=excluded.url_source,"
                                " updated_at=excluded.updated_at"));
  if (device.mac.empty()) {
    upsert.BindAll(device.name, nullptr, JoinWords(device.addresses), device.mud_url,
                   device.url_source, ToUnixSeconds(clock_.Now()));
  } else {
    upsert.BindAll(device.name, device.mac, JoinWords(device.addresses), device.mud_url,
                   device.url_source, ToUnixSeconds(clock_.Now()));
  }
  return upsert.Run();
}

Status MudStore::AssignUrl(const std::string& device, const std::string& url,
                           std::string_view source) {
  if (device.empty() || url.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a device name and a MUD URL are required");
  }
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto existing, QueryDevice("name=?", device));
  MudDevice record = existing.value_or(NewDevice(device));
  if (record.mud_url == url && record.url_source == source) {
    return OkStatus();
  }
  if (!record.mud_url.empty() && Strength(source) < Strength(record.url_source)) {
    return MakeError(ErrorCode::kFailedPrecondition, "device " + device + " has MUD URL " +
                                                         record.mud_url + " from " +
                                                         record.url_source + ", which a URL from " +
                                                         std::string(source) + " does not replace");
  }
  std::string previous = record.mud_url;
  record.mud_url = url;
  record.url_source = std::string(source);
  RETURN_IF_ERROR(UpsertDevice(record));
  RETURN_IF_ERROR(audit_.Append("mud.url_assigned", store::DeviceSubject(device),
                                Json{{"url", url}, {"source", source}, {"previous", previous}}));
  return tx.Commit();
}

Status MudStore::SetAddresses(const std::string& device,
                              const std::vector<std::string>& addresses) {
  RETURN_IF_ERROR_CTX(CheckAddresses(addresses), "device " + device);
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto existing, QueryDevice("name=?", device));
  MudDevice record = existing.value_or(NewDevice(device));
  if (record.addresses == addresses) {
    return OkStatus();
  }
  record.addresses = addresses;
  RETURN_IF_ERROR(UpsertDevice(record));
  Json detail{{"addresses", addresses}};
  for (const std::string& address : addresses) {
    RETURN_IF_ERROR(TakeAddress(device, address, detail));
  }
  RETURN_IF_ERROR(audit_.Append("device.addresses", store::DeviceSubject(device), detail));
  return tx.Commit();
}

Status MudStore::RemoveDevice(const std::string& device) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto remove, db_->Prepare("DELETE FROM mud_devices WHERE name=?"));
  RETURN_IF_ERROR(remove.BindAll(device).Run());
  if (db_->Changes() == 0) {
    return OkStatus();
  }
  RETURN_IF_ERROR(audit_.Append("device.policy_removed", store::DeviceSubject(device),
                                Json{{"reason", "left the site"}}));
  return tx.Commit();
}

Status MudStore::TakeAddress(const std::string& device, const std::string& address, Json& detail) {
  ASSIGN_OR_RETURN(auto holders, db_->Prepare("SELECT name, addresses FROM mud_devices WHERE"
                                              " name<>? AND (' ' || addresses || ' ')"
                                              " LIKE ('% ' || ? || ' %')"));
  holders.BindAll(device, address);
  std::vector<std::pair<std::string, std::vector<std::string>>> previous;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, holders.Step());
    if (!row) {
      break;
    }
    previous.emplace_back(holders.Text(0), SplitWords(holders.Text(1)));
  }
  for (auto& [name, kept] : previous) {
    std::erase(kept, address);
    ASSIGN_OR_RETURN(auto update,
                     db_->Prepare("UPDATE mud_devices SET addresses=?, updated_at=? WHERE name=?"));
    RETURN_IF_ERROR(update.BindAll(JoinWords(kept), ToUnixSeconds(clock_.Now()), name).Run());
    detail["taken_from"].push_back(Json{{"device", name}, {"address", address}});
  }
  return OkStatus();
}

Result<std::string> MudStore::Seen(const std::string& mac_text, const std::string& address,
                                   const std::string& url) {
  ASSIGN_OR_RETURN(std::string mac, NormalizeMac(mac_text));
  RETURN_IF_ERROR(CheckAddresses({address}));
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto record, QueryDevice("mac=?", mac));
  if (!record) {
    // A device onboarded with BRSKI is known by the address it enrolled from.
    ASSIGN_OR_RETURN(record, QueryDevice("(' ' || addresses || ' ') LIKE ('% ' || ? || ' %')"
                                         " AND mac IS NULL",
                                         address));
  }
  if (!record) {
    record = NewDevice("mac-" + mac);
  }
  record->mac = mac;
  Json detail{{"mac", mac}, {"address", address}};
  if (record->addresses != std::vector<std::string>{address}) {
    // Addresses of the same family are replaced: DHCP hands out one IPv4 address per client.
    bool v4 = address.find(':') == std::string::npos;
    std::erase_if(record->addresses,
                  [&](const std::string& a) { return (a.find(':') == std::string::npos) == v4; });
    record->addresses.push_back(address);
  }
  if (!url.empty() && url != record->mud_url) {
    if (Strength(kSourceDhcp) >= Strength(record->url_source) || record->mud_url.empty()) {
      detail["url"] = url;
      record->mud_url = url;
      record->url_source = std::string(kSourceDhcp);
    } else {
      detail["url_ignored"] = url;
      detail["kept_url"] = record->mud_url;
      detail["kept_source"] = record->url_source;
    }
  }
  RETURN_IF_ERROR(UpsertDevice(*record));
  // DHCP gave the address to this device: whoever held it before has let it go.
  RETURN_IF_ERROR(TakeAddress(record->name, address, detail));
  RETURN_IF_ERROR(audit_.Append("device.seen", store::DeviceSubject(record->name), detail));
  RETURN_IF_ERROR(tx.Commit());
  return record->name;
}

Result<std::vector<MudDevice>> MudStore::ListDevices() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query,
                   db_->Prepare("SELECT name, COALESCE(mac, ''), addresses, mud_url,"
                                " url_source, updated_at FROM mud_devices ORDER BY name"));
  std::vector<MudDevice> devices;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      return devices;
    }
    devices.push_back(MudDevice{query.Text(0), query.Text(1), SplitWords(query.Text(2)),
                                query.Text(3), query.Text(4), query.Int(5)});
  }
}

Result<std::optional<MudDevice>> MudStore::FindDevice(const std::string& name) {
  std::lock_guard lock(mutex_);
  return QueryDevice("name=?", name);
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
