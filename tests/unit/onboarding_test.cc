// Component tests of BRSKI onboarding: real MASA, registrar and pledge logic, real SQLite and
// OpenSSL, with the network replaced by in-memory calls and the clock by a fake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/certificate_builder.h"
#include "fakes/onboarding_world.h"
#include "fakes/test_pki.h"
#include "registrar/registrar_http.h"
#include "voucher/voucher.h"

namespace concierge {
namespace {

using ::testing::HasSubstr;
using testing::OnboardingWorld;

constexpr std::string_view kRequestVoucher = "/.well-known/brski/requestvoucher";

struct Counts {
  size_t devices;
  size_t audit;
};

class OnboardingTest : public ::testing::Test {
 protected:
  OnboardingTest() : maker_(world_.AddMaker("Acme")), site_(world_.AddSite("Home")) {
    EXPECT_TRUE(site_.store->AddTrustedMaker("Acme", maker_.directory.masa.maker_ca,
                                             registrar::Approval::kAuto));
  }

  Counts Snapshot() { return {site_.store->ListDevices()->size(), world_.AuditEvents(site_)}; }

  void ExpectNothingStored(const Counts& before) {
    Counts after = Snapshot();
    EXPECT_EQ(after.devices, before.devices);
    EXPECT_EQ(after.audit, before.audit);
  }

  registrar::PeerIdentity PeerOf(const pledge::PledgeIdentity& identity) {
    return {identity.idevid, identity.chain, "192.0.2.1"};
  }

  // AskVoucher does what a transport binding does with a pledge's request: the codec opens
  // it, then the registrar decides.
  Result<registrar::VoucherOutcome> AskVoucher(ByteSpan pvr, const registrar::PeerIdentity& peer) {
    ASSIGN_OR_RETURN(auto opened, voucher::OpenVoucherRequest(pvr, voucher::RequestFrom::kPledge));
    return site_.service->RequestVoucher(opened, peer);
  }

  // SignedPvr is a pledge voucher-request as a pledge of identity would send to site_.
  Bytes SignedPvr(const pledge::PledgeIdentity& identity, const Bytes& nonce = {}) {
    voucher::VoucherRequest pvr;
    pvr.serial_number = identity.idevid.SubjectSerialNumber();
    pvr.nonce = nonce.empty() ? world_.random.Generate(16) : nonce;
    pvr.created_on = world_.clock.Now();
    pvr.proximity_registrar_cert = site_.directory.identity.registrar_cert.Der();
    return voucher::SignVoucherRequest(pvr, identity.idevid, identity.key, {}).value();
  }

  OnboardingWorld world_;
  testing::Maker& maker_;
  testing::Site& site_;
};

TEST_F(OnboardingTest, PledgeEnrollsAndGetsAnLdevidFromTheDomainCa) {
  auto identity = world_.Mint(maker_, "SN-1");
  auto result = world_.MakePledge(identity, site_).EnrollAndWait();
  ASSERT_TRUE(result) << result.error().ToString();

  EXPECT_TRUE(crypto::VerifyChain(result->ldevid, {}, {site_.directory.identity.domain_ca},
                                  {.at = world_.clock.Now()}));
  EXPECT_EQ(result->ldevid.SubjectSerialNumber(), "SN-1");
  auto devices = site_.store->ListDevices().value();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].state, registrar::kStateEnrolled);
  EXPECT_EQ(devices[0].ldevid_serial, result->ldevid.SerialHex());
  EXPECT_EQ(devices[0].enroll_status, "ok");
  auto log = maker_.store->VoucherLog("SN-1").value();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].domain_id, voucher::DomainId(site_.directory.identity.domain_ca));
  EXPECT_GT(world_.AuditEvents(site_), 3u);
}

TEST_F(OnboardingTest, UnknownMakerIsRefusedAndNothingIsStored) {
  auto& stranger = world_.AddMaker("Stranger");
  auto identity = world_.Mint(stranger, "SN-X");
  Counts before = Snapshot();
  auto result = world_.MakePledge(identity, site_).EnrollAndWait();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(result.error().message(), HasSubstr("unknown maker"));
  ExpectNothingStored(before);
}

