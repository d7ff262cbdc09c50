#include "store/database.h"

#include <functional>
#include <string>
#include <utility>

namespace concierge::store {

Status Statement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) {
      // Reset so the statement can be bound and run again; binding a finished statement
      // fails silently and the next step would reuse the old values.
      backend_->Reset();
      return OkStatus();
    }
  }
}

Result<int64_t> Statement::RunReturningId() {
  ASSIGN_OR_RETURN(bool row, Step());
  if (!row) {
    return MakeError(ErrorCode::kInternal, "an INSERT … RETURNING id returned no row");
  }
  int64_t id = Int(0);
  RETURN_IF_ERROR(Run());
  return id;
}

std::string InList(std::string_view column, size_t count) {
  if (count == 0) {
    return "0 = 1";
  }
  std::string list = std::string(column) + " IN (?";
  for (size_t i = 1; i < count; ++i) {
    list += ",?";
  }
  return list + ")";
}

void Database::AfterCommit(std::function<void()> done) {
  if (in_transaction_) {
    after_commit_.push_back(std::move(done));
  } else {
    done();
  }
}

Result<Transaction> Transaction::Begin(Database& db) {
  RETURN_IF_ERROR(db.BeginWrite());
  db.in_transaction_ = true;
  db.after_commit_.clear();
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) {
    (void)db_->Rollback();
    db_->in_transaction_ = false;
    db_->after_commit_.clear();
  }
}

Status Transaction::Commit() {
  Database* db = db_;
  db_ = nullptr;
  db->in_transaction_ = false;
  auto done = std::exchange(db->after_commit_, {});
  if (auto status = db->Commit(); !status) {
    (void)db->Rollback();
    return status;
  }
  for (auto& callback : done) {
    callback();
  }
  return OkStatus();
}

namespace {

// StepMigrations applies migrations[version..], one write transaction per step, reading the
// version inside each: several site controllers may start on one database at once, and only
// the first applies a step.
Status StepMigrations(Database& db, const std::string& what,
                      std::span<const std::string_view> migrations,
                      const std::function<Result<int64_t>()>& read_version,
                      const std::function<Status(int64_t)>& write_version) {
  for (;;) {
    ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db));
    ASSIGN_OR_RETURN(int64_t version, read_version());
    if (version > static_cast<int64_t>(migrations.size())) {
      return MakeError(ErrorCode::kFailedPrecondition, what + " schema version " +
                                                           std::to_string(version) +
                                                           " is newer than this program knows (" +
                                                           std::to_string(migrations.size()) + ")");
    }
    if (version == static_cast<int64_t>(migrations.size())) {
      return OkStatus();
    }
    RETURN_IF_ERROR_CTX(db.Exec(migrations[static_cast<size_t>(version)]),
                        what + " migration " + std::to_string(version + 1));
    RETURN_IF_ERROR(write_version(version + 1));
    RETURN_IF_ERROR(tx.Commit());
  }
}

}  // namespace

Status Migrate(Database& db, std::span<const std::string_view> migrations) {
  return StepMigrations(
      db, "database", migrations, [&db] { return db.SchemaVersion(); },
      [&db](int64_t version) { return db.SetSchemaVersion(version); });
}

Status MigrateComponent(Database& db, std::string_view component,
                        std::span<const std::string_view> migrations) {
  auto read = [&db, component]() -> Result<int64_t> {
    // Inside the write transaction, so that controllers starting at once do not race to it.
    RETURN_IF_ERROR(
        db.Exec("CREATE TABLE IF NOT EXISTS schema_versions("
                "component TEXT PRIMARY KEY, version INTEGER NOT NULL)"));
    ASSIGN_OR_RETURN(auto query,
                     db.Prepare("SELECT version FROM schema_versions WHERE component=?"));
    query.BindAll(component);
    ASSIGN_OR_RETURN(bool has_row, query.Step());
    return has_row ? query.Int(0) : 0;
  };
  auto write = [&db, component](int64_t version) -> Status {
    ASSIGN_OR_RETURN(auto bump, db.Prepare("INSERT INTO schema_versions(component, version)"
                                           " VALUES (?,?) ON CONFLICT(component)"
                                           " DO UPDATE SET version=excluded.version"));
    return bump.BindAll(component, version).Run();
  };
  return StepMigrations(db, std::string(component), migrations, read, write);
}

}  // namespace concierge::store
