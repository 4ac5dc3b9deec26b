#include "sim/trace/trace_time.hpp"

#include <array>
#include <cstdio>

namespace gatelab::sim::trace {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;

constexpr bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr std::array<std::string_view, 12> kMonthNames{"jan", "feb", "mar", "apr", "may", "jun",
                                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 12> kMonthFullNames{"january", "february", "march",     "april",   "may",      "june",
                                                           "july",    "august",   "september", "october", "november", "december"};

// Month number (1..12) of a 3-letter English abbreviation, any case; 0 if none.
int monthFromAbbrev(std::string_view s) noexcept {
  if (s.size() != 3) return 0;
  const char a = lower(s[0]), b = lower(s[1]), c = lower(s[2]);
  for (std::size_t i = 0; i < kMonthNames.size(); ++i) {
    if (kMonthNames[i][0] == a && kMonthNames[i][1] == b && kMonthNames[i][2] == c) return static_cast<int>(i) + 1;
  }
  return 0;
}

// Reads exactly `n` digits at `pos`.
bool fixedDigits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (!isDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// Reads 1..maxDigits digits at `pos` (greedy), advancing pos.
bool someDigits(std::string_view s, std::size_t& pos, std::size_t maxDigits, int& out) noexcept {
  std::size_t n = 0;
  int v = 0;
  while (n < maxDigits && pos + n < s.size() && isDigit(s[pos + n])) {
    v = v * 10 + (s[pos + n] - '0');
    ++n;
  }
  if (n == 0) return false;
  pos += n;
  out = v;
  return true;
}

// Fraction digits at `pos` (at least one): the first `keep` of them as an integer of exactly
// `keep` digits (shorter ones scaled up, the rest dropped: truncated). `pos` moves past all of them.
bool fractionDigits(std::string_view s, std::size_t& pos, std::size_t keep, std::int64_t& value) noexcept {
  std::size_t n = 0;
  std::int64_t v = 0;
  while (pos + n < s.size() && isDigit(s[pos + n])) {
    if (n < keep) v = v * 10 + (s[pos + n] - '0');
    ++n;
  }
  if (n == 0) return false;
  for (std::size_t i = n; i < keep; ++i) v *= 10;
  pos += n;
  value = v;
  return true;
}

// Fraction digits at pos (at least one) as nanoseconds, digits past 9 ignored.
bool fractionNanos(std::string_view s, std::size_t& pos, std::int64_t& nanos) noexcept {
  return fractionDigits(s, pos, 9, nanos);
}

int daysInMonth(int year, int month) noexcept {
  static constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[static_cast<std::size_t>(month - 1)];
}

// Seconds since the epoch for a validated civil date and time; no overflow for years 0..9999.
std::int64_t civilSeconds(int year, int month, int day, int hour, int minute, int second) noexcept {
  return daysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second;
}

bool validTime(int hour, int minute, int second) noexcept {
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 60;
}

// Seconds (UTC) + nanos -> TraceTime, checking the 64-bit nanosecond range.
bool makeTime(std::int64_t seconds, std::int64_t nanos, TraceTime& out) noexcept {
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(seconds, kNanosPerSecond, &ns)) return false;
  if (__builtin_add_overflow(ns, nanos, &ns)) return false;
  out = TraceTime{std::chrono::nanoseconds{ns}};
  return true;
}

// Zone at s[pos..]: "Z"/"z", "+hh:mm", "+hhmm", "+hh". Advances pos.
bool zoneAt(std::string_view s, std::size_t& pos, ZoneOffset& out) noexcept {
  if (pos >= s.size()) return false;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
    out = ZoneOffset{0};
    return true;
  }
  if (s[pos] != '+' && s[pos] != '-') return false;
  const int sign = s[pos] == '-' ? -1 : 1;
  int hh = 0, mm = 0;
  if (!fixedDigits(s, pos + 1, 2, hh)) return false;
  std::size_t p = pos + 3;
  if (p < s.size() && s[p] == ':') {
    if (!fixedDigits(s, p + 1, 2, mm)) return false;
    p += 3;
  } else if (fixedDigits(s, p, 2, mm)) {
    p += 2;
  }
  if (hh > 23 || mm > 59) return false;
  pos = p;
  out = ZoneOffset{sign * (hh * 60 + mm)};
  return true;
}

}  // namespace

