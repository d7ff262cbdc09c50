#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/certificate.h"
#include "crypto/key.h"

namespace concierge::crypto {

// CmsSigned is a SignedData whose signature has been checked against the signer certificate
// it carries. Whether that certificate is trusted is the caller's decision (VerifyChain).
struct CmsSigned {
  Bytes content;
  std::string content_type;  // eContentType, dotted (kOidData or kOidAnimaJsonVoucher)
  Certificate signer;
  std::vector<Certificate> certificates;  // every certificate in the SignedData
};

inline constexpr std::string_view kOidData = "1.2.840.113549.1.7.1";  // id-data
// id-ct-animaJSONVoucher (RFC 8366 §5.3): the eContentType of vouchers and voucher-requests.
inline constexpr std::string_view kOidAnimaJsonVoucher = "1.2.840.113549.1.9.16.1.40";

struct CmsSignOptions {
  std::string_view content_type = kOidData;  // eContentType, dotted
  bool detached = false;                     // leave the content out (a MUD file's .p7s)
};

// CmsSign wraps content in a DER SignedData (signed attributes, the signer and extra_certs
// included).
Result<Bytes> CmsSign(ByteSpan content, const Certificate& signer, const PrivateKey& key,
                      const std::vector<Certificate>& extra_certs,
                      const CmsSignOptions& options = {});

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
// and encapsulated content of type id-ct-animaJSONVoucher or id-data (which some peers send for
// vouchers; RFC 8366 wants the former), and checks the signature.
Result<CmsSigned> CmsVerifySignature(ByteSpan der);

// CertsOnlyDer encodes a "certs-only" SignedData (EST /cacerts and /simpleenroll replies):
// eContentType id-data with no eContent and no signers (RFC 5272 §4.1, RFC 7030 §4.1.3).
Result<Bytes> CertsOnlyDer(const std::vector<Certificate>& certs);

Result<std::vector<Certificate>> ParseCertsOnly(ByteSpan der);

}  // namespace concierge::crypto
