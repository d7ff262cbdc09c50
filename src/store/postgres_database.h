#pragma once

#include <memory>
#include <string>

#include "store/database.h"

namespace concierge::store {

// OpenPostgresDatabase connects to PostgreSQL with a libpq connection string or URI
// (postgresql://user@host:port/db?target_session_attrs=read-write, several hosts allowed).
// The stores' SQL is rewritten to PostgreSQL's dialect (store/postgres_sql.h). A write
// Transaction takes a database-wide advisory lock, so writers on several site controllers
// take turns as SQLite's writers do. A connection that breaks (a restart, a failover) is
// opened again before the next statement outside a transaction.
// Without connect_timeout in the URI, a host gets 5 s to answer.
Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& location);

// IsPostgresLocation tells a PostgreSQL connection string from a file path.
bool IsPostgresLocation(std::string_view location);

// InSchema is uri with the tables' schema set to schema (libpq's options=-c search_path=…), for
// keeping a lab run or a test apart from everything else in one database.
std::string InSchema(const std::string& uri, const std::string& schema);

}  // namespace concierge::store
