// The expectation grammar: every operator, every metric unit's threshold forms, labels, windows,
// and each mistake with the offset it points at.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"

namespace gatelab::sim::scenario {
namespace {

using namespace std::chrono_literals;

struct Good {
  std::string_view text;
  Metric metric;
  Comparison op;
  double threshold;  // canonical unit
};

// Each operator and each unit's accepted threshold forms give the canonical value.
TEST(Expectation, ParsesEveryUnitAndOperator) {
  const std::vector<Good> cases{
      {"p99_latency < 300ms", Metric::kP99Latency, Comparison::kLess, 0.3},
      {"p50_latency<=1.5s", Metric::kP50Latency, Comparison::kLessEqual, 1.5},
      {"max_latency > 250us", Metric::kMaxLatency, Comparison::kGreater, 250e-6},
      {"mean_latency >= 1m", Metric::kMeanLatency, Comparison::kGreaterEqual, 60.0},
      {"error_rate == 0%", Metric::kErrorRate, Comparison::kEqual, 0.0},
      {"error_rate < 1%", Metric::kErrorRate, Comparison::kLess, 0.01},
      {"false_block_share < 0.1%", Metric::kFalseBlockShare, Comparison::kLess, 0.001},
      {"rejected_share < 0.05", Metric::kRejectedShare, Comparison::kLess, 0.05},
      {"throughput > 100/s", Metric::kThroughput, Comparison::kGreater, 100.0},
      {"throughput > 600/min", Metric::kThroughput, Comparison::kGreater, 10.0},
      {"throughput >= 12.5", Metric::kThroughput, Comparison::kGreaterEqual, 12.5},
      {"requests > 1000", Metric::kRequests, Comparison::kGreater, 1000.0},
      {"false_blocks == 0", Metric::kFalseBlocks, Comparison::kEqual, 0.0},
      {"worst_overshoot <= 1.25x", Metric::kWorstOvershoot, Comparison::kLessEqual, 1.25},
      {"worst_overshoot < 2", Metric::kWorstOvershoot, Comparison::kLess, 2.0},
  };
  for (const Good& c : cases) {
    ExpectationError why;
    auto e = parseExpectation(c.text, &why);
    ASSERT_TRUE(e.has_value()) << c.text << ": " << why.message;
    EXPECT_EQ(e->ref.metric, c.metric) << c.text;
    EXPECT_EQ(e->op, c.op) << c.text;
    EXPECT_NEAR(e->threshold, c.threshold, 1e-12) << c.text;
    EXPECT_EQ(e->text, c.text);
    EXPECT_FALSE(e->ref.window.has_value());
  }
}

// Every metric of the catalogue parses with a threshold in its unit.
TEST(Expectation, EveryCatalogueMetric) {
  for (const MetricInfo& m : metricCatalogue()) {
    std::string threshold;
    switch (m.unit) {
      case MetricUnit::kSeconds: threshold = "1s"; break;
      case MetricUnit::kShare: threshold = "1%"; break;
      case MetricUnit::kPerSecond: threshold = "5/s"; break;
      case MetricUnit::kCount: threshold = "3"; break;
      case MetricUnit::kRatio: threshold = "1.5x"; break;
    }
    const std::string text = std::string(m.name) + " < " + threshold;
    auto e = parseExpectation(text);
    ASSERT_TRUE(e.has_value()) << text;
    EXPECT_EQ(e->ref.metric, m.metric);
  }
}

// Labels and windows: as written, and printed back in the canonical form.
TEST(Expectation, LabelsAndWindow) {
  auto e = parseExpectation("false_block_share{route=api, policy=per-client}[2m, 3m) < 0.1%");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->ref.route, "api");
  EXPECT_EQ(e->ref.policy, "per-client");
  EXPECT_EQ(e->ref.service, "");
  EXPECT_EQ(e->ref.window, (std::optional<MetricWindow>(MetricWindow{2min, 3min})));
  EXPECT_EQ(e->describe(), "false_block_share{route=api,policy=per-client}[2m,3m) < 0.1%");
  auto closed = parseExpectation("requests[0s,90s] > 1");
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->ref.window, (std::optional<MetricWindow>(MetricWindow{0s, 90s})));
  auto svc = parseExpectation("breaker_opens{service=orders-v2} == 0");
  ASSERT_TRUE(svc.has_value());
  EXPECT_EQ(svc->ref.service, "orders-v2");
}

