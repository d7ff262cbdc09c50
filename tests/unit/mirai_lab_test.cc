// The Mirai experiment over the 28 UNSW profiles x 4, every device seeded as a bot, 30
// simulated minutes: the analyzer stops the botnet on every seed without blocking a declared
// flow, while no protection and the experiment's relaxed MUD let it run.
#include <filesystem>

#include <gtest/gtest.h>

#include "lab/exposure_lab.h"
#include "lab/policy_lab.h"

namespace concierge::lab {
namespace {

class MiraiLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(DefaultMudDir())) {
      GTEST_SKIP() << "the UNSW profiles are not at " << DefaultMudDir()
                   << " (../shared/testdata beside the checkout)";
    }
    options_.site.mud_dir = DefaultMudDir();
    options_.site.threats = DefaultDataDir() / "threats" / "mirai-inxu.json";
    options_.credentials = DefaultDataDir() / "mirai-credentials.json";
  }

  MiraiLabMode Run(const std::string& mode, int runs) {
    options_.modes = {mode};
    options_.runs = runs;
    auto result = RunMiraiLab(options_);
    EXPECT_TRUE(result) << (result ? "" : result.error().ToString());
    return result && result->size() == 1 ? result->front() : MiraiLabMode{};
  }

  MiraiLabOptions options_;
};

TEST_F(MiraiLabTest, TheAnalyzerStopsTheBotnetOnTenSeedsAndKeepsEveryDeclaredFlow) {
  MiraiLabMode analyzer = Run("analyzer", 10);
  EXPECT_EQ(analyzer.devices, 112);
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
  MiraiLabMode none = Run("none", 1);
  EXPECT_GT(none.bots_with_cnc.mean, 100);
  EXPECT_GT(none.new_infections.mean, 10);
  EXPECT_GT(none.ddos_transmitted.mean, 1e6);
  EXPECT_EQ(none.ddos_generated.mean, none.ddos_transmitted.mean);
  MiraiLabMode relaxed = Run("mud-relaxed", 1);
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
  MiraiLabMode mud = Run("mud", 2);
  EXPECT_EQ(mud.bots_with_cnc.high, 0);
  EXPECT_EQ(mud.ddos_generated.high, 0);
  EXPECT_EQ(mud.legit_flows_blocked, 0u);
  MiraiLabMode stateless = Run("mud-stateless", 2);
  EXPECT_GT(stateless.bots_with_cnc.mean, 0);
  EXPECT_LT(stateless.bots_with_cnc.mean, 20) << "exact ports still keep most bots from it";
  EXPECT_GT(stateless.ddos_generated.mean, 0);
  EXPECT_EQ(stateless.legit_flows_total, mud.legit_flows_total);
  EXPECT_EQ(stateless.legit_flows_blocked, 0u);
}

}  // namespace
}  // namespace concierge::lab
