// `concierge mud check`: what a maker learns about a MUD file with no site: its refusal with
// the JSON path and a hint, what was ignored, each entry and the rules it compiles to, and
// whether its signature holds.
#include "firewall/mud_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/cms.h"
#include "fakes/test_pki.h"

namespace concierge::firewall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::string_view kLamp = R"({
  "ietf-mud:mud": {
    "mud-version": 1, "mud-url": "https://mud.acme.example/lamp.json",
    "last-update": "2026-11-01T10:00:00Z", "is-supported": true, "systeminfo": "Acme lamp",
    "acme:colour": "blue",
    "from-device-policy": {"access-lists": {"access-list": [{"name": "out"}]}}
  },
  "ietf-access-control-list:acls": {"acl": [
    {"name": "out", "type": "ipv4-acl-type", "aces": {"ace": [
      {"name": "cloud", "matches": {
         "ipv4": {"protocol": 6, "destination-ipv4-network": "198.51.100.0/24"},
         "tcp": {"destination-port": {"operator": "eq", "port": 443},
                 "ietf-mud:direction-initiated": "from-device"}},
       "actions": {"forwarding": "accept"}},
      {"name": "no-telnet", "matches": {"tcp": {"destination-port": {"port": 23}}},
       "actions": {"forwarding": "drop"}}]}}]}
})";

TEST(MudCheckTest, ListsEachEntryWithTheRulesItCompilesTo) {
  MudCheckReport report = CheckMudFile(kLamp, std::nullopt, FromUnixSeconds(1800000000));
  ASSERT_TRUE(report.ok()) << report.refused->error;
  EXPECT_EQ(report.mud_url, "https://mud.acme.example/lamp.json");
  EXPECT_THAT(report.warnings,
              ElementsAre("ietf-mud:mud.acme:colour: ignored: not understood (RFC 8520 §3.9)"));
  ASSERT_EQ(report.entries.size(), 2u);
  const CheckedEntry& cloud = report.entries[0];
  EXPECT_EQ(cloud.direction, "from-device");
  EXPECT_EQ(cloud.action, "accept");
  EXPECT_EQ(cloud.matches,
            "tcp, to 198.51.100.0/24, destination port 443, connections the "
            "device opens");
  ASSERT_EQ(cloud.rules.size(), 1u);
  EXPECT_THAT(cloud.rules[0], HasSubstr("ip daddr 198.51.100.0/24 tcp dport 443 ct direction "
                                        "original return comment \"out/cloud\""));
  EXPECT_EQ(report.entries[1].action, "drop");
  EXPECT_THAT(report.entries[1].rules[0], HasSubstr("tcp dport 23 drop"));
  EXPECT_FALSE(report.signer);
}

TEST(MudCheckTest, ARefusalNamesThePathAndSaysWhatToDo) {
  std::string bad(kLamp);
  bad.replace(bad.find("\"port\": 443"), 11, "\"port\": 70000");
  MudCheckReport report = CheckMudFile(bad, std::nullopt, FromUnixSeconds(1800000000));
  ASSERT_TRUE(report.refused);
  EXPECT_EQ(report.refused->error,
            "acls.acl[0].aces.ace[0].matches.tcp.destination-port.port: expected 0..65535");
  EXPECT_EQ(report.refused->hint, "ports are 0 to 65535");
  EXPECT_THAT(HintFor("acls.acl[0].aces: unsupported member (refused rather than ignored)"),
              HasSubstr("declare an extension"));
  EXPECT_THAT(HintFor("something else"), HasSubstr("docs/mud.md"));
}

TEST(MudCheckTest, ChecksTheSignatureAsASiteWould) {
  SystemTime now = FromUnixSeconds(1800000000);
  auto ca = testing::MakeTestCa(now, "Acme MUD CA");
  CryptoRandom random;
  auto spec = crypto::NewCertificateSpec({"mud.acme.example", "", "Acme"}, now,
                                         std::chrono::hours(24), random);
  spec.subject_alt_names = "DNS:mud.acme.example";
  auto signer = crypto::IssueWithNewKey(spec, &ca.certificate, &ca.key).value();
  Bytes signature =
      crypto::CmsSign(ToBytes(kLamp), signer.certificate, signer.key, {}, {.detached = true})
          .value();
  MudCheckReport good = CheckMudFile(kLamp, SignatureToCheck{signature, {ca.certificate}}, now);
  ASSERT_TRUE(good.ok());
  EXPECT_THAT(good.signer.value_or(""), HasSubstr("CN=mud.acme.example"));

  std::string edited(kLamp);
  edited.replace(edited.find("Acme lamp"), 9, "Acme LAMP");
  MudCheckReport altered = CheckMudFile(edited, SignatureToCheck{signature, {ca.certificate}}, now);
  ASSERT_TRUE(altered.signature_refused);
  EXPECT_THAT(altered.signature_refused->hint, HasSubstr("sign these exact bytes again"));

  auto stranger = testing::MakeTestCa(now, "Stranger CA");
  MudCheckReport untrusted =
      CheckMudFile(kLamp, SignatureToCheck{signature, {stranger.certificate}}, now);
  ASSERT_TRUE(untrusted.signature_refused);
  EXPECT_THAT(untrusted.signature_refused->hint, HasSubstr("--ca must be"));
}

}  // namespace
}  // namespace concierge::firewall
