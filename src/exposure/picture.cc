#include "exposure/picture.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <sstream>

#include "exposure/drawn.h"

namespace concierge::exposure {
namespace {

constexpr int kMargin = 24;
constexpr int kTop = 64;        // room above for the loop of a class that attacks itself
constexpr int kBendRoom = 170;  // room on the right for an edge within the last column
constexpr int kColumnGap = 300;
constexpr int kRowGap = 84;
constexpr size_t kMaxLabels = 4;

std::string Kind(const Node& node) {
  if (node.internet && node.id == "internet") {
    return "internet";
  }
  if (node.endpoint) {
    return "endpoint";
  }
  return node.host ? "host" : "class";
}

// Columns puts each drawn node at its hop count from the internet over the drawn edges; nodes
// no path reaches go after the others.
std::map<std::string, int> Columns(const std::vector<PictureNode>& nodes,
                                   const std::vector<PictureEdge>& edges) {
  std::map<std::string, int> column;
  std::deque<std::string> queue;
  for (const PictureNode& node : nodes) {
    if (node.kind == "internet") {
      column[node.id] = 0;
      queue.push_back(node.id);
    }
  }
  while (!queue.empty()) {
    std::string at = queue.front();
    queue.pop_front();
    for (const PictureEdge& edge : edges) {
      if (edge.from == at && edge.kind != "leak" && !column.contains(edge.to)) {
        column[edge.to] = column[at] + 1;
        queue.push_back(edge.to);
      }
    }
  }
  int last = 0;
  for (const auto& [id, at] : column) {
    last = std::max(last, at);
  }
  for (const PictureNode& node : nodes) {
    if (!column.contains(node.id)) {
      column[node.id] = node.kind == "peer" ? last + 2 : last + 1;
    }
  }
  return column;
}

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += std::isprint(static_cast<unsigned char>(c)) != 0 ? c : '?';
    }
  }
  return out;
}

std::string Shorten(const std::string& text, size_t limit) {
  return text.size() <= limit ? text : text.substr(0, limit - 1) + "~";
}

}  // namespace

Picture LayOut(const Analysis& analysis) {
  const auto& nodes = analysis.graph.nodes;
  Picture picture;
  Drawn drawn = SelectDrawn(analysis);
  for (const AttackPath& path : analysis.paths) {
    std::vector<std::string> ids;
    for (size_t node : path.nodes) {
      ids.push_back(nodes[node].id);
    }
    picture.paths.push_back(std::move(ids));
  }
  for (size_t node : drawn.nodes) {
    const Node& n = nodes[node];
    PictureNode shown;
    shown.id = n.id;
    shown.label = n.label;
    shown.kind = Kind(n);
    shown.members = n.members;
    shown.weaknesses = n.weaknesses;
    shown.score = analysis.risks[node].score;
    shown.blast_radius = analysis.risks[node].blast_radius;
    picture.nodes.push_back(std::move(shown));
  }
  auto add_edge = [&](size_t from, size_t to, std::string_view kind,
                      const std::set<std::string>& labels) {
    PictureEdge edge{nodes[from].id, nodes[to].id, std::string(kind), {}, false};
    for (const std::string& label : labels) {
      if (edge.labels.size() == kMaxLabels) {
        edge.labels.push_back("+" + std::to_string(labels.size() - kMaxLabels));
        break;
      }
      edge.labels.push_back(label);
    }
    edge.on_path = drawn.on_path.contains({from, to});
    picture.edges.push_back(std::move(edge));
  };
  for (const auto& [pair, labels] : drawn.allowed) {
    add_edge(pair.first, pair.second, "flow", labels);
  }
  for (const auto& [pair, labels] : drawn.attacks) {
    add_edge(pair.first, pair.second, "exposure", labels);
  }
  std::map<std::string, std::set<std::string>> leaks;  // "source\npeer" -> labels
  for (const Leak& leak : analysis.leaks) {
    std::string peer = "peer:" + leak.peer;
    if (std::ranges::none_of(picture.nodes,
                             [&](const PictureNode& node) { return node.id == peer; })) {
      PictureNode shown;
      shown.id = peer;
      shown.label = leak.peer + " (botnet peer)";
      shown.kind = "peer";
      picture.nodes.push_back(std::move(shown));
    }
    leaks[nodes[leak.source].id + "\n" + peer].insert(PortLabel(leak.protocol, leak.port) + " " +
                                                      leak.threat);
  }
  for (const auto& [key, labels] : leaks) {
    PictureEdge edge{key.substr(0, key.find('\n')), key.substr(key.find('\n') + 1), "leak",
                     std::vector<std::string>(labels.begin(), labels.end()), false};
    picture.edges.push_back(std::move(edge));
  }
  std::map<std::string, int> column = Columns(picture.nodes, picture.edges);
  // Ids are unique, so (column, id) orders the nodes fully; stable_sort is not needed (and
  // clang warns of the deprecated buffer libstdc++ 12's takes).
  std::ranges::sort(picture.nodes, [&](const PictureNode& a, const PictureNode& b) {
    return std::tie(column[a.id], a.id) < std::tie(column[b.id], b.id);
  });
  std::map<int, int> rows;
  for (PictureNode& node : picture.nodes) {
    int at = column[node.id];
    node.x = kMargin + at * kColumnGap;
    node.y = kTop + rows[at]++ * kRowGap;
    // Room on the right for an edge between two nodes of the last column, and its label.
    picture.width = std::max(picture.width, node.x + kPictureNodeWidth + kBendRoom);
    picture.height = std::max(picture.height, node.y + kPictureNodeHeight + kMargin);
  }
  return picture;
}

