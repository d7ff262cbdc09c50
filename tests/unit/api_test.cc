// The management API in process, on the site runtime under the simulated clock: routes and their
// OpenAPI description, roles, sessions, CSRF, malformed requests, tenants' views.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/event_stream.h"
#include "api/management_api.h"
#include "api/openapi_document.h"
#include "crypto/certificate_builder.h"
#include "crypto/public_key_text.h"
#include "fakes/onboarding_world.h"
#include "firewall/firewall.h"
#include "operators/operator_desk.h"
#include "ownership/transfer.h"

namespace concierge::api {
namespace {

using operators::Role;
using ::testing::HasSubstr;

constexpr std::array<Role, 4> kRoles = {Role::kOwner, Role::kInstaller, Role::kTenant,
                                        Role::kAuditor};

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() : maker_(world_.AddMaker("Acme")), site_(world_.AddSite("Home")) {
    EXPECT_TRUE(site_.store->AddTrustedMaker("Acme", maker_.directory.masa.maker_ca,
                                             registrar::Approval::kAuto));
    api_ = ManagementApi::Create(*site_.runtime, world_.clock, *firewall_).value();
    desk_ = site_.runtime->Operators().value();
  }

  // SignIn adds an operator of role and signs it in, returning its session token.
  std::string SignIn(Role role, const std::string& tenant = "") {
    std::string name = std::string(operators::RoleName(role)) + std::to_string(++operators_);
    auto invitation = desk_->Add(name, role, role == Role::kTenant ? tenant : "", "local:test");
    EXPECT_TRUE(invitation) << invitation.error().ToString();
    return desk_->SignIn(invitation->code, "192.0.2.9").value().token;
  }

  http::HttpResponse Call(const std::string& method, const std::string& target,
                          const std::string& token, const std::string& body = "",
                          http::Headers extra = {}) {
    http::HttpRequest request;
    request.method = method;
    request.target = target;
    request.headers["host"] = "site.example:8444";
    if (!token.empty()) {
      request.headers["cookie"] = "theme=dark; concierge_session=" + token;
      request.headers["x-csrf-token"] = operators::CsrfToken(token);
    }
    if (!body.empty()) {
      request.headers["content-type"] = "application/json";
      request.body = body;
    }
    for (auto& [name, value] : extra) {
      request.headers[name] = value;
    }
    return api_->HandleNow(request, {std::nullopt, {}, "192.0.2.9"});
  }

  size_t AuditEvents() { return site_.runtime->AuditEvents().value().size(); }

  void Enroll(const std::string& serial) {
    auto result = world_.MakePledge(world_.Mint(maker_, serial), site_).EnrollAndWait();
    ASSERT_TRUE(result) << result.error().ToString();
  }

  static void ExpectProblem(const http::HttpResponse& response, int status) {
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_EQ(response.Header("content-type"), "application/problem+json");
    auto problem = ParseJsonObject(response.body, "problem");
    ASSERT_TRUE(problem);
    EXPECT_EQ((*problem)["status"], status);
    EXPECT_FALSE((*problem)["detail"].get<std::string>().empty());
    EXPECT_THAT((*problem)["type"].get<std::string>(), HasSubstr("urn:concierge:problem:"));
  }