// compare() for each operator, NaN never holds.
TEST(Expectation, Compare) {
  EXPECT_TRUE(compare(1, Comparison::kLess, 2));
  EXPECT_FALSE(compare(2, Comparison::kLess, 2));
  EXPECT_TRUE(compare(2, Comparison::kLessEqual, 2));
  EXPECT_TRUE(compare(3, Comparison::kGreater, 2));
  EXPECT_TRUE(compare(2, Comparison::kGreaterEqual, 2));
  EXPECT_TRUE(compare(2, Comparison::kEqual, 2));
  EXPECT_FALSE(compare(std::nan(""), Comparison::kGreaterEqual, 0));
  EXPECT_FALSE(compare(std::nan(""), Comparison::kLess, 1));
}

struct Bad {
  std::string_view text;
  std::size_t offset;
  std::string_view message;
  std::string_view allowed;  // empty: not checked
};

// Each mistake: the message, what is allowed and the byte it points at.
TEST(Expectation, Errors) {
  const std::vector<Bad> cases{
      {"p99_latncy < 5ms", 0, "unknown metric \"p99_latncy\" (did you mean 'p99_latency'?)", ""},
      {"p99_latency < 5%", 14, "p99_latency is a latency: \"5%\" is not a duration", ""},
      {"p99_latency < 300", 14, "p99_latency is a latency: the threshold \"300\" needs a unit such as ms or s", ""},
      {"error_rate < 5ms", 13, "error_rate is a share: \"5ms\" is neither a percentage nor a fraction from 0 to 1",
       "a percentage (1%, 0.1%) or a fraction from 0 to 1 for error_rate"},
      {"error_rate < 150%", 13, "invalid percentage \"150%\"", ""},
      {"requests > 5ms", 11, "requests is a count: \"5ms\" is not a number >= 0", "a number for requests (a count, no unit)"},
      {"throughput > fast", 13, "throughput is a rate: \"fast\" is not a rate", ""},
      {"worst_overshoot < 1.2y", 18, "worst_overshoot is a ratio: \"1.2y\" is not a number >= 0", ""},
      {"p99_latency = 5ms", 12, "expected a comparison, got \"= 5ms\"", "<, <=, >, >=, =="},
      {"p99_latency", 11, "missing comparison after \"p99_latency\"", "<, <=, >, >=, =="},
      {"p99_latency <", 13, "missing threshold after <", ""},
      {"p99_latency{rout=api} < 1s", 12, "unknown label \"rout\" (did you mean 'route'?)", ""},
      {"breaker_opens{route=api} == 0", 14, "breaker_opens cannot be narrowed by route", "service"},
      {"p99_latency{route=a,route=b} < 1s", 20, "label route given twice", ""},
      {"p99_latency{route=api < 1s", 22, "expected ',' or '}', got \"<\"", ""},
      {"p99_latency[3m,2m) < 1s", 11, "the window is empty: from 3m is not before to 2m", ""},
      {"p99_latency[1m 2m) < 1s", 15, "expected ',' between the window bounds", ""},
      {"p99_latency[1x,2m) < 1s", 12, "invalid window bound \"1x\": invalid duration \"1x\": unknown unit \"x\"", ""},
      {"", 0, "empty expectation", ""},
  };
  for (const Bad& c : cases) {
    ExpectationError why;
    EXPECT_FALSE(parseExpectation(c.text, &why).has_value()) << c.text;
    EXPECT_EQ(why.message, c.message) << c.text;
    EXPECT_EQ(why.offset, c.offset) << c.text;
    if (!c.allowed.empty()) {
      EXPECT_EQ(why.allowed, c.allowed) << c.text;
    }
  }
}

}  // namespace
}  // namespace gatelab::sim::scenario
