#include "exposure/analyzer.h"

#include <algorithm>
#include <deque>
#include <set>

namespace concierge::exposure {
namespace {

bool HasWeakness(const Node& node, const std::string& weakness) {
  return std::ranges::binary_search(node.weaknesses, weakness);
}

std::string Describe(const Node& node) {
  return node.host ? node.id : node.id + " (" + std::to_string(node.members.size()) + " devices)";
}

std::string PortText(uint8_t protocol, uint16_t port) {
  return (protocol == 6    ? "tcp/"
          : protocol == 17 ? "udp/"
                           : "proto " + std::to_string(protocol) + "/") +
         std::to_string(port);
}

// PeerAddresses resolves a threat's peers: addresses, or the names of the model's hosts.
Result<std::vector<IpNetwork>> PeerAddresses(const Threat& threat, const SiteModel& model) {
  std::vector<IpNetwork> out;
  for (const std::string& peer : threat.peers) {
    if (auto address = IpNetwork::Parse(peer)) {
      out.push_back(*address);
      continue;
    }
    auto host = std::ranges::find(model.hosts, peer, &Host::name);
    if (host == model.hosts.end()) {
      return MakeError(ErrorCode::kInvalidArgument, "threat " + threat.name + ": peer \"" + peer +
                                                        "\" is neither an address nor a site host");
    }
    out.push_back(host->address);
  }
  return out;
}

const IpNetwork* InternetAddress(const SiteModel& model) {
  auto host = std::ranges::find(model.hosts, true, &Host::internet);
  return host == model.hosts.end() ? nullptr : &host->address;
}

class Analyzer {
 public:
  explicit Analyzer(const SiteModel& model) : model_(model), index_(*model.policy) {}

  Result<Analysis> Run() {
    ASSIGN_OR_RETURN(analysis_.graph, BuildSiteGraph(model_, index_));
    FindExposures();
    RETURN_IF_ERROR(FindLeaks());
    FindPaths();
    Score();
    return std::move(analysis_);
  }

 private:
  void FindExposures() {
    for (const Edge& edge : analysis_.graph.edges) {
      const Node& target = analysis_.graph.nodes[edge.to];
      for (const Threat& threat : model_.threats.threats) {
        if (threat.kind == Threat::Kind::kExploit && threat.protocol == edge.protocol &&
            std::ranges::find(threat.ports, edge.port) != threat.ports.end() &&
            HasWeakness(target, threat.weakness)) {
          analysis_.exposures.push_back(
              {edge.from, edge.to, threat.name, edge.protocol, edge.port, edge.reason});
        }
      }
    }
  }

  Status FindLeaks() {
    const IpNetwork* internet = InternetAddress(model_);
    for (const Threat& threat : model_.threats.threats) {
      if (threat.kind != Threat::Kind::kOperation) {
        continue;
      }
      ASSIGN_OR_RETURN(std::vector<IpNetwork> peers, PeerAddresses(threat, model_));
      std::vector<std::pair<std::string, IpNetwork>> targets;
      for (size_t i = 0; i < peers.size(); ++i) {
        targets.emplace_back(threat.peers[i], peers[i]);
      }
      if (targets.empty() && internet != nullptr) {
        targets.emplace_back("the internet", *internet);
      }
      for (size_t node = 0; node < analysis_.graph.nodes.size(); ++node) {
        const Node& source = analysis_.graph.nodes[node];
        if (source.host) {
          continue;
        }
        for (const auto& [peer, address] : targets) {
          for (uint16_t port : threat.ports) {
            if (address.family != Representative(source).family) {
              continue;
            }
            Decision decision = index_.CanOpen(Representative(source), address, threat.protocol,
                                               port, threat.protocol == 6);
            if (decision.allowed) {
              analysis_.leaks.push_back(
                  {node, threat.name, threat.protocol, port, peer, address, decision.reason});
            }
          }
        }
      }
    }
    return {};
  }

  // Hops maps each node to the exposures leaving it, one per target.
  std::vector<std::vector<const Exposure*>> Hops() const {
    std::vector<std::vector<const Exposure*>> hops(analysis_.graph.nodes.size());
    std::set<std::pair<size_t, size_t>> seen;
    for (const Exposure& exposure : analysis_.exposures) {
      if (seen.insert({exposure.source, exposure.target}).second) {
        hops[exposure.source].push_back(&exposure);
      }
    }
    return hops;
  }

