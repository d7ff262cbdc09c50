// The exposure analyzer on a small site of its own (tests/golden/exposure): two weak plugs,
// one clean plug, and a weak console whose maker declares telnet from its admin controller.
#include <algorithm>
#include <filesystem>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "exposure/analyzer.h"
#include "exposure/mirai_sim.h"
#include "exposure/picture.h"
#include "mud/compiler.h"
#include "mud/mud_parser.h"
#include "mud/site_facts_json.h"

namespace concierge::exposure {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

constexpr std::string_view kDir = CONCIERGE_EXPOSURE_GOLDEN_DIR;

std::string Read(const char* name) {
  return ReadFile(std::filesystem::path(kDir) / name).value_or("");
}

IpNetwork Ip(std::string_view text) {
  return IpNetwork::Parse(text).value_or(IpNetwork{});
}

class ExposureAnalysisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<mud::MudFile> files;
    for (const char* name : {"plug.json", "console.json"}) {
      auto file = mud::ParseMudJson(Read(name));
      ASSERT_TRUE(file) << name << ": " << file.error().ToString();
      files.push_back(*file);
    }
    auto site = mud::ParseSiteFactsJson(Read("site.json"));
    ASSERT_TRUE(site) << site.error().ToString();
    auto policy = mud::CompilePolicy(files, site->facts, site->names);
    ASSERT_TRUE(policy) << policy.error().ToString();
    policy_ = *policy;
    auto threats = ParseThreatCatalogue(Read("threats.json"));
    ASSERT_TRUE(threats) << threats.error().ToString();
    model_.policy = &policy_;
    model_.threats = *threats;
    model_.hosts = {{"internet", Ip("203.0.113.10"), true},
                    {"edge", Ip("10.1.0.1"), false},
                    {"console-admin", Ip("10.1.0.5"), false}};
    for (const char* weak : {"plug-1", "plug-2", "console-1"}) {
      model_.devices.push_back({weak, "", "", "", {}, {"factory-credentials"}});
    }
  }

  mud::Policy policy_;
  SiteModel model_;
};

TEST_F(ExposureAnalysisTest, GroupsDevicesIntoClassesAndFindsTheWeakServices) {
  auto analysis = Analyze(model_);
  ASSERT_TRUE(analysis) << analysis.error().ToString();
  const Node* weak_plugs = nullptr;
  for (const Node& node : analysis->graph.nodes) {
    if (!node.host && node.members.size() == 2) {
      weak_plugs = &node;
    }
  }
  ASSERT_NE(weak_plugs, nullptr);
  EXPECT_THAT(weak_plugs->weaknesses, Contains("factory-credentials"));
  EXPECT_EQ(analysis->graph.DeviceCount(), 4u);
  // Each weak plug reaches the other's telnet through the maker's "anything local" entry.
  bool plug_to_plug = false;
  bool from_internet = false;
  bool from_cloud = false;
  for (const Exposure& exposure : analysis->exposures) {
    const Node& source = analysis->graph.nodes[exposure.source];
    plug_to_plug |= &source == weak_plugs && exposure.target == exposure.source &&
                    exposure.port == 23 &&
                    exposure.reason.find("out/lan allows") != std::string::npos;
    from_internet |= source.id == "internet";
    // The plug accepts anything from its cloud's port 443: whoever holds the cloud's address
    // can open its telnet by sending from that port.
    from_cloud |= source.id == "cloud.plug.example" && exposure.port == 23 &&
                  exposure.reason.find("in/cloud allows") != std::string::npos;
  }
  EXPECT_TRUE(plug_to_plug);
  EXPECT_FALSE(from_internet) << "no MUD entry lets any internet host open a connection in";
  EXPECT_TRUE(from_cloud);
  // Every class can reach the C&C at the edge on 2030.
  EXPECT_EQ(analysis->leaks.size(), 3u);
  EXPECT_FALSE(analysis->paths.empty());
  for (const AttackPath& path : analysis->paths) {
    EXPECT_EQ(path.steps.size() + 1, path.nodes.size());
  }
  EXPECT_GT(analysis->site_score, 0);
}

