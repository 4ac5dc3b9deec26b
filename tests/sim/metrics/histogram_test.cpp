// LatencyHistogram: quantiles within 1% (0.39% by construction) of the exact nearest-rank
// quantiles of large samples; exact extremes, sums and edge cases.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sim/metrics/histogram.hpp"

namespace gatelab::sim {
namespace {

using namespace std::chrono_literals;
using core::Duration;

// Nearest-rank quantile of a sorted sample (the definition the histogram estimates).
std::int64_t exactQuantile(const std::vector<std::int64_t>& sorted, double q) {
  if (q <= 0.0) return sorted.front();
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

struct Sample {
  std::string name;
  std::vector<std::int64_t> values;
};

std::vector<Sample> samples() {
  std::mt19937_64 rng(20240611);
  std::vector<Sample> out;
  auto draw = [&](std::string name, std::size_t n, auto&& dist) {
    Sample s{std::move(name), {}};
    s.values.reserve(n);
    for (std::size_t i = 0; i < n; ++i) s.values.push_back(std::max<std::int64_t>(0, std::llround(dist(rng))));
    out.push_back(std::move(s));
  };
  // Latency-like: lognormal around 20 ms with a heavy tail; exponential around 5 ms; uniform 1us..2s.
  draw("lognormal", 1'000'000, std::lognormal_distribution<double>(std::log(20e6), 1.0));
  draw("exponential", 300'000, std::exponential_distribution<double>(1.0 / 5e6));
  draw("uniform", 100'000, std::uniform_real_distribution<double>(1e3, 2e9));
  draw("small-ns", 100'000, std::uniform_real_distribution<double>(0, 2000));
  return out;
}

TEST(LatencyHistogram, QuantilesWithinOnePercentOfExact) {
  // Property: for p50/p90/p99/p99.9 and the extremes, relative error <= 1% (in fact <= 1/256).
  for (const Sample& s : samples()) {
    LatencyHistogram h;
    for (std::int64_t v : s.values) h.record(Duration{v});
    std::vector<std::int64_t> sorted = s.values;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(h.count(), sorted.size());
    for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) {
      const std::int64_t exact = exactQuantile(sorted, q);
      const auto got = h.quantile(q);
      ASSERT_TRUE(got.has_value());
      const double err = exact == 0 ? static_cast<double>(got->count())
                                    : std::abs(static_cast<double>(got->count() - exact)) / static_cast<double>(exact);
      EXPECT_LE(err, 0.01) << s.name << " q=" << q << " exact=" << exact << " got=" << got->count();
      EXPECT_LE(err, LatencyHistogram::kMaxRelativeError + 1e-12) << s.name << " q=" << q;
    }
    EXPECT_EQ(h.min().count(), sorted.front());
    EXPECT_EQ(h.max().count(), sorted.back());
    long double sum = 0;
    for (std::int64_t v : sorted) sum += static_cast<long double>(v);
    EXPECT_NEAR(h.meanNanos(), static_cast<double>(sum / static_cast<long double>(sorted.size())), 1e-6 * h.meanNanos());
  }
}

TEST(LatencyHistogram, BucketsTileTheRangeWithBoundedWidth) {
  // Property: buckets are contiguous, and each is at most 1/128 of its lower bound wide (>= 256).
  for (std::size_t i = 0; i + 1 < LatencyHistogram::kBuckets; ++i) {
    ASSERT_EQ(LatencyHistogram::bucketHigh(i), LatencyHistogram::bucketLow(i + 1)) << i;
    const std::int64_t lo = LatencyHistogram::bucketLow(i);
    const std::int64_t width = LatencyHistogram::bucketHigh(i) - lo;
    if (lo < 256)
      ASSERT_EQ(width, 1);
    else
      ASSERT_LE(width * 128, lo) << i;
    ASSERT_EQ(LatencyHistogram::bucketOf(lo), i);
    ASSERT_EQ(LatencyHistogram::bucketOf(LatencyHistogram::bucketHigh(i) - 1), i);
  }
  EXPECT_EQ(LatencyHistogram::bucketHigh(LatencyHistogram::kBuckets - 1), LatencyHistogram::kOverflowAt);
}

TEST(LatencyHistogram, EmptyHasNoQuantiles) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_FALSE(h.quantile(0.5).has_value());
  EXPECT_EQ(h.meanNanos(), 0.0);
  EXPECT_EQ(h.min(), Duration{0});
  EXPECT_EQ(h.max(), Duration{0});
}

TEST(LatencyHistogram, OneValueIsExactAtEveryQuantile) {
  // The clamp to [min, max] makes a single value exact even inside a wide bucket.
  LatencyHistogram h;
  h.record(Duration{123'456'789});
  for (double q : {0.0, 0.001, 0.5, 0.999, 1.0}) EXPECT_EQ(h.quantile(q), Duration{123'456'789}) << q;
  EXPECT_EQ(h.meanNanos(), 123'456'789.0);
}

TEST(LatencyHistogram, ZeroNegativeAndSmallValuesAreExact) {
  LatencyHistogram h;
  h.record(Duration{0});
  h.record(Duration{-5});  // recorded as 0
  h.record(Duration{7});
  h.record(Duration{255});
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.min(), Duration{0});
  EXPECT_EQ(h.quantile(0.5), Duration{0});
  EXPECT_EQ(h.quantile(0.75), Duration{7});
  EXPECT_EQ(h.quantile(1.0), Duration{255});
}

TEST(LatencyHistogram, HugeValuesOverflowButKeepExactMaxAndMean) {
  // Values beyond ~73 minutes are counted as overflow; max and mean stay exact.
  LatencyHistogram h;
  h.record(1ms);
  h.record(std::chrono::hours(2));
  h.record(std::chrono::hours(24 * 365));
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.overflowCount(), 2u);
  EXPECT_EQ(h.max(), Duration{std::chrono::hours(24 * 365)});
  EXPECT_EQ(h.quantile(1.0), Duration{std::chrono::hours(24 * 365)});
  EXPECT_EQ(h.quantile(0.99), Duration{std::chrono::hours(24 * 365)});  // lands among overflowed values
  const double mean = (1e6 + 2.0 * 3600e9 + 24.0 * 365 * 3600e9) / 3.0;
  EXPECT_NEAR(h.meanNanos(), mean, 4.0);  // doubles are 2 apart at this magnitude
  // Up to 1h is in range with the error bound.
  LatencyHistogram hour;
  hour.record(std::chrono::hours(1));
  hour.record(std::chrono::hours(1) - 1ms);
  EXPECT_EQ(hour.overflowCount(), 0u);
}

TEST(LatencyHistogram, MergeEqualsRecordingEverything) {
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> dist(1.0 / 3e6);
  LatencyHistogram a, b, all;
  for (int i = 0; i < 20000; ++i) {
    const Duration d{static_cast<std::int64_t>(dist(rng))};
    (i % 3 == 0 ? a : b).record(d);
    all.record(d);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_EQ(a.sumNanos(), all.sumNanos());
  for (double q : {0.5, 0.9, 0.99, 0.999}) EXPECT_EQ(a.quantile(q), all.quantile(q)) << q;
}

TEST(LatencyHistogram, ResetForgetsEverything) {
  LatencyHistogram h;
  h.record(5ms);
  h.record(7s);
  h.reset();
  EXPECT_TRUE(h.empty());
  EXPECT_FALSE(h.quantile(0.5).has_value());
  h.record(3ms);
  EXPECT_EQ(h.quantile(0.5), Duration{3ms});
  EXPECT_EQ(h.min(), Duration{3ms});
}

}  // namespace
}  // namespace gatelab::sim
