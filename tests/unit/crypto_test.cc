#include <openssl/cms.h>
#include <openssl/x509v3.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/random.h"
#include "crypto/certificate_builder.h"
#include "crypto/cms.h"
#include "fakes/test_pki.h"

namespace concierge::crypto {
namespace {

using ::testing::HasSubstr;

class CryptoTest : public ::testing::Test {
 protected:
  CryptoTest() : now_(FromUnixSeconds(1800000000)), ca_(testing::MakeTestCa(now_)) {}

  std::pair<Certificate, PrivateKey> Leaf(std::chrono::hours validity) {
    auto leaf = testing::MakeTestLeaf(ca_, now_, validity);
    return {leaf.certificate, leaf.key};
  }

  CryptoRandom random_;
  SystemTime now_;
  KeyAndCertificate ca_;
};

TEST(PublicKeyTest, ReadsSubjectPublicKeyInfoAndRefusesPointsOffTheCurve) {
  auto key = PrivateKey::GenerateP256().value();
  Bytes der = key.PublicKeyDer().value();
  auto read = PublicKeyFromDer(der);
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_EQ(PublicKeyDer(read->get()).value(), der);
  Bytes data = ToBytes("signed");
  EXPECT_TRUE(VerifySignature(read->get(), data, key.Sign(data).value()));

  Bytes off_curve = der;
  off_curve.back() ^= 0x01;  // y no longer matches x
  auto refused = PublicKeyFromDer(off_curve);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("not on the curve"));
  EXPECT_FALSE(PublicKeyFromDer(Bytes(der.begin(), der.end() - 1)));

