#pragma once
// Writing trace timestamps: the inverse of sim/trace/trace_time.hpp. Every syntax the readers
// accept can be written: CLF ($time_local), RFC 3339 ($time_iso8601 and JSON/CSV times), epoch
// counts ($msec, epoch_s/ms/us/ns) and strptime-like patterns (TimePattern's directives).
//
// Times are TraceTime (UTC nanoseconds since the epoch); a fixed UTC offset says which local time
// to write. Fractions are truncated (never rounded), so writing keeps the order of times and a
// time read back is never later than the one written.
//
// All functions are pure, thread-safe and do not allocate except where they return a std::string.
// They append to a caller's buffer (`char*` with room for kMaxTimeText bytes) and return the end.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/units.hpp"
#include "sim/trace/trace_record.hpp"
#include "sim/trace/trace_time.hpp"

namespace gatelab::sim::workload {

/// Room any single formatted time needs (the longest is a pattern, bounded separately).
inline constexpr std::size_t kMaxTimeText = 64;

/// A broken-down local time.
struct CivilTime {
  std::int64_t year = 1970;
  int month = 1;        ///< 1..12
  int day = 1;          ///< 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  std::uint32_t nanos = 0;
  int dayOfYear = 1;    ///< 1..366
};

/// The local time at offset `zone` of `t`. O(1).
[[nodiscard]] CivilTime toCivil(trace::TraceTime t, trace::ZoneOffset zone) noexcept;

/// Seconds since the local midnight (at offset `zone`) of `t`, with the fraction: [0, 86400).
[[nodiscard]] double secondOfDay(trace::TraceTime t, trace::ZoneOffset zone) noexcept;

/// "10/Oct/2000:13:55:36 -0700" (whole seconds).
char* appendClfTime(char* out, trace::TraceTime t, trace::ZoneOffset zone) noexcept;

/// "2000-10-10T13:55:36.123-07:00". `fractionDigits` 0..9 (0: no fraction). With `zuluForUtc`, a
/// zero offset is written "Z" (else "+00:00", as nginx's $time_iso8601).
char* appendRfc3339(char* out, trace::TraceTime t, trace::ZoneOffset zone, int fractionDigits,
                    bool zuluForUtc) noexcept;

/// A count since the epoch in units of 10^-`decimalExponent` s (0: seconds, 3: ms, 6: us, 9: ns),
/// followed by `fractionDigits` decimals of that unit (0..9; for ms/us/ns usually 0).
/// Precondition: t is not before the epoch (negative times are written as 0).
char* appendEpoch(char* out, trace::TraceTime t, int decimalExponent, int fractionDigits) noexcept;

/// A strptime-like pattern compiled for writing: the directives TimePattern reads (%Y %y %m %b %h
/// %B %d %e %j %H %M %S %f %z %s %T %F %%) produce text that pattern parses back. Immutable.
class TimeWriter {
 public:
  TimeWriter() = default;
  /// Compiles `pattern` (the same rules as trace::TimePattern::compile).
  [[nodiscard]] static config::UnitResult<TimeWriter> compile(std::string_view pattern, int fractionDigits);
  /// Appends `t` at offset `zone`. Writes at most maxLength() bytes.
  char* append(char* out, trace::TraceTime t, trace::ZoneOffset zone) const noexcept;
  /// An upper bound of the bytes append() writes.
  [[nodiscard]] std::size_t maxLength() const noexcept { return maxLength_; }

 private:
  struct Item {
    char directive;  // 0 for a literal
    char literal;
  };
  std::vector<Item> items_;
  int fractionDigits_ = 3;
  std::size_t maxLength_ = 0;
};

}  // namespace gatelab::sim::workload
