#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "store/database.h"

namespace concierge::testing {

// The store tests run on each backend: SQLite by default, PostgreSQL when the environment
// says CONCIERGE_TEST_BACKEND=postgresql (CTest registers each store test both ways). For
// PostgreSQL the suite starts its own cluster once per test process (initdb and pg_ctl in a
// temporary directory, on a Unix socket there, as the postgres user when run as root) and
// stops it at exit.
bool OnPostgres();

// TestDatabase is one empty database for one test: an SQLite file in a temporary directory,
// or a schema of its own in the suite's PostgreSQL cluster. Every Open is a new connection to
// the same database, as another process would have.
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // False when PostgreSQL could not be started; Problem() says why, for GTEST_SKIP.
  bool Ready() const { return problem_.empty(); }

  const std::string& Problem() const { return problem_; }

  // Location is what store::OpenDatabase and the stores' Open take.
  const std::string& Location() const { return location_; }

  std::unique_ptr<store::Database> Open() const;
  // Contents is everything the database keeps, as bytes to search for what must not be kept:
  // the SQLite file, or every row of every table as PostgreSQL prints it (bytea escaped, so
  // printable bytes stay readable).
  std::string Contents() const;

 private:
  std::filesystem::path dir_;
  std::string location_;
  std::string problem_;
};

// A fixture's SetUp starts with this, so that a missing PostgreSQL is a skip that says why,
// never a pass.
#define CONCIERGE_SKIP_UNLESS_READY(database) \
  if (!(database).Ready())                    \
  GTEST_SKIP() << (database).Problem()

}  // namespace concierge::testing
