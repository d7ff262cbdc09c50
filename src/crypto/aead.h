#pragma once

#include "common/bytes.h"
#include "common/error.h"

namespace concierge::crypto {

// AES-128-CCM (RFC 3610, NIST SP 800-38C) with an 8-byte tag, as RFC 8974 §3.1 suggests for
// state a stateless node hands out and takes back. key: 16 bytes; nonce: 7 to 13 bytes, never
// used twice with one key.
inline constexpr size_t kCcmKeySize = 16;
inline constexpr size_t kCcmTagSize = 8;

// CcmSeal returns the ciphertext followed by the tag.
Result<Bytes> CcmSeal(ByteSpan key, ByteSpan nonce, ByteSpan plaintext);
// CcmOpen returns the plaintext, or kUnauthenticated if the tag does not authenticate.
Result<Bytes> CcmOpen(ByteSpan key, ByteSpan nonce, ByteSpan sealed);

}  // namespace concierge::crypto
