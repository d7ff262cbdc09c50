// cBRSKI's COSE vouchers and voucher-requests: the draft's Appendix C examples
// (../shared/testdata/brski-vectors.md §3) decode and verify with the published keys, within
// the inconsistencies the research notes there; encoding round-trips over random artifacts;
// and what must be refused is refused, naming why.
#include "voucher/cose_voucher.h"

#include <filesystem>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "cose/sign1.h"
#include "crypto/certificate.h"
#include "crypto/certificate_builder.h"
#include "crypto/key.h"
#include "voucher/voucher_cbor.h"

namespace concierge::voucher {
namespace {

// Block returns the fenced block under the heading that names `file` in the vectors document.
std::string Block(const std::string& document, const std::string& file) {
  size_t heading = document.find("#### `" + file + "`");
  if (heading == std::string::npos) {
    return {};
  }
  size_t open = document.find("``````\n", heading);
  size_t close = document.find("``````", open + 7);
  if (open == std::string::npos || close == std::string::npos) {
    return {};
  }
  return document.substr(open + 7, close - open - 7);
}

Bytes Hex(const std::string& block) {
  std::string digits;
  for (char c : block) {
    if (std::isxdigit(static_cast<unsigned char>(c)) != 0) {
      digits += c;
    }
  }
  return HexDecode(digits).value();
}

class DraftExamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::path path =
        std::filesystem::path(CONCIERGE_SHARED_TESTDATA) / "brski-vectors.md";
    if (!std::filesystem::exists(path)) {
      GTEST_SKIP() << "cBRSKI examples not found at " << path;
    }
    document_ = ReadFile(path).value();
  }

  Bytes Example(const std::string& name) {
    return Hex(Block(document_, "examples/cose-examples/" + name));
  }

  crypto::Certificate Cert(const std::string& name) {
    return crypto::Certificate::FromPem(Block(document_, "examples/cose-examples/" + name)).value();
  }

  std::string document_;
};

TEST_F(DraftExamplesTest, PledgeRequestVerifiesWithTheIdevidAndDecodes) {
  Bytes pvr = Example("pvr.hex");
  ASSERT_EQ(pvr.size(), 201u);
  auto opened = OpenCoseVoucherRequest(pvr, RequestFrom::kPledge, {Cert("pledge.pem")});
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(opened->value.assertion, Assertion::kProximity);
  EXPECT_EQ(opened->value.serial_number, "JADA123456789");
  EXPECT_EQ(opened->value.nonce, HexDecode("23BFBBC9C2BCF213").value());
  EXPECT_FALSE(opened->value.created_on);
  EXPECT_EQ(opened->value.proximity_registrar_pubk, Cert("registrar.pem").PublicKeyDer().value());
  // The payload re-encodes to the example's bytes: same keys, same order, shortest forms.
  EXPECT_EQ(EncodeVoucherRequestCbor(opened->value).value(), Example("pvr-nonsigned.hex"));
}

TEST_F(DraftExamplesTest, RegistrarRequestVerifiesWithTheRegistrarKeyAndWrapsThePledges) {
  Bytes rvr = Example("rvr.hex");
  ASSERT_EQ(rvr.size(), 1604u);
  // Found through its own x5bag, as a MASA finds it.
  auto opened = OpenCoseVoucherRequest(rvr, RequestFrom::kRegistrar, {});
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(opened->certificates.size(), 2u);
  EXPECT_EQ(opened->signer.PublicKeyDer().value(), Cert("registrar.pem").PublicKeyDer().value());
  EXPECT_EQ(opened->value.prior_signed_voucher_request, Example("pvr.hex"));
  EXPECT_EQ(opened->value.idevid_issuer, Cert("pledge.pem").AuthorityKeyIdExtnValue());
  EXPECT_EQ(opened->value.created_on, ParseRfc3339("2022-12-06T20:04:15.754Z").value());
  EXPECT_EQ(opened->value.serial_number, "JADA123456789");
}