TEST_F(ExposureAnalysisTest, BlastRadiusCountsWhatAnInfectionReaches) {
  auto analysis = Analyze(model_);
  ASSERT_TRUE(analysis);
  for (size_t node = 0; node < analysis->graph.nodes.size(); ++node) {
    const Node& n = analysis->graph.nodes[node];
    if (!n.host && n.weaknesses.empty()) {
      // The clean plug reaches both weak plugs and the console.
      EXPECT_EQ(analysis->risks[node].blast_radius, 3u) << n.id;
    }
  }
}

TEST_F(ExposureAnalysisTest, ThePictureLaysTheGraphOutInColumnsAndMarksEveryAttackHop) {
  auto analysis = Analyze(model_);
  ASSERT_TRUE(analysis);
  Picture picture = LayOut(*analysis);
  std::map<std::string, const PictureNode*> nodes;
  for (const PictureNode& node : picture.nodes) {
    EXPECT_TRUE(nodes.emplace(node.id, &node).second) << "one node per id: " << node.id;
    EXPECT_LE(node.x + kPictureNodeWidth, picture.width);
    EXPECT_LE(node.y + kPictureNodeHeight, picture.height);
    EXPECT_GE(node.y, 40) << "room above for a loop";
  }
  ASSERT_TRUE(nodes.contains("internet"));
  for (const PictureNode& node : picture.nodes) {
    EXPECT_GE(node.x, nodes["internet"]->x) << "the internet is the first column";
  }
  // Every hop of every attack path is an exposure edge drawn on its path; botnet peers are
  // nodes of their own, reached by leak edges.
  ASSERT_EQ(picture.paths.size(), analysis->paths.size());
  for (const auto& path : picture.paths) {
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      EXPECT_TRUE(std::ranges::any_of(picture.edges,
                                      [&](const PictureEdge& edge) {
                                        return edge.from == path[i] && edge.to == path[i + 1] &&
                                               edge.kind == "exposure" && edge.on_path;
                                      }))
          << path[i] << " -> " << path[i + 1];
    }
  }
  size_t leaks = std::ranges::count(picture.edges, std::string("leak"), &PictureEdge::kind);
  EXPECT_EQ(leaks, 3u);
  for (const PictureEdge& edge : picture.edges) {
    EXPECT_TRUE(nodes.contains(edge.from) && nodes.contains(edge.to)) << edge.from << edge.to;
  }

  std::string svg = RenderSvg(picture);
  EXPECT_THAT(svg, HasSubstr("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_THAT(svg, HasSubstr("stroke-width=\"3\""));  // an attack hop
  EXPECT_THAT(svg, HasSubstr("botnet peer"));
  // Outside text is escaped: a label cannot open an element.
  picture.nodes.front().label = "<script>&\"";
  EXPECT_THAT(RenderSvg(picture), HasSubstr("&lt;script&gt;&amp;&quot;"));
  EXPECT_THAT(RenderSvg(picture), ::testing::Not(HasSubstr("<script>")));
}

