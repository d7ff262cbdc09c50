#include "lab/crypto_rates.h"

#include <functional>

#include "crypto/key.h"

namespace concierge::lab {
namespace {

template <typename Op>
double Rate(std::chrono::milliseconds budget, Op op) {
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + budget;
  int64_t count = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 16; ++i) {
      op();
    }
    count += 16;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(count) / seconds;
}

}  // namespace

Result<CryptoRates> MeasureP256Rates(std::chrono::milliseconds budget) {
  ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::GenerateP256());
  ASSIGN_OR_RETURN(auto peer, crypto::PrivateKey::GenerateP256());
  Bytes message(64, 0x5a);
  ASSIGN_OR_RETURN(Bytes signature, key.Sign(message));
  CryptoRates rates;
  bool ok = true;
  rates.sign_per_s = Rate(budget, [&] { ok = ok && key.Sign(message).has_value(); });
  rates.verify_per_s = Rate(budget, [&] {
    ok = ok && crypto::VerifySignature(key.get(), message, signature).has_value();
  });
  crypto::OpenSslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1) {
    return std::unexpected(crypto::OpenSslError(ErrorCode::kInternal, "ECDH setup"));
  }
  unsigned char secret[32];
  rates.ecdh_per_s = Rate(budget, [&] {
    size_t size = sizeof(secret);
    ok = ok && EVP_PKEY_derive(ctx.get(), secret, &size) == 1;
  });
  if (!ok) {
    return std::unexpected(crypto::OpenSslError(ErrorCode::kInternal, "measuring P-256"));
  }
  return rates;
}

double CryptoBoundPerSecond(const CryptoRates& rates, const EnrollmentCryptoCost& cost,
                            unsigned cores) {
  double seconds_per_enrollment = cost.signs / rates.sign_per_s +
                                  cost.verifies / rates.verify_per_s +
                                  cost.scalar_mults / rates.ecdh_per_s;
  return static_cast<double>(cores) / seconds_per_enrollment;
}

}  // namespace concierge::lab
