// Costs of the building blocks of one enrollment, to compare with the P-256 primitives.
#include <benchmark/benchmark.h>

#include "crypto/certificate_builder.h"
#include "crypto/cms.h"
#include "fakes/test_pki.h"
#include "voucher/voucher.h"

namespace concierge {
namespace {

struct Pki {
  crypto::PrivateKey ca_key;
  crypto::Certificate ca;
  crypto::PrivateKey key;
  crypto::Certificate leaf;
};

Pki MakePki() {
  auto now = SystemClock().Now();
  auto ca = testing::MakeTestCa(now);
  auto leaf = testing::MakeTestLeaf(ca, now, std::chrono::hours(1000));
  return {ca.key, ca.certificate, leaf.key, leaf.certificate};
}

const Pki& Shared() {
  static const Pki pki = MakePki();
  return pki;
}

void P256Sign(benchmark::State& state) {
  Bytes data(64, 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(Shared().key.Sign(data));
  }
}

BENCHMARK(P256Sign);

void P256Verify(benchmark::State& state) {
  Bytes data(64, 1);
  Bytes sig = Shared().key.Sign(data).value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::VerifySignature(Shared().key.get(), data, sig));
  }
}

BENCHMARK(P256Verify);

void CertificateParse(benchmark::State& state) {
  Bytes der = Shared().leaf.Der();
  for (auto _ : state) {
    auto cert = crypto::Certificate::FromDer(der).value();
    benchmark::DoNotOptimize(cert.PublicKey());
  }
}

BENCHMARK(CertificateParse);

void VerifyChain(benchmark::State& state) {
  auto now = SystemClock().Now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::VerifyChain(Shared().leaf, {}, {Shared().ca}, {.at = now}));
  }
}

BENCHMARK(VerifyChain);

void CmsSign(benchmark::State& state) {
  Bytes content(300, 'x');
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::CmsSign(content, Shared().leaf, Shared().key, {Shared().ca}));
  }
}

BENCHMARK(CmsSign);

void CmsVerifySignature(benchmark::State& state) {
  Bytes signed_data =
      crypto::CmsSign(Bytes(300, 'x'), Shared().leaf, Shared().key, {Shared().ca}).value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::CmsVerifySignature(signed_data));
  }
}

BENCHMARK(CmsVerifySignature);

void IssueCertificate(benchmark::State& state) {
  CryptoRandom random;
  crypto::CertificateSpec spec;
  spec.subject = {"x", "SN", "O"};
  spec.public_key = Shared().key.get();
  spec.not_before = SystemClock().Now();
  spec.not_after = spec.not_before + std::chrono::hours(100);
  for (auto _ : state) {
    spec.serial = random.Generate(16);
    benchmark::DoNotOptimize(crypto::IssueCertificate(spec, &Shared().ca, Shared().ca_key));
  }
}

BENCHMARK(IssueCertificate);

void KeyGenerate(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::PrivateKey::GenerateP256());
  }
}

BENCHMARK(KeyGenerate);

}  // namespace
}  // namespace concierge

BENCHMARK_MAIN();
