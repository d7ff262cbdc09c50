#pragma once

#include <string>

#include "common/bytes.h"
#include "crypto/openssl_ptr.h"

namespace concierge::crypto {

// KeyProvenance records where a private key came from and whether it can leave its store, as
// 802.1AR asks a device to be able to say.
struct KeyProvenance {
  std::string generated_by;  // e.g. "maker software (OpenSSL)"
  std::string store = "file";
  bool extractable = true;
};

// PrivateKey owns one asymmetric key pair (P-256 for everything this project makes). Copies
// share the underlying key; OpenSSL keys are safe to use from several threads for signing.
class PrivateKey {
 public:
  static Result<PrivateKey> GenerateP256();
  static Result<PrivateKey> FromPem(std::string_view pem);
  // Adopt takes a key loaded elsewhere (from a provider's store).
  static Result<PrivateKey> Adopt(OpenSslPtr<EVP_PKEY> key);

  Result<std::string> ToPem() const;   // unencrypted PKCS#8
  Result<Bytes> PublicKeyDer() const;  // SubjectPublicKeyInfo

  // Sign returns a DER ECDSA signature over SHA-256(data).
  Result<Bytes> Sign(ByteSpan data) const;

  EVP_PKEY* get() const { return key_.get(); }

 private:
  explicit PrivateKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}

  std::shared_ptr<EVP_PKEY> key_;
};

// VerifySignature checks a DER ECDSA/SHA-256 signature with a public key.
Status VerifySignature(EVP_PKEY* public_key, ByteSpan data, ByteSpan signature);

// PublicKeyDer encodes any key's SubjectPublicKeyInfo.
Result<Bytes> PublicKeyDer(EVP_PKEY* key);

// PublicKeyFromDer reads a SubjectPublicKeyInfo. P-256 keys take a direct path (OpenSSL 3's
// generic decoder costs twice a signature check); the point is still checked to be on the curve.
Result<OpenSslPtr<EVP_PKEY>> PublicKeyFromDer(ByteSpan der);

Bytes Sha256(ByteSpan data);
// HmacSha256 is HMAC-SHA-256 (RFC 2104) of data under key: 32 bytes.
Bytes HmacSha256(ByteSpan key, ByteSpan data);

}  // namespace concierge::crypto
