#pragma once

#include <optional>
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
// signer and extra_certs included), as RFC 8366 vouchers are signed in practice. With
// detached, the content is left out (a MUD file's .p7s).
Result<Bytes> CmsSign(ByteSpan content, const Certificate& signer, const PrivateKey& key,
                      const std::vector<Certificate>& extra_certs, bool detached = false);

// CmsDetachedSignature is a detached SignedData whose signature over the given content has
// been checked against the signer certificate it carries.
struct CmsDetachedSignature {
  Certificate signer;
  std::vector<Certificate> certificates;
  std::optional<SystemTime> signing_time;  // the signed signingTime attribute, if present
};

// CmsVerifyDetached checks a detached DER SignedData (one signer, signed attributes) over
// content. Whether the signer is trusted is the caller's decision (VerifyChain).
Result<CmsDetachedSignature> CmsVerifyDetached(ByteSpan content, ByteSpan der);

// CmsVerifySignature parses DER SignedData with exactly one signer, requires signed attributes
// and encapsulated content of type id-data or id-ct-animaJSONVoucher, and checks the signature.
Result<CmsSigned> CmsVerifySignature(ByteSpan der);

// CertsOnlyDer encodes a "certs-only" SignedData (EST /cacerts and /simpleenroll replies).
Result<Bytes> CertsOnlyDer(const std::vector<Certificate>& certs);

Result<std::vector<Certificate>> ParseCertsOnly(ByteSpan der);

}  // namespace concierge::crypto
