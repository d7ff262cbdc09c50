#include "store/sqlite.h"

namespace concierge::store {
namespace {

std::unexpected<Error> SqliteError(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db);
  ErrorCode error_code = ErrorCode::kInternal;
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    error_code = ErrorCode::kUnavailable;
  } else if ((code & 0xff) == SQLITE_CONSTRAINT) {
    error_code = ErrorCode::kAlreadyExists;
  } else if ((code & 0xff) == SQLITE_CANTOPEN || (code & 0xff) == SQLITE_NOTADB) {
    error_code = ErrorCode::kNotFound;
  }
  return MakeError(error_code, std::string(what) + ": " + sqlite3_errmsg(db));
}

}  // namespace

Statement::Statement(StatementCacheEntry* cached) : stmt_(cached->stmt.get()), cached_(cached) {
  cached_->in_use = true;
}

Statement::~Statement() {
  if (cached_ != nullptr) {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
    cached_->in_use = false;
    (void)stmt_.release();  // owned by the cache
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_.get(), index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_.get(), index, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::Bind(int index, ByteSpan value) {
  sqlite3_bind_blob(stmt_.get(), index, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_.get(), index);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return SqliteError(sqlite3_db_handle(stmt_.get()), "sqlite step");
}

Status Statement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) {
      // Reset so the statement can be bound and run again; binding a finished statement
      // fails silently and the next step would reuse the old values.
      sqlite3_reset(stmt_.get());
      return OkStatus();
    }
  }
}

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
  int size = sqlite3_column_bytes(stmt_.get(), column);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), size);
}

Bytes Statement::Blob(int column) const {
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_.get(), column));
  int size = sqlite3_column_bytes(stmt_.get(), column);
  return data == nullptr ? Bytes() : Bytes(data, data + size);
}

Result<Database> Database::Open(const std::filesystem::path& path, bool create) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db(raw);
  if (rc != SQLITE_OK) {
    return MakeError(ErrorCode::kNotFound, "cannot open database " + path.string() + ": " +
                                               (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_busy_timeout(raw, 10000);
  // NORMAL is durable against a killed process in WAL mode; only power loss can lose the
  // last commits, never corrupt the file.
  RETURN_IF_ERROR(
      db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  return db;
}

Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  if (sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message != nullptr ? message : "unknown";
    sqlite3_free(message);
    return SqliteError(db_.get(), "sqlite exec (" + why + ")");
  }
  return OkStatus();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK) {
      return SqliteError(db_.get(), "sqlite prepare");
    }
    auto entry = std::make_unique<StatementCacheEntry>();
    entry->stmt.reset(stmt);
    it = cache_.emplace(std::string(sql), std::move(entry)).first;
  }
  if (!it->second->in_use) {
    return Statement(it->second.get());
  }
  // The same text is already running (a nested use): give this caller its own statement.
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return SqliteError(db_.get(), "sqlite prepare");
  }
  return Statement(stmt);
}

Status Database::Migrate(std::span<const std::string_view> migrations) {
  int64_t version = 0;
  {
    // Reset before migrating: a statement left running keeps DROP from its tables.
    ASSIGN_OR_RETURN(auto version_stmt, Prepare("PRAGMA user_version"));
    ASSIGN_OR_RETURN(bool has_row, version_stmt.Step());
    version = has_row ? version_stmt.Int(0) : 0;
  }
  if (version > static_cast<int64_t>(migrations.size())) {
    return MakeError(ErrorCode::kFailedPrecondition, "database schema version " +
                                                         std::to_string(version) +
                                                         " is newer than this program knows (" +
                                                         std::to_string(migrations.size()) + ")");
  }
  for (auto i = static_cast<size_t>(version); i < migrations.size(); ++i) {
    ASSIGN_OR_RETURN(auto tx, Transaction::Begin(*this));
    RETURN_IF_ERROR_CTX(Exec(migrations[i]), "migration " + std::to_string(i + 1));
    RETURN_IF_ERROR(Exec("PRAGMA user_version=" + std::to_string(i + 1)));
    RETURN_IF_ERROR(tx.Commit());
  }
  return OkStatus();
}

Status Database::MigrateComponent(std::string_view component,
                                  std::span<const std::string_view> migrations) {
  RETURN_IF_ERROR(
      Exec("CREATE TABLE IF NOT EXISTS schema_versions("
           "component TEXT PRIMARY KEY, version INTEGER NOT NULL)"));
  for (;;) {
    ASSIGN_OR_RETURN(auto tx, Transaction::Begin(*this));
    int64_t version = 0;
    {
      ASSIGN_OR_RETURN(auto query,
                       Prepare("SELECT version FROM schema_versions WHERE component=?"));
      query.BindAll(component);
      ASSIGN_OR_RETURN(bool has_row, query.Step());
      version = has_row ? query.Int(0) : 0;
    }
    if (version > static_cast<int64_t>(migrations.size())) {
      return MakeError(ErrorCode::kFailedPrecondition, std::string(component) + " schema version " +
                                                           std::to_string(version) +
                                                           " is newer than this program knows (" +
                                                           std::to_string(migrations.size()) + ")");
    }
    if (version == static_cast<int64_t>(migrations.size())) {
      return OkStatus();
    }
    RETURN_IF_ERROR_CTX(Exec(migrations[static_cast<size_t>(version)]),
                        std::string(component) + " migration " + std::to_string(version + 1));
    ASSIGN_OR_RETURN(auto bump, Prepare("INSERT INTO schema_versions(component, version)"
                                        " VALUES (?,?) ON CONFLICT(component)"
                                        " DO UPDATE SET version=excluded.version"));
    bump.BindAll(component, version + 1);
    RETURN_IF_ERROR(bump.Run());
    RETURN_IF_ERROR(tx.Commit());
  }
}

Result<Transaction> Transaction::Begin(Database& db) {
  RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) {
    (void)db_->Exec("ROLLBACK");
  }
}

Status Transaction::Commit() {
  Database* db = db_;
  db_ = nullptr;
  if (auto status = db->Exec("COMMIT"); !status) {
    (void)db->Exec("ROLLBACK");
    return status;
  }
  return OkStatus();
}

}  // namespace concierge::store