  OpenSslPtr<EVP_PKEY> ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  Bytes ed_der = PublicKeyDer(ed25519.get()).value();
  auto ed_read = PublicKeyFromDer(ed_der);
  ASSERT_TRUE(ed_read);
  EXPECT_EQ(EVP_PKEY_get_base_id(ed_read->get()), EVP_PKEY_ED25519);
}

TEST_F(CryptoTest, IssuedCertificateCarriesWhatWasAsked) {
  auto [leaf, key] = Leaf(std::chrono::hours(24));
  EXPECT_EQ(leaf.SubjectSerialNumber(), "SN-1");
  EXPECT_EQ(leaf.Ia5Extension(kOidMasaUrl).value(), "masa.example:443");
  EXPECT_EQ(leaf.Ia5Extension(kOidMudUrl).value(), "");
  EXPECT_FALSE(leaf.AuthorityKeyIdExtnValue().empty());
  EXPECT_EQ(leaf.AuthorityKeyIdExtnValue()[0], 0x04);  // the OCTET STRING wrapper
  EXPECT_EQ(Certificate::FromDer(leaf.Der()).value(), leaf);
  EXPECT_EQ(Certificate::FromPem(leaf.Pem()).value(), leaf);
}

TEST(HostBindingTest, AddressesMatchIpNamesAndNamesMatchDnsNames) {
  CryptoRandom random;
  auto spec = NewCertificateSpec({"signer", "", "Acme"}, FromUnixSeconds(1800000000),
                                 std::chrono::hours(24), random);
  spec.subject_alt_names = "IP:127.0.0.1,DNS:mud.acme.example";
  auto issued = IssueWithNewKey(spec, nullptr, nullptr).value();
  EXPECT_TRUE(issued.certificate.MatchesHost("127.0.0.1"));
  EXPECT_TRUE(issued.certificate.MatchesHost("mud.acme.example"));
  EXPECT_FALSE(issued.certificate.MatchesHost("127.0.0.2"));
  EXPECT_FALSE(issued.certificate.MatchesHost("::1"));
  EXPECT_FALSE(issued.certificate.MatchesHost("other.example"));
}

TEST_F(CryptoTest, ChainChecksUseTheGivenTime) {
  auto [leaf, key] = Leaf(std::chrono::hours(24));
  EXPECT_TRUE(VerifyChain(leaf, {}, {ca_.certificate}, {.at = now_}));
  auto expired = VerifyChain(leaf, {}, {ca_.certificate}, {.at = now_ + std::chrono::hours(48)});
  ASSERT_FALSE(expired);
  EXPECT_THAT(expired.error().message(), HasSubstr("expired"));
  auto other = testing::MakeTestCa(now_, "Other CA");
  EXPECT_FALSE(VerifyChain(leaf, {}, {other.certificate}, {.at = now_}));
  EXPECT_FALSE(VerifyChain(leaf, {}, {leaf}, {.at = now_}));
  EXPECT_TRUE(VerifyChain(leaf, {}, {leaf}, {.at = now_, .allow_partial = true}));
}

TEST_F(CryptoTest, NeverExpiringCertificatesUse99991231) {
  auto key = PrivateKey::GenerateP256().value();
  CertificateSpec spec;
  spec.subject = {"idevid", "SN-2", ""};
  spec.public_key = key.get();
  spec.serial = random_.Generate(16);
  spec.not_before = now_;
  spec.no_expiration = true;
  auto cert = IssueCertificate(spec, &ca_.certificate, ca_.key).value();
  EXPECT_GT(cert.NotAfter(), now_ + std::chrono::hours(24 * 365 * 100));
}

TEST_F(CryptoTest, SubjectAltNamesAreListedOnceAndKeyIdsLinkToTheIssuer) {
  auto key = PrivateKey::GenerateP256().value();
  CertificateSpec spec =
      NewCertificateSpec({"registrar", "", "Site"}, now_, std::chrono::hours(24), random_);
  spec.public_key = key.get();
  spec.subject_alt_names =
      "DNS:localhost,IP:127.0.0.1, DNS:localhost,DNS:site.example,IP:127.0.0.1";
  Certificate cert = IssueCertificate(spec, &ca_.certificate, ca_.key).value();
  std::unique_ptr<GENERAL_NAMES, decltype(&GENERAL_NAMES_free)> names(
      static_cast<GENERAL_NAMES*>(
          X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)),
      &GENERAL_NAMES_free);
  ASSERT_TRUE(names);
  EXPECT_EQ(sk_GENERAL_NAME_num(names.get()), 3);
  // Self-signed or not, the authority key identifier is the issuer's subject key identifier
  // (OpenSSL's "keyid" left a self-signed CA's empty).
  for (const Certificate* issued : {&cert, &ca_.certificate}) {
    const ASN1_OCTET_STRING* authority = X509_get0_authority_key_id(issued->get());
    ASSERT_NE(authority, nullptr);
    EXPECT_EQ(Bytes(ASN1_STRING_get0_data(authority),
                    ASN1_STRING_get0_data(authority) + ASN1_STRING_length(authority)),
              ca_.certificate.SubjectKeyId());
  }
}

TEST_F(CryptoTest, CmsSignatureCoversTheContent) {
  auto [leaf, key] = Leaf(std::chrono::hours(24));
  Bytes signed_data = CmsSign(ToBytes("hello"), leaf, key, {ca_.certificate}).value();
  auto opened = CmsVerifySignature(signed_data).value();
  EXPECT_EQ(ToString(opened.content), "hello");
  EXPECT_EQ(opened.signer, leaf);
  EXPECT_EQ(opened.certificates.size(), 2u);

  std::string text = ToString(signed_data);
  size_t at = text.find("hello");
  ASSERT_NE(at, std::string::npos);
  signed_data[at] = 'j';
  auto tampered = CmsVerifySignature(signed_data);
  ASSERT_FALSE(tampered);
  EXPECT_EQ(tampered.error().code(), ErrorCode::kSecurity);
}

// RFC 8366 §5.3: vouchers and voucher-requests are id-ct-animaJSONVoucher; peers that send
// id-data are still accepted (brski.md §12.4).
TEST_F(CryptoTest, CmsCarriesTheContentTypeItIsGivenAndAcceptsBothVoucherTypes) {
  auto [leaf, key] = Leaf(std::chrono::hours(24));
  Bytes voucher =
      CmsSign(ToBytes("{}"), leaf, key, {}, {.content_type = kOidAnimaJsonVoucher}).value();
  EXPECT_EQ(CmsVerifySignature(voucher).value().content_type, kOidAnimaJsonVoucher);
  Bytes data = CmsSign(ToBytes("{}"), leaf, key, {}).value();
  EXPECT_EQ(CmsVerifySignature(data).value().content_type, kOidData);
  Bytes other =
      CmsSign(ToBytes("{}"), leaf, key, {}, {.content_type = "1.2.840.113549.1.9.16.1.4"}).value();
  auto refused = CmsVerifySignature(other);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(),
              HasSubstr("is neither id-data nor id-ct-animaJSONVoucher"));
}

