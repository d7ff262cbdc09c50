// COSE_Sign1 against the COSE working group's examples (../shared/testdata/cose): every pass
// vector verifies, every fail vector is refused, the deterministic EdDSA vectors re-sign to the
// same bytes; and the CBOR reader refuses what it must.
#include <algorithm>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "common/files.h"
#include "cose/cbor.h"
#include "cose/sign1.h"
#include "crypto/key.h"

namespace concierge::cose {
namespace {

using Json = nlohmann::json;

Bytes Base64Url(std::string text) {
  std::ranges::replace(text, '-', '+');
  std::ranges::replace(text, '_', '/');
  return Base64Decode(text).value();
}

Bytes Coordinate(const Json& key, const std::string& name) {
  if (key.contains(name + "_hex")) {
    return HexDecode(key[name + "_hex"].get<std::string>()).value();
  }
  return Base64Url(key[name].get<std::string>());
}

crypto::OpenSslPtr<EVP_PKEY> PublicKey(const Json& key) {
  auto curve = key["crv"].get<std::string>();
  auto made = key["kty"] == "EC" ? EcPublicKey(curve, Coordinate(key, "x"), Coordinate(key, "y"))
                                 : OkpPublicKey(curve, Coordinate(key, "x"));
  EXPECT_TRUE(made) << (made ? "" : made.error().ToString());
  return made ? std::move(*made) : nullptr;
}

struct Vector {
  std::string name;
  Json document;

  const Json& sign() const { return document["input"]["sign0"]; }

  bool should_fail() const { return document.value("fail", false); }

  Bytes message() const { return HexDecode(document["output"]["cbor"].get<std::string>()).value(); }

  Bytes external() const {
    return sign().contains("external") ? HexDecode(sign()["external"].get<std::string>()).value()
                                       : Bytes{};
  }
};

class CoseVectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::path dir = std::filesystem::path(CONCIERGE_SHARED_TESTDATA) / "cose";
    if (!std::filesystem::exists(dir)) {
      GTEST_SKIP() << "COSE vectors not found at " << dir;
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() == ".json") {
        vectors_.push_back(
            {entry.path().filename().string(), Json::parse(ReadFile(entry.path()).value())});
      }
    }
    std::ranges::sort(vectors_, {}, &Vector::name);
  }

  Status Check(const Vector& vector) {
    ASSIGN_OR_RETURN(Sign1 message, DecodeSign1(vector.message()));
    crypto::OpenSslPtr<EVP_PKEY> key = PublicKey(vector.sign()["key"]);
    if (!key) {
      return MakeError(ErrorCode::kInternal, "no key");
    }
    return VerifySign1(message, key.get(), vector.external());
  }

  std::vector<Vector> vectors_;
};

TEST_F(CoseVectorTest, EveryPassVectorVerifiesAndEveryFailVectorIsRefused) {
  ASSERT_EQ(vectors_.size(), 14u);
  int passes = 0;
  int fails = 0;
  for (const Vector& vector : vectors_) {
    Status checked = Check(vector);
    if (vector.should_fail()) {
      ++fails;
      EXPECT_FALSE(checked) << vector.name << " must be refused";
    } else {
      ++passes;
      EXPECT_TRUE(checked) << vector.name << ": " << (checked ? "" : checked.error().ToString());
    }
  }
  EXPECT_EQ(passes, 8);
  EXPECT_EQ(fails, 6);
}

TEST_F(CoseVectorTest, FailVectorsAreRefusedForTheirOwnReason) {
  auto reason = [&](const std::string& name) {
    for (const Vector& vector : vectors_) {
      if (vector.name == name) {
        Status checked = Check(vector);
        return checked ? std::string("accepted") : checked.error().message();
      }
    }
    return std::string("missing");
  };
  EXPECT_NE(reason("sign1-tests_sign-fail-01.json").find("tag 998"), std::string::npos);
  EXPECT_NE(reason("sign1-tests_sign-fail-02.json").find("does not verify"), std::string::npos);
  EXPECT_NE(reason("sign1-tests_sign-fail-03.json").find("unsupported COSE algorithm -999"),
            std::string::npos);
  EXPECT_NE(reason("sign1-tests_sign-fail-04.json").find("unsupported algorithm"),
            std::string::npos);
  EXPECT_NE(reason("sign1-tests_sign-fail-06.json").find("does not verify"), std::string::npos);
  EXPECT_NE(reason("sign1-tests_sign-fail-07.json").find("does not verify"), std::string::npos);
}

TEST_F(CoseVectorTest, EmptyProtectedMapEntersTheSignatureAsAnEmptyString) {
  int checked = 0;
  for (const Vector& vector : vectors_) {
    if (vector.name != "sign1-tests_sign-pass-01.json") {
      continue;
    }
    ++checked;
    Sign1 message = DecodeSign1(vector.message()).value();
    EXPECT_EQ(message.protected_bucket, Bytes{0xa0});
    EXPECT_FALSE(message.protected_headers.algorithm);
    EXPECT_EQ(message.unprotected_headers.algorithm, -7);
    // The vector signed over h'' (ToBeSign_hex), not over the h'A0' it sends.
    std::string signed_over = vector.document["intermediates"]["ToBeSign_hex"];
    std::ranges::transform(signed_over, signed_over.begin(), ::tolower);
    Bytes payload = message.payload.value_or(Bytes{});
    EXPECT_EQ(HexEncode(SigStructure({}, {}, payload).value()), signed_over);
    EXPECT_NE(HexEncode(SigStructure(message.protected_bucket, {}, payload).value()), signed_over);
  }
  EXPECT_EQ(checked, 1);
}

