#include "store/postgres_database.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

#include <libpq-fe.h>

#include "common/log.h"
#include "metrics/metrics.h"
#include "store/postgres_sql.h"

namespace concierge::store {
namespace {

struct ConnectionCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};

struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};

using ConnectionPtr = std::unique_ptr<PGconn, ConnectionCloser>;
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

// bytea's type oid (pg_type.h), for the blobs bound in binary format.
constexpr Oid kByteaOid = 17;
// The advisory lock every write transaction takes: one writer at a time, database-wide.
constexpr int64_t kWriteLockKey = 0x436f6e6369657267;  // "Concierg"

std::string Trimmed(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

ErrorCode CodeOfSqlState(std::string_view state) {
  if (state.starts_with("23")) {
    return ErrorCode::kAlreadyExists;  // as SQLite's constraint failures
  }
  // Connection lost, server shutting down, read-only after a failover, lock or serialization
  // conflicts: retrying (on a fresh connection) may help.
  if (state.starts_with("08") || state.starts_with("57P") || state == "25006" || state == "40001" ||
      state == "40P01" || state == "55P03") {
    return ErrorCode::kUnavailable;
  }
  return ErrorCode::kInternal;
}

std::unexpected<Error> ResultError(PGconn* conn, const PGresult* result, std::string_view what) {
  if (result == nullptr) {
    return MakeError(ErrorCode::kUnavailable,
                     "postgresql " + std::string(what) + ": " + Trimmed(PQerrorMessage(conn)));
  }
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  ErrorCode code = state == nullptr ? ErrorCode::kUnavailable : CodeOfSqlState(state);
  return MakeError(
      code, "postgresql " + std::string(what) + ": " + Trimmed(PQresultErrorMessage(result)));
}

class PostgresDatabase;

class PostgresStatement final : public StatementBackend {
 public:
  PostgresStatement(PostgresDatabase* db, const std::string* sql) : db_(db), sql_(sql) {}

  void Bind(int index, int64_t value) override { Set(index, std::to_string(value), 0, 0); }

  void Bind(int index, std::string_view value) override { Set(index, std::string(value), 0, 0); }

  void Bind(int index, ByteSpan value) override {
    Set(index, std::string(value.begin(), value.end()), kByteaOid, 1);
  }

  void BindNull(int index) override {
    Slot(index);
    values_[static_cast<size_t>(index - 1)].reset();
  }

  Result<bool> Step() override;

  void Reset() override {
    result_.reset();
    row_ = -1;
  }

  int64_t Int(int column) const override {
    const char* text = PQgetvalue(result_.get(), row_, column);
    if (text[0] == 't' || text[0] == 'f') {
      return text[0] == 't' ? 1 : 0;  // a boolean expression, which SQLite gives as 0 or 1
    }
    return std::strtoll(text, nullptr, 10);
  }

  std::string Text(int column) const override {
    return std::string(PQgetvalue(result_.get(), row_, column),
                       static_cast<size_t>(PQgetlength(result_.get(), row_, column)));
  }

  Bytes Blob(int column) const override {
    size_t size = 0;
    unsigned char* data = PQunescapeBytea(
        reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row_, column)), &size);
    if (data == nullptr) {
      return {};
    }
    Bytes bytes(data, data + size);
    PQfreemem(data);
    return bytes;
  }

  bool IsNull(int column) const override { return PQgetisnull(result_.get(), row_, column) != 0; }

 private:
  void Slot(int index) {
    auto size = static_cast<size_t>(index);
    if (values_.size() < size) {
      values_.resize(size);
      types_.resize(size, 0);
      formats_.resize(size, 0);
    }
  }

  void Set(int index, std::string value, Oid type, int format) {
    Slot(index);
    auto at = static_cast<size_t>(index - 1);
    values_[at] = std::move(value);
    types_[at] = type;
    formats_[at] = format;
  }

  PostgresDatabase* db_;
  const std::string* sql_;
  std::vector<std::optional<std::string>> values_;
  // Text and integers go untyped, so the server takes the column's type, as SQLite would.
  std::vector<Oid> types_;
  std::vector<int> formats_;
  ResultPtr result_;
  int row_ = -1;
};

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(ConnectionPtr conn) : conn_(std::move(conn)) {}

  Status Exec(std::string_view sql) override {
    RETURN_IF_ERROR(Connected());
    std::string text = PostgreSqlFromSqlite(sql);
    ResultPtr result(PQexec(conn_.get(), text.c_str()));
    ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return Failed(result.get(), "exec");
    }
    return OkStatus();
  }

  Result<Statement> Prepare(std::string_view sql) override {
    auto it = translated_.find(sql);
    if (it == translated_.end()) {
      it = translated_.emplace(std::string(sql), PostgreSqlFromSqlite(sql)).first;
    }
    return Statement(std::make_unique<PostgresStatement>(this, &it->second));
  }

  int64_t Changes() const override { return changes_; }

  Status BeginWrite() override {
    RETURN_IF_ERROR(Exec("BEGIN"));
    in_transaction_ = true;
    auto locked = Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) + ")");
    if (!locked) {
      (void)Rollback();
    }
    return locked;
  }

  Status Commit() override {
    in_transaction_ = false;
    return Exec("COMMIT");
  }

  Status Rollback() override {
    in_transaction_ = false;
    return Exec("ROLLBACK");
  }

  Result<int64_t> SchemaVersion() override {
    ASSIGN_OR_RETURN(auto exists,
                     Prepare("SELECT to_regclass('concierge_schema_version') IS NOT NULL"));
    ASSIGN_OR_RETURN(bool row, exists.Step());
    if (!row || exists.Int(0) == 0) {
      return 0;
    }
    ASSIGN_OR_RETURN(auto query, Prepare("SELECT version FROM concierge_schema_version"));
    ASSIGN_OR_RETURN(bool found, query.Step());
    return found ? query.Int(0) : 0;
  }

  Status SetSchemaVersion(int64_t version) override {
    return Exec(
        "CREATE TABLE IF NOT EXISTS concierge_schema_version(version BIGINT NOT NULL);"
        "DELETE FROM concierge_schema_version;"
        "INSERT INTO concierge_schema_version(version) VALUES (" +
        std::to_string(version) + ")");
  }

  // Run executes a statement's SQL with its parameters; the result is the caller's. Each SQL
  // text is prepared once per connection (parsing and planning cost more than running most of
  // the stores' statements), with the parameter types of its first run.
  Result<ResultPtr> Run(const std::string& sql,
                        const std::vector<std::optional<std::string>>& values,
                        const std::vector<Oid>& types, const std::vector<int>& formats) {
    RETURN_IF_ERROR(Connected());
    auto prepared = prepared_.find(sql);
    if (prepared == prepared_.end()) {
      std::string name = "s" + std::to_string(prepared_.size());
      ResultPtr made(PQprepare(conn_.get(), name.c_str(), sql.c_str(),
                               static_cast<int>(values.size()), types.data()));
      if (PQresultStatus(made.get()) != PGRES_COMMAND_OK) {
        return Failed(made.get(), "prepare");
      }
      prepared = prepared_.emplace(sql, std::move(name)).first;
    }
    std::vector<const char*> pointers;
    std::vector<int> lengths;
    pointers.reserve(values.size());
    lengths.reserve(values.size());
    for (const auto& value : values) {
      pointers.push_back(value ? value->data() : nullptr);
      lengths.push_back(value ? static_cast<int>(value->size()) : 0);
    }
    ResultPtr result(PQexecPrepared(conn_.get(), prepared->second.c_str(),
                                    static_cast<int>(values.size()), pointers.data(),
                                    lengths.data(), formats.data(), /*resultFormat=*/0));
    ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return Failed(result.get(), "statement");
    }
    const char* changed = PQcmdTuples(result.get());
    changes_ = changed[0] == '\0' ? 0 : std::strtoll(changed, nullptr, 10);
    return result;
  }

 private:
  // Failed is the error for a failed call; a connection it broke is told once, and its
  // outage timed until Connected restores it.
  std::unexpected<Error> Failed(const PGresult* result, std::string_view what) {
    auto error = ResultError(conn_.get(), result, what);
    metrics::Global().Count(
        "concierge_database_errors_total", "Statements the database refused or could not run",
        {{"backend", "postgresql"}, {"kind", std::string(ErrorCodeName(error.error().code()))}});
    if (PQstatus(conn_.get()) != CONNECTION_OK && !broken_since_) {
      broken_since_ = std::chrono::steady_clock::now();
      Log(LogLevel::kWarning,
          "lost the PostgreSQL connection (" + error.error().message() + "); reconnecting");
    }
    return error;
  }

  // Connected opens the connection again if it broke (the server restarted, or a failover
  // moved the primary), unless a transaction was open on it: that one is lost, and its
  // caller hears so.
  Status Connected() {
    if (PQstatus(conn_.get()) == CONNECTION_OK) {
      return OkStatus();
    }
    if (in_transaction_) {
      return MakeError(ErrorCode::kUnavailable,
                       "postgresql: the connection broke inside a transaction: " +
                           Trimmed(PQerrorMessage(conn_.get())));
    }
    if (!broken_since_) {
      broken_since_ = std::chrono::steady_clock::now();
    }
    PQreset(conn_.get());
    prepared_.clear();  // a new session knows none of them
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      return MakeError(ErrorCode::kUnavailable,
                       "postgresql: cannot reconnect: " + Trimmed(PQerrorMessage(conn_.get())));
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - *broken_since_).count();
    broken_since_.reset();
    metrics::Global().Count("concierge_database_reconnects_total",
                            "Database connections opened again after they broke",
                            {{"backend", "postgresql"}});
    metrics::Global().Observe("concierge_database_outage_seconds",
                              "How long a broken database connection took to open again",
                              {{"backend", "postgresql"}}, seconds);
    char pause[32];
    (void)std::snprintf(pause, sizeof(pause), "%.2f", seconds);
    const char* host = PQhost(conn_.get());
    Log(LogLevel::kNotice, std::string("PostgreSQL connection restored after ") + pause +
                               " s, to " + (host != nullptr ? host : "?") +
                               (PQport(conn_.get()) ? std::string(":") + PQport(conn_.get()) : ""));
    return OkStatus();
  }

  ConnectionPtr conn_;
  std::map<std::string, std::string, std::less<>> translated_;
  // Statement names on this connection, by their (PostgreSQL) SQL text.
  std::map<std::string, std::string, std::less<>> prepared_;
  int64_t changes_ = 0;
  std::optional<std::chrono::steady_clock::time_point> broken_since_;
  bool in_transaction_ = false;
};