TEST_F(DraftExamplesTest, VoucherVerifiesWithTheMasaKeyAndPinsTheDomainCa) {
  Bytes voucher = Example("voucher.hex");
  ASSERT_EQ(voucher.size(), 724u);
  auto opened = OpenCoseVoucher(voucher, {Cert("masa_ca.pem")});
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(opened->value.serial_number, "JADA123456789");
  EXPECT_FALSE(opened->value.domain_cert_revocation_checks);
  auto pinned = crypto::Certificate::FromDer(opened->value.pinned_domain_cert);
  ASSERT_TRUE(pinned);
  EXPECT_EQ(pinned->PublicKeyDer().value(), Cert("domain_ca.pem").PublicKeyDer().value());
  // The example set's own inconsistency (research note (a)): the voucher answers another nonce.
  EXPECT_NE(opened->value.nonce, HexDecode("23BFBBC9C2BCF213").value());
}

TEST_F(DraftExamplesTest, AnotherKeyDoesNotVerify) {
  auto opened = OpenCoseVoucher(Example("voucher.hex"), {Cert("registrar.pem")});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), ErrorCode::kSecurity);
  EXPECT_NE(opened.error().message().find("does not verify"), std::string::npos);
}

// --- Round trips over random artifacts --------------------------------------------------------

class RandomArtifacts {
 public:
  explicit RandomArtifacts(uint32_t seed) : engine_(seed) {}

  Bytes RandomBytes(size_t min, size_t max) {
    Bytes bytes(std::uniform_int_distribution<size_t>(min, max)(engine_));
    for (auto& byte : bytes) {
      byte = static_cast<uint8_t>(engine_());
    }
    return bytes;
  }

  bool Coin() { return (engine_() & 1) != 0; }

  SystemTime Time() {
    return FromUnixSeconds(std::uniform_int_distribution<int64_t>(0, 4102444800)(engine_));
  }

  std::string Serial() {
    std::string serial;
    size_t size = std::uniform_int_distribution<size_t>(1, 40)(engine_);
    for (size_t i = 0; i < size; ++i) {
      serial += static_cast<char>(std::uniform_int_distribution<int>(0x20, 0x7e)(engine_));
    }
    return serial;
  }

  Assertion AnyAssertion() {
    return static_cast<Assertion>(std::uniform_int_distribution<int>(0, 3)(engine_));
  }

  Voucher MakeVoucher() {
    Voucher v;
    v.assertion = AnyAssertion();
    v.created_on = Time();
    v.serial_number = Serial();
    v.nonce = Coin() ? RandomBytes(8, 32) : Bytes{};
    if (v.nonce.empty() || Coin()) {
      v.expires_on = Time();
    }
    v.pinned_domain_cert = RandomBytes(1, 900);
    v.pinned_domain_pubk = Coin() ? RandomBytes(1, 91) : Bytes{};
    v.idevid_issuer = Coin() ? RandomBytes(1, 40) : Bytes{};
    v.domain_cert_revocation_checks = Coin();
    return v;
  }

  VoucherRequest MakeRequest() {
    VoucherRequest r;
    r.assertion = AnyAssertion();
    if (Coin()) {
      r.created_on = Time();
    }
    r.serial_number = Serial();
    r.nonce = Coin() ? RandomBytes(8, 32) : Bytes{};
    r.proximity_registrar_cert = Coin() ? RandomBytes(1, 600) : Bytes{};
    r.proximity_registrar_pubk = Coin() ? RandomBytes(1, 91) : Bytes{};
    r.idevid_issuer = Coin() ? RandomBytes(1, 40) : Bytes{};
    r.prior_signed_voucher_request = Coin() ? RandomBytes(1, 3000) : Bytes{};
    return r;
  }

 private:
  std::mt19937 engine_;
};

void ExpectSame(const Voucher& a, const Voucher& b) {
  EXPECT_EQ(a.assertion, b.assertion);
  EXPECT_EQ(a.created_on, b.created_on);
  EXPECT_EQ(a.expires_on, b.expires_on);
  EXPECT_EQ(a.serial_number, b.serial_number);
  EXPECT_EQ(a.nonce, b.nonce);
  EXPECT_EQ(a.pinned_domain_cert, b.pinned_domain_cert);
  EXPECT_EQ(a.pinned_domain_pubk, b.pinned_domain_pubk);
  EXPECT_EQ(a.idevid_issuer, b.idevid_issuer);
  EXPECT_EQ(a.domain_cert_revocation_checks, b.domain_cert_revocation_checks);
}

