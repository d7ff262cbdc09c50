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

// MakeDnsResolver asks A and AAAA of the given servers ("192.0.2.53" or "192.0.2.53:5353";
// IPv4 only), or of the system's resolv.conf servers when servers is empty. RFC 9726 advises
// asking the resolver the devices use, so that both see the same answers. A name that does
// not exist is an empty answer kept for negative_ttl.
std::unique_ptr<Resolver> MakeDnsResolver(
    std::vector<std::string> servers, std::chrono::seconds negative_ttl = std::chrono::seconds(60));

}  // namespace concierge::mud
