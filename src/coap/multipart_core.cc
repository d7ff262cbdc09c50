#include "coap/multipart_core.h"

#include <limits>

#include "cose/cbor.h"

namespace concierge::coap {

Result<Bytes> EncodeMultipartCore(const Parts& parts) {
  cose::CborPtr array(cbor_new_definite_array(2 * parts.size()));
  for (const auto& [format, body] : parts) {
    (void)cbor_array_push(array.get(), cose::BuildInt(format).get());
    (void)cbor_array_push(array.get(), cose::BuildBytes(body).get());
  }
  return cose::EncodeCbor(array.get());
}

Result<Parts> ParseMultipartCore(ByteSpan body) {
  ASSIGN_OR_RETURN(cose::CborPtr root, cose::DecodeCbor(body, "multipart-core"));
  ASSIGN_OR_RETURN(auto items, cose::ReadArray(root.get(), "multipart-core"));
  if (items.size() % 2 != 0) {
    return MakeError(ErrorCode::kBadFormat, "multipart-core: " + std::to_string(items.size()) +
                                                " items, not content-format and part pairs");
  }
  Parts parts;
  for (size_t i = 0; i < items.size(); i += 2) {
    ASSIGN_OR_RETURN(int64_t format, cose::ReadInt(items[i], "multipart-core content-format"));
    if (format < 0 || format > std::numeric_limits<uint16_t>::max()) {
      return MakeError(ErrorCode::kBadFormat, "multipart-core: content-format " +
                                                  std::to_string(format) + " is not 0 to 65535");
    }
    ASSIGN_OR_RETURN(Bytes part, cose::ReadBytes(items[i + 1], "multipart-core part"));
    parts.emplace_back(static_cast<uint16_t>(format), std::move(part));
  }
  return parts;
}

}  // namespace concierge::coap
