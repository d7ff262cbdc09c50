// The MUD compiler and the nftables renderer: golden rulesets for the project's own MUD files
// and site facts, the public MUD files, and the properties the layout promises.
#include <cstdlib>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "firewall/nft_ruleset.h"
#include "mud/compiler.h"
#include "mud/mud_parser.h"
#include "mud/site_facts_json.h"

namespace concierge::mud {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kGoldenDir = CONCIERGE_GOLDEN_DIR;

MudFile ReadMud(const std::filesystem::path& path) {
  auto text = ReadFile(path);
  EXPECT_TRUE(text) << path;
  auto file = ParseMudJson(text.value_or(""));
  EXPECT_TRUE(file) << path << ": " << (file ? "" : file.error().ToString());
  return file.value_or(MudFile{});
}

std::vector<MudFile> GoldenFiles() {
  return {ReadMud(std::filesystem::path(kGoldenDir) / "thermostat.json"),
          ReadMud(std::filesystem::path(kGoldenDir) / "camera.json"),
          ReadMud(std::filesystem::path(kGoldenDir) / "nvr.json")};
}

SiteFactsFile GoldenSite() {
  auto text = ReadFile(std::filesystem::path(kGoldenDir) / "site.json");
  EXPECT_TRUE(text);
  auto site = ParseSiteFactsJson(text.value_or("{}"));
  EXPECT_TRUE(site) << (site ? "" : site.error().ToString());
  return site.value_or(SiteFactsFile{});
}

// ExpectGolden compares with a file under tests/golden/mud; CONCIERGE_UPDATE_GOLDEN=1 rewrites
// it instead (review the diff before committing).
void ExpectGolden(const std::string& actual, const std::string& name) {
  std::filesystem::path path = std::filesystem::path(kGoldenDir) / name;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any thread starts
  if (std::getenv("CONCIERGE_UPDATE_GOLDEN") != nullptr) {
    ASSERT_TRUE(WriteFileAtomic(path, actual));
    return;
  }
  auto expected = ReadFile(path);
  ASSERT_TRUE(expected) << path << " missing; run with CONCIERGE_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, *expected) << "differs from " << path;
}

TEST(MudPolicyGoldenTest, SiteRuleset) {
  auto files = GoldenFiles();
  SiteFactsFile site = GoldenSite();
  auto policy = CompilePolicy(files, site.facts, site.names);
  ASSERT_TRUE(policy) << policy.error().ToString();
  ExpectGolden(firewall::RenderRuleset(*policy), "site.nft");
}

TEST(MudPolicyGoldenTest, LinearDispatchRuleset) {
  auto files = GoldenFiles();
  SiteFactsFile site = GoldenSite();
  auto policy = CompilePolicy(files, site.facts, site.names);
  ASSERT_TRUE(policy) << policy.error().ToString();
  ExpectGolden(firewall::RenderRuleset(*policy, firewall::Dispatch::kLinearList),
               "site-linear.nft");
}

TEST(MudPolicyGoldenTest, OneDevice) {
  auto files = GoldenFiles();
  SiteFactsFile site = GoldenSite();
  auto policy = CompilePolicy(files, site.facts, site.names);
  ASSERT_TRUE(policy) << policy.error().ToString();
  auto device = firewall::RenderDevice(*policy, "camera-1");
  ASSERT_TRUE(device) << device.error().ToString();
  ExpectGolden(*device, "camera-1.nft");
  EXPECT_EQ(firewall::RenderDevice(*policy, "toaster").error().code(), ErrorCode::kNotFound);
}

TEST(MudCompilerTest, DevicesOfOneFileShareItsChains) {
  auto files = GoldenFiles();
  SiteFactsFile site = GoldenSite();
  auto few = CompilePolicy(files, site.facts, site.names);
  ASSERT_TRUE(few);
  for (int i = 0; i < 500; ++i) {
    site.facts.devices.push_back(
        {std::string("t") + std::to_string(i),
         "https://mud.acme.example/thermostat.json",
         {std::string("10.1.") + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1)}});
  }
  auto many = CompilePolicy(files, site.facts, site.names);
  ASSERT_TRUE(many);
  EXPECT_EQ(many->RuleCount(), few->RuleCount());
  EXPECT_EQ(many->bindings.size(), few->bindings.size() + 500);
  // The new thermostats joined the manufacturer set the cameras' rules use.
  std::string ruleset = firewall::RenderRuleset(*many);
  EXPECT_THAT(ruleset, HasSubstr("10.1.2.100"));
}

TEST(MudCompilerTest, DirectionInitiatedBecomesConntrackDirection) {
  auto files = GoldenFiles();
  SiteFactsFile site = GoldenSite();
  auto policy = CompilePolicy(files, site.facts, site.names);
  ASSERT_TRUE(policy);
  const Profile* thermostat = nullptr;
  for (const Profile& profile : policy->profiles) {
    if (profile.mud_url == "https://mud.acme.example/thermostat.json") {
      thermostat = &profile;
    }
  }
  ASSERT_NE(thermostat, nullptr);
  // Initiated by the device: its packets go the original way, the answers come back in reply.
  EXPECT_EQ(thermostat->from_device_v4.rules[0].connection, ConnectionDirection::kOriginal);
  EXPECT_EQ(thermostat->to_device_v4.rules[0].connection, ConnectionDirection::kReply);
  // Initiated towards the device: what reaches it travels the original way.
  EXPECT_EQ(thermostat->to_device_v4.rules[2].connection, ConnectionDirection::kOriginal);
  EXPECT_EQ(thermostat->from_device_v4.rules[1].connection, ConnectionDirection::kAny);
}

