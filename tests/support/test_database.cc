#include "tests/support/test_database.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include <gtest/gtest.h>

#include "common/files.h"
#include "store/open_database.h"
#include "store/postgres_database.h"
#include "tests/support/postgres_cluster.h"

namespace concierge::testing {

bool OnPostgres() {
  const char* backend = std::getenv("CONCIERGE_TEST_BACKEND");
  return backend != nullptr && std::string_view(backend) == "postgresql";
}

TestDatabase::TestDatabase() {
  if (!OnPostgres()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "concierge-db-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      problem_ = "cannot make a temporary directory";
      return;
    }
    dir_ = pattern;
    location_ = (dir_ / "site.db").string();
    return;
  }
  auto cluster = SharedPostgresCluster();
  if (!cluster) {
    problem_ = "PostgreSQL is not available for the store tests: " + cluster.error().ToString();
    return;
  }
  static std::atomic<int> next{0};
  std::string schema = "test_" + std::to_string(getpid()) + "_" + std::to_string(++next);
  auto admin = store::OpenDatabase((*cluster)->Uri());
  if (!admin) {
    problem_ = admin.error().ToString();
    return;
  }
  if (auto made = (*admin)->Exec("CREATE SCHEMA " + schema); !made) {
    problem_ = made.error().ToString();
    return;
  }
  location_ = store::InSchema((*cluster)->Uri(), schema);
}

TestDatabase::~TestDatabase() {
  std::error_code ec;
  if (!dir_.empty()) {
    std::filesystem::remove_all(dir_, ec);
  }
}

std::unique_ptr<store::Database> TestDatabase::Open() const {
  return store::OpenDatabase(location_).value();
}

std::string TestDatabase::Contents() const {
  if (!OnPostgres()) {
    return ReadFile(location_).value();
  }
  auto db = Open();
  EXPECT_TRUE(db->Exec("SET bytea_output TO escape"));
  auto tables = db->Prepare(
                      "SELECT table_name FROM information_schema.tables"
                      " WHERE table_schema = current_schema() ORDER BY table_name")
                    .value();
  std::vector<std::string> names;
  while (tables.Step().value()) {
    names.push_back(tables.Text(0));
  }
  std::string contents;
  for (const std::string& name : names) {
    auto rows = db->Prepare("SELECT t::text FROM \"" + name + "\" t").value();
    while (rows.Step().value()) {
      contents += rows.Text(0) + "\n";
    }
  }
  return contents;
}

}  // namespace concierge::testing
