#include "crypto/key.h"

#include <openssl/pem.h>
#include <openssl/sha.h>

namespace concierge::crypto {

Result<PrivateKey> PrivateKey::GenerateP256() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "generating a P-256 key"));
  }
  return PrivateKey(std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free));
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    return std::unexpected(OpenSslError(ErrorCode::kBadFormat, "reading a PEM private key"));
  }
  return PrivateKey(std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free));
}

Result<std::string> PrivateKey::ToPem() const {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "writing a PEM private key"));
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

Result<Bytes> PrivateKey::PublicKeyDer() const {
  return crypto::PublicKeyDer(key_.get());
}

Result<Bytes> PublicKeyDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(key, &der);
  if (size <= 0) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "encoding a public key"));
  }
  Bytes out(der, der + size);
  OPENSSL_free(der);
  return out;
}

Result<Bytes> PrivateKey::Sign(ByteSpan data) const {
  OpenSslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, data.data(), data.size()) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "signing"));
  }
  Bytes signature(size);
  if (EVP_DigestSign(ctx.get(), signature.data(), &size, data.data(), data.size()) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "signing"));
  }
  signature.resize(size);
  return signature;
}

Status VerifySignature(EVP_PKEY* public_key, ByteSpan data, ByteSpan signature) {
  OpenSslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, public_key) != 1 ||
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(), data.size()) !=
          1) {
    return std::unexpected(OpenSslError(ErrorCode::kSecurity, "signature does not verify"));
  }
  return OkStatus();
}

Bytes Sha256(ByteSpan data) {
  Bytes digest(SHA256_DIGEST_LENGTH);
  SHA256(data.data(), data.size(), digest.data());
  return digest;
}

}  // namespace concierge::crypto
