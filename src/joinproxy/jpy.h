#pragma once

#include "common/bytes.h"
#include "common/error.h"

namespace concierge::joinproxy {

// The JPY protocol of a stateless join proxy (draft-ietf-anima-constrained-join-proxy-20
// §"Stateless Join Proxy"): one CBOR array per UDP datagram, `[header: bstr, content: bstr]`,
// the content a pledge's DTLS record(s) and the header the proxy's opaque state, which the
// registrar echoes byte for byte.

// A registrar takes headers up to this size; proxies SHOULD keep to 32 bytes.
inline constexpr size_t kMaxJpyHeader = 64;
// Content up to an Ethernet MTU: pledges ask for DTLS records of at most 1024 bytes.
inline constexpr size_t kMaxJpyContent = 1500;

struct JpyMessage {
  Bytes header;
  Bytes content;
};

// EncodeJpy writes `[header, content]` with the shortest CBOR heads.
Bytes EncodeJpy(ByteSpan header, ByteSpan content);

// DecodeJpy reads a JPY datagram: an array of two or more elements whose first two are byte
// strings (later elements are ignored, as the draft asks), within the limits above. kBadFormat
// names what was wrong.
Result<JpyMessage> DecodeJpy(ByteSpan datagram);

}  // namespace concierge::joinproxy