TEST_F(CoseVectorTest, DeterministicEdDsaVectorsResignToTheSameBytes) {
  int checked = 0;
  for (const Vector& vector : vectors_) {
    const Json& key = vector.sign()["key"];
    if (key["kty"] != "OKP") {
      continue;
    }
    auto private_key = OkpPrivateKey(key["crv"].get<std::string>(), Coordinate(key, "d")).value();
    Sign1 original = DecodeSign1(vector.message()).value();
    SignOptions options;
    options.content_type = original.protected_headers.content_type;
    options.key_id = original.unprotected_headers.key_id;
    Bytes signed_again =
        SignSign1(private_key.get(), original.payload.value_or(Bytes{}), options).value();
    EXPECT_EQ(HexEncode(signed_again), HexEncode(vector.message())) << vector.name;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST(CoseSign1Test, SignsAndVerifiesWithProjectKeysAndRefusesOthers) {
  auto key = crypto::PrivateKey::GenerateP256().value();
  auto other = crypto::PrivateKey::GenerateP256().value();
  Bytes payload = ToBytes("hand the house over");
  SignOptions options;
  options.external_aad = ToBytes("context");
  Bytes message = SignSign1(key.get(), payload, options).value();
  Sign1 decoded = DecodeSign1(message, TagRule::kRequired).value();
  EXPECT_TRUE(decoded.tagged);
  EXPECT_TRUE(VerifySign1(decoded, key.get(), options.external_aad));
  EXPECT_FALSE(VerifySign1(decoded, key.get(), ToBytes("other context")));
  EXPECT_FALSE(VerifySign1(decoded, other.get(), options.external_aad));
  auto ed25519 = OkpPrivateKey("Ed25519", Bytes(32, 7)).value();
  auto refused = VerifySign1(decoded, ed25519.get(), options.external_aad);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("does not match the key"), std::string::npos);
}

TEST(CoseSign1Test, DetachedPayloadAndTagRules) {
  auto key = crypto::PrivateKey::GenerateP256().value();
  Bytes message = SignSign1(key.get(), ToBytes("payload")).value();
  Bytes untagged(message.begin() + 1, message.end());  // drop the one-byte tag 18 head
  EXPECT_TRUE(DecodeSign1(untagged, TagRule::kOptional));
  auto refused = DecodeSign1(untagged, TagRule::kRequired);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("tag (18) is required"), std::string::npos);
  Sign1 decoded = DecodeSign1(message).value();
  decoded.payload.reset();
  EXPECT_FALSE(VerifySign1(decoded, key.get()));
  Bytes detached = ToBytes("payload");
  EXPECT_TRUE(VerifySign1(decoded, key.get(), {}, &detached));
}

// Found by fuzzing: a float where the payload goes made libcbor's cbor_is_null assert and abort.
TEST(CoseSign1Test, AFloatPayloadIsRefusedNotFatal) {
  for (const char* hex : {"8446a2012630183ca11100fa0000000000", "d28443a10360a0f900f641f6",
                          "d28443a10360a0fb000000000000000041f6"}) {
    auto decoded = DecodeSign1(HexDecode(hex).value());
    ASSERT_FALSE(decoded) << hex;
    EXPECT_NE(decoded.error().message().find("payload: expected a byte string"), std::string::npos)
        << decoded.error().message();
  }
}

TEST(CborTest, OnlyTheSimpleValueNullIsNull) {
  for (auto [hex, is_null] : {std::pair<const char*, bool>{"f6", true},
                              {"f7", false},
                              {"f4", false},
                              {"f900f6", false},
                              {"fa00000000", false},
                              {"fb0000000000000000", false},
                              {"00", false},
                              {"40", false}}) {
    EXPECT_EQ(IsNull(DecodeCbor(HexDecode(hex).value(), "item").value().get()), is_null) << hex;
  }
}

TEST(CborTest, RefusesWhatTheFormatsNeverUse) {
  struct Case {
    const char* hex;
    const char* expected;
  };

  for (const Case& c :
       {Case{"", "truncated"}, Case{"9f01ff", "indefinite"}, Case{"5f4101ff", "indefinite"},
        Case{"820102ff", "trailing bytes"}, Case{"830102", "more items than input"},
        Case{"19ff", "truncated head"}, Case{"5a00010000", "longer than the input"},
        Case{"9b00000000ffffffff", "more items than input"}, Case{"1c", "reserved"}}) {
    auto decoded = DecodeCbor(HexDecode(c.hex).value(), "test item");
    ASSERT_FALSE(decoded) << c.hex;
    EXPECT_NE(decoded.error().message().find(c.expected), std::string::npos)
        << c.hex << ": " << decoded.error().message();
    EXPECT_NE(decoded.error().message().find("test item"), std::string::npos);
  }
  Bytes deep(kMaxCborDepth + 1, 0x81);
  deep.push_back(0x00);
  auto refused = DecodeCbor(deep, "deep");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("nested too deeply"), std::string::npos);
  Bytes fits(kMaxCborDepth, 0x81);
  fits.push_back(0x00);
  EXPECT_TRUE(DecodeCbor(fits, "deep enough"));
}

TEST(CborTest, IntegersUseTheShortestHead) {
  for (auto [value, hex] : {std::pair<int64_t, const char*>{0, "00"},
                            {23, "17"},
                            {24, "1818"},
                            {-1, "20"},
                            {-7, "26"},
                            {-35, "3822"},
                            {65536, "1a00010000"},
                            {-999, "3903e6"}}) {
    EXPECT_EQ(HexEncode(EncodeCbor(BuildInt(value).get()).value()), hex) << value;
    EXPECT_EQ(ReadInt(DecodeCbor(HexDecode(hex).value(), "int").value().get(), "int").value(),
              value);
  }
}

}  // namespace
}  // namespace concierge::cose
