#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "crypto/openssl_ptr.h"

namespace concierge::cose {

// COSE algorithm identifiers (IANA "COSE Algorithms") that Concierge signs and verifies with.
enum class Algorithm : int64_t {
  kEs256 = -7,
  kEs384 = -35,
  kEs512 = -36,
  kEdDsa = -8,
};

std::string_view AlgorithmName(Algorithm algorithm);

// AlgorithmFromId refuses identifiers Concierge does not implement.
Result<Algorithm> AlgorithmFromId(int64_t id);

// AlgorithmForKey is the one algorithm a key signs with: P-256 ES256, P-384 ES384, P-521 ES512,
// Ed25519 and Ed448 EdDSA. Binding the algorithm to the key keeps a message from choosing a
// weaker one for it.
Result<Algorithm> AlgorithmForKey(EVP_PKEY* key);

// Public keys from COSE_Key / JWK coordinates ("P-256", "P-384", "P-521"; "Ed25519", "Ed448").
// EC points are checked to lie on the curve.
Result<crypto::OpenSslPtr<EVP_PKEY>> EcPublicKey(std::string_view curve, ByteSpan x, ByteSpan y);
Result<crypto::OpenSslPtr<EVP_PKEY>> OkpPublicKey(std::string_view curve, ByteSpan x);
Result<crypto::OpenSslPtr<EVP_PKEY>> OkpPrivateKey(std::string_view curve, ByteSpan d);

}  // namespace concierge::cose
