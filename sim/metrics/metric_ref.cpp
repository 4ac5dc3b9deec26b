#include "sim/metrics/metric_ref.hpp"

#include <array>
#include <cmath>
#include <cstdio>

namespace gatelab::sim {
namespace {

constexpr std::uint8_t kRS = kLabelRoute | kLabelService;
constexpr std::uint8_t kRP = kLabelRoute | kLabelPolicy;

constexpr std::array<MetricInfo, 26> kCatalogue{{
    {Metric::kRequests, "requests", MetricUnit::kCount, kRS, "requests answered"},
    {Metric::kThroughput, "throughput", MetricUnit::kPerSecond, kRS, "requests answered per second"},
    {Metric::kP50Latency, "p50_latency", MetricUnit::kSeconds, kRS, "median latency, arrival to answer"},
    {Metric::kP90Latency, "p90_latency", MetricUnit::kSeconds, kRS, "90th percentile latency"},
    {Metric::kP99Latency, "p99_latency", MetricUnit::kSeconds, kRS, "99th percentile latency"},
    {Metric::kP999Latency, "p999_latency", MetricUnit::kSeconds, kRS, "99.9th percentile latency"},
    {Metric::kMaxLatency, "max_latency", MetricUnit::kSeconds, kRS, "highest latency"},
    {Metric::kMeanLatency, "mean_latency", MetricUnit::kSeconds, kRS, "mean latency"},
    {Metric::kErrorRate, "error_rate", MetricUnit::kShare, kRS, "share of requests answered with a 5xx status"},
    {Metric::kAllowedShare, "allowed_share", MetricUnit::kShare, kRP, "share of rate-limit decisions that allowed at once"},
    {Metric::kDelayedShare, "delayed_share", MetricUnit::kShare, kRP, "share of rate-limit decisions that delayed"},
    {Metric::kRejectedShare, "rejected_share", MetricUnit::kShare, kRP, "share of rate-limit decisions that rejected"},
    {Metric::kFalseAllows, "false_allows", MetricUnit::kCount, kRP,
     "requests allowed that the exact sliding log would have rejected"},
    {Metric::kFalseBlocks, "false_blocks", MetricUnit::kCount, kRP,
     "requests rejected that the exact sliding log would have allowed"},
    {Metric::kFalseAllowShare, "false_allow_share", MetricUnit::kShare, kRP, "false allows / rate-limit decisions"},
    {Metric::kFalseBlockShare, "false_block_share", MetricUnit::kShare, kRP, "false blocks / rate-limit decisions"},
    {Metric::kWorstOvershoot, "worst_overshoot", MetricUnit::kRatio, kRP,
     "most requests one key got admitted in any window of the limit, divided by the limit"},
    {Metric::kWronglyBlockedClients, "wrongly_blocked_clients", MetricUnit::kCount, kRP,
     "clients rejected at least once when the exact sliding log would have allowed them"},
    {Metric::kRetries, "retries", MetricUnit::kCount, kRS, "retries sent upstream"},
    {Metric::kRetryRate, "retry_rate", MetricUnit::kShare, kRS, "retries / first tries"},
    {Metric::kTryErrorRate, "try_error_rate", MetricUnit::kShare, kRS,
     "share of upstream tries that failed (5xx, timeout, refused, reset)"},
    {Metric::kBreakerOpens, "breaker_opens", MetricUnit::kCount, kLabelService, "circuit-breaker transitions to open"},
    {Metric::kEjections, "ejections", MetricUnit::kCount, kLabelService, "outlier ejections"},
    {Metric::kTimeouts, "timeouts", MetricUnit::kCount, kRS, "requests answered 504 (gateway timeout)"},
    {Metric::kAuthRejectedShare, "auth_rejected_share", MetricUnit::kShare, kRS,
     "share of requests refused by authentication or the acl (401, 403)"},
    {Metric::kCacheHitShare, "cache_hit_share", MetricUnit::kShare, kRS,
     "share of requests answered from the response cache (fresh hits)"},
}};

void appendLabel(std::string& out, bool& first, std::string_view key, const std::string& value) {
  if (value.empty()) return;
  out += first ? '{' : ',';
  first = false;
  out += key;
  out += '=';
  out += value;
}

}  // namespace

std::span<const MetricInfo> metricCatalogue() noexcept { return kCatalogue; }

const MetricInfo& metricInfo(Metric m) noexcept { return kCatalogue[static_cast<std::size_t>(m)]; }

const MetricInfo* findMetric(std::string_view name) noexcept {
  for (const auto& info : kCatalogue)
    if (info.name == name) return &info;
  return nullptr;
}

const char* toString(MetricUnit u) noexcept {
  switch (u) {
    case MetricUnit::kCount: return "count";
    case MetricUnit::kPerSecond: return "per_second";
    case MetricUnit::kSeconds: return "seconds";
    case MetricUnit::kShare: return "share";
    case MetricUnit::kRatio: return "ratio";
  }
  return "?";
}

std::string toString(const MetricRef& ref) {
  std::string out(metricInfo(ref.metric).name);
  bool first = true;
  appendLabel(out, first, "route", ref.route);
  appendLabel(out, first, "service", ref.service);
  appendLabel(out, first, "policy", ref.policy);
  if (!first) out += '}';
  if (ref.window) {
    out += '[';
    out += core::formatDuration(ref.window->from);
    out += ',';
    out += core::formatDuration(ref.window->to);
    out += ')';
  }
  return out;
}

std::string formatMetricValue(MetricUnit unit, double value) {
  char buf[64];
  switch (unit) {
    case MetricUnit::kCount:
      if (std::nearbyint(value) == value && std::fabs(value) < 1e15)
        std::snprintf(buf, sizeof buf, "%.0f", value);
      else
        std::snprintf(buf, sizeof buf, "%.3g", value);
      break;
    case MetricUnit::kPerSecond: std::snprintf(buf, sizeof buf, "%.4g/s", value); break;
    case MetricUnit::kSeconds:
      if (std::fabs(value) >= 1.0)
        std::snprintf(buf, sizeof buf, "%.3gs", value);
      else if (std::fabs(value) >= 1e-3 || value == 0.0)
        std::snprintf(buf, sizeof buf, "%.3gms", value * 1e3);
      else
        std::snprintf(buf, sizeof buf, "%.3gus", value * 1e6);
      break;
    case MetricUnit::kShare: std::snprintf(buf, sizeof buf, "%.3g%%", value * 100.0); break;
    case MetricUnit::kRatio: std::snprintf(buf, sizeof buf, "%.3gx", value); break;
  }
  return buf;
}

}  // namespace gatelab::sim
