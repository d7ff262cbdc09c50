#pragma once

#include <map>
#include <string>
#include <vector>

#include "exposure/knowledge.h"
#include "exposure/policy_index.h"
#include "mud/policy.h"

namespace concierge::exposure {

// Host is a node that is not a managed device: the internet, the site's edge router, a
// controller, a cloud endpoint a MUD file names.
struct Host {
  std::string name;
  IpNetwork address;
  bool internet = false;  // outside the site
};

// DeviceFacts is what the analyzer knows of a managed device beyond its policy binding.
struct DeviceFacts {
  std::string device;
  std::string maker;
  std::string model;
  std::string zone;
  std::map<std::string, std::string> software;  // package -> version (device record or SBOM)
  std::vector<std::string> weaknesses;          // marks such as "factory-credentials"
};

// SiteModel is everything the analyzer reads. The policy is the MUD compiler's IR, blocks
// included; devices without facts are analysed by policy alone.
struct SiteModel {
  const mud::Policy* policy = nullptr;
  // The policy the makers' files declare, when `policy` is something else (an experiment's
  // widened compile): what counts as a legitimate flow. Null: `policy` itself.
  const mud::Policy* declared = nullptr;
  std::vector<DeviceFacts> devices;
  std::vector<Host> hosts;  // at least one with internet = true
  ThreatCatalogue threats;
  std::vector<Advisory> advisories;
};

// Node is a class of devices that the policy and the knowledge treat alike (same profile, same
// weaknesses), or one host. Working on classes keeps the analysis independent of how many
// devices share a MUD file.
struct Node {
  std::string id;  // the profile id plus a weakness tag, or the host's name
  std::string label;
  bool host = false;
  bool internet = false;
  bool endpoint = false;  // a cloud endpoint some MUD file names
  std::string profile_id;
  std::vector<std::string> members;  // device names, sorted
  std::vector<IpNetwork> addresses;  // members' addresses, or the host's
  std::string maker, model, zone, software;
  std::vector<std::string> weaknesses;  // marks and the ids of advisories that affect it
};

// Edge is a flow the policy lets one node open to another on one port.
struct Edge {
  size_t from = 0;
  size_t to = 0;
  uint8_t protocol = 6;
  uint16_t port = 0;
  std::string reason;
};

struct SiteGraph {
  std::vector<Node> nodes;  // device classes first, then hosts
  std::vector<Edge> edges;  // sorted by from, to, protocol, port

  size_t DeviceCount() const;
  std::vector<const Edge*> EdgesFrom(size_t node) const;
};

// BuildSiteGraph groups the devices, gives each class its weaknesses (marks, and advisories
// matched to its software), and asks the policy which of the interesting ports (every port a
// rule or a threat names) each node can open on each other.
Result<SiteGraph> BuildSiteGraph(const SiteModel& model, const PolicyIndex& index);

// Representative is an address of the node to send from or to; `other` asks for a second
// member, so that a class can be its own target.
const IpNetwork& Representative(const Node& node, bool other = false);

}  // namespace concierge::exposure