  testing::OnboardingWorld world_;
  testing::Maker& maker_;
  testing::Site& site_;
  std::unique_ptr<firewall::Firewall> firewall_ = firewall::OpenDryRun();
  std::unique_ptr<ManagementApi> api_;
  operators::OperatorDesk* desk_ = nullptr;
  int operators_ = 0;
};

std::string Filled(const std::string& path) {
  std::string filled = path;
  for (std::string_view param : {"{name}", "{id}"}) {
    if (auto at = filled.find(param); at != std::string::npos) {
      filled.replace(at, param.size(), param == "{id}" ? "1" : "nobody");
    }
  }
  return filled;
}

TEST(OpenApiTest, TheDocumentDescribesEveryRouteAndNoOther) {
  auto document = ParseJsonObject(OpenApiDocument(), "openapi.json").value();
  EXPECT_EQ(document["openapi"], "3.1.0");
  std::set<std::string> described;
  for (const auto& [path, item] : document["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      described.insert(method + " " + path);
    }
  }
  std::set<std::string> served;
  for (const RouteInfo& route : Routes()) {
    std::string method = route.method;
    for (char& c : method) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    served.insert(method + " " + route.path);
    SCOPED_TRACE(route.method + " " + route.path);
    const Json& operation = document["paths"][route.path][method];
    ASSERT_TRUE(operation.is_object());
    EXPECT_EQ(operation["x-concierge-permission"],
              route.permission ? operators::PermissionName(*route.permission) : "none");
    EXPECT_TRUE(operation["responses"].contains("default")) << "errors are problem details";
  }
  EXPECT_EQ(described, served);
}

TEST_F(ApiTest, EveryRouteRefusesTheRolesWithoutItsPermissionAndChangesNothing) {
  std::map<Role, std::string> tokens;
  for (Role role : kRoles) {
    tokens[role] = SignIn(role, "Flat 3");
  }
  for (const RouteInfo& route : Routes()) {
    if (!route.permission) {
      continue;
    }
    for (Role role : kRoles) {
      SCOPED_TRACE(route.method + " " + route.path + " as " + std::string(RoleName(role)));
      size_t before = AuditEvents();
      auto response = Call(route.method, Filled(route.path), tokens[role],
                           route.method == "GET" ? "" : R"({"ids": [1]})");
      if (operators::Allows(role, *route.permission)) {
        EXPECT_NE(response.status, 403) << response.body;
        EXPECT_NE(response.status, 401) << response.body;
        if (route.method == "DELETE" && route.path == "/api/v1/session") {
          tokens[role] = SignIn(role, "Flat 3");  // that signed it out
        }
      } else {
        ExpectProblem(response, 403);
        EXPECT_THAT(response.body, HasSubstr("may not"));
        EXPECT_EQ(AuditEvents(), before);
      }
    }
  }
}

TEST_F(ApiTest, NoForgedOrEndedSessionGetsIn) {
  std::string ended = SignIn(Role::kOwner);
  ASSERT_EQ(Call("DELETE", "/api/v1/session", ended).status, 204);
  std::string forged(43, 'A');
  size_t before = AuditEvents();
  for (const RouteInfo& route : Routes()) {
    if (!route.permission) {
      continue;
    }
    SCOPED_TRACE(route.method + " " + route.path);
    for (const std::string& token : {std::string(), forged, ended}) {
      auto response = Call(route.method, Filled(route.path), token,
                           route.method == "GET" ? "" : R"({"ids": [1]})");
      ExpectProblem(response, 401);
      EXPECT_EQ(response.Header("www-authenticate"), "Cookie realm=\"concierge\"");
    }
  }
  EXPECT_EQ(AuditEvents(), before);
}

TEST_F(ApiTest, MalformedUnknownAndOversizedBodiesAreProblemsAndChangeNothing) {
  std::string owner = SignIn(Role::kOwner);
  size_t before = AuditEvents();
  ExpectProblem(Call("POST", "/api/v1/operators", owner, R"({"name": "x", "role": )"), 400);
  auto unknown =
      Call("POST", "/api/v1/operators", owner, R"({"name": "x", "role": "owner", "admin": true})");
  ExpectProblem(unknown, 400);
  EXPECT_THAT(unknown.body, HasSubstr("unknown field \\\"admin\\\""));
  ExpectProblem(Call("POST", "/api/v1/operators", owner, R"({"name": 5, "role": "owner"})"), 400);
  ExpectProblem(Call("POST", "/api/v1/operators", owner, R"([1, 2])"), 400);
  ExpectProblem(Call("POST", "/api/v1/operators", owner, R"({"name": "x", "role": "owner"})",
                     {{"content-type", "text/plain"}}),
                400);
  std::string huge = R"({"ids": [)" + std::string(70000, ' ') + "1]}";
  ExpectProblem(Call("POST", "/api/v1/approvals", owner, huge), 413);
  ExpectProblem(Call("POST", "/api/v1/approvals", owner, R"({"ids": ["one"]})"), 400);
  ExpectProblem(Call("GET", "/api/v1/devices?limit=100000", owner), 400);
  ExpectProblem(Call("GET", "/api/v1/devices?colour=red", owner), 400);
  ExpectProblem(Call("GET", "/api/v1/devices?q=%zz", owner), 400);
  ExpectProblem(Call("GET", "/api/v1/nothing", owner), 404);
  auto wrong_method = Call("PUT", "/api/v1/devices", owner);
  ExpectProblem(wrong_method, 405);
  EXPECT_EQ(wrong_method.Header("allow"), "GET");
  EXPECT_EQ(AuditEvents(), before);
  EXPECT_EQ(desk_->List().value().size(), 1u);
}

TEST_F(ApiTest, EveryChangeRefusesMalformedUnknownAndOversizedBodiesAndChangesNothing) {
  Enroll("LOCK-1");
  std::string owner = SignIn(Role::kOwner);
  std::string oversized = R"({"reason": ")" + std::string(kMaxBodyBytes, 'x') + R"("})";
  for (const RouteInfo& route : Routes()) {
    if (route.method == "GET" || !route.permission) {
      continue;
    }
    SCOPED_TRACE(route.method + " " + route.path);
    std::string target = Filled(route.path);
    if (auto at = target.find("nobody"); at != std::string::npos) {
      target.replace(at, 6, "LOCK-1");  // a device that exists, so only the body can be wrong
    }
    size_t before = AuditEvents();
    ExpectProblem(Call(route.method, target, owner, R"({"reason": )"), 400);
    auto unknown = Call(route.method, target, owner, R"({"colour": "red"})");
    ExpectProblem(unknown, 400);
    EXPECT_THAT(unknown.body, HasSubstr("colour"));
    ExpectProblem(Call(route.method, target, owner, oversized), 413);
    EXPECT_EQ(AuditEvents(), before);
  }
}

TEST_F(ApiTest, ChangesNeedTheSessionsCsrfTokenAndThisOrigin) {
  std::string owner = SignIn(Role::kOwner);
  std::string other = SignIn(Role::kOwner);
  std::string add = R"({"name": "mallory", "role": "owner"})";
  ExpectProblem(Call("POST", "/api/v1/operators", owner, add, {{"x-csrf-token", ""}}), 403);
  ExpectProblem(Call("POST", "/api/v1/operators", owner, add,
                     {{"x-csrf-token", operators::CsrfToken(other)}}),
                403);
  ExpectProblem(Call("POST", "/api/v1/operators", owner, add, {{"origin", "https://evil.example"}}),
                403);
  ExpectProblem(Call("POST", "/api/v1/operators", owner, add, {{"sec-fetch-site", "cross-site"}}),
                403);
  ExpectProblem(Call("POST", "/api/v1/session", "", R"({"code": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"})",
                     {{"origin", "https://evil.example"}}),
                403);
  EXPECT_EQ(desk_->List().value().size(), 2u);
  auto added = Call("POST", "/api/v1/operators", owner, add,
                    {{"origin", "https://site.example:8444"}, {"sec-fetch-site", "same-origin"}});
  EXPECT_EQ(added.status, 201) << added.body;
}

