#pragma once
// The circuit breaker's sliding windows of call outcomes, with resilience4j's two shapes:
//
//   CountWindow  the last N calls, in a ring buffer of one byte per call;
//   TimeWindow   the calls of the last T, in T / bucket buckets (one per second by default),
//                each holding aggregate counts. A call recorded at time t belongs to bucket
//                floor(t / bucket) and is counted while the current bucket index is less than
//                that index + T / bucket; it is forgotten exactly when the window's start moves
//                past its bucket (so with T = 10s a call at 0.5s counts until 9.999999999s and is
//                gone at 10s, as in resilience4j's per-epoch-second aggregation).
//
// Both answer the same question in O(1): how many calls, failures and slow calls are in the
// window. Neither reads a clock; TimeWindow takes `now`.
// Thread safety: none (one owner). Memory: CountWindow N bytes; TimeWindow 32 bytes per bucket.

#include <cstdint>
#include <vector>

#include "gateway/core/time.hpp"

namespace gatelab::core::resilience {

/// Totals over a window.
struct WindowTotals {
  std::uint64_t calls = 0;
  std::uint64_t failures = 0;
  std::uint64_t slowCalls = 0;
  friend bool operator==(const WindowTotals&, const WindowTotals&) = default;
};

/// The last `size` calls. Precondition: size >= 1.
class CountWindow {
 public:
  explicit CountWindow(std::uint32_t size);
  /// Records one call, evicting the oldest once full. O(1).
  void record(bool failure, bool slow) noexcept;
  [[nodiscard]] WindowTotals totals() const noexcept { return totals_; }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(ring_.size()); }
  void clear() noexcept;

 private:
  std::vector<std::uint8_t> ring_;  ///< bit 0: failure, bit 1: slow
  std::uint32_t next_ = 0;          ///< slot the next call goes to
  WindowTotals totals_;
};

/// The calls of the last `window`, in buckets of `bucket`.
/// Preconditions: bucket > 0, window >= bucket, window % bucket == 0.
class TimeWindow {
 public:
  TimeWindow(Duration window, Duration bucket);
  /// Records one call at `now`. Calls older than the window (now going backwards by more than the
  /// window) are dropped. Amortized O(1); O(buckets) after a long idle period.
  void record(TimePoint now, bool failure, bool slow) noexcept;
  /// Totals of the calls still inside the window at `now` (state is moved forward). O(1) amortized.
  [[nodiscard]] WindowTotals totals(TimePoint now) noexcept;
  /// Totals as of the last record()/totals() call, without moving time forward.
  [[nodiscard]] WindowTotals lastTotals() const noexcept { return totals_; }
  [[nodiscard]] Duration window() const noexcept { return bucketWidth_ * static_cast<std::int64_t>(buckets_.size()); }
  void clear() noexcept;

 private:
  struct Bucket {
    std::int64_t index = 0;  ///< floor(time / bucket width) of the calls it holds
    std::uint64_t calls = 0;
    std::uint64_t failures = 0;
    std::uint64_t slowCalls = 0;
  };
  void advanceTo(std::int64_t index) noexcept;
  std::size_t slotOf(std::int64_t index) const noexcept;

  Duration bucketWidth_;
  std::vector<Bucket> buckets_;
  std::int64_t latest_ = 0;  ///< index of the newest bucket the window has moved to
  bool started_ = false;
  WindowTotals totals_;
};

}  // namespace gatelab::core::resilience
