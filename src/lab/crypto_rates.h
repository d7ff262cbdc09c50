#pragma once

#include <chrono>

#include "common/error.h"

namespace concierge::lab {

// CryptoRates are single-thread P-256 operation rates measured on this machine.
struct CryptoRates {
  double sign_per_s = 0;    // ECDSA P-256 / SHA-256 sign
  double verify_per_s = 0;  // ECDSA P-256 / SHA-256 verify
  double ecdh_per_s = 0;    // P-256 ECDH derive (a key generation costs about the same)
};

// MeasureP256Rates runs each operation for about budget and reports operations per second.
Result<CryptoRates> MeasureP256Rates(std::chrono::milliseconds budget);

// EnrollmentCryptoCost counts the public-key operations of one full HTTPS BRSKI enrollment
// as this project performs it, all parties together (pledge, registrar, MASA). The derivation
// is in docs/onboarding.md; registrar-to-MASA TLS handshakes are amortised by connection reuse
// and not counted.
struct EnrollmentCryptoCost {
  int signs = 9;
  int verifies = 21;
  int scalar_mults = 9;  // ECDHE key generations and derivations, plus the LDevID key
};

// CryptoBoundPerSecond is the enrollment rate this machine could reach if it did nothing but
// these operations on all of its cores.
double CryptoBoundPerSecond(const CryptoRates& rates, const EnrollmentCryptoCost& cost,
                            unsigned cores);

}  // namespace concierge::lab
