#pragma once
// Saturating arithmetic on the core's time types, so "open until", deadlines and ejection ends
// computed from large configured durations never wrap around.
// Thread safety: pure functions. Complexity: O(1).

#include <cstdint>
#include <limits>

#include "gateway/core/time.hpp"

namespace gatelab::core::resilience {

/// t + d, clamped to [TimePoint::min(), TimePoint::max()].
constexpr TimePoint addSaturating(TimePoint t, Duration d) noexcept {
  const std::int64_t a = toNanos(t);
  const std::int64_t b = d.count();
  if (b > 0 && a > std::numeric_limits<std::int64_t>::max() - b) return TimePoint::max();
  if (b < 0 && a < std::numeric_limits<std::int64_t>::min() - b) return TimePoint::min();
  return TimePoint{Duration{a + b}};
}

/// d x k, clamped to Duration::max(). Preconditions: d >= 0.
constexpr Duration mulSaturating(Duration d, std::uint64_t k) noexcept {
  const std::int64_t v = d.count();
  if (v == 0 || k == 0) return Duration{0};
  const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (static_cast<std::uint64_t>(v) > limit / k) return Duration::max();
  return Duration{static_cast<std::int64_t>(static_cast<std::uint64_t>(v) * k)};
}

}  // namespace gatelab::core::resilience
