// The site runtime: one wiring of registrar, ownership and MUD state, as every caller opens it.
#include <algorithm>
#include <map>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/onboarding_world.h"
#include "site/registry_follower.h"

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
  auto device = site_.runtime->Registry().value()->Find("LOCK-1");
  ASSERT_TRUE(device) << device.error().ToString();
  ASSERT_TRUE(device->has_value()) << "the runtime took in the onboarded device";
  EXPECT_EQ((*device)->mud_url, kLockMud);
  EXPECT_EQ((*device)->url_source, registry::kSourceIdevid);
  // Decommissioned, it leaves the MUD manager too, on the runtime's next look.
  ASSERT_TRUE(site_.ownership->Decommission("LOCK-1", /*device_gone=*/true));
  ASSERT_TRUE(site_.runtime->SyncOnboarded());
  EXPECT_FALSE(site_.runtime->Registry().value()->Find("LOCK-1").value().has_value());
}

TEST_F(SiteTest, TheRegistryCatchesUpWithEnrollmentsAndDeparturesWhenRead) {
  ASSERT_TRUE(site_.runtime->Registry());  // the first read syncs every device there is
  auto enrolled = world_.MakePledge(MintWithMud("LOCK-5", kLockMud), site_).EnrollAndWait();
  ASSERT_TRUE(enrolled) << enrolled.error().ToString();
  // The next read applies only what the event feed carried: the certificate's issue.
  auto registry = site_.runtime->Registry();
  ASSERT_TRUE(registry) << registry.error().ToString();
  auto device = (*registry)->Find("LOCK-5");
  ASSERT_TRUE(device) << device.error().ToString();
  ASSERT_TRUE(device->has_value());
  EXPECT_EQ((*device)->serial, "LOCK-5");
  EXPECT_FALSE((*device)->maker.empty());
  EXPECT_EQ((*device)->mud_url, kLockMud);

  ASSERT_TRUE(site_.ownership->Decommission("LOCK-5", /*device_gone=*/true));
  registry = site_.runtime->Registry();
  ASSERT_TRUE(registry) << registry.error().ToString();
  EXPECT_FALSE((*registry)->Find("LOCK-5").value().has_value());
}

TEST_F(SiteTest, ARuntimeOpenedLaterFindsTheDevicesEnrolledBeforeIt) {
  ASSERT_TRUE(world_.MakePledge(MintWithMud("LOCK-6", kLockMud), site_).EnrollAndWait());
  // Another process on the same site heard none of it: its first read syncs every device.
  auto later = site::Site::Open(site_.directory.dir, world_.network, world_.clock, world_.random);
  ASSERT_TRUE(later) << later.error().ToString();
  auto registry = (*later)->Registry();
  ASSERT_TRUE(registry) << registry.error().ToString();
  auto device = (*registry)->Find("LOCK-6");
  ASSERT_TRUE(device) << device.error().ToString();
  ASSERT_TRUE(device->has_value());
  EXPECT_EQ((*device)->url_source, registry::kSourceIdevid);
}

