// Property: parsing never crashes; a file that parses has every policy ACL defined and every
// port range ordered, compiles for a device, and renders with all outside text kept inside
// comments.
#include <string_view>

#include "firewall/nft_ruleset.h"
#include "fuzz/fuzz_check.h"
#include "mud/compiler.h"
#include "mud/mud_parser.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = mud::ParseMudJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!file) {
    return 0;
  }
  for (const auto& name : file->from_device_acls) {
    FUZZ_CHECK(file->FindAcl(name) != nullptr);
  }
  for (const auto& name : file->to_device_acls) {
    FUZZ_CHECK(file->FindAcl(name) != nullptr);
  }
  for (const auto& acl : file->acls) {
    for (const auto& ace : acl.aces) {
      for (const auto& port : {ace.matches.source_port, ace.matches.destination_port}) {
        FUZZ_CHECK(!port || port->op != mud::PortMatch::Op::kRange || port->lower <= port->upper);
      }
    }
  }
  mud::SiteFacts facts;
  facts.devices.push_back({"device", file->mud_url, {"10.0.0.2"}});
  std::vector<mud::MudFile> files{*file};
  auto policy = mud::CompilePolicy(files, facts, {});
  FUZZ_CHECK(policy.has_value());
  std::string ruleset = firewall::RenderRuleset(*policy);
  // Every line is tab-indented, or opens or closes the table; a line that starts otherwise
  // came from outside text that escaped its comment.
  size_t start = 0;
  while (start < ruleset.size()) {
    size_t end = ruleset.find('\n', start);
    std::string_view line(ruleset.data() + start, end - start);
    FUZZ_CHECK(line.empty() || line[0] == '\t' || line.starts_with("table ") || line == "}");
    start = end + 1;
  }
  return 0;
}