TEST_F(ExposureAnalysisTest, TighteningCutsEveryPathButTheDeclaredOneAndSaysWhy) {
  auto analysis = Analyze(model_);
  ASSERT_TRUE(analysis);
  auto tightening = Tighten(model_, *analysis);
  ASSERT_TRUE(tightening) << tightening.error().ToString();
  EXPECT_EQ(tightening->legit_flows_blocked, 0u);
  EXPECT_GT(tightening->legit_flows_total, 0u);
  ASSERT_EQ(tightening->conflicts.size(), 1u);
  const Conflict& conflict = tightening->conflicts[0];
  EXPECT_EQ(conflict.threat, "mirai-telnet");
  EXPECT_EQ(conflict.port, 23);
  EXPECT_THAT(conflict.flow, HasSubstr("in/telnet"));
  ASSERT_EQ(conflict.options.size(), 2u);
  EXPECT_THAT(conflict.options[1], HasSubstr("--quarantine"));
  // The console's telnet stays open (to its admin, and so to the plugs): those hops are left.
  EXPECT_GT(tightening->exposures_left, 0u);
  EXPECT_EQ(tightening->leaks_left, 0u);
  ASSERT_EQ(tightening->blocks.size(), 2u);
  const mud::Block& telnet = tightening->blocks[0];
  EXPECT_EQ(telnet.ports, (std::vector<uint16_t>{23, 2323}));
  EXPECT_EQ(telnet.destinations, (std::vector<IpNetwork>{Ip("10.1.1.1"), Ip("10.1.1.2")}));
  const mud::Block& cnc = tightening->blocks[1];
  EXPECT_EQ(cnc.destinations, (std::vector<IpNetwork>{Ip("10.1.0.1")}));
  EXPECT_EQ(cnc.sources.size(), 4u);

  // Under the blocks a weak plug reaches no plug's telnet, and still talks on every other port.
  policy_.blocks = tightening->blocks;
  PolicyIndex index(policy_);
  EXPECT_FALSE(index.CanOpen(Ip("10.1.1.3"), Ip("10.1.1.1"), 6, 23, true).allowed);
  EXPECT_TRUE(index.CanOpen(Ip("10.1.1.3"), Ip("10.1.1.1"), 6, 8080, true).allowed);
  EXPECT_TRUE(index.CanOpen(Ip("10.1.0.5"), Ip("10.1.2.1"), 6, 23, true).allowed);
}

TEST_F(ExposureAnalysisTest, QuarantineBlocksTheDeclaredFlowOnPurpose) {
  auto analysis = Analyze(model_);
  ASSERT_TRUE(analysis);
  auto tightening = Tighten(model_, *analysis, {"console-1"});
  ASSERT_TRUE(tightening);
  EXPECT_TRUE(tightening->conflicts.empty());
  EXPECT_EQ(tightening->exposures_left, 0u);
  EXPECT_EQ(tightening->legit_flows_blocked, 1u);
}

