// Load balancing: one contract suite over every algorithm (only eligible targets, panic, no
// candidates, avoid, determinism), then each algorithm's own property: round-robin order, nginx's
// smooth weighted sequence, weighted shares within 1% over 100k draws, power-of-two-choices
// preferring less-loaded targets, consistent hashing moving <= 1/n + 2% of keys.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "gateway/core/hash.hpp"
#include "gateway/core/resilience/circuit_breaker.hpp"
#include "gateway/core/resilience/load_balancer.hpp"
#include "gateway/core/resilience/target_set.hpp"
#include "tests/gateway/core/resilience/test_support.hpp"

namespace gatelab::core::resilience {
namespace {

using namespace testing;

PickRequest request(Duration t, std::mt19937_64& rng, std::uint32_t avoid = kNoTarget) {
  PickRequest r;
  r.now = at(t);
  r.draw = rng();
  r.draw2 = rng();
  r.hash = rng();
  r.avoid = avoid;
  return r;
}

std::unique_ptr<LoadBalancer> make(LbAlgorithm a, const TargetSet& set) {
  LbConfig c;
  c.algorithm = a;
  return makeLoadBalancer(c, set);
}

// --- TargetSet -------------------------------------------------------------------------------

TEST(TargetSet, AvailabilityCombinesHealthEjectionAndBreaker) {
  TargetSet set("users", targets(4));
  set.setHealthy(0, false);
  set.setEjectedUntil(1, at(10s));
  set.setBlockedUntil(2, at(20s));
  struct Probe {
    Duration t;
    std::vector<bool> available;
    const char* property;
  };
  const std::vector<Probe> probes = {
      {0s, {false, false, false, true}, "down, ejected, blocked, ok"},
      {10s - 1ns, {false, false, false, true}, "1 ns before the ejection ends"},
      {10s, {false, true, false, true}, "ejection over"},
      {20s, {false, true, true, true}, "breaker open period over"},
  };
  for (const Probe& p : probes)
    for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(set.available(i, at(p.t)), p.available[i]) << p.property << " #" << i;
}

TEST(TargetSet, ViewRecomputesWhenTimeEndsAnEjection) {
  TargetSet set("users", targets(2), Percent::of(0));
  set.setEjectedUntil(0, at(5s));
  EXPECT_EQ(set.view(at(1s)).candidates.size(), 1u);
  const std::uint64_t v = set.view(at(1s)).version;
  EXPECT_EQ(set.view(at(5s) - 1ns).version, v) << "nothing changed yet";
  EXPECT_EQ(set.view(at(5s)).candidates.size(), 2u) << "no setter call needed";
  EXPECT_NE(set.view(at(5s)).version, v);
}

TEST(TargetSet, PanicThreshold) {
  struct Case {
    std::uint32_t threshold;
    std::size_t down;  // of 4 targets
    bool panic;
    std::size_t candidates;
    const char* property;
  };
  const std::vector<Case> cases = {
      {50, 2, false, 2, "exactly 50% available is not below 50%"},
      {50, 3, true, 4, "25% available: panic, all 4 are candidates"},
      {50, 4, true, 4, "none available: panic"},
      {0, 4, false, 0, "threshold 0 disables panic: no candidate"},
      {100, 1, true, 4, "100%: any unavailable target means panic"},
  };
  for (const Case& k : cases) {
    TargetSet set("users", targets(4), Percent::of(k.threshold));
    for (std::size_t i = 0; i < k.down; ++i) set.setHealthy(i, false);
    const TargetView& v = set.view(at(0s));
    EXPECT_EQ(v.panic, k.panic) << k.property;
    EXPECT_EQ(v.candidates.size(), k.candidates) << k.property;
    EXPECT_EQ(v.availableCount, 4 - k.down) << k.property;
  }
}

TEST(TargetSet, Validation) {
  EXPECT_EQ(validateTargets(targets(3)), std::nullopt);
  EXPECT_TRUE(validateTargets({}).has_value());
  std::vector<TargetSpec> dup = targets(2);
  dup[1].name = dup[0].name;
  EXPECT_NE(validateTargets(dup)->find("duplicate"), std::string::npos);
  EXPECT_NE(validateTargets(targets(2, {1, 0}))->find("weight"), std::string::npos);
}

// --- contract suite over every algorithm -----------------------------------------------------

class LbContract : public ::testing::TestWithParam<LbAlgorithm> {};

TEST_P(LbContract, PicksOnlyEligibleTargets) {
  // Random availability patterns (at least half available, so no panic): every pick is available.
  std::mt19937_64 rng(11);
  TargetSet set("svc", targets(12, {1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4}));
  auto lb = make(GetParam(), set);
  for (int round = 0; round < 50; ++round) {
    for (std::size_t i = 0; i < set.size(); ++i) set.setHealthy(i, true);
    for (int k = 0; k < 6; ++k) set.setHealthy(rng() % set.size(), false);
    for (int i = 0; i < 200; ++i) {
      const Pick p = lb->pick(set, request(Duration{round}, rng));
      ASSERT_TRUE(p.ok());
      ASSERT_FALSE(p.panic);
      ASSERT_TRUE(set.available(p.target, at(Duration{round}))) << "round " << round;
    }
  }
}

TEST_P(LbContract, PanicSpreadsOverAllTargets) {
  std::mt19937_64 rng(12);
  TargetSet set("svc", targets(4));
  for (std::size_t i = 0; i < 3; ++i) set.setHealthy(i, false);  // 25% < 50%
  auto lb = make(GetParam(), set);
  std::vector<int> seen(4, 0);
  for (int i = 0; i < 4000; ++i) {
    const Pick p = lb->pick(set, request(0s, rng));
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p.panic);
    ++seen[p.target];
  }
  for (std::size_t t = 0; t < 4; ++t) EXPECT_GT(seen[t], 0) << "target " << t << " used in panic";
}

TEST_P(LbContract, NoCandidateMeansNoPick) {
  std::mt19937_64 rng(13);
  TargetSet set("svc", targets(3), Percent::of(0));
  for (std::size_t i = 0; i < 3; ++i) set.setEjectedUntil(i, at(10s));
  auto lb = make(GetParam(), set);
  EXPECT_FALSE(lb->pick(set, request(1s, rng)).ok());
  EXPECT_TRUE(lb->pick(set, request(10s, rng)).ok()) << "ejections over";
}

TEST_P(LbContract, AvoidIsHonouredWhenAnotherCandidateExists) {
  std::mt19937_64 rng(14);
  TargetSet set("svc", targets(5, {1, 1, 50, 1, 1}));
  auto lb = make(GetParam(), set);
  for (int i = 0; i < 2000; ++i) {
    const auto avoid = static_cast<std::uint32_t>(rng() % 5);
    const Pick p = lb->pick(set, request(0s, rng, avoid));
    ASSERT_TRUE(p.ok());
    ASSERT_NE(p.target, avoid);
  }
  TargetSet single("one", targets(1));
  auto lb1 = make(GetParam(), single);
  EXPECT_EQ(lb1->pick(single, request(0s, rng, 0)).target, 0u) << "the only candidate is used anyway";
}

TEST_P(LbContract, SameInputsSameSequence) {
  TargetSet a("svc", targets(7, {1, 2, 3, 1, 2, 3, 1}));
  TargetSet b("svc", targets(7, {1, 2, 3, 1, 2, 3, 1}));
  auto la = make(GetParam(), a);
  auto lbb = make(GetParam(), b);
  std::mt19937_64 ra(15);
  std::mt19937_64 rb(15);
  for (int i = 0; i < 1000; ++i) {
    const Pick pa = la->pick(a, request(0s, ra));
    const Pick pb = lbb->pick(b, request(0s, rb));
    ASSERT_EQ(pa.target, pb.target) << "pick " << i;
    a.onRequestStart(pa.target);
    b.onRequestStart(pb.target);
  }
}

TEST_P(LbContract, SkipsTargetsWhoseBreakerIsOpen) {
  // The host mirrors a per-target breaker into the set; while it is open the target gets nothing,
  // and it is offered again exactly when the open period ends.
  VectorEventSink sink;
  TargetSet set("svc", targets(4));
  CircuitBreaker breaker(consecutiveConfig(1), EventSubject{"svc", set.target(1).name}, sink);
  const Admission a = breaker.tryAcquire(at(0s));
  breaker.onResult(a.permit, fail(), at(0s));
  set.setBlockedUntil(1, breaker.blockedUntil());
  auto lb = make(GetParam(), set);
  std::mt19937_64 rng(16);
  for (int i = 0; i < 500; ++i) ASSERT_NE(lb->pick(set, request(30s - 1ns, rng)).target, 1u);
  bool seen = false;
  for (int i = 0; i < 500 && !seen; ++i) seen = lb->pick(set, request(30s, rng)).target == 1u;
  EXPECT_TRUE(seen) << "offered again at the end of open_for (the breaker then half-opens)";
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, LbContract,
                         ::testing::Values(LbAlgorithm::kRoundRobin, LbAlgorithm::kWeightedRoundRobin,
                                           LbAlgorithm::kWeightedRandom, LbAlgorithm::kLeastRequest,
                                           LbAlgorithm::kConsistentHash),
                         [](const ::testing::TestParamInfo<LbAlgorithm>& param) {
                           std::string n = toString(param.param);
                           for (char& c : n)
                             if (c == '_') c = 'X';
                           return n;
                         });

// --- per-algorithm properties ----------------------------------------------------------------

TEST(RoundRobin, CyclesThroughAvailableTargetsInOrder) {
  TargetSet set("svc", targets(4));
  auto lb = make(LbAlgorithm::kRoundRobin, set);
  std::mt19937_64 rng(1);
  std::vector<std::uint32_t> got;
  for (int i = 0; i < 8; ++i) got.push_back(lb->pick(set, request(0s, rng)).target);
  EXPECT_EQ(got, (std::vector<std::uint32_t>{0, 1, 2, 3, 0, 1, 2, 3}));
  set.setHealthy(2, false);
  got.clear();
  for (int i = 0; i < 6; ++i) got.push_back(lb->pick(set, request(0s, rng)).target);
  EXPECT_EQ(got, (std::vector<std::uint32_t>{0, 1, 3, 0, 1, 3})) << "target 2 skipped";
}

TEST(WeightedRoundRobin, MatchesNginxSmoothSequence) {
  // nginx's documented example: weights {a:5, b:1, c:1} give a a b a c a a.
  TargetSet set("svc", targets(3, {5, 1, 1}));
  auto lb = make(LbAlgorithm::kWeightedRoundRobin, set);
  std::mt19937_64 rng(2);
  std::vector<std::uint32_t> got;
  for (int i = 0; i < 14; ++i) got.push_back(lb->pick(set, request(0s, rng)).target);
  EXPECT_EQ(got, (std::vector<std::uint32_t>{0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0}));
}

TEST(WeightedBalancers, ConvergeToTheConfiguredSharesWithinOnePercent) {
  struct Case {
    std::vector<std::uint32_t> weights;
    const char* property;
  };
  const std::vector<Case> cases = {{{90, 10}, "canary 90/10"}, {{1, 2, 3, 4}, "1:2:3:4"}, {{1, 1, 1, 97}, "skewed"}};
  for (LbAlgorithm algo : {LbAlgorithm::kWeightedRandom, LbAlgorithm::kWeightedRoundRobin}) {
    for (const Case& k : cases) {
      TargetSet set("svc", targets(k.weights.size(), k.weights));
      auto lb = make(algo, set);
      std::mt19937_64 rng(1234);
      std::vector<int> count(k.weights.size(), 0);
      const int n = 100'000;
      for (int i = 0; i < n; ++i) ++count[lb->pick(set, request(0s, rng)).target];
      double total = 0;
      for (std::uint32_t w : k.weights) total += w;
      for (std::size_t t = 0; t < k.weights.size(); ++t)
        EXPECT_NEAR(count[t] / double(n), k.weights[t] / total, 0.01) << toString(algo) << " " << k.property << " #" << t;
    }
  }
}

TEST(LeastRequest, PowerOfTwoChoicesPrefersLessLoadedTargets) {
  // Target i has i requests in flight. P2C picks i when i is in the pair and the other is busier:
  // P(i) = 2 (m - 1 - i) / (m (m - 1)); the busiest target is never picked.
  const std::size_t m = 10;
  TargetSet set("svc", targets(m));
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t k = 0; k < i; ++k) set.onRequestStart(i);
  auto lb = make(LbAlgorithm::kLeastRequest, set);
  std::mt19937_64 rng(99);
  std::vector<int> count(m, 0);
  const int n = 100'000;
  for (int i = 0; i < n; ++i) ++count[lb->pick(set, request(0s, rng)).target];
  for (std::size_t i = 0; i < m; ++i) {
    const double expect = 2.0 * double(m - 1 - i) / double(m * (m - 1));
    EXPECT_NEAR(count[i] / double(n), expect, 0.01) << "target with " << i << " in flight";
  }
  EXPECT_EQ(count[m - 1], 0) << "the busiest target is never chosen";
  for (std::size_t i = 1; i < m; ++i) EXPECT_GT(count[i - 1], count[i]) << "less loaded wins more often";
}

