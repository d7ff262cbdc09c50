#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "common/bytes.h"

namespace concierge::coap {

// application/multipart-core (RFC 8710, content-format 62): a CBOR array of alternating
// content-format numbers and byte strings, as EST-coaps /crts carries certificates.
using Parts = std::vector<std::pair<uint16_t, Bytes>>;

Result<Bytes> EncodeMultipartCore(const Parts& parts);
// ParseMultipartCore refuses anything else: odd counts, formats that are not uint16, parts
// that are not byte strings (a null part, which RFC 8710 allows, is refused too: nothing here
// sends one).
Result<Parts> ParseMultipartCore(ByteSpan body);

}  // namespace concierge::coap
