// Tenants through the site's real request path: a delegation lets a tenant key operate its own
// devices until it expires (by the injected clock) or is revoked; it never lets the tenant see
// another tenant's devices or do what stays with the owner.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cose/cbor.h"
#include "cose/sign1.h"
#include "fakes/onboarding_world.h"
#include "ownership/delegation.h"

namespace concierge::testing {
namespace {

using ownership::TenantOperation;
using ::testing::HasSubstr;

class TenantTest : public ::testing::Test {
 protected:
  TenantTest() : maker_(world_.AddMaker("Acme")), site_(world_.AddSite("Building")) {
    EXPECT_TRUE(site_.store->AddTrustedMaker("Acme", maker_.directory.masa.maker_ca,
                                             registrar::Approval::kAuto));
    for (const char* serial : {"FLAT1-LOCK", "FLAT1-HEAT", "FLAT2-LOCK", "LIFT"}) {
      auto enrolled = world_.MakePledge(world_.Mint(maker_, serial), site_).EnrollAndWait();
      EXPECT_TRUE(enrolled) << enrolled.error().ToString();
    }
    int64_t now = ToUnixSeconds(world_.clock.Now());
    flat1_ = Grant("Flat 1", flat1_key_, {"FLAT1-LOCK", "FLAT1-HEAT"}, now + 3600);
    flat2_ = Grant("Flat 2", flat2_key_, {"FLAT2-LOCK"}, now + int64_t{7} * 86400);
  }

  int64_t Grant(const std::string& tenant, const crypto::PrivateKey& key,
                const std::vector<std::string>& devices, int64_t until) {
    auto id = site_.store->AddDelegation(tenant, key.PublicKeyDer().value(), devices,
                                         ToUnixSeconds(world_.clock.Now()), until);
    EXPECT_TRUE(id) << id.error().ToString();
    return id.value_or(0);
  }

  Result<Json> Ask(const crypto::PrivateKey& key, TenantOperation operation,
                   const std::string& device = "", int64_t issued_at = 0) {
    ownership::TenantRequest request{operation, device,
                                     issued_at != 0 ? issued_at : NextRequestTime()};
    ASSIGN_OR_RETURN(Bytes signed_request, ownership::SignTenantRequest(key, request));
    return site_.ownership->TenantRequest(signed_request);
  }

  int64_t NextRequestTime() { return ToUnixMillis(world_.clock.Now()) + ++sequence_; }

  static std::vector<std::string> Serials(const Json& answer) {
    std::vector<std::string> serials;
    for (const auto& device : answer["devices"]) {
      serials.push_back(device["serial"].get<std::string>());
    }
    return serials;
  }

  OnboardingWorld world_;
  Maker& maker_;
  Site& site_;
  crypto::PrivateKey flat1_key_ = crypto::PrivateKey::GenerateP256().value();
  crypto::PrivateKey flat2_key_ = crypto::PrivateKey::GenerateP256().value();
  int64_t flat1_ = 0;
  int64_t flat2_ = 0;
  int64_t sequence_ = 0;
};

TEST_F(TenantTest, ATenantSeesAndOperatesOnlyItsOwnDevices) {
  auto listed = Ask(flat1_key_, TenantOperation::kList);
  ASSERT_TRUE(listed) << listed.error().ToString();
  EXPECT_THAT(Serials(*listed), ::testing::UnorderedElementsAre("FLAT1-LOCK", "FLAT1-HEAT"));
  auto status = Ask(flat1_key_, TenantOperation::kStatus, "FLAT1-LOCK");
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_EQ((*status)["devices"][0]["state"], "enrolled");
  auto audit = Ask(flat1_key_, TenantOperation::kAudit, "FLAT1-HEAT");
  ASSERT_TRUE(audit) << audit.error().ToString();
  EXPECT_FALSE((*audit)["devices"][0]["history"].empty());

  for (const char* other : {"FLAT2-LOCK", "LIFT", "NO-SUCH-DEVICE"}) {
    auto refused = Ask(flat1_key_, TenantOperation::kStatus, other);
    ASSERT_FALSE(refused) << other;
    // The same words whether the device is another tenant's, the owner's or absent.
    EXPECT_THAT(refused.error().message(), HasSubstr("is not delegated to this tenant"));
  }
  auto listed2 = Ask(flat2_key_, TenantOperation::kList);
  ASSERT_TRUE(listed2);
  EXPECT_THAT(Serials(*listed2), ::testing::ElementsAre("FLAT2-LOCK"));
}

TEST_F(TenantTest, TransferDecommissionAndTheftReportsStayWithTheOwner) {
  for (auto operation : {TenantOperation::kTransfer, TenantOperation::kDecommission,
                         TenantOperation::kReportStolen}) {
    auto refused = Ask(flat1_key_, operation, "FLAT1-LOCK");
    ASSERT_FALSE(refused);
    EXPECT_THAT(refused.error().message(), HasSubstr("that stays with the owner"));
  }
}

TEST_F(TenantTest, ADelegationExpiresByTheClockAndCanBeRevokedEarly) {
  ASSERT_TRUE(Ask(flat1_key_, TenantOperation::kList));
  world_.clock.Advance(std::chrono::hours(2));
  auto expired = Ask(flat1_key_, TenantOperation::kStatus, "FLAT1-LOCK");
  ASSERT_FALSE(expired);
  EXPECT_THAT(expired.error().message(), HasSubstr("delegation expired at"));
  ASSERT_TRUE(Ask(flat2_key_, TenantOperation::kList)) << "Flat 2's week is not over";

  ASSERT_TRUE(site_.store->RevokeDelegation(flat2_));
  auto revoked = Ask(flat2_key_, TenantOperation::kList);
  ASSERT_FALSE(revoked);
  EXPECT_THAT(revoked.error().message(), HasSubstr("delegation revoked at"));
  EXPECT_FALSE(site_.store->RevokeDelegation(flat2_)) << "revoking twice is refused";
}

TEST_F(TenantTest, StrangersReplaysAndStaleRequestsAreRefused) {
  auto stranger = crypto::PrivateKey::GenerateP256().value();
  auto refused = Ask(stranger, TenantOperation::kList);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("not signed by any tenant"));

