// Tightening: the drops that cut every exposure and leak without breaking a declared flow.
#include <algorithm>
#include <set>

#include "exposure/analyzer.h"

namespace concierge::exposure {
namespace {

bool RuleMatchesDestination(const mud::Rule& rule, const IpNetwork& address,
                            const PolicyIndex& index) {
  if (rule.destination_network && !rule.destination_network->Contains(address)) {
    return false;
  }
  return std::ranges::all_of(rule.destination_sets,
                             [&](const std::string& set) { return index.InSet(set, address); });
}

bool RuleMatchesSource(const mud::Rule& rule, const IpNetwork& address, const PolicyIndex& index) {
  if (rule.source_network && !rule.source_network->Contains(address)) {
    return false;
  }
  return std::ranges::all_of(rule.source_sets,
                             [&](const std::string& set) { return index.InSet(set, address); });
}

std::pair<int, int> Interval(const std::optional<mud::PortMatch>& match) {
  if (!match) {
    return {0, 65535};
  }
  switch (match->op) {
    case mud::PortMatch::Op::kEq:
      return {match->lower, match->lower};
    case mud::PortMatch::Op::kLte:
      return {0, match->lower};
    case mud::PortMatch::Op::kGte:
      return {match->lower, 65535};
    case mud::PortMatch::Op::kRange:
      return {match->lower, match->upper};
    case mud::PortMatch::Op::kNeq:
      return {0, 65535};
  }
  return {0, 65535};
}

// Ports to try for a flow: every blocked port it declares, and the first one it declares that
// no block names (a flow passes if any of its ports does).
std::vector<uint16_t> TrialPorts(const DeclaredFlow& flow, const mud::Policy& policy) {
  std::set<uint16_t> blocked;
  for (const mud::Block& block : policy.blocks) {
    blocked.insert(block.ports.begin(), block.ports.end());
  }
  auto [low, high] = Interval(flow.port);
  auto admits = [&](int port) {
    return port >= low && port <= high &&
           (!flow.port || flow.port->op != mud::PortMatch::Op::kNeq || port != flow.port->lower);
  };
  std::vector<uint16_t> out;
  for (uint16_t port : blocked) {
    if (admits(port)) {
      out.push_back(port);
    }
  }
  for (int port = low; port <= high; ++port) {
    if (admits(port) && !blocked.contains(static_cast<uint16_t>(port))) {
      out.push_back(static_cast<uint16_t>(port));
      break;
    }
  }
  return out;
}

// ThreatCut is what one threat's block covers: ports, and the classes it protects (exploits:
// destinations) or silences (operations: sources), with the peers it is sent to.
struct ThreatCut {
  const Threat* threat = nullptr;
  std::set<uint16_t> ports;
  std::set<size_t> nodes;
  std::vector<IpNetwork> peers;
};

class Tightener {
 public:
  Tightener(const SiteModel& model, const Analysis& analysis,
            const std::vector<std::string>& quarantine)
      : model_(model), analysis_(analysis), quarantine_(quarantine) {}

