#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/error.h"

namespace concierge {

using SystemTime = std::chrono::system_clock::time_point;

// Clock is the only way protocol logic learns the time, so tests can move it.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime Now() const = 0;
};

// SystemClock reads the host's wall clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  SystemTime Now() const override { return std::chrono::system_clock::now(); }
};

// FormatRfc3339 renders t in UTC with second precision, e.g. "2026-11-22T12:00:00Z".
std::string FormatRfc3339(SystemTime t);

// ParseRfc3339 accepts RFC 3339 date-times (fractional seconds, "Z" or a numeric offset) and
// fails with kBadFormat naming the problem.
Result<SystemTime> ParseRfc3339(std::string_view text);

int64_t ToUnixSeconds(SystemTime t);

SystemTime FromUnixSeconds(int64_t seconds);

int64_t ToUnixMillis(SystemTime t);

}  // namespace concierge
