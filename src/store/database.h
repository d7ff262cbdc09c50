#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"

namespace concierge::store {

// The storage seam. Every store (site, MUD, exposure, maker) speaks to a Database through
// this interface and knows no backend: SQL text with `?` placeholders, a write Transaction,
// a schema version for migrations. A backend (store/sqlite_database.h; PostgreSQL next)
// implements Database and StatementBackend, and the same store tests run over each.

// StatementBackend is one prepared statement in a backend. Bind indexes start at 1, column
// indexes at 0.
class StatementBackend {
 public:
  virtual ~StatementBackend() = default;

  virtual void Bind(int index, int64_t value) = 0;
  virtual void Bind(int index, std::string_view value) = 0;
  virtual void Bind(int index, ByteSpan value) = 0;
  virtual void BindNull(int index) = 0;
  // Step advances; true when a row is available, false when done.
  virtual Result<bool> Step() = 0;
  // Reset makes a finished statement ready to bind and run again.
  virtual void Reset() = 0;
  virtual int64_t Int(int column) const = 0;
  virtual std::string Text(int column) const = 0;
  virtual Bytes Blob(int column) const = 0;
  virtual bool IsNull(int column) const = 0;
};

// Statement is the handle stores use: typed binding of a whole argument list, stepping, and
// column reads, over whichever backend prepared it.
class Statement {
 public:
  explicit Statement(std::unique_ptr<StatementBackend> backend) : backend_(std::move(backend)) {}

  Statement& Bind(int index, int64_t value) {
    backend_->Bind(index, value);
    return *this;
  }

  Statement& Bind(int index, std::string_view value) {
    backend_->Bind(index, value);
    return *this;
  }

  Statement& Bind(int index, ByteSpan value) {
    backend_->Bind(index, value);
    return *this;
  }

  Statement& BindNull(int index) {
    backend_->BindNull(index);
    return *this;
  }

  // BindTexts binds values to the placeholders first, first + 1, and on: for a query whose
  // conditions are built at run time (a filter, an InList).
  Statement& BindTexts(int first, const std::vector<std::string>& values) {
    for (std::string_view value : values) {
      backend_->Bind(first++, value);
    }
    return *this;
  }

  template <typename... Args>
  Statement& BindAll(const Args&... args) {
    int index = 1;
    (BindOne(index++, args), ...);
    return *this;
  }

  Result<bool> Step() { return backend_->Step(); }

  // Run steps to completion, for statements that return no rows.
  Status Run();
  // RunReturningId runs an `INSERT … RETURNING id` and gives the new row's id.
  Result<int64_t> RunReturningId();

  int64_t Int(int column) const { return backend_->Int(column); }

  std::string Text(int column) const { return backend_->Text(column); }

  Bytes Blob(int column) const { return backend_->Blob(column); }

  bool IsNull(int column) const { return backend_->IsNull(column); }

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

  std::unique_ptr<StatementBackend> backend_;
};

// Database is one connection to a store's backend. Not thread-safe: callers serialise access
// (the stores hold a mutex).
class Database {
 public:
  virtual ~Database() = default;

  // Exec runs SQL without parameters, possibly several statements (a migration).
  virtual Status Exec(std::string_view sql) = 0;
  virtual Result<Statement> Prepare(std::string_view sql) = 0;
  // Changes counts the rows the last INSERT, UPDATE or DELETE changed.
  virtual int64_t Changes() const = 0;

  // A write transaction holds the write lock from its start, so read-then-write sequences,
  // like appending to the audit chain, cannot interleave with another writer (another process
  // on the same file, another site controller on the same server). Use Transaction.
  virtual Status BeginWrite() = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;

  // The schema version Migrate keeps, 0 for a new database.
  virtual Result<int64_t> SchemaVersion() = 0;
  virtual Status SetSchemaVersion(int64_t version) = 0;

  // InTransaction says whether a Transaction is open on this connection.
  bool InTransaction() const { return in_transaction_; }

  // AfterCommit runs done once the open Transaction commits, and never if it rolls back; with
  // no Transaction open, at once. For telling others of a change only when it is durable.
  void AfterCommit(std::function<void()> done);

 private:
  friend class Transaction;

  bool in_transaction_ = false;
  std::vector<std::function<void()>> after_commit_;
};

// Transaction is a write transaction that rolls back unless Commit succeeded.
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

// InList is "column IN (?, …)" with count placeholders; with none, a condition no row meets.
std::string InList(std::string_view column, size_t count);

// Migrate applies migrations[version..] in one transaction each, bumping the schema version.
Status Migrate(Database& db, std::span<const std::string_view> migrations);
// MigrateComponent is Migrate for a module that keeps its own tables in a database another
// module owns (the MUD manager in the site's database): its version is kept in a
// schema_versions row named component, so the two schemas evolve independently.
Status MigrateComponent(Database& db, std::string_view component,
                        std::span<const std::string_view> migrations);

}  // namespace concierge::store
