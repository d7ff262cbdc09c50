#include "common/config_file.h"

#include <cstdlib>
#include <filesystem>

#include "common/files.h"

namespace concierge {
namespace {

constexpr std::string_view kDefaultPath = "/etc/concierge/concierge.toml";
constexpr size_t kMaxConfigBytes = 64 * 1024;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

Result<ConfigFile> ParseConfigFile(const std::string& path, std::string_view text) {
  if (text.size() > kMaxConfigBytes) {
    return MakeError(ErrorCode::kTooLarge, path + " is larger than 64 KiB");
  }
  ConfigFile config;
  config.path = path;
  int number = 0;
  while (!text.empty()) {
    ++number;
    size_t end = text.find('\n');
    std::string_view line = Trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    std::string where = path + ":" + std::to_string(number);
    size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return MakeError(ErrorCode::kBadFormat, where + ": expected key = \"value\"");
    }
    std::string_view key = Trim(line.substr(0, equals));
    std::string_view value = Trim(line.substr(equals + 1));
    if (value.size() < 2 || value.front() != '"' || value.back() != '"' ||
        value.substr(1, value.size() - 2).find_first_of("\"\\") != std::string_view::npos) {
      return MakeError(ErrorCode::kBadFormat,
                       where + ": the value must be a plain quoted string, \"like this\"");
    }
    std::string unquoted(value.substr(1, value.size() - 2));
    if (key == "site_dir") {
      config.site_dir = unquoted;
    } else if (key == "maker_dir") {
      config.maker_dir = unquoted;
    } else {
      return MakeError(ErrorCode::kBadFormat, where + ": unknown key \"" + std::string(key) +
                                                  "\" (known: site_dir, maker_dir)");
    }
  }
  return config;
}

Result<ConfigFile> LoadConfigFile() {
  static const Result<ConfigFile> loaded = []() -> Result<ConfigFile> {
    const char* set = std::getenv("CONCIERGE_CONFIG");
    std::string path = set != nullptr ? set : std::string(kDefaultPath);
    if (path.empty() || (set == nullptr && !std::filesystem::exists(path))) {
      return ConfigFile{};
    }
    ASSIGN_OR_RETURN_CTX(std::string text, ReadFile(path), "configuration file");
    return ParseConfigFile(path, text);
  }();
  return loaded;
}

}  // namespace concierge