std::int64_t daysFromCivil(int year, int month, int day) noexcept {
  // Howard Hinnant's days_from_civil.
  const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = month > 2 ? month - 3 : month + 9;
  const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool isValidDate(int year, int month, int day) noexcept {
  return year >= 0 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

bool parseClfTime(std::string_view s, TraceTime& out) noexcept {
  // 10/Oct/2000:13:55:36 -0700
  // 0123456789012345678901234 5
  if (s.size() != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ') return false;
  int day = 0, year = 0, hour = 0, minute = 0, second = 0, zh = 0, zm = 0;
  const int month = monthFromAbbrev(s.substr(3, 3));
  if (month == 0 || !fixedDigits(s, 0, 2, day) || !fixedDigits(s, 7, 4, year) || !fixedDigits(s, 12, 2, hour) ||
      !fixedDigits(s, 15, 2, minute) || !fixedDigits(s, 18, 2, second) || !fixedDigits(s, 22, 2, zh) ||
      !fixedDigits(s, 24, 2, zm)) {
    return false;
  }
  if (s[21] != '+' && s[21] != '-') return false;
  if (!isValidDate(year, month, day) || !validTime(hour, minute, second) || zh > 23 || zm > 59) return false;
  const std::int64_t zone = (s[21] == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
  return makeTime(civilSeconds(year, month, day, hour, minute, second) - zone, 0, out);
}

bool parseRfc3339(std::string_view s, ZoneOffset defaultZone, TraceTime& out) noexcept {
  // 2000-10-10T13:55:36[.frac][zone]
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':') {
    return false;
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!fixedDigits(s, 0, 4, year) || !fixedDigits(s, 5, 2, month) || !fixedDigits(s, 8, 2, day) ||
      !fixedDigits(s, 11, 2, hour) || !fixedDigits(s, 14, 2, minute) || !fixedDigits(s, 17, 2, second)) {
    return false;
  }
  if (!isValidDate(year, month, day) || !validTime(hour, minute, second)) return false;
  std::size_t pos = 19;
  std::int64_t nanos = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    if (!fractionNanos(s, pos, nanos)) return false;
  }
  ZoneOffset zone = defaultZone;
  if (pos < s.size() && !zoneAt(s, pos, zone)) return false;
  if (pos != s.size()) return false;
  return makeTime(civilSeconds(year, month, day, hour, minute, second) - zone.count() * 60, nanos, out);
}

bool parseEpoch(std::string_view s, int decimalExponent, TraceTime& out) noexcept {
  // A unit of 10^-e seconds is 10^(9-e) ns; 9-e fraction digits stay above a nanosecond.
  static constexpr std::int64_t kPow10[10] = {1, 10, 100, 1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000,
                                              1'000'000'000};
  if (decimalExponent < 0 || decimalExponent > 9 || s.empty()) return false;
  std::size_t pos = 0;
  std::int64_t whole = 0;
  for (; pos < s.size() && isDigit(s[pos]); ++pos) {
    if (__builtin_mul_overflow(whole, std::int64_t{10}, &whole) ||
        __builtin_add_overflow(whole, std::int64_t{s[pos] - '0'}, &whole)) {
      return false;
    }
  }
  if (pos == 0) return false;
  // Fraction digits below a nanosecond are dropped (truncated).
  const auto kept = static_cast<std::size_t>(9 - decimalExponent);
  std::int64_t fraction = 0;  // in nanoseconds
  if (pos < s.size() && s[pos] == '.' && !fractionDigits(s, ++pos, kept, fraction)) return false;
  if (pos != s.size()) return false;
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(whole, kPow10[kept], &ns) || __builtin_add_overflow(ns, fraction, &ns)) return false;
  out = TraceTime{std::chrono::nanoseconds{ns}};
  return true;
}

std::optional<ZoneOffset> parseZoneOffset(std::string_view s) noexcept {
  if (s == "UTC" || s == "utc" || s == "GMT") return ZoneOffset{0};
  std::size_t pos = 0;
  ZoneOffset z{0};
  if (!zoneAt(s, pos, z) || pos != s.size()) return std::nullopt;
  return z;
}

std::optional<CivilDate> parseCivilDate(std::string_view s) noexcept {
  CivilDate d;
  if (s.size() != 7 && s.size() != 10) return std::nullopt;
  if (!fixedDigits(s, 0, 4, d.year) || s[4] != '-' || !fixedDigits(s, 5, 2, d.month)) return std::nullopt;
  if (s.size() == 10 && (s[7] != '-' || !fixedDigits(s, 8, 2, d.day))) return std::nullopt;
  if (!isValidDate(d.year, d.month, d.day)) return std::nullopt;
  return d;
}

std::string formatZoneOffset(ZoneOffset zone) {
  if (zone.count() == 0) return "Z";
  const long long m = zone.count() < 0 ? -zone.count() : zone.count();
  char buf[48];
  std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", zone.count() < 0 ? '-' : '+', m / 60, m % 60);
  return buf;
}

std::string formatTraceTime(TraceTime t, ZoneOffset zone) {
  const std::int64_t ns = t.time_since_epoch().count() + zone.count() * 60 * kNanosPerSecond;
  std::int64_t secs = ns / kNanosPerSecond;
  std::int64_t frac = ns % kNanosPerSecond;
  if (frac < 0) {
    frac += kNanosPerSecond;
    --secs;
  }
  std::int64_t days = secs / kSecondsPerDay;
  std::int64_t sod = secs % kSecondsPerDay;
  if (sod < 0) {
    sod += kSecondsPerDay;
    --days;
  }
  // Hinnant's civil_from_days.
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(sod / 3600),
                static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60));
  std::string out = buf;
  if (frac != 0) {
    char f[32];
    std::snprintf(f, sizeof f, ".%09lld", static_cast<long long>(frac));
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  out += formatZoneOffset(zone);
  return out;
}

// ---- TimePattern --------------------------------------------------------------------------------

config::UnitResult<TimePattern> TimePattern::compile(std::string_view pattern) {
  static constexpr std::string_view kAllowed =
      "strptime-like directives %Y %y %m %b %B %d %e %j %H %M %S %f %z %s %T %F %% and literal text";
  TimePattern p;
  p.text_ = std::string(pattern);
  bool hasTime = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c != '%') {
      p.items_.push_back({Step::kLiteral, c});
      continue;
    }
    if (i + 1 >= pattern.size()) {
      return config::UnitError{"invalid time pattern \"" + std::string(pattern) + "\": it ends with a lone '%'",
                               std::string(kAllowed)};
    }
    const char d = pattern[++i];
    const auto add = [&p](Step s) { p.items_.push_back({s, 0}); };
    switch (d) {
      case 'Y': add(Step::kYear4); break;
      case 'y': add(Step::kYear2); break;
      case 'm': add(Step::kMonth); break;
      case 'b':
      case 'h': add(Step::kMonthName); break;
      case 'B': add(Step::kMonthFull); break;
      case 'd': add(Step::kDay); break;
      case 'e': add(Step::kDaySpace); break;
      case 'j': add(Step::kDayOfYear); break;
      case 'H': add(Step::kHour); hasTime = true; break;
      case 'M': add(Step::kMinute); break;
      case 'S': add(Step::kSecond); break;
      case 'f': add(Step::kFraction); break;
      case 'z': add(Step::kZone); break;
      case 's': add(Step::kEpoch); hasTime = true; break;
      case 'T':
        add(Step::kHour);
        p.items_.push_back({Step::kLiteral, ':'});
        add(Step::kMinute);
        p.items_.push_back({Step::kLiteral, ':'});
        add(Step::kSecond);
        hasTime = true;
        break;
      case 'F':
        add(Step::kYear4);
        p.items_.push_back({Step::kLiteral, '-'});
        add(Step::kMonth);
        p.items_.push_back({Step::kLiteral, '-'});
        add(Step::kDay);
        break;
      case '%': p.items_.push_back({Step::kLiteral, '%'}); break;
      default:
        return config::UnitError{"invalid time pattern \"" + std::string(pattern) + "\": unknown directive %" +
                                     std::string(1, d),
                                 std::string(kAllowed)};
    }
  }
  if (!hasTime) {
    return config::UnitError{"invalid time pattern \"" + std::string(pattern) + "\": it has no hour (%H or %T) or epoch (%s)",
                             std::string(kAllowed)};
  }
  return p;
}