  Result<Tightening> Run() {
    const auto& nodes = analysis_.graph.nodes;
    std::map<std::string, const Threat*, std::less<>> threats;
    for (const Threat& threat : model_.threats.threats) {
      threats[threat.name] = &threat;
    }
    for (const Exposure& exposure : analysis_.exposures) {
      ThreatCut& cut = Cut(*threats.at(exposure.threat));
      cut.ports.insert(exposure.port);
      cut.nodes.insert(exposure.target);
    }
    for (const Leak& leak : analysis_.leaks) {
      ThreatCut& cut = Cut(*threats.at(leak.threat));
      cut.ports.insert(leak.port);
      cut.nodes.insert(leak.source);
    }
    for (ThreatCut& cut : cuts_) {
      for (const std::string& peer : cut.threat->peers) {
        if (auto address = IpNetwork::Parse(peer)) {
          cut.peers.push_back(*address);
        } else if (auto host = std::ranges::find(model_.hosts, peer, &Host::name);
                   host != model_.hosts.end()) {
          cut.peers.push_back(host->address);
        }
      }
    }
    std::vector<DeclaredFlow> flows = DeclaredFlows(
        analysis_.graph, model_.declared != nullptr ? *model_.declared : *model_.policy);
    Tightening result;
    for (const DeclaredFlow& flow : flows) {
      result.legit_flows_total += flow.weight;
    }
    // Leave out of a block each class whose declared flow it would break, and say so; repeat,
    // since a smaller block can only break fewer flows.
    mud::Policy tightened;
    for (bool changed = true; changed;) {
      changed = false;
      tightened = *model_.policy;
      tightened.blocks = Blocks();
      PolicyIndex index(tightened);
      for (const DeclaredFlow& flow : flows) {
        if (FlowPasses(flow, analysis_.graph, index)) {
          continue;
        }
        for (ThreatCut& cut : cuts_) {
          size_t culprit = cut.threat->kind == Threat::Kind::kExploit ? flow.to : flow.from;
          if (!cut.nodes.contains(culprit) || cut.threat->protocol != flow.protocol ||
              !Overlaps(cut, flow) || Quarantined(nodes[culprit])) {
            continue;
          }
          cut.nodes.erase(culprit);
          changed = true;
          result.conflicts.push_back(MakeConflict(cut, nodes[culprit], flow));
        }
      }
    }
    PolicyIndex index(tightened);
    for (const DeclaredFlow& flow : flows) {
      if (!FlowPasses(flow, analysis_.graph, index)) {
        result.legit_flows_blocked += flow.weight;
      }
    }
    for (const Exposure& exposure : analysis_.exposures) {
      const Node& source = nodes[exposure.source];
      const Node& target = nodes[exposure.target];
      if (index
              .CanOpen(Representative(source), Representative(target, &source == &target),
                       exposure.protocol, exposure.port, exposure.protocol == 6)
              .allowed) {
        ++result.exposures_left;
      }
    }
    for (const Leak& leak : analysis_.leaks) {
      if (index
              .CanOpen(Representative(nodes[leak.source]), leak.peer_address, leak.protocol,
                       leak.port, leak.protocol == 6)
              .allowed) {
        ++result.leaks_left;
      }
    }
    result.blocks = std::move(tightened.blocks);
    return result;
  }

 private:
  ThreatCut& Cut(const Threat& threat) {
    auto found = std::ranges::find(cuts_, &threat, &ThreatCut::threat);
    if (found != cuts_.end()) {
      return *found;
    }
    cuts_.push_back({&threat, {}, {}, {}});
    return cuts_.back();
  }

  bool Quarantined(const Node& node) const {
    return std::ranges::any_of(quarantine_, [&](const std::string& name) {
      return name == node.id || std::ranges::binary_search(node.members, name);
    });
  }

  static bool Overlaps(const ThreatCut& cut, const DeclaredFlow& flow) {
    auto [low, high] = Interval(flow.port);
    return std::ranges::any_of(cut.ports,
                               [&](uint16_t port) { return port >= low && port <= high; });
  }

  std::vector<mud::Block> Blocks() const {
    const auto& nodes = analysis_.graph.nodes;
    std::vector<mud::Block> blocks;
    for (const ThreatCut& cut : cuts_) {
      if (cut.nodes.empty()) {
        continue;
      }
      mud::Block block{cut.threat->name,
                       cut.threat->explanation,
                       cut.threat->protocol,
                       std::vector<uint16_t>(cut.ports.begin(), cut.ports.end()),
                       {},
                       {}};
      if (block.reason.empty()) {
        block.reason = cut.threat->kind == Threat::Kind::kExploit
                           ? "exploit of " + cut.threat->weakness
                           : "botnet operation";
      }
      std::vector<IpNetwork>& members =
          cut.threat->kind == Threat::Kind::kExploit ? block.destinations : block.sources;
      for (size_t node : cut.nodes) {
        members.insert(members.end(), nodes[node].addresses.begin(), nodes[node].addresses.end());
      }
      std::ranges::sort(members);
      if (cut.threat->kind == Threat::Kind::kOperation) {
        block.destinations = cut.peers;
      }
      blocks.push_back(std::move(block));
    }
    return blocks;
  }

