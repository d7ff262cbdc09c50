// Onboarding with cBRSKI's COSE vouchers through the typed in-memory transport: the pledge's
// small request, the registrar's request with both chains in its x5bag, the MASA's COSE
// voucher, and the voucher as the pledge receives it, without the MASA's certificates. The
// CoAP/DTLS transport carries the same calls (docs/constrained.md).
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cose/sign1.h"
#include "fakes/direct_transport.h"
#include "fakes/onboarding_world.h"
#include "store/audit_log.h"
#include "voucher/cose_voucher.h"

namespace concierge {
namespace {

using testing::DirectConnector;
using ::testing::HasSubstr;
using testing::OnboardingWorld;

class CoseOnboardingTest : public ::testing::Test {
 protected:
  CoseOnboardingTest()
      : site_(world_.AddSite("Flat")),
        maker_(world_.AddMaker("Sensors")),
        link_(*site_.service, *site_.ownership, world_.clock, world_.clock,
              std::chrono::milliseconds(20)) {
    EXPECT_TRUE(site_.store->AddTrustedMaker("Sensors", maker_.directory.masa.maker_ca,
                                             registrar::Approval::kAuto));
    link_.format = voucher::Format::kCose;
  }

  OnboardingWorld world_;
  testing::Site& site_;
  testing::Maker& maker_;
  DirectConnector link_;
};

TEST_F(CoseOnboardingTest, EnrollsWithCoseVouchersAndForwardsTheVoucherWithoutTheMasaBag) {
  auto identity = world_.Mint(maker_, "COSE-1");
  pledge::Pledge pledge(identity, link_, world_.clock, world_.clock, world_.random);
  auto result = pledge.EnrollAndWait();
  ASSERT_TRUE(result) << result.error().ToString();

  auto message = cose::DecodeSign1(result->voucher_cms, cose::TagRule::kRequired);
  ASSERT_TRUE(message) << message.error().ToString();
  EXPECT_EQ(HexEncode(message->protected_bucket), "a10126");
  EXPECT_TRUE(message->unprotected_headers.x5bag.empty());
  auto opened = voucher::OpenCoseVoucher(result->voucher_cms, {maker_.directory.masa.signer});
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(opened->value.serial_number, "COSE-1");
  EXPECT_EQ(opened->value.pinned_domain_cert, site_.directory.identity.domain_ca.Der());

  EXPECT_TRUE(crypto::VerifyChain(result->ldevid, {}, {site_.directory.identity.domain_ca},
                                  {.at = world_.clock.Now()}));
  auto devices = site_.store->ListDevices().value();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].state, registrar::kStateEnrolled);
  EXPECT_EQ(devices[0].ldevid_serial, result->ldevid.SerialHex());
}

// cBRSKI: the registrar authenticates the pledge's request with the DTLS client key, whatever
// the request says; one signed with another key is refused before anything is stored.
TEST_F(CoseOnboardingTest, RequestNotSignedWithTheClientKeyIsRefusedAndNothingStored) {
  auto identity = world_.Mint(maker_, "COSE-2");
  voucher::VoucherRequest pvr;
  pvr.serial_number = "COSE-2";
  pvr.nonce = world_.random.Generate(16);
  pvr.proximity_registrar_pubk = site_.directory.identity.registrar_cert.PublicKeyDer().value();
  auto stranger = crypto::PrivateKey::GenerateP256().value();
  Bytes forged = voucher::SignCoseVoucherRequest(pvr, stranger, {identity.idevid}).value();
  auto opened =
      voucher::OpenCoseVoucherRequest(forged, voucher::RequestFrom::kPledge, {identity.idevid});
  ASSERT_FALSE(opened);
  EXPECT_THAT(opened.error().message(), HasSubstr("signature does not verify"));

  Bytes genuine = voucher::SignCoseVoucherRequest(pvr, identity.key, {}).value();
  auto accepted =
      voucher::OpenCoseVoucherRequest(genuine, voucher::RequestFrom::kPledge, {identity.idevid});
  ASSERT_TRUE(accepted) << accepted.error().ToString();
  // Proximity to another registrar's key is refused by the service.
  pvr.proximity_registrar_pubk = stranger.PublicKeyDer().value();
  auto elsewhere = voucher::OpenCoseVoucherRequest(
      voucher::SignCoseVoucherRequest(pvr, identity.key, {}).value(), voucher::RequestFrom::kPledge,
      {identity.idevid});
  ASSERT_TRUE(elsewhere);
  crypto::PeerIdentity peer{identity.idevid, {}, "192.0.2.9"};
  auto refused = site_.service->RequestVoucher(*elsewhere, peer);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("does not assert proximity"));
  EXPECT_TRUE(site_.store->ListDevices().value().empty());
}

