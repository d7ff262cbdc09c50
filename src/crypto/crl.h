#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "crypto/certificate.h"
#include "crypto/key.h"

namespace concierge::crypto {

struct RevokedCertificate {
  std::string serial_hex;  // as Certificate::SerialHex prints it
  SystemTime revoked_at;
};

// IssueCrl signs a version 2 CRL (RFC 5280 §5) for the certificates `issuer` revoked, with a
// CRL number and the issuer's key identifier, valid from this_update until next_update. The
// result is DER; `openssl verify -crl_check` reads it after `openssl crl -inform DER`.
Result<Bytes> IssueCrl(const Certificate& issuer, const PrivateKey& issuer_key,
                       const std::vector<RevokedCertificate>& revoked, int64_t crl_number,
                       SystemTime this_update, SystemTime next_update);

// CrlToPem wraps a DER CRL as "X509 CRL" PEM.
Result<std::string> CrlToPem(ByteSpan der);

}  // namespace concierge::crypto
