#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"

namespace concierge::dnssd {

// The service types onboarding announces (draft-ietf-anima-constrained-voucher §"Discovery":
// a pledge looks for join proxies, or a registrar one hop away, as _brski-proxy._udp; the join
// proxy draft registers brski-rjp/udp for a registrar's JPY port).
inline constexpr char kJoinProxyService[] = "_brski-proxy._udp";
inline constexpr char kRegistrarJpyService[] = "_brski-rjp._udp";

// The largest multicast DNS message read or written (RFC 6762 §17: 9,000 bytes).
inline constexpr size_t kMaxMdnsMessage = 9000;

// Service is one instance a responder announces.
struct Service {
  std::string type;       // "_brski-proxy._udp"
  std::string instance;   // a label: letters, digits and hyphens (others become hyphens)
  std::string host = {};  // a label: the host's name in .local
  uint16_t port = 0;
  std::vector<std::string> addresses = {};  // IP literals for the host's A and AAAA records
};

// Offer is one instance a browse found.
struct Offer {
  std::string instance;   // its full name, "plant-proxy._brski-proxy._udp.local."
  std::string host = {};  // "gateway.local."
  uint16_t port = 0;
  std::vector<std::string> addresses = {};  // from the answer's A and AAAA records
};

// BrowseQuery is a one-shot PTR query for a service type (RFC 6762 §5.1), message id 0.
Bytes BrowseQuery(const std::string& type);

// AnswerQuery is the response to a query that asks about any of the services (their type,
// instance or host), or nothing. legacy_unicast (the query came from a port other than 5353,
// RFC 6762 §6.7) echoes the query's id and question, with TTLs of 10 s.
std::optional<Bytes> AnswerQuery(ByteSpan query, const std::vector<Service>& services,
                                 bool legacy_unicast);

// ParseAnswer reads the offers of a service type a response carries: each PTR to an instance,
// with its SRV and the A/AAAA records of its host when the response has them. A query, or
// bytes that are not DNS, are an error.
Result<std::vector<Offer>> ParseAnswer(ByteSpan response, const std::string& type);

// Label makes a DNS label of text: letters, digits and hyphens, at most 63 bytes.
std::string Label(const std::string& text);

}  // namespace concierge::dnssd
