// Property: the management API answers any request without crashing; every refusal is an RFC
// 9457 problem; and a request that carries no valid session changes nothing on the site.
//
// Input: a start line ("METHOD TARGET"), header lines, an empty line, then the body. "@TOKEN@"
// in a header stands for a signed-in owner's session token and "@CSRF@" for its CSRF token, so
// the fuzzer reaches the routes behind the session too.
#include <memory>
#include <string>

#include "api/management_api.h"
#include "fakes/onboarding_world.h"
#include "firewall/firewall.h"
#include "fuzz/fuzz_check.h"
#include "operators/operator_desk.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

namespace {

struct Fixture {
  Fixture() : site(world.AddSite("Home")) {
    api = api::ManagementApi::Create(*site.runtime, world.clock, *firewall).value();
    auto* desk = site.runtime->Operators().value();
    auto invitation = desk->Add("owner", operators::Role::kOwner, "", "local:fuzz").value();
    token = desk->SignIn(invitation.code, "192.0.2.1").value().token;
  }

  concierge::testing::OnboardingWorld world;
  concierge::testing::Site& site;
  std::unique_ptr<firewall::Firewall> firewall = firewall::OpenDryRun();
  std::unique_ptr<api::ManagementApi> api;
  std::string token;
};

void Replace(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture();
  std::string input(reinterpret_cast<const char*>(data), size);
  bool authenticated = input.find("@TOKEN@") != std::string::npos;
  Replace(input, "@TOKEN@", fixture->token);
  Replace(input, "@CSRF@", operators::CsrfToken(fixture->token));

  http::HttpRequest request;
  size_t line_end = input.find('\n');
  std::string start = input.substr(0, line_end);
  size_t space = start.find(' ');
  request.method = start.substr(0, space);
  request.target = space == std::string::npos ? "" : start.substr(space + 1);
  size_t at = line_end == std::string::npos ? input.size() : line_end + 1;
  while (at < input.size()) {
    size_t end = input.find('\n', at);
    std::string line = input.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? input.size() : end + 1;
    if (line.empty()) {
      break;
    }
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      request.headers[name] =
          line.substr(colon + 1 + (line.size() > colon + 1 && line[colon + 1] == ' '));
    }
  }
  request.body = input.substr(at);

  size_t before = fixture->site.runtime->AuditEvents().value().size();
  http::HttpResponse response = fixture->api->HandleNow(request, {std::nullopt, {}, "192.0.2.7"});
  fixture->world.clock.Advance(std::chrono::seconds(30));  // ends any wait for live events
  FUZZ_CHECK(response.status >= 200 && response.status < 600);
  if (response.status >= 400) {
    FUZZ_CHECK(response.Header("content-type") == "application/problem+json");
  }
  FUZZ_CHECK(!response.Header("content-security-policy").empty());
  if (!authenticated) {
    FUZZ_CHECK(fixture->site.runtime->AuditEvents().value().size() == before);
  }
  return 0;
}