TEST_F(OnboardingTest, DeviceNotMintedByItsMasaIsRefused) {
  // Minted by a maker the site trusts, but naming another maker's MASA.
  auto& other = world_.AddMaker("Other");
  EXPECT_TRUE(site_.store->AddTrustedMaker("Other", other.directory.masa.maker_ca,
                                           registrar::Approval::kAuto));
  auto identity = world_.Mint(other, "SN-2", std::nullopt, maker_.directory.masa_url);
  Counts before = Snapshot();
  auto result = world_.MakePledge(identity, site_).EnrollAndWait();
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr("does not chain"));
  ExpectNothingStored(before);
  EXPECT_TRUE(maker_.store->VoucherLog("SN-2").value().empty());
}

TEST_F(OnboardingTest, SerialUnknownToTheMasaIsRefused) {
  auto identity = world_.Mint(maker_, "SN-3");
  // The same CA signs a certificate the MASA never recorded (a leaked CA key, say).
  crypto::CertificateSpec spec;
  auto key = crypto::PrivateKey::GenerateP256().value();
  spec.subject = {"forged", "SN-FORGED", "Acme"};
  spec.public_key = key.get();
  spec.serial = world_.random.Generate(16);
  spec.not_before = world_.clock.Now() - std::chrono::hours(1);
  spec.no_expiration = true;
  spec.ia5_extensions.emplace_back(crypto::kOidMasaUrl, maker_.directory.masa_url);
  auto forged =
      crypto::IssueCertificate(spec, &maker_.directory.masa.maker_ca, maker_.directory.ca_key)
          .value();
  pledge::PledgeIdentity forged_identity{forged, key, {}, identity.masa_anchors};
  Counts before = Snapshot();
  auto result = world_.MakePledge(forged_identity, site_).EnrollAndWait();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(result.error().message(), HasSubstr("not minted by this MASA"));
  ExpectNothingStored(before);
}

TEST_F(OnboardingTest, ReplayedPledgeRequestIsRefused) {
  auto identity = world_.Mint(maker_, "SN-4");
  Bytes pvr = SignedPvr(identity);
  ASSERT_TRUE(AskVoucher(pvr, PeerOf(identity)));
  Counts before = Snapshot();
  auto replay = AskVoucher(pvr, PeerOf(identity));
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code(), ErrorCode::kSecurity);
  EXPECT_THAT(replay.error().message(), HasSubstr("replayed"));
  ExpectNothingStored(before);
}

TEST_F(OnboardingTest, AlteredPledgeRequestIsRefused) {
  auto identity = world_.Mint(maker_, "SN-5");
  Bytes pvr = SignedPvr(identity);
  // Flip one byte inside the signed JSON ("SN-5" -> "SN-6" would need its offset; any byte of
  // the content breaks the message digest).
  std::string text = ToString(pvr);
  size_t at = text.find("SN-5");
  ASSERT_NE(at, std::string::npos);
  pvr[at + 3] = '6';
  Counts before = Snapshot();
  auto result = AskVoucher(pvr, PeerOf(identity));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kSecurity);
  ExpectNothingStored(before);
}

TEST_F(OnboardingTest, PledgeRequestSignedByAnotherDeviceIsRefused) {
  auto identity = world_.Mint(maker_, "SN-6");
  auto other = world_.Mint(maker_, "SN-7");
  auto result = AskVoucher(SignedPvr(other), PeerOf(identity));
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr("not signed by the IDevID of this TLS"));
}

class VoucherTamperTest : public OnboardingTest {
 protected:
  // ReplaceVoucher makes the registrar's voucher reply carry a MASA-signed voucher changed by
  // edit, so only the pledge's own checks stand in the way.
  void ReplaceVoucher(const std::function<void(voucher::Voucher&)>& edit) {
    site_.connector->hook = [this, edit](const http::HttpRequest& request,
                                         http::HttpResponse& response) {
      if (request.target != kRequestVoucher || response.status != 200) {
        return;
      }
      auto opened = voucher::OpenVoucher(ToBytes(response.body)).value();
      edit(opened.value);
      const auto& masa = maker_.directory.masa;
      response.body =
          ToString(voucher::SignVoucher(opened.value, masa.signer, masa.signer_key, {masa.maker_ca})
                       .value());
    };
  }
};

