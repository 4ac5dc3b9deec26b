#include "sim/metrics/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace gatelab::sim {

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

std::size_t LatencyHistogram::bucketOf(std::int64_t nanos) noexcept {
  if (nanos < kExactBelow) return static_cast<std::size_t>(nanos < 0 ? 0 : nanos);
  const auto v = static_cast<std::uint64_t>(nanos);
  const int k = static_cast<int>(std::bit_width(v)) - 1;  // 2^k <= v < 2^(k+1), k >= 8
  const auto sub = static_cast<std::size_t>(v >> (k - kSubBucketBits)) - (std::size_t{1} << kSubBucketBits);
  return static_cast<std::size_t>(kExactBelow) + static_cast<std::size_t>(k - 8) * (std::size_t{1} << kSubBucketBits) +
         sub;
}

std::int64_t LatencyHistogram::bucketLow(std::size_t index) noexcept {
  if (index < static_cast<std::size_t>(kExactBelow)) return static_cast<std::int64_t>(index);
  const std::size_t rel = index - static_cast<std::size_t>(kExactBelow);
  const int k = 8 + static_cast<int>(rel >> kSubBucketBits);
  const auto sub = static_cast<std::int64_t>(rel & ((std::size_t{1} << kSubBucketBits) - 1));
  return (std::int64_t{1} << k) + (sub << (k - kSubBucketBits));
}

std::int64_t LatencyHistogram::bucketHigh(std::size_t index) noexcept {
  if (index < static_cast<std::size_t>(kExactBelow)) return static_cast<std::int64_t>(index) + 1;
  const std::size_t rel = index - static_cast<std::size_t>(kExactBelow);
  const int k = 8 + static_cast<int>(rel >> kSubBucketBits);
  return bucketLow(index) + (std::int64_t{1} << (k - kSubBucketBits));
}

void LatencyHistogram::record(core::Duration d) noexcept {
  const std::int64_t v = d.count() < 0 ? 0 : d.count();
  if (count_ == 0) {
    min_ = max_ = v;
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  ++count_;
  sum_ += static_cast<std::uint64_t>(v);
  if (v >= kOverflowAt) {
    ++overflow_;
    return;
  }
  const std::size_t i = bucketOf(v);
  ++counts_[i];
  lowIndex_ = std::min(lowIndex_, i);
  highIndex_ = std::max(highIndex_, i);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  if (other.count_ == 0) return;
  for (std::size_t i = other.lowIndex_; i <= other.highIndex_ && i < kBuckets; ++i) counts_[i] += other.counts_[i];
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  overflow_ += other.overflow_;
  sum_ += other.sum_;
  lowIndex_ = std::min(lowIndex_, other.lowIndex_);
  highIndex_ = std::max(highIndex_, other.highIndex_);
}

void LatencyHistogram::reset() noexcept {
  if (lowIndex_ <= highIndex_ && lowIndex_ < kBuckets)
    std::fill(counts_.begin() + static_cast<std::ptrdiff_t>(lowIndex_),
              counts_.begin() + static_cast<std::ptrdiff_t>(highIndex_) + 1, std::uint64_t{0});
  count_ = overflow_ = 0;
  min_ = max_ = 0;
  sum_ = 0;
  lowIndex_ = kBuckets;
  highIndex_ = 0;
}

double LatencyHistogram::meanNanos() const noexcept {
  if (count_ == 0) return 0.0;
  // Split so the division stays exact-ish beyond 2^53: whole part + remainder.
  const core::U128 whole = sum_ / count_;
  const core::U128 rest = sum_ % count_;
  return static_cast<double>(whole) + static_cast<double>(rest) / static_cast<double>(count_);
}

std::optional<core::Duration> LatencyHistogram::quantile(double q) const noexcept {
  if (count_ == 0) return std::nullopt;
  if (!(q > 0.0)) return core::Duration{min_};  // also NaN
  if (q >= 1.0) return core::Duration{max_};
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = lowIndex_; i <= highIndex_ && i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::int64_t lo = bucketLow(i);
      const std::int64_t hi = bucketHigh(i);
      // Midpoint of the integers [lo, hi - 1]; the clamp keeps single-valued extremes exact.
      const std::int64_t mid = lo + (hi - 1 - lo) / 2;
      return core::Duration{std::clamp(mid, min_, max_)};
    }
  }
  return core::Duration{max_};  // the rank lies among the overflowed values
}

}  // namespace gatelab::sim
