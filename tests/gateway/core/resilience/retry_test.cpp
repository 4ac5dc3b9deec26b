// Retries and timeouts: Envoy's jittered back-off bounds and mean over many seeded draws, the
// decision table (retryable outcomes, idempotency, attempts, Retry-After, deadline, budget), the
// retry budget under a 100% failure stream, and deadlines that cover every retry.

#include <gtest/gtest.h>

#include <cstdint>
#include <queue>
#include <random>
#include <vector>

#include "gateway/core/resilience/retry.hpp"
#include "gateway/core/resilience/timeouts.hpp"
#include "tests/gateway/core/resilience/test_support.hpp"

namespace gatelab::core::resilience {
namespace {

using namespace testing;

// --- back-off --------------------------------------------------------------------------------

TEST(Backoff, RangesFollowEnvoysFormula) {
  // Envoy: with base 25ms the 1st retry waits in [0, 25ms), the 2nd [0, 75ms), the 3rd [0, 175ms).
  const Backoff b{25ms, 10s};
  const std::vector<Duration> expected = {25ms, 75ms, 175ms, 375ms, 775ms};
  for (std::uint32_t n = 1; n <= expected.size(); ++n) EXPECT_EQ(backoffRange(b, n), expected[n - 1]) << "retry " << n;
  EXPECT_EQ(backoffRange(b, 0), 0ns) << "retry 0 is not a retry";
  EXPECT_EQ(backoffRange(b, 200), Duration::max()) << "saturates instead of overflowing";
  EXPECT_EQ(backoffRange(Backoff{0ns, 0ns}, 3), 0ns) << "base 0 disables back-off";
}

TEST(Backoff, ExtremeDrawsHitTheEndsOfTheRange) {
  const Backoff b{25ms, 250ms};
  EXPECT_EQ(backoffDelay(b, 1, 0), 0ns) << "draw 0 -> no wait";
  EXPECT_EQ(backoffDelay(b, 1, UINT64_MAX), 25ms - 1ns) << "the top draw stays below the range";
  EXPECT_EQ(backoffDelay(b, 4, UINT64_MAX), 250ms) << "range 375ms is capped at max";
  EXPECT_EQ(backoffDelay(b, 1, UINT64_MAX / 2 + 1), 12'500'000ns) << "mid draw -> mid range";
}

TEST(Backoff, StaysInBoundsAndHasTheExpectedMean) {
  // For every retry number, 20k seeded draws: 0 <= d < (2^n - 1) x base, d <= max, and the mean
  // is within 2% of E[min(U[0, R), M)] = R/2 when R <= M, else M - M^2 / (2R).
  const Backoff b{25ms, 250ms};
  std::mt19937_64 rng(7);
  for (std::uint32_t n = 1; n <= 12; ++n) {
    const double r = static_cast<double>(backoffRange(b, n).count());
    const double m = static_cast<double>(b.max.count());
    const double expectedMean = r <= m ? r / 2 : m - m * m / (2 * r);
    double sum = 0;
    const int draws = 20'000;
    for (int i = 0; i < draws; ++i) {
      const Duration d = backoffDelay(b, n, rng());
      ASSERT_GE(d, 0ns) << "retry " << n;
      ASSERT_LT(d, backoffRange(b, n)) << "retry " << n;
      ASSERT_LE(d, b.max) << "retry " << n;
      sum += static_cast<double>(d.count());
    }
    EXPECT_NEAR(sum / draws, expectedMean, expectedMean * 0.02) << "mean of retry " << n;
  }
}

TEST(Backoff, SameDrawSameDelay) {
  const Backoff b{25ms, 250ms};
  EXPECT_EQ(backoffDelay(b, 3, 0x1234'5678'9abc'def0ULL), backoffDelay(b, 3, 0x1234'5678'9abc'def0ULL));
}

// --- the decision ----------------------------------------------------------------------------

RetryConfig baseConfig() {
  RetryConfig c;
  c.maxRetries = 2;
  c.backoff = Backoff{25ms, 250ms};
  return c;
}

RetryQuery query(const CallOutcome& o, std::uint32_t done = 0, std::string_view method = "GET") {
  RetryQuery q;
  q.outcome = o;
  q.retriesDone = done;
  q.method = method;
  q.now = at(10s);
  q.draw = UINT64_MAX / 2 + 1;  // half of the range
  return q;
}

TEST(RetryPolicy, DecisionTable) {
  RetryConfig withStatuses = baseConfig();
  withStatuses.on.statuses = StatusSet{429};
  RetryConfig nonIdempotentOk = baseConfig();
  nonIdempotentOk.retryNonIdempotent = true;
  RetryConfig all5xx = baseConfig();
  all5xx.on.serverErrors = true;

  struct Case {
    const char* property;
    RetryConfig config;
    RetryQuery q;
    RetryVerdict verdict;
    GiveUpReason reason;
    Duration delay;
  };
  const std::vector<Case> cases = {
      {"a success is not retried", baseConfig(), query(ok()), RetryVerdict::kGiveUp, GiveUpReason::kNotRetryable, 0ns},
      {"a 404 is not retried", baseConfig(), query(status(404)), RetryVerdict::kGiveUp, GiveUpReason::kNotRetryable, 0ns},
      {"500 is not a gateway error", baseConfig(), query(status(500)), RetryVerdict::kGiveUp,
       GiveUpReason::kNotRetryable, 0ns},
      {"500 retried with serverErrors", all5xx, query(status(500)), RetryVerdict::kRetryAfter, GiveUpReason::kNone,
       12'500'000ns},
      {"502 retried", baseConfig(), query(status(502)), RetryVerdict::kRetryAfter, GiveUpReason::kNone, 12'500'000ns},
      {"503 retried", baseConfig(), query(status(503)), RetryVerdict::kRetryAfter, GiveUpReason::kNone, 12'500'000ns},
      {"504 retried", baseConfig(), query(status(504)), RetryVerdict::kRetryAfter, GiveUpReason::kNone, 12'500'000ns},
      {"timeout not retried unless listed", baseConfig(), query(CallOutcome::timeout()), RetryVerdict::kGiveUp,
       GiveUpReason::kNotRetryable, 0ns},
      {"listed status 429 retried", withStatuses, query(status(429)), RetryVerdict::kRetryAfter, GiveUpReason::kNone,
       12'500'000ns},
      {"second retry uses range 75ms", baseConfig(), query(status(503), 1), RetryVerdict::kRetryAfter,
       GiveUpReason::kNone, 37'500'000ns},
      {"attempts exhausted after maxRetries", baseConfig(), query(status(503), 2), RetryVerdict::kGiveUp,
       GiveUpReason::kAttemptsExhausted, 0ns},
      {"POST 503 not retried (may have been processed)", baseConfig(), query(status(503), 0, "POST"),
       RetryVerdict::kGiveUp, GiveUpReason::kNonIdempotent, 0ns},
      {"POST connect failure retried (never sent)", baseConfig(), query(CallOutcome::connectFailure(), 0, "POST"),
       RetryVerdict::kRetryAfter, GiveUpReason::kNone, 12'500'000ns},
      {"POST 503 retried when allowed", nonIdempotentOk, query(status(503), 0, "POST"), RetryVerdict::kRetryAfter,
       GiveUpReason::kNone, 12'500'000ns},
      {"PUT is idempotent", baseConfig(), query(status(503), 0, "PUT"), RetryVerdict::kRetryAfter, GiveUpReason::kNone,
       12'500'000ns},
  };
  for (const Case& k : cases) {
    const RetryPolicy p(k.config);
    const RetryDecision d = p.decide(k.q, nullptr);
    EXPECT_EQ(d.verdict, k.verdict) << k.property;
    EXPECT_EQ(d.reason, k.reason) << k.property;
    EXPECT_EQ(d.delay, k.delay) << k.property;
    EXPECT_EQ(d.retry(), k.verdict != RetryVerdict::kGiveUp) << k.property;
  }
}

TEST(RetryPolicy, ZeroDelayMeansRetryNow) {
  RetryConfig c = baseConfig();
  c.backoff = Backoff{0ns, 0ns};
  const RetryDecision d = RetryPolicy(c).decide(query(status(503)), nullptr);
  EXPECT_EQ(d.verdict, RetryVerdict::kRetryNow);
  EXPECT_EQ(d.retryNumber, 1u);
}

TEST(RetryPolicy, HonoursRetryAfterCappedByMax) {
  RetryConfig c = baseConfig();
  c.on.statuses = StatusSet{429};
  c.maxRetryAfter = 5s;
  struct Case {
    std::uint16_t code;
    Duration retryAfter;
    bool honor;
    Duration expect;
    bool fromRetryAfter;
    const char* property;
  };
  const std::vector<Case> cases = {
      {429, 2s, true, 2s, true, "429 Retry-After: 2 waits 2s"},
      {503, 2s, true, 2s, true, "503 Retry-After honoured too"},
      {503, 60s, true, 5s, true, "capped by maxRetryAfter"},
      {502, 2s, true, 12'500'000ns, false, "502 Retry-After ignored (only 429/503)"},
      {503, 2s, false, 12'500'000ns, false, "honorRetryAfter off: back-off"},
  };
  for (const Case& k : cases) {
    RetryConfig cc = c;
    cc.honorRetryAfter = k.honor;
    RetryQuery q = query(status(k.code));
    q.outcome.retryAfter = k.retryAfter;
    const RetryDecision d = RetryPolicy(cc).decide(q, nullptr);
    EXPECT_EQ(d.delay, k.expect) << k.property;
    EXPECT_EQ(d.fromRetryAfter, k.fromRetryAfter) << k.property;
  }
}

TEST(RetryPolicy, GivesUpWhenTheRetryWouldMissTheOverallDeadline) {
  // Delay is 12.5ms at now = 10s: a deadline at exactly now + delay leaves no time (give up);
  // 1 ns later the retry still fits.
  const RetryPolicy p(baseConfig());
  RetryQuery q = query(status(503));
  q.deadline = at(10s) + 12'500'000ns;
  EXPECT_EQ(p.decide(q, nullptr).reason, GiveUpReason::kDeadlineExceeded) << "deadline at now + delay";
  q.deadline += 1ns;
  EXPECT_TRUE(p.decide(q, nullptr).retry()) << "1 ns more room";
  q.deadline = at(10s);
  EXPECT_EQ(p.decide(q, nullptr).reason, GiveUpReason::kDeadlineExceeded) << "already due";
}

TEST(RetryPolicy, BudgetIsChargedOnlyWhenEverythingElseAllows) {
  RetryBudget budget(RetryBudgetConfig{Percent::of(20), 1});
  const RetryPolicy p(baseConfig());
  budget.onRequestStart();
  EXPECT_EQ(p.decide(query(ok()), &budget).reason, GiveUpReason::kNotRetryable);
  EXPECT_EQ(budget.activeRetries(), 0u) << "a non-retryable outcome takes no slot";
  const RetryDecision first = p.decide(query(status(503)), &budget);
  EXPECT_TRUE(first.retry());
  EXPECT_TRUE(first.budgetHeld);
  EXPECT_EQ(budget.activeRetries(), 1u);
  const RetryDecision second = p.decide(query(status(503)), &budget);
  EXPECT_EQ(second.reason, GiveUpReason::kBudgetExceeded) << "min concurrency 1 reached";
  budget.onRetryEnd();
  EXPECT_TRUE(p.decide(query(status(503)), &budget).retry()) << "slot returned";
  EXPECT_EQ(budget.stats().allowed, 2u);
  EXPECT_EQ(budget.stats().denied, 1u);
}

TEST(RetryBudget, LimitIsAShareOfActiveRequestsWithAFloor) {
  RetryBudget b(RetryBudgetConfig{});  // Envoy defaults: 20%, min 3
  struct Case {
    int active;
    std::uint64_t limit;
  };
  for (const Case& k : std::vector<Case>{{0, 3}, {10, 3}, {19, 3}, {20, 4}, {100, 20}, {1001, 200}}) {
    RetryBudget x(RetryBudgetConfig{});
    for (int i = 0; i < k.active; ++i) x.onRequestStart();
    EXPECT_EQ(x.limit(), k.limit) << k.active << " active requests";
  }
}

TEST(RetryBudget, HoldsUnderAHundredPercentFailureStream) {
  // A small discrete-event run: 2 requests arrive every ms for 10 s; every try takes 10 ms and
  // fails with 503; up to 3 retries each, no back-off (the worst case). Properties:
  //   - every admitted retry fits: active retries <= max(3, 20% of active requests);
  //   - retries are at most 20% of all upstream tries (load amplification <= 1.25x), plus the
  //     min-concurrency slack;
  //   - without a budget the same stream makes 3 retries per request (4x amplification).
  auto run = [](bool withBudget, std::uint64_t& requests, std::uint64_t& retries, bool& invariantHeld) {
    RetryConfig c;
    c.maxRetries = 3;
    c.backoff = Backoff{0ns, 0ns};
    const RetryPolicy policy(c);
    RetryBudget budget(RetryBudgetConfig{});
    struct TryEnd {
      std::int64_t at;
      std::uint32_t retriesDone;
      bool holdsSlot;
      bool operator>(const TryEnd& o) const { return at > o.at; }
    };
    std::priority_queue<TryEnd, std::vector<TryEnd>, std::greater<>> inFlight;
    requests = retries = 0;
    invariantHeld = true;
    const std::int64_t ms = 1'000'000;
    for (std::int64_t now = 0; now < 10'000 * ms || !inFlight.empty(); now += ms) {
      while (!inFlight.empty() && inFlight.top().at <= now) {
        const TryEnd e = inFlight.top();
        inFlight.pop();
        if (e.holdsSlot) budget.onRetryEnd();
        RetryQuery q;
        q.outcome = CallOutcome::response(503);
        q.retriesDone = e.retriesDone;
        q.method = "GET";
        q.now = atOffset(Duration{now});
        const RetryDecision d = policy.decide(q, withBudget ? &budget : nullptr);
        // Admission is what the budget controls: a retry is admitted only while it fits (the
        // limit may later shrink below the retries in flight as requests finish).
        if (d.budgetHeld && budget.activeRetries() > budget.limit()) invariantHeld = false;
        if (d.retry()) {
          ++retries;
          inFlight.push(TryEnd{now + 10 * ms, e.retriesDone + 1, d.budgetHeld});
        } else {
          budget.onRequestEnd();
        }
      }
      if (now < 10'000 * ms) {
        for (int k = 0; k < 2; ++k) {
          ++requests;
          budget.onRequestStart();
          inFlight.push(TryEnd{now + 10 * ms, 0, false});
        }
      }
    }
  };
  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
  bool invariant = false;
  run(true, requests, retries, invariant);
  EXPECT_TRUE(invariant) << "no retry admitted beyond the budget";
  const double share = static_cast<double>(retries) / static_cast<double>(requests + retries);
  RecordProperty("retry_share_permille", static_cast<int>(share * 1000));
  EXPECT_LE(share, 0.20 + 0.01) << "retries " << retries << " of " << (requests + retries) << " tries";
  EXPECT_GT(share, 0.15) << "the budget is used, not starved";

  run(false, requests, retries, invariant);
  EXPECT_EQ(retries, 3 * requests) << "without a budget every request retries 3 times";
}

// --- idempotency and validation --------------------------------------------------------------

TEST(RetryPolicy, IdempotentMethodsPerRfc9110) {
  for (const char* m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) EXPECT_TRUE(isIdempotentMethod(m)) << m;
  for (const char* m : {"POST", "PATCH", "CONNECT", "LOCK", "get", ""}) EXPECT_FALSE(isIdempotentMethod(m)) << m;
}

TEST(RetryPolicy, Validation) {
  EXPECT_EQ(validateRetryConfig(RetryConfig{}), std::nullopt);
  RetryConfig c;
  c.backoff = Backoff{100ms, 50ms};
  ASSERT_TRUE(validateRetryConfig(c).has_value());
  EXPECT_NE(validateRetryConfig(c)->find("backoff.max"), std::string::npos);
  c = RetryConfig{};
  c.maxRetries = 1000;
  EXPECT_TRUE(validateRetryConfig(c).has_value());
  EXPECT_TRUE(validateRetryBudgetConfig(RetryBudgetConfig{Percent{200'000}, 3}).has_value());
}

// --- timeouts --------------------------------------------------------------------------------

TEST(Timeouts, TryDeadlineIsCappedByTheOverallDeadline) {
  const Timeouts t{100ms, 1s, 2500ms};
  struct Case {
    Duration tryStart;
    Duration expectTry;
    Duration expectConnect;
    const char* property;
  };
  const std::vector<Case> cases = {
      {0s, 1s, 100ms, "first try: full per-try timeout"},
      {1s + 200ms, 2s + 200ms, 1s + 300ms, "second try after 200ms back-off: still fits"},
      {2s, 2500ms, 2s + 100ms, "third try: cut to the overall deadline"},
      {2450ms, 2500ms, 2500ms, "connect limited by the try deadline"},
      {2500ms, 2500ms, 2500ms, "at the overall deadline: already due"},
  };
  for (const Case& k : cases) {
    EXPECT_EQ(tryDeadline(t, at(0s), at(k.tryStart)), at(k.expectTry)) << k.property;
    EXPECT_EQ(connectDeadline(t, at(0s), at(k.tryStart)), at(k.expectConnect)) << k.property;
  }
  EXPECT_EQ(overallDeadline(t, at(1s)), at(3500ms));
}

TEST(Timeouts, ZeroMeansNoLimit) {
  EXPECT_EQ(tryDeadline(Timeouts{}, at(0s), at(5s)), kNoDeadline);
  EXPECT_EQ(tryDeadline(Timeouts{0s, 0s, 3s}, at(0s), at(1s)), at(3s)) << "overall only";
  EXPECT_EQ(tryDeadline(Timeouts{0s, 1s, 0s}, at(0s), at(5s)), at(6s)) << "per-try only";
  EXPECT_EQ(connectDeadline(Timeouts{}, at(0s), at(5s)), kNoDeadline);
  EXPECT_EQ(remaining(kNoDeadline, at(1s)), Duration::max());
  EXPECT_EQ(remaining(at(3s), at(1s)), 2s);
  EXPECT_EQ(remaining(at(1s), at(3s)), 0s);
}

TEST(Timeouts, HugeValuesSaturate) {
  const Timeouts t{0s, Duration::max(), 0s};
  EXPECT_EQ(tryDeadline(t, at(0s), at(1s)), kNoDeadline);
  EXPECT_EQ(validateTimeouts(Timeouts{1s, 2s, 1s}) != nullptr, true) << "per-try above overall";
  EXPECT_EQ(validateTimeouts(Timeouts{1s, 1s, 2s}), nullptr);
}

TEST(Timeouts, OverallDeadlineBoundsAFullRetrySequence) {
  // Tries of up to 1s with jittered back-off between them never run past start + overall, and
  // the retry policy gives up instead of starting a try at or after the deadline.
  const Timeouts t{0s, 1s, 2500ms};
  RetryConfig rc;
  rc.maxRetries = 10;
  rc.on.timeout = true;
  const RetryPolicy policy(rc);
  std::mt19937_64 rng(3);
  for (int run = 0; run < 200; ++run) {
    TimePoint now = at(0s);
    const TimePoint deadline = overallDeadline(t, at(0s));
    for (std::uint32_t done = 0;; ++done) {
      const TimePoint end = tryDeadline(t, at(0s), now);
      ASSERT_LE(end, deadline);
      now = end;  // the try times out
      RetryQuery q;
      q.outcome = CallOutcome::timeout(1s);
      q.retriesDone = done;
      q.method = "GET";
      q.now = now;
      q.deadline = deadline;
      q.draw = rng();
      const RetryDecision d = policy.decide(q, nullptr);
      if (!d.retry()) {
        EXPECT_TRUE(d.reason == GiveUpReason::kDeadlineExceeded || d.reason == GiveUpReason::kAttemptsExhausted);
        break;
      }
      now += d.delay;
      ASSERT_LT(now, deadline) << "a retry never starts at or after the deadline";
    }
  }
}

}  // namespace
}  // namespace gatelab::core::resilience
