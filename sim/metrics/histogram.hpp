#pragma once
// LatencyHistogram: a fixed-size, HdrHistogram-style log-linear histogram of durations in
// nanoseconds, with a relative error bound that holds by construction.
//
// Layout (value v in integer nanoseconds):
//   v < 256                 one bucket per nanosecond (exact);
//   2^k <= v < 2^(k+1)      128 equal sub-buckets of width 2^(k-7), for k = 8 .. 41;
//   v >= 2^42 (~73 min)     overflow: counted, and reflected exactly in max(), but quantiles that
//                           land there return max().
// 256 + 34 x 128 = 4608 buckets of 8 bytes (36 KiB), allocated once by the constructor.
//
// Error bound: a quantile is answered with the midpoint of the bucket holding the rank's value,
// clamped to [min(), max()]. Within an octave [2^k, 2^(k+1)) a bucket is 2^(k-7) wide, so the
// midpoint is at most 2^(k-8) away from any value in it: relative error <= 2^(k-8) / 2^k = 1/256
// (0.39%), and 0 for values below 256 ns. This is the guarantee the tests check (<= 1%).
//
// Quantile definition: nearest rank. quantile(q) estimates the value at rank ceil(q x count) (1-based)
// in sorted order (q = 0 gives the minimum, q = 1 the maximum).
//
// Negative durations (impossible for latencies) are recorded as 0. Sum and mean are exact (128-bit
// sum of nanoseconds).
//
// Complexity: record O(1) with no allocation; quantile O(buckets); merge O(buckets); reset touches
// only the buckets between the lowest and highest used (cheap for per-bucket timeline histograms).
// Thread safety: none (one simulation, one thread).

#include <cstdint>
#include <optional>
#include <vector>

#include "gateway/core/int128.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::sim {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;                          ///< 128 sub-buckets per octave
  static constexpr std::int64_t kExactBelow = 256;                  ///< values below: exact buckets
  static constexpr int kTopBit = 42;                                ///< values >= 2^42 ns overflow
  static constexpr std::int64_t kOverflowAt = std::int64_t{1} << kTopBit;
  static constexpr std::size_t kBuckets =
      static_cast<std::size_t>(kExactBelow) + static_cast<std::size_t>(kTopBit - 8) * (std::size_t{1} << kSubBucketBits);
  /// The guaranteed bound on |quantile - exact| / exact for values below kOverflowAt.
  static constexpr double kMaxRelativeError = 1.0 / 256.0;

  LatencyHistogram();

  /// Adds one value. O(1), never allocates.
  void record(core::Duration d) noexcept;
  /// Adds every value of `other`.
  void merge(const LatencyHistogram& other) noexcept;
  /// Forgets everything (memory is kept).
  void reset() noexcept;

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  /// Values at or above kOverflowAt (counted in count(), min/max/mean are still exact).
  [[nodiscard]] std::uint64_t overflowCount() const noexcept { return overflow_; }
  /// Exact extremes; zero when empty.
  [[nodiscard]] core::Duration min() const noexcept { return core::Duration{count_ == 0 ? 0 : min_}; }
  [[nodiscard]] core::Duration max() const noexcept { return core::Duration{max_}; }
  /// Exact mean in nanoseconds (as a double); 0 when empty.
  [[nodiscard]] double meanNanos() const noexcept;
  /// Exact sum of all recorded values in nanoseconds (as a double: exact up to 2^53 ns).
  [[nodiscard]] double sumNanos() const noexcept { return static_cast<double>(sum_); }

  /// The nearest-rank quantile q in [0, 1] (clamped), within kMaxRelativeError of the exact
  /// value; nullopt when empty.
  [[nodiscard]] std::optional<core::Duration> quantile(double q) const noexcept;

  /// The bucket index of `nanos` (>= 0, < kOverflowAt) and the bucket's [low, high) bounds:
  /// exposed for tests.
  [[nodiscard]] static std::size_t bucketOf(std::int64_t nanos) noexcept;
  [[nodiscard]] static std::int64_t bucketLow(std::size_t index) noexcept;
  [[nodiscard]] static std::int64_t bucketHigh(std::size_t index) noexcept;

 private:
  std::vector<std::uint64_t> counts_;  // kBuckets, allocated once
  std::uint64_t count_ = 0;
  std::uint64_t overflow_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
  core::U128 sum_ = 0;
  std::size_t lowIndex_ = kBuckets;  // lowest and highest used bucket, for fast reset and scans
  std::size_t highIndex_ = 0;
};

}  // namespace gatelab::sim
