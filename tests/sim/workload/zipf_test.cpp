// ZipfDistribution: the pmf is k^-s / H(n, s), samples follow it (rank-frequency ratios ~ 2^s, a
// log-log slope of -s), every rank is in range, and the edge cases (n = 1, s = 0) hold.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sim/workload/zipf.hpp"
#include "tests/sim/workload/test_support.hpp"

namespace gatelab::sim::workload {
namespace {

using testing::kSigmas;

double harmonic(std::uint64_t n, double s) {
  double h = 0;
  for (std::uint64_t k = n; k >= 1; --k) h += std::pow(static_cast<double>(k), -s);  // small terms first
  return h;
}

// Property: pmf(k - 1) = k^-s / H(n, s) exactly (to rounding), sums to 1, 0 outside the range.
TEST(WorkloadZipf, PmfIsNormalisedPowerLaw) {
  for (const double s : {0.0, 0.5, 1.0, 1.7}) {
    const ZipfDistribution z(1000, s);
    EXPECT_EQ(z.size(), 1000u);
    EXPECT_DOUBLE_EQ(z.exponent(), s);
    const double h = harmonic(1000, s);
    double sum = 0;
    for (std::uint64_t r = 0; r < 1000; ++r) {
      EXPECT_NEAR(z.pmf(r), std::pow(static_cast<double>(r + 1), -s) / h, 1e-13) << "s=" << s << " rank " << r;
      sum += z.pmf(r);
    }
    EXPECT_NEAR(sum, 1.0, 1e-12);
    EXPECT_EQ(z.pmf(1000), 0.0);
  }
}

// Property: sampled rank frequencies follow the exponent: freq(1) / freq(2) ~ 2^s and
// freq(1) / freq(10) ~ 10^s, within kSigmas standard errors of log ratios of Poisson-like counts.
TEST(WorkloadZipf, SampleFrequenciesFollowExponent) {
  constexpr std::size_t kDraws = 1'000'000;
  for (const double s : {0.8, 1.0, 1.5}) {
    const ZipfDistribution z(10'000, s);
    Rng rng(static_cast<std::uint64_t>(s * 1000));
    std::vector<double> counts(10'000, 0.0);
    for (std::size_t i = 0; i < kDraws; ++i) {
      const std::uint64_t r = z.sample(rng);
      ASSERT_LT(r, 10'000u);
      counts[r] += 1;
    }
    const auto ratioCheck = [&](std::size_t a, std::size_t b) {
      const double expected = s * std::log(static_cast<double>(b + 1) / static_cast<double>(a + 1));
      EXPECT_NEAR(std::log(counts[a] / counts[b]), expected, kSigmas * std::sqrt(1.0 / counts[a] + 1.0 / counts[b]))
          << "s=" << s << " ranks " << a + 1 << "/" << b + 1;
    };
    ratioCheck(0, 1);
    ratioCheck(0, 9);
    ratioCheck(1, 3);
    // Each of the top ranks against its probability: binomial standard error.
    for (std::size_t r = 0; r < 5; ++r) {
      const double p = z.pmf(r);
      EXPECT_NEAR(counts[r] / kDraws, p, kSigmas * std::sqrt(p * (1 - p) / kDraws)) << "s=" << s << " rank " << r + 1;
    }
  }
}

// Property: a least-squares fit of log freq on log rank over the top ranks has slope -s.
TEST(WorkloadZipf, LogLogSlopeIsMinusS) {
  constexpr double kS = 1.2;
  const ZipfDistribution z(100'000, kS);
  Rng rng(77);
  std::vector<double> counts(100'000, 0.0);
  for (int i = 0; i < 2'000'000; ++i) counts[z.sample(rng)] += 1;
  // Ranks 1..30 each have >= 6000 draws: log counts have sd <= 0.013.
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  constexpr int kTop = 30;
  for (int k = 1; k <= kTop; ++k) {
    const double x = std::log(static_cast<double>(k));
    const double y = std::log(counts[static_cast<std::size_t>(k - 1)]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double slope = (kTop * sxy - sx * sy) / (kTop * sxx - sx * sx);
  EXPECT_NEAR(slope, -kS, 0.02);
}

// Property: degenerate cases: one rank always 0; s = 0 is uniform.
TEST(WorkloadZipf, EdgeCases) {
  const ZipfDistribution one(1, 1.0);
  Rng rng(1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(one.sample(rng), 0u);
  EXPECT_DOUBLE_EQ(one.pmf(0), 1.0);
  const ZipfDistribution flat(4, 0.0);
  std::vector<double> counts(4, 0.0);
  for (int i = 0; i < 400'000; ++i) counts[flat.sample(rng)] += 1;
  for (double c : counts) EXPECT_NEAR(c, 100'000.0, kSigmas * std::sqrt(100'000.0 * 0.75));
}

}  // namespace
}  // namespace gatelab::sim::workload
