#include "crypto/aead.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/openssl_ptr.h"

namespace concierge::crypto {
namespace {

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

Status CheckSizes(ByteSpan key, ByteSpan nonce) {
  if (key.size() != kCcmKeySize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "AES-128-CCM key of " + std::to_string(key.size()) + " bytes (needs 16)");
  }
  if (nonce.size() < 7 || nonce.size() > 13) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "AES-128-CCM nonce of " + std::to_string(nonce.size()) + " bytes (needs 7 to 13)");
  }
  return OkStatus();
}

// Start sets the cipher up for one message: CCM must know the nonce size, the tag (its size
// when sealing, its bytes when opening) and the message length before any data.
Result<CipherContext> Start(bool seal, ByteSpan key, ByteSpan nonce, ByteSpan tag, size_t length) {
  CipherContext context(EVP_CIPHER_CTX_new());
  int out = 0;
  auto* tag_bytes = seal ? nullptr : const_cast<uint8_t*>(tag.data());
  if (!context ||
      EVP_CipherInit_ex(context.get(), EVP_aes_128_ccm(), nullptr, nullptr, nullptr,
                        seal ? 1 : 0) != 1 ||
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(nonce.size()),
                          nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kCcmTagSize),
                          tag_bytes) != 1 ||
      EVP_CipherInit_ex(context.get(), nullptr, nullptr, key.data(), nonce.data(), -1) != 1 ||
      EVP_CipherUpdate(context.get(), nullptr, &out, nullptr, static_cast<int>(length)) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "setting up AES-128-CCM"));
  }
  return context;
}

}  // namespace

Result<Bytes> CcmSeal(ByteSpan key, ByteSpan nonce, ByteSpan plaintext) {
  RETURN_IF_ERROR(CheckSizes(key, nonce));
  ASSIGN_OR_RETURN(CipherContext context, Start(true, key, nonce, {}, plaintext.size()));
  Bytes sealed(plaintext.size() + kCcmTagSize);
  int out = 0;
  if (EVP_CipherUpdate(context.get(), sealed.data(), &out, plaintext.data(),
                       static_cast<int>(plaintext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kCcmTagSize),
                          sealed.data() + plaintext.size()) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "AES-128-CCM sealing"));
  }
  return sealed;
}

Result<Bytes> CcmOpen(ByteSpan key, ByteSpan nonce, ByteSpan sealed) {
  RETURN_IF_ERROR(CheckSizes(key, nonce));
  if (sealed.size() < kCcmTagSize) {
    return MakeError(ErrorCode::kUnauthenticated, "AES-128-CCM message shorter than its tag");
  }
  size_t length = sealed.size() - kCcmTagSize;
  ASSIGN_OR_RETURN(CipherContext context, Start(false, key, nonce, sealed.subspan(length), length));
  Bytes plaintext(length);
  int out = 0;
  // CCM checks the tag in this one update call.
  if (EVP_CipherUpdate(context.get(), plaintext.data(), &out, sealed.data(),
                       static_cast<int>(length)) != 1) {
    ERR_clear_error();
    return MakeError(ErrorCode::kUnauthenticated, "AES-128-CCM tag does not authenticate");
  }
  return plaintext;
}

}  // namespace concierge::crypto
