// Arrival processes against theory: Poisson counts and gaps, the MMPP chain's stationary
// distribution and burstiness, the diurnal rate shape. Tolerances are kSigmas standard errors of
// the estimate, derived from the sample size in each test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/workload/arrival.hpp"
#include "sim/workload/mmpp.hpp"
#include "tests/sim/workload/test_support.hpp"

namespace gatelab::sim::workload {
namespace {

using testing::kSigmas;
using testing::mean;
using testing::variance;

// Counts of `process`'s arrivals in consecutive windows of `window` seconds over [0, windows * window).
std::vector<double> windowCounts(ArrivalProcess& process, Rng& rng, double window, std::size_t windows) {
  std::vector<double> counts(windows, 0.0);
  const double end = window * static_cast<double>(windows);
  while (true) {
    const core::Duration at = process.next(rng);
    if (at == kNever) break;
    const double t = testing::seconds(at);
    if (t >= end) break;
    counts[static_cast<std::size_t>(t / window)] += 1.0;
  }
  return counts;
}

// Property: Poisson counts per window have mean lambda*w and variance lambda*w (dispersion index 1).
TEST(WorkloadPoisson, CountsHaveMeanAndVarianceLambdaT) {
  constexpr double kRate = 100.0;
  constexpr std::size_t kWindows = 5000;
  PoissonProcess p(kRate);
  Rng rng(42);
  const std::vector<double> counts = windowCounts(p, rng, 1.0, kWindows);
  const double n = static_cast<double>(kWindows);
  // Standard error of the mean: sqrt(mu / n).
  EXPECT_NEAR(mean(counts), kRate, kSigmas * std::sqrt(kRate / n));
  // For Poisson counts Var(s^2) ~ (mu + 2 mu^2) / n, so the dispersion index s^2 / mu has standard
  // error sqrt((1 / mu + 2) / n).
  const double dispersion = variance(counts) / mean(counts);
  EXPECT_NEAR(dispersion, 1.0, kSigmas * std::sqrt((1.0 / kRate + 2.0) / n));
  EXPECT_DOUBLE_EQ(p.meanRate(), kRate);
}

// Property: inter-arrival gaps are exponential (Kolmogorov-Smirnov against 1 - exp(-lambda x)).
TEST(WorkloadPoisson, GapsAreExponential) {
  constexpr double kRate = 250.0;
  constexpr std::size_t kGaps = 100'000;
  PoissonProcess p(kRate);
  Rng rng(7);
  std::vector<double> gaps;
  gaps.reserve(kGaps);
  core::Duration prev{0};
  for (std::size_t i = 0; i < kGaps; ++i) {
    const core::Duration at = p.next(rng);
    ASSERT_GE(at, prev) << "arrivals must be non-decreasing";
    gaps.push_back(testing::seconds(at - prev));
    prev = at;
  }
  const double n = static_cast<double>(kGaps);
  // Mean gap 1/lambda with standard error (1/lambda)/sqrt(n); coefficient of variation 1.
  EXPECT_NEAR(mean(gaps), 1.0 / kRate, kSigmas / kRate / std::sqrt(n));
  // For the exponential Var(s^2) = (mu4 - sigma^4) / n = 8 sigma^4 / n, so s / sigma has standard error sqrt(2 / n).
  EXPECT_NEAR(std::sqrt(variance(gaps)) * kRate, 1.0, kSigmas * std::sqrt(2.0 / n));
  std::sort(gaps.begin(), gaps.end());
  double d = 0.0;
  for (std::size_t i = 0; i < kGaps; ++i) {
    const double f = 1.0 - std::exp(-kRate * gaps[i]);
    d = std::max({d, static_cast<double>(i + 1) / n - f, f - static_cast<double>(i) / n});
  }
  // P(D > x) ~ 2 exp(-2 n x^2): reject at 1e-6.
  const double critical = std::sqrt(std::log(2.0 / 1e-6) / (2.0 * n));
  EXPECT_LT(d, critical) << "KS distance from the exponential distribution";
}

// Property: arrivals are rounded to whole nanoseconds from an exact double clock (no drift).
TEST(WorkloadPoisson, SecondsToDurationRoundsAndSaturates) {
  EXPECT_EQ(secondsToDuration(1.5), std::chrono::milliseconds(1500));
  EXPECT_EQ(secondsToDuration(2.4e-9), core::Duration(2));
  EXPECT_EQ(secondsToDuration(std::numeric_limits<double>::infinity()), kNever);
  EXPECT_EQ(secondsToDuration(1e12), kNever);  // ~31700 years: beyond what int64 ns holds
}

// ---- MMPP -----------------------------------------------------------------------------------------

// Property: the stationary distribution Eigen solves equals the analytic one of a 2-state chain,
// pi = (b, a) / (a + b) for q_01 = a, q_10 = b; and the long-run rate is pi . lambda.
TEST(WorkloadMmpp, TwoStateStationaryMatchesAnalytic) {
  const double a = 0.05;  // leave state 0 at 1/20 s
  const double b = 0.4;   // leave state 1 at 1/2.5 s
  auto m = MmppModel::fromGenerator({20.0, 300.0}, {{-a, a}, {b, -b}});
  ASSERT_TRUE(m.ok()) << m.error().message;
  const MmppModel& model = m.value();
  ASSERT_EQ(model.stationary().size(), 2u);
  EXPECT_NEAR(model.stationary()[0], b / (a + b), 1e-12);
  EXPECT_NEAR(model.stationary()[1], a / (a + b), 1e-12);
  EXPECT_NEAR(model.meanRate(), (b * 20.0 + a * 300.0) / (a + b), 1e-9);
  // Asymptotic variance rate of a 2-state MMPP: mean + 2 (l0 - l1)^2 a b / (a + b)^3.
  const double expectedVarianceRate = model.meanRate() + 2.0 * 280.0 * 280.0 * a * b / std::pow(a + b, 3);
  EXPECT_NEAR(model.countVarianceRate(), expectedVarianceRate, 1e-6 * expectedVarianceRate);
  EXPECT_DOUBLE_EQ(model.exitRate(0), a);
  EXPECT_DOUBLE_EQ(model.jumpProbability(0, 1), 1.0);
}

// Property: the sojourn form gives q_ij = p_ij / sojourn_i, so pi_i is proportional to the mean
// sojourn for a chain that alternates; three states in a cycle: pi_i proportional to sojourn_i.
TEST(WorkloadMmpp, SojournFormStationaryIsProportionalToSojourns) {
  auto two = MmppModel::fromSojourns({10.0, 100.0}, {40.0, 10.0}, {});
  ASSERT_TRUE(two.ok()) << two.error().message;
  EXPECT_NEAR(two.value().stationary()[0], 0.8, 1e-12);
  EXPECT_NEAR(two.value().stationary()[1], 0.2, 1e-12);
  EXPECT_NEAR(two.value().meanRate(), 28.0, 1e-9);

  auto cycle = MmppModel::fromSojourns({1.0, 2.0, 3.0}, {1.0, 2.0, 5.0}, {{0, 1, 0}, {0, 0, 1}, {1, 0, 0}});
  ASSERT_TRUE(cycle.ok()) << cycle.error().message;
  const std::vector<double>& pi = cycle.value().stationary();
  EXPECT_NEAR(pi[0], 1.0 / 8.0, 1e-12);
  EXPECT_NEAR(pi[1], 2.0 / 8.0, 1e-12);
  EXPECT_NEAR(pi[2], 5.0 / 8.0, 1e-12);
  // pi Q = 0 for the generator the model built.
  const auto& q = cycle.value().generator();
  for (std::size_t j = 0; j < 3; ++j) {
    double s = 0;
    for (std::size_t i = 0; i < 3; ++i) s += pi[i] * q[i][j];
    EXPECT_NEAR(s, 0.0, 1e-12) << "column " << j;
  }
}

// Property: invalid chains are errors that name what is wrong, never a crash.
TEST(WorkloadMmpp, InvalidChainsAreRejected) {
  struct Case {
    const char* what;
    std::vector<double> rates;
    std::vector<std::vector<double>> q;
  };
  const Case cases[] = {
      {"negative off-diagonal", {1, 2}, {{1, -1}, {1, -1}}},
      {"rows not summing to 0", {1, 2}, {{-1, 2}, {1, -1}}},
      {"reducible (state 1 absorbing)", {1, 2}, {{-1, 1}, {0, 0}}},
      {"size mismatch", {1, 2, 3}, {{-1, 1}, {1, -1}}},
      {"all rates zero", {0, 0}, {{-1, 1}, {1, -1}}},
      {"negative rate", {-1, 2}, {{-1, 1}, {1, -1}}},
      {"not finite", {1, 2}, {{-1, 1}, {std::nan(""), -1}}},
      {"no states", {}, {}},
  };
  for (const Case& c : cases) {
    auto m = MmppModel::fromGenerator(c.rates, c.q);
    EXPECT_FALSE(m.ok()) << c.what;
    if (!m.ok()) {
      EXPECT_FALSE(m.error().message.empty()) << c.what;
    }
  }
  EXPECT_FALSE(MmppModel::fromSojourns({1, 2}, {1, 0}, {}).ok()) << "zero sojourn";
  EXPECT_FALSE(MmppModel::fromSojourns({1, 2}, {1, 1}, {{0, 0.5}, {1, 0}}).ok()) << "row not summing to 1";
}

// Property: a long simulated MMPP has the long-run rate pi . lambda, and its counts are
// over-dispersed exactly as theory says: Var N(t) = m t + 2 s2 / g (t - (1 - e^{-g t}) / g), with
// s2 = a b (l0 - l1)^2 / (a + b)^2 the variance of the rate and g = a + b.
TEST(WorkloadMmpp, SimulatedRateAndDispersionMatchTheory) {
  const double a = 0.5;  // quiet spells of 2 s on average
  const double b = 2.0;  // bursts of 0.5 s
  auto m = MmppModel::fromGenerator({10.0, 100.0}, {{-a, a}, {b, -b}});
  ASSERT_TRUE(m.ok());
  const MmppModel model = m.value();
  MmppProcess p(model);
  Rng rng(2024);
  constexpr double kWindow = 10.0;
  constexpr std::size_t kWindows = 2000;
  const std::vector<double> counts = windowCounts(p, rng, kWindow, kWindows);
  const double n = static_cast<double>(kWindows);
  const double total = mean(counts) * n;
  const double horizon = kWindow * n;
  // The total count over the horizon has variance ~ countVarianceRate * horizon.
  EXPECT_NEAR(total / horizon, model.meanRate(), kSigmas * std::sqrt(model.countVarianceRate() * horizon) / horizon);

  const double g = a + b;
  const double s2 = a * b * 90.0 * 90.0 / (g * g);
  const double varWindow = model.meanRate() * kWindow + 2.0 * s2 / g * (kWindow - (1.0 - std::exp(-g * kWindow)) / g);
  const double expectedDispersion = varWindow / (model.meanRate() * kWindow);
  const double dispersion = variance(counts) / mean(counts);
  EXPECT_GT(dispersion, 10.0) << "an MMPP with a 10x burst must be far burstier than Poisson";
  // Windows (10 s) are much longer than the chain's memory (1/g = 0.4 s): nearly independent,
  // near-normal counts, so the sample variance has relative standard error sqrt(2 / (n - 1)).
  EXPECT_NEAR(dispersion / expectedDispersion, 1.0, kSigmas * std::sqrt(2.0 / (n - 1.0)));
}

// Property: a given initial state is where the process starts (a burst at t = 0 shows up at once).
TEST(WorkloadMmpp, InitialStateIsHonoured) {
  auto m = MmppModel::fromSojourns({0.0, 1000.0}, {3600.0, 3600.0}, {});
  ASSERT_TRUE(m.ok());
  MmppProcess quiet(m.value(), 0);
  MmppProcess loud(m.value(), 1);
  Rng r1(1);
  Rng r2(1);
  // In the silent state no arrival can happen before the first switch (mean 1 h away).
  EXPECT_GT(quiet.next(r1), std::chrono::seconds(1));
  EXPECT_LT(loud.next(r2), std::chrono::milliseconds(100));
  EXPECT_EQ(loud.state(), 1u);
}

// ---- diurnal --------------------------------------------------------------------------------------

// Property: RateProfile's closed forms: the sinusoid's mean, peak, trough and integral.
TEST(WorkloadDiurnal, SinusoidShape) {
  const RateProfile p = RateProfile::sinusoid(10.0, 14.0, 3.0);
  EXPECT_NEAR(p.meanRate(), 10.0, 1e-12);
  EXPECT_NEAR(p.rateAt(14 * 3600.0), 15.0, 1e-9);  // a = (3 - 1) / (3 + 1) = 0.5
  EXPECT_NEAR(p.rateAt(2 * 3600.0), 5.0, 1e-9);
  EXPECT_NEAR(p.maxRate(), 15.0, 1e-9);
  EXPECT_NEAR(p.rateAt(14 * 3600.0 + 86400.0), 15.0, 1e-9) << "periodic";
  EXPECT_NEAR(p.integral(0, 86400.0), 864000.0, 1e-6);
  EXPECT_NEAR(p.integral(3600.0, 3600.0 + 3 * 86400.0), 3 * 864000.0, 1e-5);
}

// Property: hour-by-hour counts of a simulated day follow the configured sinusoid.
TEST(WorkloadDiurnal, HourlyCountsFollowTheSinusoid) {
  const RateProfile profile = RateProfile::sinusoid(5.0, 14.0, 4.0);
  DiurnalProcess p(profile, 0.0);
  Rng rng(99);
  const std::vector<double> counts = windowCounts(p, rng, 3600.0, 24);
  for (std::size_t h = 0; h < 24; ++h) {
    const double expected = profile.integral(3600.0 * static_cast<double>(h), 3600.0 * static_cast<double>(h + 1));
    EXPECT_NEAR(counts[h], expected, kSigmas * std::sqrt(expected)) << "hour " << h;
  }
  const auto peak = std::max_element(counts.begin(), counts.end()) - counts.begin();
  EXPECT_NEAR(static_cast<double>(peak), 13.5, 1.5) << "the busiest hour is around the peak hour";
}

// Property: a piecewise profile is followed too, including a night with rate 0 (no arrivals at all),
// and a start at another time of day shifts the profile.
TEST(WorkloadDiurnal, PiecewiseProfileWithQuietNight) {
  const RateProfile profile = RateProfile::piecewise({{0.0, 0.0}, {6 * 3600.0, 0.0}, {12 * 3600.0, 20.0}, {18 * 3600.0, 20.0}});
  EXPECT_NEAR(profile.rateAt(9 * 3600.0), 10.0, 1e-9);
  EXPECT_NEAR(profile.rateAt(21 * 3600.0), 10.0, 1e-9) << "wraps linearly to the next day's first point";
  DiurnalProcess p(profile, 6 * 3600.0);  // offset 0 is 06:00
  Rng rng(5);
  const std::vector<double> counts = windowCounts(p, rng, 3600.0, 24);
  for (std::size_t k = 0; k < 24; ++k) {
    const double from = 6 * 3600.0 + 3600.0 * static_cast<double>(k);
    const double expected = profile.integral(from, from + 3600.0);
    if (expected == 0.0) {
      EXPECT_EQ(counts[k], 0.0) << "hour " << k << " of a zero-rate night";
    } else {
      EXPECT_NEAR(counts[k], expected, kSigmas * std::sqrt(expected)) << "hour " << k;
    }
  }
  EXPECT_EQ(counts[18], 0.0) << "00:00-01:00";
}

// ---- on-off ---------------------------------------------------------------------------------------

// Property: the constant pattern sends exactly rate * window requests, never outside [from, until).
TEST(WorkloadOnOff, ConstantPatternRespectsWindow) {
  OnOffOptions o;
  o.rate = 20.0;
  o.fromSeconds = 5.0;
  o.untilSeconds = 65.0;
  OnOffProcess p(o);
  Rng rng(3);
  std::uint64_t n = 0;
  for (core::Duration at = p.next(rng); at != kNever; at = p.next(rng)) {
    EXPECT_GE(at, std::chrono::seconds(5));
    EXPECT_LT(at, std::chrono::seconds(65));
    ++n;
  }
  EXPECT_NEAR(static_cast<double>(n), 1200.0, 1.0);
  EXPECT_DOUBLE_EQ(p.meanRate(), 20.0);
}

// Property: with an on/off cycle, arrivals happen only while on, and the mean rate is rate * on / (on + off).
TEST(WorkloadOnOff, CycleMeanRate) {
  OnOffOptions o;
  o.rate = 50.0;
  o.onSeconds = 10.0;
  o.offSeconds = 30.0;
  o.pattern = AbusePattern::kPoisson;
  OnOffProcess p(o);
  EXPECT_DOUBLE_EQ(p.meanRate(), 12.5);
  Rng rng(11);
  std::uint64_t n = 0;
  constexpr double kHorizon = 4000.0;  // 100 cycles
  std::vector<double> perSecond(static_cast<std::size_t>(kHorizon), 0.0);
  for (core::Duration at = p.next(rng); at != kNever && testing::seconds(at) < kHorizon; at = p.next(rng)) {
    ++n;
    perSecond[static_cast<std::size_t>(testing::seconds(at))] += 1;
  }
  // Poisson while on: sd sqrt(expected) (the cycle's random position changes the count by at most
  // one on period, rate * on = 500, i.e. expected +- 500).
  const double expected = 12.5 * kHorizon;
  EXPECT_NEAR(static_cast<double>(n), expected, kSigmas * std::sqrt(expected) + 500.0);
  // Arrivals only while on: each of the (at most 101) on periods touching the horizon covers at
  // most 11 distinct whole seconds, so at least 4000 - 101 * 11 seconds are silent.
  const auto silent = std::count(perSecond.begin(), perSecond.end(), 0.0);
  EXPECT_GE(static_cast<double>(silent), kHorizon - 101.0 * 11.0);
}

}  // namespace
}  // namespace gatelab::sim::workload
