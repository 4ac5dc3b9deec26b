#pragma once
// Time in the policy core.
//
// The core never reads a clock. Every call that depends on time takes `now` as a TimePoint; the
// host (the simulator's virtual clock, or the proxy's steady clock) supplies it. TimePoint is a
// strong type over integer nanoseconds on a monotonic timeline whose epoch the host chooses, so it
// cannot be mixed up with wall-clock time (std::chrono::system_clock) by accident.

#include <chrono>
#include <cstdint>
#include <string>

namespace gatelab::core {

/// Tag "clock" for the core's monotonic timeline. It has no now(): only hosts produce time points.
struct MonotonicTime {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<MonotonicTime, duration>;
  static constexpr bool is_steady = true;
};

using Duration = std::chrono::nanoseconds;
using TimePoint = MonotonicTime::time_point;

/// A point `d` after the start of the host's timeline (handy in tests and the simulator).
constexpr TimePoint atOffset(Duration d) noexcept { return TimePoint{d}; }

/// Nanoseconds since the timeline's epoch, as a plain integer (for arithmetic and hashing).
constexpr std::int64_t toNanos(TimePoint t) noexcept { return t.time_since_epoch().count(); }

/// Human-readable duration, shortest exact unit: "250ms", "1.5s", "2m", "90s" -> "1m30s".
std::string formatDuration(Duration d);

}  // namespace gatelab::core
