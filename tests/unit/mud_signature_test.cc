#include "mud/mud_signature.h"

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "crypto/cms.h"
#include "fakes/test_pki.h"
#include "mud/mud_parser.h"

namespace concierge::mud {
namespace {

using ::testing::HasSubstr;

TEST(MudSignatureTest, SignatureUrlFollowsRfc8520) {
  MudFile file;
  file.mud_url = "https://mud.acme.example/thermostat.json";
  EXPECT_EQ(SignatureUrl(file), "https://mud.acme.example/thermostat.p7s");
  file.mud_url = "https://mud.acme.example/thermostat";
  EXPECT_EQ(SignatureUrl(file), "https://mud.acme.example/thermostat.p7s");
  file.mud_signature = "https://sig.acme.example/t.p7s";
  EXPECT_EQ(SignatureUrl(file), "https://sig.acme.example/t.p7s");
}

// A maker of the project's own signs a MUD file for its host.
class OwnSignatureTest : public ::testing::Test {
 protected:
  OwnSignatureTest()
      : now_(FromUnixSeconds(1800000000)),
        ca_(testing::MakeTestCa(now_, "Acme MUD CA")),
        signer_(Signer("mud.acme.example")) {}

  crypto::KeyAndCertificate Signer(const std::string& host) {
    CryptoRandom random;
    auto spec =
        crypto::NewCertificateSpec({host, "", "Acme"}, now_, std::chrono::hours(24), random);
    spec.subject_alt_names = "DNS:" + host;
    spec.key_usage = "critical,digitalSignature";
    return crypto::IssueWithNewKey(spec, &ca_.certificate, &ca_.key).value();
  }

  Bytes Sign(const Bytes& content, const crypto::KeyAndCertificate& signer) {
    return crypto::CmsSign(content, signer.certificate, signer.key, {}, {.detached = true}).value();
  }

  SignatureCheck Check() const { return {{ca_.certificate}, now_, ExpiredSignerPolicy::kRefuse}; }

  SystemTime now_;
  crypto::KeyAndCertificate ca_;
  crypto::KeyAndCertificate signer_;
  Bytes mud_ = ToBytes(R"({"ietf-mud:mud": {"mud-url": "https://mud.acme.example/t.json"}})");
  std::string url_ = "https://mud.acme.example/t.json";
};

TEST_F(OwnSignatureTest, VerifiesAndRefusesAlteredFilesOtherAnchorsAndOtherHosts) {
  Bytes signature = Sign(mud_, signer_);
  auto ok = VerifyMudSignature(mud_, signature, url_, Check());
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->checked_at, now_);

  Bytes altered = mud_;
  altered[10] ^= 1;
  auto tampered = VerifyMudSignature(altered, signature, url_, Check());
  ASSERT_FALSE(tampered);
  EXPECT_EQ(tampered.error().code(), ErrorCode::kSecurity);

  auto stranger = testing::MakeTestCa(now_, "Stranger CA");
  auto untrusted = VerifyMudSignature(mud_, signature, url_,
                                      {{stranger.certificate}, now_, ExpiredSignerPolicy::kRefuse});
  ASSERT_FALSE(untrusted);
  EXPECT_THAT(untrusted.error().message(), HasSubstr("does not chain"));

  // The same maker's CA, but a signer named for another host, cannot vouch for this URL.
  Bytes other_host = Sign(mud_, Signer("evil.example"));
  auto unbound = VerifyMudSignature(mud_, other_host, url_, Check());
  ASSERT_FALSE(unbound);
  EXPECT_THAT(unbound.error().message(), HasSubstr("is not bound to mud.acme.example"));

  auto garbage = VerifyMudSignature(mud_, ToBytes("not cms"), url_, Check());
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code(), ErrorCode::kBadFormat);
}

// Cisco's signed Luminaire example (../shared/testdata, not part of this repository): the
// signer chain was valid from 2018-07-12 to 2019-07-12.
class LuminaireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = std::filesystem::path(CONCIERGE_SHARED_TESTDATA) / "mud" / "cisco-mud-manager";
    if (!std::filesystem::is_directory(dir)) {
      GTEST_SKIP() << "shared MUD test data not found at " << dir;
    }
    json_ = ToBytes(ReadFile(dir / "Luminaire_150.json").value());
    signature_ = ToBytes(ReadFile(dir / "Luminaire_150.p7s").value());
    anchors_.push_back(
        crypto::Certificate::FromPem(ReadFile(dir / "luminaire-cacert.pem").value()).value());
    url_ = ParseMudJson(ToString(json_)).value().mud_url;
  }

  SignatureCheck At(SystemTime when, ExpiredSignerPolicy policy) const {
    return {anchors_, when, policy};
  }

  Bytes json_;
  Bytes signature_;
  std::vector<crypto::Certificate> anchors_;
  std::string url_;
};

TEST_F(LuminaireTest, VerifiesAtA2019Time) {
  auto result = VerifyMudSignature(
      json_, signature_, url_,
      At(ParseRfc3339("2019-01-01T00:00:00Z").value(), ExpiredSignerPolicy::kRefuse));
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->signer.SubjectCommonName(), "luminaire.example.com");
}

TEST_F(LuminaireTest, ExpiredSignerIsRefusedByDefault) {
  auto today = ParseRfc3339("2026-11-22T00:00:00Z").value();
  auto refused =
      VerifyMudSignature(json_, signature_, url_, At(today, ExpiredSignerPolicy::kRefuse));
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("certificate has expired"));

  auto accepted = VerifyMudSignature(json_, signature_, url_,
                                     At(today, ExpiredSignerPolicy::kTrustSigningTime));
  ASSERT_TRUE(accepted) << accepted.error().ToString();
  EXPECT_EQ(FormatRfc3339(accepted->checked_at), "2018-09-17T22:20:06Z");
}

TEST_F(LuminaireTest, SigningTimePolicyDoesNotTrustTheFuture) {
  // Before the signature was made, the signing time is in the future: no escape hatch then.
  auto before = ParseRfc3339("2018-08-01T00:00:00Z").value();
  auto result = VerifyMudSignature(json_, signature_, url_,
                                   At(before, ExpiredSignerPolicy::kTrustSigningTime));
  EXPECT_TRUE(result) << "the chain is valid at this time anyway";
  auto long_before = ParseRfc3339("2017-01-01T00:00:00Z").value();
  EXPECT_FALSE(VerifyMudSignature(json_, signature_, url_,
                                  At(long_before, ExpiredSignerPolicy::kTrustSigningTime)));
}

}  // namespace
}  // namespace concierge::mud
