#include "gateway/core/resilience/timeouts.hpp"

#include <algorithm>

#include "gateway/core/resilience/time_math.hpp"

namespace gatelab::core::resilience {

const char* validateTimeouts(const Timeouts& t) noexcept {
  if (t.connect < Duration{0}) return "timeouts.connect: must not be negative";
  if (t.perTry < Duration{0}) return "timeouts.per_try: must not be negative";
  if (t.overall < Duration{0}) return "timeouts.overall: must not be negative";
  if (t.overall > Duration{0} && t.perTry > t.overall)
    return "timeouts.per_try: must not exceed timeouts.overall (the overall timeout covers every try)";
  return nullptr;
}

TimePoint overallDeadline(const Timeouts& t, TimePoint requestStart) noexcept {
  return t.overall > Duration{0} ? addSaturating(requestStart, t.overall) : kNoDeadline;
}

TimePoint tryDeadline(const Timeouts& t, TimePoint requestStart, TimePoint tryStart) noexcept {
  const TimePoint perTry = t.perTry > Duration{0} ? addSaturating(tryStart, t.perTry) : kNoDeadline;
  return std::min(perTry, overallDeadline(t, requestStart));
}

TimePoint connectDeadline(const Timeouts& t, TimePoint requestStart, TimePoint tryStart) noexcept {
  const TimePoint connect = t.connect > Duration{0} ? addSaturating(tryStart, t.connect) : kNoDeadline;
  return std::min(connect, tryDeadline(t, requestStart, tryStart));
}

Duration remaining(TimePoint deadline, TimePoint now) noexcept {
  if (deadline == kNoDeadline) return Duration::max();
  if (deadline <= now) return Duration{0};
  // Both are int64 nanoseconds; the difference of a later and an earlier point can overflow only
  // for points near opposite ends of the range, which hosts never produce.
  return deadline - now;
}

}  // namespace gatelab::core::resilience
