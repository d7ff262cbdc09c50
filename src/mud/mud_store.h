#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "crypto/certificate.h"
#include "mud/compiler.h"
#include "store/audit_log.h"

namespace concierge::mud {

// StoredMudFile is a MUD file that passed every check, with what it was checked against.
struct StoredMudFile {
  std::string url;
  std::string body;
  Bytes signature;
  std::string signer;  // subject of the signing certificate
  int64_t fetched_at = 0;
  int64_t expires_at = 0;  // fetched_at + cache-validity
};

struct FetchStatus {
  int64_t attempted_at = 0;
  std::string error;  // "" after a success
};

struct DnsRecord {
  std::vector<std::string> addresses;
  int64_t resolved_at = 0;
  int64_t expires_at = 0;
};

struct AppliedPolicy {
  std::string ruleset;
  std::string sha256;
  int64_t applied_at = 0;
};

// SiteFact kinds, as an operator types them.
inline constexpr std::string_view kFactLocalNetwork = "local-network";
inline constexpr std::string_view kFactController = "controller";       // key: class URI
inline constexpr std::string_view kFactMyController = "my-controller";  // key: MUD URL
inline constexpr std::string_view kFactDnsServer = "dns-server";

// MudStore keeps the MUD manager's state in the site's database (component "mud"): verified
// files, signer anchors, site facts, DNS answers and the policy in force.
// Changes append audit events in the same transaction. Thread-safe.
class MudStore {
 public:
  // Open opens the SQLite database at path, creating it if need be, and migrates it.
  static Result<std::unique_ptr<MudStore>> Open(const std::filesystem::path& path,
                                                const Clock& clock);
  // Open migrates a database of any backend and keeps it.
  static Result<std::unique_ptr<MudStore>> Open(std::unique_ptr<store::Database> db,
                                                const Clock& clock);

  Result<std::optional<StoredMudFile>> FindFile(const std::string& url);
  // StoreFile stores a checked file; its audit event lists what the parser ignored (warnings).
  Status StoreFile(const StoredMudFile& file, const std::string& sha256_hex,
                   const std::vector<std::string>& warnings = {});
  Status RecordFetchFailure(const std::string& url, const std::string& reason);
  Result<std::optional<FetchStatus>> FindFetchStatus(const std::string& url);

  Status AddSignerAnchor(const std::string& authority, const crypto::Certificate& anchor);
  Result<std::vector<crypto::Certificate>> SignerAnchors(const std::string& authority);
  // AllSignerAnchors also authenticate MUD servers: a CA trusted to vouch for a maker's MUD
  // files gains nothing by also naming the maker's server.
  Result<std::vector<crypto::Certificate>> AllSignerAnchors();

  Status AddFact(std::string_view kind, const std::string& key, const std::string& value);
  Status RemoveFact(std::string_view kind, const std::string& key, const std::string& value);
  // Facts are (kind, key, value) rows; key is "" for local networks and DNS servers.
  Result<std::vector<std::array<std::string, 3>>> ListFacts();
  // LoadSiteFacts gives the facts in the compiler's shape, without devices.
  Result<SiteFacts> LoadSiteFacts();

  Result<std::optional<DnsRecord>> FindDnsRecord(const std::string& name);
  Status StoreDnsRecord(const std::string& name, const DnsRecord& record);

  Result<std::optional<AppliedPolicy>> FindAppliedPolicy();
  // RecordApplied stores the ruleset now in force; summary goes into the audit event.
  Status RecordApplied(const AppliedPolicy& policy, const Json& summary);

  // ListenToAudit tells listener of every audit event this store commits.
  void ListenToAudit(store::AuditListener* listener) { audit_.Listen(listener); }

 private:
  MudStore(std::unique_ptr<store::Database> db, const Clock& clock)
      : db_(std::move(db)), clock_(clock), audit_(*db_, clock) {}

  static Result<std::vector<crypto::Certificate>> ReadAnchors(store::Statement& query);

  std::mutex mutex_;
  std::unique_ptr<store::Database> db_;
  const Clock& clock_;
  store::AuditChain audit_;
};

}  // namespace concierge::mud
