// The libnftables back end against the real kernel, in a network namespace of the test's own
// (needs root; skipped, with the reason, when namespaces cannot be made).
#include <sched.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "firewall/firewall.h"
#include "firewall/nft_ruleset.h"
#include "mud/compiler.h"
#include "mud/mud_parser.h"
#include "mud/site_facts_json.h"

namespace concierge::firewall {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kGoldenDir = CONCIERGE_GOLDEN_DIR;

// Why the suite skips; set once, before the tests run.
std::string skip_reason;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

class NftablesFirewallTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The whole test process moves into a fresh namespace once: nothing it does can touch the
    // machine's own firewall.
    if (unshare(CLONE_NEWNET) != 0) {
      skip_reason = "cannot create a network namespace: " +
                    std::error_code(errno, std::system_category()).message() +
                    " (run as root to test the nftables back end)";
    }
  }

  void SetUp() override {
    if (!skip_reason.empty()) {
      GTEST_SKIP() << skip_reason;
    }
    auto opened = OpenNftables();
    ASSERT_TRUE(opened) << opened.error().ToString();
    firewall_ = std::move(*opened);
  }

  static std::string Compile(const std::vector<std::filesystem::path>& paths,
                             const std::string& facts_json) {
    std::vector<mud::MudFile> files;
    for (const auto& path : paths) {
      auto file = mud::ParseMudJson(ReadFile(path).value_or(""));
      EXPECT_TRUE(file) << path;
      files.push_back(file.value_or(mud::MudFile{}));
    }
    auto site = mud::ParseSiteFactsJson(facts_json);
    EXPECT_TRUE(site);
    auto policy = mud::CompilePolicy(files, site->facts, site->names);
    EXPECT_TRUE(policy) << (policy ? "" : policy.error().ToString());
    return policy ? RenderRuleset(*policy) : "";
  }

  std::unique_ptr<Firewall> firewall_;
};

TEST_F(NftablesFirewallTest, AppliesTheGoldenSiteAndReappliesIdempotently) {
  auto ruleset = ReadFile(std::filesystem::path(kGoldenDir) / "site.nft");
  ASSERT_TRUE(ruleset);
  ASSERT_TRUE(firewall_->Replace(*ruleset)) << firewall_->Replace(*ruleset).error().ToString();
  auto first = firewall_->Current();
  ASSERT_TRUE(first);
  EXPECT_THAT(*first, HasSubstr("10.0.2.20 : jump mud_7fec6a6e5a_from4"));
  ASSERT_TRUE(firewall_->Replace(*ruleset));
  EXPECT_EQ(firewall_->Current().value_or(""), *first);
}

TEST_F(NftablesFirewallTest, ExposureBlocksLoadBeforeTheDeviceChains) {
  mud::Policy policy;
  auto address = [](std::string_view text) { return IpNetwork::Parse(text).value_or(IpNetwork{}); };
  policy.blocks.push_back({"mirai-telnet",
                           "telnet with factory credentials",
                           6,
                           {23, 2323},
                           {},
                           {address("10.0.2.20"), address("fd00::20")}});
  policy.blocks.push_back(
      {"mirai-cnc", "C&C", 6, {2030}, {address("10.0.0.0/8")}, {address("192.0.2.1")}});
  ASSERT_TRUE(firewall_->Replace(RenderRuleset(policy)));
  std::string loaded = firewall_->Current().value_or("");
  EXPECT_THAT(loaded, HasSubstr("type filter hook forward priority filter - 10"));
  EXPECT_THAT(loaded, HasSubstr("ip daddr @block_0_dst_4 tcp dport { 23, 2323 } counter"));
  EXPECT_THAT(loaded, HasSubstr("ip6 daddr @block_0_dst_6 tcp dport { 23, 2323 }"));
  EXPECT_THAT(loaded, HasSubstr("ip saddr @block_1_src_4 ip daddr @block_1_dst_4 tcp dport 2030"));
  EXPECT_THAT(loaded, Not(HasSubstr("block_1_src_6")));
}

TEST_F(NftablesFirewallTest, AQuarantineLoadsBeforeEverythingElseAndSparesAddressConfiguration) {
  mud::Policy policy;
  auto address = [](std::string_view text) { return IpNetwork::Parse(text).value_or(IpNetwork{}); };
  policy.quarantines.push_back({"CAM-1", "scanning \"port\" 23", {address("10.0.2.20")}});
  policy.quarantines.push_back({"CAM-2", "v6", {address("fd00::20"), address("10.0.2.21")}});
  std::string ruleset = RenderRuleset(policy);
  ASSERT_TRUE(firewall_->Replace(ruleset)) << ruleset;
  std::string loaded = firewall_->Current().value_or("");
  EXPECT_THAT(loaded, HasSubstr("type filter hook forward priority -20"));
  EXPECT_THAT(loaded, HasSubstr("ip saddr @quarantine_4 counter packets 0 bytes 0 drop"));
  EXPECT_THAT(loaded, HasSubstr("ip6 daddr @quarantine_6 counter packets 0 bytes 0 drop"));
  EXPECT_THAT(loaded, HasSubstr("udp sport 68 udp dport 67 accept"));
  EXPECT_THAT(ruleset, HasSubstr("# quarantined: CAM-1: scanning \"port\" 23"));
  // A quarantined device without any address yet renders no chain at all.
  mud::Policy nowhere;
  nowhere.quarantines.push_back({"CAM-3", "not seen yet", {}});
  EXPECT_THAT(RenderRuleset(nowhere), Not(HasSubstr("chain quarantine")));
}

TEST_F(NftablesFirewallTest, ARefusedRulesetLeavesTheOldOneInForce) {
  auto ruleset = ReadFile(std::filesystem::path(kGoldenDir) / "site.nft");
  ASSERT_TRUE(ruleset);
  ASSERT_TRUE(firewall_->Replace(*ruleset));
  std::string before = firewall_->Current().value_or("");
  std::string broken = *ruleset;
  broken.replace(broken.find("tcp dport 443"), 13, "tcp dport 99999");
  auto status = firewall_->Replace(broken);
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message(), HasSubstr("nftables refused the ruleset"));
  EXPECT_FALSE(firewall_->Check(broken));
  EXPECT_EQ(firewall_->Current().value_or(""), before);
}

TEST_F(NftablesFirewallTest, EveryPublicProfileLoadsIntoTheKernel) {
  std::filesystem::path dir = std::filesystem::path(CONCIERGE_SHARED_TESTDATA) / "mud";
  if (!std::filesystem::is_directory(dir)) {
    GTEST_SKIP() << "shared MUD test data not found at " << dir;
  }
  size_t loaded = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".json") {
      continue;
    }
    auto file = mud::ParseMudJson(ReadFile(entry.path()).value_or(""));
    if (!file) {
      continue;  // refused by the parser; the parser tests cover those
    }
    std::string facts = R"({"local-networks": ["192.168.0.0/16", "fd00::/8"],
      "controllers": {"urn:ietf:params:mud:dns": ["192.168.1.1"],
                      "urn:ietf:params:mud:gateway": ["192.168.1.1"]},
      "devices": [{"name": "d", "mud-url": ")" +
                        file->mud_url + R"(", "addresses": ["192.168.1.2", "fd00::2"]}]})";
    std::string ruleset = Compile({entry.path()}, facts);
    auto status = firewall_->Check(ruleset);
    EXPECT_TRUE(status) << entry.path() << ": " << (status ? "" : status.error().ToString());
    ++loaded;
  }
  EXPECT_GE(loaded, 61u);
}

}  // namespace
}  // namespace concierge::firewall
