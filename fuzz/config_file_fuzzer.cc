// Property: reading a configuration file never crashes; a file that reads gives back only
// what its lines said, and one that does not is refused with a message naming the file.
#include <string_view>

#include "common/config_file.h"
#include "fuzz/fuzz_check.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = ParseConfigFile("fuzz.toml", text);
  if (!config) {
    FUZZ_CHECK(config.error().message().starts_with("fuzz.toml"));
    return 0;
  }
  FUZZ_CHECK(config->site_dir.size() <= size && config->maker_dir.size() <= size);
  FUZZ_CHECK(config->site_dir.find('"') == std::string::npos);
  return 0;
}
