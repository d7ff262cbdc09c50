#include "mud/mud_parser.h"

#include <filesystem>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"

namespace concierge::mud {
namespace {

using ::testing::HasSubstr;

// A small RFC 8520 file of the project's own, with one of each kind of match.
constexpr std::string_view kThermostat = R"({
  "ietf-mud:mud": {
    "mud-version": 1,
    "mud-url": "https://mud.acme.example/thermostat.json",
    "last-update": "2026-11-01T10:00:00+00:00",
    "cache-validity": 48,
    "is-supported": true,
    "systeminfo": "Acme thermostat",
    "mfg-name": "Acme",
    "from-device-policy": {"access-lists": {"access-list": [{"name": "from-dev"}]}},
    "to-device-policy": {"access-lists": {"access-list": [{"name": "to-dev"}]}}
  },
  "ietf-access-control-list:acls": {
    "acl": [
      {"name": "from-dev", "type": "ipv4-acl-type", "aces": {"ace": [
        {"name": "cloud", "matches": {
           "ipv4": {"protocol": 6, "ietf-acldns:dst-dnsname": "cloud.acme.example"},
           "tcp": {"destination-port": {"operator": "eq", "port": 443},
                   "ietf-mud:direction-initiated": "from-device"}},
         "actions": {"forwarding": "accept"}},
        {"name": "peers", "matches": {"ietf-mud:mud": {"same-manufacturer": [null]},
           "udp": {"destination-port": {"lower-port": 5000, "upper-port": 5010}}},
         "actions": {"forwarding": "accept"}},
        {"name": "ping", "matches": {"ipv4": {"protocol": 1}, "icmp": {"type": 8}},
         "actions": {"forwarding": "ietf-access-control-list:accept"}}]}},
      {"name": "to-dev", "type": "ipv4-acl-type", "aces": {"ace": [
        {"name": "controller", "matches": {"ietf-mud:mud": {"my-controller": [null]},
           "tcp": {"source-port": {"operator": "eq", "port": 8883}}},
         "actions": {"forwarding": "accept"}}]}}
    ]
  }
})";

std::string WithReplaced(std::string_view text, std::string_view from, std::string_view to) {
  std::string out(text);
  size_t at = out.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  out.replace(at, from.size(), to);
  return out;
}

TEST(MudParserTest, ReadsEveryKindOfMatch) {
  auto file = ParseMudJson(kThermostat);
  ASSERT_TRUE(file) << file.error().ToString();
  EXPECT_EQ(file->mud_url, "https://mud.acme.example/thermostat.json");
  EXPECT_EQ(file->from_device_acls, std::vector<std::string>{"from-dev"});
  ASSERT_EQ(file->AceCount(), 4u);
  const Acl* from = file->FindAcl("from-dev");
  ASSERT_NE(from, nullptr);
  const AceMatches& cloud = from->aces[0].matches;
  EXPECT_EQ(cloud.protocol, 6);
  EXPECT_EQ(cloud.destination_dnsname, "cloud.acme.example");
  ASSERT_TRUE(cloud.destination_port.has_value());
  EXPECT_EQ(cloud.destination_port.value_or(PortMatch{}).lower, 443);
  EXPECT_EQ(cloud.direction_initiated, Direction::kFromDevice);
  const AceMatches& peers = from->aces[1].matches;
  EXPECT_TRUE(peers.mud.same_manufacturer);
  EXPECT_EQ(peers.protocol, 17);
  PortMatch range = peers.destination_port.value_or(PortMatch{});
  EXPECT_EQ(range.op, PortMatch::Op::kRange);
  EXPECT_EQ(range.upper, 5010);
  EXPECT_EQ(from->aces[2].matches.icmp_type, 8);
  EXPECT_TRUE(file->FindAcl("to-dev")->aces[0].matches.mud.my_controller);
}

