#pragma once

#include <string_view>

#include "mud/mud_file.h"

namespace concierge::mud {

inline constexpr size_t kMaxMudFileSize = size_t{1} << 20;

// ParseMudJson reads an RFC 8520 MUD file, and the pre-RFC encoding the UNSW MUDgee profiles
// use (top-level "ietf-access-control-list:access-lists", "ethernet-acl-type", port ranges
// written beside "operator"). Nodes it does not understand are ignored (RFC 8520 §3.9) only
// where ignoring cannot widen what the device may do, each with a warning in
// MudFile::warnings naming its path:
//   - members of the "ietf-mud:mud" container (declared extensions among them) and top-level
//     members beside it are ignored;
//   - inside an entry's matches, an accept entry is left out (deny is the default) and a drop
//     or reject entry keeps its known matches (it then drops more).
// Anything else it cannot enforce exactly is refused. Errors are kBadFormat (kTooLarge over
// kMaxMudFileSize) and name the JSON path, e.g.
// "acls.acl[2].aces.ace[0].matches.tcp.destination-port.port: expected 0..65535".
Result<MudFile> ParseMudJson(std::string_view json);

}  // namespace concierge::mud
