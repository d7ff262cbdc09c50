#pragma once

#include <string>
#include <vector>

#include "exposure/site_graph.h"

namespace concierge::exposure {

// Exposure is a weak service one node can reach on another: the first hop of an attack.
struct Exposure {
  size_t source = 0;
  size_t target = 0;
  std::string threat;
  uint8_t protocol = 6;
  uint16_t port = 0;
  std::string reason;  // why the policy lets it through
};

// Leak is a botnet's operating traffic (C&C, report, loader) a device class can send.
struct Leak {
  size_t source = 0;
  std::string threat;
  uint8_t protocol = 6;
  uint16_t port = 0;
  std::string peer;
  IpNetwork peer_address;
  std::string reason;
};

// AttackPath is a shortest chain of exposures from an entry (the internet, or any device
// assumed compromised) to a weak class.
struct AttackPath {
  std::vector<size_t> nodes;
  std::vector<std::string> steps;  // one readable line per hop
};

struct NodeRisk {
  double score = 0;         // see Analyze
  size_t blast_radius = 0;  // devices an infection of this class can reach, transitively
  std::vector<std::string> reasons;
};

struct Analysis {
  SiteGraph graph;
  std::vector<Exposure> exposures;
  std::vector<Leak> leaks;
  std::vector<AttackPath> paths;
  std::vector<NodeRisk> risks;  // per node of the graph
  double site_score = 0;
  std::vector<std::string> unplaced_advisories;  // affect a device, but no threat says how
};

// Analyze finds, for every exploit in the catalogue, which weak classes each node can reach
// on its ports, and for every operation which classes can send it; then attack paths (a
// compromised class used to reach the next), blast radii and scores. A device's score is the
// sum, over the exploits that reach it, of weight x (3 if the internet reaches it, else 1),
// plus the weight of every operation it can send and of every advisory that affects it; the
// site's score is the sum over devices.
Result<Analysis> Analyze(const SiteModel& model);

// Conflict is a declared flow that itself reaches a weak service: the analyzer will not break
// it, and offers the operator the choices instead.
struct Conflict {
  std::string threat;
  std::string node;
  uint16_t port = 0;
  std::string flow;
  std::vector<std::string> options;
};

struct Tightening {
  std::vector<mud::Block> blocks;
  std::vector<Conflict> conflicts;
  size_t legit_flows_total = 0;
  size_t legit_flows_blocked = 0;  // under the policy with the blocks, recounted
  size_t exposures_left = 0;       // attack hops the blocks do not cut (the conflicts')
  size_t leaks_left = 0;
};

// Tighten chooses drops that cut every exposure and leak: per threat, one block naming its
// exposed ports and the weak (or leaking) devices' addresses. Any declared flow the blocks
// would break is handed back as a conflict and its class left out of the block, unless the
// class is in `quarantine`. The result is checked by evaluating every declared flow and every
// exposure again under the tightened policy.
Result<Tightening> Tighten(const SiteModel& model, const Analysis& analysis,
                           const std::vector<std::string>& quarantine = {});

// DeclaredFlow is one accept entry of a device class's MUD file towards one node, allowed end
// to end by the faithful policy: what the makers declare legitimate.
struct DeclaredFlow {
  size_t from = 0;
  size_t to = 0;
  uint8_t protocol = 6;
  std::optional<mud::PortMatch> port;
  std::string origin;
  size_t weight = 0;  // devices that send it
};

std::vector<DeclaredFlow> DeclaredFlows(const SiteGraph& graph, const mud::Policy& policy);

// FlowPasses tells whether some port the flow declares still opens under `index`.
bool FlowPasses(const DeclaredFlow& flow, const SiteGraph& graph, const PolicyIndex& index);

}  // namespace concierge::exposure
