#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace concierge::mud {

// The model of a MUD file (RFC 8520) and its access lists (RFC 8519), as parsed: names and
// abstractions are kept symbolic; the compiler resolves them against site facts.

enum class AclType { kIpv4, kIpv6, kEthernet };
enum class Direction { kFromDevice, kToDevice };
enum class ForwardingAction { kAccept, kDrop, kReject };

// PortMatch is one RFC 8519 port-range-or-operator: an operator with a port, or a range.
struct PortMatch {
  enum class Op { kEq, kLte, kGte, kNeq, kRange };  // RFC 8519 operators
  Op op = Op::kEq;
  uint16_t lower = 0;  // the port for operators
  uint16_t upper = 0;  // kRange only
};

// MudAbstractions are the RFC 8520 §8 "ietf-mud:mud" match augments.
struct MudAbstractions {
  std::string manufacturer;  // a MUD URL authority
  bool same_manufacturer = false;
  std::string model;  // a MUD URL
  bool local_networks = false;
  std::string controller;  // a URI naming a class of controllers
  bool my_controller = false;

  bool Any() const {
    return !manufacturer.empty() || same_manufacturer || !model.empty() || local_networks ||
           !controller.empty() || my_controller;
  }
};

struct AceMatches {
  std::optional<uint8_t> protocol;  // IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6)
  std::string source_network;       // CIDR, "" for any
  std::string destination_network;
  std::string source_dnsname;  // ietf-acldns
  std::string destination_dnsname;
  std::optional<PortMatch> source_port;
  std::optional<PortMatch> destination_port;
  std::optional<Direction> direction_initiated;  // TCP only
  std::optional<uint8_t> icmp_type;
  std::optional<uint8_t> icmp_code;
  std::optional<uint16_t> ethertype;
  std::string source_mac;
  std::string destination_mac;
  MudAbstractions mud;
};

struct Ace {
  std::string name;
  AceMatches matches;
  ForwardingAction action = ForwardingAction::kAccept;
};

struct Acl {
  std::string name;
  AclType type = AclType::kIpv4;
  std::vector<Ace> aces;
};

struct MudFile {
  int mud_version = 1;
  std::string mud_url;
  SystemTime last_update;
  std::string mud_signature;  // URI of the detached signature, "" if not named
  int cache_validity_hours = 48;
  bool is_supported = true;
  std::string systeminfo;
  std::string mfg_name;
  std::string model_name;
  std::string firmware_rev;
  std::string software_rev;
  std::string documentation;
  std::vector<std::string> extensions;
  std::vector<std::string> from_device_acls;  // names, in policy order
  std::vector<std::string> to_device_acls;
  std::vector<Acl> acls;
  // What the parser ignored or left out (RFC 8520 §3.9), each naming its JSON path.
  std::vector<std::string> warnings;

  const Acl* FindAcl(std::string_view name) const;
  size_t AceCount() const;
};

}  // namespace concierge::mud
