// The site's side of an orderly transfer, through the real registrar, MASA and pledge logic in
// memory: export, import, the device's move with its checks, the old site's confirmation and
// revocation, and each refusal leaving everything as it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/onboarding_world.h"
#include "ownership/chain.h"
#include "pledge/move.h"

namespace concierge::testing {
namespace {

using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Optional;

constexpr std::string_view kNewRegistrar = "https://new-owner.example:443";

class SiteTransferTest : public ::testing::Test {
 protected:
  SiteTransferTest()
      : maker_(world_.AddMaker("Acme")),
        old_site_(AddTrustingSite("Old Owner")),
        new_site_(AddTrustingSite("New Owner")),
        lift_(world_.Mint(maker_, "LIFT-1")),
        boiler_(world_.Mint(maker_, "BOILER-1")),
        lift_credentials_(Enroll(lift_, old_site_)),
        boiler_credentials_(Enroll(boiler_, old_site_)) {}

  Site& AddTrustingSite(const std::string& name) {
    Site& site = world_.AddSite(name);
    EXPECT_TRUE(site.store->AddTrustedMaker("Acme", maker_.directory.masa.maker_ca,
                                            registrar::Approval::kAuto));
    return site;
  }

  pledge::DomainCredentials Enroll(const pledge::PledgeIdentity& device, Site& site) {
    auto result = world_.MakePledge(device, site).EnrollAndWait();
    EXPECT_TRUE(result) << result.error().ToString();
    return {result->ldevid, result->ldevid_key, result->domain_anchors, "https://old.example",
            result->voucher_cms};
  }

  static Bytes OwnerKey(Site& site) {
    return site.directory.identity.domain_ca.PublicKeyDer().value();
  }

  Result<ownership::TransferBundle> Export(Site& to, std::vector<std::string> serials) {
    return old_site_.ownership->Export(
        {OwnerKey(to), "New Owner", std::string(kNewRegistrar), std::move(serials)});
  }

  Bytes RecordedChain(const std::string& serial) {
    return maker_.service->OwnershipChain(serial).value();
  }

  Result<pledge::DomainCredentials> Move(const pledge::PledgeIdentity& device,
                                         const pledge::DomainCredentials& current, Site& to) {
    ASSIGN_OR_RETURN(auto instruction,
                     pledge::CheckIn(current, *old_site_.connector, world_.clock));
    if (!instruction) {
      return MakeError(ErrorCode::kNotFound, "no instruction");
    }
    return pledge::MoveToNewOwner(device, *instruction, *to.connector, world_.clock, world_.clock,
                                  world_.random);
  }