TEST(LeastRequest, EqualLoadsSpreadEvenly) {
  TargetSet set("svc", targets(5));
  auto lb = make(LbAlgorithm::kLeastRequest, set);
  std::mt19937_64 rng(5);
  std::vector<int> count(5, 0);
  for (int i = 0; i < 50'000; ++i) ++count[lb->pick(set, request(0s, rng)).target];
  for (int c : count) EXPECT_NEAR(c / 50'000.0, 0.2, 0.01);
}

std::vector<std::uint32_t> assign(LoadBalancer& lb, TargetSet& set, int keys) {
  std::vector<std::uint32_t> out;
  out.reserve(static_cast<std::size_t>(keys));
  for (int k = 0; k < keys; ++k) {
    PickRequest r;
    r.now = at(0s);
    r.hash = hash128("user-" + std::to_string(k)).lo;
    out.push_back(lb.pick(set, r).target);
  }
  return out;
}

TEST(ConsistentHash, AddingATargetMovesAtMostOneNthPlusTwoPercent) {
  // For n = 2..16: 100k keys; adding target n moves <= 1/n + 2% of them, and only to the new one.
  const int keys = 100'000;
  for (std::size_t n = 2; n <= 16; ++n) {
    TargetSet before("svc", targets(n));
    TargetSet after("svc", targets(n + 1));
    auto lb1 = make(LbAlgorithm::kConsistentHash, before);
    auto lb2 = make(LbAlgorithm::kConsistentHash, after);
    const auto a = assign(*lb1, before, keys);
    const auto b = assign(*lb2, after, keys);
    int moved = 0;
    for (int k = 0; k < keys; ++k) {
      const auto i = static_cast<std::size_t>(k);
      if (a[i] != b[i]) {
        ++moved;
        ASSERT_EQ(b[i], n) << "a moved key goes to the new target";
      }
    }
    EXPECT_LE(moved / double(keys), 1.0 / double(n) + 0.02) << n << " -> " << n + 1 << " targets";
  }
}

TEST(ConsistentHash, AnUnavailableTargetOnlyLosesItsOwnKeys) {
  const int keys = 20'000;
  TargetSet set("svc", targets(8), Percent::of(0));
  auto lb = make(LbAlgorithm::kConsistentHash, set);
  const auto before = assign(*lb, set, keys);
  set.setHealthy(3, false);
  const auto during = assign(*lb, set, keys);
  set.setHealthy(3, true);
  const auto after = assign(*lb, set, keys);
  for (std::size_t k = 0; k < before.size(); ++k) {
    if (before[k] == 3) {
      ASSERT_NE(during[k], 3u);
    } else {
      ASSERT_EQ(during[k], before[k]) << "keys of other targets stay put";
    }
    ASSERT_EQ(after[k], before[k]) << "and everything returns when it comes back";
  }
}

TEST(ConsistentHash, WeightsScaleTheShare) {
  TargetSet set("svc", targets(3, {1, 2, 1}));
  auto lb = make(LbAlgorithm::kConsistentHash, set);
  const auto a = assign(*lb, set, 100'000);
  std::vector<int> count(3, 0);
  for (std::uint32_t t : a) ++count[t];
  EXPECT_NEAR(count[1] / 100'000.0, 0.5, 0.05) << "weight 2 of 4";
  EXPECT_NEAR(count[0] / 100'000.0, 0.25, 0.05);
}

TEST(LoadBalancer, NamesAndValidation) {
  EXPECT_STREQ(toString(LbAlgorithm::kConsistentHash), "consistent_hash");
  EXPECT_STREQ(toString(LbAlgorithm::kWeightedRoundRobin), "weighted");
  LbConfig c;
  c.algorithm = LbAlgorithm::kConsistentHash;
  c.ringReplicas = 0;
  EXPECT_TRUE(validateLbConfig(c).has_value());
  c.ringReplicas = 160;
  EXPECT_EQ(validateLbConfig(c), std::nullopt);
}

}  // namespace
}  // namespace gatelab::core::resilience
