#include "common/data_dir.h"

#include <cstdlib>

namespace concierge {

std::filesystem::path DataDir() {
  if (const char* set = std::getenv("CONCIERGE_DATA_DIR"); set != nullptr && *set != '\0') {
    return set;
  }
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "concierge";
    if (std::filesystem::exists(installed / "threats", ec)) {
      return installed;
    }
  }
  return CONCIERGE_SOURCE_DATA_DIR;
}

}  // namespace concierge
