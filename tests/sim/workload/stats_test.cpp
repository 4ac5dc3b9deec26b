// Larger-sample statistics (label "heavy"): chi-square goodness of fit of whole distributions,
// where the unit tests check moments. Critical values are the chi-square quantile at kSigmas
// (Wilson-Hilferty approximation), so a correct generator fails with probability ~3e-7.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sim/workload/arrival.hpp"
#include "sim/workload/generator.hpp"
#include "sim/workload/zipf.hpp"
#include "tests/sim/workload/test_support.hpp"

namespace gatelab::sim::workload {
namespace {

using testing::kSigmas;

// Upper kSigmas quantile of chi-square with k degrees of freedom (Wilson-Hilferty).
double chiSquareCritical(double k) {
  const double c = 2.0 / (9.0 * k);
  return k * std::pow(1.0 - c + kSigmas * std::sqrt(c), 3.0);
}

// Sum of (observed - expected)^2 / expected over cells, merging the tail so each cell expects >= 20.
double chiSquare(const std::vector<double>& observed, const std::vector<double>& expected, int& cells) {
  double stat = 0, o = 0, e = 0;
  cells = 0;
  for (std::size_t i = 0; i < observed.size(); ++i) {
    o += observed[i];
    e += expected[i];
    if (e >= 20.0 || i + 1 == observed.size()) {
      stat += (o - e) * (o - e) / e;
      ++cells;
      o = e = 0;
    }
  }
  return stat;
}

// Property: Zipf samples fit the pmf over all 5000 ranks (chi-square, 10^7 draws).
TEST(WorkloadStats, ZipfFitsPmf) {
  constexpr std::uint64_t kN = 5000;
  constexpr double kDraws = 1e7;
  for (const double s : {0.0, 0.9, 1.4}) {
    const ZipfDistribution z(kN, s);
    Rng rng(314 + static_cast<std::uint64_t>(s * 10));
    std::vector<double> observed(kN, 0.0);
    for (int i = 0; i < static_cast<int>(kDraws); ++i) observed[z.sample(rng)] += 1;
    std::vector<double> expected(kN);
    for (std::uint64_t k = 0; k < kN; ++k) expected[k] = kDraws * z.pmf(k);
    int cells = 0;
    const double stat = chiSquare(observed, expected, cells);
    EXPECT_LT(stat, chiSquareCritical(cells - 1)) << "s=" << s << ", " << cells << " cells";
  }
}

// Property: Poisson window counts follow the Poisson distribution (chi-square over count values).
TEST(WorkloadStats, PoissonCountsFitPoissonDistribution) {
  constexpr double kMu = 20.0;
  constexpr int kWindows = 200'000;
  PoissonProcess p(kMu);
  Rng rng(8);
  std::vector<double> perWindow(kWindows, 0.0);
  for (core::Duration at = p.next(rng); testing::seconds(at) < kWindows; at = p.next(rng)) {
    perWindow[static_cast<std::size_t>(testing::seconds(at))] += 1;
  }
  std::vector<double> observed(80, 0.0);
  for (double c : perWindow) observed[std::min<std::size_t>(static_cast<std::size_t>(c), 79)] += 1;
  std::vector<double> expected(80, 0.0);
  double pk = std::exp(-kMu);
  double rest = 1.0;
  for (int k = 0; k < 79; ++k) {
    expected[static_cast<std::size_t>(k)] = kWindows * pk;
    rest -= pk;
    pk *= kMu / (k + 1);
  }
  expected[79] = kWindows * std::max(rest, 0.0) + 1e-9;
  int cells = 0;
  const double stat = chiSquare(observed, expected, cells);
  EXPECT_LT(stat, chiSquareCritical(cells - 1)) << cells << " cells";
}

// Property: a three-state MMPP spends the stationary fraction of time in each state: the count
// over a long horizon matches pi . lambda with the chain's own variance, and the time-average
// state occupancy (sampled at arrivals of a probe) is consistent with pi.
TEST(WorkloadStats, ThreeStateMmppLongRun) {
  auto m = MmppModel::fromGenerator({5.0, 50.0, 200.0}, {{-0.2, 0.15, 0.05}, {0.5, -1.0, 0.5}, {1.0, 1.0, -2.0}});
  ASSERT_TRUE(m.ok()) << m.error().message;
  const MmppModel& model = m.value();
  const auto& pi = model.stationary();
  const auto& q = model.generator();
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_NEAR(pi[0] * q[0][j] + pi[1] * q[1][j] + pi[2] * q[2][j], 0.0, 1e-12);
  }
  MmppProcess p(model);
  Rng rng(77);
  constexpr double kHorizon = 200'000.0;
  double n = 0;
  // The fraction of arrivals seen in state i is pi_i lambda_i / mean (arrivals sample states in
  // proportion to their rate).
  std::vector<double> inState(3, 0.0);
  for (core::Duration at = p.next(rng); testing::seconds(at) < kHorizon; at = p.next(rng)) {
    n += 1;
    inState[p.state()] += 1;
  }
  EXPECT_NEAR(n / kHorizon, model.meanRate(), kSigmas * std::sqrt(model.countVarianceRate() * kHorizon) / kHorizon);
  for (std::size_t i = 0; i < 3; ++i) {
    const double share = pi[i] * model.rates()[i] / model.meanRate();
    // Arrivals within a sojourn are correlated: use the count variance rate as a (generous) scale.
    EXPECT_NEAR(inState[i] / n, share, kSigmas * std::sqrt(model.countVarianceRate() * kHorizon) / n) << "state " << i;
  }
}

}  // namespace
}  // namespace gatelab::sim::workload