  OnboardingWorld world_;
  Maker& maker_;
  Site& old_site_;
  Site& new_site_;
  pledge::PledgeIdentity lift_;
  pledge::PledgeIdentity boiler_;
  pledge::DomainCredentials lift_credentials_;
  pledge::DomainCredentials boiler_credentials_;
};

TEST_F(SiteTransferTest, DeviceMovesProvesNewCredentialsAndTheOldSiteRevokesTheOld) {
  auto nothing = pledge::CheckIn(lift_credentials_, *old_site_.connector, world_.clock);
  ASSERT_TRUE(nothing) << nothing.error().ToString();
  EXPECT_FALSE(*nothing) << "no instruction before an export";

  auto bundle = Export(new_site_, {"LIFT-1"});
  ASSERT_TRUE(bundle) << bundle.error().ToString();
  ASSERT_EQ(bundle->devices.size(), 1u);
  auto decoded = ownership::DecodeBundle(ownership::EncodeBundle(*bundle));
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  auto imported = new_site_.ownership->Import(*decoded);
  ASSERT_TRUE(imported) << imported.error().ToString();
  EXPECT_EQ(imported->devices, 1);
  EXPECT_TRUE(imported->makers_added.empty()) << "the new site already trusted Acme";

  auto moved = Move(lift_, lift_credentials_, new_site_);
  ASSERT_TRUE(moved) << moved.error().ToString();
  EXPECT_EQ(moved->registrar_url, kNewRegistrar);
  EXPECT_TRUE(crypto::VerifyChain(moved->ldevid, {}, {new_site_.directory.identity.domain_ca},
                                  {.at = world_.clock.Now()}));
  EXPECT_FALSE(crypto::VerifyChain(moved->ldevid, {}, {old_site_.directory.identity.domain_ca},
                                   {.at = world_.clock.Now()}));
  // Until the device confirms, the old credentials still work: no gap.
  EXPECT_TRUE(pledge::CheckIn(lift_credentials_, *old_site_.connector, world_.clock));

  auto confirmed =
      pledge::ConfirmMove(lift_credentials_, moved->ldevid, *old_site_.connector, world_.clock);
  ASSERT_TRUE(confirmed) << confirmed.error().ToString();
  auto refused = pledge::CheckIn(lift_credentials_, *old_site_.connector, world_.clock);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("revoked"));
  auto revocations = old_site_.store->ListRevocations().value();
  ASSERT_EQ(revocations.size(), 1u);
  EXPECT_EQ(revocations[0].serial, lift_credentials_.ldevid.SerialHex());
  auto lift = old_site_.store->FindDeviceByCertificate(lift_credentials_.ldevid.SerialHex());
  ASSERT_TRUE(lift);
  EXPECT_THAT(*lift, Optional(Field(&registrar::DeviceRecord::departure,
                                    registrar::kDepartureTransferred)));
  // The device that stayed is untouched.
  EXPECT_TRUE(pledge::CheckIn(boiler_credentials_, *old_site_.connector, world_.clock));
  auto at_new_site = pledge::CheckIn(*moved, *new_site_.connector, world_.clock);
  ASSERT_TRUE(at_new_site) << at_new_site.error().ToString();
  EXPECT_FALSE(*at_new_site);
  world_.AuditEvents(old_site_);  // the chain verifies
}

TEST_F(SiteTransferTest, BeforeTheImportTheMoveFailsAndChangesNothing) {
  ASSERT_TRUE(Export(new_site_, {"LIFT-1"}));
  Bytes before = RecordedChain("LIFT-1");
  auto moved = Move(lift_, lift_credentials_, new_site_);
  ASSERT_FALSE(moved);
  EXPECT_THAT(moved.error().message(), HasSubstr("owned by another domain"));
  EXPECT_EQ(RecordedChain("LIFT-1"), before);
  EXPECT_TRUE(pledge::CheckIn(lift_credentials_, *old_site_.connector, world_.clock));
  EXPECT_TRUE(old_site_.store->ListRevocations().value().empty());
}

TEST_F(SiteTransferTest, TheOldOwnerCannotReclaimAfterTheTransfer) {
  auto bundle = Export(new_site_, {"LIFT-1"});
  ASSERT_TRUE(bundle);
  ASSERT_TRUE(new_site_.ownership->Import(*bundle));
  Bytes after_transfer = RecordedChain("LIFT-1");
  // Its records still say "leaving", but the MASA's chain ends at the new owner.
  Site& thief = AddTrustingSite("Thief");
  auto again = Export(thief, {"LIFT-1"});
  ASSERT_FALSE(again);
  EXPECT_THAT(again.error().message(), HasSubstr("its MASA records another owner"));
  // Nor does the device, reset to its IDevID, get a voucher through the old registrar.
  auto enrolled = world_.MakePledge(lift_, old_site_).EnrollAndWait();
  ASSERT_FALSE(enrolled);
  EXPECT_THAT(enrolled.error().message(), HasSubstr("owned by another domain"));
  EXPECT_EQ(RecordedChain("LIFT-1"), after_transfer);
}

TEST_F(SiteTransferTest, ImportRefusesBundlesForAnotherOwnerAndForgedChains) {
  auto bundle = Export(new_site_, {"LIFT-1", "BOILER-1"});
  ASSERT_TRUE(bundle);
  Bytes lift_before = RecordedChain("LIFT-1");
  Bytes boiler_before = RecordedChain("BOILER-1");

  auto wrong_site = old_site_.ownership->Import(*bundle);
  ASSERT_FALSE(wrong_site);
  EXPECT_THAT(wrong_site.error().message(), HasSubstr("another owner"));

  // A forged hand-over: one bit of the boiler's transfer entry (its signature) changed.
  ownership::TransferBundle forged = *bundle;
  forged.devices[1].chain.back() ^= 0x01;
  auto refused = new_site_.ownership->Import(forged);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("BOILER-1"));
  EXPECT_EQ(RecordedChain("LIFT-1"), lift_before) << "nothing recorded when one chain is bad";
  EXPECT_EQ(RecordedChain("BOILER-1"), boiler_before);
}

TEST_F(SiteTransferTest, DeviceRefusesAChainThatIsNotItsOwn) {
  auto bundle = Export(new_site_, {"LIFT-1", "BOILER-1"});
  ASSERT_TRUE(bundle);
  ASSERT_TRUE(new_site_.ownership->Import(*bundle));
  // The boiler is handed the lift's instruction.
  std::optional<ownership::MoveInstruction> instruction =
      pledge::CheckIn(lift_credentials_, *old_site_.connector, world_.clock).value();
  if (!instruction.has_value()) {
    GTEST_FAIL() << "the lift should have a pending move instruction";
  }
  auto moved = pledge::MoveToNewOwner(boiler_, *instruction, *new_site_.connector, world_.clock,
                                      world_.clock, world_.random);
  ASSERT_FALSE(moved);
  EXPECT_THAT(moved.error().message(), HasSubstr("not this device"));
}