bool TimePattern::parse(std::string_view s, ZoneOffset zone, CivilDate base, TraceTime& out) const noexcept {
  int year = base.year, month = base.month, day = base.day, hour = 0, minute = 0, second = 0, yday = 0;
  std::int64_t nanos = 0;
  std::int64_t epoch = -1;
  std::size_t pos = 0;
  for (const Item& it : items_) {
    switch (it.step) {
      case Step::kLiteral:
        if (pos >= s.size() || s[pos] != it.literal) return false;
        ++pos;
        break;
      case Step::kYear4:
        if (!fixedDigits(s, pos, 4, year)) return false;
        pos += 4;
        break;
      case Step::kYear2:
        if (!fixedDigits(s, pos, 2, year)) return false;
        year += year >= 69 ? 1900 : 2000;
        pos += 2;
        break;
      case Step::kMonth:
        if (!someDigits(s, pos, 2, month)) return false;
        break;
      case Step::kMonthName:
        if (pos + 3 > s.size() || (month = monthFromAbbrev(s.substr(pos, 3))) == 0) return false;
        pos += 3;
        break;
      case Step::kMonthFull: {
        bool found = false;
        for (std::size_t m = 0; m < kMonthFullNames.size() && !found; ++m) {
          const std::string_view name = kMonthFullNames[m];
          if (pos + name.size() > s.size()) continue;
          bool eq = true;
          for (std::size_t k = 0; k < name.size() && eq; ++k) eq = lower(s[pos + k]) == name[k];
          if (eq) {
            month = static_cast<int>(m) + 1;
            pos += name.size();
            found = true;
          }
        }
        if (!found) return false;
        break;
      }
      case Step::kDaySpace:
        if (pos < s.size() && s[pos] == ' ') ++pos;
        [[fallthrough]];
      case Step::kDay:
        if (!someDigits(s, pos, 2, day)) return false;
        break;
      case Step::kDayOfYear:
        if (!someDigits(s, pos, 3, yday) || yday < 1) return false;
        break;
      case Step::kHour:
        if (!someDigits(s, pos, 2, hour)) return false;
        break;
      case Step::kMinute:
        if (!someDigits(s, pos, 2, minute)) return false;
        break;
      case Step::kSecond:
        if (!someDigits(s, pos, 2, second)) return false;
        break;
      case Step::kFraction:
        if (!fractionNanos(s, pos, nanos)) return false;
        break;
      case Step::kZone:
        if (!zoneAt(s, pos, zone)) return false;
        break;
      case Step::kEpoch: {
        std::size_t start = pos;
        while (pos < s.size() && isDigit(s[pos])) ++pos;
        if (pos == start || pos - start > 12) return false;
        epoch = 0;
        for (std::size_t k = start; k < pos; ++k) epoch = epoch * 10 + (s[k] - '0');
        break;
      }
    }
  }
  if (pos != s.size()) return false;
  if (epoch >= 0) return makeTime(epoch, nanos, out);
  if (!validTime(hour, minute, second)) return false;
  std::int64_t days = 0;
  if (yday > 0) {
    if (year < 0 || year > 9999) return false;
    const int yearDays = daysInMonth(year, 2) == 29 ? 366 : 365;
    if (yday > yearDays) return false;
    days = daysFromCivil(year, 1, 1) + yday - 1;
  } else {
    if (!isValidDate(year, month, day)) return false;
    days = daysFromCivil(year, month, day);
  }
  const std::int64_t secs = days * kSecondsPerDay + hour * 3600 + minute * 60 + second - zone.count() * 60;
  return makeTime(secs, nanos, out);
}