Result<bool> PostgresStatement::Step() {
  if (!result_) {
    ASSIGN_OR_RETURN(result_, db_->Run(*sql_, values_, types_, formats_));
    row_ = -1;
  }
  ++row_;
  return row_ < PQntuples(result_.get());
}

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

}  // namespace

bool IsPostgresLocation(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string InSchema(const std::string& uri, const std::string& schema) {
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "options=-c%20search_path%3D" +
         schema;
}

Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& location) {
  // A host that does not answer must not hold a store (and every request waiting on it) for
  // TCP's minutes of retries: unless the URI says otherwise, give up on a host after 5 s and
  // try the next.
  std::string conninfo = location;
  if (IsPostgresLocation(location) && location.find("connect_timeout=") == std::string::npos) {
    conninfo += (location.find('?') == std::string::npos ? "?" : "&");
    conninfo += "connect_timeout=5";
  }
  ConnectionPtr conn(PQconnectdb(conninfo.c_str()));
  if (!conn) {
    return MakeError(ErrorCode::kInternal, "postgresql: out of memory");
  }
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot connect to PostgreSQL: " + Trimmed(PQerrorMessage(conn.get())));
  }
  // "relation already exists, skipping" and the like are for people at a psql prompt.
  PQsetNoticeProcessor(conn.get(), IgnoreNotice, nullptr);
  return std::unique_ptr<Database>(std::make_unique<PostgresDatabase>(std::move(conn)));
}

}  // namespace concierge::store