TEST_F(SiteTransferTest, DeviceRefusesARegistrarTheChainDoesNotName) {
  auto bundle = Export(new_site_, {"LIFT-1"});
  ASSERT_TRUE(bundle);
  ASSERT_TRUE(new_site_.ownership->Import(*bundle));
  Site& elsewhere = AddTrustingSite("Elsewhere");
  auto moved = Move(lift_, lift_credentials_, elsewhere);
  ASSERT_FALSE(moved);
  EXPECT_THAT(moved.error().message(), HasSubstr("owned by another domain"));
}

TEST_F(SiteTransferTest, APledgeStopsBeforeEnrollingWhenTheDomainIsNotAccepted) {
  pledge::PledgeIdentity sensor = world_.Mint(maker_, "SENSOR-1");
  pledge::PledgeOptions options;
  options.accept_domain = [](const crypto::Certificate&) -> Status {
    return MakeError(ErrorCode::kSecurity, "not the owner the chain names");
  };
  new_site_.connector->requests.clear();
  auto enrolled = world_.MakePledge(sensor, new_site_, options).EnrollAndWait();
  ASSERT_FALSE(enrolled);
  EXPECT_THAT(enrolled.error().message(), HasSubstr("not the owner the chain names"));
  for (const http::HttpRequest& request : new_site_.connector->requests) {
    EXPECT_THAT(request.target, ::testing::Not(HasSubstr("simpleenroll")));
  }
}

TEST_F(SiteTransferTest, ConfirmationNeedsAnLdevidFromTheNewOwner) {
  ASSERT_TRUE(Export(new_site_, {"LIFT-1"}));
  // The boiler's LDevID was issued by the old site, not by the lift's new owner.
  auto confirmed = pledge::ConfirmMove(lift_credentials_, boiler_credentials_.ldevid,
                                       *old_site_.connector, world_.clock);
  ASSERT_FALSE(confirmed);
  EXPECT_THAT(confirmed.error().message(), HasSubstr("not signed by its new owner"));
  EXPECT_TRUE(old_site_.store->ListRevocations().value().empty());
}

TEST_F(SiteTransferTest, TheCrlListsRevokedCertificatesAndVerifies) {
  auto bundle = Export(new_site_, {"LIFT-1"});
  ASSERT_TRUE(bundle);
  ASSERT_TRUE(new_site_.ownership->Import(*bundle));
  auto moved = Move(lift_, lift_credentials_, new_site_);
  ASSERT_TRUE(moved);
  ASSERT_TRUE(
      pledge::ConfirmMove(lift_credentials_, moved->ldevid, *old_site_.connector, world_.clock));
  auto der = old_site_.ownership->Crl();
  ASSERT_TRUE(der) << der.error().ToString();
  const uint8_t* in = der->data();
  crypto::OpenSslPtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &in, static_cast<long>(der->size())));
  ASSERT_TRUE(crl);
  EXPECT_EQ(X509_CRL_verify(crl.get(), old_site_.directory.identity.domain_ca.PublicKey()), 1);
  X509_REVOKED* entry = nullptr;
  EXPECT_EQ(X509_CRL_get0_by_cert(crl.get(), &entry, lift_credentials_.ldevid.get()), 1);
  EXPECT_EQ(X509_CRL_get0_by_cert(crl.get(), &entry, boiler_credentials_.ldevid.get()), 0);
}

TEST_F(SiteTransferTest, TheSameCrlIsServedUntilARevocationOrHalfItsValidity) {
  Bytes first = old_site_.ownership->Crl().value();
  world_.clock.Advance(std::chrono::hours(1));
  EXPECT_EQ(old_site_.ownership->Crl().value(), first) << "nothing was revoked";
  auto bundle = Export(new_site_, {"LIFT-1"});
  ASSERT_TRUE(bundle);
  ASSERT_TRUE(new_site_.ownership->Import(*bundle));
  auto moved = Move(lift_, lift_credentials_, new_site_);
  ASSERT_TRUE(moved);
  ASSERT_TRUE(
      pledge::ConfirmMove(lift_credentials_, moved->ldevid, *old_site_.connector, world_.clock));
  Bytes after_revocation = old_site_.ownership->Crl().value();
  EXPECT_NE(after_revocation, first);
  world_.clock.Advance(std::chrono::hours(4 * 24));
  EXPECT_NE(old_site_.ownership->Crl().value(), after_revocation) << "reissued before it expires";
}

}  // namespace
}  // namespace concierge::testing
