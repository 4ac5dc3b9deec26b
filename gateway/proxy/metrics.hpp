#pragma once
// ProxyMetrics: the live gateway's counters, rendered in the Prometheus text exposition format
// (version 0.0.4) for the admin listener's /metrics.
//
//   gatelab_requests_total{route,code}                 answered requests ("" route: none matched)
//   gatelab_request_duration_seconds{route}            histogram, arrival to the answer's write
//   gatelab_ratelimit_decisions_total{route,policy,result,shadow}  result: allowed|delayed|rejected
//                                                      (what enforcement decided; shadow="true" for
//                                                      dry-run policies)
//   gatelab_upstream_tries_total{service,target,outcome}  outcome: response|connect_failure|timeout|reset
//   gatelab_upstream_retries_total{service}
//   gatelab_upstream_connections_total{reused}         new ("false") and pooled ("true") connections used
//   gatelab_circuit_breaker_state{service,target,state}   1 for the current state, 0 for the others
//   gatelab_circuit_breaker_transitions_total{service,target,to}
//   gatelab_outlier_ejections_total{service,target}
//   gatelab_connections_total, gatelab_connections_active
//
// Thread safety: the per-request calls take a shard (the I/O thread's index) and lock only that
// shard's mutex (uncontended except while /metrics reads it); onEvent() (called by the runtime
// under LiveGateway's mutex) and render() may be called from any thread.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "gateway/config/model.hpp"
#include "gateway/core/events.hpp"
#include "gateway/core/rate_limit/decision.hpp"
#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::proxy {

class ProxyMetrics final : public core::EventSink {
 public:
  /// Upper bounds (seconds) of the latency histogram's buckets; +Inf is implied.
  static constexpr std::array<double, 12> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                              0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

  ProxyMetrics(const config::GatewayConfig& config, unsigned shards);

  void request(unsigned shard, std::uint32_t route, unsigned status, core::Duration latency);
  void rateLimit(unsigned shard, std::uint32_t route, std::uint32_t policy, core::ratelimit::Verdict wouldBe);
  void upstreamTry(unsigned shard, std::uint32_t service, std::uint32_t target, core::resilience::OutcomeKind outcome,
                   bool retry);
  void upstreamConnection(unsigned shard, bool reused);
  void connectionOpened() noexcept { ++connectionsTotal_, ++connectionsActive_; }
  void connectionClosed() noexcept { --connectionsActive_; }

  void onEvent(const core::Event& event) override;

  /// Every metric, in the text exposition format.
  [[nodiscard]] std::string render() const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kLatencyBuckets.size() + 1> buckets{};  // last: +Inf
    double sum = 0.0;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::map<std::pair<std::uint32_t, unsigned>, std::uint64_t> requests;  // (route, code)
    std::map<std::uint32_t, Histogram> latency;                             // route
    std::map<std::tuple<std::uint32_t, std::uint32_t, int>, std::uint64_t> decisions;  // (route, policy, verdict)
    std::map<std::tuple<std::uint32_t, std::uint32_t, int>, std::uint64_t> tries;      // (service, target, outcome)
    std::map<std::uint32_t, std::uint64_t> retries;                                     // service
    std::array<std::uint64_t, 2> connections{};                                         // [reused]
  };

  [[nodiscard]] std::string routeName(std::uint32_t route) const;

  std::vector<std::string> routes_;
  std::vector<std::vector<std::string>> policies_;  // [route][policy]
  std::vector<std::vector<bool>> shadow_;
  std::vector<std::string> services_;
  std::vector<std::vector<std::string>> targets_;   // [service][target] URL
  std::vector<std::unique_ptr<Shard>> shards_;

  mutable std::mutex eventsMutex_;
  struct BreakerKey {
    std::string service, target;
    friend bool operator<(const BreakerKey& a, const BreakerKey& b) {
      return std::tie(a.service, a.target) < std::tie(b.service, b.target);
    }
  };
  std::map<BreakerKey, int> breakerState_;  // BreakerState as int
  std::map<std::pair<BreakerKey, int>, std::uint64_t> breakerTransitions_;
  std::map<BreakerKey, std::uint64_t> ejections_;

  std::atomic<std::uint64_t> connectionsTotal_{0};
  std::atomic<std::int64_t> connectionsActive_{0};
};

/// A label value escaped for the text format (backslash, double quote, newline).
[[nodiscard]] std::string escapeLabelValue(std::string_view v);

}  // namespace gatelab::proxy
