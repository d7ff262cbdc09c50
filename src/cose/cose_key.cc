#include "cose/cose_key.h"

#include <string>

#include <openssl/core_names.h>
#include <openssl/params.h>

namespace concierge::cose {
namespace {

struct Curve {
  std::string_view cose_name;
  const char* openssl_name;
  Algorithm algorithm;
  size_t coordinate_size;
};

constexpr Curve kEcCurves[] = {
    {"P-256", "prime256v1", Algorithm::kEs256, 32},
    {"P-384", "secp384r1", Algorithm::kEs384, 48},
    {"P-521", "secp521r1", Algorithm::kEs512, 66},
};

int OkpType(std::string_view curve) {
  if (curve == "Ed25519") {
    return EVP_PKEY_ED25519;
  }
  if (curve == "Ed448") {
    return EVP_PKEY_ED448;
  }
  return EVP_PKEY_NONE;
}

}  // namespace

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEs256:
      return "ES256";
    case Algorithm::kEs384:
      return "ES384";
    case Algorithm::kEs512:
      return "ES512";
    case Algorithm::kEdDsa:
      return "EdDSA";
  }
  return "unknown";
}

Result<Algorithm> AlgorithmFromId(int64_t id) {
  for (Algorithm known :
       {Algorithm::kEs256, Algorithm::kEs384, Algorithm::kEs512, Algorithm::kEdDsa}) {
    if (static_cast<int64_t>(known) == id) {
      return known;
    }
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unsupported COSE algorithm " + std::to_string(id) +
                       " (ES256 -7, ES384 -35, ES512 -36, EdDSA -8 are accepted)");
}

Result<Algorithm> AlgorithmForKey(EVP_PKEY* key) {
  if (key == nullptr) {
    // A certificate whose key OpenSSL could not decode has none.
    return MakeError(ErrorCode::kInvalidArgument, "no usable public key");
  }
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
      return Algorithm::kEdDsa;
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t length = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                         &length) == 1) {
        for (const Curve& curve : kEcCurves) {
          if (std::string_view(group, length) == curve.openssl_name) {
            return curve.algorithm;
          }
        }
      }
      break;
    }
    default:
      break;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "key type has no COSE algorithm here (P-256, P-384, P-521, Ed25519, Ed448)");
}

Result<crypto::OpenSslPtr<EVP_PKEY>> EcPublicKey(std::string_view curve, ByteSpan x, ByteSpan y) {
  const Curve* found = nullptr;
  for (const Curve& known : kEcCurves) {
    if (known.cose_name == curve) {
      found = &known;
    }
  }
  if (found == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "unsupported EC curve \"" + std::string(curve) + "\"");
  }
  if (x.size() != found->coordinate_size || y.size() != found->coordinate_size) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(curve) + " coordinates must be " +
                                                      std::to_string(found->coordinate_size) +
                                                      " bytes each");
  }
  Bytes point{0x04};  // uncompressed SEC1 point
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                       const_cast<char*>(found->openssl_name), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end(),
  };
  crypto::OpenSslPtr<EVP_PKEY_CTX> context(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return std::unexpected(crypto::OpenSslError(
        ErrorCode::kInvalidArgument, "EC public key is not a point on " + std::string(curve)));
  }
  crypto::OpenSslPtr<EVP_PKEY> key(raw);
  crypto::OpenSslPtr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return std::unexpected(crypto::OpenSslError(
        ErrorCode::kInvalidArgument, "EC public key is not a point on " + std::string(curve)));
  }
  return key;
}

namespace {

Result<crypto::OpenSslPtr<EVP_PKEY>> OkpKey(std::string_view curve, ByteSpan raw, bool secret) {
  int type = OkpType(curve);
  if (type == EVP_PKEY_NONE) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "unsupported OKP curve \"" + std::string(curve) + "\"");
  }
  crypto::OpenSslPtr<EVP_PKEY> key(
      secret ? EVP_PKEY_new_raw_private_key(type, nullptr, raw.data(), raw.size())
             : EVP_PKEY_new_raw_public_key(type, nullptr, raw.data(), raw.size()));
  if (!key) {
    return std::unexpected(crypto::OpenSslError(
        ErrorCode::kInvalidArgument,
        "not a " + std::string(curve) + (secret ? " private" : " public") + " key"));
  }
  return key;
}

}  // namespace

Result<crypto::OpenSslPtr<EVP_PKEY>> OkpPublicKey(std::string_view curve, ByteSpan x) {
  return OkpKey(curve, x, /*secret=*/false);
}

Result<crypto::OpenSslPtr<EVP_PKEY>> OkpPrivateKey(std::string_view curve, ByteSpan d) {
  return OkpKey(curve, d, /*secret=*/true);
}

}  // namespace concierge::cose
