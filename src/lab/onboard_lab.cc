#include "lab/onboard_lab.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>

#include "coap/coaps_server.h"
#include "common/files.h"
#include "common/temp_dir.h"
#include "joinproxy/proxy_server.h"
#include "joinproxy/registrar_front.h"
#include "lab/lab_world.h"
#include "lab/policy_lab.h"
#include "loop/event_loop.h"
#include "masa/maker_directory.h"
#include "pledge/coaps_connector.h"
#include "pledge/https_connector.h"
#include "pledge/pledge.h"
#include "registrar/registrar_coap.h"
#include "store/open_database.h"
#include "store/postgres_database.h"

namespace concierge::lab {
namespace {

// LabSchema is a schema of the lab's own in a PostgreSQL database, dropped after the run.
struct LabSchema {
  static Result<std::unique_ptr<LabSchema>> Make(const std::string& uri, Random& random) {
    auto schema = std::make_unique<LabSchema>();
    schema->name = "concierge_lab_" + HexEncode(random.Generate(6));
    ASSIGN_OR_RETURN_CTX(schema->admin, store::OpenDatabase(uri), "--db");
    RETURN_IF_ERROR(schema->admin->Exec("CREATE SCHEMA " + schema->name));
    schema->location = store::InSchema(uri, schema->name);
    return schema;
  }

  ~LabSchema() {
    if (admin) {
      (void)admin->Exec("DROP SCHEMA " + name + " CASCADE");
    }
  }

  // Bytes is the size of every table and index in the schema.
  Result<int64_t> Bytes() {
    ASSIGN_OR_RETURN(auto query,
                     admin->Prepare("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)"
                                    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                                    " WHERE n.nspname = ? AND c.relkind = 'r'"));
    query.BindAll(name);
    ASSIGN_OR_RETURN(bool row, query.Step());
    return row ? query.Int(0) : 0;
  }

  std::string name;
  std::string location;
  std::unique_ptr<store::Database> admin;
};

// FileBytes is an SQLite database's size with what its write-ahead log still holds.
Result<int64_t> FileBytes(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return MakeError(ErrorCode::kNotFound, "cannot size " + path.string() + ": " + ec.message());
  }
  auto wal = std::filesystem::file_size(path.string() + "-wal", ec);
  return static_cast<int64_t>(size + (ec ? 0 : wal));
}

}  // namespace

// LoopbackBytes is what the loopback interface has carried so far (it counts each packet once
// as sent), or -1 where the kernel does not say.
namespace {
int64_t LoopbackBytes() {
  auto text = ReadFile("/sys/class/net/lo/statistics/tx_bytes");
  return text ? std::atoll(text->c_str()) : -1;
}
}  // namespace

Json OnboardReport::ToJson() const {
  return Json{{"devices", devices},
              {"enrolled", enrolled},
              {"failed", failed},
              {"seconds", seconds},
              {"enrollments_per_s", enrollments_per_s},
              {"crypto_bound_per_s", crypto_bound_per_s},
              {"ratio", ratio},
              {"latency_p50_ms", latency_p50_ms},
              {"latency_p99_ms", latency_p99_ms},
              {"peak_rss_mb", peak_rss_mb},
              {"cores", cores},
              {"controllers", controllers},
              {"database", database},
              {"database_mb_per_100k", database_mb_per_100k},
              {"via", via},
              {"loopback_bytes_per_enrollment", loopback_bytes_per_enrollment},
              {"p256_sign_per_s", rates.sign_per_s},
              {"p256_verify_per_s", rates.verify_per_s},
              {"p256_ecdh_per_s", rates.ecdh_per_s},
              {"retries", retries},
              {"longest_gap_ms", longest_gap_ms},
              {"first_error", first_error}};
}