std::string RenderSvg(const Picture& picture) {
  std::map<std::string, const PictureNode*> by_id;
  for (const PictureNode& node : picture.nodes) {
    by_id[node.id] = &node;
  }
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << picture.width << "\" height=\""
      << picture.height << "\" viewBox=\"0 0 " << picture.width << " " << picture.height
      << "\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<title>Exposure graph: " << picture.nodes.size() << " nodes, " << picture.paths.size()
      << " attack paths</title>\n"
      << "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
         "markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" "
         "orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" "
         "fill=\"context-stroke\"/></marker></defs>\n";
  for (const PictureEdge& edge : picture.edges) {
    const PictureNode& from = *by_id.at(edge.from);
    const PictureNode& to = *by_id.at(edge.to);
    int x1 = from.x + kPictureNodeWidth;
    int y1 = from.y + kPictureNodeHeight / 2;
    int x2 = to.x;
    int y2 = to.y + kPictureNodeHeight / 2;
    std::string path;
    if (edge.from == edge.to) {  // a class that can attack its own members: a loop above it
      x1 = from.x + kPictureNodeWidth / 2 - 30;
      x2 = from.x + kPictureNodeWidth / 2 + 30;
      y1 = y2 = from.y;
      path = "M" + std::to_string(x1) + "," + std::to_string(y1) + " C" + std::to_string(x1) + "," +
             std::to_string(y1 - 40) + " " + std::to_string(x2) + "," + std::to_string(y2 - 40) +
             " " + std::to_string(x2) + "," + std::to_string(y2);
    } else if (from.x == to.x) {  // one column: a bend out to the right
      x2 = x1;
      path = "M" + std::to_string(x1) + "," + std::to_string(y1) + " C" + std::to_string(x1 + 70) +
             "," + std::to_string(y1) + " " + std::to_string(x1 + 70) + "," + std::to_string(y2) +
             " " + std::to_string(x2) + "," + std::to_string(y2);
    } else {
      path = "M" + std::to_string(x1) + "," + std::to_string(y1) + " C" + std::to_string(x1 + 90) +
             "," + std::to_string(y1) + " " + std::to_string(x2 - 90) + "," + std::to_string(y2) +
             " " + std::to_string(x2) + "," + std::to_string(y2);
    }
    std::string colour = edge.kind == "flow" ? "#8a94a3" : "#a3201b";
    out << "<path d=\"" << path << "\" fill=\"none\" stroke=\"" << colour << "\" stroke-width=\""
        << (edge.on_path ? 3 : 1) << "\""
        << (edge.kind == "leak" ? " stroke-dasharray=\"5,4\"" : "")
        << " marker-end=\"url(#arrow)\"><title>" << Escape(edge.from) << " to " << Escape(edge.to);
    for (const std::string& label : edge.labels) {
      out << "; " << Escape(label);
    }
    out << "</title></path>\n";
    std::string first = edge.labels.empty() ? "" : edge.labels.front();
    bool bend = from.x == to.x && edge.from != edge.to;
    out << "<text x=\"" << (bend ? x1 + 56 : (x1 + x2) / 2) << "\" y=\""
        << (edge.from == edge.to ? y1 - 34 : (y1 + y2) / 2 - 4) << "\" text-anchor=\""
        << (bend ? "start" : "middle") << "\" font-size=\"10\" fill=\"" << colour << "\">"
        << Escape(Shorten(first, 32)) << (edge.labels.size() > 1 ? " …" : "") << "</text>\n";
  }
  for (const PictureNode& node : picture.nodes) {
    bool weak = !node.weaknesses.empty() || node.kind == "peer";
    std::string stroke = weak ? "#a3201b" : "#1b1f24";
    int radius = node.kind == "class" ? 4 : 24;
    out << "<g><title>" << Escape(node.label) << "</title><rect x=\"" << node.x << "\" y=\""
        << node.y << "\" width=\"" << kPictureNodeWidth << "\" height=\"" << kPictureNodeHeight
        << "\" rx=\"" << radius << "\" fill=\"" << (weak ? "#fbe3e2" : "#ffffff") << "\" stroke=\""
        << stroke << "\" stroke-width=\"1.5\"/>\n"
        << "<text x=\"" << node.x + 10 << "\" y=\"" << node.y + 22 << "\" fill=\"" << stroke
        << "\">" << Escape(Shorten(node.label, 34)) << "</text>\n";
    if (node.kind == "class") {
      out << "<text x=\"" << node.x + 10 << "\" y=\"" << node.y + 42
          << "\" font-size=\"11\" fill=\"#4a5360\">score " << node.score << ", blast radius "
          << node.blast_radius << "</text>\n";
    }
    out << "</g>\n";
  }
  out << "</svg>\n";
  return out.str();
}

}  // namespace concierge::exposure
