#pragma once

#include <vector>

#include "crypto/certificate.h"
#include "crypto/key.h"

namespace concierge::crypto {

// CmsSigned is a SignedData whose signature has been checked against the signer certificate
// it carries. Whether that certificate is trusted is the caller's decision (VerifyChain).
struct CmsSigned {
  Bytes content;
  Certificate signer;
  std::vector<Certificate> certificates;  // every certificate in the SignedData
};

// CmsSign wraps content in a DER SignedData (eContentType id-data, signed attributes, the
// signer and extra_certs included), as RFC 8366 vouchers are signed in practice.
Result<Bytes> CmsSign(ByteSpan content, const Certificate& signer, const PrivateKey& key,
                      const std::vector<Certificate>& extra_certs);

// CmsVerifySignature parses DER SignedData with exactly one signer, requires signed attributes
// and encapsulated content of type id-data or id-ct-animaJSONVoucher, and checks the signature.
Result<CmsSigned> CmsVerifySignature(ByteSpan der);

// CertsOnlyDer encodes a "certs-only" SignedData (EST /cacerts and /simpleenroll replies).
Result<Bytes> CertsOnlyDer(const std::vector<Certificate>& certs);

Result<std::vector<Certificate>> ParseCertsOnly(ByteSpan der);

}  // namespace concierge::crypto
