// What verifying a device's ownership chain costs: the MASA decodes and checks the whole chain
// on every voucher request, so the per-entry cost bounds how long a chain may grow.
// Run: build/bench/ownership_bench  (per_entry is the time per verified entry)
#include <benchmark/benchmark.h>

#include "ownership/chain.h"

namespace concierge {
namespace {

Bytes ChainWith(int64_t entries) {
  auto maker = crypto::PrivateKey::GenerateP256().value();
  std::vector<crypto::PrivateKey> owners;
  ownership::ChainHeader header{"BENCH-1", "Bench Maker", maker.PublicKeyDer().value(),
                                crypto::Sha256(ToBytes("BENCH-1"))};
  auto chain = ownership::OwnershipChain::Start(header).value();
  ownership::OwnershipChain::Authorities authorities;
  const crypto::PrivateKey* signer = &maker;
  owners.reserve(static_cast<size_t>(entries));
  for (int64_t i = 0; i < entries; ++i) {
    owners.push_back(crypto::PrivateKey::GenerateP256().value());
    auto kind = i == 0 ? ownership::EntryKind::kSale : ownership::EntryKind::kTransfer;
    (void)chain.Extend(*signer, owners.back().PublicKeyDer().value(), kind,
                       FromUnixSeconds(1'800'000'000 + i), authorities);
    signer = &owners.back();
  }
  return chain.Encode().value();
}

void VerifyChain(benchmark::State& state) {
  Bytes encoded = ChainWith(state.range(0));
  ownership::OwnershipChain::Authorities authorities;
  for (auto _ : state) {
    auto chain = ownership::OwnershipChain::Decode(encoded, authorities);
    if (!chain || static_cast<int64_t>(chain->entries().size()) != state.range(0)) {
      state.SkipWithError("chain did not verify");
      break;
    }
  }
  state.counters["per_entry"] =
      benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["bytes"] = static_cast<double>(encoded.size());
}

BENCHMARK(VerifyChain)->Arg(1)->Arg(4)->Arg(16)->Arg(64)->Unit(benchmark::kMicrosecond);

void ExtendChain(benchmark::State& state) {
  auto maker = crypto::PrivateKey::GenerateP256().value();
  auto owner = crypto::PrivateKey::GenerateP256().value();
  ownership::ChainHeader header{"BENCH-2", "Bench Maker", maker.PublicKeyDer().value(),
                                crypto::Sha256(ToBytes("BENCH-2"))};
  Bytes owner_key = owner.PublicKeyDer().value();
  ownership::OwnershipChain::Authorities authorities;
  for (auto _ : state) {
    auto chain = ownership::OwnershipChain::Start(header).value();
    benchmark::DoNotOptimize(chain.Extend(maker, owner_key, ownership::EntryKind::kSale,
                                          FromUnixSeconds(1'800'000'000), authorities));
  }
}

BENCHMARK(ExtendChain)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace concierge

BENCHMARK_MAIN();
