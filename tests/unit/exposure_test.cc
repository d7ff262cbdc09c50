// The exposure analyzer's foundations: what the compiled policy allows (checked against the
// golden site, whose nftables form the namespace test exercises with real packets), and the
// threat catalogue and OSV readers.
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "exposure/knowledge.h"
#include "exposure/policy_index.h"
#include "mud/compiler.h"
#include "mud/mud_parser.h"
#include "mud/site_facts_json.h"

namespace concierge::exposure {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kGoldenDir = CONCIERGE_GOLDEN_DIR;

mud::Policy GoldenPolicy() {
  std::vector<mud::MudFile> files;
  for (const char* name : {"thermostat.json", "camera.json", "nvr.json"}) {
    auto text = ReadFile(std::filesystem::path(kGoldenDir) / name);
    files.push_back(mud::ParseMudJson(text.value_or("")).value_or(mud::MudFile{}));
  }
  auto site_text = ReadFile(std::filesystem::path(kGoldenDir) / "site.json");
  auto site = mud::ParseSiteFactsJson(site_text.value_or("{}")).value_or(mud::SiteFactsFile{});
  auto policy = mud::CompilePolicy(files, site.facts, site.names);
  EXPECT_TRUE(policy) << (policy ? "" : policy.error().ToString());
  return policy.value_or(mud::Policy{});
}

IpNetwork Ip(std::string_view text) {
  return IpNetwork::Parse(text).value_or(IpNetwork{});
}

class PolicyIndexTest : public ::testing::Test {
 protected:
  mud::Policy policy_ = GoldenPolicy();
  PolicyIndex index_{policy_};
};

TEST_F(PolicyIndexTest, AllowsWhatTheFilesDeclareAndNothingElse) {
  // thermostat-1 (10.0.1.10) may open TLS to its cloud (192.0.2.10) and get answers.
  Decision cloud = index_.CanOpen(Ip("10.0.1.10"), Ip("192.0.2.10"), 6, 443, true);
  EXPECT_TRUE(cloud.allowed) << cloud.reason;
  EXPECT_THAT(cloud.reason, HasSubstr("from-thermostat/cloud"));
  // ...but not plain HTTP, and the cloud may not open a connection to it.
  EXPECT_FALSE(index_.CanOpen(Ip("10.0.1.10"), Ip("192.0.2.10"), 6, 80, true).allowed);
  Decision inbound = index_.CanOpen(Ip("192.0.2.10"), Ip("10.0.1.10"), 6, 443, true);
  EXPECT_FALSE(inbound.allowed);
  EXPECT_THAT(inbound.reason, HasSubstr("not in its MUD file"));
  // The camera rejects telnet outright (an explicit reject entry).
  Decision telnet = index_.CanOpen(Ip("10.0.2.20"), Ip("10.0.1.10"), 6, 23, true);
  EXPECT_FALSE(telnet.allowed);
  EXPECT_THAT(telnet.reason, HasSubstr("cam-out-v4/no-telnet refuses"));
}

TEST_F(PolicyIndexTest, BothEndsMustAgreeBetweenManagedDevices) {
  // The camera may send to Acme devices on any port but 80; a thermostat accepts only UDP
  // 5000-5010 from its own maker's devices, so the camera gets nowhere.
  EXPECT_FALSE(index_.CanOpen(Ip("10.0.2.20"), Ip("10.0.1.10"), 6, 8080, true).allowed);
  // Thermostats talk to each other on UDP 5000-5010.
  EXPECT_TRUE(index_.CanOpen(Ip("10.0.1.10"), Ip("10.0.1.11"), 17, 5005, false).allowed);
  EXPECT_FALSE(index_.CanOpen(Ip("10.0.1.10"), Ip("10.0.1.11"), 17, 5011, false).allowed);
}

TEST_F(PolicyIndexTest, DirectionInitiatedFollowsTheOpener) {
  // my-controller (10.0.0.9) may open 8883 on the thermostat; the thermostat's answers are
  // not in its from-device list, so the connection is half open at best.
  Packet opening{Ip("10.0.0.9"),
                 Ip("10.0.1.10"),
                 6,
                 40000,
                 8883,
                 std::nullopt,
                 mud::ConnectionDirection::kOriginal};
  EXPECT_TRUE(index_.Evaluate(opening).allowed);
  opening.direction = mud::ConnectionDirection::kReply;
  EXPECT_FALSE(index_.Evaluate(opening).allowed);
}

TEST_F(PolicyIndexTest, AnAttackerPicksItsSourcePort) {
  // The camera accepts anything from the NVR model whose source port is >= 8000: the NVR
  // can reach every camera port by choosing its source port.
  EXPECT_TRUE(index_.CanOpen(Ip("10.0.2.30"), Ip("10.0.2.20"), 6, 23, false).allowed);
}

TEST_F(PolicyIndexTest, UnmanagedTrafficPasses) {
  Decision decision = index_.CanOpen(Ip("10.9.9.9"), Ip("192.0.2.1"), 6, 23, true);
  EXPECT_TRUE(decision.allowed);
  EXPECT_THAT(decision.reason, HasSubstr("neither end"));
}

TEST_F(PolicyIndexTest, BlocksComeBeforeTheDeviceChains) {
  ASSERT_TRUE(index_.CanOpen(Ip("10.0.2.30"), Ip("10.0.2.20"), 6, 23, false).allowed);
  policy_.blocks.push_back(
      {"mirai-telnet", "telnet with factory credentials", 6, {23}, {}, {Ip("10.0.2.20")}});
  Decision blocked = index_.CanOpen(Ip("10.0.2.30"), Ip("10.0.2.20"), 6, 23, false);
  EXPECT_FALSE(blocked.allowed);
  EXPECT_THAT(blocked.reason, HasSubstr("exposure block mirai-telnet"));
  EXPECT_TRUE(index_.CanOpen(Ip("10.0.2.30"), Ip("10.0.2.20"), 6, 24, false).allowed);
  // Answers are not blocked: the camera's own telnet client still gets replies.
  Packet answer{Ip("10.0.2.20"),
                Ip("10.0.2.30"),
                6,
                40000,
                23,
                std::nullopt,
                mud::ConnectionDirection::kReply};
  EXPECT_THAT(index_.Evaluate(answer).reason, Not(HasSubstr("exposure block")));
}

TEST(ThreatCatalogueTest, ReadsExploitsAndOperations) {
  auto catalogue = ParseThreatCatalogue(R"({"threats": [
    {"name": "mirai-telnet", "kind": "exploit", "protocol": "tcp", "ports": [23, 2323],
     "weakness": "factory-credentials", "weight": 10, "explanation": "telnet login"},
    {"name": "mirai-cnc", "kind": "operation", "protocol": "tcp", "ports": [2030],
     "peers": ["203.0.113.5"]}]})");
  ASSERT_TRUE(catalogue) << catalogue.error().ToString();
  ASSERT_EQ(catalogue->threats.size(), 2u);
  EXPECT_EQ(catalogue->threats[0].ports, (std::vector<uint16_t>{23, 2323}));
  EXPECT_EQ(catalogue->threats[0].weight, 10);
  EXPECT_EQ(catalogue->threats[1].kind, Threat::Kind::kOperation);
  EXPECT_EQ(catalogue->threats[1].weight, 1);
}

