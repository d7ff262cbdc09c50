#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "crypto/certificate.h"
#include "mud/fetcher.h"
#include "mud/resolver.h"

namespace concierge::mud {

// The MUD manager's ways out to the network (library concierge_mud_network), kept apart from
// the parser, compiler and manager, which take the Fetcher and Resolver interfaces.

// MakeHttpsFetcher fetches https:// URLs, authenticating servers against the system trust
// store plus extra_anchors.
Result<std::unique_ptr<Fetcher>> MakeHttpsFetcher(
    const std::vector<crypto::Certificate>& extra_anchors, std::chrono::milliseconds timeout);

// MakeDnsResolver asks A and AAAA of the given servers ("192.0.2.53" or "192.0.2.53:5353";
// IPv4 only), or of the system's resolv.conf servers when servers is empty. RFC 9726 advises
// asking the resolver the devices use, so that both see the same answers. A name that does
// not exist is an empty answer kept for negative_ttl.
std::unique_ptr<Resolver> MakeDnsResolver(
    std::vector<std::string> servers, std::chrono::seconds negative_ttl = std::chrono::seconds(60));

}  // namespace concierge::mud