TEST(MudParserTest, RefusalsNameThePathAndTheProblem) {
  struct Case {
    std::string json;
    const char* message;
  } cases[] = {
      {WithReplaced(kThermostat, R"("port": 443)", R"("port": 70000)"),
       "acls.acl[0].aces.ace[0].matches.tcp.destination-port.port: expected 0..65535"},
      {WithReplaced(kThermostat, R"("forwarding": "accept"})", R"("forwarding": "allow"})"),
       "acls.acl[0].aces.ace[0].actions.forwarding: unknown action \"allow\""},
      {WithReplaced(kThermostat, R"({"name": "to-dev"})", R"({"name": "missing"})"),
       "to-device-policy: names ACL \"missing\""},
      {WithReplaced(kThermostat, R"("ietf-acldns:dst-dnsname")",
                    R"("destination-ipv4-network": "10.0.0.0/8", "ietf-acldns:dst-dnsname")"),
       "destination network and destination DNS name are exclusive"},
      {WithReplaced(kThermostat, R"({"name": "to-dev", "type")",
                    R"({"name": "to-dev", "ietf-x:when": "night", "type")"),
       "acls.acl[1].ietf-x:when: unsupported member (refused rather than ignored)"},
      {WithReplaced(kThermostat, R"("actions": {"forwarding": "accept"}}]}})",
                    R"("actions": {"forwarding": "accept", "ietf-x:rate": 5}}]}})"),
       "acls.acl[1].aces.ace[0].actions.ietf-x:rate: unsupported member"},
      {WithReplaced(kThermostat, R"("https://mud.acme.example/thermostat.json")",
                    R"("http://mud.acme.example/thermostat.json")"),
       "ietf-mud:mud.mud-url: must be an https URL"},
      {WithReplaced(kThermostat, R"("cache-validity": 48)", R"("cache-validity": 500)"),
       "ietf-mud:mud.cache-validity: expected 1..168"},
      {WithReplaced(kThermostat, R"("same-manufacturer": [null])", R"("same-manufacturer": true)"),
       "same-manufacturer: expected [null]"},
      {WithReplaced(kThermostat, R"("type": "ipv4-acl-type", "aces": {"ace": [
        {"name": "controller")",
                    R"("type": "ipv6-acl-type", "aces": {"ace": [
        {"name": "controller")"),
       ""},
      {WithReplaced(kThermostat, R"("lower-port": 5000)", R"("lower-port": 6000)"),
       "lower-port is above upper-port"},
      {"{\"ietf-mud:mud\": []}", "MUD file.ietf-mud:mud: expected an object"},
      {"[]", "expected a JSON object"},
  };

  for (const auto& c : cases) {
    auto file = ParseMudJson(c.json);
    if (std::string_view(c.message).empty()) {
      EXPECT_TRUE(file) << "an ipv6 ACL with only tcp matches is valid";
      continue;
    }
    ASSERT_FALSE(file) << c.message;
    EXPECT_EQ(file.error().code(), ErrorCode::kBadFormat);
    EXPECT_THAT(file.error().message(), HasSubstr(c.message));
  }
}

// RFC 8520 §3.9: what is not understood is ignored, but only where that cannot widen access.
TEST(MudParserTest, UnknownNodesAreIgnoredOnlyWhereThatCannotWidenAccess) {
  std::string text = WithReplaced(kThermostat, R"("mfg-name": "Acme",)",
                                  R"("mfg-name": "Acme", "extensions": ["acme-sleep"],
                                     "acme-sleep:schedule": {"from": "22:00"},
                                     "other-vendor:colour": "blue",)");
  text = WithReplaced(text, R"("icmp": {"type": 8})", R"("icmp": {"type": 8, "acme:rate": 1})");
  text = WithReplaced(text, R"("tcp": {"source-port": {"operator": "eq", "port": 8883}})",
                      R"("tcp": {"source-port": {"operator": "eq", "port": 8883}},
                         "ipv4": {"ttl": 1})");
  text = WithReplaced(text, R"({"name": "ping")",
                      R"({"name": "no-telnet", "matches": {"tcp": {"flags": "syn",
                            "destination-port": {"operator": "eq", "port": 23}}},
                          "actions": {"forwarding": "drop"}},
                         {"name": "ping")");
  text.insert(text.rfind('}'), R"(, "acme-inventory:asset": {"tag": 7})");
  auto file = ParseMudJson(text);
  ASSERT_TRUE(file) << file.error().ToString();
  const Acl* from = file->FindAcl("from-dev");
  ASSERT_EQ(from->aces.size(), 3u) << "the accept with a rate qualifier is left out";
  EXPECT_EQ(from->aces[2].name, "no-telnet");
  EXPECT_EQ(from->aces[2].action, ForwardingAction::kDrop);
  EXPECT_EQ(from->aces[2].matches.destination_port.value_or(PortMatch{}).lower, 23);
  EXPECT_TRUE(file->FindAcl("to-dev")->aces.empty()) << "an accept limited by TTL is left out";
  EXPECT_THAT(file->warnings,
              ::testing::UnorderedElementsAre(
                  "ietf-mud:mud.acme-sleep:schedule: ignored: extension \"acme-sleep\" is not "
                  "supported (RFC 8520 §3.9)",
                  "ietf-mud:mud.other-vendor:colour: ignored: not understood (RFC 8520 §3.9)",
                  "MUD file.acme-inventory:asset: ignored: not understood (RFC 8520 §3.9)",
                  "acls.acl[0].aces.ace[2] (\"no-telnet\"): acls.acl[0].aces.ace[2].matches.tcp."
                  "flags not understood and ignored; the drop then matches more",
                  "acls.acl[0].aces.ace[3] (\"ping\"): left out: it matches on acls.acl[0].aces."
                  "ace[3].matches.icmp.acme:rate, not understood; ignoring that would widen an "
                  "accept",
                  "acls.acl[1].aces.ace[0] (\"controller\"): left out: it matches on acls.acl[1]."
                  "aces.ace[0].matches.ipv4.ttl, not understood; ignoring that would widen an "
                  "accept"));
  EXPECT_TRUE(ParseMudJson(kThermostat)->warnings.empty());
}

