#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/bytes.h"
#include "common/error.h"

namespace concierge::crypto {

// OpenSslDeleter<T> frees one OpenSSL object with its own free function.
template <typename T>
struct OpenSslDeleter;

// NOLINTBEGIN(bugprone-macro-parentheses): type names cannot be parenthesised
#define CONCIERGE_OPENSSL_DELETER(type, free_fn)   \
  template <>                                      \
  struct OpenSslDeleter<type> {                    \
    void operator()(type* p) const { free_fn(p); } \
  }

CONCIERGE_OPENSSL_DELETER(BIO, BIO_free_all);
CONCIERGE_OPENSSL_DELETER(BIGNUM, BN_free);
CONCIERGE_OPENSSL_DELETER(ASN1_OBJECT, ASN1_OBJECT_free);
CONCIERGE_OPENSSL_DELETER(ASN1_STRING, ASN1_STRING_free);  // also INTEGER, OCTET STRING, TIME
CONCIERGE_OPENSSL_DELETER(CMS_ContentInfo, CMS_ContentInfo_free);
CONCIERGE_OPENSSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free);
CONCIERGE_OPENSSL_DELETER(EVP_PKEY, EVP_PKEY_free);
CONCIERGE_OPENSSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
CONCIERGE_OPENSSL_DELETER(X509, X509_free);
CONCIERGE_OPENSSL_DELETER(X509_CRL, X509_CRL_free);
CONCIERGE_OPENSSL_DELETER(X509_EXTENSION, X509_EXTENSION_free);
CONCIERGE_OPENSSL_DELETER(X509_NAME, X509_NAME_free);
CONCIERGE_OPENSSL_DELETER(X509_REQ, X509_REQ_free);
CONCIERGE_OPENSSL_DELETER(X509_STORE, X509_STORE_free);
CONCIERGE_OPENSSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free);
CONCIERGE_OPENSSL_DELETER(AUTHORITY_KEYID, AUTHORITY_KEYID_free);
CONCIERGE_OPENSSL_DELETER(ECDSA_SIG, ECDSA_SIG_free);
CONCIERGE_OPENSSL_DELETER(X509_REVOKED, X509_REVOKED_free);

#undef CONCIERGE_OPENSSL_DELETER

// NOLINTEND(bugprone-macro-parentheses)

template <>
struct OpenSslDeleter<STACK_OF(X509)> {
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
};

template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter<T>>;

// OpenSslError drains OpenSSL's thread-local error queue into one Error, so a failure never
// leaks into the next unrelated call's diagnostics.
Error OpenSslError(ErrorCode code, std::string_view what);

// X509StackShell owns a stack whose certificates it does not own (CMS_get0_signers): only the
// stack is freed.
struct X509StackShellDeleter {
  void operator()(STACK_OF(X509) * p) const { sk_X509_free(p); }
};

using X509StackShell = std::unique_ptr<STACK_OF(X509), X509StackShellDeleter>;

// OpenSslMemory owns memory OpenSSL allocated for its caller: i2d output, BN_bn2hex text,
// ASN1_STRING_to_UTF8 text.
struct OpenSslMemoryDeleter {
  void operator()(void* p) const { OPENSSL_free(p); }
};

template <typename T>
using OpenSslMemory = std::unique_ptr<T, OpenSslMemoryDeleter>;

// EncodeDer runs one of OpenSSL's i2d functions into bytes; what names the object in the
// error.
template <typename T, typename Encoder>
Result<Bytes> EncodeDer(Encoder i2d, T* object, std::string_view what) {
  unsigned char* raw = nullptr;
  int size = i2d(object, &raw);
  OpenSslMemory<unsigned char> der(raw);
  if (size <= 0 || der == nullptr) {
    return std::unexpected(
        OpenSslError(ErrorCode::kInternal, "encoding " + std::string(what) + " as DER"));
  }
  return Bytes(der.get(), der.get() + size);
}

// ClearOpenSslErrors drops whatever is queued (after an expected failure).
void ClearOpenSslErrors();

}  // namespace concierge::crypto