void ExpectSame(const VoucherRequest& a, const VoucherRequest& b) {
  EXPECT_EQ(a.assertion, b.assertion);
  EXPECT_EQ(a.created_on, b.created_on);
  EXPECT_EQ(a.serial_number, b.serial_number);
  EXPECT_EQ(a.nonce, b.nonce);
  EXPECT_EQ(a.proximity_registrar_cert, b.proximity_registrar_cert);
  EXPECT_EQ(a.proximity_registrar_pubk, b.proximity_registrar_pubk);
  EXPECT_EQ(a.idevid_issuer, b.idevid_issuer);
  EXPECT_EQ(a.prior_signed_voucher_request, b.prior_signed_voucher_request);
}

TEST(VoucherCborTest, RandomVouchersRoundTrip) {
  RandomArtifacts random(20261207);
  for (int i = 0; i < 500; ++i) {
    Voucher original = random.MakeVoucher();
    Bytes encoded = EncodeVoucherCbor(original).value();
    auto decoded = DecodeVoucherCbor(encoded);
    ASSERT_TRUE(decoded) << "case " << i << ": " << decoded.error().ToString();
    ExpectSame(original, *decoded);
    EXPECT_EQ(EncodeVoucherCbor(*decoded).value(), encoded) << "case " << i;
  }
}

TEST(VoucherCborTest, RandomRequestsRoundTrip) {
  RandomArtifacts random(7);
  for (int i = 0; i < 500; ++i) {
    VoucherRequest original = random.MakeRequest();
    Bytes encoded = EncodeVoucherRequestCbor(original).value();
    auto decoded = DecodeVoucherRequestCbor(encoded);
    ASSERT_TRUE(decoded) << "case " << i << ": " << decoded.error().ToString();
    ExpectSame(original, *decoded);
    EXPECT_EQ(EncodeVoucherRequestCbor(*decoded).value(), encoded) << "case " << i;
  }
}

TEST(VoucherCborTest, SignedArtifactsRoundTripThroughCose) {
  RandomArtifacts random(99);
  auto key = crypto::PrivateKey::GenerateP256().value();
  auto other = crypto::PrivateKey::GenerateP256().value();
  for (int i = 0; i < 50; ++i) {
    Voucher original = random.MakeVoucher();
    Bytes signed_voucher = SignCoseVoucher(original, key, {}).value();
    auto pub = crypto::PublicKeyFromDer(key.PublicKeyDer().value()).value();
    auto message = cose::DecodeSign1(signed_voucher).value();
    ASSERT_TRUE(cose::VerifySign1(message, pub.get()));
    auto other_pub = crypto::PublicKeyFromDer(other.PublicKeyDer().value()).value();
    EXPECT_FALSE(cose::VerifySign1(message, other_pub.get()));
    ExpectSame(original, DecodeVoucherCbor(*message.payload).value());
  }
}

// Names in place of SIDs, as the cBRSKI RVR example and some MASAs write them.
TEST(VoucherCborTest, NameKeysAndMixedKeysDecode) {
  // {"ietf-voucher-request:voucher": {"assertion": "proximity", 7: h'0102030405060708',
  //  "serial-number": "SN-1"}}
  Bytes mixed = HexDecode(
                    "A1781C696574662D766F75636865722D726571756573743A766F7563686572A3"
                    "69617373657274696F6E6970726F78696D697479074801020304050607086D73"
                    "657269616C2D6E756D62657264534E2D31")
                    .value();
  auto decoded = DecodeVoucherRequestCbor(mixed);
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(decoded->assertion, Assertion::kProximity);
  EXPECT_EQ(decoded->serial_number, "SN-1");
  EXPECT_EQ(decoded->nonce, HexDecode("0102030405060708").value());
}

