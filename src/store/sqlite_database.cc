#include "store/sqlite_database.h"

#include <map>
#include <string>

#include <sqlite3.h>

#include "metrics/metrics.h"

namespace concierge::store {
namespace {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

struct SqliteFree {
  void operator()(char* text) const { sqlite3_free(text); }
};

using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

std::unexpected<Error> SqliteError(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db) & 0xff;
  ErrorCode error_code = ErrorCode::kInternal;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    error_code = ErrorCode::kUnavailable;
  } else if (code == SQLITE_CONSTRAINT) {
    error_code = ErrorCode::kAlreadyExists;
  } else if (code == SQLITE_CANTOPEN || code == SQLITE_NOTADB) {
    error_code = ErrorCode::kNotFound;
  }
  metrics::Global().Count(
      "concierge_database_errors_total", "Statements the database refused or could not run",
      {{"backend", "sqlite"}, {"kind", std::string(ErrorCodeName(error_code))}});
  return MakeError(error_code, std::string(what) + ": " + sqlite3_errmsg(db));
}

// A prepared statement the connection keeps for its SQL text; in_use while a Statement has it.
struct CachedStatement {
  StatementPtr stmt;
  bool in_use = false;
};

class SqliteStatement final : public StatementBackend {
 public:
  // A statement from the connection's cache, handed back (reset) on destruction.
  explicit SqliteStatement(CachedStatement* cached) : stmt_(cached->stmt.get()), cached_(cached) {
    cached_->in_use = true;
  }

  // A statement of its own, finalized on destruction.
  explicit SqliteStatement(StatementPtr owned) : stmt_(owned.get()), owned_(std::move(owned)) {}

  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  ~SqliteStatement() override {
    if (cached_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
      cached_->in_use = false;
    }
  }

  void Bind(int index, int64_t value) override { sqlite3_bind_int64(stmt_, index, value); }

  void Bind(int index, std::string_view value) override {
    sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }

  void Bind(int index, ByteSpan value) override {
    sqlite3_bind_blob(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }

  void BindNull(int index) override { sqlite3_bind_null(stmt_, index); }

  Result<bool> Step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
      return true;
    }
    if (rc == SQLITE_DONE) {
      return false;
    }
    return SqliteError(sqlite3_db_handle(stmt_), "sqlite step");
  }

  void Reset() override { sqlite3_reset(stmt_); }

  int64_t Int(int column) const override { return sqlite3_column_int64(stmt_, column); }

  std::string Text(int column) const override {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    int size = sqlite3_column_bytes(stmt_, column);
    return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), size);
  }

  Bytes Blob(int column) const override {
    const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
    int size = sqlite3_column_bytes(stmt_, column);
    return data == nullptr ? Bytes() : Bytes(data, data + size);
  }

  bool IsNull(int column) const override {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }

 private:
  sqlite3_stmt* stmt_;
  CachedStatement* cached_ = nullptr;
  StatementPtr owned_;
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}

  Status Exec(std::string_view sql) override {
    std::string text(sql);
    char* raw = nullptr;
    int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &raw);
    std::unique_ptr<char, SqliteFree> message(raw);
    if (rc != SQLITE_OK) {
      return SqliteError(db_.get(),
                         "sqlite exec (" + std::string(message ? message.get() : "unknown") + ")");
    }
    return OkStatus();
  }

  Result<Statement> Prepare(std::string_view sql) override {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      ASSIGN_OR_RETURN(StatementPtr stmt, PrepareNew(sql));
      auto entry = std::make_unique<CachedStatement>();
      entry->stmt = std::move(stmt);
      it = cache_.emplace(std::string(sql), std::move(entry)).first;
    }
    if (!it->second->in_use) {
      return Statement(std::make_unique<SqliteStatement>(it->second.get()));
    }
    // The same text is already running (a nested use): give this caller its own statement.
    ASSIGN_OR_RETURN(StatementPtr own, PrepareNew(sql));
    return Statement(std::make_unique<SqliteStatement>(std::move(own)));
  }

  int64_t Changes() const override { return sqlite3_changes64(db_.get()); }

  // IMMEDIATE takes the write lock at once: a deferred transaction that read first could not
  // upgrade to writing while another connection writes, and would fail instead of waiting.
  Status BeginWrite() override { return Exec("BEGIN IMMEDIATE"); }

  Status Commit() override { return Exec("COMMIT"); }

  Status Rollback() override { return Exec("ROLLBACK"); }

  Result<int64_t> SchemaVersion() override {
    // Not from the cache: a statement left open keeps a migration's DROP from its tables.
    ASSIGN_OR_RETURN(StatementPtr stmt, PrepareNew("PRAGMA user_version"));
    int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return SqliteError(db_.get(), "sqlite schema version");
    }
    return rc == SQLITE_ROW ? sqlite3_column_int64(stmt.get(), 0) : 0;
  }

  Status SetSchemaVersion(int64_t version) override {
    return Exec("PRAGMA user_version=" + std::to_string(version));
  }

 private:
  Result<StatementPtr> PrepareNew(std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK) {
      return SqliteError(db_.get(), "sqlite prepare");
    }
    return StatementPtr(stmt);
  }

  // Declared before the cache, so destroyed after it: statements are finalized before the
  // connection closes.
  std::unique_ptr<sqlite3, SqliteCloser> db_;
  // Preparing costs more than running most of this project's statements; each SQL text is
  // prepared once per connection.
  std::map<std::string, std::unique_ptr<CachedStatement>, std::less<>> cache_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::filesystem::path& path,
                                                     bool create) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  auto db = std::make_unique<SqliteDatabase>(raw);
  if (rc != SQLITE_OK) {
    return MakeError(ErrorCode::kNotFound, "cannot open database " + path.string() + ": " +
                                               (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_busy_timeout(raw, 10000);
  // NORMAL is durable against a killed process in WAL mode; only power loss can lose the
  // last commits, never corrupt the file.
  RETURN_IF_ERROR(
      db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace concierge::store
