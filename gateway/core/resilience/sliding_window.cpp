#include "gateway/core/resilience/sliding_window.hpp"

#include <algorithm>
#include <cassert>

namespace gatelab::core::resilience {

namespace {

constexpr std::int64_t floorDiv(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

constexpr std::uint8_t kFailureBit = 1;
constexpr std::uint8_t kSlowBit = 2;
constexpr std::uint8_t kOccupiedBit = 4;

}  // namespace

// ---------------------------------------------------------------------------------------------
// CountWindow

CountWindow::CountWindow(std::uint32_t size) : ring_(std::max<std::uint32_t>(size, 1), 0) {}

void CountWindow::record(bool failure, bool slow) noexcept {
  std::uint8_t& slot = ring_[next_];
  if ((slot & kOccupiedBit) != 0) {
    --totals_.calls;
    totals_.failures -= (slot & kFailureBit) != 0 ? 1 : 0;
    totals_.slowCalls -= (slot & kSlowBit) != 0 ? 1 : 0;
  }
  slot = static_cast<std::uint8_t>(kOccupiedBit | (failure ? kFailureBit : 0) | (slow ? kSlowBit : 0));
  ++totals_.calls;
  totals_.failures += failure ? 1 : 0;
  totals_.slowCalls += slow ? 1 : 0;
  next_ = next_ + 1 == ring_.size() ? 0 : next_ + 1;
}

void CountWindow::clear() noexcept {
  std::fill(ring_.begin(), ring_.end(), std::uint8_t{0});
  next_ = 0;
  totals_ = {};
}

// ---------------------------------------------------------------------------------------------
// TimeWindow

TimeWindow::TimeWindow(Duration window, Duration bucket)
    : bucketWidth_(bucket),
      buckets_(static_cast<std::size_t>(std::max<std::int64_t>(window / bucket, 1))) {
  assert(bucket.count() > 0 && window >= bucket && window % bucket == Duration{0});
}

std::size_t TimeWindow::slotOf(std::int64_t index) const noexcept {
  const auto n = static_cast<std::int64_t>(buckets_.size());
  return static_cast<std::size_t>(((index % n) + n) % n);
}

// Invariant: every bucket's counts are either inside totals_ (its index is one of the last n
// indices up to latest_) or zero, so moving forward only subtracts what leaves the window.
void TimeWindow::advanceTo(std::int64_t index) noexcept {
  const auto n = static_cast<std::int64_t>(buckets_.size());
  if (index - latest_ >= n) {
    for (Bucket& b : buckets_) b = Bucket{};
    totals_ = {};
  } else {
    for (std::int64_t j = latest_ + 1; j <= index; ++j) {
      Bucket& b = buckets_[slotOf(j)];
      totals_.calls -= b.calls;
      totals_.failures -= b.failures;
      totals_.slowCalls -= b.slowCalls;
      b = Bucket{j, 0, 0, 0};
    }
  }
  latest_ = index;
}

void TimeWindow::record(TimePoint now, bool failure, bool slow) noexcept {
  const std::int64_t index = floorDiv(toNanos(now), bucketWidth_.count());
  if (!started_) {
    started_ = true;
    latest_ = index;
  } else if (index > latest_) {
    advanceTo(index);
  } else if (index <= latest_ - static_cast<std::int64_t>(buckets_.size())) {
    return;  // older than the whole window
  }
  Bucket& b = buckets_[slotOf(index)];
  b.index = index;
  ++b.calls;
  b.failures += failure ? 1 : 0;
  b.slowCalls += slow ? 1 : 0;
  ++totals_.calls;
  totals_.failures += failure ? 1 : 0;
  totals_.slowCalls += slow ? 1 : 0;
}

WindowTotals TimeWindow::totals(TimePoint now) noexcept {
  if (started_) {
    const std::int64_t index = floorDiv(toNanos(now), bucketWidth_.count());
    if (index > latest_) advanceTo(index);
  }
  return totals_;
}

void TimeWindow::clear() noexcept {
  for (Bucket& b : buckets_) b = Bucket{};
  totals_ = {};
  started_ = false;
  latest_ = 0;
}

}  // namespace gatelab::core::resilience