TEST_F(ApiTest, SigningInGivesAFreshSessionInAStrictCookieAndRefusesExpiredCodes) {
  std::string attacker = SignIn(Role::kAuditor);
  auto invitation = desk_->Add("olivia", Role::kOwner, "", "local:test").value();
  // The victim's browser carries a session the attacker planted; signing in replaces it.
  auto signed_in =
      Call("POST", "/api/v1/session", attacker, R"({"code": ")" + invitation.code + R"("})");
  ASSERT_EQ(signed_in.status, 201) << signed_in.body;
  std::string cookie = signed_in.Header("set-cookie");
  EXPECT_THAT(cookie, HasSubstr("; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=28800"));
  std::string token = cookie.substr(cookie.find('=') + 1, 43);
  EXPECT_NE(token, attacker);
  auto who = ParseJsonObject(Call("GET", "/api/v1/session", token).body, "session").value();
  EXPECT_EQ(who["operator"]["name"], "olivia");
  EXPECT_EQ(who["csrf_token"], operators::CsrfToken(token));
  EXPECT_EQ(ParseJsonObject(Call("GET", "/api/v1/session", attacker).body, "session")
                .value()["operator"]["role"],
            "auditor");

  auto late = desk_->Add("liam", Role::kOwner, "", "local:test").value();
  world_.clock.Advance(std::chrono::hours(25));
  auto expired = Call("POST", "/api/v1/session", "", R"({"code": ")" + late.code + R"("})");
  ExpectProblem(expired, 401);
  EXPECT_THAT(expired.body, HasSubstr("expired at"));
  for (int i = 0; i < 4; ++i) {
    ExpectProblem(Call("POST", "/api/v1/session", "", R"({"code": "nope"})"), 401);
  }
  ExpectProblem(Call("POST", "/api/v1/session", "", R"({"code": "nope"})"), 429);
}

TEST_F(ApiTest, ResponsesCarryAContentSecurityPolicyWithoutInlineScript) {
  std::string owner = SignIn(Role::kOwner);
  for (const auto& response :
       {Call("GET", "/api/v1/devices", owner), Call("GET", "/api/v1/devices", ""),
        Call("GET", "/api/v1/openapi.json", "")}) {
    std::string policy = response.Header("content-security-policy");
    EXPECT_THAT(policy, HasSubstr("script-src 'self'"));
    EXPECT_THAT(policy, HasSubstr("frame-ancestors 'none'"));
    EXPECT_THAT(policy, ::testing::Not(HasSubstr("unsafe-inline")));
    EXPECT_EQ(response.Header("x-content-type-options"), "nosniff");
    EXPECT_EQ(response.Header("cache-control"), "no-store");
  }
}

