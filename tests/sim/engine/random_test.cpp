// Randomness: pinned outputs (the same on every platform), stream derivation by name, seed and
// run, and the distributions' parameters (lognormal from median/p99, empirical) against samples.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/engine/random.hpp"
#include "sim/engine/service_time.hpp"
#include "tests/sim/engine/test_support.hpp"

namespace gatelab::sim {
namespace {

using namespace testing;

// Golden values from an independent Python implementation of splitmix64 + xoshiro256++: the
// streams must not change with the compiler, the standard library or the platform.
TEST(Rng, MatchesTheReferenceAlgorithm) {
  Rng zero(0);
  EXPECT_EQ(zero(), 0x53175d61490b23dfULL);
  EXPECT_EQ(zero(), 0x61da6f3dc380d507ULL);
  EXPECT_EQ(zero(), 0x5c0fdf91ec9a7bfcULL);

  Rng named = RandomStreams(RunSeed{42, 0}).stream("backend/users/0/service");
  EXPECT_EQ(named(), 0xc7ce9ddcb39178c4ULL);
  EXPECT_EQ(named(), 0x5dec868eb4015769ULL);
  EXPECT_EQ(named(), 0x93ff1734052eb2faULL);

  Rng indexed = RandomStreams(RunSeed{42, 1}).stream("client", 17);
  EXPECT_EQ(indexed(), 0x6b20de50bdb9a6b2ULL);
  EXPECT_EQ(indexed(), 0x3df67437260451c5ULL);
  EXPECT_EQ(indexed(), 0x76f66a5dd9ee0496ULL);
}

std::vector<std::uint64_t> firstDraws(Rng rng, int n = 8) {
  std::vector<std::uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(rng());
  return out;
}

// A stream depends on (seed, run, name[, index]) only; each of them changes it.
TEST(RandomStreams, StreamsDependOnSeedRunAndName) {
  const RandomStreams base(RunSeed{7, 0});
  EXPECT_EQ(firstDraws(base.stream("a")), firstDraws(RandomStreams(RunSeed{7, 0}).stream("a")));
  EXPECT_NE(firstDraws(base.stream("a")), firstDraws(base.stream("b")));
  EXPECT_NE(firstDraws(base.stream("a")), firstDraws(RandomStreams(RunSeed{7, 1}).stream("a")));
  EXPECT_NE(firstDraws(base.stream("a")), firstDraws(RandomStreams(RunSeed{8, 0}).stream("a")));
  EXPECT_NE(firstDraws(base.stream("a", 0)), firstDraws(base.stream("a", 1)));
  EXPECT_NE(firstDraws(base.stream("a", 0)), firstDraws(base.stream("a")));
  EXPECT_EQ(toString(RunSeed{42, 3}), "seed=42 run=3");
}

// Adding a component (another stream, drawn from heavily) leaves an existing one's draws alone.
TEST(RandomStreams, AddingAComponentDoesNotShiftAnother) {
  const RandomStreams streams(RunSeed{5, 0});
  Rng alone = streams.stream("backend/a/service");
  const auto expected = firstDraws(alone, 100);

  Rng a = streams.stream("backend/a/service");
  Rng b = streams.stream("backend/b/service");
  std::vector<std::uint64_t> got;
  for (int i = 0; i < 100; ++i) {
    for (int k = 0; k < 3; ++k) (void)b();
    got.push_back(a());
  }
  EXPECT_EQ(got, expected);
}

TEST(Rng, UniformAndBelowStayInRange) {
  Rng rng(1);
  double sum = 0.0;
  std::vector<int> buckets(10, 0);
  constexpr int kN = 200000;
  for (int i = 0; i < kN; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    const double p = rng.uniformPositive();
    ASSERT_GT(p, 0.0);
    ASSERT_LE(p, 1.0);
    const std::uint64_t k = rng.below(10);
    ASSERT_LT(k, 10U);
    ++buckets[k];
  }
  EXPECT_NEAR(sum / kN, 0.5, 0.005);
  for (int b : buckets) EXPECT_NEAR(b, kN / 10, 5 * std::sqrt(kN * 0.1 * 0.9)) << "below() is uniform";
}

// Certain outcomes consume no randomness, so a p = 0 error rate does not shift later draws.
TEST(Rng, CertainBernoulliDrawsNothing) {
  Rng a(9);
  Rng b(9);
  EXPECT_FALSE(a.bernoulli(0.0));
  EXPECT_TRUE(a.bernoulli(1.0));
  EXPECT_EQ(a(), b());
}

TEST(Rng, ExponentialAndNormalMoments) {
  Rng rng(2);
  constexpr int kN = 400000;
  double e = 0.0;
  double n1 = 0.0;
  double n2 = 0.0;
  for (int i = 0; i < kN; ++i) {
    e += rng.exponential(3.0);
    const double z = rng.normal();
    n1 += z;
    n2 += z * z;
  }
  EXPECT_NEAR(e / kN, 3.0, 3.0 * 5 / std::sqrt(kN));
  EXPECT_NEAR(n1 / kN, 0.0, 5 / std::sqrt(kN));
  EXPECT_NEAR(n2 / kN, 1.0, 5 * std::sqrt(2.0 / kN));
}

// Quantile q of a sorted sample.
Duration quantile(std::vector<Duration>& v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

// mu = ln(median), sigma = ln(p99/median) / 2.3263...; samples have that median and p99.
TEST(ServiceTime, LognormalFromMedianAndP99) {
  const ServiceTime st = ServiceTime::lognormal(20ms, 200ms);
  ASSERT_FALSE(st.validate().has_value());
  EXPECT_DOUBLE_EQ(st.mu(), std::log(20e6));
  EXPECT_NEAR(st.sigma(), std::log(10.0) / 2.3263478740408408, 1e-12);
  EXPECT_NEAR(st.meanSeconds(), 0.020 * std::exp(st.sigma() * st.sigma() / 2), 1e-12);
  EXPECT_EQ(st.describe(), "lognormal(median=20ms, p99=200ms)");

  Rng rng(4);
  std::vector<Duration> s;
  for (int i = 0; i < 400000; ++i) s.push_back(st.sample(rng));
  const double median = static_cast<double>(quantile(s, 0.5).count());
  const double p99 = static_cast<double>(quantile(s, 0.99).count());
  EXPECT_NEAR(median / 20e6, 1.0, 0.01);
  EXPECT_NEAR(p99 / 200e6, 1.0, 0.03);

  const ServiceTime flat = ServiceTime::lognormal(5ms, 5ms);
  EXPECT_EQ(flat.sample(rng), 5ms) << "p99 == median is a constant";
}

TEST(ServiceTime, ConstantAndExponential) {
  Rng rng(5);
  EXPECT_EQ(ServiceTime::constant(7ms).sample(rng), 7ms);
  const ServiceTime exp = ServiceTime::exponential(10ms);
  double sum = 0.0;
  constexpr int kN = 200000;
  for (int i = 0; i < kN; ++i) sum += static_cast<double>(exp.sample(rng).count());
  EXPECT_NEAR(sum / kN / 10e6, 1.0, 5 / std::sqrt(kN));
  EXPECT_DOUBLE_EQ(exp.secondMomentSeconds(), 2 * 0.01 * 0.01);
}

// Discrete empirical: frequencies follow the weights; zero-weight points are never drawn.
TEST(ServiceTime, EmpiricalPointsFollowTheirWeights) {
  const ServiceTime st = ServiceTime::empirical({{1ms, 1.0}, {2ms, 0.0}, {5ms, 3.0}});
  ASSERT_FALSE(st.validate().has_value());
  EXPECT_NEAR(st.meanSeconds(), (0.001 * 1 + 0.005 * 3) / 4, 1e-15);
  Rng rng(6);
  int ones = 0;
  int fives = 0;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) {
    const Duration d = st.sample(rng);
    ASSERT_NE(d, 2ms);
    if (d == 1ms) ++ones;
    if (d == 5ms) ++fives;
  }
  EXPECT_EQ(ones + fives, kN);
  EXPECT_NEAR(ones, kN / 4, 5 * std::sqrt(kN * 0.25 * 0.75));
}

// Interpolated samples: continuous between the smallest and largest sample, mean of the
// piecewise-linear CDF.
TEST(ServiceTime, EmpiricalSamplesInterpolate) {
  const ServiceTime st = ServiceTime::empiricalSamples({30ms, 10ms, 20ms}, true);
  EXPECT_NEAR(st.meanSeconds(), 0.020, 1e-15);
  Rng rng(8);
  double sum = 0.0;
  bool between = false;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) {
    const Duration d = st.sample(rng);
    ASSERT_GE(d, 10ms);
    ASSERT_LE(d, 30ms);
    if (d != 10ms && d != 20ms && d != 30ms) between = true;
    sum += static_cast<double>(d.count());
  }
  EXPECT_TRUE(between);
  EXPECT_NEAR(sum / kN / 20e6, 1.0, 0.01);
  const ServiceTime discrete = ServiceTime::empiricalSamples({30ms, 10ms}, false);
  const Duration d = discrete.sample(rng);
  EXPECT_TRUE(d == 10ms || d == 30ms);
}

TEST(ServiceTime, ValidationNamesTheProblem) {
  EXPECT_EQ(ServiceTime::lognormal(20ms, 10ms).validate().value_or(""), "lognormal: p99 (10ms) must be >= median (20ms)");
  EXPECT_EQ(ServiceTime::exponential(0ms).validate().value_or(""), "exponential: mean must be > 0, got 0s");
  EXPECT_EQ(ServiceTime::empirical({}).validate().value_or(""), "empirical: needs at least one point");
  EXPECT_EQ(ServiceTime::empirical({{1ms, 0.0}}).validate().value_or(""), "empirical: the weights must not all be 0");
  EXPECT_TRUE(ServiceTime::constant(-1ms).validate().has_value());
  EXPECT_FALSE(ServiceTime::constant(0ms).validate().has_value());
}

}  // namespace
}  // namespace gatelab::sim
