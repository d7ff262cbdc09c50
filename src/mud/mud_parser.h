#pragma once

#include <string_view>

#include "mud/mud_file.h"

namespace concierge::mud {

inline constexpr size_t kMaxMudFileSize = size_t{1} << 20;

// ParseMudJson reads an RFC 8520 MUD file, and the pre-RFC encoding the UNSW MUDgee profiles
// use (top-level "ietf-access-control-list:access-lists", "ethernet-acl-type", port ranges
// written beside "operator"). A match it cannot enforce exactly is refused, never ignored:
// ignoring one would widen what the device may do. Errors are kBadFormat (kTooLarge over
// kMaxMudFileSize) and name the JSON path, e.g.
// "acls.acl[2].aces.ace[0].matches.tcp.destination-port.port: expected 0..65535".
Result<MudFile> ParseMudJson(std::string_view json);

}  // namespace concierge::mud
