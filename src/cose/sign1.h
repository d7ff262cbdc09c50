#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "cose/cose_key.h"

namespace concierge::cose {

// The header parameters Concierge reads (RFC 9052 §3.1). Others are carried but not interpreted.
struct Headers {
  std::optional<int64_t> algorithm;     // label 1
  std::optional<int64_t> content_type;  // label 3, when it is a CoAP content-format number
  Bytes key_id;                         // label 4
  // Certificates (DER) offered to find the signer's key (RFC 9360): x5bag (label 32) is an
  // unordered bag, x5chain (label 33) a chain with the signer first. One certificate may be
  // sent as a bare bstr.
  std::vector<Bytes> x5bag;
  std::vector<Bytes> x5chain;
};

// Sign1 is one decoded COSE_Sign1 (RFC 9052 §4.2).
struct Sign1 {
  Bytes protected_bucket;  // the protected header bytes as received
  Headers protected_headers;
  Headers unprotected_headers;
  std::optional<Bytes> payload;  // nullopt when the payload is detached (nil)
  Bytes signature;
  bool tagged = false;  // carried tag 18
};

// Whether the COSE_Sign1 tag (18) must be present. Another tag is always refused.
enum class TagRule { kOptional, kRequired };

// DecodeSign1 checks the structure only: four elements, header buckets that are maps, labels
// not repeated across buckets, no `crit` (label 2: Concierge understands no critical extension).
Result<Sign1> DecodeSign1(ByteSpan message, TagRule tags = TagRule::kOptional);

// VerifySign1 checks the signature with `key`. The algorithm must be known and be the key's own
// (AlgorithmForKey). It is read from the protected bucket, or from the unprotected one only when
// the protected bucket is empty. An empty protected map sent as h'A0' enters the Sig_structure
// as h'', the form RFC 9052 §3 says serialization structures use (cose-wg sign-pass-01).
// `detached_payload` is used when the message carries nil.
Status VerifySign1(const Sign1& message, EVP_PKEY* key, ByteSpan external_aad = {},
                   const Bytes* detached_payload = nullptr);

struct SignOptions {
  std::optional<int64_t> content_type = std::nullopt;  // protected
  Bytes key_id = {};                                   // unprotected
  std::vector<Bytes> x5bag = {};                       // unprotected
  Bytes external_aad = {};
};

// SignSign1 makes a tagged COSE_Sign1 with the key's algorithm in the protected bucket.
Result<Bytes> SignSign1(EVP_PKEY* key, ByteSpan payload, const SignOptions& options = {});

// WithoutUnprotected re-encodes a decoded message, tagged, with an empty unprotected header:
// what a registrar forwards of a MASA's voucher (cBRSKI: the MASA's x5bag is for the registrar,
// and the pledge has its own key for the MASA). The signature stays valid: it never covers the
// unprotected bucket.
Result<Bytes> WithoutUnprotected(const Sign1& message);

// SigStructure is ["Signature1", body_protected, external_aad, payload], CBOR-encoded.
Result<Bytes> SigStructure(ByteSpan body_protected, ByteSpan external_aad, ByteSpan payload);

}  // namespace concierge::cose