// ---- TimeKind / TimeParser -----------------------------------------------------------------------

std::string_view timeKindName(TimeKind kind) noexcept {
  switch (kind) {
    case TimeKind::kAuto: return "auto";
    case TimeKind::kClf: return "clf";
    case TimeKind::kRfc3339: return "rfc3339";
    case TimeKind::kEpochSeconds: return "epoch_s";
    case TimeKind::kEpochMillis: return "epoch_ms";
    case TimeKind::kEpochMicros: return "epoch_us";
    case TimeKind::kEpochNanos: return "epoch_ns";
    case TimeKind::kPattern: return "pattern";
  }
  return "?";
}

std::optional<TimeKind> parseTimeKind(std::string_view name) noexcept {
  if (name == "auto") return TimeKind::kAuto;
  if (name == "clf") return TimeKind::kClf;
  if (name == "rfc3339" || name == "iso8601") return TimeKind::kRfc3339;
  if (name == "epoch_s" || name == "epoch") return TimeKind::kEpochSeconds;
  if (name == "epoch_ms") return TimeKind::kEpochMillis;
  if (name == "epoch_us") return TimeKind::kEpochMicros;
  if (name == "epoch_ns") return TimeKind::kEpochNanos;
  if (name == "pattern") return TimeKind::kPattern;
  return std::nullopt;
}