TEST_F(ApiTest, ATenantSeesOnlyItsDelegatedDevicesAndTheirEvents) {
  Enroll("LOCK-1");
  Enroll("LOCK-2");
  auto key = crypto::PrivateKey::GenerateP256().value();
  SystemTime now = world_.clock.Now();
  ASSERT_TRUE(site_.runtime->GrantTenant("Flat 3", key.PublicKeyDer().value(), {"LOCK-1"}, now,
                                         now + std::chrono::hours(24)));
  std::string tenant = SignIn(Role::kTenant, "Flat 3");
  std::string owner = SignIn(Role::kOwner);

  auto all = ParseJsonObject(Call("GET", "/api/v1/devices", owner).body, "list").value();
  EXPECT_EQ(all["total"], 2);
  auto mine = ParseJsonObject(Call("GET", "/api/v1/devices", tenant).body, "list").value();
  ASSERT_EQ(mine["total"], 1);
  EXPECT_EQ(mine["devices"][0]["name"], "LOCK-1");
  EXPECT_EQ(Call("GET", "/api/v1/devices/LOCK-1", tenant).status, 200);
  ExpectProblem(Call("GET", "/api/v1/devices/LOCK-2", tenant), 404);
  auto events = ParseJsonObject(Call("GET", "/api/v1/audit?limit=1000", tenant).body, "audit");
  ASSERT_TRUE(events);
  EXPECT_GT((*events)["total"], 0);
  for (const Json& event : (*events)["events"]) {
    EXPECT_EQ(event["subject"], "device:LOCK-1");
  }
  auto filtered =
      ParseJsonObject(Call("GET", "/api/v1/devices?q=ock-2&limit=1", owner).body, "list").value();
  ASSERT_EQ(filtered["total"], 1);
  EXPECT_EQ(filtered["devices"][0]["name"], "LOCK-2");
}

TEST_F(ApiTest, QuarantineCutsADeviceOffInTheFirewallAtOnceAndReleaseLetsItBack) {
  Enroll("LOCK-1");
  Enroll("LOCK-2");
  auto* registry = site_.runtime->Registry().value();
  ASSERT_TRUE(registry->SetAddresses("LOCK-1", {"192.0.2.21", "2001:db8::21"}));
  auto key = crypto::PrivateKey::GenerateP256().value();
  SystemTime now = world_.clock.Now();
  ASSERT_TRUE(site_.runtime->GrantTenant("Flat 3", key.PublicKeyDer().value(), {"LOCK-1"}, now,
                                         now + std::chrono::hours(24)));
  std::string tenant = SignIn(Role::kTenant, "Flat 3");
  std::string auditor = SignIn(Role::kAuditor);

  size_t before = AuditEvents();
  ExpectProblem(Call("POST", "/api/v1/devices/LOCK-2/quarantine", tenant, R"({"reason": "x"})"),
                404);
  ExpectProblem(Call("POST", "/api/v1/devices/LOCK-1/quarantine", tenant, R"({"why": "x"})"), 400);
  ExpectProblem(Call("POST", "/api/v1/devices/LOCK-1/quarantine", tenant, R"({"reason": ""})"),
                400);
  ExpectProblem(Call("POST", "/api/v1/devices/LOCK-1/quarantine", auditor, R"({"reason": "x"})"),
                403);
  EXPECT_EQ(AuditEvents(), before);
  EXPECT_EQ(firewall_->Current().value(), "");

  auto response =
      Call("POST", "/api/v1/devices/LOCK-1/quarantine", tenant, R"({"reason": "odd traffic"})");
  ASSERT_EQ(response.status, 200) << response.body;
  auto answer = ParseJsonObject(response.body, "quarantine").value();
  EXPECT_EQ(answer["device"]["quarantine"]["reason"], "odd traffic");
  EXPECT_EQ(answer["device"]["quarantine"]["by"], "operator:tenant1");
  EXPECT_EQ(answer["policy"]["firewall"], "dry-run");
  EXPECT_TRUE(answer["policy"]["changed"]);
  std::string ruleset = firewall_->Current().value();
  EXPECT_THAT(ruleset, HasSubstr("elements = { 192.0.2.21 }"));
  EXPECT_THAT(ruleset, HasSubstr("elements = { 2001:db8::21 }"));
  EXPECT_THAT(ruleset, HasSubstr("ip saddr @quarantine_4 counter drop"));
  EXPECT_THAT(ruleset, HasSubstr("ip6 daddr @quarantine_6 counter drop"));
  EXPECT_THAT(ruleset, HasSubstr("# quarantined: LOCK-1: odd traffic"));
  auto trail = site_.runtime->DeviceAuditTrail("LOCK-1").value();
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.back().kind, "device.quarantined");

  auto policy = ParseJsonObject(Call("GET", "/api/v1/policy", auditor).body, "policy").value();
  EXPECT_EQ(policy["quarantined"], Json::array({"LOCK-1"}));
  EXPECT_EQ(policy["in_force"]["ruleset"], ruleset);
  ExpectProblem(Call("GET", "/api/v1/policy", tenant), 403);
  auto listed =
      ParseJsonObject(Call("GET", "/api/v1/devices?quarantined=true", auditor).body, "list");
  ASSERT_EQ((*listed)["total"], 1);
  EXPECT_EQ((*listed)["devices"][0]["name"], "LOCK-1");
  ExpectProblem(Call("GET", "/api/v1/devices?quarantined=maybe", auditor), 400);

  ASSERT_EQ(Call("DELETE", "/api/v1/devices/LOCK-1/quarantine", tenant).status, 200);
  EXPECT_THAT(firewall_->Current().value(), ::testing::Not(HasSubstr("quarantine")));
  EXPECT_EQ(site_.runtime->DeviceAuditTrail("LOCK-1").value().back().kind, "device.released");
  auto free = ParseJsonObject(Call("GET", "/api/v1/devices/LOCK-1", tenant).body, "device");
  EXPECT_TRUE((*free)["quarantine"].is_null());
}

