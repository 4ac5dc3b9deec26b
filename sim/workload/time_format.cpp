#include "sim/workload/time_format.hpp"

#include <array>

#include "gateway/core/decimal.hpp"

namespace gatelab::sim::workload {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;

constexpr std::array<std::string_view, 12> kMonthAbbr{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 12> kMonthFull{"January", "February", "March",     "April",   "May",      "June",
                                                      "July",    "August",   "September", "October", "November", "December"};

// Floor division and modulo for possibly negative numerators.
constexpr std::int64_t floorDiv(std::int64_t a, std::int64_t b) noexcept { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }
constexpr std::int64_t floorMod(std::int64_t a, std::int64_t b) noexcept { return a - floorDiv(a, b) * b; }

char* twoDigits(char* out, int v) noexcept {
  out[0] = static_cast<char>('0' + v / 10 % 10);
  out[1] = static_cast<char>('0' + v % 10);
  return out + 2;
}

char* fixedDigits(char* out, std::int64_t v, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return out + width;
}

char* copy(char* out, std::string_view s) noexcept {
  for (const char c : s) *out++ = c;
  return out;
}

// The first `digits` decimals of a nanosecond count (truncated).
char* fraction(char* out, std::uint32_t nanos, int digits) noexcept {
  std::uint32_t scale = 100'000'000;
  for (int i = 0; i < digits; ++i) {
    *out++ = static_cast<char>('0' + nanos / scale % 10);
    scale /= 10;
  }
  return out;
}

// "+02:00" / "-0400" / "Z".
char* zoneText(char* out, trace::ZoneOffset zone, bool colon, bool zulu) noexcept {
  const auto minutes = static_cast<int>(zone.count());
  if (minutes == 0 && zulu) {
    *out++ = 'Z';
    return out;
  }
  *out++ = minutes < 0 ? '-' : '+';
  const int m = minutes < 0 ? -minutes : minutes;
  out = twoDigits(out, m / 60);
  if (colon) *out++ = ':';
  return twoDigits(out, m % 60);
}

}  // namespace

CivilTime toCivil(trace::TraceTime t, trace::ZoneOffset zone) noexcept {
  const std::int64_t ns = t.time_since_epoch().count() + static_cast<std::int64_t>(zone.count()) * 60 * kNanosPerSecond;
  const std::int64_t secs = floorDiv(ns, kNanosPerSecond);
  CivilTime c;
  c.nanos = static_cast<std::uint32_t>(ns - secs * kNanosPerSecond);
  const std::int64_t days = floorDiv(secs, kSecondsPerDay);
  const std::int64_t sod = secs - days * kSecondsPerDay;
  c.hour = static_cast<int>(sod / 3600);
  c.minute = static_cast<int>(sod / 60 % 60);
  c.second = static_cast<int>(sod % 60);
  // Days since 1970-01-01 to a proleptic Gregorian date, counting eras of 400 years from 0000-03-01
  // (so the leap day is the last day of the shifted year).
  const std::int64_t z = days + 719'468;
  const std::int64_t era = floorDiv(z, 146'097);
  const std::int64_t dayOfEra = z - era * 146'097;
  const std::int64_t yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36'524 - dayOfEra / 146'096) / 365;
  const std::int64_t dayOfShiftedYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
  const std::int64_t shiftedMonth = (5 * dayOfShiftedYear + 2) / 153;  // 0 = March
  c.day = static_cast<int>(dayOfShiftedYear - (153 * shiftedMonth + 2) / 5 + 1);
  c.month = static_cast<int>(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9);
  c.year = yearOfEra + era * 400 + (c.month <= 2 ? 1 : 0);
  const std::int64_t jan1 = trace::daysFromCivil(static_cast<int>(c.year), 1, 1);
  c.dayOfYear = static_cast<int>(days - jan1 + 1);
  return c;
}

double secondOfDay(trace::TraceTime t, trace::ZoneOffset zone) noexcept {
  const std::int64_t ns = t.time_since_epoch().count() + static_cast<std::int64_t>(zone.count()) * 60 * kNanosPerSecond;
  return static_cast<double>(floorMod(ns, kSecondsPerDay * kNanosPerSecond)) / 1e9;
}

char* appendClfTime(char* out, trace::TraceTime t, trace::ZoneOffset zone) noexcept {
  const CivilTime c = toCivil(t, zone);
  out = twoDigits(out, c.day);
  *out++ = '/';
  out = copy(out, kMonthAbbr[static_cast<std::size_t>(c.month - 1)]);
  *out++ = '/';
  out = fixedDigits(out, c.year, 4);
  *out++ = ':';
  out = twoDigits(out, c.hour);
  *out++ = ':';
  out = twoDigits(out, c.minute);
  *out++ = ':';
  out = twoDigits(out, c.second);
  *out++ = ' ';
  return zoneText(out, zone, false, false);
}

char* appendRfc3339(char* out, trace::TraceTime t, trace::ZoneOffset zone, int fractionDigits, bool zuluForUtc) noexcept {
  const CivilTime c = toCivil(t, zone);
  out = fixedDigits(out, c.year, 4);
  *out++ = '-';
  out = twoDigits(out, c.month);
  *out++ = '-';
  out = twoDigits(out, c.day);
  *out++ = 'T';
  out = twoDigits(out, c.hour);
  *out++ = ':';
  out = twoDigits(out, c.minute);
  *out++ = ':';
  out = twoDigits(out, c.second);
  if (fractionDigits > 0) {
    *out++ = '.';
    out = fraction(out, c.nanos, fractionDigits > 9 ? 9 : fractionDigits);
  }
  return zoneText(out, zone, true, zuluForUtc);
}

char* appendEpoch(char* out, trace::TraceTime t, int decimalExponent, int fractionDigits) noexcept {
  std::int64_t ns = t.time_since_epoch().count();
  if (ns < 0) ns = 0;
  std::int64_t unit = kNanosPerSecond;
  for (int i = 0; i < decimalExponent && unit > 1; ++i) unit /= 10;
  out = core::writeDecimal(out, ns / unit);
  const std::int64_t rest = ns % unit;  // in nanoseconds, below one unit
  int digits = fractionDigits;
  if (digits <= 0 || unit == 1) return out;
  *out++ = '.';
  // The remainder as decimals of the unit: rest / unit, digit by digit.
  std::int64_t r = rest;
  for (int i = 0; i < digits; ++i) {
    r *= 10;
    *out++ = static_cast<char>('0' + r / unit);
    r %= unit;
  }
  return out;
}

config::UnitResult<TimeWriter> TimeWriter::compile(std::string_view pattern, int fractionDigits) {
  // Validate exactly as the reader does, so a format that can be written can be read.
  auto reader = trace::TimePattern::compile(pattern);
  if (!reader) return reader.error();
  TimeWriter w;
  w.fractionDigits_ = fractionDigits <= 0 ? 3 : (fractionDigits > 9 ? 9 : fractionDigits);
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 == pattern.size()) {
      w.items_.push_back({0, pattern[i]});
      w.maxLength_ += 1;
      continue;
    }
    const char d = pattern[++i];
    if (d == '%') {
      w.items_.push_back({0, '%'});
      w.maxLength_ += 1;
      continue;
    }
    w.items_.push_back({d, 0});
    w.maxLength_ += 24;  // the longest single directive: %s (20 digits) or %B (9)
  }
  return w;
}

