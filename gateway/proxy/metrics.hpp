#pragma once
// ProxyMetrics: the live gateway's counters, rendered in the Prometheus text exposition format
// (version 0.0.4) for the admin listener's /metrics.
//
//   gatelab_requests_total{route,code}                 answered requests ("" route: none matched)
//   gatelab_request_duration_seconds{route}            histogram, arrival to the answer's write
//   gatelab_ratelimit_decisions_total{route,policy,result,shadow}  result: allowed|delayed|rejected
//                                                      (what enforcement decided; shadow="true" for
//                                                      dry-run policies)
//   gatelab_ratelimit_store_calls_total{route,policy,result}  store: redis policies' calls to
//                                                      Redis; result: ok|timeout|unavailable|error
//                                                      (all but ok applied on_store_error)
//   gatelab_access_decisions_total{route,policy,result}  access policies' verdicts: policy
//                                                      jwt|key_auth|acl|cors (cors: preflights);
//                                                      result: ok or the reason code (expired,
//                                                      missing_key, group_denied, ...)
//   gatelab_cache_requests_total{route,status}        response cache: Hit|Miss|Stale|Bypass
//   gatelab_upstream_tries_total{service,target,outcome}  outcome: response|connect_failure|timeout|reset
//   gatelab_upstream_retries_total{service}
//   gatelab_upstream_connections_total{reused}         new ("false") and pooled ("true") connections used
//   gatelab_circuit_breaker_state{service,target,state}   1 for the current state, 0 for the others
//   gatelab_circuit_breaker_transitions_total{service,target,to}
//   gatelab_outlier_ejections_total{service,target}
//   gatelab_upstream_healthy{service,target}           1 up, 0 down (targets under active health checks)
//   gatelab_connections_total, gatelab_connections_active, gatelab_connections_refused_total
//   gatelab_config_reloads_total{result}               ok|failed
//   gatelab_tls_handshake_failures_total               TLS listener handshakes that failed or timed out
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
#include "gateway/flow/request_flow.hpp"

#include <functional>
#include <string_view>

namespace gatelab::proxy {

class ProxyMetrics final : public core::EventSink {
 public:
  /// Upper bounds (seconds) of the latency histogram's buckets; +Inf is implied.
  static constexpr std::array<double, 12> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                              0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

  /// A config's routes, policies, services and targets as metric ids. Ids are stable across
  /// reloads (a route keeps its series when its index changes); names are interned once.
  struct Ids {
    std::uint32_t noRoute = 0;                         ///< the "" route (nothing matched)
    std::vector<std::uint32_t> routes;                 ///< [route index]
    std::vector<std::vector<std::uint32_t>> policies;  ///< [route index][rate-limit policy index]
    std::vector<std::uint32_t> services;               ///< [service index]
    std::vector<std::vector<std::uint32_t>> targets;   ///< [service index][target index]
    [[nodiscard]] std::uint32_t route(std::uint32_t index) const noexcept {
      return index < routes.size() ? routes[index] : noRoute;
    }
  };

  explicit ProxyMetrics(unsigned shards);

  /// Interns `config`'s names and makes its breakers the ones `gatelab_circuit_breaker_state`
  /// reports (closed at first, as a new runtime's are).
  Ids registerConfig(const config::GatewayConfig& config);

  /// `outcome`: the flow outcome's index (flow::Outcome), or kRefused for an answer given while
  /// reading the request (400, 408, 413, 431).
  static constexpr int kRefused = static_cast<int>(flow::kOutcomeCount);
  void request(unsigned shard, std::uint32_t routeId, unsigned status, core::Duration latency, int outcome);
  void rateLimit(unsigned shard, std::uint32_t policyId, core::ratelimit::Verdict wouldBe);
  /// How a call to a policy's shared store (Redis) ended.
  enum class StoreResult : int { kOk, kTimeout, kUnavailable, kError };
  static const char* toString(StoreResult r) noexcept;
  void storeCall(unsigned shard, std::uint32_t policyId, StoreResult result);
  /// One access policy's verdict. `policy` and `result` must be static strings (flow::toString,
  /// the core's reason names): they are kept as views.
  void access(unsigned shard, std::uint32_t routeId, std::string_view policy, std::string_view result);
  /// How the route's response cache answered (X-Cache-Status: "Hit", "Miss", "Stale", "Bypass";
  /// a static string).
  void cacheLookup(unsigned shard, std::uint32_t routeId, std::string_view status);
  void upstreamTry(unsigned shard, std::uint32_t serviceId, std::uint32_t targetId, core::resilience::OutcomeKind outcome,
                   bool retry, bool failed);
  void upstreamConnection(unsigned shard, bool reused);
  void connectionOpened() noexcept { ++connectionsTotal_, ++connectionsActive_; }
  void connectionClosed() noexcept { --connectionsActive_; }
  void connectionRefused() noexcept { ++connectionsRefused_; }
  void tlsHandshakeFailed() noexcept { ++tlsHandshakeFailures_; }
  /// A body larger than the body buffer streamed through (request: to the upstream; response: to
  /// the client), and a streamed answer the upstream broke off (the client got a cut body).
  void streamed(bool request) noexcept { ++(request ? streamedRequests_ : streamedResponses_); }
  void streamCut() noexcept { ++streamCuts_; }
  void reloaded(bool ok) noexcept { ++(ok ? reloadsOk_ : reloadsFailed_); }
  /// Active health checks' verdict for a target (targets of checked services start up).
  void targetHealth(const std::string& service, const std::string& url, bool up);