std::string OnboardReport::ToText() const {
  char buffer[1024];
  (void)std::snprintf(buffer, sizeof(buffer),
                      "devices              %d\n"
                      "enrolled             %d\n"
                      "failed               %d\n"
                      "seconds              %.3f\n"
                      "enrollments_per_s    %.1f\n"
                      "crypto_bound_per_s   %.1f   (%u cores; P-256 sign %.0f/s, verify %.0f/s, "
                      "ECDH %.0f/s per core)\n"
                      "ratio                %.3f\n"
                      "latency p50 / p99    %.1f ms / %.1f ms\n"
                      "peak RSS             %.1f MB (whole lab process: MASA, registrar, pledges)\n"
                      "controllers          %d (%s)\n",
                      devices, enrolled, failed, seconds, enrollments_per_s, crypto_bound_per_s,
                      cores, rates.sign_per_s, rates.verify_per_s, rates.ecdh_per_s, ratio,
                      latency_p50_ms, latency_p99_ms, peak_rss_mb, controllers, database.c_str());
  std::string text = buffer;
  if (database_mb_per_100k > 0) {
    (void)std::snprintf(buffer, sizeof(buffer),
                        "database             %.1f MB per 100,000 devices\n", database_mb_per_100k);
    text += buffer;
  }
  if (retries > 0) {
    text += "retries              " + std::to_string(retries) + "\n";
  }
  (void)std::snprintf(buffer, sizeof(buffer), "via                  %s\n", via.c_str());
  text += buffer;
  if (loopback_bytes_per_enrollment > 0) {
    (void)std::snprintf(buffer, sizeof(buffer),
                        "loopback bytes       %.0f per enrollment (pledge and MASA legs)\n",
                        loopback_bytes_per_enrollment);
    text += buffer;
  }
  (void)std::snprintf(buffer, sizeof(buffer), "longest gap          %.1f ms\n", longest_gap_ms);
  text += buffer;
  if (!first_error.empty()) {
    text += "first error          " + first_error + "\n";
  }
  return text;
}

namespace {

// Enrollments is what driving the pledges found.
struct Enrollments {
  std::vector<double> latencies_ms;
  std::vector<double> finished_at_ms;  // since the start, in completion order
  std::string first_error;
  int retries = 0;
  double seconds = 0;
};

// Worth another controller: what a controller that stopped, or lost its database for a
// moment, answers; never a refusal of the device itself.
bool WorthRetrying(const Error& error) {
  return error.code() != ErrorCode::kSecurity && error.code() != ErrorCode::kUnauthenticated &&
         error.code() != ErrorCode::kPermissionDenied;
}

// EnrollAll enrolls every identity with concurrency pledges in flight. Pledge i starts at
// connector i mod N; with attempts > 1, a pledge that fails tries the next connector, as a
// device behind one name with several addresses would.
Enrollments EnrollAll(const std::vector<pledge::PledgeIdentity>& identities,
                      const std::vector<std::unique_ptr<pledge::Connector>>& connectors,
                      const OnboardOptions& options, int attempts, const Clock& clock) {
  std::atomic<size_t> next{0};
  std::atomic<int> done{0};
  std::mutex mutex;
  Enrollments found;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pledges;
  size_t threads = std::min(static_cast<size_t>(options.concurrency), identities.size());
  pledges.reserve(threads);
  for (size_t t = 0; t < threads; ++t) {
    pledges.emplace_back([&] {
      CryptoRandom thread_random;
      loop::EventLoop events;  // each pledge thread drives its own loop
      while (true) {
        size_t index = next.fetch_add(1);
        if (index >= identities.size()) {
          return;
        }
        auto begun = std::chrono::steady_clock::now();
        Result<pledge::EnrollResult> result =
            MakeError(ErrorCode::kInternal, "no attempt was made");
        for (int attempt = 0; attempt < attempts; ++attempt) {
          if (attempt > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
          pledge::Pledge device(
              identities[index],
              *connectors[(index + static_cast<size_t>(attempt)) % connectors.size()], clock,
              events, thread_random);
          result = device.EnrollAndWait();
          if (result || !WorthRetrying(result.error()) || attempt + 1 == attempts) {
            break;
          }
          std::lock_guard lock(mutex);
          ++found.retries;
        }
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begun)
                .count();
        {
          std::lock_guard lock(mutex);
          if (result) {
            found.latencies_ms.push_back(ms);
            found.finished_at_ms.push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count());
          } else if (found.first_error.empty()) {
            found.first_error = result.error().message();
          }
        }
        int finished = done.fetch_add(1) + 1;
        if (options.progress) {
          options.progress(finished, static_cast<int>(identities.size()));
        }
      }
    });
  }
  for (auto& thread : pledges) {
    thread.join();
  }
  found.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return found;
}

// Mint makes count IDevIDs, named prefix-000001 and on, before any clock starts.
Result<std::vector<pledge::PledgeIdentity>> Mint(const masa::MakerDirectory& maker,
                                                 masa::MakerStore& store, const std::string& prefix,
                                                 int count, const Clock& clock, Random& random) {
  std::vector<pledge::PledgeIdentity> identities;
  identities.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    char suffix[16];
    (void)std::snprintf(suffix, sizeof(suffix), "%06d", i + 1);
    ASSIGN_OR_RETURN(
        auto minted,
        masa::MintIdevid(maker, store, {prefix + suffix, "", std::nullopt}, clock, random));
    identities.push_back({minted.idevid, minted.key, {}, {maker.masa.maker_ca, maker.masa.signer}});
  }
  return identities;
}