char* TimeWriter::append(char* out, trace::TraceTime t, trace::ZoneOffset zone) const noexcept {
  const CivilTime c = toCivil(t, zone);
  for (const Item& it : items_) {
    switch (it.directive) {
      case 0: *out++ = it.literal; break;
      case 'Y': out = fixedDigits(out, c.year, 4); break;
      case 'y': out = twoDigits(out, static_cast<int>(floorMod(c.year, 100))); break;
      case 'm': out = twoDigits(out, c.month); break;
      case 'b':
      case 'h': out = copy(out, kMonthAbbr[static_cast<std::size_t>(c.month - 1)]); break;
      case 'B': out = copy(out, kMonthFull[static_cast<std::size_t>(c.month - 1)]); break;
      case 'd': out = twoDigits(out, c.day); break;
      case 'e':
        *out++ = c.day < 10 ? ' ' : static_cast<char>('0' + c.day / 10);
        *out++ = static_cast<char>('0' + c.day % 10);
        break;
      case 'j': out = fixedDigits(out, c.dayOfYear, 3); break;
      case 'H': out = twoDigits(out, c.hour); break;
      case 'M': out = twoDigits(out, c.minute); break;
      case 'S': out = twoDigits(out, c.second); break;
      case 'f': out = fraction(out, c.nanos, fractionDigits_); break;
      case 'z': out = zoneText(out, zone, false, false); break;
      case 's': out = core::writeDecimal(out, floorDiv(t.time_since_epoch().count(), kNanosPerSecond)); break;
      case 'T':
        out = twoDigits(out, c.hour);
        *out++ = ':';
        out = twoDigits(out, c.minute);
        *out++ = ':';
        out = twoDigits(out, c.second);
        break;
      case 'F':
        out = fixedDigits(out, c.year, 4);
        *out++ = '-';
        out = twoDigits(out, c.month);
        *out++ = '-';
        out = twoDigits(out, c.day);
        break;
      default: break;  // compile() accepted only known directives
    }
  }
  return out;
}

}  // namespace gatelab::sim::workload
