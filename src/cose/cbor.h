#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <cbor.h>

#include "common/bytes.h"

namespace concierge::cose {

struct CborDeleter {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};

using CborPtr = std::unique_ptr<cbor_item_t, CborDeleter>;

// The deepest nesting Concierge's CBOR formats use is 4; 16 leaves room and keeps libcbor's
// recursive free and serialize far from the stack's end.
inline constexpr size_t kMaxCborDepth = 16;

// DecodeCbor parses exactly one CBOR data item filling all of bytes. Before libcbor sees the
// input it is walked once: indefinite lengths, reserved encodings, counts larger than the input
// and nesting deeper than kMaxCborDepth are refused, naming `what` and the byte offset.
Result<CborPtr> DecodeCbor(ByteSpan bytes, std::string_view what);

// SplitTag reads a leading tag head, if there is one, and returns its number and the tagged
// item's bytes. Debian 12's libcbor (0.8) takes tags 6-20 for unassigned and refuses them, COSE's
// 16-18 included, so COSE's outer tag is read here rather than by libcbor.
struct TaggedBytes {
  std::optional<uint64_t> tag;
  ByteSpan item;
};

Result<TaggedBytes> SplitTag(ByteSpan bytes, std::string_view what);

// EncodeCbor serializes an item (definite lengths, shortest integer heads when built with the
// helpers below).
Result<Bytes> EncodeCbor(const cbor_item_t* item);

CborPtr BuildInt(int64_t value);
CborPtr BuildBytes(ByteSpan bytes);
CborPtr BuildText(std::string_view text);
// BuildArray takes ownership of the items.
CborPtr BuildArray(std::initializer_list<cbor_item_t*> items);

// Readers check the item's type and name `what` when it is not what the format says.
// libcbor's own typed accessors (cbor_is_null, cbor_ctrl_value, cbor_get_int, ...) assert on an
// item of the wrong kind and Debian builds it with assertions on, so outside bytes are only ever
// inspected through these.
// IsNull is true for the simple value null (0xf6) only; a float or any other item is not null.
bool IsNull(const cbor_item_t* item);
Result<int64_t> ReadInt(const cbor_item_t* item, std::string_view what);
Result<Bytes> ReadBytes(const cbor_item_t* item, std::string_view what);
Result<std::string> ReadText(const cbor_item_t* item, std::string_view what);
// ReadArray returns the array's items (borrowed), requiring exactly `size` of them when size is
// not zero.
Result<std::span<cbor_item_t*>> ReadArray(const cbor_item_t* item, std::string_view what,
                                          size_t size = 0);

}  // namespace concierge::cose
