#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "store/database.h"

namespace concierge::store {

// AuditRecord is one event in a hash chain: hash = SHA-256 over the previous record's hash and
// this record's fields, so changing, dropping or reordering any record breaks every later hash.
struct AuditRecord {
  int64_t seq = 0;  // 1, 2, 3, ... without gaps
  int64_t at = 0;   // unix seconds
  std::string kind;
  std::string subject;
  std::string detail;  // a JSON object, as text
  Bytes prev_hash;
  Bytes hash;
};

// The audit_events table, for a store's migrations; idempotent, as several components of one
// database (the site's registrar and MUD manager) each make sure it exists.
inline constexpr std::string_view kAuditSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit_events (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS audit_events_subject ON audit_events(subject);
)sql";

Bytes ComputeAuditHash(const AuditRecord& record);

// VerifyAuditChain checks sequence, links and hashes from the first record; the error names
// the first broken record.
Status VerifyAuditChain(const std::vector<AuditRecord>& records);

Json AuditRecordToJson(const AuditRecord& record);
Result<AuditRecord> AuditRecordFromJson(std::string_view text);

// AuditSink takes the record of each change a store makes. Call Append inside the Transaction
// that makes the change it describes, so the change and its record commit or vanish together.
class AuditSink {
 public:
  virtual ~AuditSink() = default;

  virtual Status Append(std::string_view kind, std::string_view subject, const Json& detail) = 0;
};

// AuditListener hears of each audit event once the change it records has committed: the site's
// live events (a device enrolled, an approval needed, a policy applied) come from here. Called
// on the thread that committed, with the recording store's lock still held: hand the record on,
// never call back into that store. Records of one transaction come in sequence order.
class AuditListener {
 public:
  virtual ~AuditListener() = default;

  virtual void Recorded(const AuditRecord& record) = 0;
};

// AuditChain keeps the audit events in the audit_events table of the store's own database, as
// one hash chain. The write transaction serialises appends, so the chain has no fork or gap
// with several writers on one database.
class AuditChain final : public AuditSink {
 public:
  AuditChain(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Status Append(std::string_view kind, std::string_view subject, const Json& detail) override;

  // Listen sets who hears of committed events (nullptr: nobody). Set it before the store is
  // shared between threads.
  void Listen(AuditListener* listener) { listener_ = listener; }

 private:
  Database& db_;
  const Clock& clock_;
  AuditListener* listener_ = nullptr;
};

// DeviceSubject is the one form every audit event about a device takes, whichever part of the
// site records it (registrar, MUD manager, exposure analyzer): "device:" and the device's name,
// its serial number for an onboarded device, "mac-…" for one only seen on the network.
inline std::string DeviceSubject(std::string_view name) {
  return "device:" + std::string(name);
}

// ReadAuditEvents returns events in order; with a non-empty subject, only that subject's.
Result<std::vector<AuditRecord>> ReadAuditEvents(Database& db, std::string_view subject = "");

// AuditPage is one page of events, newest first, and how many match in all.
struct AuditPage {
  std::vector<AuditRecord> records;
  size_t total = 0;
};

// ReadAuditPage pages the events newest first in the database: only subject's when it is not
// empty, and only those of the subjects in `within` when that is set.
Result<AuditPage> ReadAuditPage(Database& db, std::string_view subject,
                                const std::optional<std::vector<std::string>>& within,
                                size_t offset, size_t limit);

}  // namespace concierge::store
