// Boundary tables per algorithm: every case probes just before / at / just after a refill,
// window roll-over or expiry, with exact nanosecond times.

#include <gtest/gtest.h>

#include <vector>

#include "gateway/core/rate_limit/algorithms.hpp"
#include "gateway/core/rate_limit/limiter.hpp"
#include "tests/gateway/core/rate_limit/test_support.hpp"

namespace gatelab::core::ratelimit {
namespace {

using namespace testing;

struct Step {
  Duration t;       // time of the request
  Verdict expect;   // expected verdict
  const char* why;  // the property this step checks
};

void runSteps(const LimitSpec& s, const std::vector<Step>& steps, std::uint64_t cost = 1) {
  ASSERT_EQ(validateLimitSpec(s, cost), std::nullopt);
  auto lim = makeLocalLimiter(s, 1000);
  for (const Step& st : steps) {
    const Decision d = lim->acquire(kKeyA, at(st.t), cost);
    EXPECT_EQ(d.verdict, st.expect) << "at " << formatDuration(st.t) << ": " << st.why;
  }
}

constexpr Verdict A = Verdict::kAllow;
constexpr Verdict R = Verdict::kReject;

// --- token bucket ---------------------------------------------------------------------------

TEST(TokenBucket, WorkedExampleCapacity100Refill10PerSecond) {
  // The worked example: capacity 100, refill 10/s.
  auto lim = makeLocalLimiter(spec(Algorithm::kTokenBucket, 10, 1s, 100), 10);
  int passed = 0;
  for (int i = 0; i < 50; ++i) passed += lim->acquire(kKeyA, at(0s), 1).admitted();
  EXPECT_EQ(passed, 50) << "50 requests at once all pass";
  passed = 0;
  int rejected = 0;
  for (int i = 0; i < 60; ++i) {
    const Decision d = lim->acquire(kKeyA, at(0s), 1);
    (d.admitted() ? passed : rejected)++;
  }
  EXPECT_EQ(passed, 50) << "60 more: 50 pass";
  EXPECT_EQ(rejected, 10) << "60 more: 10 rejected";
  EXPECT_EQ(lim->peek(kKeyA, at(5s), 1).remaining, 49u) << "after 5 s, 50 tokens (49 left after a peeked one)";
  passed = 0;
  for (int i = 0; i < 51; ++i) passed += lim->acquire(kKeyA, at(5s), 1).admitted();
  EXPECT_EQ(passed, 50) << "after 5 s exactly 50 pass";
}

TEST(TokenBucket, RefillBoundaryIsExactToTheNanosecond) {
  runSteps(spec(Algorithm::kTokenBucket, 10, 1s, 1),
           {{0ms, A, "full bucket admits"},
            {0ms, R, "empty bucket rejects"},
            {100ms - 1ns, R, "one token needs 100 ms; 1 ns short"},
            {100ms, A, "exactly one interval later"},
            {100ms, R, "spent again"},
            {200ms + 1ns, A, "just after the next refill"}});
}

TEST(TokenBucket, FractionalIntervalsStayExact) {
  // 7/s: the interval is 142,857,142.857... ns; no drift after many intervals.
  runSteps(spec(Algorithm::kTokenBucket, 7, 1s, 1),
           {{0ns, A, "first"},
            {142'857'142ns, R, "just before 1/7 s"},
            {142'857'143ns, A, "just after 1/7 s"},
            {285'714'285ns, R, "2/7 s = 285,714,285.71 ns: 1 ns short"},
            {285'714'286ns, A, "first whole ns after 2/7 s"}});
}

TEST(TokenBucket, SevenIntervalsMakeExactlyOneSecond) {
  // After the first token is spent at 0, seven tokens have accrued exactly at 1 s, not before.
  auto lim = makeLocalLimiter(spec(Algorithm::kTokenBucket, 7, 1s, 7), 10);
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(lim->acquire(kKeyA, at(0s), 1).admitted());
  EXPECT_EQ(lim->peek(kKeyA, at(1s - 1ns), 7).verdict, R) << "7 tokens need a full second";
  EXPECT_EQ(lim->peek(kKeyA, at(1s), 7).verdict, A) << "exactly at 1 s";
}

TEST(TokenBucket, CostChargesSeveralTokensAndRetryAfterIsExact) {
  auto lim = makeLocalLimiter(spec(Algorithm::kTokenBucket, 10, 1s, 10), 10);
  EXPECT_TRUE(lim->acquire(kKeyA, at(0s), 8).admitted());
  const Decision d = lim->acquire(kKeyA, at(0s), 5);
  ASSERT_EQ(d.verdict, R) << "2 tokens left, cost 5";
  EXPECT_EQ(d.retryAfter, 300ms) << "3 missing tokens at 10/s";
  EXPECT_EQ(d.remaining, 2u);
  EXPECT_EQ(lim->acquire(kKeyA, at(300ms), 5).verdict, A);
}

TEST(TokenBucket, KeysAreIndependent) {
  auto lim = makeLocalLimiter(spec(Algorithm::kTokenBucket, 1, 1s, 1), 10);
  EXPECT_TRUE(lim->acquire(kKeyA, at(0s), 1).admitted());
  EXPECT_TRUE(lim->acquire(kKeyB, at(0s), 1).admitted()) << "another key has its own bucket";
  EXPECT_FALSE(lim->acquire(kKeyA, at(0s), 1).admitted());
}

// --- discrete token bucket (Envoy local_rate_limit) -------------------------------------------

TEST(DiscreteTokenBucket, FillsHappenOnlyAtIntervalBoundaries) {
  // max_tokens 3, tokens_per_fill 1, fill_interval 1s.
  runSteps(spec(Algorithm::kTokenBucketDiscrete, 1, 1s, 3),
           {{500ms, A, "starts full (3)"},
            {500ms, A, "2"},
            {500ms, A, "1"},
            {500ms, R, "empty"},
            {1s - 1ns, R, "no continuous refill before the fill time"},
            {1s, A, "one token at the fill"},
            {1s, R, "only one per fill"},
            {3s, A, "two fills happened (2 s, 3 s)"},
            {3s, A, "second token"},
            {3s, R, "third not there"}});
}

TEST(DiscreteTokenBucket, RetryAfterPointsAtTheFill) {
  auto lim = makeLocalLimiter(spec(Algorithm::kTokenBucketDiscrete, 2, 1s, 2), 10);
  lim->acquire(kKeyA, at(250ms), 2);
  const Decision d = lim->acquire(kKeyA, at(250ms), 1);
  ASSERT_EQ(d.verdict, R);
  EXPECT_EQ(d.retryAfter, 750ms);
  EXPECT_EQ(d.reset, 750ms) << "one fill of 2 tokens fills the bucket";
}

// --- fixed window ------------------------------------------------------------------------------

TEST(FixedWindow, ClockAlignedWindowsRollOverAtMultiplesOfTheWindow) {
  runSteps(spec(Algorithm::kFixedWindow, 3, 1min),
           {{10s, A, "1st in [0,60s)"},
            {20s, A, "2nd"},
            {59s, A, "3rd"},
            {60s - 1ns, R, "limit reached, 1 ns before roll-over"},
            {60s, A, "new window at exactly 60 s"},
            {60s, A, "2nd in new window"},
            {60s, A, "3rd"},
            {119s, R, "4th rejected"}});
}

TEST(FixedWindow, FirstRequestAlignedWindowStartsAtTheKeysFirstRequest) {
  LimitSpec s = spec(Algorithm::kFixedWindow, 2, 1min);
  s.align = WindowAlign::kFirstRequest;
  runSteps(s, {{10s, A, "window [10s, 70s)"},
               {20s, A, "2nd"},
               {60s, R, "no clock roll-over at 60 s"},
               {70s - 1ns, R, "1 ns before the key's window ends"},
               {70s, A, "new window starts at this request"},
               {129s, A, "2nd in [70s, 130s)"},
               {130s - 1ns, R, "full"}});
}

TEST(FixedWindow, RetryAfterIsTheEndOfTheWindow) {
  auto lim = makeLocalLimiter(spec(Algorithm::kFixedWindow, 1, 10s), 10);
  lim->acquire(kKeyA, at(3s), 1);
  const Decision d = lim->acquire(kKeyA, at(4s), 1);
  EXPECT_EQ(d.verdict, R);
  EXPECT_EQ(d.retryAfter, 6s);
  EXPECT_EQ(d.reset, 6s);
}

TEST(FixedWindow, BoundaryBurstAdmitsTwiceTheLimitAcrossTheEdge) {
  // The documented weakness: N at the end of one window and N at the start of the next.
  auto lim = makeLocalLimiter(spec(Algorithm::kFixedWindow, 5, 1min), 10);
  int passed = 0;
  for (int i = 0; i < 5; ++i) passed += lim->acquire(kKeyA, at(59s), 1).admitted();
  for (int i = 0; i < 5; ++i) passed += lim->acquire(kKeyA, at(60s), 1).admitted();
  EXPECT_EQ(passed, 10);
}

// --- sliding window log --------------------------------------------------------------------------

TEST(SlidingWindowLog, RequestsLeaveTheWindowExactlyOneWindowLater) {
  // Window (now - 60s, now]: a request at t counts until t + 60s, exclusive.
  runSteps(spec(Algorithm::kSlidingWindowLog, 3, 1min),
           {{0s, A, "1"},
            {10s, A, "2"},
            {20s, A, "3"},
            {30s, R, "3 in the last minute"},
            {60s - 1ns, R, "the first is still inside"},
            {60s, A, "the first left at exactly 60 s"},
            {60s, R, "now 10s, 20s, 60s are inside"},
            {70s, A, "the 10 s one left"}});
}

TEST(SlidingWindowLog, RetryAfterFreesExactlyEnoughUnits) {
  auto lim = makeLocalLimiter(spec(Algorithm::kSlidingWindowLog, 4, 10s), 10);
  lim->acquire(kKeyA, at(0s), 1);
  lim->acquire(kKeyA, at(1s), 1);
  lim->acquire(kKeyA, at(2s), 2);
  const Decision d = lim->acquire(kKeyA, at(3s), 2);
  ASSERT_EQ(d.verdict, R);
  EXPECT_EQ(d.retryAfter, 8s) << "needs the 0 s and 1 s records gone: at 11 s";
  EXPECT_EQ(lim->acquire(kKeyA, at(11s) - 1ns, 2).verdict, R);
  EXPECT_EQ(lim->acquire(kKeyA, at(11s), 2).verdict, A);
}

// --- sliding window counter ----------------------------------------------------------------------

TEST(SlidingWindowCounter, WeightsThePreviousWindowByTheRemainingShare) {
  // 10/min. 10 admitted at 50 s. At 75 s: 15 s into the new window, previous weight 45/60:
  // estimate 7.5 + current. Two more pass (8.5, 9.5), the third would make 10.5.
  auto lim = makeLocalLimiter(spec(Algorithm::kSlidingWindowCounter, 10, 1min), 10);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(lim->acquire(kKeyA, at(50s), 1).admitted());
  EXPECT_EQ(lim->acquire(kKeyA, at(50s), 1).verdict, R);
  EXPECT_EQ(lim->acquire(kKeyA, at(75s), 1).verdict, A);
  EXPECT_EQ(lim->acquire(kKeyA, at(75s), 1).verdict, A);
  const Decision d = lim->acquire(kKeyA, at(75s), 1);
  ASSERT_EQ(d.verdict, R);
  // 10*(60-e)/60 + 2 + 1 <= 10  <=>  e >= 18 s: retry at 78 s.
  EXPECT_EQ(d.retryAfter, 3s);
  EXPECT_EQ(lim->acquire(kKeyA, at(78s) - 1ns, 1).verdict, R);
  EXPECT_EQ(lim->acquire(kKeyA, at(78s), 1).verdict, A);
}

TEST(SlidingWindowCounter, CountRejectedPenalisesClientsThatKeepSending) {
  LimitSpec s = spec(Algorithm::kSlidingWindowCounter, 2, 1min);
  s.countRejected = true;
  auto lim = makeLocalLimiter(s, 10);
  lim->acquire(kKeyA, at(0s), 1);
  lim->acquire(kKeyA, at(0s), 1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(lim->acquire(kKeyA, at(1s), 1).verdict, R);
  // current window holds 6; at 90 s the estimate is 6 * 30/60 = 3 > 2 - 1: still rejected,
  // where the non-penalising variant (estimate 1) would admit.
  EXPECT_EQ(lim->acquire(kKeyA, at(90s), 1).verdict, R);
  auto plain = makeLocalLimiter(spec(Algorithm::kSlidingWindowCounter, 2, 1min), 10);
  plain->acquire(kKeyA, at(0s), 1);
  plain->acquire(kKeyA, at(0s), 1);
  for (int i = 0; i < 4; ++i) plain->acquire(kKeyA, at(1s), 1);
  EXPECT_EQ(plain->acquire(kKeyA, at(90s), 1).verdict, A);
}

TEST(SlidingWindowCounter, TwoIdleWindowsForgetEverything) {
  auto lim = makeLocalLimiter(spec(Algorithm::kSlidingWindowCounter, 1, 1min), 10);
  lim->acquire(kKeyA, at(0s), 1);
  EXPECT_EQ(lim->acquire(kKeyA, at(119s), 1).verdict, R) << "prev weight 1/60 * 1 + 1 > 1";
  EXPECT_EQ(lim->acquire(kKeyA, at(120s), 1).verdict, A) << "at 120 s the 0 s request no longer counts";
}

// --- GCRA --------------------------------------------------------------------------------------

TEST(Gcra, EmissionIntervalAndBurstTolerance) {
  // 10/s => T = 100 ms; burst 3 => three at once, then one per 100 ms.
  runSteps(spec(Algorithm::kGcra, 10, 1s, 3),
           {{0ms, A, "1"},
            {0ms, A, "2"},
            {0ms, A, "3"},
            {0ms, R, "burst exhausted"},
            {100ms - 1ns, R, "1 ns before one emission interval"},
            {100ms, A, "exactly one interval"},
            {150ms, R, "half an interval later"},
            {200ms, A, "next slot"}});
}

TEST(Gcra, RetryAfterIsExact) {
  auto lim = makeLocalLimiter(spec(Algorithm::kGcra, 3, 1s, 1), 10);
  lim->acquire(kKeyA, at(0s), 1);
  const Decision d = lim->acquire(kKeyA, at(100ms), 1);
  ASSERT_EQ(d.verdict, R);
  EXPECT_EQ(d.retryAfter, 233'333'334ns) << "TAT 1/3 s (rounded up to the ns) minus 100 ms";
  EXPECT_EQ(lim->acquire(kKeyA, at(100ms) + d.retryAfter - 1ns, 1).verdict, R);
  EXPECT_EQ(lim->acquire(kKeyA, at(100ms) + d.retryAfter, 1).verdict, A);
}

// --- validation --------------------------------------------------------------------------------

TEST(LimitValidation, RejectsSpecsNoRequestCouldPass) {
  EXPECT_NE(validateLimitSpec(spec(Algorithm::kTokenBucket, 10, 1s, 5), 6), std::nullopt) << "cost > burst";
  EXPECT_NE(validateLimitSpec(spec(Algorithm::kFixedWindow, 10, 1s), 11), std::nullopt) << "cost > limit";
  EXPECT_NE(validateLimitSpec(spec(Algorithm::kTokenBucket, 0, 1s), 1), std::nullopt) << "zero count";
  EXPECT_NE(validateLimitSpec(spec(Algorithm::kLeakyBucket, 1, 24h * 365), 1), std::nullopt)
      << "below 0.001 r/s nginx cannot represent";
  LimitSpec d = spec(Algorithm::kLeakyBucket, 1, 1s, 2);
  d.delay = 3;
  EXPECT_NE(validateLimitSpec(d, 1), std::nullopt) << "delay > burst";
  EXPECT_EQ(validateLimitSpec(spec(Algorithm::kTokenBucket, 7, 24h, 1000), 1), std::nullopt);
}

}  // namespace
}  // namespace gatelab::core::ratelimit
