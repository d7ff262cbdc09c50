#include "exposure/site_graph.h"

#include <algorithm>
#include <set>

namespace concierge::exposure {
namespace {

using PortKey = std::pair<uint8_t, uint16_t>;  // protocol, port

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const std::string& part : parts) {
    out += (out.empty() ? "" : std::string(separator)) + part;
  }
  return out;
}

// Weaknesses of one device: its marks, and every advisory (id and aliases) its software meets.
std::vector<std::string> WeaknessesOf(const DeviceFacts& facts,
                                      const std::vector<Advisory>& advisories) {
  std::set<std::string> found(facts.weaknesses.begin(), facts.weaknesses.end());
  for (const Advisory& advisory : advisories) {
    for (const auto& [package, version] : facts.software) {
      if (advisory.Affects(package, version)) {
        found.insert(advisory.id);
      }
    }
  }
  return {found.begin(), found.end()};
}

// NamedPorts lists the destination ports a chain's accept entries name, with their protocol.
void NamedPorts(const mud::Chain& chain, std::set<PortKey>& out) {
  for (const mud::Rule& rule : chain.rules) {
    if (rule.action != mud::ForwardingAction::kAccept || !rule.protocol ||
        (*rule.protocol != 6 && *rule.protocol != 17) || !rule.destination_port) {
      continue;
    }
    out.insert({*rule.protocol, rule.destination_port->lower});
  }
}

class GraphBuilder {
 public:
  GraphBuilder(const SiteModel& model, const PolicyIndex& index) : model_(model), index_(index) {}

  Result<SiteGraph> Run() {
    if (model_.policy == nullptr) {
      return MakeError(ErrorCode::kInvalidArgument, "site graph: no policy");
    }
    GroupDevices();
    RETURN_IF_ERROR(AddHosts());
    for (const Threat& threat : model_.threats.threats) {
      for (uint16_t port : threat.ports) {
        threat_ports_.insert({threat.protocol, port});
      }
    }
    for (size_t from = 0; from < graph_.nodes.size(); ++from) {
      for (size_t to = 0; to < graph_.nodes.size(); ++to) {
        AddEdges(from, to);
      }
    }
    return std::move(graph_);
  }

 private:
  void GroupDevices() {
    std::map<std::string, const DeviceFacts*> facts;
    for (const DeviceFacts& device : model_.devices) {
      facts[device.device] = &device;
    }
    std::map<std::pair<std::string, std::vector<std::string>>, size_t> classes;
    for (const mud::Binding& binding : model_.policy->bindings) {
      if (binding.addresses.empty()) {
        continue;
      }
      auto found = facts.find(binding.device);
      DeviceFacts none{binding.device, {}, {}, {}, {}, {}};
      const DeviceFacts& device = found == facts.end() ? none : *found->second;
      std::vector<std::string> weaknesses = WeaknessesOf(device, model_.advisories);
      auto key = std::make_pair(binding.profile_id, weaknesses);
      auto [slot, added] = classes.try_emplace(key, graph_.nodes.size());
      if (added) {
        Node node;
        node.id = binding.profile_id;
        if (!weaknesses.empty()) {
          node.id += '+';
          node.id += Join(weaknesses, "+");
        }
        node.profile_id = binding.profile_id;
        node.weaknesses = weaknesses;
        node.maker = device.maker;
        node.model = device.model;
        node.zone = device.zone;
        std::vector<std::string> software;
        software.reserve(device.software.size());
        for (const auto& [package, version] : device.software) {
          software.push_back(package);
          software.back().append(" ").append(version);
        }
        node.software = Join(software, ", ");
        graph_.nodes.push_back(std::move(node));
      }
      Node& node = graph_.nodes[slot->second];
      node.members.push_back(binding.device);
      node.addresses.push_back(binding.addresses.front());
    }
    for (Node& node : graph_.nodes) {
      const mud::Profile* profile = index_.FindProfile(node.profile_id);
      std::string what = node.model.empty() && profile != nullptr ? profile->mud_url : node.model;
      node.label = what + " x" + std::to_string(node.members.size()) +
                   (node.weaknesses.empty() ? "" : " [" + Join(node.weaknesses, ", ") + "]");
    }
  }

  Status AddHosts() {
    bool internet = false;
    for (const Host& host : model_.hosts) {
      graph_.nodes.push_back(HostNode(host.name, host.address, host.internet));
      internet = internet || host.internet;
    }
    if (!internet) {
      return MakeError(ErrorCode::kInvalidArgument, "site graph: no host stands for the internet");
    }
    // Every cloud endpoint a MUD file names becomes a host, so flows towards it are edges.
    for (const mud::AddressSet& set : model_.policy->sets) {
      if (set.origin.starts_with("dns ") && !set.elements.empty()) {
        graph_.nodes.push_back(HostNode(set.origin.substr(4), set.elements.front(), true));
        graph_.nodes.back().endpoint = true;
      }
    }
    return {};
  }

  static Node HostNode(const std::string& name, const IpNetwork& address, bool internet) {
    Node node;
    node.id = name;
    node.label = name + " (" + address.ToString() + ")";
    node.host = true;
    node.internet = internet;
    node.addresses = {address};
    return node;
  }

  const mud::Profile* ProfileOf(const Node& node) const {
    return node.host ? nullptr : index_.FindProfile(node.profile_id);
  }

  void AddEdges(size_t from, size_t to) {
    const Node& source = graph_.nodes[from];
    const Node& target = graph_.nodes[to];
    if ((source.host && target.host) || (from == to && source.members.size() < 2)) {
      return;
    }
    if (source.addresses.front().family != target.addresses.front().family) {
      return;
    }
    std::set<PortKey> ports = threat_ports_;
    if (const mud::Profile* profile = ProfileOf(target)) {
      NamedPorts(profile->to_device_v4, ports);
      NamedPorts(profile->to_device_v6, ports);
    }
    if (const mud::Profile* profile = ProfileOf(source); profile != nullptr && target.host) {
      NamedPorts(profile->from_device_v4, ports);
      NamedPorts(profile->from_device_v6, ports);
    }
    const IpNetwork& sender = Representative(source);
    const IpNetwork& receiver = Representative(target, from == to);
    for (const auto& [protocol, port] : ports) {
      Decision decision = index_.CanOpen(sender, receiver, protocol, port, protocol == 6);
      if (decision.allowed) {
        graph_.edges.push_back({from, to, protocol, port, decision.reason});
      }
    }
  }

  const SiteModel& model_;
  const PolicyIndex& index_;
  SiteGraph graph_;
  std::set<PortKey> threat_ports_;
};

}  // namespace

size_t SiteGraph::DeviceCount() const {
  size_t count = 0;
  for (const Node& node : nodes) {
    count += node.members.size();
  }
  return count;
}

std::vector<const Edge*> SiteGraph::EdgesFrom(size_t node) const {
  auto first = std::ranges::lower_bound(edges, node, {}, &Edge::from);
  std::vector<const Edge*> out;
  for (auto it = first; it != edges.end() && it->from == node; ++it) {
    out.push_back(&*it);
  }
  return out;
}

const IpNetwork& Representative(const Node& node, bool other) {
  return other && node.addresses.size() > 1 ? node.addresses[1] : node.addresses.front();
}

Result<SiteGraph> BuildSiteGraph(const SiteModel& model, const PolicyIndex& index) {
  return GraphBuilder(model, index).Run();
}

}  // namespace concierge::exposure
