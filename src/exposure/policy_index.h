#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mud/policy.h"

namespace concierge::exposure {

// Packet is one packet as the router's policy sees it.
struct Packet {
  IpNetwork source;
  IpNetwork destination;
  uint8_t protocol = 6;
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  std::optional<uint8_t> icmp_type;
  // Which way the packet travels in its connection: kOriginal for the opener's packets.
  mud::ConnectionDirection direction = mud::ConnectionDirection::kOriginal;
};

struct Decision {
  bool allowed = true;
  std::string reason;  // which device's chain decided, and by which entry
};

// PolicyIndex answers, without a kernel, what the rendered nftables table would do with a
// packet: the exposure blocks, then the sender's from-device chain, then the receiver's to-device
// chain, first match wins, a managed device's unmatched packet is dropped, unmanaged traffic
// passes. The exposure analyzer asks it which flows the MUD policy allows.
class PolicyIndex {
 public:
  explicit PolicyIndex(const mud::Policy& policy);

  Decision Evaluate(const Packet& packet) const;

  // CanOpen tells whether source can open a connection to destination's port: some source
  // port (a sender chooses its own) gets the first packet through and, with needs_answer, the
  // answer back.
  Decision CanOpen(const IpNetwork& source, const IpNetwork& destination, uint8_t protocol,
                   uint16_t port, bool needs_answer) const;

  // OpenFraction is the share of source ports in [low, high] with which the opening (and, with
  // needs_answer, the answer) gets through: what a sender that picks its port at random meets.
  double OpenFraction(const IpNetwork& source, const IpNetwork& destination, uint8_t protocol,
                      uint16_t port, uint16_t low, uint16_t high, bool needs_answer) const;

  const mud::Policy& policy() const { return policy_; }

  const mud::Binding* FindBinding(const IpNetwork& address) const;
  const mud::Profile* FindProfile(const std::string& id) const;
  bool InSet(const std::string& set, const IpNetwork& address) const;

 private:
  Decision RunChain(const mud::Chain& chain, const Packet& packet, bool from_device,
                    const std::string& device) const;
  bool Matches(const mud::Rule& rule, const Packet& packet) const;
  std::optional<Decision> Blocked(const Packet& packet) const;
  Decision TryOpen(const IpNetwork& source, const IpNetwork& destination, uint8_t protocol,
                   uint16_t source_port, uint16_t port, bool needs_answer) const;
  std::vector<uint16_t> SourcePortSegments(const IpNetwork& source, const IpNetwork& destination,
                                           uint16_t low, uint16_t high) const;
  static std::vector<int> ChangePoints(const mud::Profile& profile);

  const mud::Policy& policy_;
  std::map<IpNetwork, const mud::Binding*> bindings_;
  std::map<std::string, const mud::AddressSet*, std::less<>> sets_;
  std::map<std::string, const mud::Profile*, std::less<>> profiles_;
  std::map<std::string, std::vector<int>, std::less<>> change_points_;
};

// PortMatches applies an RFC 8519 port match.
bool PortMatches(const mud::PortMatch& match, uint16_t port);

}  // namespace concierge::exposure
