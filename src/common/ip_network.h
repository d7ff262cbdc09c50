#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace concierge {

enum class IpFamily { kIpv4, kIpv6 };

// IpNetwork is an address with a prefix length; a single address has the full length. Parsing
// clears the host bits, so "10.1.2.3/8" and "10.0.0.0/8" are the same network.
struct IpNetwork {
  IpFamily family = IpFamily::kIpv4;
  std::array<uint8_t, 16> bytes{};  // the first 4 for IPv4
  int prefix = 32;

  // Parse reads "192.0.2.1", "192.0.2.0/24", "2001:db8::1" or "2001:db8::/32".
  static Result<IpNetwork> Parse(std::string_view text);

  bool IsHost() const { return prefix == (family == IpFamily::kIpv4 ? 32 : 128); }

  bool Contains(const IpNetwork& other) const;
  // ToString is canonical: the address alone for a host, "address/prefix" otherwise.
  std::string ToString() const;

  auto operator<=>(const IpNetwork&) const = default;
};

// NormalizeNetworks sorts, removes duplicates and drops every network inside another, so that
// the result can be loaded into an interval set that refuses overlaps.
std::vector<IpNetwork> NormalizeNetworks(std::vector<IpNetwork> networks);

}  // namespace concierge
