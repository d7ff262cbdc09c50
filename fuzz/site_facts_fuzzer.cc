// Property: reading site facts never crashes, and facts that read either compile into a
// policy (with no MUD files, so without devices) or are refused with an error.
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "mud/compiler.h"
#include "mud/site_facts_json.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto site = mud::ParseSiteFactsJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!site) {
    FUZZ_CHECK(!site.error().message().empty());
    return 0;
  }
  auto policy = mud::CompilePolicy({}, site->facts, site->names);
  FUZZ_CHECK(policy.has_value() || !policy.error().message().empty());
  if (policy) {
    FUZZ_CHECK(policy->bindings.size() <= site->facts.devices.size());
  }
  return 0;
}