TEST_F(VoucherTamperTest, VoucherWithAnotherNonceIsRefusedAndReported) {
  ReplaceVoucher([this](voucher::Voucher& v) { v.nonce = world_.random.Generate(16); });
  auto result = world_.MakePledge(world_.Mint(maker_, "SN-8"), site_).EnrollAndWait();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kSecurity);
  EXPECT_THAT(result.error().message(), HasSubstr("nonce"));
  auto devices = site_.store->ListDevices().value();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_NE(devices[0].state, registrar::kStateEnrolled);
  EXPECT_TRUE(devices[0].ldevid_serial.empty());
}

TEST_F(VoucherTamperTest, VoucherForAnotherSerialIsRefused) {
  ReplaceVoucher([](voucher::Voucher& v) { v.serial_number = "SOMEONE-ELSE"; });
  auto result = world_.MakePledge(world_.Mint(maker_, "SN-9"), site_).EnrollAndWait();
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr("SOMEONE-ELSE"));
}

TEST_F(VoucherTamperTest, VoucherPinningAnotherDomainFailsRegistrarValidation) {
  auto& elsewhere = world_.AddSite("Elsewhere");
  ReplaceVoucher([&elsewhere](voucher::Voucher& v) {
    v.pinned_domain_cert = elsewhere.directory.identity.domain_ca.Der();
  });
  auto result = world_.MakePledge(world_.Mint(maker_, "SN-10"), site_).EnrollAndWait();
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr("registrar not the pinned domain"));
}

TEST_F(OnboardingTest, VoucherNotSignedByTheMasaIsRefused) {
  auto& other = world_.AddMaker("Impostor");
  site_.connector->hook = [&other](const http::HttpRequest& request, http::HttpResponse& response) {
    if (request.target != kRequestVoucher || response.status != 200) {
      return;
    }
    auto opened = voucher::OpenVoucher(ToBytes(response.body)).value();
    const auto& masa = other.directory.masa;
    response.body = ToString(
        voucher::SignVoucher(opened.value, masa.signer, masa.signer_key, {masa.maker_ca}).value());
  };
  auto result = world_.MakePledge(world_.Mint(maker_, "SN-11"), site_).EnrollAndWait();
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr("voucher signer is not this device's MASA"));
}

TEST_F(OnboardingTest, ExpiredIdevidIsRefused) {
  auto identity = world_.Mint(maker_, "SN-12", std::chrono::hours(24));
  world_.clock.Advance(std::chrono::hours(48));
  Counts before = Snapshot();
  auto result = world_.MakePledge(identity, site_).EnrollAndWait();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kPermissionDenied);  // the registrar's 403
  EXPECT_THAT(result.error().message(), HasSubstr("certificate has expired"));
  ExpectNothingStored(before);
}

TEST_F(OnboardingTest, EstEnrollWithoutVoucherIsRefused) {
  auto identity = world_.Mint(maker_, "SN-13");
  auto key = crypto::PrivateKey::GenerateP256().value();
  Bytes csr = crypto::Csr::CreateDer(key, {"SN-13", "SN-13", ""}).value();
  Counts before = Snapshot();
  auto result = site_.service->SimpleEnroll(csr, PeerOf(identity));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(result.error().message(), HasSubstr("no successful voucher"));
  ExpectNothingStored(before);
}

TEST_F(OnboardingTest, CsrSubjectNotMatchingTheIdevidIsRefused) {
  auto identity = world_.Mint(maker_, "SN-14");
  ASSERT_TRUE(AskVoucher(SignedPvr(identity), PeerOf(identity)));
  auto key = crypto::PrivateKey::GenerateP256().value();
  Bytes csr = crypto::Csr::CreateDer(key, {"SN-99", "SN-99", ""}).value();
  Counts before = Snapshot();
  auto result = site_.service->SimpleEnroll(csr, PeerOf(identity));
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr("CSR subject serialNumber \"SN-99\""));
  ExpectNothingStored(before);
  EXPECT_TRUE(site_.store->ListDevices().value()[0].ldevid_serial.empty());
}

