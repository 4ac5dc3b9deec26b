// Outlier detection: consecutive-5xx and gateway-failure runs, ejection time = base x
// multiplier (capped, decaying), exact automatic return, the maximum ejected share and the events
// that explain each action.

#include <gtest/gtest.h>

#include <vector>

#include "gateway/core/resilience/outlier_detection.hpp"
#include "tests/gateway/core/resilience/test_support.hpp"

namespace gatelab::core::resilience {
namespace {

using namespace testing;

struct Harness {
  explicit Harness(std::size_t n, OutlierConfig c = OutlierConfig{}) : set("users", targets(n)), detector(c, set, sink) {}
  OutlierAction fails(std::size_t target, Duration t, int count, const CallOutcome& o = fail()) {
    OutlierAction last = OutlierAction::kNone;
    for (int i = 0; i < count; ++i) last = detector.onResult(target, o, at(t));
    return last;
  }
  VectorEventSink sink;
  TargetSet set;
  OutlierDetector detector;
};

TEST(Outlier, FiveConsecutive5xxEject) {
  Harness h(10, OutlierConfig{});
  EXPECT_EQ(h.fails(0, 0s, 4), OutlierAction::kNone);
  h.detector.onResult(0, ok(), at(0s));
  EXPECT_EQ(h.fails(0, 0s, 4), OutlierAction::kNone) << "a success resets the run";
  EXPECT_EQ(h.detector.consecutive5xx(0), 4u);
  EXPECT_EQ(h.fails(0, 1s, 1), OutlierAction::kEjected) << "the 5th consecutive 5xx";
  EXPECT_TRUE(h.detector.ejected(0, at(1s)));
  EXPECT_FALSE(h.set.available(0, at(1s)));
  const auto ev = h.sink.all<OutlierEjected>();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].reason, "5 consecutive 5xx >= 5");
  EXPECT_EQ(ev[0].subject, (EventSubject{"users", "http://10.0.0.0:8080"}));
  EXPECT_EQ(ev[0].cause, EjectionCause::kConsecutive5xx);
  EXPECT_EQ(ev[0].ejectedFor, 30s);
  EXPECT_EQ(ev[0].multiplier, 1u);
  EXPECT_EQ(ev[0].ejectedTargets, 1u);
  EXPECT_EQ(ev[0].totalTargets, 10u);
}

TEST(Outlier, WhatCountsAs5xxAndAsGatewayFailure) {
  // Local-origin errors count for both runs; a 500 counts as 5xx but breaks a gateway run.
  OutlierConfig c;
  c.consecutive5xx = 0;
  c.consecutiveGatewayFailure = 3;
  struct Case {
    std::vector<CallOutcome> outcomes;
    OutlierAction expect;
    const char* property;
  };
  const std::vector<Case> cases = {
      {{status(502), status(503), status(504)}, OutlierAction::kEjected, "502/503/504"},
      {{CallOutcome::connectFailure(), CallOutcome::timeout(), CallOutcome::reset()}, OutlierAction::kEjected,
       "local-origin errors"},
      {{status(503), status(500), status(503)}, OutlierAction::kNone, "500 is not a gateway failure"},
      {{status(503), status(503), status(429), status(503)}, OutlierAction::kNone, "429 resets the run"},
  };
  for (const Case& k : cases) {
    Harness h(10, c);
    OutlierAction last = OutlierAction::kNone;
    for (const CallOutcome& o : k.outcomes) last = h.detector.onResult(3, o, at(0s));
    EXPECT_EQ(last, k.expect) << k.property;
  }
  Harness h(10, c);
  h.fails(1, 0s, 3, status(503));
  EXPECT_EQ(h.sink.all<OutlierEjected>().at(0).reason, "3 consecutive gateway failures >= 3");
  EXPECT_EQ(h.sink.all<OutlierEjected>().at(0).cause, EjectionCause::kConsecutiveGatewayFailure);
}

TEST(Outlier, ReturnIsExactAndLazy) {
  Harness h(10);
  h.fails(2, 100s, 5);
  EXPECT_EQ(h.detector.nextReturnAt(), at(130s));
  struct Probe {
    Duration t;
    bool available;
    const char* property;
  };
  for (const Probe& p : std::vector<Probe>{{130s - 1ns, false, "1 ns before the ejection ends"},
                                           {130s, true, "at the end"},
                                           {130s + 1ns, true, "after"}}) {
    EXPECT_EQ(h.set.available(2, at(p.t)), p.available) << p.property;
  }
  EXPECT_TRUE(h.sink.all<OutlierReturned>().empty()) << "no event until something observes it";
  h.detector.onResult(5, ok(), at(200s));  // any call notices the return
  const auto ret = h.sink.all<OutlierReturned>();
  ASSERT_EQ(ret.size(), 1u);
  EXPECT_EQ(ret[0].at, at(130s)) << "stamped with the exact end";
  EXPECT_EQ(ret[0].subject.target, "http://10.0.0.2:8080");
  EXPECT_EQ(h.detector.nextReturnAt(), std::nullopt);
}

TEST(Outlier, ReturnsAreReportedInTimeOrder) {
  OutlierConfig c;
  c.maxEjectionPercent = Percent::of(100);
  Harness h(4, c);
  h.fails(3, 0s, 5);   // returns at 30s
  h.fails(1, 10s, 5);  // returns at 40s
  h.fails(0, 5s, 5);   // returns at 35s
  h.detector.advance(at(1h));
  const auto ret = h.sink.all<OutlierReturned>();
  ASSERT_EQ(ret.size(), 3u);
  EXPECT_EQ(ret[0].at, at(30s));
  EXPECT_EQ(ret[1].at, at(35s));
  EXPECT_EQ(ret[2].at, at(40s));
}

