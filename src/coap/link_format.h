#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace concierge::coap {

// One link of a CoRE link-format document (RFC 6690): its target and attributes in order.
struct Link {
  std::string target;                                           // between '<' and '>'
  std::vector<std::pair<std::string, std::string>> attributes;  // quotes removed; "" for none

  // Attribute is the first value of name, if the link has it.
  std::optional<std::string> Attribute(std::string_view name) const;
};

// A discovery answer is small; these bound what a stranger's answer can make us hold.
inline constexpr size_t kMaxLinkFormatBytes = 4096;
inline constexpr size_t kMaxLinks = 64;

// ParseLinkFormat reads a link-format document as RFC 6690 §2 writes it: links separated by
// ',', each `<target>` then `;name` or `;name=value` (a token or a quoted string). kBadFormat
// names the offset and what was expected.
Result<std::vector<Link>> ParseLinkFormat(std::string_view text);

}  // namespace concierge::coap