  void FindPaths() {
    const auto& nodes = analysis_.graph.nodes;
    auto hops = Hops();
    // First from the internet, then, for classes it cannot reach, from any device assumed
    // already compromised: each weak class gets the shortest way in.
    std::vector<const Exposure*> via(nodes.size(), nullptr);
    std::vector<bool> reached(nodes.size(), false);
    for (bool from_internet : {true, false}) {
      std::deque<size_t> queue;
      for (size_t node = 0; node < nodes.size(); ++node) {
        bool entry = from_internet ? nodes[node].internet : (!nodes[node].host && !reached[node]);
        if (entry && !hops[node].empty()) {
          queue.push_back(node);
          if (from_internet) {
            reached[node] = true;
          }
        }
      }
      std::vector<bool> visited = reached;
      for (size_t node : queue) {
        visited[node] = true;
      }
      while (!queue.empty()) {
        size_t node = queue.front();
        queue.pop_front();
        for (const Exposure* hop : hops[node]) {
          if (!visited[hop->target]) {
            visited[hop->target] = true;
            via[hop->target] = hop;
            queue.push_back(hop->target);
          }
        }
      }
      for (size_t node = 0; node < nodes.size(); ++node) {
        if (visited[node] && via[node] != nullptr && !reached[node]) {
          reached[node] = true;
          analysis_.paths.push_back(PathTo(node, via));
        }
      }
    }
    // A class that can reach its own members is a path of one hop onto itself.
    for (const Exposure& exposure : analysis_.exposures) {
      if (exposure.source == exposure.target && via[exposure.target] == nullptr) {
        via[exposure.target] = &exposure;
        analysis_.paths.push_back(PathTo(exposure.target, via));
      }
    }
  }

  AttackPath PathTo(size_t target, const std::vector<const Exposure*>& via) const {
    const auto& nodes = analysis_.graph.nodes;
    std::vector<const Exposure*> hops;
    std::set<size_t> seen;
    for (size_t node = target; via[node] != nullptr && seen.insert(node).second;
         node = via[node]->source) {
      hops.push_back(via[node]);
    }
    std::ranges::reverse(hops);
    AttackPath path;
    path.nodes.push_back(hops.front()->source);
    for (const Exposure* hop : hops) {
      path.nodes.push_back(hop->target);
      path.steps.push_back(Describe(nodes[hop->source]) + " -> " + Describe(nodes[hop->target]) +
                           " on " + PortText(hop->protocol, hop->port) + " (" + hop->threat +
                           "): " + hop->reason);
    }
    return path;
  }

  void Score() {
    const auto& nodes = analysis_.graph.nodes;
    analysis_.risks.assign(nodes.size(), {});
    auto hops = Hops();
    std::map<std::string, int, std::less<>> weights;
    for (const Threat& threat : model_.threats.threats) {
      weights[threat.name] = threat.weight;
    }
    std::map<std::pair<size_t, std::string>, bool> exploit_from_internet;
    for (const Exposure& exposure : analysis_.exposures) {
      bool& internet = exploit_from_internet[{exposure.target, exposure.threat}];
      internet = internet || nodes[exposure.source].internet;
    }
    for (const auto& [key, internet] : exploit_from_internet) {
      NodeRisk& risk = analysis_.risks[key.first];
      risk.score += weights[key.second] * (internet ? 3 : 1);
      risk.reasons.push_back(key.second + " reachable" + (internet ? " from the internet" : ""));
    }
    std::set<std::pair<size_t, std::string>> leaked;
    for (const Leak& leak : analysis_.leaks) {
      if (leaked.insert({leak.source, leak.threat}).second) {
        analysis_.risks[leak.source].score += weights[leak.threat];
        analysis_.risks[leak.source].reasons.push_back("can send " + leak.threat + " traffic (" +
                                                       PortText(leak.protocol, leak.port) + " to " +
                                                       leak.peer + ")");
      }
    }
    std::set<std::string> placed;
    for (const Threat& threat : model_.threats.threats) {
      placed.insert(threat.weakness);
    }
    std::set<std::string> unplaced;
    for (size_t node = 0; node < nodes.size(); ++node) {
      for (const Advisory& advisory : model_.advisories) {
        if (HasWeakness(nodes[node], advisory.id)) {
          analysis_.risks[node].score += advisory.weight;
          analysis_.risks[node].reasons.push_back("affected by " + advisory.id);
          if (!placed.contains(advisory.id)) {
            unplaced.insert(advisory.id);
          }
        }
      }
      analysis_.risks[node].blast_radius = BlastRadius(node, hops);
      if (!nodes[node].host) {
        analysis_.site_score +=
            analysis_.risks[node].score * static_cast<double>(nodes[node].members.size());
      }
    }
    analysis_.unplaced_advisories.assign(unplaced.begin(), unplaced.end());
  }

  size_t BlastRadius(size_t start, const std::vector<std::vector<const Exposure*>>& hops) const {
    std::vector<bool> visited(analysis_.graph.nodes.size(), false);
    std::deque<size_t> queue{start};
    size_t devices = 0;
    bool self_reached = false;
    while (!queue.empty()) {
      size_t node = queue.front();
      queue.pop_front();
      for (const Exposure* hop : hops[node]) {
        if (hop->target == start) {
          self_reached = true;
        }
        if (!visited[hop->target] && hop->target != start) {
          visited[hop->target] = true;
          devices += analysis_.graph.nodes[hop->target].members.size();
          queue.push_back(hop->target);
        }
      }
    }
    // The other members of the class itself, when it can reach them.
    size_t members = analysis_.graph.nodes[start].members.size();
    return devices + (self_reached && members > 0 ? members - 1 : 0);
  }

  const SiteModel& model_;
  PolicyIndex index_;
  Analysis analysis_;
};

}  // namespace

Result<Analysis> Analyze(const SiteModel& model) {
  if (model.policy == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "exposure analysis: no policy");
  }
  return Analyzer(model).Run();
}

}  // namespace concierge::exposure