TEST_F(ApiTest, TheExposureRoutesAnswerAndRefuseBadTighteningRequests) {
  Enroll("LOCK-1");
  ASSERT_TRUE(site_.runtime->StoreThreatCatalogue(
      R"({"threats": [{"name": "mirai-telnet", "kind": "exploit", "protocol": "tcp",
          "ports": [23, 2323], "weakness": "factory-credentials", "weight": 10,
          "explanation": "telnet login with factory credentials"}]})"));
  std::string owner = SignIn(Role::kOwner);
  auto graph = Call("GET", "/api/v1/exposure/graph", owner);
  ASSERT_EQ(graph.status, 200) << graph.body;
  auto picture = ParseJsonObject(graph.body, "graph").value();
  EXPECT_TRUE(std::ranges::any_of(picture["nodes"],
                                  [](const Json& node) { return node["kind"] == "internet"; }));
  auto svg = Call("GET", "/api/v1/exposure/graph.svg", owner);
  EXPECT_EQ(svg.Header("content-type"), "image/svg+xml");
  EXPECT_THAT(svg.Header("content-security-policy"), HasSubstr("default-src 'self'"));
  ExpectProblem(Call("GET", "/api/v1/exposure/devices/LOCK-1", owner), 404);  // no MUD file

  size_t before = AuditEvents();
  ExpectProblem(Call("POST", "/api/v1/exposure/tighten", owner, R"({"mode": "harder"})"), 400);
  ExpectProblem(Call("POST", "/api/v1/exposure/tighten", owner, R"({"mode": 1})"), 400);
  ExpectProblem(
      Call("POST", "/api/v1/exposure/tighten", owner, R"({"mode": "apply", "quarantine": [1]})"),
      400);
  auto preview = Call("POST", "/api/v1/exposure/tighten", owner, R"({"mode": "preview"})");
  ASSERT_EQ(preview.status, 200) << preview.body;
  EXPECT_EQ(AuditEvents(), before) << "a preview changes nothing";
  auto applied = Call("POST", "/api/v1/exposure/tighten", owner, R"({"mode": "apply"})");
  ASSERT_EQ(applied.status, 200) << applied.body;
  auto answer = ParseJsonObject(applied.body, "tighten").value();
  EXPECT_TRUE(answer["tightening"]);
  EXPECT_EQ(answer["policy"]["firewall"], "dry-run");
  auto trail = site_.runtime->AuditEvents().value();
  EXPECT_TRUE(std::ranges::any_of(trail, [](const store::AuditRecord& record) {
    return record.kind == "exposure.tightening" &&
           record.detail.find("operator:owner") != std::string::npos;
  }));
}

std::string PublicKeyPem(const crypto::PrivateKey& key) {
  return crypto::PublicKeyText(key.PublicKeyDer().value());
}

