#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace concierge {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

// AsBytes views text's bytes without copying; text must outlive the span.
inline ByteSpan AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

inline Bytes ToBytes(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

inline std::string ToString(ByteSpan bytes) {
  return std::string(bytes.begin(), bytes.end());
}

// Base64Encode uses the standard alphabet with padding (RFC 4648 §4).
std::string Base64Encode(ByteSpan bytes);

// Base64Decode accepts the standard alphabet, padded or not; it rejects any other character,
// including whitespace.
Result<Bytes> Base64Decode(std::string_view text);

// Base64DecodeLenient also skips ASCII whitespace, as EST bodies (RFC 7030) are line-wrapped.
Result<Bytes> Base64DecodeLenient(std::string_view text);

std::string HexEncode(ByteSpan bytes);

Result<Bytes> HexDecode(std::string_view text);

// TrimTrailingSpace drops the ASCII whitespace (line endings included) that ends text.
inline std::string_view TrimTrailingSpace(std::string_view text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(0, end == std::string_view::npos ? 0 : end + 1);
}

// JoinWords and SplitWords keep a list of words (addresses, names) in one text column.
std::string JoinWords(const std::vector<std::string>& words);
std::vector<std::string> SplitWords(std::string_view text);

// ConstantTimeEqual compares secrets without leaking where they differ.
bool ConstantTimeEqual(ByteSpan a, ByteSpan b);

}  // namespace concierge
