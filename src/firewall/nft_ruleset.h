#pragma once

#include <string>
#include <string_view>

#include "mud/policy.h"

namespace concierge::firewall {

inline constexpr std::string_view kTableName = "concierge";

// Dispatch says how a packet finds its device's chains. kAddressMap is what the site runs:
// verdict maps keyed by device address, one lookup whatever the number of devices. kLinearList
// (one rule per device address, tried in turn) exists to measure what the maps save.
enum class Dispatch { kAddressMap, kLinearList };

// RenderRuleset writes the policy as one nftables table, `inet concierge`, in nft's own
// syntax. The text is deterministic: the same policy renders to the same bytes.
std::string RenderRuleset(const mud::Policy& policy, Dispatch dispatch = Dispatch::kAddressMap);

// RenderRule writes one rule of a chain as nft text (its origin in a comment).
std::string RenderRule(const mud::Rule& rule, IpFamily family);

// RenderDevice writes what applies to one device: its addresses, its profile's chains and the
// sets they use; kNotFound if the policy does not bind the device.
Result<std::string> RenderDevice(const mud::Policy& policy, std::string_view device);

}  // namespace concierge::firewall
