// The management API's answers on a site of 100,000 devices: a page of the inventory (first,
// deep, filtered by zone, searched), one device's record. Requests go through ManagementApi
// in process (session check, routing, the database, JSON), without TLS. Each benchmark reports
// its median and 99th-percentile latency as counters.
#include <algorithm>
#include <chrono>

#include <benchmark/benchmark.h>

#include "api/event_stream.h"
#include "api/management_api.h"
#include "fakes/onboarding_world.h"
#include "firewall/firewall.h"
#include "operators/operator_desk.h"
#include "store/database.h"

namespace concierge {
namespace {

constexpr int kDevices = 100'000;

struct BigSite {
  BigSite() : site(world.AddSite("Bench Site")) {
    auto& maker = world.AddMaker("Acme");
    (void)site.store->AddTrustedMaker("Acme", maker.directory.masa.maker_ca,
                                      registrar::Approval::kAuto);
    store::Database& db = site.store->database();
    auto transaction = store::Transaction::Begin(db).value();
    auto onboarding = db.Prepare(
                            "INSERT INTO devices(maker_id, serial, idevid_der, masa_url, state,"
                            " created_at, updated_at) VALUES (1, ?, x'00', 'https://masa.example',"
                            " 'enrolled', 1, 1)")
                          .value();
    auto record = db.Prepare(
                        "INSERT INTO registry_devices(name, serial, maker, owner, zone, updated_at)"
                        " VALUES (?, ?, 'Acme', 'Bench Site', ?, 1)")
                      .value();
    char name[16];
    for (int i = 0; i < kDevices; ++i) {
      (void)std::snprintf(name, sizeof(name), "DEV-%06d", i);
      (void)onboarding.BindAll(std::string(name)).Run();
      (void)record.BindAll(std::string(name), std::string(name), "floor-" + std::to_string(i % 20))
          .Run();
    }
    (void)transaction.Commit();
    api = api::ManagementApi::Create(*site.runtime, world.clock, *firewall).value();
    auto* desk = site.runtime->Operators().value();
    auto code = desk->Add("bench", operators::Role::kOwner, "", "local:bench").value().code;
    token = desk->SignIn(code, "127.0.0.1").value().token;
    (void)site.runtime->Registry();  // the runtime's first look, not part of any request
  }

  testing::OnboardingWorld world;
  testing::Site& site;
  std::unique_ptr<firewall::Firewall> firewall = firewall::OpenDryRun();
  std::unique_ptr<api::ManagementApi> api;
  std::string token;
};

BigSite& Site() {
  static BigSite* site = new BigSite();
  return *site;
}

void Get(benchmark::State& state, const std::string& target) {
  BigSite& site = Site();
  http::HttpRequest request;
  request.method = "GET";
  request.target = target;
  request.headers["cookie"] = "concierge_session=" + site.token;
  std::vector<double> micros;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    http::HttpResponse response = site.api->HandleNow(request, {std::nullopt, {}, "127.0.0.1"});
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
    if (response.status != 200) {
      state.SkipWithError(response.body.c_str());
      return;
    }
    benchmark::DoNotOptimize(response.body.data());
  }
  std::ranges::sort(micros);
  state.counters["p50_us"] = micros[micros.size() / 2];
  state.counters["p99_us"] = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
}

void FirstPage(benchmark::State& state) {
  Get(state, "/api/v1/devices?limit=50");
}

void DeepPage(benchmark::State& state) {
  Get(state, "/api/v1/devices?offset=99900&limit=50");
}

void ZonePage(benchmark::State& state) {
  Get(state, "/api/v1/devices?zone=floor-7&offset=1000&limit=50");
}

void Search(benchmark::State& state) {
  Get(state, "/api/v1/devices?q=054&limit=50");
}

void Detail(benchmark::State& state) {
  Get(state, "/api/v1/devices/DEV-054321");
}

// FanOut: one committed change answered to 100 dashboards waiting on the live event stream.
void FanOut(benchmark::State& state) {
  BigSite& site = Site();
  api::EventStream& stream = site.api->events();
  store::AuditRecord record;
  record.kind = "device.approved";
  record.subject = "device:DEV-000001";
  record.seq = stream.head();
  size_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int i = 0; i < 100; ++i) {
      stream.Wait(
          record.seq, [](const std::string&) { return true; },
          [&bytes](std::vector<api::LiveEvent> events, int64_t last) {
            bytes += api::ServerSentEvents(events, last, std::chrono::milliseconds(500)).size();
          });
    }
    ++record.seq;
    state.ResumeTiming();
    stream.Publish(record);
  }
  state.counters["dashboards"] = 100;
  state.counters["bytes_per_dashboard"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations() * 100);
}

BENCHMARK(FanOut)->Unit(benchmark::kMicrosecond);
BENCHMARK(FirstPage)->Unit(benchmark::kMicrosecond)->Iterations(500);
BENCHMARK(DeepPage)->Unit(benchmark::kMicrosecond)->Iterations(500);
BENCHMARK(ZonePage)->Unit(benchmark::kMicrosecond)->Iterations(500);
BENCHMARK(Search)->Unit(benchmark::kMicrosecond)->Iterations(200);
BENCHMARK(Detail)->Unit(benchmark::kMicrosecond)->Iterations(1000);

}  // namespace
}  // namespace concierge

BENCHMARK_MAIN();
