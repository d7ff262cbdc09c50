#pragma once

#include <string_view>

namespace concierge {

// Priorities as syslog and journald number them.
enum class LogLevel { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6 };

// Log writes one line to stderr. Under systemd (JOURNAL_STREAM set) it starts with the
// priority as "<N>", which journald reads as the entry's priority; on a terminal it starts
// with "concierge: warning: " and the like instead. Lines never interleave.
void Log(LogLevel level, std::string_view message);

}  // namespace concierge
