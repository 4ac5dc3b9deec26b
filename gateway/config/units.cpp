#include "gateway/config/units.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <system_error>

namespace gatelab::config {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kMaxNanos = std::numeric_limits<std::int64_t>::max();

struct DurationUnit {
  std::string_view name;
  std::int64_t nanos;
};

// "µs" appears twice: U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU (Go accepts both).
constexpr std::array<DurationUnit, 9> kDurationUnits{{
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},
    {"\xCE\xBCs", 1'000},
    {"ms", 1'000'000},
    {"s", kNanosPerSecond},
    {"m", 60 * kNanosPerSecond},
    {"h", 3'600 * kNanosPerSecond},
    {"d", 86'400 * kNanosPerSecond},
}};

// Spellings people reach for, mapped to the unit we accept. Used only to make the message better.
struct Hint {
  std::string_view wrong;
  std::string_view right;
};
constexpr std::array<Hint, 19> kDurationUnitHints{{
    {"sec", "s"},    {"secs", "s"},   {"second", "s"}, {"seconds", "s"}, {"min", "m"},
    {"mins", "m"},   {"minute", "m"}, {"minutes", "m"}, {"hr", "h"},      {"hrs", "h"},
    {"hour", "h"},   {"hours", "h"},  {"day", "d"},    {"days", "d"},     {"msec", "ms"},
    {"millis", "ms"}, {"usec", "us"}, {"nsec", "ns"},  {"S", "s"},
}};

std::string inQuotes(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  out.append(s);
  out.push_back('"');
  return out;
}

bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }

bool isUnitByte(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || u >= 0x80;
}

bool mulOverflows(std::int64_t a, std::int64_t b, std::int64_t& out) noexcept {
  return __builtin_mul_overflow(a, b, &out);
}

bool addOverflows(std::int64_t a, std::int64_t b, std::int64_t& out) noexcept {
  return __builtin_add_overflow(a, b, &out);
}

// Parses a duration; on failure returns the reason only (without the "invalid duration" prefix) so
// the rate parser can reuse it for periods.
std::optional<core::Duration> durationOrReason(std::string_view text, std::string& reason) {
  if (text.empty()) {
    reason = "empty duration";
    return std::nullopt;
  }
  if (text.front() == '-') {
    reason = "negative durations are not allowed";
    return std::nullopt;
  }
  std::int64_t total = 0;
  std::size_t i = 0;
  bool sawGroup = false;
  while (i < text.size()) {
    // Number: digits, optionally "." and more digits; at least one digit overall.
    const std::size_t numberStart = i;
    std::int64_t whole = 0;
    bool wholeOverflow = false;
    std::size_t digits = 0;
    while (i < text.size() && isDigit(text[i])) {
      const auto digit = static_cast<std::int64_t>(text[i] - '0');
      if (!wholeOverflow && (mulOverflows(whole, 10, whole) || addOverflows(whole, digit, whole))) {
        wholeOverflow = true;
      }
      ++digits;
      ++i;
    }
    // Fraction: keep at most 18 digits (finer than any unit's nanosecond resolution).
    std::int64_t fraction = 0;
    std::int64_t fractionScale = 1;
    if (i < text.size() && text[i] == '.') {
      ++i;
      while (i < text.size() && isDigit(text[i])) {
        if (fractionScale < 1'000'000'000'000'000'000) {
          fraction = fraction * 10 + (text[i] - '0');
          fractionScale *= 10;
        }
        ++digits;
        ++i;
      }
    }
    if (digits == 0) {
      if (i < text.size() && isUnitByte(text[i])) {
        reason = "a unit needs a number before it, e.g. 1" + std::string(text.substr(i));
      } else if (i < text.size()) {
        reason = "unexpected character " + inQuotes(text.substr(i, 1));
      } else {
        reason = "a number is missing";
      }
      return std::nullopt;
    }
    const std::string_view number = text.substr(numberStart, i - numberStart);
    // Unit: a run of letters (and UTF-8 bytes for "µs").
    const std::size_t unitStart = i;
    while (i < text.size() && isUnitByte(text[i])) ++i;
    const std::string_view unit = text.substr(unitStart, i - unitStart);
    if (unit.empty()) {
      if (i < text.size()) {
        reason = "unexpected character " + inQuotes(text.substr(i, 1));
      } else if (!sawGroup) {
        reason = "add a unit: ms, s, m, h";
      } else {
        reason = "missing unit after " + inQuotes(number) + "; add a unit: ms, s, m, h";
      }
      return std::nullopt;
    }
    std::int64_t unitNanos = 0;
    for (const DurationUnit& u : kDurationUnits) {
      if (u.name == unit) unitNanos = u.nanos;
    }
    if (unitNanos == 0) {
      reason = "unknown unit " + inQuotes(unit);
      for (const Hint& h : kDurationUnitHints) {
        if (h.wrong == unit) reason += " (did you mean '" + std::string(h.right) + "'?)";
      }
      return std::nullopt;
    }
    std::int64_t groupNanos = 0;
    if (wholeOverflow || mulOverflows(whole, unitNanos, groupNanos)) {
      reason = "too large; the maximum is about 292 years (2^63-1 ns)";
      return std::nullopt;
    }
    // fraction/fractionScale of a unit, exact when it fits; drop trailing precision otherwise.
    while (fraction != 0 && fraction > kMaxNanos / unitNanos) {
      fraction /= 10;
      fractionScale /= 10;
    }
    const std::int64_t fractionNanos = fraction * unitNanos / fractionScale;
    if (addOverflows(groupNanos, fractionNanos, groupNanos) || addOverflows(total, groupNanos, total)) {
      reason = "too large; the maximum is about 292 years (2^63-1 ns)";
      return std::nullopt;
    }
    sawGroup = true;
  }
  return core::Duration{total};
}

struct NamedPeriod {
  std::string_view name;
  std::int64_t seconds;
};
constexpr std::array<NamedPeriod, 4> kNamedPeriods{{{"s", 1}, {"min", 60}, {"h", 3'600}, {"day", 86'400}}};

constexpr std::array<Hint, 17> kPeriodHints{{
    {"sec", "s"},    {"second", "s"},  {"seconds", "s"}, {"m", "min"},  {"mn", "min"},    {"mins", "min"},
    {"minute", "min"}, {"minutes", "min"}, {"hr", "h"}, {"hour", "h"}, {"hours", "h"}, {"d", "day"},
    {"days", "day"}, {"daily", "day"}, {"ms", "1ms"}, {"us", "1us"}, {"ns", "1ns"},
}};

UnitError rateError(std::string_view text, std::string reason) {
  return UnitError{"invalid rate " + inQuotes(text) + ": " + reason, std::string(kRateAllowed)};
}

}  // namespace

UnitResult<core::Duration> parseDuration(std::string_view text) {
  std::string reason;
  if (auto d = durationOrReason(text, reason)) return *d;
  return UnitError{"invalid duration " + inQuotes(text) + ": " + reason, std::string(kDurationAllowed)};
}

UnitResult<core::Rate> parseRate(std::string_view text) {
  if (text.empty()) return rateError(text, "empty rate");
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    bool allDigits = true;
    for (char c : text) allDigits = allDigits && isDigit(c);
    if (allDigits) {
      return rateError(text, "add a period, e.g. " + std::string(text) + "/s or " + std::string(text) + "/min");
    }
    return rateError(text, "expected COUNT/PERIOD");
  }
  std::string_view countText = text.substr(0, slash);
  const std::string_view periodText = text.substr(slash + 1);
  const bool nginx = !countText.empty() && countText.back() == 'r';
  if (nginx) countText.remove_suffix(1);

