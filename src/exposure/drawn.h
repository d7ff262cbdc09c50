#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>

#include "exposure/analyzer.h"

namespace concierge::exposure {

using NodePair = std::pair<size_t, size_t>;  // indexes into the analysis graph's nodes

// Drawn is what a picture of an analysis shows (RenderDot, LayOut): every class and site host,
// a cloud endpoint only when attacked; attack hops with their "tcp/23 threat" labels, those on
// an attack path, and the flows the policy allows between drawn nodes that are not attacks.
struct Drawn {
  std::set<size_t> nodes;
  std::map<NodePair, std::set<std::string>> attacks;
  std::set<NodePair> on_path;
  std::map<NodePair, std::set<std::string>> allowed;  // "tcp/443" labels
};

Drawn SelectDrawn(const Analysis& analysis);

// PortLabel writes a protocol and port as "tcp/23".
std::string PortLabel(uint8_t protocol, uint16_t port);

}  // namespace concierge::exposure
