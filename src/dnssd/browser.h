#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"

namespace concierge::dnssd {

// Found is one instance of a service on the link: where to reach it.
struct Found {
  std::string address;  // the address its answer came from, with the zone ("fe80::1%eth0")
  uint16_t port = 0;    // from its SRV record
  std::string instance;
};

// Browse asks on the interface for a service type with one-shot multicast DNS queries (RFC
// 6762 §5.1: from a port of its own; again halfway through, in case one is lost) and returns
// every instance answered within wait, in the order the answers came, once each. Like CoAP
// discovery, it uses the address an answer came from, which is on the link, rather than
// addresses the answer names.
Result<std::vector<Found>> Browse(const std::string& type, const std::string& interface,
                                  std::chrono::milliseconds wait);

}  // namespace concierge::dnssd