  if (countText.empty()) return rateError(text, "missing count before \"/\"");
  for (char c : countText) {
    if (!isDigit(c)) {
      return rateError(text, "count " + inQuotes(countText) + " must be a whole number >= 1");
    }
  }
  std::uint64_t count = 0;
  const auto [end, ec] = std::from_chars(countText.data(), countText.data() + countText.size(), count);
  if (ec != std::errc{} || end != countText.data() + countText.size() || count > kMaxRateCount) {
    return rateError(text, "count " + std::string(countText) + " is too large; the maximum is " +
                               std::to_string(kMaxRateCount));
  }
  if (count == 0) return rateError(text, "count must be at least 1");

  if (periodText.empty()) return rateError(text, "missing period after \"/\"");
  core::Duration period{0};
  if (nginx) {
    if (periodText == "s") {
      period = std::chrono::seconds{1};
    } else if (periodText == "m") {
      period = std::chrono::minutes{1};
    } else {
      return rateError(text, "nginx-style rates support only r/s and r/m, not r/" + std::string(periodText));
    }
  } else if (isDigit(periodText.front()) || periodText.front() == '.') {
    std::string reason;
    auto d = durationOrReason(periodText, reason);
    if (!d) return rateError(text, "period " + inQuotes(periodText) + ": " + reason);
    period = *d;
    if (period.count() <= 0) return rateError(text, "the period must be longer than zero");
  } else {
    for (const NamedPeriod& p : kNamedPeriods) {
      if (p.name == periodText) period = std::chrono::seconds{p.seconds};
    }
    if (period.count() == 0) {
      std::string reason = "unknown period " + inQuotes(periodText);
      for (const Hint& h : kPeriodHints) {
        if (h.wrong == periodText) reason += " (did you mean '" + std::string(h.right) + "'?)";
      }
      return rateError(text, std::move(reason));
    }
  }
  return core::Rate{count, period};
}

UnitResult<double> parsePercent(std::string_view text) {
  auto fail = [&](const std::string& reason) {
    return UnitError{"invalid percentage " + inQuotes(text) + ": " + reason, std::string(kPercentAllowed)};
  };
  if (text.empty() || text.back() != '%') return fail("add a % sign, e.g. 50%");
  const std::string_view number = text.substr(0, text.size() - 1);
  // Only plain decimals: digits with an optional fraction (no signs, exponents, inf or nan).
  std::size_t digits = 0;
  std::size_t dots = 0;
  for (char c : number) {
    if (isDigit(c)) {
      ++digits;
    } else if (c == '.') {
      ++dots;
    } else {
      return fail(c == '-' ? "negative percentages are not allowed" : "expected a number before %");
    }
  }
  if (digits == 0 || dots > 1) return fail("expected a number before %");
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc{} || end != number.data() + number.size()) return fail("expected a number before %");
  if (value > 100.0) return fail("above 100%");
  return value;
}

}  // namespace gatelab::config
