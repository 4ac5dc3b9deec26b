// The event vocabulary and the small value types every policy shares: sinks, percentages and
// their display, outcome classification, Retry-After parsing.

#include <gtest/gtest.h>

#include <variant>
#include <vector>

#include "gateway/core/events.hpp"
#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/resilience/percent.hpp"
#include "tests/gateway/core/resilience/test_support.hpp"

namespace gatelab::core::resilience {
namespace {

using namespace testing;

TEST(Events, VectorSinkKeepsArrivalOrderAndFiltersByType) {
  VectorEventSink sink;
  EventSink& s = sink;
  BreakerStateChanged b;
  b.at = at(2s);
  OutlierEjected e;
  e.at = at(1s);
  s.onEvent(Event{b});
  s.onEvent(Event{e});
  ASSERT_EQ(sink.size(), 2u);
  EXPECT_EQ(eventTime(sink.events()[0]), at(2s)) << "arrival order, not time order";
  EXPECT_EQ(sink.all<OutlierEjected>().size(), 1u);
  EXPECT_EQ(sink.all<OutlierReturned>().size(), 0u);
  sink.clear();
  EXPECT_EQ(sink.size(), 0u);
  NullEventSink null;
  null.onEvent(Event{b});  // accepted and dropped
}

TEST(Percent, ExactComparisons) {
  struct Case {
    Percent p;
    std::uint64_t num;
    std::uint64_t den;
    bool reached;
    const char* property;
  };
  const std::vector<Case> cases = {
      {Percent::of(50), 5, 10, true, "50% of 10 is 5"},
      {Percent::of(50), 4, 10, false, "40% < 50%"},
      {Percent{12'500}, 1, 8, true, "12.5% exactly"},
      {Percent{12'501}, 1, 8, false, "12.501% just above 1/8"},
      {Percent::of(50), 0, 0, false, "no calls never reach a threshold"},
      {Percent::of(100), 3, 3, true, "100%"},
  };
  for (const Case& k : cases) EXPECT_EQ(k.p.reachedBy(k.num, k.den), k.reached) << k.property;
  EXPECT_EQ(Percent::of(20).floorOf(17), 3u);
  EXPECT_EQ(Percent::of(20).floorOf(20), 4u);
}

TEST(Percent, Formatting) {
  EXPECT_EQ(formatPercent(Percent::of(50)), "50%");
  EXPECT_EQ(formatPercent(Percent{12'500}), "12.5%");
  EXPECT_EQ(formatPercent(Percent{125}), "0.125%");
  EXPECT_EQ(formatRatio(25, 40), "62.5%");
  EXPECT_EQ(formatRatio(2, 3), "66.6%") << "rounded down, never shown above the true rate";
  EXPECT_EQ(formatRatio(499, 1000), "49.9%");
  EXPECT_EQ(formatRatio(1, 1), "100%");
  EXPECT_EQ(percentFromDouble(12.5), Percent{12'500});
  EXPECT_EQ(percentFromDouble(150.0), Percent::of(100));
  EXPECT_EQ(percentFromDouble(-1.0), Percent{0});
}

TEST(Outcome, ClassificationTables) {
  struct Case {
    CallOutcome o;
    bool serverError;
    bool gatewayError;
    bool defaultFailure;
  };
  const std::vector<Case> cases = {
      {status(200), false, false, false}, {status(404), false, false, false}, {status(429), false, false, false},
      {status(500), true, false, true},   {status(502), true, true, true},    {status(503), true, true, true},
      {status(504), true, true, true},    {status(599), true, false, true},
      {CallOutcome::connectFailure(), true, true, true},
      {CallOutcome::timeout(), true, true, true},
      {CallOutcome::reset(), true, true, true},
  };
  const FailureClassifier classifier;
  for (const Case& k : cases) {
    EXPECT_EQ(k.o.isServerError(), k.serverError) << describe(k.o);
    EXPECT_EQ(k.o.isGatewayError(), k.gatewayError) << describe(k.o);
    EXPECT_EQ(classifier.isFailure(k.o), k.defaultFailure) << describe(k.o);
  }
  FailureClassifier only429;
  only429.serverErrors = false;
  only429.connectFailure = false;
  only429.statuses = StatusSet{429};
  EXPECT_TRUE(only429.isFailure(status(429)));
  EXPECT_FALSE(only429.isFailure(status(503)));
  EXPECT_FALSE(only429.isFailure(CallOutcome::connectFailure()));
}

TEST(Outcome, StatusSet) {
  StatusSet s{429, 503, 42, 600};
  EXPECT_EQ(s.size(), 2u) << "codes outside 100..599 are ignored";
  EXPECT_TRUE(s.contains(429));
  EXPECT_FALSE(s.contains(42));
  s.addRange(500, 599);
  EXPECT_EQ(s.size(), 101u);
}

TEST(Outcome, RetryAfterSeconds) {
  struct Case {
    const char* text;
    std::optional<Duration> expect;
  };
  const std::vector<Case> cases = {
      {"120", 120s},       {"0", 0s},          {"", std::nullopt},           {"-1", std::nullopt},
      {" 5", std::nullopt}, {"1.5", std::nullopt}, {"Wed, 21 Oct 2015 07:28:00 GMT", std::nullopt},
      {"99999999999999999999999", 24h},
  };
  for (const Case& k : cases) EXPECT_EQ(parseRetryAfterSeconds(k.text), k.expect) << "'" << k.text << "'";
}

TEST(Outcome, Describe) {
  EXPECT_EQ(describe(status(503)), "HTTP 503");
  EXPECT_EQ(describe(CallOutcome::connectFailure()), "connect failure");
  EXPECT_STREQ(toString(BreakerState::kHalfOpen), "half-open");
}

}  // namespace
}  // namespace gatelab::core::resilience
