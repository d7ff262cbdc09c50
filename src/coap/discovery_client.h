#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "coap/link_format.h"
#include "common/error.h"
#include "common/url.h"

namespace concierge::coap {

// ParseCoapUrl reads coap://HOST[:PORT] (5683 by default); HOST may be an IPv6 literal with a
// zone, as a link-local or multicast one needs: coap://[ff02::fd%25eth0] (RFC 6874) or
// coap://[ff02::fd%eth0].
Result<HostPort> ParseCoapUrl(std::string_view url);

// One endpoint's answer to discovery: who answered (in URI form: "192.0.2.1",
// "[fe80::1%eth0]"; the address a link with an empty target means) and its links.
struct DiscoveryAnswer {
  std::string responder;
  std::vector<Link> links;
};

// Discover asks `GET /.well-known/core?query` over plain UDP. Of a unicast address: a CON,
// answering an Echo challenge (RFC 9175) once as the server asks, and its one answer. Of a
// multicast group: a NON on the group's interface (the zone), and every 2.05 answer that comes
// within wait (RFC 7252 §8.2; no Echo: a multicast answer is never larger than its request).
// kUnavailable when no answer comes within wait; an answer that is not link format is skipped
// from a group and kBadFormat from one address.
Result<std::vector<DiscoveryAnswer>> Discover(const HostPort& where, std::string_view query,
                                              std::chrono::milliseconds wait);

}  // namespace concierge::coap