  void onEvent(const core::Event& event) override;

  /// Whole-gateway totals (Server::stats()).
  struct Totals {
    std::uint64_t connections = 0;             ///< client connections accepted
    std::uint64_t requests = 0;                ///< answered
    std::uint64_t tries = 0;                   ///< upstream tries
    std::uint64_t newUpstreamConnections = 0;  ///< connections opened for tries (not from the pool)
  };
  [[nodiscard]] Totals totals() const;

  /// Every metric, in the text exposition format.
  [[nodiscard]] std::string render() const;

  /// The live event feed: `timeline` buckets and `resilience` events as JSON, in the simulator's
  /// shapes (timeline.ndjson lines, report.json events). Times are ms since `start`.
  void setEventFeed(std::function<void(std::string_view name, std::string_view json)> feed, core::TimePoint start);
  /// Sends one `resilience` event on the feed (report.json's event shape); for events that do not
  /// come from the runtime (active health checks). No-op without a feed.
  void publishResilience(core::TimePoint at, std::string_view kind, std::string_view service, std::string_view target,
                         std::string_view from, std::string_view to, std::string_view reason, double durationMs,
                         bool dryRun);
  /// Closes the timeline bucket [start, end) (ms since the feed's start): its JSON, counters reset.
  [[nodiscard]] std::string takeTimelineBucket(std::uint64_t index, core::TimePoint end);

 private:
  struct Histogram {
    std::array<std::uint64_t, kLatencyBuckets.size() + 1> buckets{};  // last: +Inf
    double sum = 0.0;
  };
  /// Log-linear latency buckets (ns): exact below 64 ns, then 32 per power of two (<= 1.6% error).
  struct FineHistogram {
    std::vector<std::uint64_t> counts;
    std::uint64_t total = 0;
    std::uint64_t maxNanos = 0;
    void record(std::uint64_t nanos);
    void merge(const FineHistogram& o);
    [[nodiscard]] std::uint64_t quantile(double q) const;  ///< ns; 0 when empty
  };
  /// What one timeline bucket counts (reset when taken).
  struct Bucket {
    std::uint64_t requests = 0;
    std::array<std::uint64_t, flow::kStatusClassCount> status{};     // flow::statusClassIndex
    std::array<std::uint64_t, flow::kOutcomeCount + 1> outcomes{};   // + refused
    std::uint64_t tries = 0, retries = 0, tryFailures = 0;
    FineHistogram latency;
    std::map<std::pair<std::uint32_t, int>, std::uint64_t> decisions;  // (policy id, verdict)
  };
  struct Shard {
    mutable std::mutex mutex;
    Bucket bucket;
    std::map<std::pair<std::uint32_t, unsigned>, std::uint64_t> requests;  // (route id, code)
    std::map<std::uint32_t, Histogram> latency;                             // route id
    std::map<std::pair<std::uint32_t, int>, std::uint64_t> decisions;       // (policy id, verdict)
    std::map<std::pair<std::uint32_t, int>, std::uint64_t> storeCalls;      // (policy id, StoreResult)
    std::map<std::tuple<std::uint32_t, std::string_view, std::string_view>, std::uint64_t> access;  // (route id, policy, result)
    std::map<std::pair<std::uint32_t, std::string_view>, std::uint64_t> cache;  // (route id, X-Cache-Status)
    std::map<std::pair<std::uint32_t, int>, std::uint64_t> tries;           // (target id, outcome)
    std::map<std::uint32_t, std::uint64_t> retries;                         // service id
    std::array<std::atomic<std::uint64_t>, 2> connections{};  // [reused]; counted without the mutex
  };
  struct PolicyName {
    std::uint32_t route;
    std::string name;
    bool shadow;
  };
  struct TargetName {
    std::uint32_t service;
    std::string url;
  };
  static std::uint32_t intern(std::vector<std::string>& names, const std::string& name);

  mutable std::mutex namesMutex_;  // the tables below only grow
  std::vector<std::string> routes_;
  std::vector<PolicyName> policies_;
  std::vector<std::string> services_;
  std::vector<TargetName> targets_;
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
  std::map<BreakerKey, int> health_;  // checked targets: 1 up, 0 down
  std::uint64_t bucketBreakerOpens_ = 0;  // guarded by eventsMutex_
  std::uint64_t bucketEjections_ = 0;
  std::function<void(std::string_view, std::string_view)> feed_;  // set before traffic
  core::TimePoint feedStart_{};
  core::TimePoint bucketStart_{};

  std::atomic<std::uint64_t> connectionsTotal_{0};
  std::atomic<std::int64_t> connectionsActive_{0};
  std::atomic<std::uint64_t> connectionsRefused_{0};
  std::atomic<std::uint64_t> tlsHandshakeFailures_{0};
  std::atomic<std::uint64_t> streamedRequests_{0};
  std::atomic<std::uint64_t> streamedResponses_{0};
  std::atomic<std::uint64_t> streamCuts_{0};
  std::atomic<std::uint64_t> reloadsOk_{0};
  std::atomic<std::uint64_t> reloadsFailed_{0};
};

/// A label value escaped for the text format (backslash, double quote, newline).
[[nodiscard]] std::string escapeLabelValue(std::string_view v);

}  // namespace gatelab::proxy
