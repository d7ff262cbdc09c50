#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <sqlite3.h>

#include "common/bytes.h"

namespace concierge::store {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

struct StatementCacheEntry;

// Statement is one prepared statement. Bind indexes start at 1, column indexes at 0. A
// statement from the Database's cache is reset and handed back on destruction instead of
// being finalized.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}

  explicit Statement(StatementCacheEntry* cached);

  Statement(Statement&& other) noexcept
      : stmt_(std::move(other.stmt_)), cached_(std::exchange(other.cached_, nullptr)) {}

  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, ByteSpan value);
  Statement& BindNull(int index);

  template <typename... Args>
  Statement& BindAll(const Args&... args) {
    int index = 1;
    (BindOne(index++, args), ...);
    return *this;
  }

  // Step advances; true when a row is available, false when done.
  Result<bool> Step();
  // Run steps to completion, for statements that return no rows.
  Status Run();

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

  std::string Text(int column) const;
  Bytes Blob(int column) const;

  bool IsNull(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }

 private:
  void BindOne(int index, int64_t value) { Bind(index, value); }

  void BindOne(int index, int value) { Bind(index, int64_t{value}); }

  void BindOne(int index, bool value) { Bind(index, int64_t{value ? 1 : 0}); }

  void BindOne(int index, const std::string& value) { Bind(index, std::string_view{value}); }

  void BindOne(int index, const char* value) { Bind(index, std::string_view{value}); }

  void BindOne(int index, std::string_view value) { Bind(index, value); }

  void BindOne(int index, const Bytes& value) { Bind(index, ByteSpan(value)); }

  void BindOne(int index, ByteSpan value) { Bind(index, value); }

  void BindOne(int index, std::nullptr_t) { BindNull(index); }

  std::unique_ptr<sqlite3_stmt, StatementFinalizer> stmt_;
  StatementCacheEntry* cached_ = nullptr;
};

struct StatementCacheEntry {
  std::unique_ptr<sqlite3_stmt, StatementFinalizer> stmt;
  bool in_use = false;
};

// Database is one SQLite connection in WAL mode with foreign keys on. Not thread-safe: callers
// serialise access (the stores hold a mutex).
class Database {
 public:
  // Open opens (or, with create, creates) the database file; ":memory:" works for tests.
  static Result<Database> Open(const std::filesystem::path& path, bool create);

  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);

  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_.get()); }

  int Changes() const { return sqlite3_changes(db_.get()); }

  // Migrate applies migrations[user_version..] in one transaction each, bumping user_version.
  Status Migrate(std::span<const std::string_view> migrations);
  // MigrateComponent is Migrate for a module that keeps its own tables in a database another
  // module owns (the MUD manager in the site's database): its version is kept in a
  // schema_versions row named component, so the two schemas evolve independently.
  Status MigrateComponent(std::string_view component, std::span<const std::string_view> migrations);

  sqlite3* get() const { return db_.get(); }

 private:
  explicit Database(sqlite3* db) : db_(db) {}

  // Declared before the cache, so destroyed after it: statements are finalized before the
  // connection closes.
  std::unique_ptr<sqlite3, SqliteCloser> db_;
  // Preparing costs more than running most of this project's statements; each SQL text is
  // prepared once per connection.
  std::map<std::string, std::unique_ptr<StatementCacheEntry>, std::less<>> cache_;
};

// Transaction takes the write lock at once (BEGIN IMMEDIATE) so that read-then-write sequences,
// like appending to the audit chain, cannot interleave with another process. Rolls back unless
// Commit succeeded.
class Transaction {
 public:
  static Result<Transaction> Begin(Database& db);

  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }

  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}

  Database* db_;
};

}  // namespace concierge::store
