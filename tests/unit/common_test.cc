#include <limits>

#include <gtest/gtest.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/config_file.h"
#include "common/json.h"

namespace concierge {
namespace {

TEST(Base64Test, RoundTripsEveryLength) {
  for (size_t n = 0; n < 20; ++n) {
    Bytes data(n);
    for (size_t i = 0; i < n; ++i) {
      data[i] = static_cast<uint8_t>(i * 37 + 11);
    }
    auto decoded = Base64Decode(Base64Encode(data));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, data);
  }
  EXPECT_EQ(Base64Encode(ToBytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(ToBytes("fo")), "Zm8=");
}

TEST(Base64Test, RejectsMalformedAndForeignInput) {
  EXPECT_FALSE(Base64Decode("Zm9=v"));                      // padding in the middle
  EXPECT_FALSE(Base64Decode("Zm9v!"));                      // foreign character
  EXPECT_FALSE(Base64Decode("Zm9vY"));                      // truncated
  EXPECT_EQ(ToString(Base64Decode("Zm9=").value()), "fo");  // trailing bits are ignored
  EXPECT_FALSE(Base64Decode("Zm 9v"));  // whitespace is only for the lenient form
  EXPECT_TRUE(Base64DecodeLenient("Zm9v\r\nYmFy\n"));
}

TEST(HexTest, DecodesBothCases) {
  EXPECT_EQ(HexDecode("00fFa1").value(), (Bytes{0x00, 0xff, 0xa1}));
  EXPECT_FALSE(HexDecode("abc"));
  EXPECT_FALSE(HexDecode("zz"));
}

TEST(TrimTrailingSpaceTest, DropsOnlyTheTrailingWhitespace) {
  EXPECT_EQ(TrimTrailingSpace("https://site.example\r\n"), "https://site.example");
  EXPECT_EQ(TrimTrailingSpace(" a b \t\n"), " a b");
  EXPECT_EQ(TrimTrailingSpace(" \n"), "");
  EXPECT_EQ(TrimTrailingSpace(""), "");
}

TEST(Rfc3339Test, ParsesOffsetsAndFractions) {
  auto utc = ParseRfc3339("2026-11-22T12:00:00Z").value();
  EXPECT_EQ(FormatRfc3339(utc), "2026-11-22T12:00:00Z");
  EXPECT_EQ(ParseRfc3339("2026-11-22T13:30:00.123+01:30").value(), utc);
  EXPECT_EQ(ParseRfc3339("2026-11-22T10:00:00-02:00").value(), utc);
}

TEST(Rfc3339Test, RejectsMalformedTimes) {
  for (const char* bad : {"2026-11-22", "2026-11-22T12:00:00", "2026-13-01T00:00:00Z",
                          "2026-11-22T12:00:00Zjunk", "2026-11-22T12:00:00.Z", "nonsense"}) {
    auto parsed = ParseRfc3339(bad);
    EXPECT_FALSE(parsed) << bad;
    if (!parsed) {
      EXPECT_EQ(parsed.error().code(), ErrorCode::kBadFormat);
    }
  }
}

// Found by fuzzing: dates outside 1678-2262 overflowed a nanosecond time_point (undefined
// behaviour). Every four-digit year is now represented; anything beyond is refused by name.
TEST(TimeRangeTest, EveryFourDigitYearIsRepresentedAndOrdered) {
  auto first = ParseRfc3339("0000-01-01T00:00:00Z").value();
  auto old = ParseRfc3339("0996-01-15T08:00:00Z").value();
  auto now = ParseRfc3339("2026-12-04T00:00:00Z").value();
  auto later = ParseRfc3339("5509-01-01T00:00:00Z").value();
  auto last = ParseRfc3339("9999-12-31T23:59:59Z").value();
  EXPECT_LT(first, old);
  EXPECT_LT(old, now);
  EXPECT_LT(now, later);
  EXPECT_LT(later, last);
  EXPECT_EQ(ToUnixSeconds(first), kEarliestUnixSeconds);
  EXPECT_EQ(ToUnixSeconds(last), kLatestUnixSeconds);
  EXPECT_EQ(FormatRfc3339(old), "0996-01-15T08:00:00Z");
  EXPECT_EQ(FormatRfc3339(later), "5509-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(last), "9999-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339(FromUnixSeconds(9800000000)), "2280-07-19T22:13:20Z");
  // An offset that carries the instant past either end is refused, not wrapped.
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:59:59-01:00"));
  EXPECT_FALSE(ParseRfc3339("0000-01-01T00:00:00+01:00"));
}

TEST(TimeRangeTest, SecondsFromOutsideAreCheckedAndStoredOnesClamped) {
  EXPECT_EQ(TimeFromUnixSeconds(kLatestUnixSeconds, "t").value(),
            FromUnixSeconds(kLatestUnixSeconds));
  for (int64_t seconds :
       {kLatestUnixSeconds + 1, kEarliestUnixSeconds - 1, std::numeric_limits<int64_t>::max(),
        std::numeric_limits<int64_t>::min()}) {
    auto refused = TimeFromUnixSeconds(seconds, "audit.at_unix");
    ASSERT_FALSE(refused) << seconds;
    EXPECT_NE(refused.error().message().find("audit.at_unix"), std::string::npos);
    EXPECT_NE(refused.error().message().find("years 0000 to 9999"), std::string::npos);
  }
  EXPECT_EQ(FromUnixSeconds(std::numeric_limits<int64_t>::max()),
            FromUnixSeconds(kLatestUnixSeconds));
  EXPECT_EQ(FromUnixSeconds(std::numeric_limits<int64_t>::min()),
            FromUnixSeconds(kEarliestUnixSeconds));
}

TEST(JsonObjectReaderTest, NamesThePathOfWhatIsWrong) {
  Json object = ParseJsonObject(R"({"a": 1, "b": "x"})", "thing").value();
  JsonObjectReader reader(object, "thing");
  auto a = reader.RequiredString("a");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().message(), "thing.a: expected a string");
  auto unknown = reader.RejectUnknown({"a"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message(), "thing.b: unknown member");
  EXPECT_FALSE(ParseJsonObject("[1]", "list"));
  EXPECT_FALSE(ParseJsonObject("{", "broken"));
}

TEST(ErrorTest, MapsCodesToExitAndHttpStatus) {
  EXPECT_EQ(ExitCodeFor(Error(ErrorCode::kBadFormat, "")), 2);
  EXPECT_EQ(ExitCodeFor(Error(ErrorCode::kSecurity, "")), 1);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kTooLarge, "")), 413);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kNotFound, "")), 404);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kUnauthenticated, "")), 401);
  EXPECT_EQ(HttpStatusFor(Error(ErrorCode::kRateLimited, "")), 429);
  EXPECT_EQ(ErrorCodeForHttpStatus(401), ErrorCode::kUnauthenticated);
  EXPECT_EQ(ErrorCodeForHttpStatus(429), ErrorCode::kRateLimited);
  EXPECT_EQ(CoapCodeFor(Error(ErrorCode::kRateLimited, "")).detail, 29);
  EXPECT_EQ(Error(ErrorCode::kNotFound, "x").WithContext("y").message(), "y: x");
}

}  // namespace
}  // namespace concierge

