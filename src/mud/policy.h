#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_network.h"
#include "mud/mud_file.h"

namespace concierge::mud {

// The policy IR: what the MUD compiler produces and every firewall back end (and the exposure
// analyzer) consumes. Devices that share a MUD file share its chains; what differs between
// them, and what changes at run time (DNS answers, new devices of a maker), lives in named
// address sets, so per-packet cost and the rule count do not grow with the number of devices.

// AddressSet is a named set of addresses and networks, normalized so that none lies inside
// another.
struct AddressSet {
  std::string name;    // a firewall identifier, stable across compiles
  std::string origin;  // what it stands for, e.g. "dns cloud.acme.example"
  IpFamily family = IpFamily::kIpv4;
  std::vector<IpNetwork> elements;
};

// ConnectionDirection is the conntrack direction a packet must travel in, from
// `direction-initiated`: kOriginal for packets going the way the connection was opened.
enum class ConnectionDirection { kAny, kOriginal, kReply };

struct Rule {
  std::optional<uint8_t> protocol;
  // Every listed set must hold the address (they come from separate matches of one ACE).
  std::vector<std::string> source_sets;
  std::vector<std::string> destination_sets;
  std::optional<IpNetwork> source_network;
  std::optional<IpNetwork> destination_network;
  std::optional<PortMatch> source_port;
  std::optional<PortMatch> destination_port;
  std::optional<uint8_t> icmp_type;
  std::optional<uint8_t> icmp_code;
  ConnectionDirection connection = ConnectionDirection::kAny;
  ForwardingAction action = ForwardingAction::kAccept;
  std::string origin;  // "acl-name/ace-name"
};

// Chain is one direction of one family of a profile; first match wins, and a packet matching
// no rule is dropped.
struct Chain {
  std::string name;
  std::vector<Rule> rules;
};

// Profile is one MUD file compiled against the site.
struct Profile {
  std::string mud_url;
  std::string id;  // short, stable, derived from the URL
  Chain from_device_v4;
  Chain to_device_v4;
  Chain from_device_v6;
  Chain to_device_v6;
  size_t ace_count = 0;
  std::vector<std::string> notes;  // what the router does not enforce, and why
};

// Binding puts a device's addresses under a profile.
struct Binding {
  std::string device;
  std::string profile_id;
  std::vector<IpNetwork> addresses;
};

// Block is a drop the exposure analyzer lays over the MUD allows; blocks are evaluated before
// any device's chain.
struct Block {
  std::string name;    // the threat it answers, e.g. "mirai-telnet"
  std::string reason;  // one line a person can read
  uint8_t protocol = 6;
  std::vector<uint16_t> ports;          // destination ports
  std::vector<IpNetwork> sources;       // empty: from anywhere
  std::vector<IpNetwork> destinations;  // empty: to anywhere
};

// Quarantine is an operator's decision to cut a device off: every packet to or from its
// addresses is dropped, before any MUD chain or block, except address configuration (DHCP and
// neighbour discovery) so that the device stays reachable once released.
struct Quarantine {
  std::string device;
  std::string reason;
  std::vector<IpNetwork> addresses;
};

struct Policy {
  std::vector<AddressSet> sets;         // sorted by name
  std::vector<Profile> profiles;        // sorted by id
  std::vector<Binding> bindings;        // sorted by device
  std::vector<Block> blocks;            // from the exposure analyzer, in order
  std::vector<Quarantine> quarantines;  // sorted by device

  const Profile* FindProfile(std::string_view id) const;
  const Binding* FindBinding(std::string_view device) const;
  size_t RuleCount() const;
};

// RelaxLikeInxu widens every port match to any and forgets direction-initiated, so each
// entry allows its protocol on any port whoever opens: what the INXU experiment's graph export
// kept of MUD files (its OpenFlow rules were stateless). For experiments only; it lets through
// far more than the makers declared.
void RelaxLikeInxu(Policy& policy);

// ForgetDirectionInitiated keeps every port but lets either side open a TCP connection, as a
// switch without connection tracking enforces MUD. For experiments only.
void ForgetDirectionInitiated(Policy& policy);

}  // namespace concierge::mud
