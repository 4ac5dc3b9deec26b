#pragma once
// MetricRef: names one figure of a simulation run, optionally narrowed to a route, service or
// rate-limit policy and to a time window. Scenario expectations (`p99_latency < 300ms`), the
// compare table and report queries all name figures this way, so one catalogue (metric_ref.cpp)
// says what exists, what unit it has and which labels it accepts.
//
// Canonical units of a figure's value (MetricValue::value):
//   kCount     a plain number (requests, retries, breaker opens...)
//   kPerSecond a rate, per second of simulated time
//   kSeconds   a duration in seconds (latencies)
//   kShare     a fraction in [0, 1] (error_rate 0.01 is 1%)
//   kRatio     a dimensionless factor (worst_overshoot 1.25: 25% above the nominal limit)

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "gateway/core/time.hpp"

namespace gatelab::sim {

enum class Metric : std::uint8_t {
  kRequests,               ///< requests that completed (count)
  kThroughput,             ///< completed requests per second of the window
  kP50Latency,             ///< latency percentiles: arrival (trace time) to answer
  kP90Latency,
  kP99Latency,
  kP999Latency,
  kMaxLatency,
  kMeanLatency,
  kErrorRate,              ///< share of requests answered with status >= 500
  kAllowedShare,           ///< share of policy decisions that allowed at once
  kDelayedShare,           ///< share of policy decisions that delayed
  kRejectedShare,          ///< share of requests rejected by a rate-limit policy
  kFalseAllows,            ///< allowed although the exact sliding log would have rejected (count)
  kFalseBlocks,            ///< rejected although the exact sliding log would have allowed (count)
  kFalseAllowShare,        ///< false allows / policy decisions
  kFalseBlockShare,        ///< false blocks / policy decisions
  kWorstOvershoot,         ///< most requests admitted for one key in any window / the limit
  kWronglyBlockedClients,  ///< clients with at least one false block (count)
  kRetries,                ///< retries sent (count)
  kRetryRate,              ///< retries / first tries
  kTryErrorRate,           ///< share of upstream tries that failed (5xx, timeout, refused, reset)
  kBreakerOpens,           ///< circuit-breaker transitions to open (count)
  kEjections,              ///< outlier ejections (count)
  kTimeouts,               ///< requests answered 504 (count)
  kAuthRejectedShare,      ///< share of requests an access policy refused (401 / 403)
  kCacheHitShare,          ///< share of requests answered from the response cache (fresh hits)
};

enum class MetricUnit : std::uint8_t { kCount, kPerSecond, kSeconds, kShare, kRatio };

/// Which labels a metric can be narrowed by.
enum MetricLabels : std::uint8_t {
  kLabelNone = 0,
  kLabelRoute = 1,
  kLabelService = 2,
  kLabelPolicy = 4,
};

struct MetricInfo {
  Metric metric;
  std::string_view name;         ///< as written in scenarios: "p99_latency"
  MetricUnit unit;
  std::uint8_t labels;           ///< MetricLabels bits
  std::string_view description;  ///< one line, for --help and docs/scenarios.md
};

/// Every metric, in the order above.
std::span<const MetricInfo> metricCatalogue() noexcept;
const MetricInfo& metricInfo(Metric m) noexcept;
/// The metric named `name`, or nullptr.
const MetricInfo* findMetric(std::string_view name) noexcept;
const char* toString(MetricUnit u) noexcept;

/// A window of simulated time, as offsets from the start of the run: [from, to).
struct MetricWindow {
  core::Duration from{0};
  core::Duration to{0};
  friend bool operator==(const MetricWindow&, const MetricWindow&) = default;
};

struct MetricRef {
  Metric metric = Metric::kRequests;
  std::string route;    ///< empty: every route
  std::string service;  ///< empty: every service
  std::string policy;   ///< empty: every rate-limit policy
  std::optional<MetricWindow> window;  ///< empty: the whole run
  friend bool operator==(const MetricRef&, const MetricRef&) = default;
};

/// "p99_latency{route=api}[60s,120s)" — the form reports and breach messages print.
std::string toString(const MetricRef& ref);

/// Formats a value in the metric's unit for people: "312ms", "1.25%", "4200/s", "17", "1.31x".
std::string formatMetricValue(MetricUnit unit, double value);

}  // namespace gatelab::sim