// RFC 5272 §4.1 / RFC 7030 §4.1.3: a certs-only reply has no eContent at all (it had an empty
// one).
TEST_F(CryptoTest, CertsOnlyHasNoEncapsulatedContent) {
  auto [leaf, key] = Leaf(std::chrono::hours(24));
  Bytes der = CertsOnlyDer({leaf, ca_.certificate}).value();
  const unsigned char* p = der.data();
  OpenSslPtr<CMS_ContentInfo> cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_TRUE(cms);
  EXPECT_EQ(OBJ_obj2nid(CMS_get0_eContentType(cms.get())), NID_pkcs7_data);
  ASSERT_NE(CMS_get0_content(cms.get()), nullptr);
  EXPECT_EQ(*CMS_get0_content(cms.get()), nullptr) << "eContent must be absent, not empty";
  EXPECT_EQ(sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms.get())), 0);
  EXPECT_EQ(ParseCertsOnly(der).value().size(), 2u);
}

TEST_F(CryptoTest, CmsRejectsTrailingBytesAndNonSignedData) {
  auto [leaf, key] = Leaf(std::chrono::hours(24));
  Bytes signed_data = CmsSign(ToBytes("x"), leaf, key, {}).value();
  signed_data.push_back(0);
  EXPECT_EQ(CmsVerifySignature(signed_data).error().code(), ErrorCode::kBadFormat);
  Bytes certs_only = CertsOnlyDer({leaf, ca_.certificate}).value();
  EXPECT_EQ(ParseCertsOnly(certs_only).value().size(), 2u);
  EXPECT_FALSE(CmsVerifySignature(certs_only));  // no signer
}

TEST_F(CryptoTest, DetachedSignatureCoversTheGivenContentOnly) {
  auto [leaf, key] = Leaf(std::chrono::hours(24));
  Bytes content = ToBytes("mud file");
  Bytes detached = CmsSign(content, leaf, key, {}, {.detached = true}).value();
  auto verified = CmsVerifyDetached(content, detached);
  ASSERT_TRUE(verified) << verified.error().ToString();
  EXPECT_EQ(verified->signer, leaf);
  EXPECT_TRUE(verified->signing_time.has_value());
  EXPECT_EQ(CmsVerifyDetached(ToBytes("mud filE"), detached).error().code(), ErrorCode::kSecurity);
  Bytes attached = CmsSign(content, leaf, key, {}).value();
  auto refused = CmsVerifyDetached(content, attached);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kBadFormat);
}

TEST_F(CryptoTest, CsrProvesPossessionAndCarriesTheSubject) {
  auto key = PrivateKey::GenerateP256().value();
  Bytes der = Csr::CreateDer(key, {"cn", "SN-7", ""}).value();
  auto csr = Csr::FromDer(der).value();
  EXPECT_TRUE(csr.VerifySelfSignature());
  EXPECT_EQ(csr.SubjectSerialNumber(), "SN-7");
  der[der.size() - 5] ^= 1;  // inside the signature
  auto broken = Csr::FromDer(der);
  if (broken) {
    EXPECT_FALSE(broken->VerifySelfSignature());
  }
  EXPECT_FALSE(Csr::FromDer(ToBytes("not a csr")));
}

TEST_F(CryptoTest, SignAndVerifyRawData) {
  auto key = PrivateKey::GenerateP256().value();
  Bytes sig = key.Sign(ToBytes("data")).value();
  EXPECT_TRUE(VerifySignature(key.get(), ToBytes("data"), sig));
  EXPECT_FALSE(VerifySignature(key.get(), ToBytes("date"), sig));
}

}  // namespace
}  // namespace concierge::crypto