void ExpectRefused(const Bytes& cbor, const std::string& words) {
  auto decoded = DecodeVoucherRequestCbor(cbor);
  ASSERT_FALSE(decoded) << "accepted: " << HexEncode(cbor);
  EXPECT_NE(decoded.error().message().find(words), std::string::npos) << decoded.error().ToString();
}

TEST(VoucherCborTest, RefusesWhatIsNotAVoucherRequest) {
  // {2451: {...}}: a voucher where a request belongs.
  ExpectRefused(HexDecode("A1190993A10102").value(), "not SID 2501");
  // Unknown delta 40.
  ExpectRefused(HexDecode("A11909C5A20102182801").value(), "unknown key 40 (SID 2541)");
  // assertion twice (as SID 1 and by name).
  ExpectRefused(HexDecode("A11909C5A3010269617373657274696F6E010D6153").value(),
                "assertion appears twice");
  // A four-byte nonce.
  ExpectRefused(HexDecode("A11909C5A301020744010203040D6153").value(), "8 to 32 bytes");
  // Truncated CBOR.
  ExpectRefused(HexDecode("A11909C5A3010207").value(), "");
  // No serial-number.
  ExpectRefused(HexDecode("A11909C5A10102").value(), "serial-number: missing");
  // assertion 9.
  ExpectRefused(HexDecode("A11909C5A201090D6153").value(), "unknown value 9");
}

TEST(CoseVoucherTest, RefusesTamperingUnsignedAndOversize) {
  auto masa = crypto::PrivateKey::GenerateP256().value();
  RandomArtifacts random(3);
  Voucher v = random.MakeVoucher();
  Bytes signed_voucher = SignCoseVoucher(v, masa, {}).value();
  // Without a known signer and no certificates carried, there is nothing to verify with.
  auto unsigned_ok = OpenCoseVoucher(signed_voucher, {});
  ASSERT_FALSE(unsigned_ok);
  EXPECT_NE(unsigned_ok.error().message().find("no certificate"), std::string::npos);
  // An unsigned CBOR voucher is not a COSE_Sign1.
  EXPECT_FALSE(OpenCoseVoucher(EncodeVoucherCbor(v).value(), {}));
  // Oversize.
  Bytes huge(kMaxVoucherSize + 1, 0);
  auto too_large = OpenCoseVoucher(huge, {});
  ASSERT_FALSE(too_large);
  EXPECT_EQ(too_large.error().code(), ErrorCode::kTooLarge);
}

// A MASA's voucher carries its signer in an unprotected x5bag for the registrar; the registrar
// forwards it without, and the pledge verifies it with the MASA key it was made with.
TEST(CoseVoucherTest, ForwardedVoucherLosesTheBagAndStillVerifies) {
  CryptoRandom entropy;
  auto issued =
      crypto::IssueWithNewKey(crypto::NewCertificateSpec({"Test MASA", "", ""}, SystemClock().Now(),
                                                         std::chrono::hours(24), entropy),
                              nullptr, nullptr);
  ASSERT_TRUE(issued) << issued.error().ToString();
  const crypto::PrivateKey& masa = issued->key;
  const crypto::Certificate* masa_cert = &issued->certificate;
  RandomArtifacts random(5);
  Voucher v = random.MakeVoucher();
  Bytes from_masa = SignCoseVoucher(v, masa, {*masa_cert}).value();
  auto at_registrar = OpenCoseVoucher(from_masa, {});
  ASSERT_TRUE(at_registrar) << at_registrar.error().ToString();
  EXPECT_EQ(at_registrar->signer, *masa_cert);
  Bytes forwarded = ForwardableVoucher(from_masa).value();
  EXPECT_LT(forwarded.size(), from_masa.size() - masa_cert->Der().size());
  EXPECT_TRUE(cose::DecodeSign1(forwarded).value().unprotected_headers.x5bag.empty());
  EXPECT_FALSE(OpenCoseVoucher(forwarded, {}));
  auto at_pledge = OpenCoseVoucher(forwarded, {*masa_cert});
  ASSERT_TRUE(at_pledge) << at_pledge.error().ToString();
  ExpectSame(v, at_pledge->value);
}

}  // namespace
}  // namespace concierge::voucher
