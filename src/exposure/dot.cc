#include "exposure/dot.h"

#include <map>
#include <set>
#include <sstream>

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

std::string Port(uint8_t protocol, uint16_t port) {
  return (protocol == 17 ? "udp/" : "tcp/") + std::to_string(port);
}

}  // namespace

std::string RenderDot(const Analysis& analysis) {
  const auto& nodes = analysis.graph.nodes;
  std::set<std::pair<size_t, size_t>> on_path;
  for (const AttackPath& path : analysis.paths) {
    for (size_t i = 0; i + 1 < path.nodes.size(); ++i) {
      on_path.insert({path.nodes[i], path.nodes[i + 1]});
    }
  }
  std::map<std::pair<size_t, size_t>, std::set<std::string>> attacks;
  for (const Exposure& exposure : analysis.exposures) {
    attacks[{exposure.source, exposure.target}].insert(Port(exposure.protocol, exposure.port) +
                                                       " " + exposure.threat);
  }
  std::set<size_t> drawn;
  for (const auto& [pair, labels] : attacks) {
    drawn.insert(pair.first);
    drawn.insert(pair.second);
  }
  for (size_t node = 0; node < nodes.size(); ++node) {
    if (!nodes[node].endpoint) {
      drawn.insert(node);  // every class and every site host; cloud endpoints only when attacked
    }
  }
  std::ostringstream out;
  out << "digraph exposure {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=8];\n";
  for (size_t node : drawn) {
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
  std::map<std::pair<size_t, size_t>, std::set<std::string>> allowed;
  for (const Edge& edge : analysis.graph.edges) {
    if (drawn.contains(edge.from) && drawn.contains(edge.to) &&
        !attacks.contains({edge.from, edge.to})) {
      allowed[{edge.from, edge.to}].insert(Port(edge.protocol, edge.port));
    }
  }
  for (const auto& [pair, ports] : allowed) {
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
  for (const auto& [pair, labels] : attacks) {
    std::string label;
    for (const std::string& text : labels) {
      label += (label.empty() ? "" : "\\n") + text;
    }
    out << "  n" << pair.first << " -> n" << pair.second
        << " [color=red, fontcolor=red, penwidth=" << (on_path.contains(pair) ? 3 : 1)
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
        << Quote(Port(leak.protocol, leak.port) + " " + leak.threat) << "];\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace concierge::exposure