TEST_F(OnboardingTest, MalformedCmsAndJsonAreRefused) {
  auto identity = world_.Mint(maker_, "SN-15");
  Counts before = Snapshot();
  auto garbage = AskVoucher(ToBytes("\x30\x03not cms"), PeerOf(identity));
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code(), ErrorCode::kBadFormat);
  Bytes not_json = crypto::CmsSign(ToBytes("{\"ietf-voucher-request:voucher\": [1,2"),
                                   identity.idevid, identity.key, {})
                       .value();
  auto bad_json = AskVoucher(not_json, PeerOf(identity));
  ASSERT_FALSE(bad_json);
  EXPECT_EQ(bad_json.error().code(), ErrorCode::kBadFormat);
  EXPECT_THAT(bad_json.error().message(), HasSubstr("not valid JSON"));
  ExpectNothingStored(before);
}

// A pledge's request padded with extra certificates to about `size` bytes.
Bytes PaddedPvr(const pledge::PledgeIdentity& identity, const Bytes& registrar_cert, SystemTime now,
                size_t size) {
  voucher::VoucherRequest pvr;
  pvr.serial_number = identity.idevid.SubjectSerialNumber();
  pvr.nonce = Bytes(16, 0x42);
  pvr.created_on = now;
  pvr.proximity_registrar_cert = registrar_cert;
  auto ca = testing::MakeTestCa(now, "Padding CA");
  std::vector<crypto::Certificate> padding;
  Bytes signed_pvr;
  while ((signed_pvr =
              voucher::SignVoucherRequest(pvr, identity.idevid, identity.key, padding).value())
             .size() < size - 600) {
    padding.push_back(testing::MakeTestLeaf(ca, now, std::chrono::hours(1)).certificate);
  }
  return signed_pvr;
}

// A 62 KB pledge request was refused as "84335 bytes, more than 65536": the size of the
// registrar's request wrapping it, limited as if it were the pledge's.
TEST_F(OnboardingTest, EveryPledgeRequestTheRegistrarTakesFitsInTheRequestItMakes) {
  auto identity = world_.Mint(maker_, "SN-16");
  Bytes registrar_cert = site_.directory.identity.registrar_cert.Der();
  Bytes large = PaddedPvr(identity, registrar_cert, world_.clock.Now(),
                          voucher::kMaxPledgeVoucherRequestSize - 1024);
  ASSERT_LE(large.size(), voucher::kMaxPledgeVoucherRequestSize);
  ASSERT_GT(large.size(), voucher::kMaxPledgeVoucherRequestSize - 2048);
  auto outcome = AskVoucher(large, PeerOf(identity));
  ASSERT_TRUE(outcome) << outcome.error().ToString();

  auto other = world_.Mint(maker_, "SN-16B");
  Bytes too_large = PaddedPvr(other, registrar_cert, world_.clock.Now(),
                              voucher::kMaxPledgeVoucherRequestSize + 2048);
  ASSERT_GT(too_large.size(), voucher::kMaxPledgeVoucherRequestSize);
  Counts before = Snapshot();
  auto refused = AskVoucher(too_large, PeerOf(other));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(refused.error().message(), "pledge voucher-request is " +
                                           std::to_string(too_large.size()) +
                                           " bytes, more than the limit of 65536");
  ExpectNothingStored(before);
}

TEST_F(OnboardingTest, HttpAdapterMapsRefusalsToStatuses) {
  auto identity = world_.Mint(maker_, "SN-17");
  http::ConnectionInfo connection{identity.idevid, {}, ""};
  http::HttpRequest wrong_type{"POST", std::string(kRequestVoucher), {}, "x", true};
  wrong_type.headers["content-type"] = "text/plain";
  EXPECT_EQ(registrar::HandleRegistrarRequest(*site_.service, wrong_type, connection).status, 415);
  http::HttpRequest garbage{"POST", std::string(kRequestVoucher), {}, "\x30garbage", true};
  garbage.headers["content-type"] = "application/voucher-cms+json";
  EXPECT_EQ(registrar::HandleRegistrarRequest(*site_.service, garbage, connection).status, 400);
  http::HttpRequest est{"POST", "/.well-known/est/simpleenroll", {}, "MIIB", true};
  est.headers["content-type"] = "application/pkcs10";
  EXPECT_EQ(registrar::HandleRegistrarRequest(*site_.service, est, connection).status, 403);
  http::HttpRequest unknown{"GET", "/nothing", {}, "", true};
  EXPECT_EQ(registrar::HandleRegistrarRequest(*site_.service, unknown, connection).status, 404);
}

