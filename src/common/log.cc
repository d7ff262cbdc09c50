#include "common/log.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace concierge {
namespace {

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kNotice:
      return "notice";
    case LogLevel::kInfo:
      return "info";
  }
  return "info";
}

}  // namespace

void Log(LogLevel level, std::string_view message) {
  static const bool to_journal = std::getenv("JOURNAL_STREAM") != nullptr;
  static std::mutex mutex;
  std::string line = to_journal ? "<" + std::to_string(static_cast<int>(level)) + ">"
                                : "concierge: " + std::string(LevelName(level)) + ": ";
  line.append(message);
  line += '\n';
  std::lock_guard lock(mutex);
  (void)std::fwrite(line.data(), 1, line.size(), stderr);
  (void)std::fflush(stderr);
}

}  // namespace concierge
