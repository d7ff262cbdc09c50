#include "common/clock.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace concierge {
namespace {

bool ReadDigits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) {
    return false;
  }
  int value = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

}  // namespace

int64_t ToUnixSeconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

SystemTime FromUnixSeconds(int64_t seconds) {
  return SystemTime(
      std::chrono::seconds(std::clamp(seconds, kEarliestUnixSeconds, kLatestUnixSeconds)));
}

Result<SystemTime> TimeFromUnixSeconds(int64_t seconds, std::string_view what) {
  if (seconds < kEarliestUnixSeconds || seconds > kLatestUnixSeconds) {
    return MakeError(ErrorCode::kBadFormat,
                     std::string(what) + ": " + std::to_string(seconds) +
                         " seconds since 1970 is outside the dates accepted (years 0000 to 9999)");
  }
  return SystemTime(std::chrono::seconds(seconds));
}

std::string FormatRfc3339(SystemTime t) {
  std::time_t seconds = ToUnixSeconds(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  (void)std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02dZ", utc.tm_year + 1900,
                      utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return buffer;
}

Result<SystemTime> ParseRfc3339(std::string_view text) {
  auto bad = [&](const char* what) {
    return MakeError(ErrorCode::kBadFormat,
                     "date-time \"" + std::string(text.substr(0, 40)) + "\": " + what);
  };
  std::tm tm{};
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!ReadDigits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' ||
      !ReadDigits(text, 5, 2, month) || text[7] != '-' || !ReadDigits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !ReadDigits(text, 11, 2, hour) || text[13] != ':' ||
      !ReadDigits(text, 14, 2, minute) || text[16] != ':' || !ReadDigits(text, 17, 2, second)) {
    return bad("expected YYYY-MM-DDTHH:MM:SS");
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad("field out of range");
  }
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ++pos;
      ++digits;
    }
    if (digits == 0) {
      return bad("empty fraction");
    }
  }
  int offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '+' ? 1 : -1;
    int off_hour = 0;
    int off_minute = 0;
    if (!ReadDigits(text, pos + 1, 2, off_hour) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ReadDigits(text, pos + 4, 2, off_minute) || off_hour > 23 || off_minute > 59) {
      return bad("bad time zone offset");
    }
    offset_seconds = sign * (off_hour * 3600 + off_minute * 60);
    pos += 6;
  } else {
    return bad("missing time zone");
  }
  if (pos != text.size()) {
    return bad("trailing characters");
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t seconds = timegm(&tm);
  int64_t utc = static_cast<int64_t>(seconds) - offset_seconds;
  if (utc < kEarliestUnixSeconds || utc > kLatestUnixSeconds) {
    return bad("outside the dates accepted (years 0000 to 9999 in UTC)");
  }
  return SystemTime(std::chrono::seconds(utc));
}

int64_t ToUnixMillis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemTime FromUnixMillis(int64_t millis) {
  constexpr int64_t kEarliest = kEarliestUnixSeconds * 1000;
  constexpr int64_t kLatest = kLatestUnixSeconds * 1000 + 999;
  return SystemTime(std::chrono::milliseconds(std::clamp(millis, kEarliest, kLatest)));
}

Result<SystemTime> TimeFromUnixMillis(int64_t millis, std::string_view what) {
  if (millis < kEarliestUnixSeconds * 1000 || millis > kLatestUnixSeconds * 1000 + 999) {
    return MakeError(ErrorCode::kBadFormat,
                     std::string(what) + ": " + std::to_string(millis) +
                         " milliseconds since 1970 is outside the dates accepted (years 0000 to "
                         "9999)");
  }
  return SystemTime(std::chrono::milliseconds(millis));
}

}  // namespace concierge