// A voucher that is not for this request is refused by the pledge, which reports why, and no
// LDevID is issued: another nonce, another serial, or one signed by a key that is not its MASA's.
TEST_F(CoseOnboardingTest, PledgeRefusesAVoucherForAnotherRequestOrSigner) {
  struct Case {
    std::string serial;
    std::function<void(voucher::Voucher&)> change;
    bool other_signer;
    std::string reason;
  };

  std::vector<Case> cases = {
      {"COSE-N", [](voucher::Voucher& v) { v.nonce[0] ^= 1; }, false, "nonce does not match"},
      {"COSE-S", [](voucher::Voucher& v) { v.serial_number = "SOMEONE-ELSE"; }, false,
       "SOMEONE-ELSE"},
      {"COSE-K", [](voucher::Voucher&) {}, true, "signature does not verify"},
  };
  auto stranger = crypto::PrivateKey::GenerateP256().value();
  for (const Case& c : cases) {
    const masa::MasaIdentity& masa = maker_.directory.masa;
    link_.rewrite_voucher = [&](Bytes& signed_voucher) {
      auto opened = voucher::OpenCoseVoucher(signed_voucher, {masa.signer});
      ASSERT_TRUE(opened) << opened.error().ToString();
      voucher::Voucher changed = opened->value;
      c.change(changed);
      signed_voucher =
          voucher::SignCoseVoucher(changed, c.other_signer ? stranger : masa.signer_key, {})
              .value();
    };
    auto identity = world_.Mint(maker_, c.serial);
    pledge::Pledge pledge(identity, link_, world_.clock, world_.clock, world_.random);
    auto result = pledge.EnrollAndWait();
    ASSERT_FALSE(result) << c.serial;
    EXPECT_THAT(result.error().message(), HasSubstr(c.reason)) << c.serial;
    std::vector<registrar::DeviceRecord> devices = site_.store->ListDevices().value();
    for (const auto& device : devices) {
      if (device.serial == c.serial) {
        EXPECT_FALSE(device.HoldsLdevid()) << c.serial;
      }
    }
    // The refusal reached the registrar as voucher-status telemetry (CBOR over CoAP).
    bool reported = false;
    std::vector<store::AuditRecord> events =
        store::ReadAuditEvents(site_.store->database()).value();
    for (const auto& event : events) {
      reported = reported || (event.kind == "telemetry.voucher_status" &&
                              event.detail.find(c.reason) != std::string::npos);
    }
    EXPECT_TRUE(reported) << c.serial;
  }
}

// The MASA finds the pledge's certificate in the registrar's x5bag (cBRSKI -30); a registrar
// that leaves it out gets a refusal naming what was missing.
TEST_F(CoseOnboardingTest, MasaRefusesARegistrarRequestWithoutThePledgeChain) {
  auto identity = world_.Mint(maker_, "COSE-3");
  const auto& registrar = site_.directory.identity;
  voucher::VoucherRequest pvr;
  pvr.serial_number = "COSE-3";
  pvr.nonce = world_.random.Generate(16);
  pvr.proximity_registrar_pubk = registrar.registrar_cert.PublicKeyDer().value();
  voucher::VoucherRequest rvr = pvr;
  rvr.proximity_registrar_pubk.clear();
  rvr.created_on = world_.clock.Now();
  rvr.prior_signed_voucher_request = voucher::SignCoseVoucherRequest(pvr, identity.key, {}).value();
  Bytes without_pledge =
      voucher::SignCoseVoucherRequest(rvr, registrar.registrar_key,
                                      {registrar.registrar_cert, registrar.domain_ca})
          .value();
  auto refused = world_.masa.RequestVoucher(registrar::MasaBaseUrl(identity.idevid).value(),
                                            voucher::Format::kCose, without_pledge);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("no certificate for serial-number \"COSE-3\""));

  Bytes with_pledge = voucher::SignCoseVoucherRequest(
                          rvr, registrar.registrar_key,
                          {registrar.registrar_cert, registrar.domain_ca, identity.idevid})
                          .value();
  auto issued = world_.masa.RequestVoucher(registrar::MasaBaseUrl(identity.idevid).value(),
                                           voucher::Format::kCose, with_pledge);
  ASSERT_TRUE(issued) << issued.error().ToString();
  auto opened = voucher::OpenCoseVoucher(*issued, {});
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(opened->signer, maker_.directory.masa.signer);
  EXPECT_EQ(opened->value.nonce, pvr.nonce);
}

}  // namespace
}  // namespace concierge
