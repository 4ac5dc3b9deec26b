#pragma once
// TimeWeighted: the time integral of a piecewise-constant integer quantity (queue length, busy
// servers), kept exactly in integer "value x nanoseconds". The mean over any interval is the
// difference of two integrals divided by its length, so a metrics collector can sample
// integral(t) at bucket edges and get per-bucket averages without the backend knowing buckets.
//
// Thread safety: none. Complexity: O(1).

#include <cstdint>

#include "gateway/core/int128.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::sim {

class TimeWeighted {
 public:
  explicit TimeWeighted(core::TimePoint start = {}) noexcept : last_(start), start_(start) {}

  /// The quantity changes to `value` at `now` (now >= the previous change).
  void set(std::int64_t value, core::TimePoint now) noexcept {
    accumulate(now);
    value_ = value;
    if (value > max_) max_ = value;
  }
  void add(std::int64_t delta, core::TimePoint now) noexcept { set(value_ + delta, now); }

  [[nodiscard]] std::int64_t value() const noexcept { return value_; }
  [[nodiscard]] std::int64_t max() const noexcept { return max_; }

  /// Integral from the start to `now` (>= the last change), in value-seconds.
  [[nodiscard]] double integralSeconds(core::TimePoint now) const noexcept {
    const core::U128 a = area_ + span(now);
    return static_cast<double>(a) / 1e9;
  }
  /// Mean value over [start, now]; 0 for an empty interval.
  [[nodiscard]] double mean(core::TimePoint now) const noexcept {
    const std::int64_t len = core::toNanos(now) - core::toNanos(start_);
    if (len <= 0) return 0.0;
    return static_cast<double>(area_ + span(now)) / static_cast<double>(len);
  }

 private:
  core::U128 span(core::TimePoint now) const noexcept {
    const std::int64_t dt = core::toNanos(now) - core::toNanos(last_);
    if (dt <= 0 || value_ <= 0) return 0;
    return static_cast<core::U128>(static_cast<std::uint64_t>(value_)) * static_cast<std::uint64_t>(dt);
  }
  void accumulate(core::TimePoint now) noexcept {
    area_ += span(now);
    if (now > last_) last_ = now;
  }

  core::U128 area_ = 0;
  core::TimePoint last_;
  core::TimePoint start_;
  std::int64_t value_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace gatelab::sim