void Summarise(const Enrollments& found, OnboardReport& report) {
  report.seconds = found.seconds;
  report.enrolled = static_cast<int>(found.latencies_ms.size());
  report.failed = report.devices - report.enrolled;
  report.retries = found.retries;
  report.first_error = found.first_error;
  report.enrollments_per_s = report.enrolled / report.seconds;
  report.ratio = report.enrollments_per_s / report.crypto_bound_per_s;
  report.latency_p50_ms = Percentile(found.latencies_ms, 0.50);
  report.latency_p99_ms = Percentile(found.latencies_ms, 0.99);
  report.peak_rss_mb = PeakRssMb();
  for (size_t i = 1; i < found.finished_at_ms.size(); ++i) {
    report.longest_gap_ms =
        std::max(report.longest_gap_ms, found.finished_at_ms[i] - found.finished_at_ms[i - 1]);
  }
}

// RunAgainstRunningControllers enrolls through site controllers and a MASA already running.
Result<OnboardReport> RunAgainstRunningControllers(const OnboardOptions& options,
                                                   OnboardReport report) {
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(auto maker, masa::LoadMakerDirectory(options.maker_dir));
  if (!options.masa_url.empty()) {
    maker.masa_url = options.masa_url;
  }
  ASSIGN_OR_RETURN(auto store, masa::MakerStore::Open(maker.DatabaseLocation(), clock));
  std::vector<std::unique_ptr<pledge::Connector>> connectors;
  for (const std::string& registrar : options.registrars) {
    ASSIGN_OR_RETURN_CTX(HostPort address, ParseHostPort(registrar), "--registrar");
    connectors.push_back(std::make_unique<pledge::HttpsConnector>(address));
  }
  report.controllers = static_cast<int>(connectors.size());
  report.database = "already running";
  // A tag of this run's own, so that runs against one site never mint the same serial.
  std::string prefix = "LAB-" + HexEncode(random.Generate(3)) + "-";
  ASSIGN_OR_RETURN(auto identities, Mint(maker, *store, prefix, options.devices, clock, random));
  Summarise(EnrollAll(identities, connectors, options, options.attempts, clock), report);
  return report;
}

}  // namespace

