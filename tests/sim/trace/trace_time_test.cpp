// Timestamp syntaxes: CLF, RFC 3339, epoch counts, strptime-like patterns, zones, formatting.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "sim/trace/trace_time.hpp"
#include "tests/sim/trace/test_support.hpp"

namespace gatelab::sim::trace {
namespace {

using testing::epochSeconds;

std::int64_t nanos(TraceTime t) { return t.time_since_epoch().count(); }
constexpr std::int64_t kS = 1'000'000'000;

struct TimeCase {
  const char* text;
  std::optional<std::int64_t> epochNanos;  // nullopt: must be rejected
  const char* why;                          // the property checked
};

TEST(TraceTime, DaysFromCivilMatchesKnownDates) {
  EXPECT_EQ(daysFromCivil(1970, 1, 1), 0);                      // the epoch
  EXPECT_EQ(daysFromCivil(1995, 8, 1), 9343);                   // NASA trace day
  EXPECT_EQ(daysFromCivil(2000, 3, 1), 11017);                  // after a 400-year leap day
  EXPECT_EQ(daysFromCivil(1969, 12, 31), -1);                   // before the epoch
  EXPECT_TRUE(isValidDate(2000, 2, 29));                        // 2000 is a leap year
  EXPECT_FALSE(isValidDate(1900, 2, 29));                       // 1900 is not
  EXPECT_FALSE(isValidDate(1995, 4, 31));                       // April has 30 days
}

TEST(TraceTime, ClfTimeAppliesTheZone) {
  const TimeCase cases[] = {
      {"10/Oct/2000:13:55:36 -0700", 971211336 * kS, "Apache's documented example, zone west of UTC"},
      {"01/Aug/1995:00:00:01 -0400", 807249601 * kS, "EDT"},
      {"01/Aug/1995:04:00:01 +0000", 807249601 * kS, "UTC"},
      {"01/Aug/1995:09:30:01 +0530", 807249601 * kS, "half-hour zone east of UTC"},
      {"31/Dec/1999:23:59:60 +0000", 946684800 * kS, "leap second lands on the next minute"},
      {"10/oct/2000:13:55:36 -0700", 971211336 * kS, "month names in any case"},
      {"10/Oct/2000:13:55:36", std::nullopt, "zone is required"},
      {"10/Oct/2000 13:55:36 -0700", std::nullopt, "':' between date and time"},
      {"32/Oct/2000:13:55:36 -0700", std::nullopt, "day out of range"},
      {"29/Feb/1999:13:55:36 -0700", std::nullopt, "not a leap year"},
      {"10/Foo/2000:13:55:36 -0700", std::nullopt, "unknown month"},
      {"10/Oct/2000:24:00:00 -0700", std::nullopt, "hour out of range"},
      {"10/Oct/2000:13:55:36 -07000", std::nullopt, "trailing junk"},
      {"10/Oct/2000:13:55:36 *0700", std::nullopt, "zone sign"},
      {"", std::nullopt, "empty"},
  };
  for (const TimeCase& c : cases) {
    TraceTime t{};
    const bool ok = parseClfTime(c.text, t);
    EXPECT_EQ(ok, c.epochNanos.has_value()) << c.why << ": " << c.text;
    if (ok && c.epochNanos) {
      EXPECT_EQ(nanos(t), *c.epochNanos) << c.why;
    }
  }
}

TEST(TraceTime, Rfc3339AcceptsWhatLoggersWrite) {
  const TimeCase cases[] = {
      {"2000-10-10T13:55:36-07:00", 971211336 * kS, "nginx $time_iso8601"},
      {"2000-10-10T20:55:36Z", 971211336 * kS, "Z"},
      {"2000-10-10t20:55:36z", 971211336 * kS, "lower-case t and z"},
      {"2000-10-10 20:55:36+00:00", 971211336 * kS, "space separator"},
      {"2000-10-10T22:55:36+0200", 971211336 * kS, "zone without colon"},
      {"2000-10-10T20:55:36.5Z", 971211336 * kS + 500'000'000, "fraction"},
      {"2000-10-10T20:55:36.123456789123Z", 971211336 * kS + 123'456'789, "digits below a nanosecond truncated"},
      {"2000-10-10T20:55:36", 971211336 * kS, "no zone: the default zone (UTC here)"},
      {"2000-10-10T20:55:36.Z", std::nullopt, "empty fraction"},
      {"2000-13-10T20:55:36Z", std::nullopt, "month 13"},
      {"2000-10-10T20:55Z", std::nullopt, "seconds are required"},
      {"2000-10-10T20:55:36Zjunk", std::nullopt, "trailing junk"},
      {"2000-10-10T20:55:36+25:00", std::nullopt, "offset out of range"},
  };
  for (const TimeCase& c : cases) {
    TraceTime t{};
    const bool ok = parseRfc3339(c.text, ZoneOffset{0}, t);
    EXPECT_EQ(ok, c.epochNanos.has_value()) << c.why << ": " << c.text;
    if (ok && c.epochNanos) {
      EXPECT_EQ(nanos(t), *c.epochNanos) << c.why;
    }
  }
  TraceTime t{};
  ASSERT_TRUE(parseRfc3339("2000-10-10T13:55:36", ZoneOffset{-7 * 60}, t));  // default zone applies without an offset
  EXPECT_EQ(nanos(t), 971211336 * kS);
}

TEST(TraceTime, EpochCountsInEveryUnit) {
  struct Case {
    const char* text;
    int exponent;
    std::optional<std::int64_t> epochNanos;
    const char* why;
  };
  const Case cases[] = {
      {"807256800", 0, 807256800 * kS, "seconds (NASA)"},
      {"1700000000.123", 0, 1700000000 * kS + 123'000'000, "nginx $msec"},
      {"1700000000123", 3, 1700000000 * kS + 123'000'000, "milliseconds"},
      {"1700000000123456", 6, 1700000000 * kS + 123'456'000, "microseconds"},
      {"1700000000123456789", 9, 1700000000 * kS + 123'456'789, "nanoseconds"},
      {"1700000000123.9", 3, 1700000000 * kS + 123'900'000, "fractional milliseconds"},
      {"0", 0, 0, "the epoch itself"},
      {"-5", 0, std::nullopt, "no sign"},
      {"12a", 0, std::nullopt, "junk"},
      {"1.", 0, std::nullopt, "empty fraction"},
      {"99999999999999999999", 0, std::nullopt, "overflow is rejected, not wrapped"},
      {"9300000000", 0, std::nullopt, "past year 2262 overflows nanoseconds"},
  };
  for (const Case& c : cases) {
    TraceTime t{};
    const bool ok = parseEpoch(c.text, c.exponent, t);
    EXPECT_EQ(ok, c.epochNanos.has_value()) << c.why << ": " << c.text;
    if (ok && c.epochNanos) {
      EXPECT_EQ(nanos(t), *c.epochNanos) << c.why;
    }
  }
}

TEST(TraceTime, PatternsUseBaseDateAndZone) {
  struct Case {
    const char* pattern;
    const char* text;
    std::optional<std::int64_t> epochNanos;
    const char* why;
  };
  const CivilDate aug1995{1995, 8, 1};
  const ZoneOffset edt{-4 * 60};
  const Case cases[] = {
      {"%d:%H:%M:%S", "29:23:53:25", 809754805 * kS, "EPA: day of the base month, EDT"},
      {"%d:%H:%M:%S", "30:23:53:07", 809841187 * kS, "EPA last record"},
      {"%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36 -0700", 971211336 * kS, "%z overrides the fixed zone"},
      {"%F %T", "1995-08-01 02:00:00", 807256800 * kS, "%F %T with the fixed zone"},
      {"%Y%m%d%H%M%S", "19950801020000", 807256800 * kS, "packed digits need fixed widths: 2-digit greedy"},
      {"%j %H:%M:%S", "213 02:00:00", 807256800 * kS, "day of year 213 of 1995 = Aug 1"},
      {"%y-%m-%dT%H:%M:%S.%f", "95-08-01T02:00:00.25", 807256800 * kS + 250'000'000, "2-digit year and fraction"},
      {"%B %e %T", "August  1 02:00:00", 807256800 * kS, "full month name and space-padded day"},
      {"%s", "807256800", 807256800 * kS, "epoch seconds ignore the zone"},
      {"[%d:%H:%M:%S]", "[29:23:53:25]", 809754805 * kS, "literal text around directives"},
      {"%d:%H:%M:%S", "31:00:00:00", 809841600 * kS, "Aug 31 exists"},
      {"%d:%H:%M:%S", "32:00:00:00", std::nullopt, "Aug 32 does not"},
      {"%d:%H:%M:%S", "29:23:53", std::nullopt, "too short"},
      {"%d:%H:%M:%S", "29:23:53:25Z", std::nullopt, "trailing junk"},
      {"%d:%H:%M:%S", "29:24:00:00", std::nullopt, "hour 24"},
  };
  for (const Case& c : cases) {
    auto p = TimePattern::compile(c.pattern);
    ASSERT_TRUE(p.ok()) << c.pattern;
    TraceTime t{};
    const bool ok = p.value().parse(c.text, edt, aug1995, t);
    EXPECT_EQ(ok, c.epochNanos.has_value()) << c.why << ": " << c.text;
    if (ok && c.epochNanos) {
      EXPECT_EQ(nanos(t), *c.epochNanos) << c.why << " got " << formatTraceTime(t);
    }
  }
}

TEST(TraceTime, BadPatternsAreRejectedWithTheReason) {
  // Unknown directive, lone '%', and a pattern that has no time of day.
  for (const char* bad : {"%d:%Q", "%H:%M:%", "%Y-%m-%d"}) {
    auto p = TimePattern::compile(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_NE(p.error().message.find(bad), std::string::npos) << p.error().message;
    EXPECT_FALSE(p.error().allowed.empty());
  }
}

TEST(TraceTime, AutoKindPicksTheUnitByDigitCount) {
  TimeSpec spec;
  spec.kind = TimeKind::kAuto;
  auto parser = TimeParser::make(spec);
  ASSERT_TRUE(parser.ok());
  const struct {
    const char* text;
    std::int64_t seconds;
    const char* why;
  } cases[] = {
      {"807256800", 807256800, "9 digits: seconds"},
      {"1700000000", 1700000000, "10 digits: seconds"},
      {"1700000000000", 1700000000, "13 digits: milliseconds"},
      {"1700000000000000", 1700000000, "16 digits: microseconds"},
      {"1700000000000000000", 1700000000, "19 digits: nanoseconds"},
      {"2023-11-14T22:13:20Z", 1700000000, "RFC 3339 text"},
      {"14/Nov/2023:22:13:20 +0000", 1700000000, "CLF text"},
  };
  for (const auto& c : cases) {
    TraceTime t{};
    ASSERT_TRUE(parser.value().parse(c.text, t)) << c.why;
    EXPECT_EQ(t, epochSeconds(c.seconds)) << c.why;
  }
}

TEST(TraceTime, ZonesAndDatesForOptions) {
  EXPECT_EQ(parseZoneOffset("Z"), ZoneOffset{0});
  EXPECT_EQ(parseZoneOffset("UTC"), ZoneOffset{0});
  EXPECT_EQ(parseZoneOffset("-04:00"), ZoneOffset{-240});
  EXPECT_EQ(parseZoneOffset("+0530"), ZoneOffset{330});
  EXPECT_EQ(parseZoneOffset("+02"), ZoneOffset{120});
  EXPECT_FALSE(parseZoneOffset("EDT").has_value());   // names are ambiguous: offsets only
  EXPECT_FALSE(parseZoneOffset("+2:00").has_value());
  EXPECT_EQ(parseCivilDate("1995-08"), (CivilDate{1995, 8, 1}));
  EXPECT_EQ(parseCivilDate("1995-08-29"), (CivilDate{1995, 8, 29}));
  EXPECT_FALSE(parseCivilDate("1995-02-30").has_value());
  EXPECT_FALSE(parseCivilDate("95-08-01").has_value());
}

TEST(TraceTime, FormattingIsUtcOrTheGivenZone) {
  EXPECT_EQ(formatTraceTime(epochSeconds(807256800)), "1995-08-01T06:00:00Z");
  EXPECT_EQ(formatTraceTime(epochSeconds(807256800), ZoneOffset{-240}), "1995-08-01T02:00:00-04:00");
  EXPECT_EQ(formatTraceTime(epochSeconds(0) + std::chrono::milliseconds(250)), "1970-01-01T00:00:00.25Z");
  EXPECT_EQ(formatTraceTime(epochSeconds(-1)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(formatZoneOffset(ZoneOffset{330}), "+05:30");
}

}  // namespace
}  // namespace gatelab::sim::trace