TEST_F(ApiTest, AnOwnerDelegatesHandsOverAndDecommissionsDevicesAndEachIsAudited) {
  Enroll("LOCK-1");
  Enroll("LOCK-2");
  Enroll("LOCK-3");
  std::string owner = SignIn(Role::kOwner);
  std::string tenant = SignIn(Role::kTenant, "Flat 3");
  auto tenant_key = crypto::PrivateKey::GenerateP256().value();
  Json grant{{"tenant", "Flat 3"},
             {"key", PublicKeyPem(tenant_key)},
             {"devices", {"LOCK-1"}},
             {"days", 30}};
  ExpectProblem(
      Call(
          "POST", "/api/v1/tenants", owner,
          R"({"tenant": "x", "key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "devices": ["LOCK-1"], "days": 30})"),
      400);
  Json too_long = grant;
  too_long["days"] = 4000;
  ExpectProblem(Call("POST", "/api/v1/tenants", owner, too_long.dump()), 400);
  auto granted = Call("POST", "/api/v1/tenants", owner, grant.dump());
  ASSERT_EQ(granted.status, 200) << granted.body;
  int64_t id = ParseJsonObject(granted.body, "grant").value()["id"].get<int64_t>();
  auto listed = ParseJsonObject(Call("GET", "/api/v1/tenants", owner).body, "tenants").value();
  ASSERT_EQ(listed["delegations"].size(), 1u);
  EXPECT_EQ(listed["delegations"][0]["state"], "in force");
  EXPECT_EQ(Call("GET", "/api/v1/devices/LOCK-1", tenant).status, 200);
  ASSERT_EQ(Call("DELETE", "/api/v1/tenants/" + std::to_string(id), owner).status, 200);
  ExpectProblem(Call("GET", "/api/v1/devices/LOCK-1", tenant), 404);

  auto chain = Call("GET", "/api/v1/devices/LOCK-1/ownership", owner);
  ASSERT_EQ(chain.status, 200) << chain.body;
  EXPECT_TRUE(ParseJsonObject(chain.body, "chain").value()["owned_by_this_site"]);

  auto next_owner = crypto::PrivateKey::GenerateP256().value();
  Json handover{{"to", PublicKeyPem(next_owner)},
                {"registrar", "https://registrar.next.example"},
                {"devices", {"LOCK-2"}}};
  auto exported = Call("POST", "/api/v1/transfers/export", owner, handover.dump());
  ASSERT_EQ(exported.status, 200) << exported.body;
  auto bundle = ownership::DecodeBundle(
      ParseJsonObject(exported.body, "export").value()["bundle"].get<std::string>());
  ASSERT_TRUE(bundle) << bundle.error().ToString();
  ASSERT_EQ(bundle->devices.size(), 1u);
  EXPECT_EQ(bundle->devices[0].serial, "LOCK-2");
  EXPECT_EQ(bundle->new_owner_key, next_owner.PublicKeyDer().value());
  auto leaving = ParseJsonObject(Call("GET", "/api/v1/devices/LOCK-2", owner).body, "LOCK-2");
  EXPECT_EQ((*leaving)["state"], "leaving");
  auto leaving_page =
      ParseJsonObject(Call("GET", "/api/v1/devices?state=leaving", owner).body, "page").value();
  ASSERT_EQ(leaving_page["total"], 1);
  EXPECT_EQ(leaving_page["devices"][0]["name"], "LOCK-2");
  ExpectProblem(Call("GET", "/api/v1/devices?state=lost", owner), 400);

  auto retired =
      Call("POST", "/api/v1/devices/LOCK-3/decommission", owner, R"({"device_gone": true})");
  ASSERT_EQ(retired.status, 200) << retired.body;
  ExpectProblem(Call("POST", "/api/v1/devices/LOCK-3/decommission", owner, R"({"device_gone": 1})"),
                400);
  std::set<std::string> kinds;  // each names the owner who asked
  auto events = site_.runtime->AuditEvents().value();
  for (const auto& record : events) {
    kinds.insert(record.kind);
  }
  for (const char* kind :
       {"delegation.granted", "delegation.revoked", "transfer.exported", "device.decommissioned"}) {
    EXPECT_TRUE(kinds.contains(kind)) << kind;
  }
  for (const auto& record : events) {
    if (record.kind.starts_with("delegation.") || record.kind.starts_with("transfer.") ||
        record.kind == "device.decommissioned") {
      EXPECT_THAT(record.detail, HasSubstr("\"by\":\"operator:owner")) << record.kind;
    }
  }
}

TEST_F(ApiTest, AScriptSignsInWithItsOperatorsClientCertificate) {
  Enroll("LOCK-1");
  ASSERT_TRUE(desk_->Add("nightly", Role::kInstaller, "", "local:test"));
  auto issued =
      site_.runtime->IssueOperatorCertificate("nightly", std::chrono::hours(24), "local:test");
  ASSERT_TRUE(issued) << issued.error().ToString();
  auto as = [&](const crypto::Certificate& certificate, const std::string& method,
                const std::string& target, http::Headers headers = {}) {
    http::HttpRequest request;
    request.method = method;
    request.target = target;
    request.headers = std::move(headers);
    request.headers["host"] = "site.example:8444";
    return api_->HandleNow(request, {certificate, {}, "192.0.2.9"});
  };
  EXPECT_EQ(as(issued->certificate, "GET", "/api/v1/devices").status, 200);
  auto who = ParseJsonObject(as(issued->certificate, "GET", "/api/v1/session").body, "who");
  EXPECT_EQ((*who)["operator"]["name"], "nightly");
  size_t before = AuditEvents();
  auto unmarked = as(issued->certificate, "POST", "/api/v1/policy/apply");
  ExpectProblem(unmarked, 403);
  EXPECT_THAT(unmarked.body, HasSubstr("X-Concierge-Script"));
  EXPECT_EQ(AuditEvents(), before);
  auto applied =
      as(issued->certificate, "POST", "/api/v1/policy/apply", {{"x-concierge-script", "1"}});
  EXPECT_EQ(applied.status, 200) << applied.body;

  // A certificate the domain CA did not issue, or that its operator no longer holds, is refused.
  auto stranger = crypto::IssueWithNewKey(
      crypto::NewCertificateSpec({"nightly", "", "Elsewhere"}, world_.clock.Now(),
                                 std::chrono::hours(24), world_.random),
      nullptr, nullptr);
  ASSERT_TRUE(stranger);
  ExpectProblem(as(stranger->certificate, "GET", "/api/v1/devices"), 401);
  ASSERT_TRUE(
      site_.runtime->IssueOperatorCertificate("nightly", std::chrono::hours(24), "local:test"));
  ExpectProblem(as(issued->certificate, "GET", "/api/v1/devices"), 401);
  ExpectProblem(as(maker_.directory.masa.maker_ca, "GET", "/api/v1/devices"), 401);
}

