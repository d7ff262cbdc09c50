// A whole onboarding (pledge, registrar and MASA logic) through typed in-memory transports on
// simulated time: no HTTP, no sockets, no sleeping. Waits of seconds to minutes (an operator's
// approval, a slow link) take as long as the code takes.
#include <iostream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/direct_transport.h"
#include "fakes/onboarding_world.h"
#include "store/audit_log.h"

namespace concierge {
namespace {

using testing::DirectConnector;
using ::testing::HasSubstr;
using testing::OnboardingWorld;

constexpr auto kLatency = std::chrono::milliseconds(40);

class SimulatedOnboardingTest : public ::testing::Test {
 protected:
  SimulatedOnboardingTest() : site_(world_.AddSite("Home")) {}

  testing::Maker& TrustMaker(const std::string& name, registrar::Approval approval,
                             masa::MasaPolicy policy = {}) {
    testing::Maker& maker = world_.AddMaker(name, policy);
    EXPECT_TRUE(site_.store->AddTrustedMaker(name, maker.directory.masa.maker_ca, approval));
    return maker;
  }

  DirectConnector Link(std::chrono::milliseconds latency) {
    return DirectConnector(*site_.service, *site_.ownership, world_.clock, world_.clock, latency);
  }

  registrar::DeviceRecord OnlyDevice() {
    auto devices = site_.store->ListDevices().value();
    EXPECT_EQ(devices.size(), 1u);
    return devices.empty() ? registrar::DeviceRecord{} : devices[0];
  }

  // TelemetryReasons lists what the pledge reported as failures, from the audit chain.
  std::vector<std::string> FailureReports() {
    std::vector<std::string> reasons;
    std::vector<store::AuditRecord> events =
        store::ReadAuditEvents(site_.store->database()).value();
    for (const auto& event : events) {
      if (event.kind.starts_with("telemetry.")) {
        Json detail = Json::parse(event.detail);
        if (!detail["status"].get<bool>()) {
          reasons.push_back(event.kind + ": " + detail["reason"].get<std::string>());
        }
      }
    }
    return reasons;
  }

  OnboardingWorld world_;
  testing::Site& site_;
};

TEST_F(SimulatedOnboardingTest, ApprovalWaitAdvancesSimulatedTimeWithoutSleeping) {
  auto& maker = TrustMaker("Careful", registrar::Approval::kManual);
  auto identity = world_.Mint(maker, "SIM-1");
  DirectConnector link = Link(kLatency);
  // The registrar answers "retry after 5 s" while the device waits for an operator, who
  // approves it 12 s after the pledge starts: between its third and fourth attempts.
  SystemTime start = world_.clock.Now();
  std::optional<SystemTime> approved_at;
  world_.clock.After(std::chrono::seconds(12), [&] {
    EXPECT_EQ(OnlyDevice().state, registrar::kStatePending);
    ASSERT_TRUE(site_.store->ApproveDevice(OnlyDevice().id, "local:test"));
    approved_at = world_.clock.Now();
  });

  pledge::Pledge pledge(identity, link, world_.clock, world_.clock, world_.random);
  auto steady_start = std::chrono::steady_clock::now();
  auto result = pledge.EnrollAndWait();
  auto real = std::chrono::steady_clock::now() - steady_start;

  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->pending_rounds, 3);
  ASSERT_TRUE(approved_at);
  EXPECT_GE(world_.clock.Now() - start, std::chrono::seconds(15));
  EXPECT_LT(world_.clock.Now() - start, std::chrono::seconds(16));
  EXPECT_EQ(world_.clock.PendingTimers(), 0u);
  EXPECT_TRUE(crypto::VerifyChain(result->ldevid, {}, {site_.directory.identity.domain_ca},
                                  {.at = world_.clock.Now()}));
  registrar::DeviceRecord device = OnlyDevice();
  EXPECT_EQ(device.state, registrar::kStateEnrolled) << "enrollstatus came over the LDevID";
  EXPECT_EQ(device.ldevid_serial, result->ldevid.SerialHex());
  EXPECT_EQ(device.address, "192.0.2.7");
  EXPECT_TRUE(FailureReports().empty());
  // Seconds of waiting, simulated: the run itself is crypto and SQLite only.
  std::cout << "15 s of simulated onboarding ran in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(real).count() << " ms\n";
}

TEST_F(SimulatedOnboardingTest, VoucherThatExpiresWhileThePledgeWaitsIsRefusedAndReported) {
  // Vouchers live 30 s; the link takes 45 s to deliver each answer (a sleepy device's radio).
  auto& maker = TrustMaker("Acme", registrar::Approval::kAuto,
                           masa::MasaPolicy{.voucher_lifetime = std::chrono::seconds(30)});
  auto identity = world_.Mint(maker, "SIM-2");
  DirectConnector link = Link(std::chrono::seconds(45));
  pledge::Pledge pledge(identity, link, world_.clock, world_.clock, world_.random);
  auto result = pledge.EnrollAndWait();

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kSecurity);
  EXPECT_THAT(result.error().message(), HasSubstr("voucher refused: voucher expired at"));
  EXPECT_THAT(FailureReports(),
              ::testing::ElementsAre(HasSubstr("telemetry.voucher_status: voucher refused: "
                                               "voucher expired at")));
  EXPECT_TRUE(OnlyDevice().ldevid_serial.empty()) << "no LDevID without a usable voucher";

