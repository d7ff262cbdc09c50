#pragma once

#include <string>

#include "exposure/analyzer.h"

namespace concierge::exposure {

// RenderDot draws the site graph for Graphviz: device classes as boxes (weak ones red),
// hosts as ellipses, allowed flows as grey edges (one per pair, its ports as the label; flows
// to cloud endpoints left out unless they carry an attack), exposures and botnet operations in
// red, and the hops of attack paths drawn bold.
std::string RenderDot(const Analysis& analysis);

}  // namespace concierge::exposure