TEST(MudCompilerTest, WhatCannotBeEnforcedIsSaidNotHidden) {
  auto files = GoldenFiles();
  SiteFactsFile site = GoldenSite();
  site.names.erase("stream.lens.example");
  site.facts.controllers.clear();
  auto policy = CompilePolicy(files, site.facts, site.names);
  ASSERT_TRUE(policy);
  std::string ruleset = firewall::RenderRuleset(*policy);
  EXPECT_THAT(ruleset, HasSubstr("note: dns name stream.lens.example is not resolved yet"));
  EXPECT_THAT(ruleset, HasSubstr("note: controller urn:ietf:params:mud:ntp is not configured"));
  EXPECT_THAT(ruleset, HasSubstr("note: acl cam-link (ethernet, 1 entries)"));
}

TEST(MudCompilerTest, RefusesBadFacts) {
  auto files = GoldenFiles();
  SiteFactsFile site = GoldenSite();
  site.facts.devices.push_back({"odd", "https://mud.acme.example/thermostat.json", {"10.0.0.0/8"}});
  auto network = CompilePolicy(files, site.facts, site.names);
  ASSERT_FALSE(network);
  EXPECT_THAT(network.error().message(), HasSubstr("is a network, not an address"));
  site.facts.devices.back() = {"odd", "https://mud.acme.example/thermostat.json", {"10.0.0.300"}};
  EXPECT_THAT(CompilePolicy(files, site.facts, site.names).error().message(),
              HasSubstr("device odd"));
  site.facts.devices.back() = {"odd", "https://nowhere.example/x.json", {"10.0.0.3"}};
  EXPECT_THAT(CompilePolicy(files, site.facts, site.names).error().message(), HasSubstr("no file"));
  site.facts.devices.back() = {"odd", "https://mud.acme.example/thermostat.json", {"10.0.1.10"}};
  EXPECT_THAT(CompilePolicy(files, site.facts, site.names).error().message(),
              HasSubstr("devices thermostat-1 and odd both claim the address 10.0.1.10"));
  files.push_back(files[0]);
  site.facts.devices.pop_back();
  EXPECT_THAT(CompilePolicy(files, site.facts, site.names).error().message(),
              HasSubstr("two MUD files claim"));
}

TEST(MudCompilerTest, OutsideTextCannotEscapeAComment) {
  auto files = GoldenFiles();
  files[0].acls[0].aces[0].name = "x\"\n\tchain evil { accept";
  SiteFactsFile site = GoldenSite();
  auto policy = CompilePolicy(files, site.facts, site.names);
  ASSERT_TRUE(policy);
  std::string ruleset = firewall::RenderRuleset(*policy);
  EXPECT_THAT(ruleset, Not(HasSubstr("\n\tchain evil")));
  EXPECT_THAT(ruleset, HasSubstr("comment \"from-thermostat/x___chain evil _ accept\""));
}

TEST(SiteFactsJsonTest, NamesThePathOfWhatIsWrong) {
  EXPECT_THAT(ParseSiteFactsJson(R"({"devices": [{"name": "a"}]})").error().message(),
              HasSubstr("devices[0]"));
  EXPECT_THAT(ParseSiteFactsJson(R"({"dns": {"a.example": [1]}})").error().message(),
              HasSubstr("dns.a.example[0]: expected a string"));
  EXPECT_THAT(ParseSiteFactsJson(R"({"locals": []})").error().message(), HasSubstr("locals"));
}

// The public MUD files in ../shared/testdata/mud (not part of this repository).
class MudTestdataPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::is_directory(dir_)) {
      GTEST_SKIP() << "shared MUD test data not found at " << dir_
                   << " (it lives beside the checkout in ../shared/testdata/mud)";
    }
  }

  std::filesystem::path dir_ = std::filesystem::path(CONCIERGE_SHARED_TESTDATA) / "mud";
};

TEST_F(MudTestdataPolicyTest, EveryFileCompilesOrIsRefused) {
  size_t compiled = 0;
  size_t refused = 0;
  size_t unsw_files = 0;
  size_t unsw_aces = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
    if (entry.path().extension() != ".json") {
      continue;
    }
    std::string name = std::filesystem::relative(entry.path(), dir_).string();
    auto file = ParseMudJson(ReadFile(entry.path()).value_or(""));
    if (!file) {
      EXPECT_THAT(file.error().message(), HasSubstr(": ")) << name;
      ++refused;
      continue;
    }
    SiteFacts facts;
    facts.devices.push_back({"device", file->mud_url, {"10.0.0.2", "2001:db8::2"}});
    std::vector<MudFile> one{*file};
    auto policy = CompilePolicy(one, facts, {});
    ASSERT_TRUE(policy) << name << ": " << policy.error().ToString();
    std::string ruleset = firewall::RenderRuleset(*policy);
    EXPECT_THAT(ruleset, HasSubstr("10.0.0.2 : jump")) << name;
    ++compiled;
    if (name.starts_with("unsw-mudgee-28/")) {
      ++unsw_files;
      unsw_aces += policy->profiles[0].ace_count;
    }
  }
  std::cout << compiled << " files compiled, " << refused << " refused by the parser\n";
  EXPECT_EQ(unsw_files, 28u);
  EXPECT_EQ(unsw_aces, 1023u);
  EXPECT_GE(compiled + refused, 70u);
}

}  // namespace
}  // namespace concierge::mud
