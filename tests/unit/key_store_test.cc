#include "crypto/key_store.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "common/temp_dir.h"
#include "fakes/test_pki.h"
#include "registrar/site_directory.h"

namespace concierge {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Verifies that key signs for certificate's public key.
void ExpectSignsFor(const crypto::PrivateKey& key, const crypto::Certificate& certificate) {
  Bytes data = ToBytes("to be signed");
  auto signature = key.Sign(data);
  ASSERT_TRUE(signature.has_value());
  EXPECT_TRUE(crypto::VerifySignature(certificate.PublicKey(), data, *signature).has_value());
}

TEST(KeyStoreTest, KeepsAKeyAsAPrivateFileAndLoadsItByPathOrFileUri) {
  TempDir dir;
  auto ca = testing::MakeTestCa(SystemClock().Now());
  const crypto::KeyStore& keys = crypto::DefaultKeyStore();
  fs::path path = dir.path() / "ca.key";
  ASSERT_TRUE(keys.Keep(path.string(), ca.key).has_value());
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  for (const std::string& reference :
       {path.string(), "file:" + path.string(), "file://" + path.string()}) {
    auto loaded = keys.Load(reference);
    ASSERT_TRUE(loaded.has_value()) << reference << ": " << loaded.error().message();
    ExpectSignsFor(*loaded, ca.certificate);
  }
}

TEST(KeyStoreTest, RefusesAKeyFileOthersCanRead) {
  TempDir dir;
  auto ca = testing::MakeTestCa(SystemClock().Now());
  fs::path path = dir.path() / "ca.key";
  ASSERT_TRUE(crypto::DefaultKeyStore().Keep(path.string(), ca.key).has_value());
  fs::permissions(path, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  auto loaded = crypto::DefaultKeyStore().Load(path.string());
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(loaded.error().message(), HasSubstr("chmod 600"));
  EXPECT_THAT(loaded.error().message(), HasSubstr(path.string()));
}

TEST(KeyStoreTest, ReferencesNoProviderOpensAreRefusedByName) {
  const crypto::KeyStore& keys = crypto::DefaultKeyStore();
  auto unknown = keys.Load("nosuchstore:key-1");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_THAT(unknown.error().message(), HasSubstr("nosuchstore:key-1"));

  auto missing = keys.Load("/nonexistent/dir/ca.key");
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing.error().message(), HasSubstr("/nonexistent/dir/ca.key"));

  EXPECT_EQ(keys.Load("").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(keys.Load(std::string(2000, 'a')).error().code(), ErrorCode::kTooLarge);

  auto ca = testing::MakeTestCa(SystemClock().Now());
  auto kept = keys.Keep("handle:0x81000001", ca.key);
  ASSERT_FALSE(kept.has_value());
  EXPECT_EQ(kept.error().code(), ErrorCode::kFailedPrecondition);
}

TEST(KeyReferencesTest, NamedRolesOverrideTheDefaultFileAndRelativePathsFollowTheDirectory) {
  Json config = Json::parse(R"({"keys": {"domain-ca": "handle:0x81000001",
                                         "registrar": "keys/registrar.key",
                                         "extra": "file:/etc/keys/extra.key"}})");
  auto references = crypto::KeyReferences::FromConfig(config, "/srv/site");
  ASSERT_TRUE(references.has_value());
  EXPECT_EQ(references->For("domain-ca"), "handle:0x81000001");
  EXPECT_EQ(references->For("registrar"), "/srv/site/keys/registrar.key");
  EXPECT_EQ(references->For("extra"), "/etc/keys/extra.key");
  EXPECT_EQ(references->For("other"), "/srv/site/other.key");
  EXPECT_TRUE(crypto::IsFileReference("keys/registrar.key"));
  EXPECT_FALSE(crypto::IsFileReference("pkcs11:token=site;object=ca"));

  EXPECT_FALSE(
      crypto::KeyReferences::FromConfig(Json::parse(R"({"keys": ["a"]})"), "/srv").has_value());
  auto not_string =
      crypto::KeyReferences::FromConfig(Json::parse(R"({"keys": {"domain-ca": 7}})"), "/srv");
  ASSERT_FALSE(not_string.has_value());
  EXPECT_THAT(not_string.error().message(), HasSubstr("keys.domain-ca"));
}

TEST(KeyStoreTest, LoadKeyPairRefusesAKeyThatIsNotTheCertificates) {
  TempDir dir;
  auto ca = testing::MakeTestCa(SystemClock().Now());
  auto other = testing::MakeTestCa(SystemClock().Now(), "Other CA");
  const crypto::KeyStore& keys = crypto::DefaultKeyStore();
  crypto::KeyReferences references(dir.path());
  ASSERT_TRUE(crypto::KeepKeyPair(keys, references, dir.path(), "ca", ca).has_value());
  ASSERT_TRUE(keys.Keep(references.For("ca"), other.key).has_value());
  auto loaded = crypto::LoadKeyPair(keys, references, dir.path(), "ca");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code(), ErrorCode::kSecurity);
  EXPECT_THAT(loaded.error().message(), HasSubstr("is not the key of"));
}

// TokenKeyStore stands in for a provider that holds keys in a token: it hands out the keys it
// holds by reference and accepts none made outside.
class TokenKeyStore final : public crypto::KeyStore {
 public:
  std::map<std::string, crypto::PrivateKey, std::less<>> held;
  mutable std::vector<std::string> loaded;

  Result<crypto::PrivateKey> Load(std::string_view reference) const override {
    loaded.emplace_back(reference);
    if (auto key = held.find(reference); key != held.end()) {
      return key->second;
    }
    return crypto::DefaultKeyStore().Load(reference);
  }

  Status Keep(std::string_view reference, const crypto::PrivateKey&) const override {
    return MakeError(ErrorCode::kFailedPrecondition, "token " + std::string(reference));
  }
};

TEST(SiteKeysTest, ASiteLoadsTheKeysItsConfigurationNames) {
  TempDir dir;
  SystemClock clock;
  CryptoRandom random;
  fs::path site = dir.path() / "site";
  ASSERT_TRUE(registrar::InitSiteDirectory(site, "Key Site", "", clock, random).has_value());

  // The domain CA's key moves into the token; site.json names it there.
  auto ca_key = crypto::DefaultKeyStore().Load((site / "domain-ca.key").string());
  ASSERT_TRUE(ca_key.has_value());
  TokenKeyStore token;
  token.held.emplace("token:domain-ca", *ca_key);
  fs::remove(site / "domain-ca.key");
  auto config = Json::parse(ReadFile(site / "site.json").value());
  config["keys"] = {{"domain-ca", "token:domain-ca"}};
  ASSERT_TRUE(WriteFileAtomic(site / "site.json", config.dump(2)).has_value());

  auto loaded = registrar::LoadSiteDirectory(site, token);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  EXPECT_THAT(token.loaded,
              ::testing::ElementsAre("token:domain-ca", (site / "registrar.key").string()));
  ExpectSignsFor(loaded->identity.domain_ca_key, loaded->identity.domain_ca);

  // Without the token the site cannot start, and says which key it lacks.
  auto without = registrar::LoadSiteDirectory(site);
  ASSERT_FALSE(without.has_value());
  EXPECT_THAT(without.error().message(), HasSubstr("token:domain-ca"));
}

}  // namespace
}  // namespace concierge