TEST_F(OnboardingTest, ManualApprovalQueuesTheDeviceUntilApproved) {
  auto& careful = world_.AddMaker("Careful");
  ASSERT_TRUE(site_.store->AddTrustedMaker("Careful", careful.directory.masa.maker_ca,
                                           registrar::Approval::kManual));
  auto identity = world_.Mint(careful, "SN-18");
  // The registrar says "retry after 5 s"; an operator approves 7 s in, between the pledge's
  // second and third attempts. The waits are simulated time: nothing sleeps.
  SystemTime start = world_.clock.Now();
  world_.clock.After(std::chrono::seconds(7), [&] {
    auto devices = site_.store->ListDevices().value();
    ASSERT_EQ(devices.size(), 1u);
    EXPECT_EQ(devices[0].state, registrar::kStatePending);
    ASSERT_TRUE(site_.store->ApproveDevice(devices[0].id, "local:test"));
  });
  auto result = world_.MakePledge(identity, site_).EnrollAndWait();
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->pending_rounds, 2);
  EXPECT_EQ(world_.clock.Now() - start, std::chrono::seconds(10));
}

TEST_F(OnboardingTest, MasaPinsTheFirstClaimantAndTheSaleRecordReservesAnUnclaimedDevice) {
  auto& buyer = world_.AddSite("Buyer");
  ASSERT_TRUE(buyer.store->AddTrustedMaker("Acme", maker_.directory.masa.maker_ca,
                                           registrar::Approval::kAuto));
  auto reserved = world_.Mint(maker_, "SN-18");
  ASSERT_TRUE(
      maker_.store->RecordSale("SN-18", voucher::DomainId(buyer.directory.identity.domain_ca)));
  auto not_yours = world_.MakePledge(reserved, site_).EnrollAndWait();
  ASSERT_FALSE(not_yours);
  EXPECT_THAT(not_yours.error().message(), HasSubstr("sold to another domain"));
  ASSERT_TRUE(world_.MakePledge(reserved, buyer).EnrollAndWait());

  auto identity = world_.Mint(maker_, "SN-19");
  ASSERT_TRUE(world_.MakePledge(identity, site_).EnrollAndWait());
  auto refused = world_.MakePledge(identity, buyer).EnrollAndWait();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(refused.error().message(), HasSubstr("owned by another domain"));
  // Once owned, the maker cannot reassign it (tests/unit/masa_ownership_test.cc moves it).
  auto resold =
      maker_.store->RecordSale("SN-19", voucher::DomainId(buyer.directory.identity.domain_ca));
  ASSERT_FALSE(resold);
  EXPECT_THAT(resold.error().message(), HasSubstr("has an owner of record"));
}

TEST_F(OnboardingTest, MasaAuditLogIsServedToTheOwnerOnly) {
  auto identity = world_.Mint(maker_, "SN-21");
  ASSERT_TRUE(world_.MakePledge(identity, site_).EnrollAndWait());
  // A registrar voucher-request as the site would send it, wrapping a fresh pledge request.
  auto rvr_from = [&](testing::Site& site) {
    voucher::VoucherRequest pvr;
    pvr.serial_number = "SN-21";
    pvr.nonce = world_.random.Generate(16);
    pvr.proximity_registrar_cert = site.directory.identity.registrar_cert.Der();
    Bytes pvr_cms = voucher::SignVoucherRequest(pvr, identity.idevid, identity.key, {}).value();
    voucher::VoucherRequest rvr = pvr;
    rvr.prior_signed_voucher_request = pvr_cms;
    const auto& id = site.directory.identity;
    return voucher::SignVoucherRequest(rvr, id.registrar_cert, id.registrar_key, {id.domain_ca})
        .value();
  };
  auto opened = [](const Bytes& rvr) {
    return voucher::OpenVoucherRequest(rvr, voucher::RequestFrom::kRegistrar).value();
  };
  auto log = maker_.service->RequestAuditLog(opened(rvr_from(site_)));
  ASSERT_TRUE(log) << log.error().ToString();
  ASSERT_EQ((*log)["events"].size(), 1u);
  EXPECT_EQ((*log)["events"][0]["domainID"], voucher::DomainId(site_.directory.identity.domain_ca));
  EXPECT_EQ((*log)["events"][0]["assertion"], "proximity");

  auto& stranger = world_.AddSite("Stranger");
  auto refused = maker_.service->RequestAuditLog(opened(rvr_from(stranger)));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kNotFound);
}

