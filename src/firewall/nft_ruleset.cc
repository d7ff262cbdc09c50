#include "firewall/nft_ruleset.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <tuple>

namespace concierge::firewall {
namespace {

using mud::Chain;
using mud::ConnectionDirection;
using mud::ForwardingAction;
using mud::PortMatch;
using mud::Profile;
using mud::Rule;

std::string Comment(std::string_view text) {
  std::string safe;
  for (char c : text.substr(0, 100)) {
    bool plain = std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                 std::string_view(" ._:/-+@#=,").find(c) != std::string_view::npos;
    safe += plain ? c : '_';
  }
  return "comment \"" + safe + "\"";
}

// OneLine keeps outside text (URLs, names from MUD files) inside a "#" comment line.
std::string OneLine(std::string_view text) {
  std::string line;
  for (char c : text.substr(0, 300)) {
    line += std::isprint(static_cast<unsigned char>(c)) != 0 ? c : '_';
  }
  return line;
}

std::string Port(const PortMatch& port) {
  switch (port.op) {
    case PortMatch::Op::kEq:
      return std::to_string(port.lower);
    case PortMatch::Op::kLte:
      return "<= " + std::to_string(port.lower);
    case PortMatch::Op::kGte:
      return ">= " + std::to_string(port.lower);
    case PortMatch::Op::kNeq:
      return "!= " + std::to_string(port.lower);
    case PortMatch::Op::kRange:
      return std::to_string(port.lower) + "-" + std::to_string(port.upper);
  }
  return {};
}

std::string Protocol(uint8_t protocol) {
  switch (protocol) {
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 1:
      return "icmp";
    case 58:
      return "ipv6-icmp";
    default:
      return std::to_string(protocol);
  }
}

}  // namespace

std::string RenderRule(const Rule& rule, IpFamily family) {
  std::vector<std::string> parts;
  std::string l3 = family == IpFamily::kIpv4 ? "ip" : "ip6";
  if (rule.source_network) {
    parts.push_back(l3 + " saddr " + rule.source_network->ToString());
  }
  if (rule.destination_network) {
    parts.push_back(l3 + " daddr " + rule.destination_network->ToString());
  }
  for (auto [field, sets] :
       {std::pair{" saddr @", &rule.source_sets}, std::pair{" daddr @", &rule.destination_sets}}) {
    for (const std::string& set : *sets) {
      std::string match = l3;
      match += field;
      match += set;
      parts.push_back(std::move(match));
    }
  }
  bool has_ports = rule.source_port || rule.destination_port;
  bool has_icmp = rule.icmp_type || rule.icmp_code;
  std::string l4 = rule.protocol ? Protocol(*rule.protocol) : "";
  if (rule.protocol && !has_ports && !has_icmp) {
    parts.push_back("meta l4proto " + l4);
  }
  if (rule.source_port) {
    parts.push_back(l4 + " sport " + Port(*rule.source_port));
  }
  if (rule.destination_port) {
    parts.push_back(l4 + " dport " + Port(*rule.destination_port));
  }
  std::string icmp = family == IpFamily::kIpv4 ? "icmp" : "icmpv6";
  if (rule.icmp_type) {
    parts.push_back(icmp + " type " + std::to_string(*rule.icmp_type));
  }
  if (rule.icmp_code) {
    parts.push_back(icmp + " code " + std::to_string(*rule.icmp_code));
  }
  if (rule.connection == ConnectionDirection::kOriginal) {
    parts.push_back("ct direction original");
  } else if (rule.connection == ConnectionDirection::kReply) {
    parts.push_back("ct direction reply");
  }
  // An allowed packet returns to the base chain rather than being accepted, so that a packet
  // between two managed devices passes the receiver's to-device policy as well.
  switch (rule.action) {
    case ForwardingAction::kAccept:
      parts.emplace_back("return");
      break;
    case ForwardingAction::kDrop:
      parts.emplace_back("drop");
      break;
    case ForwardingAction::kReject:
      parts.emplace_back("reject");
      break;
  }
  parts.push_back(Comment(rule.origin));
  std::string line;
  for (const std::string& part : parts) {
    line += (line.empty() ? "" : " ") + part;
  }
  return line;
}

namespace {

void RenderChain(std::ostream& out, const Chain& chain, IpFamily family) {
  out << "\tchain " << chain.name << " {\n";
  for (const Rule& rule : chain.rules) {
    out << "\t\t" << RenderRule(rule, family) << "\n";
  }
  out << "\t\tcounter drop comment \"not in the MUD file\"\n";
  out << "\t}\n";
}

void RenderProfile(std::ostream& out, const Profile& profile) {
  out << "\t# " << OneLine(profile.mud_url) << "\n";
  for (const std::string& note : profile.notes) {
    out << "\t# note: " << OneLine(note) << "\n";
  }
  RenderChain(out, profile.from_device_v4, IpFamily::kIpv4);
  RenderChain(out, profile.to_device_v4, IpFamily::kIpv4);
  RenderChain(out, profile.from_device_v6, IpFamily::kIpv6);
  RenderChain(out, profile.to_device_v6, IpFamily::kIpv6);
}

void RenderSet(std::ostream& out, const mud::AddressSet& set) {
  out << "\tset " << set.name << " {\n";
  out << "\t\ttype " << (set.family == IpFamily::kIpv4 ? "ipv4_addr" : "ipv6_addr") << "\n";
  out << "\t\tflags interval\n";
  out << "\t\t" << Comment(set.origin) << "\n";
  if (!set.elements.empty()) {
    out << "\t\telements = { ";
    for (size_t i = 0; i < set.elements.size(); ++i) {
      out << (i == 0 ? "" : ",\n\t\t\t     ") << set.elements[i].ToString();
    }
    out << " }\n";
  }
  out << "\t}\n";
}

std::string ChainFor(const Profile& profile, IpFamily family, bool from_device) {
  if (family == IpFamily::kIpv4) {
    return from_device ? profile.from_device_v4.name : profile.to_device_v4.name;
  }
  return from_device ? profile.from_device_v6.name : profile.to_device_v6.name;
}

void RenderMap(std::ostream& out, const mud::Policy& policy, IpFamily family, bool from_device) {
  std::string suffix = family == IpFamily::kIpv4 ? "4" : "6";
  out << "\tmap " << (from_device ? "from_device_" : "to_device_") << suffix << " {\n";
  out << "\t\ttype " << (family == IpFamily::kIpv4 ? "ipv4_addr" : "ipv6_addr") << " : verdict\n";
  std::vector<std::string> elements;
  for (const mud::Binding& binding : policy.bindings) {
    const Profile* profile = policy.FindProfile(binding.profile_id);
    for (const IpNetwork& address : binding.addresses) {
      if (address.family == family && profile != nullptr) {
        elements.push_back(address.ToString() + " : jump " +
                           ChainFor(*profile, family, from_device));
      }
    }
  }
  if (!elements.empty()) {
    out << "\t\telements = { ";
    for (size_t i = 0; i < elements.size(); ++i) {
      out << (i == 0 ? "" : ",\n\t\t\t     ") << elements[i];
    }
    out << " }\n";
  }
  out << "\t}\n";
}

// LinearDispatch is one rule per device address and direction: the layout whose per-packet
// cost grows with the number of devices, kept only to measure against.
void RenderLinearDispatch(std::ostream& out, const mud::Policy& policy, bool from_device) {
  for (const mud::Binding& binding : policy.bindings) {
    const Profile* profile = policy.FindProfile(binding.profile_id);
    for (const IpNetwork& address : binding.addresses) {
      if (profile == nullptr) {
        continue;
      }
      out << "\t\t" << (address.family == IpFamily::kIpv4 ? "ip " : "ip6 ")
          << (from_device ? "saddr " : "daddr ") << address.ToString() << " jump "
          << ChainFor(*profile, address.family, from_device) << "\n";
    }
  }
}

// RenderBlocks writes the exposure analyzer's drops: a set per block side and family, and one
// base chain that runs before the MUD dispatch (a lower priority number runs first).
void RenderBlocks(std::ostream& out, const mud::Policy& policy) {
  if (policy.blocks.empty()) {
    return;
  }
  std::vector<std::string> rules;
  for (size_t i = 0; i < policy.blocks.size(); ++i) {
    const mud::Block& block = policy.blocks[i];
    std::string ports;
    for (uint16_t port : block.ports) {
      ports += (ports.empty() ? "" : ", ") + std::to_string(port);
    }
    std::string l4 = Protocol(block.protocol);
    for (IpFamily family : {IpFamily::kIpv4, IpFamily::kIpv6}) {
      std::string suffix = family == IpFamily::kIpv4 ? "4" : "6";
      std::string l3 = family == IpFamily::kIpv4 ? "ip" : "ip6";
      std::string match;
      bool applies = true;
      using Side = std::tuple<const char*, const char*, const std::vector<IpNetwork>*>;
      for (auto [side, field, networks] :
           {Side{"src", " saddr", &block.sources}, Side{"dst", " daddr", &block.destinations}}) {
        if (networks->empty()) {
          continue;
        }
        mud::AddressSet set{"block_" + std::to_string(i) + "_" + side + "_" + suffix,
                            block.name + " " + side,
                            family,
                            {}};
        std::ranges::copy_if(*networks, std::back_inserter(set.elements),
                             [family](const IpNetwork& n) { return n.family == family; });
        if (set.elements.empty()) {
          applies = false;  // this side names no address of the family
          break;
        }
        set.elements = NormalizeNetworks(std::move(set.elements));
        RenderSet(out, set);
        match += l3 + field + " @" + set.name + " ";
      }
      if (!applies) {
        continue;
      }
      if (block.sources.empty() && block.destinations.empty() && family == IpFamily::kIpv6) {
        continue;  // a block on ports alone needs no second, family-specific copy
      }
      std::string rule = match;
      rule += l4;
      rule += " dport { ";
      rule += ports;
      rule += " } counter drop ";
      rule += Comment(block.name + ": " + block.reason);
      rules.push_back(std::move(rule));
    }
  }
  out << "\tchain exposure {\n\t\ttype filter hook forward priority filter - 10; policy accept;\n";
  for (const std::string& rule : rules) {
    out << "\t\t" << rule << "\n";
  }
  out << "\t}\n";
}

// RenderQuarantine writes the devices an operator cut off: a set of their addresses per family
// and base chains that run before everything else (priority filter - 20). DHCP and neighbour
// discovery with the router still pass, so a released device needs no reboot to come back.
void RenderQuarantine(std::ostream& out, const mud::Policy& policy) {
  if (policy.quarantines.empty()) {
    return;
  }
  std::vector<std::pair<std::string, std::string>> sets;  // (l3 protocol, set name)
  for (IpFamily family : {IpFamily::kIpv4, IpFamily::kIpv6}) {
    std::string suffix = family == IpFamily::kIpv4 ? "4" : "6";
    mud::AddressSet set{"quarantine_" + suffix, "quarantined devices", family, {}};
    for (const mud::Quarantine& quarantine : policy.quarantines) {
      if (family == IpFamily::kIpv4) {
        out << "\t# quarantined: " << OneLine(quarantine.device) << ": "
            << OneLine(quarantine.reason) << "\n";
      }
      std::ranges::copy_if(quarantine.addresses, std::back_inserter(set.elements),
                           [family](const IpNetwork& n) { return n.family == family; });
    }
    if (set.elements.empty()) {
      continue;
    }
    set.elements = NormalizeNetworks(std::move(set.elements));
    RenderSet(out, set);
    sets.emplace_back(family == IpFamily::kIpv4 ? "ip" : "ip6", set.name);
  }
  if (sets.empty()) {
    return;  // no quarantined device has an address yet
  }
  auto rules = [&](std::initializer_list<std::string_view> fields) {
    for (const auto& [l3, set] : sets) {
      for (std::string_view field : fields) {
        out << "\t\t" << l3 << " " << field << " @" << set
            << " counter drop comment \"quarantined\"\n";
      }
    }
  };
  out << "\tchain quarantine {\n\t\ttype filter hook forward priority filter - 20; policy "
         "accept;\n";
  rules({"saddr", "daddr"});
  out << "\t}\n";
  out << "\tchain quarantine_input {\n"
      << "\t\ttype filter hook input priority filter - 20; policy accept;\n"
      << "\t\tudp sport 68 udp dport 67 accept\n"
      << "\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept\n";
  rules({"saddr"});
  out << "\t}\n";
  out << "\tchain quarantine_output {\n"
      << "\t\ttype filter hook output priority filter - 20; policy accept;\n"
      << "\t\tudp sport 67 udp dport 68 accept\n"
      << "\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept\n";
  rules({"daddr"});
  out << "\t}\n";
}

void RenderBaseChains(std::ostream& out, const mud::Policy& policy, Dispatch dispatch) {
  auto dispatch_rules = [&](bool from_device) {
    if (dispatch == Dispatch::kLinearList) {
      RenderLinearDispatch(out, policy, from_device);
      return;
    }
    std::string name = from_device ? "from_device_" : "to_device_";
    std::string field = from_device ? "saddr" : "daddr";
    out << "\t\tip " << field << " vmap @" << name << "4\n";
    out << "\t\tip6 " << field << " vmap @" << name << "6\n";
  };
  out << "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n";
  dispatch_rules(true);
  dispatch_rules(false);
  out << "\t}\n";
  // Address configuration and neighbour discovery with the router are never blocked: a device
  // that cannot keep its address cannot be managed at all.
  out << "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n"
      << "\t\tudp sport 68 udp dport 67 accept\n"
      << "\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept\n";
  dispatch_rules(true);
  out << "\t}\n";
  out << "\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n"
      << "\t\tudp sport 67 udp dport 68 accept\n"
      << "\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept\n";
  dispatch_rules(false);
  out << "\t}\n";
}

}  // namespace

std::string RenderRuleset(const mud::Policy& policy, Dispatch dispatch) {
  std::ostringstream out;
  out << "table inet " << kTableName << " {\n";
  for (const mud::AddressSet& set : policy.sets) {
    RenderSet(out, set);
  }
  for (const Profile& profile : policy.profiles) {
    RenderProfile(out, profile);
  }
  if (dispatch == Dispatch::kAddressMap) {
    for (IpFamily family : {IpFamily::kIpv4, IpFamily::kIpv6}) {
      RenderMap(out, policy, family, true);
      RenderMap(out, policy, family, false);
    }
  }
  RenderQuarantine(out, policy);
  RenderBlocks(out, policy);
  RenderBaseChains(out, policy, dispatch);
  out << "}\n";
  return out.str();
}

Result<std::string> RenderDevice(const mud::Policy& policy, std::string_view device) {
  const mud::Binding* binding = policy.FindBinding(device);
  if (binding == nullptr) {
    return MakeError(ErrorCode::kNotFound, "device " + std::string(device) +
                                               " is not under MUD policy (no verified MUD file"
                                               " or no address)");
  }
  const Profile* profile = policy.FindProfile(binding->profile_id);
  if (profile == nullptr) {
    return MakeError(ErrorCode::kInternal, "binding names a missing profile");
  }
  std::ostringstream out;
  out << "# device " << OneLine(binding->device) << ":";
  for (const IpNetwork& address : binding->addresses) {
    out << " " << address.ToString();
  }
  out << "\n";
  std::set<std::string> used;
  for (const Chain* chain : {&profile->from_device_v4, &profile->to_device_v4,
                             &profile->from_device_v6, &profile->to_device_v6}) {
    for (const Rule& rule : chain->rules) {
      used.insert(rule.source_sets.begin(), rule.source_sets.end());
      used.insert(rule.destination_sets.begin(), rule.destination_sets.end());
    }
  }
  for (const mud::AddressSet& set : policy.sets) {
    if (used.contains(set.name)) {
      RenderSet(out, set);
    }
  }
  RenderProfile(out, *profile);
  return out.str();
}

}  // namespace concierge::firewall
