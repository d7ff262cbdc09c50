#include "crypto/openssl_ptr.h"

#include <openssl/err.h>

namespace concierge::crypto {

Error OpenSslError(ErrorCode code, std::string_view what) {
  std::string message(what);
  unsigned long err = 0;
  const char* reason_sep = ": ";
  while ((err = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(err, buffer, sizeof(buffer));
    message += reason_sep;
    message += buffer;
    reason_sep = "; ";
  }
  return Error(code, std::move(message));
}

void ClearOpenSslErrors() {
  ERR_clear_error();
}

}  // namespace concierge::crypto
