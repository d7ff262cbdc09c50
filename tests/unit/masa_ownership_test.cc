// The MASA's ownership decisions, through the real onboarding path: a device moves to a new
// owner only by its owner's signed transfer, by its escrow agents, or after a release; a
// reported theft stops every voucher; replays and impostors change nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/onboarding_world.h"
#include "masa/masa_http.h"
#include "ownership/chain.h"
#include "ownership/statement.h"

namespace concierge::testing {
namespace {

using ownership::Action;
using ownership::EntryKind;
using ownership::OwnershipChain;
using ownership::Statement;
using ::testing::HasSubstr;

class MasaOwnershipTest : public ::testing::Test {
 protected:
  MasaOwnershipTest()
      : maker_(world_.AddMaker("Acme")),
        old_site_(AddTrustingSite("Old Owner")),
        new_site_(AddTrustingSite("New Owner")),
        device_(world_.Mint(maker_, "LIFT-1")) {
    EXPECT_TRUE(Enroll(old_site_));
  }

  Site& AddTrustingSite(const std::string& name) {
    Site& site = world_.AddSite(name);
    EXPECT_TRUE(site.store->AddTrustedMaker("Acme", maker_.directory.masa.maker_ca,
                                            registrar::Approval::kAuto));
    return site;
  }

  Status Enroll(Site& site) {
    auto result = world_.MakePledge(device_, site).EnrollAndWait();
    if (!result) {
      return std::unexpected(result.error());
    }
    return OkStatus();
  }

  static const crypto::PrivateKey& OwnerKey(Site& site) {
    return site.directory.identity.domain_ca_key;
  }

  static Bytes OwnerPublicKey(Site& site) {
    return site.directory.identity.domain_ca.PublicKeyDer().value();
  }

  OwnershipChain::Authorities Authorities() { return {maker_.service->maker_key()}; }

  OwnershipChain RecordedChain() {
    Bytes bytes = maker_.service->OwnershipChain("LIFT-1").value();
    return OwnershipChain::Decode(bytes, Authorities()).value();
  }

  // The owner signs a hand-over to `to` and hands the chain to the MASA.
  Status Transfer(Site& from, Site& to) {
    OwnershipChain chain = RecordedChain();
    RETURN_IF_ERROR(chain.Extend(OwnerKey(from), OwnerPublicKey(to), EntryKind::kTransfer,
                                 world_.clock.Now(), Authorities()));
    ASSIGN_OR_RETURN(Bytes bytes, chain.Encode());
    return maker_.service->SubmitChain(bytes);
  }

  static Statement Of(Action action) {
    Statement statement;
    statement.action = action;
    return statement;
  }

  Result<std::string> Say(const crypto::PrivateKey& key, Statement statement) {
    statement.device_id = "LIFT-1";
    if (statement.issued_at == 0) {
      statement.issued_at = ToUnixMillis(world_.clock.Now()) + ++sequence_;
    }
    ASSIGN_OR_RETURN(Bytes bytes, ownership::SignStatement(key, statement));
    return maker_.service->SubmitStatement(bytes);
  }