  static Conflict MakeConflict(const ThreatCut& cut, const Node& node, const DeclaredFlow& flow) {
    Conflict conflict;
    conflict.threat = cut.threat->name;
    conflict.node = node.id;
    conflict.port = *std::ranges::find_if(cut.ports, [&](uint16_t port) {
      auto [low, high] = Interval(flow.port);
      return port >= low && port <= high;
    });
    conflict.flow = flow.origin;
    std::string device = node.members.empty() ? node.id : node.members.front();
    conflict.options = {
        "patch: remove the weakness (" +
            (cut.threat->weakness.empty() ? cut.threat->name : cut.threat->weakness) + ") from " +
            node.id + ", then `concierge exposure unmark " + device + " " + cut.threat->weakness +
            "`",
        "quarantine: `concierge exposure tighten --apply --quarantine " + node.id +
            "` blocks it anyway and breaks the declared flow " + flow.origin};
    return conflict;
  }

  const SiteModel& model_;
  const Analysis& analysis_;
  const std::vector<std::string>& quarantine_;
  std::vector<ThreatCut> cuts_;
};

}  // namespace

std::vector<DeclaredFlow> DeclaredFlows(const SiteGraph& graph, const mud::Policy& policy) {
  PolicyIndex index(policy);
  std::vector<DeclaredFlow> flows;
  std::set<std::tuple<size_t, size_t, uint8_t, std::string>> seen;
  auto add = [&](size_t from, size_t to, const mud::Rule& rule) {
    const Node& sender = graph.nodes[from];
    DeclaredFlow flow{from,           to,
                      *rule.protocol, rule.destination_port,
                      rule.origin,    (sender.host ? graph.nodes[to] : sender).members.size()};
    if (seen.insert({from, to, flow.protocol, rule.origin}).second &&
        FlowPasses(flow, graph, index)) {
      flows.push_back(std::move(flow));
    }
  };
  auto is_flow = [](const mud::Rule& rule) {
    // Entries naming only a source port describe the answers of some other flow.
    return rule.action == mud::ForwardingAction::kAccept && rule.protocol &&
           (*rule.protocol == 6 || *rule.protocol == 17) &&
           rule.connection != mud::ConnectionDirection::kReply &&
           (rule.destination_port || !rule.source_port);
  };
  for (size_t from = 0; from < graph.nodes.size(); ++from) {
    const Node& source = graph.nodes[from];
    const mud::Profile* profile = source.host ? nullptr : index.FindProfile(source.profile_id);
    if (profile == nullptr) {
      continue;
    }
    for (size_t to = 0; to < graph.nodes.size(); ++to) {
      const Node& target = graph.nodes[to];
      if ((from == to && source.members.size() < 2) ||
          Representative(target).family != Representative(source).family) {
        continue;
      }
      bool v4 = Representative(source).family == IpFamily::kIpv4;
      for (const mud::Rule& rule : (v4 ? profile->from_device_v4 : profile->from_device_v6).rules) {
        if (is_flow(rule) &&
            RuleMatchesDestination(rule, Representative(target, from == to), index)) {
          add(from, to, rule);
        }
      }
      if (!target.host) {
        continue;
      }
      // A service the device offers to hosts (devices' own entries cover device pairs).
      for (const mud::Rule& rule : (v4 ? profile->to_device_v4 : profile->to_device_v6).rules) {
        if (is_flow(rule) && rule.destination_port &&
            RuleMatchesSource(rule, Representative(target), index)) {
          add(to, from, rule);
        }
      }
    }
  }
  return flows;
}

bool FlowPasses(const DeclaredFlow& flow, const SiteGraph& graph, const PolicyIndex& index) {
  const Node& source = graph.nodes[flow.from];
  const Node& target = graph.nodes[flow.to];
  return std::ranges::any_of(TrialPorts(flow, index.policy()), [&](uint16_t port) {
    return index
        .CanOpen(Representative(source), Representative(target, flow.from == flow.to),
                 flow.protocol, port, flow.protocol == 6)
        .allowed;
  });
}

Result<Tightening> Tighten(const SiteModel& model, const Analysis& analysis,
                           const std::vector<std::string>& quarantine) {
  if (model.policy == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "tightening: no policy");
  }
  return Tightener(model, analysis, quarantine).Run();
}

}  // namespace concierge::exposure