namespace concierge {
namespace {

TEST(ConfigFileTest, ReadsTheDirectoriesAndRefusesWhatItDoesNotKnowByLine) {
  auto config = ParseConfigFile("c.toml",
                                "# where things are\n\n  site_dir = \"/var/lib/s\"  \r\n"
                                "maker_dir=\"/var/lib/m\"\n");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->path, "c.toml");
  EXPECT_EQ(config->site_dir, "/var/lib/s");
  EXPECT_EQ(config->maker_dir, "/var/lib/m");
  auto message = [](std::string_view text) {
    auto parsed = ParseConfigFile("c.toml", text);
    return parsed ? std::string("accepted") : parsed.error().message();
  };
  EXPECT_EQ(message("site_dir = /x\n"),
            "c.toml:1: the value must be a plain quoted string, \"like this\"");
  EXPECT_EQ(message("\nsite_dir\n"), "c.toml:2: expected key = \"value\"");
  EXPECT_EQ(message("colour = \"blue\""),
            "c.toml:1: unknown key \"colour\" (known: site_dir, maker_dir)");
  EXPECT_EQ(message("site_dir = \"a\\\"b\""),
            "c.toml:1: the value must be a plain quoted string, \"like this\"");
  EXPECT_EQ(message(std::string(70000, '#')), "c.toml is larger than 64 KiB");
}

}  // namespace
}  // namespace concierge
