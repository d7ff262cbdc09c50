#pragma once

#include <openssl/ssl.h>

#include "crypto/openssl_ptr.h"

namespace concierge::http {

// TlsStep is the outcome of one call to OpenSSL on a non-blocking socket: done, wait until the
// socket can be read or written and call again, the peer closed, or the session failed.
enum class TlsStep { kDone, kWantRead, kWantWrite, kClosed, kFailed };

inline TlsStep StepOf(SSL* ssl, int rc) {
  if (rc == 1) {
    return TlsStep::kDone;
  }
  switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
      return TlsStep::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return TlsStep::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return TlsStep::kClosed;
    default:
      crypto::ClearOpenSslErrors();
      return TlsStep::kFailed;
  }
}

}  // namespace concierge::http
