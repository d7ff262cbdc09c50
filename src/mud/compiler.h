#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "mud/policy.h"

namespace concierge::mud {

// ManagedDevice is a device whose traffic the site restricts to its MUD file.
struct ManagedDevice {
  std::string name;
  std::string mud_url;
  std::vector<std::string> addresses;  // IPv4 and IPv6 literals
};

// SiteFacts is what MUD abstractions mean at this site (RFC 8520 §8).
struct SiteFacts {
  std::vector<std::string> local_networks;                         // CIDRs
  std::map<std::string, std::vector<std::string>> controllers;     // class URI -> addresses
  std::map<std::string, std::vector<std::string>> my_controllers;  // MUD URL -> addresses
  std::vector<ManagedDevice> devices;
};

// ResolvedNames maps each DNS name the files use to its current addresses.
using ResolvedNames = std::map<std::string, std::vector<std::string>>;

// DnsNamesUsed lists, sorted and once each, the names the files' ACEs match on.
std::vector<std::string> DnsNamesUsed(std::span<const MudFile> files);

// CompilePolicy turns MUD files and site facts into the policy IR. Every device must name one
// of the files by its mud-url. A name missing from `names` compiles to an empty set (the
// rule matches nothing, so the flow stays blocked) and gets a note. Errors are
// kInvalidArgument naming the bad fact.
Result<Policy> CompilePolicy(std::span<const MudFile> files, const SiteFacts& facts,
                             const ResolvedNames& names);

// UrlAuthority is the host (and port) of a URL, the MUD "manufacturer".
std::string UrlAuthority(std::string_view url);

}  // namespace concierge::mud