config::UnitResult<TimeParser> TimeParser::make(const TimeSpec& spec) {
  TimeParser p;
  p.kind_ = spec.kind;
  p.zone_ = spec.zone;
  p.base_ = spec.base;
  if (spec.kind == TimeKind::kPattern) {
    auto compiled = TimePattern::compile(spec.pattern);
    if (!compiled) return compiled.error();
    p.pattern_ = compiled.value();
  }
  return p;
}

TimeParser TimeParser::fixed(TimeKind kind, ZoneOffset zone) {
  TimeParser p;
  p.kind_ = kind == TimeKind::kPattern ? TimeKind::kAuto : kind;
  p.zone_ = zone;
  return p;
}

bool TimeParser::parse(std::string_view text, TraceTime& out, bool isJsonNumber) const noexcept {
  switch (kind_) {
    case TimeKind::kClf: return parseClfTime(text, out);
    case TimeKind::kRfc3339: return parseRfc3339(text, zone_, out);
    case TimeKind::kEpochSeconds: return parseEpoch(text, 0, out);
    case TimeKind::kEpochMillis: return parseEpoch(text, 3, out);
    case TimeKind::kEpochMicros: return parseEpoch(text, 6, out);
    case TimeKind::kEpochNanos: return parseEpoch(text, 9, out);
    case TimeKind::kPattern: return pattern_.parse(text, zone_, base_, out);
    case TimeKind::kAuto: {
      if (!text.empty() && isDigit(text[0]) && (isJsonNumber || text.find_first_not_of("0123456789.") == std::string_view::npos)) {
        std::size_t digits = 0;
        while (digits < text.size() && isDigit(text[digits])) ++digits;
        const int exponent = digits <= 11 ? 0 : digits <= 14 ? 3 : digits <= 17 ? 6 : 9;
        return parseEpoch(text, exponent, out);
      }
      return parseRfc3339(text, zone_, out) || parseClfTime(text, out);
    }
  }
  return false;
}

}  // namespace gatelab::sim::trace
