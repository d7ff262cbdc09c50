#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace concierge::mud {

struct DnsAnswer {
  std::vector<std::string> addresses;  // IPv4 and IPv6 literals; empty for a name without any
  std::chrono::seconds ttl{0};         // how long the answer may be kept
};

// Resolver turns a DNS name into addresses with a time to live. The MUD manager re-resolves a
// name when its TTL runs out, so the set of addresses a rule allows follows the name.
class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual Result<DnsAnswer> Resolve(const std::string& name) = 0;
};

}  // namespace concierge::mud
