// The site runtime: one wiring of registrar, ownership and MUD state, as every caller opens it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/onboarding_world.h"

namespace concierge {
namespace {

using testing::OnboardingWorld;

constexpr std::string_view kLockMud = "https://mud.example.com/lock.json";

class SiteTest : public ::testing::Test {
 protected:
  SiteTest() : maker_(world_.AddMaker("Acme")), site_(world_.AddSite("Home")) {
    EXPECT_TRUE(site_.store->AddTrustedMaker("Acme", maker_.directory.masa.maker_ca,
                                             registrar::Approval::kAuto));
  }

  pledge::PledgeIdentity MintWithMud(const std::string& serial, std::string_view mud_url) {
    auto minted =
        masa::MintIdevid(maker_.directory, *maker_.store,
                         {serial, std::string(mud_url), std::nullopt}, world_.clock, world_.random);
    EXPECT_TRUE(minted) << minted.error().ToString();
    return {minted->idevid, minted->key, {}, {maker_.directory.masa.maker_ca}};
  }

  OnboardingWorld world_;
  testing::Maker& maker_;
  testing::Site& site_;
};

TEST_F(SiteTest, DeviceEnrolledThroughTheRuntimeReachesItsMudManager) {
  auto enrolled = world_.MakePledge(MintWithMud("LOCK-1", kLockMud), site_).EnrollAndWait();
  ASSERT_TRUE(enrolled) << enrolled.error().ToString();
  auto manager = site_.runtime->Mud();
  ASSERT_TRUE(manager) << manager.error().ToString();
  auto device = site_.runtime->mud_store().FindDevice("LOCK-1");
  ASSERT_TRUE(device) << device.error().ToString();
  ASSERT_TRUE(device->has_value()) << "the runtime took in the onboarded device";
  EXPECT_EQ((*device)->mud_url, kLockMud);
  EXPECT_EQ((*device)->url_source, mud::kSourceIdevid);
  // Decommissioned, it leaves the MUD manager too, on the runtime's next look.
  ASSERT_TRUE(site_.ownership->Decommission("LOCK-1", /*device_gone=*/true));
  ASSERT_TRUE(site_.runtime->SyncOnboarded());
  EXPECT_FALSE(site_.runtime->mud_store().FindDevice("LOCK-1").value().has_value());
}

TEST_F(SiteTest, ADeviceWhoseMudFileIsNotYetFetchedIsLeftUnmanaged) {
  ASSERT_TRUE(world_.MakePledge(MintWithMud("LOCK-3", kLockMud), site_).EnrollAndWait());
  auto manager = site_.runtime->Mud();
  ASSERT_TRUE(manager) << manager.error().ToString();
  auto compiled = (*manager)->Compile();
  ASSERT_TRUE(compiled) << compiled.error().ToString();
  ASSERT_EQ(compiled->unmanaged.size(), 1u);
  EXPECT_EQ(compiled->unmanaged[0].first, "LOCK-3");
}

}  // namespace
}  // namespace concierge
