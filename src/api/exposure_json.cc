#include "api/exposure_json.h"

#include <algorithm>

#include "exposure/drawn.h"

namespace concierge::api {

Json AnalysisJson(const exposure::Analysis& analysis) {
  const auto& nodes = analysis.graph.nodes;
  Json classes = Json::array();
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].host) {
      continue;
    }
    classes.push_back(Json{{"class", nodes[i].id},
                           {"devices", nodes[i].members},
                           {"weaknesses", nodes[i].weaknesses},
                           {"score", analysis.risks[i].score},
                           {"blast_radius", analysis.risks[i].blast_radius},
                           {"reasons", analysis.risks[i].reasons}});
  }
  Json exposures = Json::array();
  for (const exposure::Exposure& e : analysis.exposures) {
    exposures.push_back(Json{{"from", nodes[e.source].id},
                             {"to", nodes[e.target].id},
                             {"port", exposure::PortLabel(e.protocol, e.port)},
                             {"threat", e.threat},
                             {"reason", e.reason}});
  }
  Json leaks = Json::array();
  for (const exposure::Leak& l : analysis.leaks) {
    leaks.push_back(Json{{"from", nodes[l.source].id},
                         {"port", exposure::PortLabel(l.protocol, l.port)},
                         {"peer", l.peer},
                         {"threat", l.threat},
                         {"reason", l.reason}});
  }
  Json paths = Json::array();
  for (const exposure::AttackPath& path : analysis.paths) {
    paths.push_back(path.steps);
  }
  return Json{{"site_score", analysis.site_score},
              {"classes", classes},
              {"exposures", exposures},
              {"leaks", leaks},
              {"attack_paths", paths},
              {"advisories_without_vector", analysis.unplaced_advisories}};
}

Json BlockJson(const mud::Block& block) {
  Json sources = Json::array();
  Json destinations = Json::array();
  for (const IpNetwork& address : block.sources) {
    sources.push_back(address.ToString());
  }
  for (const IpNetwork& address : block.destinations) {
    destinations.push_back(address.ToString());
  }
  return Json{{"name", block.name},   {"reason", block.reason}, {"protocol", block.protocol},
              {"ports", block.ports}, {"sources", sources},     {"destinations", destinations}};
}

Json TighteningJson(const exposure::Tightening& tightening) {
  Json blocks = Json::array();
  for (const mud::Block& block : tightening.blocks) {
    blocks.push_back(BlockJson(block));
  }
  Json conflicts = Json::array();
  for (const exposure::Conflict& conflict : tightening.conflicts) {
    conflicts.push_back(Json{{"threat", conflict.threat},
                             {"class", conflict.node},
                             {"port", conflict.port},
                             {"flow", conflict.flow},
                             {"options", conflict.options}});
  }
  return Json{{"blocks", blocks},
              {"conflicts", conflicts},
              {"legit_flows_total", tightening.legit_flows_total},
              {"legit_flows_blocked", tightening.legit_flows_blocked},
              {"exposures_left", tightening.exposures_left},
              {"leaks_left", tightening.leaks_left}};
}

Json PictureJson(const exposure::Picture& picture) {
  Json nodes = Json::array();
  for (const exposure::PictureNode& node : picture.nodes) {
    nodes.push_back(Json{{"id", node.id},
                         {"label", node.label},
                         {"kind", node.kind},
                         {"members", node.members},
                         {"weaknesses", node.weaknesses},
                         {"score", node.score},
                         {"blast_radius", node.blast_radius},
                         {"x", node.x},
                         {"y", node.y}});
  }
  Json edges = Json::array();
  for (const exposure::PictureEdge& edge : picture.edges) {
    edges.push_back(Json{{"from", edge.from},
                         {"to", edge.to},
                         {"kind", edge.kind},
                         {"labels", edge.labels},
                         {"on_path", edge.on_path}});
  }
  return Json{{"width", picture.width},
              {"height", picture.height},
              {"node_width", exposure::kPictureNodeWidth},
              {"node_height", exposure::kPictureNodeHeight},
              {"nodes", nodes},
              {"edges", edges},
              {"paths", picture.paths}};
}

Result<Json> ExplainJson(const exposure::Analysis& analysis, const std::string& device) {
  const auto& nodes = analysis.graph.nodes;
  auto found = std::ranges::find_if(nodes, [&](const exposure::Node& node) {
    return std::ranges::find(node.members, device) != node.members.end();
  });
  if (found == nodes.end()) {
    return MakeError(ErrorCode::kNotFound, "no device " + device.substr(0, 64) +
                                               " under MUD policy (see concierge mud show)");
  }
  size_t node = static_cast<size_t>(found - nodes.begin());
  Json into = Json::array();
  Json out = Json::array();
  Json leaks = Json::array();
  for (const exposure::Exposure& e : analysis.exposures) {
    if (e.target == node) {
      into.push_back(Json{{"from", nodes[e.source].id},
                          {"port", exposure::PortLabel(e.protocol, e.port)},
                          {"threat", e.threat},
                          {"reason", e.reason}});
    }
    if (e.source == node) {
      out.push_back(Json{{"to", nodes[e.target].id},
                         {"port", exposure::PortLabel(e.protocol, e.port)},
                         {"threat", e.threat}});
    }
  }
  for (const exposure::Leak& l : analysis.leaks) {
    if (l.source == node) {
      leaks.push_back(Json{{"port", exposure::PortLabel(l.protocol, l.port)},
                           {"peer", l.peer},
                           {"threat", l.threat},
                           {"reason", l.reason}});
    }
  }
  return Json{{"device", device},
              {"class", found->id},
              {"label", found->label},
              {"weaknesses", found->weaknesses},
              {"reachable_from", into},
              {"can_attack", out},
              {"botnet_traffic", leaks},
              {"blast_radius", analysis.risks[node].blast_radius},
              {"score", analysis.risks[node].score}};
}

}  // namespace concierge::api