TEST(RegistryFollowerTest, SyncsAllFirstAndAfterAnOverflowAndAppliesInOrderBetween) {
  std::vector<int64_t> applied;
  int syncs = 0;
  bool refuse = false;
  site::RegistryFollower follower(
      [&](const store::AuditRecord& record) -> Status {
        if (refuse) {
          return MakeError(ErrorCode::kUnavailable, "database busy");
        }
        applied.push_back(record.seq);
        return OkStatus();
      },
      [&]() -> Status {
        ++syncs;
        return OkStatus();
      });
  auto record = [](int64_t seq, std::string kind) {
    store::AuditRecord r;
    r.seq = seq;
    r.kind = std::move(kind);
    return r;
  };
  ASSERT_TRUE(follower.CatchUp());
  EXPECT_EQ(syncs, 1) << "a new follower starts from every device";
  follower.Queue(record(1, "certificate.issued"));
  follower.Queue(record(2, "voucher.received"));  // not the registry's business
  follower.Queue(record(3, "device.decommissioned"));
  EXPECT_EQ(follower.queued(), 2u);
  refuse = true;
  EXPECT_FALSE(follower.CatchUp());
  follower.Queue(record(4, "certificate.issued"));
  EXPECT_EQ(follower.queued(), 3u) << "what failed stays, ahead of what came since";
  refuse = false;
  ASSERT_TRUE(follower.CatchUp());
  EXPECT_EQ(applied, (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(syncs, 1);

  for (size_t i = 0; i <= site::RegistryFollower::kMaxQueued; ++i) {
    follower.Queue(record(10, "certificate.issued"));
  }
  EXPECT_LE(follower.queued(), 1u) << "a flood is not held in memory";
  ASSERT_TRUE(follower.CatchUp());
  EXPECT_EQ(syncs, 2);
  EXPECT_EQ(applied.size(), 3u) << "the full sync stands for the records it dropped";
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

TEST_F(SiteTest, TheEventFeedHearsEveryCommittedChangeInChainOrder) {
  std::vector<store::AuditRecord> heard;
  uint64_t id = site_.runtime->events().Subscribe(
      [&](const store::AuditRecord& record) { heard.push_back(record); });
  int64_t before = static_cast<int64_t>(site_.runtime->AuditEvents().value().size());
  ASSERT_TRUE(world_.MakePledge(MintWithMud("LOCK-8", kLockMud), site_).EnrollAndWait());
  // A refused change commits nothing and tells nothing.
  EXPECT_FALSE(site_.runtime->TrustMaker("Acme", maker_.directory.masa.maker_ca,
                                         registrar::Approval::kAuto));
  auto chain = site_.runtime->AuditEvents().value();
  ASSERT_EQ(heard.size(), chain.size() - static_cast<size_t>(before));
  for (size_t i = 0; i < heard.size(); ++i) {
    EXPECT_EQ(heard[i].seq, chain[static_cast<size_t>(before) + i].seq);
    EXPECT_EQ(heard[i].hash, chain[static_cast<size_t>(before) + i].hash);
  }
  std::set<std::string> kinds;
  for (const auto& record : heard) {
    kinds.insert(record.kind);
  }
  EXPECT_TRUE(kinds.contains("device.seen"));
  EXPECT_TRUE(kinds.contains("certificate.issued"));
  // The MUD manager's changes reach the same feed.
  size_t before_mud = heard.size();
  ASSERT_TRUE(site_.runtime->Mud());
  EXPECT_TRUE(std::any_of(heard.begin() + static_cast<ptrdiff_t>(before_mud), heard.end(),
                          [](const store::AuditRecord& record) {
                            return record.kind == "mud.url_assigned" &&
                                   record.subject == "device:LOCK-8";
                          }));

  site_.runtime->events().Unsubscribe(id);
  size_t count = heard.size();
  ASSERT_TRUE(world_.MakePledge(MintWithMud("LOCK-9", kLockMud), site_).EnrollAndWait());
  EXPECT_EQ(heard.size(), count);
}

TEST_F(SiteTest, WhatTheOperatorTellsTheAnalyzerIsCheckedAndAudited) {
  EXPECT_FALSE(site_.runtime->StoreThreatCatalogue("not a catalogue"));
  auto advisories = site_.runtime->StoreAdvisories({{"osv-bad.json", R"({"id": 5})"}});
  ASSERT_FALSE(advisories);
  EXPECT_THAT(advisories.error().message(), ::testing::HasSubstr("osv-bad.json"));

  std::vector<std::string> heard;
  site_.runtime->events().Subscribe([&](const store::AuditRecord& record) {
    heard.push_back(record.kind + " " + record.subject);
  });
  ASSERT_TRUE(site_.runtime->MarkWeakness("LOCK-10", "factory-credentials"));
  ASSERT_TRUE(site_.runtime->SetSoftware("LOCK-10", "busybox", "1.30.1"));
  ASSERT_TRUE(site_.runtime->UnmarkWeakness("LOCK-10", "factory-credentials"));
  ASSERT_EQ(heard.size(), 3u);
  EXPECT_EQ(heard[0], "exposure.marked device:LOCK-10");
  EXPECT_EQ(heard[2], "exposure.unmarked device:LOCK-10");
  EXPECT_FALSE(site_.runtime->MarkWeakness("", "factory-credentials"));
  EXPECT_EQ(heard.size(), 3u);
}

TEST_F(SiteTest, TrustMakerTakesOnlyACaCertificate) {
  auto leaf = MintWithMud("LOCK-4", kLockMud).idevid;
  auto refused = site_.runtime->TrustMaker("Leaf", leaf, registrar::Approval::kAuto);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(refused.error().message(), ::testing::HasSubstr("is not a CA certificate"));
  auto again =
      site_.runtime->TrustMaker("Acme", maker_.directory.masa.maker_ca, registrar::Approval::kAuto);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
}

TEST_F(SiteTest, AManualMakersDeviceWaitsInThePendingListUntilApproved) {
  auto& bolt = world_.AddMaker("Bolt");
  ASSERT_TRUE(site_.runtime->TrustMaker("Bolt", bolt.directory.masa.maker_ca,
                                        registrar::Approval::kManual));
  ASSERT_TRUE(world_.MakePledge(world_.Mint(maker_, "LOCK-5"), site_).EnrollAndWait());
  // The operator looks 7 s in, while the pledge waits out its Retry-After in simulated time.
  world_.clock.After(std::chrono::seconds(7), [&] {
    auto pending = site_.runtime->Devices("pending");
    ASSERT_TRUE(pending) << pending.error().ToString();
    ASSERT_EQ(pending->size(), 1u);
    EXPECT_EQ((*pending)[0].serial, "DOOR-1");
    EXPECT_EQ(site_.runtime->Devices().value().size(), 2u);
    ASSERT_TRUE(site_.runtime->ApproveDevice((*pending)[0].id, "local:test"));
    EXPECT_TRUE(site_.runtime->Devices("pending").value().empty());
  });
  auto result = world_.MakePledge(world_.Mint(bolt, "DOOR-1"), site_).EnrollAndWait();
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_GT(result->pending_rounds, 0);
  EXPECT_EQ(site_.runtime->Devices("enrolled").value().size(), 2u);
}

TEST_F(SiteTest, ADevicesAuditTrailIsFoundBySerialOrIdAndTheChainVerifies) {
  ASSERT_TRUE(world_.MakePledge(MintWithMud("LOCK-6", kLockMud), site_).EnrollAndWait());
  auto devices = site_.runtime->Devices().value();
  ASSERT_EQ(devices.size(), 1u);
  auto by_serial = site_.runtime->DeviceAuditTrail("LOCK-6");
  ASSERT_TRUE(by_serial) << by_serial.error().ToString();
  EXPECT_FALSE(by_serial->empty());
  auto by_id = site_.runtime->DeviceAuditTrail(std::to_string(devices[0].id));
  ASSERT_TRUE(by_id) << by_id.error().ToString();
  EXPECT_EQ(by_id->size(), by_serial->size());
  EXPECT_EQ(site_.runtime->DeviceAuditTrail("NOPE-1").error().code(), ErrorCode::kNotFound);

  auto all = site_.runtime->AuditEvents().value();
  auto verdict = site_.runtime->VerifyAudit();
  ASSERT_TRUE(verdict) << verdict.error().ToString();
  EXPECT_EQ(verdict->events, all.size());
  EXPECT_EQ(verdict->head, all.back().hash);
  ASSERT_TRUE(site_.runtime->store().database().Exec(
      "UPDATE audit_events SET detail = '{}' WHERE seq = 2"));
  auto broken = site_.runtime->VerifyAudit();
  ASSERT_FALSE(broken);
  EXPECT_THAT(broken.error().message(), ::testing::HasSubstr("audit record 2"));
}

TEST_F(SiteTest, DelegationsCarryTheirStateAtTheSitesClock) {
  ASSERT_TRUE(world_.MakePledge(world_.Mint(maker_, "LOCK-7"), site_).EnrollAndWait());
  auto key = crypto::PrivateKey::GenerateP256().value();
  auto other = crypto::PrivateKey::GenerateP256().value();
  SystemTime now = world_.clock.Now();
  auto lapsing = site_.runtime->GrantTenant("Flat 1", key.PublicKeyDer().value(), {"LOCK-7"}, now,
                                            now + std::chrono::hours(1));
  ASSERT_TRUE(lapsing) << lapsing.error().ToString();
  auto revoked = site_.runtime->GrantTenant("Flat 2", other.PublicKeyDer().value(), {"LOCK-7"}, now,
                                            now + std::chrono::hours(48));
  ASSERT_TRUE(revoked) << revoked.error().ToString();
  ASSERT_TRUE(site_.runtime->RevokeTenant(*revoked));
  EXPECT_FALSE(
      site_.runtime->GrantTenant("Flat 3", other.PublicKeyDer().value(), {"LOCK-7"}, now, now));

  auto states = [&] {
    std::map<int64_t, std::string> by_id;
    auto delegations = site_.runtime->Delegations().value();
    for (const auto& [delegation, state] : delegations) {
      by_id[delegation.id] = state;
    }
    return by_id;
  };
  auto later = site_.runtime->GrantTenant("Flat 4", other.PublicKeyDer().value(), {"LOCK-7"},
                                          now + std::chrono::hours(1), now + std::chrono::hours(2));
  ASSERT_TRUE(later) << later.error().ToString();
  EXPECT_EQ(states(), (std::map<int64_t, std::string>{
                          {*lapsing, "in force"}, {*revoked, "revoked"}, {*later, "scheduled"}}));
  world_.clock.Advance(std::chrono::hours(1));
  EXPECT_EQ(states(), (std::map<int64_t, std::string>{
                          {*lapsing, "expired"}, {*revoked, "revoked"}, {*later, "in force"}}));
}

// A device with no MUD URL is a member of the site all the same: the registry holds it, with
// its owner, its onboarding, its zone and the tenants whose delegations are in force.
TEST_F(SiteTest, ADevicesDetailJoinsItsRecordOnboardingZoneAndTenantsInForce) {
  ASSERT_TRUE(world_.MakePledge(world_.Mint(maker_, "LOCK-8"), site_).EnrollAndWait());
  auto key = crypto::PrivateKey::GenerateP256().value();
  SystemTime now = world_.clock.Now();
  ASSERT_TRUE(site_.runtime->GrantTenant("Flat 1", key.PublicKeyDer().value(), {"LOCK-8"}, now,
                                         now + std::chrono::hours(1)));
  ASSERT_TRUE(site_.runtime->SetZone("LOCK-8", "floor-2"));

  auto detail = site_.runtime->DescribeDevice("LOCK-8");
  ASSERT_TRUE(detail) << detail.error().ToString();
  EXPECT_EQ(detail->record.serial, "LOCK-8");
  EXPECT_EQ(detail->record.owner, "Home");
  EXPECT_EQ(detail->record.zone, "floor-2");
  EXPECT_TRUE(detail->record.mud_url.empty());
  ASSERT_TRUE(detail->onboarding.has_value());
  EXPECT_EQ(detail->onboarding->state, registrar::kStateEnrolled);
  EXPECT_EQ(detail->tenants, std::vector<std::string>{"Flat 1"});

  world_.clock.Advance(std::chrono::hours(1));
  EXPECT_TRUE(site_.runtime->DescribeDevice("LOCK-8").value().tenants.empty());
  auto missing = site_.runtime->DescribeDevice("LOCK-404");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(site_.runtime->SetZone("LOCK-404", "floor-2"));
}

}  // namespace
}  // namespace concierge
