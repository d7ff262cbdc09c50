#include "voucher/voucher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/random.h"
#include "crypto/certificate_builder.h"
#include "crypto/cms.h"

namespace concierge::voucher {
namespace {

using ::testing::HasSubstr;

TEST(VoucherJsonTest, RoundTrips) {
  Voucher v;
  v.assertion = Assertion::kProximity;
  v.created_on = FromUnixSeconds(1800000000);
  v.serial_number = "SN-1";
  v.nonce = Bytes(16, 7);
  v.pinned_domain_cert = {0x30, 0x01, 0x00};
  auto decoded = DecodeVoucherJson(EncodeVoucherJson(v)).value();
  EXPECT_EQ(decoded.serial_number, "SN-1");
  EXPECT_EQ(decoded.nonce, v.nonce);
  EXPECT_EQ(decoded.pinned_domain_cert, v.pinned_domain_cert);
  EXPECT_EQ(decoded.created_on, v.created_on);
  EXPECT_EQ(decoded.assertion, Assertion::kProximity);
}

TEST(VoucherJsonTest, ParsesTheRfc8366Example) {
  // The shape of RFC 8366 §5.3's example, with this project's own values.
  auto v = DecodeVoucherJson(R"({"ietf-voucher:voucher": {
      "created-on": "2016-10-07T19:31:42Z", "expires-on": "2016-10-21T19:31:42Z",
      "assertion": "verified", "serial-number": "JADA123456789",
      "idevid-issuer": "base64encodedvalue==", "pinned-domain-cert": "base64encodedvalue==",
      "domain-cert-revocation-checks": true, "last-renewal-date": "2017-10-07T19:31:42Z"}})");
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->assertion, Assertion::kVerified);
  EXPECT_TRUE(v->domain_cert_revocation_checks);
  EXPECT_TRUE(v->nonce.empty());
}

TEST(VoucherJsonTest, RefusalsNameTheField) {
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {R"({"ietf-voucher:voucher": {"assertion": "logged", "created-on": "2026-01-01T00:00:00Z",
          "serial-number": "S", "pinned-domain-cert": "AA==", "nonce": "AAAA"}})",
       "voucher.nonce: must be 8 to 32 bytes"},
      {R"({"ietf-voucher:voucher": {"assertion": "logged", "created-on": "2026-01-01T00:00:00Z",
          "serial-number": "S", "pinned-domain-cert": "AA==", "nonce": "AAAAAAAAAAA=", "x": 1}})",
       "voucher.x: unknown member"},
      {R"({"ietf-voucher:voucher": {"assertion": "sure", "created-on": "2026-01-01T00:00:00Z"}})",
       "assertion: unknown value"},
      {R"({"ietf-voucher:voucher": {"assertion": "logged", "created-on": "yesterday"}})",
       "voucher.created-on"},
      {R"({"ietf-voucher:voucher": {"assertion": "logged", "created-on": "2026-01-01T00:00:00Z",
          "serial-number": "S", "pinned-domain-cert": "AA=="}})",
       "nonceless voucher needs expires-on"},
      {R"({"other": {}})", "expected exactly one member"},
      {R"({"ietf-voucher:voucher": {"assertion": "logged", "created-on": "2026-01-01T00:00:00Z",
          "serial-number": "S", "pinned-domain-cert": "!!", "nonce": "AAAAAAAAAAA="}})",
       "voucher.pinned-domain-cert: base64"},
  };

  for (const auto& c : cases) {
    auto v = DecodeVoucherJson(c.json);
    ASSERT_FALSE(v) << c.json;
    EXPECT_EQ(v.error().code(), ErrorCode::kBadFormat);
    EXPECT_THAT(v.error().message(), HasSubstr(c.message));
  }
}

TEST(VoucherCmsTest, VouchersAndRequestsAreSignedAsAnimaJsonVouchers) {
  CryptoRandom random;
  auto signer = crypto::IssueWithNewKey(
                    crypto::NewCertificateSpec({"MASA", "", "Acme"}, FromUnixSeconds(1800000000),
                                               std::chrono::hours(24), random),
                    nullptr, nullptr)
                    .value();
  Voucher v;
  v.assertion = Assertion::kLogged;
  v.created_on = FromUnixSeconds(1800000000);
  v.serial_number = "SN-1";
  v.nonce = Bytes(16, 7);
  v.pinned_domain_cert = {0x30, 0x01, 0x00};
  Bytes voucher = SignVoucher(v, signer.certificate, signer.key, {}).value();
  EXPECT_EQ(OpenVoucher(voucher).value().cms_content_type, crypto::kOidAnimaJsonVoucher);
  VoucherRequest r;
  r.serial_number = "SN-1";
  r.nonce = Bytes(8, 1);
  Bytes request = SignVoucherRequest(r, signer.certificate, signer.key, {}).value();
  EXPECT_EQ(OpenVoucherRequest(request, RequestFrom::kPledge).value().cms_content_type,
            crypto::kOidAnimaJsonVoucher);
  // A peer that signs vouchers as id-data is still understood.
  Bytes as_data =
      crypto::CmsSign(ToBytes(EncodeVoucherJson(v)), signer.certificate, signer.key, {}).value();
  EXPECT_EQ(OpenVoucher(as_data).value().value.serial_number, "SN-1");
}

TEST(VoucherRequestJsonTest, RoundTripsAndRefusesEmptySerial) {
  VoucherRequest r;
  r.serial_number = "SN-2";
  r.nonce = Bytes(8, 1);
  r.prior_signed_voucher_request = {1, 2, 3};
  auto decoded = DecodeVoucherRequestJson(EncodeVoucherRequestJson(r)).value();
  EXPECT_EQ(decoded.prior_signed_voucher_request, r.prior_signed_voucher_request);
  EXPECT_FALSE(decoded.created_on);
  EXPECT_FALSE(DecodeVoucherRequestJson(
      R"({"ietf-voucher-request:voucher": {"assertion": "proximity", "serial-number": ""}})"));
}

}  // namespace
}  // namespace concierge::voucher