TEST(MudParserTest, RefusesIpv4MatchesInAnIpv6Acl) {
  auto file =
      ParseMudJson(WithReplaced(kThermostat, R"("name": "from-dev", "type": "ipv4-acl-type")",
                                R"("name": "from-dev", "type": "ipv6-acl-type")"));
  ASSERT_FALSE(file);
  EXPECT_THAT(file.error().message(), HasSubstr("ipv4: does not fit the ACL's type"));
}

TEST(MudParserTest, RefusesOversizeFiles) {
  std::string big(kMaxMudFileSize + 1, ' ');
  EXPECT_EQ(ParseMudJson(big).error().code(), ErrorCode::kTooLarge);
}

// The public MUD files in ../shared/testdata/mud (not part of this repository).
class MudTestdataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::is_directory(dir_)) {
      GTEST_SKIP() << "shared MUD test data not found at " << dir_
                   << " (it lives beside the checkout in ../shared/testdata/mud)";
    }
  }

  std::filesystem::path dir_ = std::filesystem::path(CONCIERGE_SHARED_TESTDATA) / "mud";
};

TEST_F(MudTestdataTest, TheUnswProfilesAllParseWith1023Entries) {
  size_t files = 0;
  size_t aces = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "unsw-mudgee-28")) {
    auto text = ReadFile(entry.path());
    ASSERT_TRUE(text);
    auto file = ParseMudJson(*text);
    ASSERT_TRUE(file) << entry.path() << ": " << file.error().ToString();
    ++files;
    aces += file->AceCount();
  }
  EXPECT_EQ(files, 28u);
  EXPECT_EQ(aces, 1023u);
}

TEST_F(MudTestdataTest, EveryFileParsesOrIsRefusedWithAPath) {
  std::map<std::string, std::string> outcome;
  size_t accepted = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
    if (entry.path().extension() != ".json") {
      continue;
    }
    auto text = ReadFile(entry.path());
    ASSERT_TRUE(text);
    auto file = ParseMudJson(*text);
    std::string name = std::filesystem::relative(entry.path(), dir_).string();
    if (file) {
      outcome[name] = "ok, " + std::to_string(file->AceCount()) + " entries";
      for (const auto& warning : file->warnings) {
        outcome[name] += "\n    warning: " + warning;
      }
      ++accepted;
      continue;
    }
    EXPECT_EQ(file.error().code(), ErrorCode::kBadFormat) << name;
    EXPECT_THAT(file.error().message(), HasSubstr(": ")) << name;
    outcome[name] = "refused: " + file.error().message();
  }
  for (const auto& [name, result] : outcome) {
    std::cout << name << " -> " << result << "\n";
  }
  // docs/mud.md §8 gives these counts.
  EXPECT_EQ(outcome.size(), 70u);
  EXPECT_EQ(accepted, 66u) << "5 files with unknown nodes outside their ACLs are now accepted";
}

}  // namespace
}  // namespace concierge::mud
