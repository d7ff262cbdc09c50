#include "tests/support/postgres_cluster.h"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace concierge::testing {
namespace {

std::string Quoted(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return quoted + "'";
}

std::string Output(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return out;
  }
  std::array<char, 256> buffer{};
  while (fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) {
    out += buffer.data();
  }
  (void)pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

// The server's programs: CONCIERGE_PG_BINDIR, else pg_config's answer, else Debian's layout.
std::filesystem::path FindBinDir() {
  if (const char* set = std::getenv("CONCIERGE_PG_BINDIR"); set != nullptr && *set != '\0') {
    return set;
  }
  std::filesystem::path from_config = Output("pg_config --bindir 2>/dev/null");
  if (!from_config.empty() && std::filesystem::exists(from_config / "initdb")) {
    return from_config;
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    if (std::filesystem::exists(entry.path() / "bin" / "initdb")) {
      return entry.path() / "bin";
    }
  }
  return {};
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<std::unique_ptr<PostgresCluster>> PostgresCluster::Start() {
  std::filesystem::path bin = FindBinDir();
  if (bin.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "PostgreSQL's initdb was not found (install Debian's postgresql-15, or set "
                     "CONCIERGE_PG_BINDIR)");
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "concierge-pg-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return MakeError(ErrorCode::kInternal, "cannot make a directory for PostgreSQL");
  }
  std::filesystem::path dir = pattern;
  std::unique_ptr<PostgresCluster> cluster(new PostgresCluster(dir, bin));
  std::string as_user;
  if (geteuid() == 0) {
    const passwd* postgres = getpwnam("postgres");
    if (postgres == nullptr) {
      return MakeError(ErrorCode::kNotFound,
                       "running as root, and there is no postgres user to run PostgreSQL as "
                       "(Debian's postgresql-15 makes one)");
    }
    if (chown(dir.c_str(), postgres->pw_uid, postgres->pw_gid) != 0) {
      return MakeError(ErrorCode::kInternal, "cannot give " + dir.string() + " to postgres");
    }
    as_user = "runuser -u postgres -- ";
  }
  std::string log = (dir / "server.log").string();
  std::string data = (dir / "data").string();
  std::string initdb = as_user + Quoted((bin / "initdb").string()) + " -D " + Quoted(data) +
                       " -A trust -U concierge -E UTF8 --locale=C --no-sync > " +
                       Quoted((dir / "initdb.log").string()) + " 2>&1";
  if (std::system(initdb.c_str()) != 0) {
    return MakeError(ErrorCode::kUnavailable, "initdb failed: " + ReadFile(dir / "initdb.log"));
  }
  // fsync off: a test cluster is thrown away, and the suite runs on a 2-core machine.
  std::string settings = "-c listen_addresses='' -c unix_socket_directories=" + dir.string() +
                         " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                         " -c max_connections=200";
  std::string start = as_user + Quoted((bin / "pg_ctl").string()) + " -D " + Quoted(data) + " -o " +
                      Quoted(settings) + " -l " + Quoted(log) + " -w -t 60 start > /dev/null 2>&1";
  if (std::system(start.c_str()) != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "PostgreSQL did not start; its log: " + ReadFile(log));
  }
  return cluster;
}

PostgresCluster::~PostgresCluster() {
  std::string as_user = geteuid() == 0 ? "runuser -u postgres -- " : "";
  if (std::filesystem::exists(dir_ / "data" / "postmaster.pid")) {
    std::string stop = as_user + Quoted((bin_ / "pg_ctl").string()) + " -D " +
                       Quoted((dir_ / "data").string()) + " -m immediate -w stop > /dev/null 2>&1";
    (void)std::system(stop.c_str());
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PostgresCluster::Uri(std::string_view database) const {
  return "postgresql://concierge@/" + std::string(database) + "?host=" + dir_.string();
}

Result<PostgresCluster*> SharedPostgresCluster() {
  static Result<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::Start();
  if (!cluster) {
    return std::unexpected(cluster.error());
  }
  return cluster->get();
}

}  // namespace concierge::testing