Result<OnboardReport> RunOnboardLab(const OnboardOptions& options) {
  if (options.via != "https" && options.via != "coaps" && options.via != "joinproxy" &&
      options.via != "joinproxy-stateful") {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "--via " + options.via + ": expected https, coaps, joinproxy or joinproxy-stateful");
  }
  if (options.via != "https" && !options.registrars.empty()) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "--via " + options.via + " runs the lab's own site controllers, not --registrar ones");
  }
  if (options.devices < 1 || options.concurrency < 1 || options.controllers < 1 ||
      options.attempts < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--devices, --concurrency, --controllers and --attempts must be positive");
  }
  if (options.registrars.empty() != options.maker_dir.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--registrar and --maker go together: running controllers and the maker "
                     "whose MASA they reach");
  }
  OnboardReport report;
  report.devices = options.devices;
  report.via = options.via;
  report.cores = std::max(1u, std::thread::hardware_concurrency());
  ASSIGN_OR_RETURN(report.rates, MeasureP256Rates(std::chrono::milliseconds(300)));
  report.crypto_bound_per_s =
      CryptoBoundPerSecond(report.rates, EnrollmentCryptoCost{}, report.cores);
  if (!options.registrars.empty()) {
    return RunAgainstRunningControllers(options, report);
  }

  SystemClock clock;
  CryptoRandom random;
  TempDir lab("concierge-lab");
  if (lab.path().empty()) {
    return MakeError(ErrorCode::kUnavailable, "cannot make a temporary directory for the lab");
  }
  ASSIGN_OR_RETURN(auto maker, StartLabMaker(lab.path() / "maker", "Lab Maker",
                                             options.masa_workers, clock, random));
  report.controllers = options.controllers;
  report.database = options.database.empty() ? "sqlite" : "postgresql";
  std::unique_ptr<LabSchema> schema;
  std::string location;
  if (!options.database.empty()) {
    ASSIGN_OR_RETURN(schema, LabSchema::Make(options.database, random));
    location = schema->location;
  }
  std::vector<std::unique_ptr<LabSite>> controllers;
  ASSIGN_OR_RETURN(auto first, StartLabSite(lab.path() / "site", "Lab Site", *maker,
                                            options.registrar_workers, clock, random, location));
  controllers.push_back(std::move(first));
  for (int i = 1; i < options.controllers; ++i) {
    ASSIGN_OR_RETURN(auto another, StartLabController(lab.path() / "site",
                                                      options.registrar_workers, clock, random));
    controllers.push_back(std::move(another));
  }
  ASSIGN_OR_RETURN(auto identities,
                   Mint(maker->directory, *maker->store, "LAB-", options.devices, clock, random));
  std::vector<std::unique_ptr<pledge::Connector>> connectors;
  std::vector<std::unique_ptr<coap::CoapsServer>> coaps;
  std::vector<std::unique_ptr<joinproxy::RegistrarFront>> fronts;
  std::vector<std::unique_ptr<joinproxy::ProxyServer>> proxies;
  for (const auto& controller : controllers) {
    if (options.via != "https") {
      ASSIGN_OR_RETURN(
          auto listener,
          coap::CoapsServer::Start(
              {.listen = {"127.0.0.1", 0}, .identity = controller->site->directory().Tls()},
              registrar::RegistrarCoapResources(controller->site->registrar())));
      HostPort pledges_reach{"127.0.0.1", listener->port()};
      if (options.via == "joinproxy-stateful") {
        // One stateful proxy per controller, a flow per pledge to the CoAPS listener. Every
        // lab pledge sends from 127.0.0.1 on loopback, so the draft's limits of 2 flows per
        // address and 10 per interface would measure the limits, not the relaying.
        joinproxy::ProxyServerOptions proxy_options{.listen = {"127.0.0.1", 0},
                                                    .registrar = pledges_reach,
                                                    .mode = joinproxy::ProxyMode::kStateful};
        proxy_options.limits.per_pledge = proxy_options.limits.all_pledges;
        proxy_options.stateful.per_address = proxy_options.stateful.per_interface = 100000;
        ASSIGN_OR_RETURN(auto proxy, joinproxy::ProxyServer::Start(proxy_options));
        pledges_reach.port = proxy->port();
        proxies.push_back(std::move(proxy));
      }
      if (options.via == "joinproxy") {
        // One stateless proxy per controller, its JPY front on the registrar's side. Every lab
        // pledge sends from 127.0.0.1, so the proxy's limit per source is that of all sources.
        ASSIGN_OR_RETURN(auto front, joinproxy::RegistrarFront::Start(
                                         {.listen = {"127.0.0.1", 0}, .dtls = pledges_reach}));
        joinproxy::ProxyServerOptions proxy_options{.listen = {"127.0.0.1", 0},
                                                    .registrar = {"127.0.0.1", front->port()}};
        proxy_options.limits.per_pledge = proxy_options.limits.all_pledges;
        ASSIGN_OR_RETURN(auto proxy, joinproxy::ProxyServer::Start(proxy_options));
        pledges_reach.port = proxy->port();
        fronts.push_back(std::move(front));
        proxies.push_back(std::move(proxy));
      }
      connectors.push_back(std::make_unique<pledge::CoapsConnector>(pledges_reach));
      coaps.push_back(std::move(listener));
    } else {
      connectors.push_back(std::make_unique<pledge::HttpsConnector>(
          HostPort{"127.0.0.1", controller->server->port()}));
    }
  }
  // One attempt each: a benchmark counts failures, never hides them behind retries.
  int64_t loopback_before = LoopbackBytes();
  Enrollments found = EnrollAll(identities, connectors, options, 1, clock);
  int64_t loopback_after = LoopbackBytes();
  if (loopback_before >= 0 && loopback_after >= loopback_before && !found.latencies_ms.empty()) {
    report.loopback_bytes_per_enrollment = static_cast<double>(loopback_after - loopback_before) /
                                           static_cast<double>(found.latencies_ms.size());
  }
  proxies.clear();
  fronts.clear();
  coaps.clear();
  for (const auto& controller : controllers) {
    controller->server->Stop();
  }
  maker->server->Stop();
  // The last connection to close checkpoints SQLite's write-ahead log into the file.
  controllers.clear();
  ASSIGN_OR_RETURN(int64_t bytes,
                   schema ? schema->Bytes() : FileBytes(lab.path() / "site" / "site.db"));
  report.database_mb_per_100k =
      static_cast<double>(bytes) / 1e6 * 100000.0 / static_cast<double>(options.devices);
  Summarise(found, report);
  return report;
}

}  // namespace concierge::lab