TEST_F(ApiTest, TheCertificateInventoryForecastsExpiry) {
  Enroll("LOCK-1");
  Enroll("LOCK-2");
  std::string owner = SignIn(Role::kOwner);
  auto read = [&](const std::string& target) {
    auto response = Call("GET", target, owner);
    EXPECT_EQ(response.status, 200) << response.body;
    return ParseJsonObject(response.body, "certificates").value();
  };
  auto now = read("/api/v1/certificates");
  EXPECT_EQ(now["total"], 2);
  EXPECT_EQ(now["forecast"]["live"], 2);
  EXPECT_EQ(now["forecast"]["within_90_days"], 0);
  // Both expire in the same second, so either may come first; each names its own device.
  std::set<std::string> devices;
  for (const Json& certificate : now["certificates"]) {
    std::string device = certificate["device"];
    devices.insert(device);
    EXPECT_THAT(certificate["subject"].get<std::string>(), HasSubstr("serialNumber=" + device));
    EXPECT_EQ(certificate["key"], "EC 256");
  }
  EXPECT_EQ(devices, (std::set<std::string>{"LOCK-1", "LOCK-2"}));
  int64_t days = now["certificates"][0]["days_left"];
  EXPECT_GT(days, 90);
  EXPECT_EQ(read("/api/v1/certificates?within_days=90")["total"], 0);

  world_.clock.Advance(std::chrono::hours(24 * (days - 20)));
  owner = SignIn(Role::kOwner);  // months later: a new session
  auto soon = read("/api/v1/certificates?within_days=30");
  EXPECT_EQ(soon["total"], 2);
  EXPECT_EQ(soon["forecast"]["within_30_days"], 2);
  EXPECT_EQ(soon["forecast"]["within_7_days"], 0);
  world_.clock.Advance(std::chrono::hours(24 * 30));
  owner = SignIn(Role::kOwner);
  auto late = read("/api/v1/certificates");
  EXPECT_EQ(late["forecast"]["expired"], 2);
  EXPECT_EQ(late["forecast"]["live"], 0);
  ExpectProblem(Call("GET", "/api/v1/certificates?within_days=-1", owner), 400);
}

TEST_F(ApiTest, BulkApprovalSummarisesAndRecordsTheOperator) {
  auto& bolt = world_.AddMaker("Bolt");
  ASSERT_TRUE(site_.store->AddTrustedMaker("Bolt", bolt.directory.masa.maker_ca,
                                           registrar::Approval::kManual));
  std::string installer = SignIn(Role::kInstaller);
  std::string auditor = SignIn(Role::kAuditor);
  // Looked at 7 s in, while the pledge waits out its Retry-After in simulated time.
  world_.clock.After(std::chrono::seconds(7), [&] {
    auto queue = ParseJsonObject(Call("GET", "/api/v1/approvals", auditor).body, "queue").value();
    ASSERT_EQ(queue["pending"].size(), 1u);
    int64_t id = queue["pending"][0]["id"];
    ExpectProblem(
        Call("POST", "/api/v1/approvals", auditor, R"({"ids": [)" + std::to_string(id) + "]}"),
        403);
    auto summary = ParseJsonObject(Call("POST", "/api/v1/approvals", installer,
                                        R"({"ids": [)" + std::to_string(id) + ", 999]}")
                                       .body,
                                   "summary")
                       .value();
    EXPECT_EQ(summary["approved"], Json::array({id}));
    ASSERT_EQ(summary["refused"].size(), 1u);
    EXPECT_EQ(summary["refused"][0]["id"], 999);
  });
  auto result = world_.MakePledge(world_.Mint(bolt, "DOOR-1"), site_).EnrollAndWait();
  ASSERT_TRUE(result) << result.error().ToString();
  auto trail = site_.runtime->DeviceAuditTrail("DOOR-1").value();
  auto approved =
      std::ranges::find_if(trail, [](const auto& r) { return r.kind == "device.approved"; });
  ASSERT_NE(approved, trail.end());
  EXPECT_THAT(approved->detail, HasSubstr("\"by\":\"operator:installer"));
}

}  // namespace
}  // namespace concierge::api

