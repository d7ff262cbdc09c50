#include "store/audit_log.h"

#include <optional>

#include "crypto/key.h"

namespace concierge::store {
namespace {

constexpr size_t kHashSize = 32;

void AppendField(Bytes& out, std::string_view field) {
  uint64_t size = field.size();
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<uint8_t>(size >> shift));
  }
  out.insert(out.end(), field.begin(), field.end());
}

}  // namespace

Bytes ComputeAuditHash(const AuditRecord& record) {
  Bytes input(record.prev_hash);
  AppendField(input, std::to_string(record.seq));
  AppendField(input, std::to_string(record.at));
  AppendField(input, record.kind);
  AppendField(input, record.subject);
  AppendField(input, record.detail);
  return crypto::Sha256(input);
}

Status VerifyAuditChain(const std::vector<AuditRecord>& records) {
  Bytes previous(kHashSize, 0);
  int64_t expected_seq = 1;
  for (const auto& record : records) {
    std::string where = "audit record " + std::to_string(record.seq);
    if (record.seq != expected_seq) {
      return MakeError(ErrorCode::kSecurity, where + ": expected sequence number " +
                                                 std::to_string(expected_seq) +
                                                 " (a record is missing or reordered)");
    }
    if (record.prev_hash != previous) {
      return MakeError(ErrorCode::kSecurity, where + ": does not link to the previous record");
    }
    if (ComputeAuditHash(record) != record.hash) {
      return MakeError(ErrorCode::kSecurity, where + ": content does not match its hash");
    }
    previous = record.hash;
    ++expected_seq;
  }
  return OkStatus();
}

Json AuditRecordToJson(const AuditRecord& record) {
  Json detail = Json::parse(record.detail, nullptr, false);
  return Json{{"seq", record.seq},
              {"at", FormatRfc3339(FromUnixSeconds(record.at))},
              {"at_unix", record.at},
              {"kind", record.kind},
              {"subject", record.subject},
              {"detail", detail.is_discarded() ? Json(record.detail) : detail},
              {"detail_text", record.detail},
              {"prev_hash", HexEncode(record.prev_hash)},
              {"hash", HexEncode(record.hash)}};
}

Result<AuditRecord> AuditRecordFromJson(std::string_view text) {
  ASSIGN_OR_RETURN(Json json, ParseJsonObject(text, "audit record"));
  JsonObjectReader reader(json, "audit");
  AuditRecord record;
  ASSIGN_OR_RETURN(record.seq, reader.RequiredInt("seq"));
  ASSIGN_OR_RETURN(record.at, reader.RequiredInt("at_unix"));
  RETURN_IF_ERROR(TimeFromUnixSeconds(record.at, "audit.at_unix"));
  ASSIGN_OR_RETURN(record.kind, reader.RequiredString("kind"));
  ASSIGN_OR_RETURN(record.subject, reader.RequiredString("subject"));
  ASSIGN_OR_RETURN(record.detail, reader.RequiredString("detail_text"));
  ASSIGN_OR_RETURN(std::string prev_hex, reader.RequiredString("prev_hash"));
  ASSIGN_OR_RETURN(std::string hash_hex, reader.RequiredString("hash"));
  ASSIGN_OR_RETURN_CTX(record.prev_hash, HexDecode(prev_hex), "audit.prev_hash");
  ASSIGN_OR_RETURN_CTX(record.hash, HexDecode(hash_hex), "audit.hash");
  if (record.prev_hash.size() != kHashSize || record.hash.size() != kHashSize) {
    return MakeError(ErrorCode::kBadFormat, "audit record hashes must be 32 bytes");
  }
  return record;
}

Status AuditChain::Append(std::string_view kind, std::string_view subject, const Json& detail) {
  Database& db = db_;
  // Reading the last record and appending after it must not interleave with another writer
  // (another site controller on the same database): a caller's transaction holds the write
  // lock; without one, the append takes it for itself.
  std::optional<Transaction> own;
  if (!db.InTransaction()) {
    ASSIGN_OR_RETURN(auto begun, Transaction::Begin(db));
    own.emplace(std::move(begun));
  }
  AuditRecord record;
  ASSIGN_OR_RETURN(auto last,
                   db.Prepare("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1"));
  ASSIGN_OR_RETURN(bool has_last, last.Step());
  record.seq = has_last ? last.Int(0) + 1 : 1;
  record.prev_hash = has_last ? last.Blob(1) : Bytes(kHashSize, 0);
  record.at = ToUnixSeconds(clock_.Now());
  record.kind = kind;
  record.subject = subject;
  record.detail = detail.dump();
  record.hash = ComputeAuditHash(record);
  ASSIGN_OR_RETURN(auto insert,
                   db.Prepare("INSERT INTO audit_events(seq, at, kind, subject, detail, "
                              "prev_hash, hash) VALUES (?,?,?,?,?,?,?)"));
  insert.BindAll(record.seq, record.at, record.kind, record.subject, record.detail,
                 record.prev_hash, record.hash);
  RETURN_IF_ERROR(insert.Run());
  if (listener_ != nullptr) {
    db.AfterCommit(
        [listener = listener_, record = std::move(record)] { listener->Recorded(record); });
  }
  return own ? own->Commit() : OkStatus();
}

Result<std::vector<AuditRecord>> ReadAuditEvents(Database& db, std::string_view subject) {
  std::string sql = "SELECT seq, at, kind, subject, detail, prev_hash, hash FROM audit_events";
  if (!subject.empty()) {
    sql += " WHERE subject = ?";
  }
  sql += " ORDER BY seq";
  ASSIGN_OR_RETURN(auto stmt, db.Prepare(sql));
  if (!subject.empty()) {
    stmt.Bind(1, subject);
  }
  std::vector<AuditRecord> records;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      break;
    }
    records.push_back(AuditRecord{stmt.Int(0), stmt.Int(1), stmt.Text(2), stmt.Text(3),
                                  stmt.Text(4), stmt.Blob(5), stmt.Blob(6)});
  }
  return records;
}

Result<AuditPage> ReadAuditPage(Database& db, std::string_view subject,
                                const std::optional<std::vector<std::string>>& within,
                                size_t offset, size_t limit) {
  std::string where = " WHERE 1 = 1";
  std::vector<std::string> values;
  if (!subject.empty()) {
    where += " AND subject = ?";
    values.emplace_back(subject);
  }
  if (within) {
    where += " AND " + InList("subject", within->size());
    values.insert(values.end(), within->begin(), within->end());
  }
  AuditPage page;
  ASSIGN_OR_RETURN(auto count, db.Prepare("SELECT COUNT(*) FROM audit_events" + where));
  count.BindTexts(1, values);
  ASSIGN_OR_RETURN(bool counted, count.Step());
  page.total = counted ? static_cast<size_t>(count.Int(0)) : 0;
  ASSIGN_OR_RETURN(auto query,
                   db.Prepare("SELECT seq, at, kind, subject, detail, prev_hash, hash"
                              " FROM audit_events" +
                              where + " ORDER BY seq DESC LIMIT " + std::to_string(limit) +
                              " OFFSET " + std::to_string(offset)));
  query.BindTexts(1, values);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      return page;
    }
    page.records.push_back(AuditRecord{query.Int(0), query.Int(1), query.Text(2), query.Text(3),
                                       query.Text(4), query.Blob(5), query.Blob(6)});
  }
}

}  // namespace concierge::store