TEST(ThreatCatalogueTest, RefusesWithThePath) {
  struct Case {
    const char* json;
    const char* expected;
  };

  for (const Case& c : {
           Case{"[", "not valid JSON"},
           Case{R"({"threats": {}})", "threats: expected an array"},
           Case{R"({"threats": [{"name": "x", "kind": "worm", "protocol": "tcp", "ports": [1]}]})",
                "threats[0].kind"},
           Case{R"({"threats": [{"name": "x", "kind": "exploit", "protocol": "tcp",
                "ports": [70000], "weakness": "w"}]})",
                "threats[0].ports[0]: expected 1..65535"},
           Case{R"({"threats": [{"name": "x", "kind": "exploit", "protocol": "tcp",
                "ports": [23]}]})",
                "threats[0].weakness"},
           Case{R"({"threats": [], "extra": 1})", "extra"},
       }) {
    auto parsed = ParseThreatCatalogue(c.json);
    ASSERT_FALSE(parsed) << c.json;
    EXPECT_THAT(parsed.error().message(), HasSubstr(c.expected)) << c.json;
  }
}

// An advisory of the project's own, in OSV's schema.
constexpr std::string_view kAdvisory = R"({
  "schema_version": "1.6.0", "id": "CONCIERGE-TEST-0001", "modified": "2026-11-01T00:00:00Z",
  "summary": "telnetd accepts factory credentials",
  "severity": [{"type": "CVSS_V3", "score": "9.8"}],
  "affected": [{"package": {"ecosystem": "Debian", "name": "busybox"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.20"}, {"fixed": "1.36.1"}]},
               {"type": "GIT", "events": [{"introduced": "0"}]}],
    "versions": ["1.19.4"]}]})";

TEST(OsvTest, MatchesListedVersionsAndRanges) {
  auto advisory = ParseOsvAdvisory(kAdvisory);
  ASSERT_TRUE(advisory) << advisory.error().ToString();
  EXPECT_EQ(advisory->id, "CONCIERGE-TEST-0001");
  EXPECT_EQ(advisory->weight, 10);
  EXPECT_TRUE(advisory->Affects("BusyBox", "1.35.0"));
  EXPECT_TRUE(advisory->Affects("busybox", "1.19.4"));
  EXPECT_TRUE(advisory->Affects("busybox", "1.20"));
  EXPECT_FALSE(advisory->Affects("busybox", "1.36.1"));
  EXPECT_FALSE(advisory->Affects("busybox", "1.19.3"));
  EXPECT_FALSE(advisory->Affects("dropbear", "1.35.0"));
}

TEST(OsvTest, ReadsArraysAndRefusesBrokenRecords) {
  std::string two = "[" + std::string(kAdvisory) + "," + std::string(kAdvisory) + "]";
  auto many = ParseOsvAdvisories(two);
  ASSERT_TRUE(many);
  EXPECT_EQ(many->size(), 2u);
  EXPECT_THAT(ParseOsvAdvisory(R"({"id": "X"})").error().message(), HasSubstr("affected"));
  EXPECT_THAT(ParseOsvAdvisory(R"({"id": "X", "affected": [{"package": {}}]})").error().message(),
              HasSubstr("affected[0].package.name"));
  EXPECT_THAT(ParseOsvAdvisory(R"({"id": "X", "affected": [{"package": {"name": "p"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "2"}]}]}]})")
                  .error()
                  .message(),
              HasSubstr("without an open interval"));
}

TEST(VersionTest, ComparesPartsNumerically) {
  EXPECT_LT(CompareVersions("1.9", "1.10"), 0);
  EXPECT_EQ(CompareVersions("1.0", "1"), 0);
  EXPECT_GT(CompareVersions("2.0.1", "2.0"), 0);
  EXPECT_LT(CompareVersions("1.0-rc1", "1.0-rc2"), 0);
}

}  // namespace
}  // namespace concierge::exposure