TEST(Outlier, EjectionTimeGrowsWithTheMultiplierAndIsCapped) {
  // base 30s, max 100s: 30s, 60s, 90s, 100s, 100s when re-ejected right after each return.
  OutlierConfig c;
  c.maxEjectionTime = 100s;
  c.interval = 0s;  // no decay in this test
  Harness h(10, c);
  TimePoint t = at(0s);
  for (Duration expect : std::vector<Duration>{30s, 60s, 90s, 100s, 100s}) {
    h.fails(0, t.time_since_epoch(), 5);
    const OutlierEjected e = h.sink.all<OutlierEjected>().back();
    EXPECT_EQ(e.ejectedFor, expect) << "multiplier " << e.multiplier;
    t = at(0s) + (*h.detector.nextReturnAt()).time_since_epoch();
  }
  EXPECT_EQ(h.detector.multiplier(0), 5u) << "Envoy stops growing once base x m >= max + base (150s >= 130s)";
}

TEST(Outlier, MultiplierDecaysWhileTheTargetStaysHealthy) {
  // interval 10s: after returning at 30s, every full 10s in service takes one off the multiplier.
  struct Case {
    Duration secondEjection;
    Duration expect;
    const char* property;
  };
  const std::vector<Case> cases = {
      {30s, 60s, "re-ejected at once: multiplier 2"},
      {40s - 1ns, 60s, "1 ns short of an interval: no decay"},
      {40s, 30s, "one interval: back to multiplier 1"},
      {100s, 30s, "long healthy period: floor at 1"},
  };
  for (const Case& k : cases) {
    Harness h(10);
    h.fails(0, 0s, 5);
    h.fails(0, k.secondEjection, 5);
    EXPECT_EQ(h.sink.all<OutlierEjected>().back().ejectedFor, k.expect) << k.property;
  }
}

TEST(Outlier, MaxEjectionPercentIsRespected) {
  struct Case {
    std::size_t targets;
    std::uint32_t percent;
    bool alwaysOne;
    std::size_t maxEjected;
    const char* property;
  };
  const std::vector<Case> cases = {
      {10, 20, true, 2, "20% of 10: two, the third stays"},
      {10, 10, true, 1, "10% of 10: one"},
      {3, 10, true, 1, "10% of 3 rounds to none, always_eject_one allows one"},
      {3, 10, false, 0, "without always_eject_one: none"},
      {4, 50, true, 2, "50% of 4: two"},
      {5, 100, true, 5, "100%: all"},
  };
  for (const Case& k : cases) {
    OutlierConfig c;
    c.maxEjectionPercent = Percent::of(k.percent);
    c.alwaysEjectOne = k.alwaysOne;
    Harness h(k.targets, c);
    for (std::size_t i = 0; i < k.targets; ++i) h.fails(i, 0s, 5);
    EXPECT_EQ(h.set.ejectedCount(at(0s)), k.maxEjected) << k.property;
    EXPECT_EQ(h.sink.all<OutlierEjected>().size(), k.maxEjected) << k.property;
    EXPECT_EQ(h.sink.all<OutlierEjectionSkipped>().size(), k.targets - k.maxEjected) << k.property;
    EXPECT_EQ(h.detector.stats().skipped, k.targets - k.maxEjected) << k.property;
  }
}

TEST(Outlier, SkippedEventSaysWhy) {
  Harness h(10);  // 10%
  h.fails(0, 0s, 5);
  EXPECT_EQ(h.fails(1, 0s, 5), OutlierAction::kSkipped);
  const auto skipped = h.sink.all<OutlierEjectionSkipped>();
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].reason, "5 consecutive 5xx >= 5, but 1 of 10 targets already ejected (max 10%)");
  EXPECT_EQ(skipped[0].ejectedTargets, 1u);
  EXPECT_EQ(skipped[0].maxEjectionPercent, Percent::of(10));
  EXPECT_EQ(h.detector.consecutive5xx(1), 0u) << "the run that fired is reset even when skipped (Envoy)";
  EXPECT_EQ(h.fails(1, 0s, 4), OutlierAction::kNone) << "so skips are not reported on every failure";
  EXPECT_EQ(h.fails(1, 31s, 1), OutlierAction::kEjected) << "once target 0 returned there is room";
}

TEST(Outlier, ResultsWhileEjectedAreIgnoredAndRunsRestartOnReturn) {
  Harness h(10);
  h.fails(0, 0s, 5);
  h.fails(0, 1s, 20);  // panic-mode traffic to an ejected target
  EXPECT_EQ(h.detector.stats().ignoredWhileEjected, 20u);
  EXPECT_EQ(h.fails(0, 30s, 4), OutlierAction::kNone) << "after the return the run starts from zero";
  EXPECT_EQ(h.fails(0, 30s, 1), OutlierAction::kEjected);
}

TEST(Outlier, Validation) {
  EXPECT_EQ(validateOutlierConfig(OutlierConfig{}), std::nullopt);
  OutlierConfig c;
  c.consecutive5xx = 0;
  EXPECT_TRUE(validateOutlierConfig(c).has_value());
  c = OutlierConfig{};
  c.maxEjectionTime = 10s;
  ASSERT_TRUE(validateOutlierConfig(c).has_value());
  EXPECT_NE(validateOutlierConfig(c)->find("max_ejection_time"), std::string::npos);
}

}  // namespace
}  // namespace gatelab::core::resilience
