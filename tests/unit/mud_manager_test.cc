// The MUD manager over real SQLite and real signatures, with a fake fetcher, resolver and
// clock: what is stored, what is refused, and that a refusal leaves the previous file.
#include "mud/mud_manager.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "common/simulated_clock.h"
#include "common/temp_dir.h"
#include "crypto/cms.h"
#include "fakes/test_pki.h"
#include "http/https_server.h"
#include "mud/mud_parser.h"
#include "mud/network.h"
#include "store/audit_log.h"
#include "tests/support/test_database.h"

namespace concierge::mud {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kUrl = "https://mud.acme.example/plug.json";
constexpr std::string_view kSignatureUrl = "https://mud.acme.example/plug.p7s";

std::string PlugFile(int port, const std::string& name = "plug-cloud.acme.example") {
  return R"({"ietf-mud:mud": {"mud-version": 1, "mud-url": "https://mud.acme.example/plug.json",
    "last-update": "2026-11-01T10:00:00+00:00", "cache-validity": 2, "is-supported": true,
    "systeminfo": "Acme plug",
    "from-device-policy": {"access-lists": {"access-list": [{"name": "out"}]}},
    "to-device-policy": {"access-lists": {"access-list": [{"name": "in"}]}}},
  "ietf-access-control-list:acls": {"acl": [
    {"name": "out", "type": "ipv4-acl-type", "aces": {"ace": [{"name": "cloud", "matches": {
      "ipv4": {"protocol": 6, "ietf-acldns:dst-dnsname": ")" +
         name + R"("},
      "tcp": {"destination-port": {"operator": "eq", "port": )" +
         std::to_string(port) + R"(}}}, "actions": {"forwarding": "accept"}}]}},
    {"name": "in", "type": "ipv4-acl-type", "aces": {"ace": [{"name": "cloud", "matches": {
      "ipv4": {"protocol": 6, "ietf-acldns:src-dnsname": ")" +
         name + R"("},
      "tcp": {"source-port": {"operator": "eq", "port": )" +
         std::to_string(port) + R"(}}}, "actions": {"forwarding": "accept"}}]}}]}})";
}

class FakeFetcher final : public Fetcher {
 public:
  Result<std::string> Fetch(const std::string& url, size_t max_bytes) override {
    ++fetches;
    auto found = documents.find(url);
    if (found == documents.end()) {
      return MakeError(ErrorCode::kUnavailable, url + ": 404 Not Found");
    }
    if (found->second.size() > max_bytes) {
      return MakeError(ErrorCode::kTooLarge, url + ": body over " + std::to_string(max_bytes));
    }
    return found->second;
  }

  std::map<std::string, std::string> documents;
  int fetches = 0;
};

class FakeResolver final : public Resolver {
 public:
  Result<DnsAnswer> Resolve(const std::string& name) override {
    ++lookups;
    auto found = answers.find(name);
    if (found == answers.end()) {
      return MakeError(ErrorCode::kUnavailable, "dns: no answer for " + name);
    }
    return found->second;
  }

  std::map<std::string, DnsAnswer> answers;
  int lookups = 0;
};

class MudManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CONCIERGE_SKIP_UNLESS_READY(database_);
    store_ = MudStore::Open(database_.Location(), clock_).value();
    registry_ = registry::DeviceRegistry::Open(database_.Location(), clock_).value();
    ASSERT_TRUE(store_->AddSignerAnchor("mud.acme.example", ca_.certificate));
    ASSERT_TRUE(registry_->AssignUrl("plug-1", std::string(kUrl), registry::kSourceManual));
    ASSERT_TRUE(registry_->SetAddresses("plug-1", {"10.0.0.21"}));
    resolver_.answers["plug-cloud.acme.example"] = {{"192.0.2.7"}, std::chrono::seconds(300)};
    manager_ = std::make_unique<MudManager>(*store_, *registry_, fetcher_, resolver_, clock_);
  }

  crypto::KeyAndCertificate Signer(const crypto::KeyAndCertificate& ca, const std::string& host,
                                   std::chrono::hours validity = std::chrono::hours(24 * 30)) {
    CryptoRandom random;
    auto spec = crypto::NewCertificateSpec({host, "", "Acme"}, clock_.Now(), validity, random);
    spec.subject_alt_names = "DNS:" + host;
    return crypto::IssueWithNewKey(spec, &ca.certificate, &ca.key).value();
  }

  std::string Sign(const std::string& body, const crypto::KeyAndCertificate& signer) {
    return ToString(
        crypto::CmsSign(ToBytes(body), signer.certificate, signer.key, {}, {.detached = true})
            .value());
  }

  void Publish(const std::string& body, const std::string& signature) {
    fetcher_.documents[std::string(kUrl)] = body;
    fetcher_.documents[std::string(kSignatureUrl)] = signature;
  }

  int PortInForce() {
    auto site = manager_->Compile();
    EXPECT_TRUE(site) << site.error().ToString();
    if (!site || site->policy.profiles.empty()) {
      return -1;
    }
    return site->policy.profiles[0]
        .from_device_v4.rules[0]
        .destination_port.value_or(PortMatch{})
        .lower;
  }

  // Device is a device the test knows exists.
  registry::Device Device(const std::string& name) {
    auto found = registry_->Find(name).value_or(std::nullopt);
    EXPECT_TRUE(found.has_value()) << name;
    return found.value_or(registry::Device{});
  }

  size_t AuditCount(std::string_view kind) {
    auto db = database_.Open();
    size_t count = 0;
    auto records = store::ReadAuditEvents(*db).value();
    for (const auto& record : records) {
      count += record.kind == kind ? 1 : 0;
    }
    return count;
  }

  // Real time to start with: CMS signing times and TLS checks use the system clock.
  SimulatedClock clock_{SystemClock().Now()};
  testing::TestDatabase database_;
  crypto::KeyAndCertificate ca_ = testing::MakeTestCa(clock_.Now(), "Acme MUD CA");
  crypto::KeyAndCertificate signer_ = Signer(ca_, "mud.acme.example");
  std::unique_ptr<MudStore> store_;
  std::unique_ptr<registry::DeviceRegistry> registry_;
  FakeFetcher fetcher_;
  FakeResolver resolver_;
  std::unique_ptr<MudManager> manager_;
};

TEST_F(MudManagerTest, FetchesVerifiesStoresAndCompiles) {
  std::string body = PlugFile(8883);
  Publish(body, Sign(body, signer_));
  auto report = manager_->RefreshFiles(false);
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->accepted, std::vector<std::string>{std::string(kUrl)});
  EXPECT_TRUE(report->refused.empty());
  EXPECT_EQ(report->names_resolved, 1u);
  auto site = manager_->Compile();
  ASSERT_TRUE(site) << site.error().ToString();
  ASSERT_EQ(site->policy.bindings.size(), 1u);
  EXPECT_EQ(PortInForce(), 8883);
  const AddressSet* dns = nullptr;
  for (const AddressSet& set : site->policy.sets) {
    dns = set.origin == "dns plug-cloud.acme.example" ? &set : dns;
  }
  ASSERT_NE(dns, nullptr);
  ASSERT_EQ(dns->elements.size(), 1u);
  EXPECT_EQ(dns->elements[0].ToString(), "192.0.2.7");
  EXPECT_EQ(AuditCount("mud.file_accepted"), 1u);
}

TEST_F(MudManagerTest, RefetchesOnlyAfterCacheValidityAndResolvesOnlyAfterTtl) {
  std::string body = PlugFile(8883);
  Publish(body, Sign(body, signer_));
  ASSERT_TRUE(manager_->RefreshFiles(false));
  int fetches = fetcher_.fetches;
  int lookups = resolver_.lookups;
  ASSERT_TRUE(manager_->RefreshFiles(false));
  EXPECT_EQ(fetcher_.fetches, fetches);
  EXPECT_EQ(resolver_.lookups, lookups);
  // The name's TTL (300 s) runs out first; the file's cache-validity (2 h) later.
  clock_.Advance(std::chrono::seconds(301));
  resolver_.answers["plug-cloud.acme.example"] = {{"192.0.2.8"}, std::chrono::seconds(300)};
  auto report = manager_->RefreshFiles(false);
  ASSERT_TRUE(report);
  EXPECT_EQ(fetcher_.fetches, fetches);
  EXPECT_EQ(report->names_changed, 1u);
  clock_.Advance(std::chrono::hours(2));
  ASSERT_TRUE(manager_->RefreshFiles(false));
  EXPECT_EQ(fetcher_.fetches, fetches + 2);
  // Unchanged content is not a new audit event.
  EXPECT_EQ(AuditCount("mud.file_accepted"), 1u);
}

TEST_F(MudManagerTest, AFailedLookupKeepsThePreviousAnswer) {
  std::string body = PlugFile(8883);
  Publish(body, Sign(body, signer_));
  ASSERT_TRUE(manager_->RefreshFiles(false));
  resolver_.answers.clear();
  clock_.Advance(std::chrono::seconds(400));
  auto report = manager_->RefreshFiles(false);
  ASSERT_TRUE(report);
  ASSERT_EQ(report->name_errors.size(), 1u);
  auto site = manager_->Compile();
  ASSERT_TRUE(site);
  bool kept = false;
  for (const AddressSet& set : site->policy.sets) {
    kept = kept || (set.origin == "dns plug-cloud.acme.example" && set.elements.size() == 1);
  }
  EXPECT_TRUE(kept);
}

// Each bad replacement is refused with its reason, audited, and the device keeps port 8883.
TEST_F(MudManagerTest, RefusedFilesLeaveThePreviousFileInForce) {
  std::string good = PlugFile(8883);
  Publish(good, Sign(good, signer_));
  ASSERT_TRUE(manager_->RefreshFiles(false));
  ASSERT_EQ(PortInForce(), 8883);

  auto other_ca = testing::MakeTestCa(clock_.Now(), "Someone else");
  std::string changed = PlugFile(23);

  struct Case {
    std::string name;
    std::string body;
    std::optional<std::string> signature;  // nullopt: no signature published
    std::string expected;
  };

  std::vector<Case> cases = {
      {"unsigned", changed, std::nullopt, "plug.p7s: 404"},
      {"signed by an untrusted CA", changed, Sign(changed, Signer(other_ca, "mud.acme.example")),
       "MUD signer"},
      {"signed for another host", changed, Sign(changed, Signer(ca_, "mud.other.example")),
       "not bound to mud.acme.example"},
      {"altered after signing", changed, Sign(good, signer_), "MUD signature"},
      {"malformed", "{\"ietf-mud:mud\": [", Sign("{", signer_), "JSON"},
      {"oversize", std::string(kMaxMudFileSize + 1, ' '), Sign(good, signer_), "body over"},
      {"for another URL", PlugFile(23).replace(PlugFile(23).find("plug.json"), 9, "lamp.json"),
       std::nullopt, "not the URL it was fetched from"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    fetcher_.documents.clear();
    fetcher_.documents[std::string(kUrl)] = c.body;
    if (c.signature) {
      fetcher_.documents[std::string(kSignatureUrl)] = *c.signature;
    }
    auto report = manager_->RefreshFiles(/*force=*/true);
    ASSERT_TRUE(report) << report.error().ToString();
    ASSERT_EQ(report->refused.size(), 1u);
    EXPECT_THAT(report->refused[0].second, HasSubstr(c.expected));
    EXPECT_EQ(PortInForce(), 8883);
    auto status = store_->FindFetchStatus(std::string(kUrl)).value_or(std::nullopt);
    ASSERT_TRUE(status.has_value());
    EXPECT_THAT(status.value_or(FetchStatus{}).error, HasSubstr(c.expected));
  }
  EXPECT_EQ(AuditCount("mud.file_refused"), cases.size());
}

TEST_F(MudManagerTest, ExpiredSignersAreRefusedUnlessThePolicySaysOtherwise) {
  auto short_lived = Signer(ca_, "mud.acme.example", std::chrono::hours(2));
  std::string body = PlugFile(8883);
  std::string signature = Sign(body, short_lived);
  clock_.Advance(std::chrono::hours(3));  // the signer has now expired
  auto refused = manager_->AcceptFile(std::string(kUrl), body, ToBytes(signature));
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("MUD signer"));
  EXPECT_EQ(PortInForce(), -1);
  MudManager lenient(*store_, *registry_, fetcher_, resolver_, clock_,
                     ExpiredSignerPolicy::kTrustSigningTime);
  ASSERT_TRUE(lenient.AcceptFile(std::string(kUrl), body, ToBytes(signature)));
  EXPECT_EQ(PortInForce(), 8883);
}

TEST_F(MudManagerTest, NoAnchorForTheAuthorityIsARefusalThatSaysWhatToDo) {
  ASSERT_TRUE(registry_->AssignUrl("lamp-1", "https://mud.lamp.example/lamp.json",
                                   registry::kSourceManual));
  std::string body = PlugFile(80);
  body.replace(body.find("mud.acme.example/plug.json"), 26, "mud.lamp.example/lamp.json");
  auto refused = manager_->AcceptFile("https://mud.lamp.example/lamp.json", body,
                                      ToBytes(Sign(body, signer_)));
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("concierge mud trust mud.lamp.example"));
}

TEST_F(MudManagerTest, DevicesWithoutFileOrAddressAreLeftAloneAndSaySo) {
  ASSERT_TRUE(registry_->AssignUrl("lamp-1", "https://mud.lamp.example/lamp.json",
                                   registry::kSourceManual));
  ASSERT_TRUE(registry_->Seen("02:00:00:00:00:09", "10.0.0.9", ""));
  auto site = manager_->Compile();
  ASSERT_TRUE(site);
  EXPECT_TRUE(site->policy.bindings.empty());
  std::map<std::string, std::string> why(site->unmanaged.begin(), site->unmanaged.end());
  EXPECT_EQ(why["mac-02:00:00:00:00:09"], "no MUD URL");
  EXPECT_EQ(why["lamp-1"], "no verified MUD file yet");
  EXPECT_EQ(why["plug-1"], "no verified MUD file yet");
}

TEST_F(MudManagerTest, UrlSourcesRankManualThenIdevidThenDhcp) {
  ASSERT_TRUE(
      registry_->AssignUrl("cam-1", "https://mud.acme.example/cam.json", registry::kSourceIdevid));
  auto weaker =
      registry_->AssignUrl("cam-1", "https://evil.example/cam.json", registry::kSourceDhcp);
  ASSERT_FALSE(weaker);
  EXPECT_THAT(weaker.error().message(), HasSubstr("from idevid"));
  ASSERT_TRUE(registry_->SetAddresses("cam-1", {"10.0.0.30"}));
  // The DHCP server sees the camera at its enrolment address: the lease joins the device,
  // and its option 161 does not replace the IDevID's URL.
  auto name = registry_->Seen("02-00-00-00-00-30", "10.0.0.30", "https://evil.example/cam.json");
  ASSERT_TRUE(name);
  EXPECT_EQ(*name, "cam-1");
  registry::Device cam = Device("cam-1");
  EXPECT_EQ(cam.mud_url, "https://mud.acme.example/cam.json");
  EXPECT_EQ(cam.mac, "02:00:00:00:00:30");
  ASSERT_TRUE(
      registry_->AssignUrl("cam-1", "https://mud.acme.example/cam2.json", registry::kSourceManual));
  EXPECT_EQ(Device("cam-1").url_source, registry::kSourceManual);
  EXPECT_FALSE(registry_->Seen("not-a-mac", "10.0.0.31", ""));
  EXPECT_FALSE(registry_->Seen("02:00:00:00:00:31", "10.0.0.0/8", ""));
}

TEST_F(MudManagerTest, AnAddressBelongsToOneDevice) {
  // plug-1 holds 10.0.0.21 without a MAC: its first lease tells its MAC. A lease of the same
  // address to another MAC later moves the address to that device.
  ASSERT_EQ(registry_->Seen("02:00:00:00:00:21", "10.0.0.21", "").value_or(""), "plug-1");
  auto name = registry_->Seen("02:00:00:00:00:44", "10.0.0.21", "");
  ASSERT_TRUE(name);
  EXPECT_EQ(*name, "mac-02:00:00:00:00:44");
  EXPECT_TRUE(Device("plug-1").addresses.empty());
  EXPECT_EQ(Device(*name).addresses, std::vector<std::string>{"10.0.0.21"});
  ASSERT_TRUE(registry_->SetAddresses("plug-1", {"10.0.0.21", "2001:db8::21"}));
  EXPECT_TRUE(Device(*name).addresses.empty());
  auto db = database_.Open();
  auto events = store::ReadAuditEvents(*db, "device:plug-1").value();
  ASSERT_FALSE(events.empty());
  EXPECT_THAT(events.back().detail, HasSubstr("taken_from"));
}

TEST_F(MudManagerTest, FactsAreCheckedAndAudited) {
  EXPECT_TRUE(store_->AddFact(kFactLocalNetwork, "", "10.0.0.0/8"));
  EXPECT_TRUE(store_->AddFact(kFactController, "urn:ietf:params:mud:dns", "10.0.0.1"));
  EXPECT_THAT(store_->AddFact(kFactController, "", "10.0.0.1").error().message(),
              HasSubstr("needs a key"));
  EXPECT_THAT(store_->AddFact(kFactLocalNetwork, "", "ten").error().message(),
              HasSubstr("not an IP address"));
  EXPECT_THAT(store_->AddFact("colour", "", "blue").error().message(), HasSubstr("unknown fact"));
  auto facts = store_->LoadSiteFacts();
  ASSERT_TRUE(facts);
  EXPECT_EQ(facts->local_networks, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_EQ(facts->controllers["urn:ietf:params:mud:dns"], std::vector<std::string>{"10.0.0.1"});
  EXPECT_TRUE(store_->RemoveFact(kFactLocalNetwork, "", "10.0.0.0/8"));
  EXPECT_EQ(store_->RemoveFact(kFactLocalNetwork, "", "10.0.0.0/8").error().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(AuditCount("site.fact_added"), 2u);
  EXPECT_EQ(AuditCount("site.fact_removed"), 1u);
}

// The real fetcher against a real HTTPS server on loopback.
TEST_F(MudManagerTest, FetchesOverHttpsAndRefusesAnUnknownServer) {
  auto tls_ca = testing::MakeTestCa(clock_.Now(), "MUD server CA");
  auto ctx = http::MakeServerContext(testing::MakeTlsIdentity(tls_ca), false).value();
  std::string body = PlugFile(443);
  http::ServerOptions options;
  options.workers = 2;
  auto server = http::HttpsServer::Start(
                    {"127.0.0.1", 0}, std::move(ctx),
                    [&body](const http::HttpRequest& request, const http::ConnectionInfo&) {
                      if (request.target == "/plug.json") {
                        return http::MakeResponse(200, "application/mud+json", body);
                      }
                      return http::MakeResponse(404, "text/plain", "no");
                    },
                    options)
                    .value();
  std::string url = "https://127.0.0.1:" + std::to_string(server->port()) + "/plug.json";
  auto trusted = MakeHttpsFetcher({tls_ca.certificate}, std::chrono::seconds(5)).value();
  auto fetched = trusted->Fetch(url, kMaxMudFileSize);
  ASSERT_TRUE(fetched) << fetched.error().ToString();
  EXPECT_EQ(*fetched, body);
  auto missing = trusted->Fetch(url.substr(0, url.size() - 9) + "none.json", kMaxMudFileSize);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(), HasSubstr("404"));
  EXPECT_EQ(trusted->Fetch(url, 100).error().code(), ErrorCode::kTooLarge);
  auto untrusted = MakeHttpsFetcher({}, std::chrono::seconds(5)).value();
  EXPECT_FALSE(untrusted->Fetch(url, kMaxMudFileSize));
}

}  // namespace
}  // namespace concierge::mud
