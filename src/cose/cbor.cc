#include "cose/cbor.h"

#include <cstdlib>
#include <limits>
#include <vector>

namespace concierge::cose {
namespace {

std::unexpected<Error> Malformed(std::string_view what, size_t offset, std::string_view why) {
  return MakeError(ErrorCode::kInvalidArgument, std::string(what) + ": malformed CBOR at byte " +
                                                    std::to_string(offset) + ": " +
                                                    std::string(why));
}

// CheckStructure walks the item heads with an explicit stack of "children still expected".
Status CheckStructure(ByteSpan bytes, std::string_view what) {
  std::vector<uint64_t> pending;  // per open container
  size_t position = 0;
  bool done = false;
  while (!done) {
    if (position >= bytes.size()) {
      return Malformed(what, position, "truncated");
    }
    size_t head = position;
    uint8_t initial = bytes[position++];
    int major = initial >> 5;
    int additional = initial & 0x1f;
    uint64_t argument = 0;
    if (additional < 24) {
      argument = static_cast<uint64_t>(additional);
    } else if (additional <= 27) {
      size_t length = size_t{1} << (additional - 24);
      if (bytes.size() - position < length) {
        return Malformed(what, head, "truncated head");
      }
      for (size_t i = 0; i < length; ++i) {
        argument = (argument << 8) | bytes[position++];
      }
    } else if (additional == 31) {
      return Malformed(what, head, "indefinite lengths are not accepted");
    } else {
      return Malformed(what, head, "reserved additional information");
    }
    uint64_t children = 0;
    size_t remaining = bytes.size() - position;
    switch (major) {
      case 2:
      case 3:
        if (argument > remaining) {
          return Malformed(what, head, "string longer than the input");
        }
        position += static_cast<size_t>(argument);
        break;
      case 4:
        children = argument;
        break;
      case 5:
        if (argument > remaining / 2) {
          return Malformed(what, head, "more map entries than input");
        }
        children = argument * 2;
        break;
      case 6:
        children = 1;
        break;
      default:  // integers, simple values and floats carry no children
        break;
    }
    if (children > remaining) {
      return Malformed(what, head, "more items than input");
    }
    if (children > 0) {
      if (pending.size() >= kMaxCborDepth) {
        return Malformed(what, head, "nested too deeply");
      }
      pending.push_back(children);
      continue;
    }
    // One item is complete: close every container it completes.
    for (;;) {
      if (pending.empty()) {
        done = true;
        break;
      }
      if (--pending.back() > 0) {
        break;
      }
      pending.pop_back();
    }
  }
  if (position != bytes.size()) {
    return Malformed(what, position, "trailing bytes after the item");
  }
  return OkStatus();
}

std::unexpected<Error> WrongType(std::string_view what, std::string_view expected) {
  return MakeError(ErrorCode::kInvalidArgument,
                   std::string(what) + ": expected " + std::string(expected));
}

}  // namespace

Result<CborPtr> DecodeCbor(ByteSpan bytes, std::string_view what) {
  RETURN_IF_ERROR(CheckStructure(bytes, what));
  cbor_load_result result{};
  CborPtr item(cbor_load(bytes.data(), bytes.size(), &result));
  if (item == nullptr || result.error.code != CBOR_ERR_NONE || result.read != bytes.size()) {
    return Malformed(what, result.error.position, "not well-formed");
  }
  return item;
}

Result<TaggedBytes> SplitTag(ByteSpan bytes, std::string_view what) {
  if (bytes.empty() || (bytes[0] >> 5) != 6) {
    return TaggedBytes{std::nullopt, bytes};
  }
  int additional = bytes[0] & 0x1f;
  if (additional > 27) {
    return Malformed(what, 0, "reserved or indefinite tag head");
  }
  size_t length = additional < 24 ? 0 : size_t{1} << (additional - 24);
  if (bytes.size() < 1 + length) {
    return Malformed(what, 0, "truncated tag head");
  }
  uint64_t tag = additional < 24 ? static_cast<uint64_t>(additional) : 0;
  for (size_t i = 1; i <= length; ++i) {
    tag = (tag << 8) | bytes[i];
  }
  return TaggedBytes{tag, bytes.subspan(1 + length)};
}

Result<Bytes> EncodeCbor(const cbor_item_t* item) {
  unsigned char* buffer = nullptr;
  size_t capacity = 0;
  size_t length = cbor_serialize_alloc(item, &buffer, &capacity);
  std::unique_ptr<unsigned char, decltype(&std::free)> owned(buffer, &std::free);
  if (length == 0) {
    return MakeError(ErrorCode::kInternal, "CBOR encoding failed");
  }
  return Bytes(buffer, buffer + length);
}

CborPtr BuildInt(int64_t value) {
  bool negative = value < 0;
  // A negative integer n is encoded as -1 - n.
  uint64_t magnitude =
      negative ? static_cast<uint64_t>(-(value + 1)) : static_cast<uint64_t>(value);
  cbor_item_t* item = nullptr;
  if (magnitude <= std::numeric_limits<uint8_t>::max()) {
    auto small = static_cast<uint8_t>(magnitude);
    item = negative ? cbor_build_negint8(small) : cbor_build_uint8(small);
  } else if (magnitude <= std::numeric_limits<uint16_t>::max()) {
    auto medium = static_cast<uint16_t>(magnitude);
    item = negative ? cbor_build_negint16(medium) : cbor_build_uint16(medium);
  } else if (magnitude <= std::numeric_limits<uint32_t>::max()) {
    auto large = static_cast<uint32_t>(magnitude);
    item = negative ? cbor_build_negint32(large) : cbor_build_uint32(large);
  } else {
    item = negative ? cbor_build_negint64(magnitude) : cbor_build_uint64(magnitude);
  }
  return CborPtr(item);
}

CborPtr BuildBytes(ByteSpan bytes) {
  return CborPtr(cbor_build_bytestring(bytes.data(), bytes.size()));
}

CborPtr BuildText(std::string_view text) {
  return CborPtr(cbor_build_stringn(text.data(), text.size()));
}

CborPtr BuildArray(std::initializer_list<cbor_item_t*> items) {
  CborPtr array(cbor_new_definite_array(items.size()));
  for (cbor_item_t* item : items) {
    CborPtr owned(item);
    (void)cbor_array_push(array.get(), owned.get());
  }
  return array;
}

bool IsNull(const cbor_item_t* item) {
  // cbor_is_null asserts that a float-or-simple item is a simple value; check the width first.
  return cbor_isa_float_ctrl(item) && cbor_float_get_width(item) == CBOR_FLOAT_0 &&
         cbor_ctrl_value(item) == CBOR_CTRL_NULL;
}

Result<int64_t> ReadInt(const cbor_item_t* item, std::string_view what) {
  if (!cbor_is_int(item)) {
    return WrongType(what, "an integer");
  }
  uint64_t magnitude = cbor_get_int(item);
  if (magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return WrongType(what, "an integer within 64 bits");
  }
  auto value = static_cast<int64_t>(magnitude);
  return cbor_isa_negint(item) ? -1 - value : value;
}

Result<Bytes> ReadBytes(const cbor_item_t* item, std::string_view what) {
  if (!cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item)) {
    return WrongType(what, "a byte string");
  }
  const uint8_t* data = cbor_bytestring_handle(item);
  return data == nullptr ? Bytes{} : Bytes(data, data + cbor_bytestring_length(item));
}

Result<std::string> ReadText(const cbor_item_t* item, std::string_view what) {
  if (!cbor_isa_string(item) || !cbor_string_is_definite(item)) {
    return WrongType(what, "a text string");
  }
  const uint8_t* data = cbor_string_handle(item);
  return data == nullptr ? std::string{} : std::string(data, data + cbor_string_length(item));
}

Result<std::span<cbor_item_t*>> ReadArray(const cbor_item_t* item, std::string_view what,
                                          size_t size) {
  if (!cbor_isa_array(item) || !cbor_array_is_definite(item)) {
    return WrongType(what, "an array");
  }
  size_t count = cbor_array_size(item);
  if (size != 0 && count != size) {
    return WrongType(what, "an array of " + std::to_string(size) + " items");
  }
  return std::span<cbor_item_t*>(cbor_array_handle(item), count);
}

}  // namespace concierge::cose
