// The Mirai experiment over the 28 UNSW profiles x 4, every device seeded as a bot, 30
// simulated minutes: the analyzer stops the botnet on every seed without blocking a declared
// flow, while no protection and the experiment's relaxed MUD let it run.
#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "lab/exposure_lab.h"
#include "lab/policy_lab.h"

namespace concierge::lab {
namespace {

// The experiment is run once for the suite (building the site costs more than simulating it
// under the sanitizers): the analyzer over ten seeds and the full 30 minutes, the other modes
// over two seeds on a shortened timeline (loader from minute 1, floods from minute 6) in which
// every phase still happens.
class MiraiLabTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(DefaultMudDir())) {
      return;
    }
    MiraiLabOptions options;
    options.site.mud_dir = DefaultMudDir();
    options.site.threats = DefaultDataDir() / "threats" / "mirai-inxu.json";
    options.credentials = DefaultDataDir() / "mirai-credentials.json";
    options.modes = {"analyzer"};
    options.runs = 10;
    Collect(RunMiraiLab(options));
    options.modes = {"none", "mud", "mud-stateless", "mud-relaxed"};
    options.runs = 2;
    options.parameters.minutes = 10;
    options.parameters.loader_first_minute = 1;
    options.parameters.loader_every_minutes = 1;
    options.parameters.attacks_minute = 6;
    Collect(RunMiraiLab(options));
  }

  static void Collect(const Result<std::vector<MiraiLabMode>>& result) {
    if (!result) {
      suite_error = result.error().ToString();
      return;
    }
    for (const MiraiLabMode& mode : *result) {
      suite_results[mode.mode] = mode;
    }
  }

  void SetUp() override {
    if (!std::filesystem::exists(DefaultMudDir())) {
      GTEST_SKIP() << "the UNSW profiles are not at " << DefaultMudDir()
                   << " (../shared/testdata beside the checkout)";
    }
    ASSERT_EQ(suite_error, "");
  }

  static const MiraiLabMode& Mode(const std::string& name) { return suite_results.at(name); }

  static inline std::map<std::string, MiraiLabMode> suite_results;
  static inline std::string suite_error;
};

TEST_F(MiraiLabTest, TheAnalyzerStopsTheBotnetOnTenSeedsAndKeepsEveryDeclaredFlow) {
  const MiraiLabMode& analyzer = Mode("analyzer");
  EXPECT_EQ(analyzer.devices, 112);
  EXPECT_EQ(analyzer.runs, 10);
  for (const Interval* metric :
       {&analyzer.bots_with_cnc, &analyzer.new_infections, &analyzer.hosts_scanned,
        &analyzer.ddos_generated, &analyzer.ddos_transmitted}) {
    EXPECT_EQ(metric->high, 0) << "every run must be zero";
  }
  EXPECT_GT(analyzer.blocks, 0u);
  EXPECT_GT(analyzer.legit_flows_total, 1000u);
  EXPECT_EQ(analyzer.legit_flows_blocked, 0u);
}

TEST_F(MiraiLabTest, WithoutProtectionOrUnderRelaxedMudTheBotnetRuns) {
  const MiraiLabMode& none = Mode("none");
  EXPECT_GT(none.bots_with_cnc.mean, 100);
  EXPECT_GT(none.new_infections.mean, 10);
  EXPECT_GT(none.ddos_transmitted.mean, 1e6);
  EXPECT_EQ(none.ddos_generated.mean, none.ddos_transmitted.mean);
  const MiraiLabMode& relaxed = Mode("mud-relaxed");
  EXPECT_GT(relaxed.bots_with_cnc.mean, 10);
  EXPECT_LT(relaxed.bots_with_cnc.mean, none.bots_with_cnc.mean);
  EXPECT_GT(relaxed.hosts_scanned.mean, 0);
  EXPECT_GT(relaxed.ddos_transmitted.mean, 0);
  EXPECT_LT(relaxed.ddos_transmitted.mean, relaxed.ddos_generated.mean);
  EXPECT_EQ(relaxed.legit_flows_blocked, 0u);
}

// The samsungsmartcam profile lets its device send from ports 30000-65500 to any local host;
// the replies come back only through the to-device entries marked direction-initiated. Enforced
// through conntrack (mud) a bot's C&C connection gets no answer; on a switch without connection
// tracking (mud-stateless) it does.
TEST_F(MiraiLabTest, DirectionInitiatedIsWhatKeepsFaithfulMudFromTheCnc) {
  const MiraiLabMode& mud = Mode("mud");
  EXPECT_EQ(mud.bots_with_cnc.high, 0);
  EXPECT_EQ(mud.ddos_generated.high, 0);
  EXPECT_EQ(mud.legit_flows_blocked, 0u);
  const MiraiLabMode& stateless = Mode("mud-stateless");
  EXPECT_GT(stateless.bots_with_cnc.mean, 0);
  EXPECT_LT(stateless.bots_with_cnc.mean, 20) << "exact ports still keep most bots from it";
  EXPECT_GT(stateless.ddos_generated.mean, 0);
  EXPECT_EQ(stateless.legit_flows_total, mud.legit_flows_total);
  EXPECT_EQ(stateless.legit_flows_blocked, 0u);
}

}  // namespace
}  // namespace concierge::lab
