#include "exposure/policy_index.h"

#include <algorithm>
#include <set>

namespace concierge::exposure {

using mud::ConnectionDirection;
using mud::ForwardingAction;

bool PortMatches(const mud::PortMatch& match, uint16_t port) {
  switch (match.op) {
    case mud::PortMatch::Op::kEq:
      return port == match.lower;
    case mud::PortMatch::Op::kLte:
      return port <= match.lower;
    case mud::PortMatch::Op::kGte:
      return port >= match.lower;
    case mud::PortMatch::Op::kNeq:
      return port != match.lower;
    case mud::PortMatch::Op::kRange:
      return port >= match.lower && port <= match.upper;
  }
  return false;
}

PolicyIndex::PolicyIndex(const mud::Policy& policy) : policy_(policy) {
  for (const mud::Binding& binding : policy.bindings) {
    for (const IpNetwork& address : binding.addresses) {
      bindings_[address] = &binding;
    }
  }
  for (const mud::AddressSet& set : policy.sets) {
    sets_[set.name] = &set;
  }
  for (const mud::Profile& profile : policy.profiles) {
    profiles_[profile.id] = &profile;
    change_points_[profile.id] = ChangePoints(profile);
  }
}

const mud::Binding* PolicyIndex::FindBinding(const IpNetwork& address) const {
  auto found = bindings_.find(address);
  return found == bindings_.end() ? nullptr : found->second;
}

const mud::Profile* PolicyIndex::FindProfile(const std::string& id) const {
  auto found = profiles_.find(id);
  return found == profiles_.end() ? nullptr : found->second;
}

bool PolicyIndex::InSet(const std::string& set, const IpNetwork& address) const {
  auto found = sets_.find(set);
  if (found == sets_.end()) {
    return false;
  }
  const auto& elements = found->second->elements;
  // Elements are sorted and disjoint: only the last one at or before the address can hold it.
  auto after = std::upper_bound(elements.begin(), elements.end(), address,
                                [](const IpNetwork& a, const IpNetwork& e) {
                                  return std::tie(a.family, a.bytes) < std::tie(e.family, e.bytes);
                                });
  return after != elements.begin() && std::prev(after)->Contains(address);
}

bool PolicyIndex::Matches(const mud::Rule& rule, const Packet& packet) const {
  if (rule.protocol && *rule.protocol != packet.protocol) {
    return false;
  }
  if (rule.source_network && !rule.source_network->Contains(packet.source)) {
    return false;
  }
  if (rule.destination_network && !rule.destination_network->Contains(packet.destination)) {
    return false;
  }
  for (const std::string& set : rule.source_sets) {
    if (!InSet(set, packet.source)) {
      return false;
    }
  }
  for (const std::string& set : rule.destination_sets) {
    if (!InSet(set, packet.destination)) {
      return false;
    }
  }
  if (rule.source_port && !PortMatches(*rule.source_port, packet.source_port)) {
    return false;
  }
  if (rule.destination_port && !PortMatches(*rule.destination_port, packet.destination_port)) {
    return false;
  }
  if (rule.icmp_type && rule.icmp_type != packet.icmp_type) {
    return false;
  }
  if (rule.icmp_code) {
    return false;  // codes are not modelled in packets; an entry that needs one never matches
  }
  return rule.connection == ConnectionDirection::kAny || rule.connection == packet.direction;
}

Decision PolicyIndex::RunChain(const mud::Chain& chain, const Packet& packet, bool from_device,
                               const std::string& device) const {
  std::string side = from_device ? "from " : "to ";
  for (const mud::Rule& rule : chain.rules) {
    if (Matches(rule, packet)) {
      return {rule.action == ForwardingAction::kAccept,
              side + device + ": " + rule.origin +
                  (rule.action == ForwardingAction::kAccept ? " allows" : " refuses")};
    }
  }
  return {false, side + device + ": not in its MUD file"};
}

std::optional<Decision> PolicyIndex::Blocked(const Packet& packet) const {
  if (packet.direction != ConnectionDirection::kOriginal) {
    return std::nullopt;  // blocks match destination ports, which answers do not carry
  }
  auto inside = [](const std::vector<IpNetwork>& networks, const IpNetwork& address) {
    return networks.empty() || std::ranges::any_of(networks, [&](const IpNetwork& network) {
             return network.Contains(address);
           });
  };
  for (const mud::Block& block : policy_.blocks) {
    if (block.protocol == packet.protocol &&
        std::ranges::find(block.ports, packet.destination_port) != block.ports.end() &&
        inside(block.sources, packet.source) && inside(block.destinations, packet.destination)) {
      return Decision{false, "exposure block " + block.name + ": " + block.reason};
    }
  }
  return std::nullopt;
}

Decision PolicyIndex::Evaluate(const Packet& packet) const {
  if (std::optional<Decision> blocked = Blocked(packet)) {
    return *blocked;
  }
  bool v4 = packet.source.family == IpFamily::kIpv4;
  Decision decision{true, "neither end is under MUD policy"};
  if (const mud::Binding* sender = FindBinding(packet.source)) {
    const mud::Profile* profile = FindProfile(sender->profile_id);
    if (profile != nullptr) {
      decision = RunChain(v4 ? profile->from_device_v4 : profile->from_device_v6, packet, true,
                          sender->device);
      if (!decision.allowed) {
        return decision;
      }
    }
  }
  if (const mud::Binding* receiver = FindBinding(packet.destination)) {
    const mud::Profile* profile = FindProfile(receiver->profile_id);
    if (profile != nullptr) {
      Decision to = RunChain(v4 ? profile->to_device_v4 : profile->to_device_v6, packet, false,
                             receiver->device);
      if (!to.allowed || decision.reason.starts_with("neither")) {
        return to;
      }
      decision.reason += "; " + to.reason;
    }
  }
  return decision;
}

std::vector<uint16_t> PolicyIndex::SourcePortSegments(const IpNetwork& source,
                                                      const IpNetwork& destination, uint16_t low,
                                                      uint16_t high) const {
  // Rules test ports against intervals, so the outcome can change only where an interval
  // starts or just past where one ends: one trial per stretch between such points suffices.
  std::set<uint16_t> starts = {low};
  auto add = [&](int point) {
    if (point > low && point <= high) {
      starts.insert(static_cast<uint16_t>(point));
    }
  };
  for (const IpNetwork* end : {&source, &destination}) {
    const mud::Binding* binding = FindBinding(*end);
    auto found =
        binding != nullptr ? change_points_.find(binding->profile_id) : change_points_.end();
    if (found != change_points_.end()) {
      std::ranges::for_each(found->second, add);
    }
  }
  return {starts.begin(), starts.end()};
}

std::vector<int> PolicyIndex::ChangePoints(const mud::Profile& profile) {
  std::set<int> points;
  for (const mud::Chain* chain : {&profile.from_device_v4, &profile.to_device_v4,
                                  &profile.from_device_v6, &profile.to_device_v6}) {
    for (const mud::Rule& rule : chain->rules) {
      for (const auto& match : {rule.source_port, rule.destination_port}) {
        if (match) {
          uint16_t last = match->op == mud::PortMatch::Op::kRange ? match->upper : match->lower;
          points.insert(match->lower);
          points.insert(last + 1);
        }
      }
    }
  }
  return {points.begin(), points.end()};
}

Decision PolicyIndex::TryOpen(const IpNetwork& source, const IpNetwork& destination,
                              uint8_t protocol, uint16_t source_port, uint16_t port,
                              bool needs_answer) const {
  Packet opening{source,
                 destination,
                 protocol,
                 source_port,
                 port,
                 std::nullopt,
                 ConnectionDirection::kOriginal};
  Decision first = Evaluate(opening);
  if (!first.allowed || !needs_answer) {
    return first;
  }
  Packet answer{
      destination, source, protocol, port, source_port, std::nullopt, ConnectionDirection::kReply};
  Decision back = Evaluate(answer);
  if (!back.allowed) {
    return {false, "answer refused: " + back.reason};
  }
  return {true, first.reason + "; answered: " + back.reason};
}

Decision PolicyIndex::CanOpen(const IpNetwork& source, const IpNetwork& destination,
                              uint8_t protocol, uint16_t port, bool needs_answer) const {
  Decision refused{false, ""};
  for (uint16_t source_port : SourcePortSegments(source, destination, 0, 65535)) {
    Decision tried = TryOpen(source, destination, protocol, source_port, port, needs_answer);
    if (tried.allowed) {
      return tried;
    }
    refused = std::move(tried);
  }
  return refused;
}

double PolicyIndex::OpenFraction(const IpNetwork& source, const IpNetwork& destination,
                                 uint8_t protocol, uint16_t port, uint16_t low, uint16_t high,
                                 bool needs_answer) const {
  std::vector<uint16_t> starts = SourcePortSegments(source, destination, low, high);
  double open = 0;
  for (size_t i = 0; i < starts.size(); ++i) {
    int end = i + 1 < starts.size() ? int{starts[i + 1]} : int{high} + 1;
    if (TryOpen(source, destination, protocol, starts[i], port, needs_answer).allowed) {
      open += end - starts[i];
    }
  }
  return open / (int{high} - int{low} + 1);
}

}  // namespace concierge::exposure
