#pragma once

#include <string>
#include <vector>

#include "exposure/analyzer.h"

namespace concierge::exposure {

// Picture is the exposure graph laid out for drawing: the nodes and edges RenderDot draws, with
// positions, so that the site controller serves it as SVG and as JSON the dashboard draws
// itself (and highlights attack paths in). Columns are hops from the internet.
struct PictureNode {
  std::string id;
  std::string label;
  std::string kind;  // "internet", "host", "endpoint", "class" or "peer" (a botnet's)
  std::vector<std::string> members;
  std::vector<std::string> weaknesses;
  double score = 0;
  size_t blast_radius = 0;
  int x = 0;  // top-left corner of the node's box
  int y = 0;
};

struct PictureEdge {
  std::string from;  // node ids
  std::string to;
  std::string kind;  // "flow" (the policy allows it), "exposure" (an attack hop) or "leak"
  std::vector<std::string> labels;  // ports, with the threat for exposures and leaks
  bool on_path = false;             // a hop of some attack path
};

struct Picture {
  int width = 0;
  int height = 0;
  std::vector<PictureNode> nodes;
  std::vector<PictureEdge> edges;
  std::vector<std::vector<std::string>> paths;  // each attack path's node ids, entry first
};

inline constexpr int kPictureNodeWidth = 220;
inline constexpr int kPictureNodeHeight = 56;

Picture LayOut(const Analysis& analysis);

// RenderSvg draws a laid-out picture as a standalone SVG document (text escaped).
std::string RenderSvg(const Picture& picture);

}  // namespace concierge::exposure