TEST_F(OnboardingTest, ReenrollRenewsTheLdevid) {
  auto identity = world_.Mint(maker_, "SN-20");
  auto first = world_.MakePledge(identity, site_).EnrollAndWait().value();
  auto key = crypto::PrivateKey::GenerateP256().value();
  Bytes csr = crypto::Csr::CreateDer(key, {"SN-20", "SN-20", ""}).value();
  auto renewed = site_.service->SimpleReenroll(csr, {first.ldevid, {}, ""});
  ASSERT_TRUE(renewed) << renewed.error().ToString();
  EXPECT_NE(renewed->SerialHex(), first.ldevid.SerialHex());
  EXPECT_EQ(site_.store->ListDevices().value()[0].ldevid_serial, renewed->SerialHex());
  // An IDevID is not an LDevID.
  EXPECT_FALSE(site_.service->SimpleReenroll(csr, PeerOf(identity)));
  // Renewed, not yet used: both live until the device uses the new one, then the old goes.
  auto revoked = [&] {
    std::vector<std::string> serials;
    std::vector<registrar::Revocation> revocations = site_.store->ListRevocations().value();
    for (const auto& revocation : revocations) {
      serials.push_back(revocation.serial);
    }
    return serials;
  };
  EXPECT_EQ(site_.store->ListDevices().value()[0].state, registrar::kStateIssued);
  EXPECT_TRUE(revoked().empty());
  ASSERT_TRUE(site_.service->SimpleReenroll(csr, {*renewed, {}, ""})) << "first use confirms";
  EXPECT_THAT(revoked(), ::testing::Contains(first.ldevid.SerialHex()));
  EXPECT_FALSE(site_.service->SimpleReenroll(csr, {first.ldevid, {}, ""}));
}

// With 200 pledges at once the site listed more devices enrolled than held an LDevID: a
// device is "issued" until it uses its LDevID, and a retry leaves no second live certificate.
TEST_F(OnboardingTest, AnLdevidTheDeviceNeverReceivedIsIssuedNotEnrolledAndARetryRevokesIt) {
  auto identity = world_.Mint(maker_, "SN-21");
  site_.connector->hook = [](const http::HttpRequest& request, http::HttpResponse& response) {
    if (request.target.ends_with("simpleenroll")) {
      response = http::HttpResponse{};
      response.status = 503;  // the answer is lost on the way back
    }
  };
  ASSERT_FALSE(world_.MakePledge(identity, site_).EnrollAndWait());
  auto devices = site_.store->ListDevices().value();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].state, registrar::kStateIssued);
  EXPECT_EQ(devices[0].ldevid_confirmed_at, 0);
  std::string lost = devices[0].ldevid_serial;
  ASSERT_FALSE(lost.empty());

  site_.connector->hook = nullptr;
  auto retried = world_.MakePledge(identity, site_).EnrollAndWait();
  ASSERT_TRUE(retried) << retried.error().ToString();
  devices = site_.store->ListDevices().value();
  EXPECT_EQ(devices[0].state, registrar::kStateEnrolled);
  EXPECT_EQ(devices[0].ldevid_serial, retried->ldevid.SerialHex());
  EXPECT_NE(devices[0].ldevid_confirmed_at, 0);
  auto revocations = site_.store->ListRevocations().value();
  ASSERT_EQ(revocations.size(), 1u) << "only the lost certificate";
  EXPECT_EQ(revocations[0].serial, lost);
  EXPECT_TRUE(site_.store->IsRevoked(lost).value());
  EXPECT_FALSE(site_.store->IsRevoked(retried->ldevid.SerialHex()).value());
}

}  // namespace
}  // namespace concierge