namespace concierge::api {
namespace {

TEST(EventStreamTest, WaitersHearTheFirstEventTheyMaySeeOrAnEmptyBatchWhenTheHoldEnds) {
  SimulatedClock clock;
  EventStream stream(clock, 10, /*keep=*/3, std::chrono::seconds(25));
  auto all = [](const std::string&) { return true; };
  auto locks = [](const std::string& subject) { return subject == "device:LOCK-1"; };
  std::vector<std::pair<std::vector<LiveEvent>, int64_t>> heard;
  auto answer = [&heard](std::vector<LiveEvent> events, int64_t last) {
    heard.emplace_back(std::move(events), last);
  };
  stream.Wait(-1, all, answer);    // from now on: after 10
  stream.Wait(10, locks, answer);  // only LOCK-1's events
  EXPECT_EQ(stream.waiting(), 2u);
  store::AuditRecord record;
  record.seq = 11;
  record.kind = "operator.added";
  record.subject = "operator:alice";
  stream.Publish(record);
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0].first.at(0).kind, "operator.added");
  EXPECT_EQ(heard[0].second, 11);
  record.seq = 12;
  record.kind = "device.approved";
  record.subject = "device:LOCK-1";
  stream.Publish(record);
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[1].first.size(), 1u) << "the operator's event is not the tenant's";
  EXPECT_EQ(heard[1].second, 12);

  // Events already there answer at once; with none, the hold's end answers empty.
  stream.Wait(10, all, answer);
  EXPECT_EQ(heard.back().first.size(), 2u);
  stream.Wait(12, all, answer);
  EXPECT_EQ(stream.waiting(), 1u);
  clock.Advance(std::chrono::seconds(25));
  EXPECT_TRUE(heard.back().first.empty());
  EXPECT_EQ(heard.back().second, 12);
  EXPECT_EQ(stream.waiting(), 0u);

  // Fallen too far behind (only 3 kept), a dashboard is told to reload.
  for (int64_t seq = 13; seq <= 16; ++seq) {
    record.seq = seq;
    stream.Publish(record);
  }
  stream.Wait(11, all, answer);
  ASSERT_EQ(heard.back().first.size(), 1u);
  EXPECT_EQ(heard.back().first[0].kind, "stream.resync");

  std::string body = ServerSentEvents({{12, 1'800'000'000, "device.approved", "device:LOCK-1"}}, 12,
                                      std::chrono::milliseconds(500));
  EXPECT_EQ(body,
            "retry: 500\n\nid: 12\ndata: {\"at\":\"2027-01-15T08:00:00Z\",\"kind\":"
            "\"device.approved\",\"seq\":12,\"subject\":\"device:LOCK-1\"}\n\n");
  EXPECT_EQ(ServerSentEvents({}, 12, std::chrono::milliseconds(500)), "retry: 500\n\nid: 12\n\n");
}

TEST_F(ApiTest, TheEventStreamAnswersAWaitingDashboardWhenAChangeCommits) {
  std::string owner = SignIn(Role::kOwner);
  http::HttpRequest request;
  request.method = "GET";
  request.target = "/api/v1/events";
  request.headers["cookie"] = "concierge_session=" + owner;
  std::optional<http::HttpResponse> answer;
  api_->Handle(request, {std::nullopt, {}, "192.0.2.9"},
               [&answer](http::HttpResponse response) { answer = std::move(response); });
  EXPECT_FALSE(answer) << "nothing happened yet: the dashboard waits";
  ASSERT_EQ(
      Call("POST", "/api/v1/operators", owner, R"({"name": "ivy", "role": "auditor"})").status,
      201);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->Header("content-type"), "text/event-stream");
  EXPECT_THAT(answer->body, HasSubstr("\"kind\":\"operator.added\""));
  EXPECT_THAT(answer->body, HasSubstr("\"subject\":\"operator:ivy\""));

  // Reconnecting from an older id gets what it missed at once; a bad id is a problem.
  request.headers["last-event-id"] = "1";
  EXPECT_THAT(api_->HandleNow(request, {std::nullopt, {}, "192.0.2.9"}).body,
              HasSubstr("operator:ivy"));
  request.headers["last-event-id"] = "soon";
  ExpectProblem(api_->HandleNow(request, {std::nullopt, {}, "192.0.2.9"}), 400);
}

}  // namespace
}  // namespace concierge::api
