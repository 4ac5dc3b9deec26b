#pragma once
// Timestamps in traces: the syntaxes access logs and exports use, and how a TraceFormat says which
// one a field has (TimeSpec). Everything converts to TraceTime (UTC nanoseconds since the epoch).
//
// All parsers are pure, allocation-free, noexcept and thread-safe; they return false on any text
// that does not match exactly (no partial parses, no leading/trailing junk). Dates are proleptic
// Gregorian; days and times are range-checked (second 60 is accepted as a leap second and lands on
// the next minute's first second).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/units.hpp"
#include "sim/trace/trace_record.hpp"

namespace gatelab::sim::trace {

/// A fixed UTC offset, east positive: EDT is -4h, CEST is +2h.
using ZoneOffset = std::chrono::minutes;

/// A calendar date (for TimeSpec::base: the date parts a time pattern does not contain).
struct CivilDate {
  int year = 1970;
  int month = 1;  ///< 1..12
  int day = 1;    ///< 1..31
  friend bool operator==(const CivilDate&, const CivilDate&) = default;
};

/// Days from 1970-01-01 to the given proleptic Gregorian date (negative before 1970). O(1).
[[nodiscard]] std::int64_t daysFromCivil(int year, int month, int day) noexcept;
/// True when year/month/day name a real date (year 0..9999).
[[nodiscard]] bool isValidDate(int year, int month, int day) noexcept;

/// Apache/nginx $time_local: "10/Oct/2000:13:55:36 -0700" (exactly; the zone is applied).
[[nodiscard]] bool parseClfTime(std::string_view text, TraceTime& out) noexcept;
/// RFC 3339 / ISO 8601 as nginx $time_iso8601 and most JSON loggers write it:
/// "2000-10-10T13:55:36-07:00", "...Z", "...+0200", an optional fraction of up to 9 digits
/// (more are truncated), 'T' or ' ' between date and time. Without a zone, `defaultZone` applies.
[[nodiscard]] bool parseRfc3339(std::string_view text, ZoneOffset defaultZone, TraceTime& out) noexcept;
/// A non-negative decimal count of units since the epoch: "807256800", "1700000000.123".
/// `decimalExponent` says the unit: 0 seconds, 3 milliseconds, 6 microseconds, 9 nanoseconds.
/// Digits below a nanosecond are truncated. False on overflow (after year 2262).
[[nodiscard]] bool parseEpoch(std::string_view text, int decimalExponent, TraceTime& out) noexcept;
/// "Z", "UTC", "GMT", "+02:00", "-0400", "+02" -> offset; nullopt otherwise (|offset| < 24h).
[[nodiscard]] std::optional<ZoneOffset> parseZoneOffset(std::string_view text) noexcept;
/// "1995-08-01" or "1995-08" (day 1) -> date; nullopt otherwise.
[[nodiscard]] std::optional<CivilDate> parseCivilDate(std::string_view text) noexcept;

/// "1995-08-01T06:00:00Z"; with a non-zero `zone`, local time and offset ("1995-08-01T02:00:00-04:00").
/// A fraction is printed only when non-zero, trailing zeros trimmed.
[[nodiscard]] std::string formatTraceTime(TraceTime t, ZoneOffset zone = ZoneOffset{0});
/// "+02:00", "-04:00", "Z" for zero.
[[nodiscard]] std::string formatZoneOffset(ZoneOffset zone);

/// A strptime-like pattern, compiled once. Directives:
///   %Y year (4 digits)   %y year (2 digits, 69-99 -> 19xx, 00-68 -> 20xx)
///   %m month (1-2 digits) %b/%h month name ("Aug", any case)  %B full month name
///   %d day (1-2 digits)  %e day (1-2 digits, a leading space allowed)  %j day of year (1-3 digits)
///   %H hour  %M minute  %S second (1-2 digits each)  %f fraction of a second (1-9+ digits)
///   %z zone ("Z", "+02:00", "-0400")  %s epoch seconds  %T = %H:%M:%S  %F = %Y-%m-%d  %% '%'
/// Any other character must appear literally. Date parts the pattern lacks come from a base date,
/// the zone from a fixed offset unless the pattern has %z. Immutable after compile; thread-safe.
class TimePattern {
 public:
  TimePattern() = default;
  /// Compiles `pattern`; an unknown directive or a pattern without any time directive is an error.
  [[nodiscard]] static config::UnitResult<TimePattern> compile(std::string_view pattern);
  /// Parses `text` (all of it). Precondition: compiled.
  [[nodiscard]] bool parse(std::string_view text, ZoneOffset zone, CivilDate base, TraceTime& out) const noexcept;
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

 private:
  enum class Step : std::uint8_t {
    kLiteral, kYear4, kYear2, kMonth, kMonthName, kMonthFull, kDay, kDaySpace, kDayOfYear,
    kHour, kMinute, kSecond, kFraction, kZone, kEpoch,
  };
  struct Item {
    Step step;
    char literal;
  };
  std::vector<Item> items_;
  std::string text_;
};

/// Which syntax a time field has.
enum class TimeKind : std::uint8_t {
  kAuto,          ///< numbers: epoch seconds, or ms/us/ns by digit count (<=11 / 12-14 / 15-17 / >=18
                  ///< integer digits); otherwise RFC 3339, then CLF
  kClf,           ///< "10/Oct/2000:13:55:36 -0700"
  kRfc3339,       ///< "2000-10-10T13:55:36-07:00"
  kEpochSeconds,  ///< "807256800", "1700000000.123"
  kEpochMillis,
  kEpochMicros,
  kEpochNanos,
  kPattern,       ///< TimeSpec::pattern (strptime-like), with TimeSpec::zone and TimeSpec::base
};

/// Text names: auto, clf, rfc3339 (also iso8601), epoch_s, epoch_ms, epoch_us, epoch_ns, pattern.
[[nodiscard]] std::string_view timeKindName(TimeKind kind) noexcept;
/// Inverse of timeKindName; nullopt for an unknown name.
[[nodiscard]] std::optional<TimeKind> parseTimeKind(std::string_view name) noexcept;

/// How to read one time field: its syntax, the zone for times that carry none, and (for patterns)
/// the date parts the pattern lacks.
struct TimeSpec {
  TimeKind kind = TimeKind::kAuto;
  std::string pattern;     ///< strptime-like, for kPattern (see TimePattern)
  ZoneOffset zone{0};      ///< applied to times without their own zone (patterns without %z, RFC 3339 without offset)
  CivilDate base;          ///< date parts a pattern lacks (year, month, day)
};

/// A TimeSpec made ready to parse (the pattern compiled). Immutable; thread-safe.
class TimeParser {
 public:
  TimeParser() = default;
  [[nodiscard]] static config::UnitResult<TimeParser> make(const TimeSpec& spec);
  /// Same settings, another syntax (for log_format variables with a fixed syntax). kPattern needs make().
  [[nodiscard]] static TimeParser fixed(TimeKind kind, ZoneOffset zone = ZoneOffset{0});
  /// Parses a field's text. `isJsonNumber` tells kAuto that the value was an unquoted JSON number.
  [[nodiscard]] bool parse(std::string_view text, TraceTime& out, bool isJsonNumber = false) const noexcept;
  [[nodiscard]] TimeKind kind() const noexcept { return kind_; }

 private:
  TimeKind kind_ = TimeKind::kAuto;
  ZoneOffset zone_{0};
  CivilDate base_;
  TimePattern pattern_;
};

}  // namespace gatelab::sim::trace