  // The same pledge over a link faster than the voucher's life enrolls.
  DirectConnector fast = Link(kLatency);
  pledge::Pledge again(identity, fast, world_.clock, world_.clock, world_.random);
  auto enrolled = again.EnrollAndWait();
  ASSERT_TRUE(enrolled) << enrolled.error().ToString();
}

TEST_F(SimulatedOnboardingTest, PledgeGivesUpAfterItsLongestPendingWait) {
  auto& maker = TrustMaker("Careful", registrar::Approval::kManual);
  auto identity = world_.Mint(maker, "SIM-3");
  DirectConnector link = Link(kLatency);
  SystemTime start = world_.clock.Now();
  pledge::PledgeOptions options;
  options.max_pending_wait = std::chrono::seconds(60);
  pledge::Pledge pledge(identity, link, world_.clock, world_.clock, world_.random, options);
  auto result = pledge.EnrollAndWait();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kTimeout);
  EXPECT_THAT(result.error().message(), HasSubstr("pending for 60 s"));
  EXPECT_GE(world_.clock.Now() - start, std::chrono::seconds(60));
  EXPECT_EQ(OnlyDevice().state, registrar::kStatePending);
}

TEST_F(SimulatedOnboardingTest, TimersFireInDueOrderAndCancelledOnesNever) {
  SimulatedClock& clock = world_.clock;
  SystemTime start = clock.Now();
  std::vector<std::string> fired;
  clock.After(std::chrono::seconds(3), [&] { fired.push_back("3s"); });
  TimerId cancelled = clock.After(std::chrono::seconds(2), [&] { fired.push_back("2s"); });
  clock.After(std::chrono::seconds(1), [&] {
    fired.push_back("1s");
    // A timer set by a timer, due before the next one, fires first.
    clock.After(std::chrono::milliseconds(500), [&] { fired.push_back("1.5s"); });
  });
  clock.Cancel(cancelled);
  clock.Advance(std::chrono::seconds(2));
  EXPECT_THAT(fired, ::testing::ElementsAre("1s", "1.5s"));
  EXPECT_EQ(clock.Now() - start, std::chrono::seconds(2));
  clock.Advance(std::chrono::seconds(5));
  EXPECT_THAT(fired, ::testing::ElementsAre("1s", "1.5s", "3s"));
  EXPECT_EQ(clock.Now() - start, std::chrono::seconds(7));
  EXPECT_EQ(clock.PendingTimers(), 0u);
}

}  // namespace
}  // namespace concierge
