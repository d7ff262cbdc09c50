#include "crypto/key.h"

#include <algorithm>

#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
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

Result<PrivateKey> PrivateKey::Adopt(OpenSslPtr<EVP_PKEY> key) {
  if (!key || EVP_PKEY_get0_type_name(key.get()) == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "not a usable private key: OpenSSL gives it no key type");
  }
  return PrivateKey(std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free));
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

namespace {

// SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (65 bytes, no unused bits) }
constexpr uint8_t kP256SpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                       0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                       0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
constexpr size_t kP256PointSize = 65;

}  // namespace

Result<OpenSslPtr<EVP_PKEY>> PublicKeyFromDer(ByteSpan der) {
  if (der.size() == sizeof(kP256SpkiPrefix) + kP256PointSize &&
      std::equal(std::begin(kP256SpkiPrefix), std::end(kP256SpkiPrefix), der.begin())) {
    ByteSpan point = der.subspan(sizeof(kP256SpkiPrefix));
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                         const_cast<char*>("prime256v1"), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                          const_cast<uint8_t*>(point.data()), point.size()),
        OSSL_PARAM_construct_end(),
    };
    OpenSslPtr<EVP_PKEY_CTX> context(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* key = nullptr;
    if (!context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
        EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
      return std::unexpected(
          OpenSslError(ErrorCode::kInvalidArgument, "P-256 public key is not on the curve"));
    }
    return OpenSslPtr<EVP_PKEY>(key);
  }
  const unsigned char* cursor = der.data();
  OpenSslPtr<EVP_PKEY> key(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der.size())));
  if (!key || cursor != der.data() + der.size()) {
    return std::unexpected(
        OpenSslError(ErrorCode::kInvalidArgument, "not a SubjectPublicKeyInfo public key"));
  }
  return key;
}

Result<Bytes> PublicKeyDer(EVP_PKEY* key) {
  return EncodeDer(i2d_PUBKEY, key, "a public key");
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

Bytes HmacSha256(ByteSpan key, ByteSpan data) {
  Bytes mac(SHA256_DIGEST_LENGTH);
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), mac.data(),
       &length);
  mac.resize(length);
  return mac;
}

}  // namespace concierge::crypto
