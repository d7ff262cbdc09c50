#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/error.h"

namespace concierge {

// SystemTime counts microseconds since the Unix epoch. Nanoseconds (the system clock's own
// unit) end in 2262, before the dates peers really send (802.1AR's "no expiry" is
// 99991231235959Z); microseconds reach ±292,000 years, so every date Concierge accepts,
// kEarliestTime to kLatestTime, is represented exactly and compares without overflow.
using SystemTime = std::chrono::sys_time<std::chrono::microseconds>;

// The dates Concierge accepts from anywhere: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z, the
// range of a four-digit year (RFC 3339, X.509 GeneralizedTime).
inline constexpr int64_t kEarliestUnixSeconds = -62167219200;
inline constexpr int64_t kLatestUnixSeconds = 253402300799;

// Clock is the only way protocol logic learns the time, so tests can move it.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime Now() const = 0;
};

// SystemClock reads the host's wall clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  SystemTime Now() const override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  }
};

// FormatRfc3339 renders t in UTC with second precision, e.g. "2026-11-22T12:00:00Z".
std::string FormatRfc3339(SystemTime t);

// ParseRfc3339 accepts RFC 3339 date-times (fractional seconds, "Z" or a numeric offset) and
// fails with kBadFormat naming the problem.
Result<SystemTime> ParseRfc3339(std::string_view text);

int64_t ToUnixSeconds(SystemTime t);

// FromUnixSeconds is for values Concierge stored itself (checked when they came in): a value
// outside kEarliestUnixSeconds..kLatestUnixSeconds is clamped to that range, never overflowed.
SystemTime FromUnixSeconds(int64_t seconds);

// TimeFromUnixSeconds is for values from outside: one beyond the accepted range is refused with
// kBadFormat, naming `what` and the range.
Result<SystemTime> TimeFromUnixSeconds(int64_t seconds, std::string_view what);

int64_t ToUnixMillis(SystemTime t);

// FromUnixMillis and TimeFromUnixMillis are FromUnixSeconds and TimeFromUnixSeconds in
// milliseconds, with the same range.
SystemTime FromUnixMillis(int64_t millis);
Result<SystemTime> TimeFromUnixMillis(int64_t millis, std::string_view what);

}  // namespace concierge