  int64_t at = NextRequestTime();
  ASSERT_TRUE(Ask(flat1_key_, TenantOperation::kList, "", at));
  auto replayed = Ask(flat1_key_, TenantOperation::kList, "", at);
  ASSERT_FALSE(replayed);
  EXPECT_THAT(replayed.error().message(), HasSubstr("replayed"));

  auto stale =
      Ask(flat1_key_, TenantOperation::kList, "", ToUnixMillis(world_.clock.Now()) - 3600000);
  ASSERT_FALSE(stale);
  EXPECT_THAT(stale.error().message(), HasSubstr("more than 5 minutes"));
}

TEST_F(TenantTest, ARenewedGrantForTheSameKeyTakesOverWhenTheOldOneEnds) {
  world_.clock.Advance(std::chrono::hours(2));
  ASSERT_FALSE(Ask(flat1_key_, TenantOperation::kList)) << "the first grant has expired";
  Grant("Flat 1", flat1_key_, {"FLAT1-LOCK"}, ToUnixSeconds(world_.clock.Now()) + 86400);
  auto listed = Ask(flat1_key_, TenantOperation::kList);
  ASSERT_TRUE(listed) << listed.error().ToString();
  EXPECT_THAT(Serials(*listed), ::testing::ElementsAre("FLAT1-LOCK"));
  auto dropped = Ask(flat1_key_, TenantOperation::kStatus, "FLAT1-HEAT");
  ASSERT_FALSE(dropped);
  EXPECT_THAT(dropped.error().message(), HasSubstr("is not delegated to this tenant"));
}

TEST_F(TenantTest, AKeyHasOneDelegationInForceAtATime) {
  int64_t now = ToUnixSeconds(world_.clock.Now());
  auto overlapping = site_.store->AddDelegation("Flat 1 again", flat1_key_.PublicKeyDer().value(),
                                                {"LIFT"}, now, now + 60);
  ASSERT_FALSE(overlapping);
  EXPECT_THAT(overlapping.error().message(), HasSubstr("already has delegation"));
  // After it: allowed, and a request accepted under one delegation is not replayable under the
  // next, even inside the freshness window.
  ASSERT_TRUE(site_.store->AddDelegation("Flat 1", flat1_key_.PublicKeyDer().value(),
                                         {"FLAT1-LOCK"}, now + 3600, now + 7200));
  world_.clock.Advance(std::chrono::seconds(3600 - 60));
  int64_t two_minutes_ahead = ToUnixMillis(world_.clock.Now()) + 120000;
  ASSERT_TRUE(Ask(flat1_key_, TenantOperation::kStatus, "FLAT1-HEAT", two_minutes_ahead));
  world_.clock.Advance(std::chrono::seconds(61));
  auto replayed = Ask(flat1_key_, TenantOperation::kStatus, "FLAT1-LOCK", two_minutes_ahead);
  ASSERT_FALSE(replayed);
  EXPECT_THAT(replayed.error().message(), HasSubstr("replayed"));
  auto listed = Ask(flat1_key_, TenantOperation::kList, "", two_minutes_ahead + 1);
  ASSERT_TRUE(listed) << listed.error().ToString();
  EXPECT_THAT(Serials(*listed), ::testing::ElementsAre("FLAT1-LOCK")) << "the second grant";
}

TEST_F(TenantTest, ARequestMustNameItsKey) {
  ownership::TenantRequest request{TenantOperation::kList, "", NextRequestTime()};
  cose::CborPtr payload =
      cose::BuildArray({cose::BuildInt(0).release(), cose::BuildText("").release(),
                        cose::BuildInt(request.issued_at).release()});
  Bytes unnamed =
      cose::SignSign1(flat1_key_.get(), cose::EncodeCbor(payload.get()).value()).value();
  auto refused = site_.ownership->TenantRequest(unnamed);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("does not name its key"));
}

TEST_F(TenantTest, GrantsNameRealDevicesAndAnEnd) {
  int64_t now = ToUnixSeconds(world_.clock.Now());
  auto flat3_key = crypto::PrivateKey::GenerateP256().value();
  EXPECT_FALSE(site_.store->AddDelegation("Flat 3", flat3_key.PublicKeyDer().value(), {"NOPE"}, now,
                                          now + 60));
  EXPECT_FALSE(
      site_.store->AddDelegation("Flat 3", flat3_key.PublicKeyDer().value(), {"LIFT"}, now, now));
  EXPECT_EQ(site_.store->ListDelegations().value().size(), 2u) << "refused grants left nothing";
}

}  // namespace
}  // namespace concierge::testing
