// Property: reading threat catalogues and OSV advisories never crashes; what reads has
// ports in range and, for advisories, answers Affects for any version.
#include <string_view>

#include "exposure/knowledge.h"
#include "fuzz/fuzz_check.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto catalogue = exposure::ParseThreatCatalogue(text)) {
    for (const auto& threat : catalogue->threats) {
      FUZZ_CHECK(!threat.ports.empty());
      for (uint16_t port : threat.ports) {
        FUZZ_CHECK(port >= 1);
      }
      FUZZ_CHECK(threat.weight >= 1 && threat.weight <= 100);
    }
  }
  if (auto advisories = exposure::ParseOsvAdvisories(text)) {
    for (const auto& advisory : *advisories) {
      for (const auto& affected : advisory.affected) {
        (void)advisory.Affects(affected.package, "1.2.3");
        for (const auto& range : affected.ranges) {
          (void)advisory.Affects(affected.package, range.introduced);
        }
      }
      FUZZ_CHECK(advisory.weight >= 1 && advisory.weight <= 10);
    }
  }
  return 0;
}
