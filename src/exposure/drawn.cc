#include "exposure/drawn.h"

namespace concierge::exposure {

std::string PortLabel(uint8_t protocol, uint16_t port) {
  return (protocol == 17 ? "udp/" : "tcp/") + std::to_string(port);
}

Drawn SelectDrawn(const Analysis& analysis) {
  const auto& nodes = analysis.graph.nodes;
  Drawn drawn;
  for (const AttackPath& path : analysis.paths) {
    for (size_t i = 0; i + 1 < path.nodes.size(); ++i) {
      drawn.on_path.insert({path.nodes[i], path.nodes[i + 1]});
    }
  }
  for (const Exposure& exposure : analysis.exposures) {
    drawn.attacks[{exposure.source, exposure.target}].insert(
        PortLabel(exposure.protocol, exposure.port) + " " + exposure.threat);
    drawn.nodes.insert(exposure.source);
    drawn.nodes.insert(exposure.target);
  }
  for (size_t node = 0; node < nodes.size(); ++node) {
    if (!nodes[node].endpoint) {
      drawn.nodes.insert(node);
    }
  }
  for (const Edge& edge : analysis.graph.edges) {
    if (drawn.nodes.contains(edge.from) && drawn.nodes.contains(edge.to) &&
        !drawn.attacks.contains({edge.from, edge.to})) {
      drawn.allowed[{edge.from, edge.to}].insert(PortLabel(edge.protocol, edge.port));
    }
  }
  return drawn;
}

}  // namespace concierge::exposure
