// Property: parsing never crashes; a file that parses has every policy ACL defined and every
// port range ordered.
#include <string_view>

#include "fuzz/fuzz_check.h"
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
  return 0;
}
