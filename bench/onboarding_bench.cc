// One whole enrollment through the real MASA, registrar and pledge logic with real SQLite and
// OpenSSL, but no sockets: the cost of everything except TLS and HTTP transport.
#include <benchmark/benchmark.h>

#include "fakes/onboarding_world.h"

namespace concierge {
namespace {

void EnrollInMemory(benchmark::State& state) {
  testing::OnboardingWorld world;
  auto& maker = world.AddMaker("Bench Maker");
  auto& site = world.AddSite("Bench Site");
  (void)site.store->AddTrustedMaker("Bench Maker", maker.directory.masa.maker_ca,
                                    registrar::Approval::kAuto);
  int serial = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto identity = world.Mint(maker, "B-" + std::to_string(++serial));
    site.connector->requests.clear();
    state.ResumeTiming();
    auto result = world.MakePledge(identity, site).EnrollAndWait();
    if (!result) {
      state.SkipWithError(result.error().message().c_str());
    }
  }
}

BENCHMARK(EnrollInMemory)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace concierge

BENCHMARK_MAIN();
