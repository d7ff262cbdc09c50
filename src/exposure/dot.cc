#include "exposure/dot.h"

#include <map>
#include <sstream>

#include "exposure/drawn.h"

namespace concierge::exposure {
namespace {

std::string Quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

}  // namespace

std::string RenderDot(const Analysis& analysis) {
  const auto& nodes = analysis.graph.nodes;
  Drawn drawn = SelectDrawn(analysis);
  std::ostringstream out;
  out << "digraph exposure {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=8];\n";
  for (size_t node : drawn.nodes) {
    const Node& n = nodes[node];
    const NodeRisk& risk = analysis.risks[node];
    std::ostringstream label;
    label << n.label;
    if (!n.host) {
      label << "\\nscore " << risk.score << ", blast radius " << risk.blast_radius;
    }
    std::string shape = n.internet && n.id == "internet" ? "doubleoctagon"
                        : n.host                         ? "ellipse"
                                                         : "box";
    std::string color = n.weaknesses.empty() ? "black" : "red";
    out << "  n" << node << " [label=" << Quote(label.str()) << ", shape=" << shape
        << ", color=" << color << (n.weaknesses.empty() ? "" : ", fontcolor=red") << "];\n";
  }
  for (const auto& [pair, ports] : drawn.allowed) {
    std::string label;
    size_t shown = 0;
    for (const std::string& port : ports) {
      if (shown++ == 4) {
        label += " +" + std::to_string(ports.size() - 4);
        break;
      }
      label += (label.empty() ? "" : " ") + port;
    }
    out << "  n" << pair.first << " -> n" << pair.second
        << " [color=gray70, fontcolor=gray50, label=" << Quote(label) << "];\n";
  }
  for (const auto& [pair, labels] : drawn.attacks) {
    std::string label;
    for (const std::string& text : labels) {
      label += (label.empty() ? "" : "\\n") + text;
    }
    out << "  n" << pair.first << " -> n" << pair.second
        << " [color=red, fontcolor=red, penwidth=" << (drawn.on_path.contains(pair) ? 3 : 1)
        << ", label=" << Quote(label) << "];\n";
  }
  std::map<std::string, size_t> peers;
  for (const Leak& leak : analysis.leaks) {
    auto [slot, added] = peers.try_emplace(leak.peer, peers.size());
    if (added) {
      out << "  p" << slot->second << " [label=" << Quote(leak.peer + " (botnet peer)")
          << ", shape=octagon, color=red, fontcolor=red];\n";
    }
    out << "  n" << leak.source << " -> p" << slot->second
        << " [color=red, style=dashed, fontcolor=red, label="
        << Quote(PortLabel(leak.protocol, leak.port) + " " + leak.threat) << "];\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace concierge::exposure
