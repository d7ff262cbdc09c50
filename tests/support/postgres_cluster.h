#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace concierge::testing {

// PostgresCluster is a PostgreSQL server of the tests' own: initdb and pg_ctl on a temporary
// directory, listening only on a Unix socket there (no port to share with anything), with
// trust authentication for the user "concierge". As root it runs as the postgres user, since
// PostgreSQL refuses to run as root. Stopped and removed on destruction.
class PostgresCluster {
 public:
  // Start says plainly why it could not: no initdb, no postgres user, a server that would not
  // start (with its log).
  static Result<std::unique_ptr<PostgresCluster>> Start();
  ~PostgresCluster();

  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // Uri names a database of the cluster.
  std::string Uri(std::string_view database = "postgres") const;

 private:
  explicit PostgresCluster(std::filesystem::path dir, std::filesystem::path bin)
      : dir_(std::move(dir)), bin_(std::move(bin)) {}

  std::filesystem::path dir_;
  std::filesystem::path bin_;
};

// SharedPostgresCluster is one cluster for the whole test process, started on first use.
Result<PostgresCluster*> SharedPostgresCluster();

}  // namespace concierge::testing