  OnboardingWorld world_;
  Maker& maker_;
  Site& old_site_;
  Site& new_site_;
  pledge::PledgeIdentity device_;
  int64_t sequence_ = 0;
};

TEST_F(MasaOwnershipTest, TheFirstClaimIsASaleEntrySignedByTheMaker) {
  OwnershipChain chain = RecordedChain();
  ASSERT_EQ(chain.entries().size(), 1u);
  EXPECT_EQ(chain.entries()[0].kind, EntryKind::kSale);
  EXPECT_TRUE(chain.OwnedBy(OwnerPublicKey(old_site_)));
  EXPECT_EQ(chain.header().device_id, "LIFT-1");
}

TEST_F(MasaOwnershipTest, OrderlyTransferNeedsNoMakerAndLocksTheOldOwnerOut) {
  ASSERT_FALSE(Enroll(new_site_));
  ASSERT_TRUE(Transfer(old_site_, new_site_));
  Status moved = Enroll(new_site_);
  ASSERT_TRUE(moved) << moved.error().ToString();
  auto old_again = Enroll(old_site_);
  ASSERT_FALSE(old_again);
  EXPECT_THAT(old_again.error().message(), HasSubstr("owned by another domain"));

  // The old owner cannot sign the device back: it is no longer the owner of record.
  auto reclaim = Transfer(old_site_, old_site_);
  ASSERT_FALSE(reclaim);
  EXPECT_THAT(reclaim.error().message(), HasSubstr("owner of record"));
}

TEST_F(MasaOwnershipTest, ReplayedAndForkedChainsAreRefused) {
  Bytes before = maker_.service->OwnershipChain("LIFT-1").value();
  ASSERT_TRUE(Transfer(old_site_, new_site_));
  Bytes after = maker_.service->OwnershipChain("LIFT-1").value();
  auto replay = maker_.service->SubmitChain(before);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code(), ErrorCode::kSecurity);
  EXPECT_THAT(replay.error().message(), HasSubstr("replayed or forked"));
  // A fork: the old owner's second hand-over, signed before the first was recorded.
  OwnershipChain fork = OwnershipChain::Decode(before, Authorities()).value();
  ASSERT_TRUE(fork.Extend(OwnerKey(old_site_), OwnerPublicKey(old_site_), EntryKind::kTransfer,
                          world_.clock.Now(), Authorities()));
  EXPECT_FALSE(maker_.service->SubmitChain(fork.Encode().value()));
  EXPECT_EQ(maker_.service->OwnershipChain("LIFT-1").value(), after) << "nothing changed";
  EXPECT_TRUE(maker_.service->SubmitChain(after)) << "resubmitting the record is harmless";
}

// A hand-over dated far ahead used to be recorded; every later, correctly dated one was then
// "dated before the entry it follows", so the device could never move again.
TEST_F(MasaOwnershipTest, EntriesDatedFarFromTheMasasClockAreRefusedBeforeTheyAreRecorded) {
  Bytes before = maker_.service->OwnershipChain("LIFT-1").value();
  world_.clock.Advance(std::chrono::hours(48));  // so that "25 hours ago" is after the sale
  using Years = std::chrono::years;
  for (auto [offset, limit] :
       {std::pair{std::chrono::duration_cast<std::chrono::seconds>(Years(5000)),
                  "ahead of the clock"},
        std::pair{std::chrono::duration_cast<std::chrono::seconds>(std::chrono::minutes(6)),
                  "more than 5 minutes ahead"},
        std::pair{-std::chrono::duration_cast<std::chrono::seconds>(std::chrono::hours(25)),
                  "more than 24 hours before"}}) {
    OwnershipChain chain = RecordedChain();
    ASSERT_TRUE(chain.Extend(OwnerKey(old_site_), OwnerPublicKey(new_site_), EntryKind::kTransfer,
                             world_.clock.Now() + offset, Authorities()));
    auto refused = maker_.service->SubmitChain(chain.Encode().value());
    ASSERT_FALSE(refused) << limit;
    EXPECT_THAT(refused.error().message(), HasSubstr(limit));
    EXPECT_EQ(maker_.service->OwnershipChain("LIFT-1").value(), before) << "nothing recorded";
  }
  ASSERT_TRUE(Transfer(old_site_, new_site_)) << "a correctly dated hand-over still goes through";
  EXPECT_TRUE(Enroll(new_site_));
}

TEST_F(MasaOwnershipTest, StatementsDatedFarFromTheMasasClockAreRefused) {
  for (auto [offset, limit] : {std::pair{std::chrono::hours(24 * 365 * 1000), "ahead of the clock"},
                               std::pair{-std::chrono::hours(25), "24 hours before"}}) {
    Statement stolen = Of(Action::kReportStolen);
    stolen.issued_at = ToUnixMillis(world_.clock.Now() + offset);
    auto refused = Say(OwnerKey(old_site_), stolen);
    ASSERT_FALSE(refused) << limit;
    EXPECT_THAT(refused.error().message(), HasSubstr(limit));
  }
  EXPECT_TRUE(Enroll(old_site_)) << "no report was recorded";
  EXPECT_TRUE(Say(OwnerKey(old_site_), Of(Action::kReportStolen)));
}

TEST_F(MasaOwnershipTest, AStolenDeviceGetsNoVoucherUntilItsOwnerClearsTheReport) {
  auto impostor = Say(OwnerKey(new_site_), Of(Action::kReportStolen));
  ASSERT_FALSE(impostor);
  EXPECT_THAT(impostor.error().message(), HasSubstr("only the owner of record"));
  ASSERT_TRUE(Say(OwnerKey(old_site_), Of(Action::kReportStolen)));
  for (Site* site : {&old_site_, &new_site_}) {
    auto refused = Enroll(*site);
    ASSERT_FALSE(refused);
    EXPECT_THAT(refused.error().message(), HasSubstr("reported stolen"));
  }
  Statement clear = Of(Action::kClearStolen);
  clear.issued_at = ToUnixMillis(world_.clock.Now()) + 100;
  ASSERT_TRUE(Say(OwnerKey(old_site_), clear));
  EXPECT_TRUE(Enroll(old_site_));
  auto replayed = Say(OwnerKey(old_site_), clear);
  ASSERT_FALSE(replayed);
  EXPECT_THAT(replayed.error().message(), HasSubstr("replayed statement"));
}

TEST_F(MasaOwnershipTest, EscrowAgentsMoveTheDeviceOnlyAtTheThreshold) {
  std::vector<crypto::PrivateKey> agents;
  Statement escrow = Of(Action::kSetEscrow);
  escrow.threshold = 2;
  for (int i = 0; i < 3; ++i) {
    agents.push_back(crypto::PrivateKey::GenerateP256().value());
    escrow.agents.push_back(agents.back().PublicKeyDer().value());
  }
  ASSERT_TRUE(Say(OwnerKey(old_site_), escrow));
  Statement approve = Of(Action::kApproveEscrow);
  approve.subject_key = OwnerPublicKey(new_site_);
  auto outsider = Say(crypto::PrivateKey::GenerateP256().value(), approve);
  ASSERT_FALSE(outsider);
  EXPECT_THAT(outsider.error().message(), HasSubstr("not signed by one of its escrow agents"));
  auto first = Say(agents[0], approve);
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_THAT(*first, HasSubstr("1 of 2"));
  EXPECT_THAT(*Say(agents[0], approve), HasSubstr("1 of 2")) << "one agent counts once";
  EXPECT_FALSE(Enroll(new_site_)) << "M-1 approvals move nothing";
  auto second = Say(agents[2], approve);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_THAT(*second, HasSubstr("threshold reached"));
  EXPECT_TRUE(Enroll(new_site_));
  EXPECT_FALSE(Enroll(old_site_));
  OwnershipChain chain = RecordedChain();
  EXPECT_EQ(chain.entries().back().kind, EntryKind::kEscrow);
  // The new owner starts without the old owner's agents.
  auto stale = Say(agents[1], approve);
  ASSERT_FALSE(stale);
  EXPECT_THAT(stale.error().message(), HasSubstr("registered no escrow"));
}

TEST_F(MasaOwnershipTest, AReleasedDeviceCanBeClaimedByItsNextOwner) {
  ASSERT_FALSE(Say(OwnerKey(new_site_), Of(Action::kRelease)));
  auto released = Say(OwnerKey(old_site_), Of(Action::kRelease));
  ASSERT_TRUE(released) << released.error().ToString();
  EXPECT_TRUE(RecordedChain().OwnedBy(maker_.service->maker_key()));
  Status claimed = Enroll(new_site_);
  ASSERT_TRUE(claimed) << claimed.error().ToString();
  OwnershipChain chain = RecordedChain();
  ASSERT_EQ(chain.entries().size(), 3u);
  EXPECT_EQ(chain.entries()[1].kind, EntryKind::kRelease);
  EXPECT_EQ(chain.entries()[2].kind, EntryKind::kSale);
  EXPECT_FALSE(Enroll(old_site_));
}

TEST_F(MasaOwnershipTest, TheOwnershipEndpointsServeChainsAndTakeTransfersAndStatements) {
  auto call = [&](const std::string& method, const std::string& target, const std::string& type,
                  const Bytes& body) {
    http::HttpRequest request;
    request.method = method;
    request.target = target;
    if (!type.empty()) {
      request.headers["content-type"] = type;
    }
    request.body = ToString(body);
    return masa::HandleMasaRequest(*maker_.service, request, http::ConnectionInfo{});
  };
  auto chain = call("GET", "/ownership/chain/LIFT-1", "", {});
  ASSERT_EQ(chain.status, 200) << chain.body;
  EXPECT_EQ(ToBytes(chain.body), maker_.service->OwnershipChain("LIFT-1").value());
  EXPECT_EQ(call("GET", "/ownership/chain/NO-SUCH", "", {}).status, 404);

  OwnershipChain extended = OwnershipChain::Decode(ToBytes(chain.body), Authorities()).value();
  ASSERT_TRUE(extended.Extend(OwnerKey(old_site_), OwnerPublicKey(new_site_), EntryKind::kTransfer,
                              world_.clock.Now(), Authorities()));
  Bytes encoded = extended.Encode().value();
  EXPECT_EQ(call("POST", "/ownership/chain", "application/json", encoded).status, 415);
  auto garbage = call("POST", "/ownership/chain", "application/cbor", ToBytes("not cbor"));
  EXPECT_EQ(garbage.status, 400) << garbage.body;
  EXPECT_THAT(garbage.body, HasSubstr("malformed CBOR"));
  auto recorded = call("POST", "/ownership/chain", "application/cbor", encoded);
  ASSERT_EQ(recorded.status, 200) << recorded.body;
  EXPECT_TRUE(Enroll(new_site_));

  Statement stolen = Of(Action::kReportStolen);
  stolen.device_id = "LIFT-1";
  stolen.issued_at = ToUnixMillis(world_.clock.Now()) + 1;
  Bytes by_old_owner = ownership::SignStatement(OwnerKey(old_site_), stolen).value();
  auto refused = call("POST", "/ownership/statement", "application/cose", by_old_owner);
  EXPECT_EQ(refused.status, 403) << refused.body;
  Bytes by_new_owner = ownership::SignStatement(OwnerKey(new_site_), stolen).value();
  auto reported = call("POST", "/ownership/statement", "application/cose", by_new_owner);
  ASSERT_EQ(reported.status, 200) << reported.body;
  EXPECT_THAT(reported.body, HasSubstr("reported stolen"));

  // Found by fuzzing: this unauthenticated 12-byte body aborted `maker serve`.
  auto crafted = call("POST", "/ownership/statement", "application/cose",
                      HexDecode("d28443a10360a0f900f641f6").value());
  EXPECT_EQ(crafted.status, 400) << crafted.body;
  EXPECT_THAT(crafted.body, HasSubstr("payload: expected a byte string"));
}

}  // namespace
}  // namespace concierge::testing
