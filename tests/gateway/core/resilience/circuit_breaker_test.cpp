// Circuit breaker: every transition driven through explicit times at its boundaries (1 ns
// before / at / after), minimum-calls semantics, the half-open probe limit, operator states,
// dry run, and the reasons carried by events.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/core/resilience/circuit_breaker.hpp"
#include "tests/gateway/core/resilience/test_support.hpp"

namespace gatelab::core::resilience {
namespace {

using namespace testing;

struct Harness {
  explicit Harness(const BreakerConfig& c) : breaker(c, kSubject, sink) {}
  /// One call at `t`: admitted or not; when admitted its outcome is recorded at `t` too.
  Admission call(Duration t, const CallOutcome& o) {
    Admission a = breaker.tryAcquire(at(t));
    if (a.admitted()) breaker.onResult(a.permit, o, at(t));
    return a;
  }
  std::vector<BreakerStateChanged> changes() const { return sink.all<BreakerStateChanged>(); }
  VectorEventSink sink;
  CircuitBreaker breaker;
};

// --- configuration ---------------------------------------------------------------------------

TEST(BreakerConfig, ValidationNamesTheField) {
  struct Case {
    const char* property;
    void (*mutate)(BreakerConfig&);
    const char* needle;
  };
  const std::vector<Case> cases = {
      {"no trip condition", [](BreakerConfig& c) { c.failureRate.reset(); }, "at least one"},
      {"minimum above a count window", [](BreakerConfig& c) { c.minimumCalls = 101; }, "minimum_calls"},
      {"time window not a whole number of buckets",
       [](BreakerConfig& c) {
         c.window = WindowKind::kTime;
         c.windowDuration = 1500ms;
       },
       "whole number of buckets"},
      {"zero open duration", [](BreakerConfig& c) { c.openFor = 0s; }, "open_for"},
      {"M above K", [](BreakerConfig& c) { c.halfOpenSuccesses = 11; }, "half_open_successes"},
      {"slow rate without duration",
       [](BreakerConfig& c) {
         c.slowCallRate = Percent::of(50);
         c.slowCallDuration = 0s;
       },
       "slow_call_duration"},
      {"growth without a sufficient cap",
       [](BreakerConfig& c) {
         c.openForMultiplier = 2;
         c.maxOpenFor = 1s;
       },
       "max_open_for"},
      {"fallback status", [](BreakerConfig& c) { c.fallback.status = 99; }, "fallback.status"},
  };
  EXPECT_EQ(validateBreakerConfig(BreakerConfig{}), std::nullopt) << "the defaults are valid";
  for (const Case& k : cases) {
    BreakerConfig c;
    k.mutate(c);
    const auto err = validateBreakerConfig(c);
    ASSERT_TRUE(err.has_value()) << k.property;
    EXPECT_NE(err->find(k.needle), std::string::npos) << k.property << ": " << *err;
  }
}

// --- trip conditions -------------------------------------------------------------------------

TEST(Breaker, MinimumCallsIsRespected) {
  // resilience4j: with minimum 10, nine failures out of nine calls do not trip; the 10th call is
  // the first evaluated, whatever its outcome (10/10 and 9/10 both reach 50%).
  for (const CallOutcome& tenth : {fail(), ok()}) {
    Harness h(rateConfig(50, 20, 10));
    for (int i = 0; i < 9; ++i) {
      h.call(Duration{i * 1'000'000}, fail());
      EXPECT_EQ(h.breaker.state(), BreakerState::kClosed) << "after " << (i + 1) << " of 9 failures";
    }
    h.call(10ms, tenth);
    EXPECT_EQ(h.breaker.state(), BreakerState::kOpen) << "the 10th call is evaluated";
    ASSERT_EQ(h.changes().size(), 1u);
  }
}

TEST(Breaker, FailureRateThresholdIsInclusive) {
  struct Case {
    int failures;
    int successes;
    BreakerState expect;
    const char* property;
  };
  const std::vector<Case> cases = {
      {5, 5, BreakerState::kOpen, "exactly 50% trips (>=)"},
      {4, 6, BreakerState::kClosed, "40% stays closed"},
      {10, 0, BreakerState::kOpen, "100% trips"},
      {0, 10, BreakerState::kClosed, "0% stays closed"},
  };
  for (const Case& k : cases) {
    Harness h(rateConfig(50, 10, 10));
    for (int i = 0; i < k.successes; ++i) h.call(0s, ok());
    for (int i = 0; i < k.failures; ++i) h.call(0s, fail());
    EXPECT_EQ(h.breaker.state(), k.expect) << k.property;
  }
}

TEST(Breaker, CountWindowForgetsTheOldestCall) {
  // Window 4, minimum 4, 75%: F F S S -> 50%; then F -> window F S S F (50%); F -> S S F F (50%);
  // F -> S F F F (75%) trips.
  Harness h(rateConfig(75, 4, 4));
  const std::vector<std::pair<CallOutcome, BreakerState>> steps = {
      {fail(), BreakerState::kClosed}, {fail(), BreakerState::kClosed}, {ok(), BreakerState::kClosed},
      {ok(), BreakerState::kClosed},   {fail(), BreakerState::kClosed}, {fail(), BreakerState::kClosed},
      {fail(), BreakerState::kOpen},
  };
  int i = 0;
  for (const auto& [o, expect] : steps) {
    h.call(0s, o);
    EXPECT_EQ(h.breaker.state(), expect) << "step " << i++;
  }
}

TEST(Breaker, ConsecutiveFailuresResetOnSuccess) {
  Harness h(consecutiveConfig(5));
  for (int i = 0; i < 4; ++i) h.call(0s, fail());
  h.call(0s, ok());
  for (int i = 0; i < 4; ++i) h.call(0s, fail());
  EXPECT_EQ(h.breaker.state(), BreakerState::kClosed) << "4 + success + 4 never reaches 5";
  h.call(0s, fail());
  EXPECT_EQ(h.breaker.state(), BreakerState::kOpen) << "the 5th consecutive failure trips";
  ASSERT_EQ(h.changes().size(), 1u);
  EXPECT_EQ(h.changes()[0].reason, "5 consecutive failures >= 5");
  EXPECT_EQ(h.changes()[0].counters.consecutiveFailures, 5u);
}

TEST(Breaker, SlowCallsAreStrictlySlowerThanTheThreshold) {
  BreakerConfig c = rateConfig(50, 4, 4);
  c.failureRate.reset();
  c.slowCallRate = Percent::of(50);
  c.slowCallDuration = 1s;
  {
    Harness h(c);
    for (int i = 0; i < 4; ++i) h.call(0s, ok(1s));
    EXPECT_EQ(h.breaker.state(), BreakerState::kClosed) << "latency == threshold is not slow";
  }
  {
    Harness h(c);
    h.call(0s, ok(1s + 1ns));
    h.call(0s, ok(1s + 1ns));
    h.call(0s, ok());
    h.call(0s, ok());
    EXPECT_EQ(h.breaker.state(), BreakerState::kOpen) << "2 of 4 calls 1 ns over the threshold: 50%";
    EXPECT_EQ(h.changes()[0].reason,
              "slow-call rate 50% (2/4 slower than 1s) >= 50% over the last 4 calls");
  }
}

TEST(Breaker, CustomClassificationIsUsed) {
  BreakerConfig c = consecutiveConfig(2);
  c.classifier.serverErrors = false;
  c.classifier.statuses = StatusSet{429};
  Harness h(c);
  h.call(0s, status(500));
  h.call(0s, status(503));
  EXPECT_EQ(h.breaker.state(), BreakerState::kClosed) << "5xx not counted when serverErrors is off";
  h.call(0s, status(429));
  h.call(0s, status(429));
  EXPECT_EQ(h.breaker.state(), BreakerState::kOpen) << "listed status 429 counts";

  Harness custom(consecutiveConfig(1));
  const Admission a = custom.breaker.tryAcquire(at(0s));
  custom.breaker.onResult(a.permit, /*failure=*/true, 5ms, at(0s));
  EXPECT_EQ(custom.breaker.state(), BreakerState::kOpen) << "pre-classified outcome from the host";
}

// --- time-based window -----------------------------------------------------------------------

TEST(Breaker, TimeWindowForgetsOldBucketsExactly) {
  // Window 10s in 1s buckets, minimum 3, 50%. Two failures at 0.5s (bucket 0). A third failure at
  // 9.999999999s still sees them (3 calls, trips); at 10s bucket 0 has left the window (1 call).
  BreakerConfig c = rateConfig(50, 100, 3);
  c.window = WindowKind::kTime;
  c.windowDuration = 10s;
  c.bucketWidth = 1s;
  struct Case {
    Duration third;
    BreakerState expect;
    const char* property;
  };
  const std::vector<Case> cases = {
      {10s - 1ns, BreakerState::kOpen, "1 ns before bucket 0 leaves: 3 calls, trips"},
      {10s, BreakerState::kClosed, "at 10s bucket 0 is forgotten: 1 call < minimum"},
      {10s + 1ns, BreakerState::kClosed, "after: still forgotten"},
  };
  for (const Case& k : cases) {
    Harness h(c);
    h.call(500ms, fail());
    h.call(500ms, fail());
    h.call(k.third, fail());
    EXPECT_EQ(h.breaker.state(), k.expect) << k.property;
  }
}

TEST(Breaker, TimeWindowReasonNamesTheWindow) {
  BreakerConfig c = rateConfig(50, 100, 2);
  c.window = WindowKind::kTime;
  c.windowDuration = 1min;
  Harness h(c);
  h.call(1s, fail());
  h.call(2s, fail());
  ASSERT_EQ(h.changes().size(), 1u);
  EXPECT_EQ(h.changes()[0].reason, "failure rate 100% (2/2) >= 50% over the last 1m (2 calls)");
}

// --- open -> half-open -----------------------------------------------------------------------

TEST(Breaker, OpenDurationBoundaries) {
  Harness h(consecutiveConfig(1));
  h.call(100s, fail());
  ASSERT_EQ(h.breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(h.breaker.nextTransitionAt(), at(130s));
  struct Step {
    Duration t;
    BreakerVerdict verdict;
    BreakerState state;
    std::optional<Duration> retryAfter;
    const char* property;
  };
  const std::vector<Step> steps = {
      {100s, BreakerVerdict::kFailFast, BreakerState::kOpen, 30s, "right after the trip: full open_for"},
      {130s - 1ns, BreakerVerdict::kFailFast, BreakerState::kOpen, 1ns, "1 ns before open_for elapses"},
      {130s, BreakerVerdict::kAdmit, BreakerState::kHalfOpen, std::nullopt, "at open_for: a probe"},
      {130s + 1ns, BreakerVerdict::kAdmit, BreakerState::kHalfOpen, std::nullopt, "just after: a second probe"},
  };
  for (const Step& s : steps) {
    EXPECT_EQ(h.breaker.stateAt(at(s.t)), s.state) << s.property << " (stateAt)";
    const Admission a = h.breaker.tryAcquire(at(s.t));
    EXPECT_EQ(a.verdict, s.verdict) << s.property;
    EXPECT_EQ(a.state, s.state) << s.property;
    EXPECT_EQ(a.retryAfter, s.retryAfter) << s.property;
    if (!a.admitted()) {
      ASSERT_NE(a.fallback, nullptr);
      EXPECT_EQ(a.fallback->status, 503) << "fail fast answers the configured fallback";
    } else {
      EXPECT_EQ(a.permit.kind, PermitKind::kProbe);
    }
  }
}

TEST(Breaker, LazyTransitionCarriesTheExactTime) {
  // Nobody calls between 30s and 45s: the half-open event is stamped 30s, not 45s.
  Harness h(consecutiveConfig(1));
  h.call(0s, fail());
  (void)h.breaker.tryAcquire(at(45s));
  const auto changes = h.changes();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[1].from, BreakerState::kOpen);
  EXPECT_EQ(changes[1].to, BreakerState::kHalfOpen);
  EXPECT_EQ(changes[1].at, at(30s));
  EXPECT_EQ(changes[1].reason, "open for 30s elapsed");
}

TEST(Breaker, AdvanceEmitsOnTimeWithoutACall) {
  Harness h(consecutiveConfig(1));
  h.call(0s, fail());
  h.breaker.advance(at(30s) - 1ns);
  EXPECT_EQ(h.changes().size(), 1u) << "nothing due 1 ns early";
  h.breaker.advance(at(30s));
  EXPECT_EQ(h.changes().size(), 2u);
  EXPECT_EQ(h.breaker.state(), BreakerState::kHalfOpen);
  EXPECT_EQ(h.breaker.nextTransitionAt(), std::nullopt) << "no deadline while no probe is out";
}

// --- half-open -------------------------------------------------------------------------------

TEST(Breaker, HalfOpenAdmitsExactlyKProbes) {
  for (std::uint32_t k : {1u, 3u, 10u}) {
    BreakerConfig c = consecutiveConfig(1);
    c.halfOpenProbes = k;
    c.halfOpenSuccesses = k;
    Harness h(c);
    h.call(0s, fail());
    std::vector<Permit> permits;
    for (int i = 0; i < 100; ++i) {  // 100 concurrent callers at the same instant and later
      const Admission a = h.breaker.tryAcquire(at(30s + Duration{i}));
      if (a.admitted()) permits.push_back(a.permit);
    }
    EXPECT_EQ(permits.size(), k) << "never more than K=" << k << " probes";
    EXPECT_EQ(h.breaker.blockedUntil(), TimePoint::max()) << "all probe slots taken";
    h.breaker.release(permits.back());
    EXPECT_TRUE(h.breaker.tryAcquire(at(31s)).admitted()) << "a released probe slot is handed out again";
    EXPECT_FALSE(h.breaker.tryAcquire(at(31s)).admitted()) << "and only one";
  }
}

TEST(Breaker, HalfOpenClosesAfterMSuccesses) {
  BreakerConfig c = consecutiveConfig(1);
  c.halfOpenProbes = 3;
  c.halfOpenSuccesses = 2;
  Harness h(c);
  h.call(0s, fail());
  const Admission p1 = h.breaker.tryAcquire(at(30s));
  const Admission p2 = h.breaker.tryAcquire(at(30s));
  const Admission p3 = h.breaker.tryAcquire(at(30s));
  ASSERT_TRUE(p1.admitted() && p2.admitted() && p3.admitted());
  h.breaker.onResult(p1.permit, ok(), at(31s));
  EXPECT_EQ(h.breaker.state(), BreakerState::kHalfOpen) << "1 of 2 successes";
  h.breaker.onResult(p2.permit, ok(), at(32s));
  EXPECT_EQ(h.breaker.state(), BreakerState::kClosed) << "M=2 successes close";
  EXPECT_EQ(h.changes().back().reason, "2 of 2 required probe calls succeeded");
  h.breaker.onResult(p3.permit, fail(), at(33s));
  EXPECT_EQ(h.breaker.state(), BreakerState::kClosed) << "a late probe of the closed period is ignored";
  EXPECT_EQ(h.breaker.stats().ignoredResults, 1u);
}

TEST(Breaker, AnyProbeFailureReopens) {
  Harness h(consecutiveConfig(1));
  h.call(0s, fail());
  const Admission p1 = h.breaker.tryAcquire(at(30s));
  const Admission p2 = h.breaker.tryAcquire(at(30s));
  h.breaker.onResult(p1.permit, ok(), at(31s));
  h.breaker.onResult(p2.permit, CallOutcome::connectFailure(), at(32s));
  EXPECT_EQ(h.breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(h.changes().back().reason, "probe call failed: connect failure");
  EXPECT_EQ(h.breaker.nextTransitionAt(), at(62s)) << "open again for open_for from the failure";
}

TEST(Breaker, SlowProbeReopensWhenSlowCallsAreTracked) {
  BreakerConfig c = consecutiveConfig(1);
  c.slowCallRate = Percent::of(100);
  c.slowCallDuration = 2s;
  Harness h(c);
  h.call(0s, fail());
  const Admission p = h.breaker.tryAcquire(at(30s));
  h.breaker.onResult(p.permit, ok(2500ms), at(32500ms));
  EXPECT_EQ(h.breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(h.changes().back().reason, "probe call slow: 2s500ms > 2s");
}

TEST(Breaker, OpenDurationGrowsOnRepeatedTripsAndResetsAfterClose) {
  // APISIX-style doubling: 2s, 4s, 8s, capped at 10s; a successful close resets it.
  BreakerConfig c = consecutiveConfig(1);
  c.openFor = 2s;
  c.openForMultiplier = 2;
  c.maxOpenFor = 10s;
  c.halfOpenProbes = 1;
  c.halfOpenSuccesses = 1;
  Harness h(c);
  TimePoint t = at(0s);
  h.breaker.onResult(h.breaker.tryAcquire(t).permit, fail(), t);
  const std::vector<Duration> expected = {2s, 4s, 8s, 10s, 10s};
  for (std::size_t trip = 0; trip < expected.size(); ++trip) {
    ASSERT_EQ(h.breaker.state(), BreakerState::kOpen);
    EXPECT_EQ(h.changes().back().openFor, expected[trip]) << "trip " << trip + 1;
    EXPECT_EQ(h.changes().back().counters.trips, trip + 1);
    const TimePoint until = *h.breaker.nextTransitionAt();
    EXPECT_EQ(until - t, expected[trip]);
    EXPECT_FALSE(h.breaker.tryAcquire(until - 1ns).admitted()) << "1 ns early";
    t = until;
    const Admission probe = h.breaker.tryAcquire(t);
    ASSERT_TRUE(probe.admitted());
    h.breaker.onResult(probe.permit, fail(), t);  // reopen
  }
  // Now close, trip again: back to the base 2s.
  t = *h.breaker.nextTransitionAt();
  h.breaker.onResult(h.breaker.tryAcquire(t).permit, ok(), t);
  ASSERT_EQ(h.breaker.state(), BreakerState::kClosed);
  h.breaker.onResult(h.breaker.tryAcquire(t).permit, fail(), t);
  EXPECT_EQ(h.changes().back().openFor, 2s) << "trip count reset by the successful close";
}

TEST(Breaker, HalfOpenMaxWaitReopensWhenProbesHang) {
  BreakerConfig c = consecutiveConfig(1);
  c.halfOpenMaxWait = 5s;
  Harness h(c);
  h.call(0s, fail());
  const Admission p = h.breaker.tryAcquire(at(40s));  // half-open since 30s, first probe at 40s
  ASSERT_TRUE(p.admitted());
  EXPECT_EQ(h.breaker.nextTransitionAt(), at(45s));
  EXPECT_EQ(h.breaker.stateAt(at(45s) - 1ns), BreakerState::kHalfOpen) << "1 ns before the deadline";
  EXPECT_EQ(h.breaker.stateAt(at(45s)), BreakerState::kOpen) << "at the deadline";
  h.breaker.advance(at(45s));
  EXPECT_EQ(h.breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(h.changes().back().at, at(45s));
  EXPECT_EQ(h.changes().back().reason, "1 probe call(s) without an outcome 5s after the first (half_open_max_wait)");
  h.breaker.onResult(p.permit, ok(), at(46s));
  EXPECT_EQ(h.breaker.state(), BreakerState::kOpen) << "the hung probe's late result is ignored";
  EXPECT_EQ(h.breaker.stateAt(at(75s)), BreakerState::kHalfOpen) << "open_for after the deadline";
}

TEST(Breaker, StalePermitsAreIgnored) {
  Harness h(consecutiveConfig(2));
  const Admission slow = h.breaker.tryAcquire(at(0s));  // in flight while the breaker trips
  h.call(1s, fail());
  h.call(1s, fail());
  ASSERT_EQ(h.breaker.state(), BreakerState::kOpen);
  h.breaker.onResult(slow.permit, ok(), at(2s));
  EXPECT_EQ(h.breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(h.breaker.stats().ignoredResults, 1u);
}

// --- operator states and dry run -------------------------------------------------------------

TEST(Breaker, ForcedOpenDisabledAndReset) {
  Harness h(consecutiveConfig(1));
  h.breaker.forceOpen(at(1s), "maintenance");
  Admission a = h.breaker.tryAcquire(at(1000s));
  EXPECT_FALSE(a.admitted()) << "forced open never half-opens by itself";
  EXPECT_EQ(a.retryAfter, std::nullopt) << "no retry-after while forced open";
  EXPECT_EQ(h.breaker.blockedUntil(), TimePoint::max());
  EXPECT_EQ(h.changes().back().reason, "forced open by operator: maintenance");

  h.breaker.disable(at(2000s));
  for (int i = 0; i < 10; ++i) {
    a = h.call(2000s, fail());
    EXPECT_TRUE(a.admitted());
    EXPECT_EQ(a.permit.kind, PermitKind::kUntracked);
  }
  EXPECT_EQ(h.breaker.state(), BreakerState::kDisabled) << "disabled records nothing";

  h.breaker.reset(at(3000s));
  EXPECT_EQ(h.breaker.state(), BreakerState::kClosed);
  h.call(3000s, fail());
  EXPECT_EQ(h.breaker.state(), BreakerState::kOpen) << "a reset breaker works normally";
  const auto changes = h.changes();
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[1].to, BreakerState::kDisabled);
  EXPECT_EQ(changes[2].reason, "reset by operator");
}

TEST(Breaker, DryRunReportsTransitionsButAdmitsEveryCall) {
  BreakerConfig c = consecutiveConfig(2);
  c.dryRun = true;
  c.halfOpenProbes = 1;
  c.halfOpenSuccesses = 1;
  Harness h(c);
  h.call(0s, fail());
  h.call(0s, fail());
  EXPECT_EQ(h.breaker.state(), BreakerState::kOpen) << "the state machine runs";
  ASSERT_EQ(h.changes().size(), 1u);
  EXPECT_TRUE(h.changes()[0].dryRun);

  Admission a = h.breaker.tryAcquire(at(10s));
  EXPECT_TRUE(a.admitted()) << "but the call goes through";
  EXPECT_TRUE(a.dryRunWouldReject);
  EXPECT_EQ(a.retryAfter, 20s) << "and says when a live breaker would have half-opened";
  h.breaker.onResult(a.permit, ok(), at(10s));
  EXPECT_EQ(h.breaker.state(), BreakerState::kOpen) << "a would-be-rejected call does not count";

  const Admission probe = h.breaker.tryAcquire(at(30s));
  const Admission extra = h.breaker.tryAcquire(at(30s));
  EXPECT_EQ(probe.permit.kind, PermitKind::kProbe);
  EXPECT_TRUE(extra.admitted() && extra.dryRunWouldReject) << "beyond K: admitted, flagged";
  h.breaker.onResult(probe.permit, ok(), at(31s));
  EXPECT_EQ(h.breaker.state(), BreakerState::kClosed);
  EXPECT_EQ(h.breaker.stats().failedFast, 0u);
  EXPECT_EQ(h.breaker.stats().dryRunWouldReject, 2u);
  EXPECT_EQ(h.breaker.blockedUntil(), TimePoint::min()) << "a dry run never blocks load balancing";
}

// --- events ----------------------------------------------------------------------------------

TEST(Breaker, EventsCarryTheNumbersThatFired) {
  // 15 successes then 25 failures over a 40-call window with minimum 40: 62.5% at the 40th call.
  BreakerConfig c = rateConfig(50, 40, 40);
  Harness h(c);
  for (int i = 0; i < 15; ++i) h.call(1s, ok());
  for (int i = 0; i < 25; ++i) h.call(2s, fail());
  const auto changes = h.changes();
  ASSERT_EQ(changes.size(), 1u);
  const BreakerStateChanged& e = changes[0];
  EXPECT_EQ(e.at, at(2s));
  EXPECT_EQ(e.subject, kSubject);
  EXPECT_EQ(e.from, BreakerState::kClosed);
  EXPECT_EQ(e.to, BreakerState::kOpen);
  EXPECT_EQ(e.reason, "failure rate 62.5% (25/40) >= 50% over the last 40 calls");
  EXPECT_EQ(e.counters.windowCalls, 40u);
  EXPECT_EQ(e.counters.windowFailures, 25u);
  EXPECT_EQ(e.counters.trips, 1u);
  EXPECT_EQ(e.openFor, 30s);
  EXPECT_FALSE(e.dryRun);
  EXPECT_EQ(eventTime(Event{e}), at(2s));
}

TEST(Breaker, StatsCountEveryDecision) {
  Harness h(consecutiveConfig(1));
  h.call(0s, ok());
  h.call(0s, fail());
  h.call(1s, ok());  // fails fast
  const BreakerStats& s = h.breaker.stats();
  EXPECT_EQ(s.admitted, 2u);
  EXPECT_EQ(s.failedFast, 1u);
  EXPECT_EQ(s.successes, 1u);
  EXPECT_EQ(s.failures, 1u);
  EXPECT_EQ(s.trips, 1u);
  EXPECT_EQ(s.transitions, 1u);
}

}  // namespace
}  // namespace gatelab::core::resilience