TEST_F(ExposureAnalysisTest, AdvisoriesMatchSoftwareAndJoinTheScore) {
  auto advisory = ParseOsvAdvisory(R"({"id": "CONCIERGE-TEST-0002", "summary": "plugd overflow",
    "affected": [{"package": {"name": "plugd"}, "ranges": [{"type": "ECOSYSTEM",
    "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]})");
  ASSERT_TRUE(advisory);
  model_.advisories = {*advisory};
  model_.devices.push_back({"plug-3", "", "", "", {{"plugd", "1.4"}}, {}});
  auto analysis = Analyze(model_);
  ASSERT_TRUE(analysis);
  bool found = false;
  for (size_t node = 0; node < analysis->graph.nodes.size(); ++node) {
    const Node& n = analysis->graph.nodes[node];
    if (std::ranges::binary_search(n.weaknesses, std::string("CONCIERGE-TEST-0002"))) {
      found = true;
      EXPECT_THAT(analysis->risks[node].reasons, Contains("affected by CONCIERGE-TEST-0002"));
    }
  }
  EXPECT_TRUE(found);
  EXPECT_THAT(analysis->unplaced_advisories, Contains("CONCIERGE-TEST-0002"));
}

TEST_F(ExposureAnalysisTest, RefusesAThreatWhosePeerIsUnknown) {
  model_.threats.threats[1].peers = {"nowhere"};
  auto analysis = Analyze(model_);
  ASSERT_FALSE(analysis);
  EXPECT_THAT(analysis.error().message(), HasSubstr("peer \"nowhere\" is neither"));
}

TEST(MiraiSimulationTest, TheSameSeedGivesTheSameRunAndPolicyStopsIt) {
  // Three devices under one profile that allows anything local, all seeded as bots.
  auto file = mud::ParseMudJson(ReadFile(std::filesystem::path(kDir) / "plug.json").value_or(""));
  ASSERT_TRUE(file);
  mud::SiteFacts facts;
  facts.local_networks = {"10.1.0.0/16"};
  for (int i = 1; i <= 3; ++i) {
    facts.devices.push_back(
        {"plug-" + std::to_string(i), file->mud_url, {"10.1.1." + std::to_string(i)}});
  }
  std::vector<mud::MudFile> files = {*file};
  auto policy = mud::CompilePolicy(files, facts, {{"cloud.plug.example", {"192.0.2.40"}}});
  ASSERT_TRUE(policy);
  SiteModel model;
  model.policy = &*policy;
  model.hosts = {{"internet", Ip("203.0.113.10"), true}};
  for (int i = 1; i <= 3; ++i) {
    model.devices.push_back({"plug-" + std::to_string(i), "", "", "", {}, {"factory-credentials"}});
  }
  PolicyIndex index(*policy);
  auto graph = BuildSiteGraph(model, index);
  ASSERT_TRUE(graph);
  MiraiSite site{
      &*graph,
      &*policy,
      Ip("10.1.0.1"),
      254,
      {{"syn", Ip("192.0.2.40"), 6, 443, false}, {"udp", Ip("192.0.2.40"), 17, 53, false}},
      {{"root", "root", 1}, {"admin", "admin", 3}}};
  MiraiParameters parameters;
  auto first = SimulateMirai(site, parameters, 7);
  auto again = SimulateMirai(site, parameters, 7);
  ASSERT_TRUE(first && again);
  EXPECT_EQ(first->events, again->events);
  EXPECT_EQ(first->ddos_transmitted, again->ddos_transmitted);
  // The plugs reach the edge (local) on any TCP port: every bot finds its C&C, cracks its
  // neighbours, and its SYN flood to the declared cloud port passes; the UDP flood does not.
  EXPECT_EQ(first->bots_with_cnc, 3u);
  EXPECT_EQ(first->hosts_scanned, 3u);
  EXPECT_EQ(first->new_infections, 3u);
  uint64_t per_flood = static_cast<uint64_t>(parameters.flood_pps * parameters.flood_seconds) * 3;
  EXPECT_EQ(first->ddos_generated, 2 * per_flood);
  EXPECT_EQ(first->ddos_transmitted, per_flood);

  // A block on the C&C port silences the botnet.
  mud::Policy blocked = *policy;
  blocked.blocks.push_back({"mirai-cnc", "C&C", 6, {2030, 48101}, {}, {Ip("10.1.0.1")}});
  site.policy = &blocked;
  auto silenced = SimulateMirai(site, parameters, 7);
  ASSERT_TRUE(silenced);
  EXPECT_EQ(silenced->bots_with_cnc, 0u);
  EXPECT_EQ(silenced->ddos_generated, 0u);
  EXPECT_EQ(silenced->hosts_scanned, 0u);
}

TEST(MiraiSimulationTest, ReadsAndRefusesCredentialLists) {
  auto list = ParseCredentials(R"({"credentials": [{"user": "root", "password": "xc3511",
    "weight": 10}, {"user": "admin", "password": ""}]})");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].weight, 1);
  EXPECT_THAT(ParseCredentials(R"({"credentials": [{"user": 1}]})").error().message(),
              HasSubstr("credentials[0]"));
  EXPECT_THAT(ParseCredentials(R"({"credentials": [{"user": "a", "password": "b",
    "weight": "x"}]})")
                  .error()
                  .message(),
              HasSubstr("credentials[0].weight"));
  EXPECT_FALSE(ParseCredentials("[1]"));
}

}  // namespace
}  // namespace concierge::exposure
