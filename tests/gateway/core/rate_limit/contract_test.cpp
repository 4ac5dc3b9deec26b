// One contract, run against every algorithm on the same seeded random traffic:
//  - it never admits more than it promises over any interval (each algorithm's own bound);
//  - peek() returns exactly what acquire() then returns;
//  - `remaining` is honest: that many more unit requests at the same instant pass, one more fails;
//  - `retryAfter` is honest: a rejected request retried after exactly retryAfter (and nothing else
//    arriving) passes;
//  - idle() is honest: a state reported idle decides like a never-seen key (except the nginx
//    leaky bucket, whose idle rule is nginx's expiry, tested in nginx_limit_req_test.cpp).

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gateway/core/rate_limit/algorithms.hpp"
#include "gateway/core/rate_limit/limiter.hpp"
#include "tests/gateway/core/rate_limit/test_support.hpp"

namespace gatelab::core::ratelimit {
namespace {

using namespace testing;

struct Case {
  std::string name;
  LimitSpec spec;
  std::uint64_t cost;
  /// Most units the algorithm may admit in any closed interval [t, t + len] (len >= 0).
  std::function<std::uint64_t(std::int64_t len)> bound;
  bool idleMeansFresh = true;
  /// Granularity within which retryAfter must be tight (1 ns for exact algorithms).
  std::int64_t retrySlack = 0;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::uint64_t ceilDiv(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

std::vector<Case> cases() {
  const std::int64_t sec = ns(1s);
  std::vector<Case> out;
  {
    LimitSpec s = spec(Algorithm::kTokenBucket, 10, 1s, 5);
    // capacity + refill over the interval (refill accrues continuously).
    out.push_back({"token_bucket", s, 1, [sec](std::int64_t len) { return 5 + static_cast<std::uint64_t>(len * 10 / sec); }});
  }
  {
    LimitSpec s = spec(Algorithm::kTokenBucket, 7, 1s, 3);
    out.push_back({"token_bucket_cost2", s, 2, [sec](std::int64_t len) { return 3 + static_cast<std::uint64_t>(len * 7 / sec); }});
  }
  {
    LimitSpec s = spec(Algorithm::kTokenBucketDiscrete, 4, 1s, 6);
    // capacity + one fill per fill time inside the interval.
    out.push_back({"token_bucket_discrete", s, 1, [sec](std::int64_t len) { return 6 + 4 * static_cast<std::uint64_t>(len / sec + 1); }});
  }
  {
    LimitSpec s = spec(Algorithm::kLeakyBucket, 5, 1s, 4);
    s.delay = LimitSpec::kNoDelay;
    // burst + the first request + drained over the interval plus 1 ms of truncation.
    out.push_back({"leaky_bucket_nodelay", s, 1,
                   [sec](std::int64_t len) { return 5 + static_cast<std::uint64_t>((len + 1'000'000) * 5 / sec) + 1; }, false,
                   1'000'000});
  }
  {
    LimitSpec s = spec(Algorithm::kLeakyBucket, 2, 1s, 3);
    out.push_back({"leaky_bucket_delay", s, 1,
                   [sec](std::int64_t len) { return 4 + static_cast<std::uint64_t>((len + 1'000'000) * 2 / sec) + 1; }, false,
                   1'000'000});
  }
  {
    LimitSpec s = spec(Algorithm::kFixedWindow, 6, 2s);
    // at most the windows the interval touches.
    out.push_back({"fixed_window_clock", s, 1, [sec](std::int64_t len) { return 6 * static_cast<std::uint64_t>(len / (2 * sec) + 2); }});
  }
  {
    LimitSpec s = spec(Algorithm::kFixedWindow, 6, 2s);
    s.align = WindowAlign::kFirstRequest;
    out.push_back({"fixed_window_first_request", s, 1, [sec](std::int64_t len) { return 6 * static_cast<std::uint64_t>(len / (2 * sec) + 2); }});
  }
  {
    LimitSpec s = spec(Algorithm::kSlidingWindowLog, 6, 2s);
    // exact: any interval shorter than the window holds at most the limit.
    out.push_back({"sliding_window_log", s, 1, [sec](std::int64_t len) { return 6 * ceilDiv(static_cast<std::uint64_t>(len + 1), static_cast<std::uint64_t>(2 * sec)); }});
  }
  {
    LimitSpec s = spec(Algorithm::kSlidingWindowLog, 9, 2s);
    out.push_back({"sliding_window_log_cost3", s, 3, [sec](std::int64_t len) { return 9 * ceilDiv(static_cast<std::uint64_t>(len + 1), static_cast<std::uint64_t>(2 * sec)); }});
  }
  {
    LimitSpec s = spec(Algorithm::kSlidingWindowCounter, 6, 2s);
    // an approximation: never more than the limit per aligned window, so at most twice per window.
    out.push_back({"sliding_window_counter", s, 1, [sec](std::int64_t len) { return 6 * static_cast<std::uint64_t>(len / (2 * sec) + 2); }});
  }
  {
    LimitSpec s = spec(Algorithm::kSlidingWindowCounter, 6, 2s);
    s.countRejected = true;
    out.push_back({"sliding_window_counter_penalty", s, 1, [sec](std::int64_t len) { return 6 * static_cast<std::uint64_t>(len / (2 * sec) + 2); }});
  }
  {
    LimitSpec s = spec(Algorithm::kGcra, 10, 1s, 5);
    out.push_back({"gcra", s, 1, [sec](std::int64_t len) { return 5 + static_cast<std::uint64_t>(len * 10 / sec); }});
  }
  {
    LimitSpec s = spec(Algorithm::kGcra, 3, 1s, 2);
    out.push_back({"gcra_fractional", s, 1, [sec](std::int64_t len) { return 2 + static_cast<std::uint64_t>(len * 3 / sec); }});
  }
  return out;
}

/// Bursty arrivals: clumps of simultaneous requests, sub-ms gaps, and long pauses.
std::vector<std::int64_t> traffic(std::uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> t;
  std::int64_t now = 5'000'000'000;
  for (int i = 0; i < n; ++i) {
    const auto r = rng() % 100;
    if (r < 40) {
      // same instant
    } else if (r < 70) {
      now += static_cast<std::int64_t>(rng() % 1'000'000);  // < 1 ms
    } else if (r < 95) {
      now += static_cast<std::int64_t>(rng() % 400'000'000);  // < 0.4 s
    } else {
      now += static_cast<std::int64_t>(rng() % 5'000'000'000);  // < 5 s
    }
    t.push_back(now);
  }
  return t;
}

class Contract : public ::testing::TestWithParam<Case> {};

TEST_P(Contract, NeverAdmitsMoreThanItPromisesOverAnyInterval) {
  const Case& c = GetParam();
  auto lim = makeLocalLimiter(c.spec, 100);
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const Hash128 key = hash128("k" + std::to_string(seed));
    std::vector<std::int64_t> admitted;  // admission times (delayed requests count at decision)
    for (std::int64_t t : traffic(seed, 3000)) {
      if (lim->acquire(key, atOffset(Duration{t}), c.cost).admitted()) admitted.push_back(t);
    }
    ASSERT_FALSE(admitted.empty());
    // Every interval that starts and ends at admission times is the worst case of its length.
    for (std::size_t i = 0; i < admitted.size(); ++i) {
      for (std::size_t j = i; j < admitted.size() && admitted[j] - admitted[i] <= ns(10s); ++j) {
        const std::uint64_t units = (j - i + 1) * c.cost;
        ASSERT_LE(units, c.bound(admitted[j] - admitted[i]))
            << c.name << " seed " << seed << ": " << units << " units in " << (admitted[j] - admitted[i]) << " ns";
      }
    }
  }
}

TEST_P(Contract, PeekPredictsAcquireExactly) {
  const Case& c = GetParam();
  auto lim = makeLocalLimiter(c.spec, 100);
  for (std::int64_t t : traffic(7, 3000)) {
    const TimePoint now = atOffset(Duration{t});
    const Decision p = lim->peek(kKeyA, now, c.cost);
    const Decision a = lim->acquire(kKeyA, now, c.cost);
    ASSERT_EQ(p.verdict, a.verdict) << c.name << " at " << t;
    ASSERT_EQ(p.delay, a.delay) << c.name;
    ASSERT_EQ(p.retryAfter, a.retryAfter) << c.name;
  }
}

TEST_P(Contract, RemainingIsHonest) {
  const Case& c = GetParam();
  auto lim = makeLocalLimiter(c.spec, 100);
  int checked = 0;
  for (std::int64_t t : traffic(11, 400)) {
    const TimePoint now = atOffset(Duration{t});
    const Decision d = lim->acquire(kKeyA, now, c.cost);
    if (!d.admitted()) continue;
    // `remaining` more unit-cost requests at the same instant pass, and the next one fails.
    std::uint64_t passed = 0;
    while (passed <= d.remaining + 1 && lim->acquire(kKeyA, now, 1).admitted()) ++passed;
    ASSERT_EQ(passed, d.remaining) << c.name << " at " << t;
    if (++checked == 20) break;
  }
  EXPECT_GT(checked, 0);
}

TEST_P(Contract, RetryAfterIsHonest) {
  const Case& c = GetParam();
  int checked = 0;
  for (std::uint64_t seed = 20; seed < 60 && checked < 30; ++seed) {
    auto lim = makeLocalLimiter(c.spec, 100);
    for (std::int64_t t : traffic(seed, 200)) {
      const TimePoint now = atOffset(Duration{t});
      const Decision d = lim->acquire(kKeyA, now, c.cost);
      if (d.admitted()) continue;
      ASSERT_GT(d.retryAfter.count(), 0) << c.name;
      if (c.retrySlack == 0 && d.retryAfter.count() > 1) {
        ASSERT_FALSE(lim->peek(kKeyA, now + d.retryAfter - Duration{1}, c.cost).admitted())
            << c.name << ": retryAfter is tight (1 ns earlier still rejects)";
      }
      ASSERT_TRUE(lim->acquire(kKeyA, now + d.retryAfter, c.cost).admitted())
          << c.name << ": a retry after exactly retryAfter passes";
      ++checked;
      break;
    }
  }
  EXPECT_GT(checked, 10) << c.name;
}

INSTANTIATE_TEST_SUITE_P(EveryAlgorithm, Contract, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

// idle() honesty needs the algorithm classes themselves (the store hides states).
template <class Algo>
void checkIdleMeansFresh(const LimitSpec& spec, std::uint64_t cost) {
  Algo algo(spec);
  typename Algo::State s{};
  int idleSeen = 0;
  for (std::int64_t t : traffic(99, 5000)) {
    if (algo.idle(s, t)) {
      ++idleSeen;
      typename Algo::State fresh{};
      typename Algo::State copy = s;
      const Decision a = algo.decide(copy, t, cost, false);
      const Decision b = algo.decide(fresh, t, cost, false);
      ASSERT_EQ(a.verdict, b.verdict) << toString(spec.algorithm) << " at " << t;
      ASSERT_EQ(a.remaining, b.remaining) << toString(spec.algorithm) << " at " << t;
    }
    algo.decide(s, t, cost, true);
  }
  EXPECT_GT(idleSeen, 10) << toString(spec.algorithm);
}

TEST(ContractIdle, IdleStatesDecideLikeNeverSeenKeys) {
  checkIdleMeansFresh<TokenBucket>(spec(Algorithm::kTokenBucket, 10, 1s, 5), 1);
  checkIdleMeansFresh<DiscreteTokenBucket>(spec(Algorithm::kTokenBucketDiscrete, 4, 1s, 6), 1);
  checkIdleMeansFresh<FixedWindow>(spec(Algorithm::kFixedWindow, 6, 2s), 1);
  checkIdleMeansFresh<SlidingWindowLog>(spec(Algorithm::kSlidingWindowLog, 6, 2s), 1);
  checkIdleMeansFresh<SlidingWindowCounter>(spec(Algorithm::kSlidingWindowCounter, 6, 2s), 1);
  checkIdleMeansFresh<Gcra>(spec(Algorithm::kGcra, 10, 1s, 5), 1);
}

TEST(ContractEquivalence, GcraAndTokenBucketAgreeOnEveryRequest) {
  // Same rate and burst: the two formulations are the same limiter (to the nanosecond).
  for (const auto& [count, period, burst] : {std::tuple{10u, 1s, 5u}, std::tuple{7u, 1s, 1u}, std::tuple{100u, 60s, 20u}}) {
    auto tb = makeLocalLimiter(spec(Algorithm::kTokenBucket, count, period, burst), 10);
    auto gc = makeLocalLimiter(spec(Algorithm::kGcra, count, period, burst), 10);
    for (std::int64_t t : traffic(5, 5000)) {
      const Decision a = tb->acquire(kKeyA, atOffset(Duration{t}), 1);
      const Decision b = gc->acquire(kKeyA, atOffset(Duration{t}), 1);
      ASSERT_EQ(a.verdict, b.verdict) << t;
      ASSERT_EQ(a.remaining, b.remaining) << t;
      ASSERT_EQ(a.retryAfter, b.retryAfter) << t;
    }
  }
}

}  // namespace
}  // namespace gatelab::core::ratelimit
