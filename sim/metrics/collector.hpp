#pragma once
// MetricsCollector: everything a run measures, fed by the simulated gateway (GatewayObserver) and
// the runtime's resilience events (core::EventSink).
//
// What it keeps:
//   - counters and latency histograms overall, per route, per service, per (service, target), per
//     rate-limit policy and per client (clients by ClientId index: no string hashing per request);
//   - the ground truth of every rate-limit decision (sim/truth/ground_truth.hpp);
//   - every breaker transition, ejection, return and skipped ejection with its reason, up to
//     CollectorOptions::maxEvents (later ones are counted as dropped; the counters still count them);
//   - a timeline: the runner calls closeBucket() at every bucket boundary; the bucket holds what was
//     reported since the previous close plus the gauges the runner samples, goes to the sink set by
//     setTimelineSink(), and is then reset (timeline memory does not grow with the run);
//   - its own accumulators for each registered MetricWindow, so windowed queries are exact.
//
// Which time counts (windows): a completion by `done`, a try by `end`, a rate-limit decision by its
// arrival `at`, an event by its effective `at`.
//
// Latency: done - arrival of every completed request (whatever its outcome), so rate-limited and
// refused requests count too; query route/service labels to narrow.
//
// Decision shares and counts per policy use the policy's own decision (`wouldBe`), so a shadow
// policy shows what enforcing it would do; `enforcedRejected` counts what was really rejected.
//
// Complexity: onRateLimit/onTry/onComplete are O(1 + windows) plus the ground truth's work, without
// allocation once a client id has been seen (the per-client vector grows when new ids appear).
// Thread safety: none; one simulation, one thread.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/events.hpp"
#include "gateway/core/resilience/states.hpp"
#include "gateway/core/time.hpp"
#include "sim/gateway/observer.hpp"
#include "sim/metrics/histogram.hpp"
#include "sim/metrics/metric_ref.hpp"
#include "sim/truth/ground_truth.hpp"

namespace gatelab::config {
struct GatewayRuntime;
}

namespace gatelab::sim {

struct CollectorOptions {
  core::TimePoint start{};               ///< start of the run (windows and timeline are offsets from it)
  core::Duration bucket{std::chrono::seconds(1)};  ///< timeline bucket width (> 0)
  std::vector<MetricWindow> windows;     ///< windows that queries will name
  /// Metrics evaluated over every timeline bucket (their windows ignored), reported in
  /// TimelineBucket::watched in this order: where in time an SLO broke. Route or service labels
  /// make the bucket keep per-route and per-service totals. Ground-truth metrics have no per-bucket
  /// value (the reference runs over the whole run): always nullopt.
  std::vector<MetricRef> watch;
  std::size_t maxEvents = 10000;         ///< events kept in the list; later ones are only counted
  std::size_t topClients = 20;           ///< clients listed in results (by requests)
};

using flow::kOutcomeCount;  ///< RequestOutcome enumerators
using flow::kStatusClassCount;  ///< 1xx..5xx and "other" (status 0 or >= 600)
using flow::statusClassIndex;

// ---- Gauges the runner samples at each bucket end -------------------------------------------

struct BreakerGauge {
  std::string service;
  std::string target;  ///< "" for a service-wide breaker
  core::resilience::BreakerState state = core::resilience::BreakerState::kClosed;
};

struct QueueGauge {
  std::string service;
  std::string target;
  std::uint32_t queued = 0;   ///< requests waiting for a server
  std::uint32_t busy = 0;     ///< servers serving
  std::uint32_t servers = 0;  ///< usable servers
};

struct GaugeSample {
  std::vector<BreakerGauge> breakers;
  std::vector<QueueGauge> backends;
};

// ---- Plain result structs -------------------------------------------------------------------

/// Latency figures of a histogram; percentiles within 0.39% (see LatencyHistogram).
struct LatencySummary {
  std::uint64_t count = 0;
  core::Duration min{0};
  core::Duration mean{0};
  core::Duration p50{0};
  core::Duration p90{0};
  core::Duration p99{0};
  core::Duration p999{0};
  core::Duration max{0};
};

/// Request-level counters (overall, per route, per service, per window, per timeline bucket).
struct RequestCounts {
  std::uint64_t requests = 0;                               ///< completions
  std::array<std::uint64_t, kStatusClassCount> statusClasses{};  ///< by statusClassIndex
  std::array<std::uint64_t, kOutcomeCount> outcomes{};      ///< by RequestOutcome
  std::uint64_t errors = 0;          ///< status >= 500
  std::uint64_t timeouts = 0;        ///< status 504
  std::uint64_t delayed = 0;         ///< held by a kDelay decision (rateLimitDelay > 0)
  std::uint64_t shadowRejected = 0;  ///< a shadow policy would have rejected it
  std::uint64_t tries = 0;           ///< upstream tries finished
  std::uint64_t firstTries = 0;      ///< attempt 0
  std::uint64_t retries = 0;         ///< attempt > 0
  std::uint64_t tryFailures = 0;     ///< CallOutcome::isServerError()
};

/// The counters with their latency figures.
struct RequestTotals : RequestCounts {
  LatencySummary latency;
};

/// Try counters of one (service, target).
struct TargetTotals {
  std::string name;                  ///< the target's URL
  std::uint64_t tries = 0;
  std::uint64_t failures = 0;        ///< isServerError(): 5xx or local-origin error
  std::uint64_t responses5xx = 0;
  std::uint64_t connectFailures = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t resets = 0;
  std::uint64_t breakerOpens = 0;    ///< transitions to open of this target's own breaker
  std::uint64_t ejections = 0;
  std::uint64_t returns = 0;
  std::uint64_t skippedEjections = 0;
};

struct RouteResult {
  std::string name;
  RequestTotals totals;
};

struct ServiceResult {
  std::string name;
  RequestTotals totals;
  std::uint64_t breakerOpens = 0;  ///< service-wide and per-target breakers together
  std::uint64_t ejections = 0;
  std::vector<TargetTotals> targets;  ///< in config order
};

/// Decisions of one policy, with their ground truth.
struct PolicyResult {
  std::string route;
  std::string name;
  bool shadow = false;
  std::uint64_t decisions = 0;
  std::uint64_t allowed = 0;           ///< wouldBe == kAllow
  std::uint64_t delayed = 0;           ///< wouldBe == kDelay
  std::uint64_t rejected = 0;          ///< wouldBe == kReject
  std::uint64_t enforcedRejected = 0;  ///< verdict == kReject (0 for a shadow policy)
  TruthCounts truth;
  std::string worstClient;                  ///< name of truth.worst->client ("" without one)
  std::vector<std::string> wronglyBlocked;  ///< names, lowest ClientIds first, at most topClients
};

struct ClientResult {
  ClientId id = 0;
  std::string name;
  std::uint64_t requests = 0;
  std::uint64_t rejected = 0;  ///< answered kRateLimited
  std::uint64_t delayed = 0;
  std::uint64_t errors = 0;    ///< status >= 500
};

/// Heavy clients: the top 1% by requests (at least one client; ties broken by lower id); light: the rest.
/// Only clients with at least one completed request count.
struct LoadSplit {
  std::uint64_t heavyClients = 0;
  std::uint64_t heavyRequests = 0;
  std::uint64_t heavyRejected = 0;
  std::uint64_t lightClients = 0;
  std::uint64_t lightRequests = 0;
  std::uint64_t lightRejected = 0;
  [[nodiscard]] std::optional<double> heavyRejectedShare() const noexcept;
  [[nodiscard]] std::optional<double> lightRejectedShare() const noexcept;
};

enum class ResilienceEventKind : std::uint8_t { kBreaker, kEjection, kReturn, kEjectionSkipped };
const char* toString(ResilienceEventKind k) noexcept;

/// One resilience event, flattened.
struct EventRecord {
  core::TimePoint at;
  ResilienceEventKind kind = ResilienceEventKind::kBreaker;
  std::string service;
  std::string target;  ///< "" for a service-wide breaker
  std::string from;    ///< breaker: previous state; ejection/return: "in"/"ejected"
  std::string to;
  std::string reason;
  core::Duration duration{0};  ///< breaker to open: open_for; ejection: ejected_for; else 0
  bool dryRun = false;         ///< breaker in dry-run mode
};

struct MetricsResults {
  core::TimePoint start{};
  core::TimePoint end{};        ///< finish() time (or the last report's time before finish)
  RequestTotals overall;
  std::vector<RouteResult> routes;
  std::vector<ServiceResult> services;
  std::vector<PolicyResult> policies;  ///< route order, then policy order
  TruthCounts truth;                   ///< over every policy
  std::string truthWorstClient;        ///< name of truth.worst->client ("" without one)
  std::uint64_t clientCount = 0;       ///< clients with at least one request
  std::vector<ClientResult> topClients;          ///< by requests
  std::vector<ClientResult> topRejectedClients;  ///< by rate-limit rejections (those with any)
  LoadSplit load;
  std::uint64_t unroutedRequests = 0;  ///< completions with no route
  std::uint64_t breakerOpens = 0;
  std::uint64_t ejections = 0;
  std::vector<EventRecord> events;     ///< first maxEvents, in arrival order
  std::uint64_t droppedEvents = 0;
};

/// One timeline bucket: [start, end); the counters count what completed (or ended, for tries)
/// in the bucket.
struct TimelineBucket : RequestCounts {
  std::uint64_t index = 0;
  core::TimePoint start{};
  core::TimePoint end{};
  std::uint64_t breakerOpens = 0;  ///< events reported during the bucket
  std::uint64_t ejections = 0;
  /// Latency of the bucket's completions; nullopt when none completed.
  std::optional<core::Duration> p50, p90, p99, max;
  struct Policy {
    std::string route;
    std::string name;
    std::uint64_t allowed = 0;  ///< by wouldBe, as PolicyResult
    std::uint64_t delayed = 0;
    std::uint64_t rejected = 0;
  };
  std::vector<Policy> policies;  ///< every policy, in results order
  GaugeSample gauges;
  /// CollectorOptions::watch evaluated over this bucket alone (throughput over its width), in
  /// order; nullopt where the bucket has no data. Not part of timeline.ndjson.
  std::vector<std::optional<double>> watched;
};

class MetricsCollector final : public GatewayObserver, public core::EventSink {
 public:
  /// `runtime` and `clients` must outlive the collector (names are read from them).
  MetricsCollector(const config::GatewayRuntime& runtime, const ClientTable& clients, CollectorOptions options);
  ~MetricsCollector() override;

  void onRateLimit(const RateLimitReport& report) override;
  /// Starts loading the ground truth's state for `key` and the client's counters (a rejection
  /// completes, and is counted, within the same call), while the limiter does its own lookup.
  void willDecide(std::uint32_t route, std::uint32_t policy, ClientId client, const core::Hash128& key) override;
  void onTry(const TryReport& report) override;
  void onComplete(const CompletionReport& report) override;
  void onEvent(const core::Event& event) override;

  /// Where closed buckets go (may be empty: buckets are then just reset).
  void setTimelineSink(std::function<void(const TimelineBucket&)> sink);
  /// Closes the current bucket at `end` (its start is the previous close, or options.start) with
  /// the gauges sampled at `end`, hands it to the sink and resets it.
  void closeBucket(core::TimePoint end, const GaugeSample& gauges);
  /// The run ended at `end` (run duration for throughput).
  void finish(core::TimePoint end);

  /// The value of `ref` in its catalogue unit (seconds, fraction, per second, count, ratio), or
  /// nullopt when:
  ///   - a label names no known route/service/policy, a label the metric does not take is set, or
  ///     both route and service are set on a request metric (only one is tracked at a time);
  ///     a policy label with a route label must name a policy of that route;
  ///   - the window is not one of CollectorOptions::windows;
  ///   - there is no data: a percentile/mean/max of no requests, a share with a zero denominator,
  ///     a worst overshoot with nothing admitted, a throughput over a zero duration.
  /// Counts are 0 (not nullopt) when nothing happened.
  [[nodiscard]] std::optional<double> query(const MetricRef& ref) const;

  /// A snapshot of everything, as plain structs.
  [[nodiscard]] MetricsResults results() const;
  /// The run's request counters alone (results().overall without the snapshot's other work).
  [[nodiscard]] const RequestCounts& overallCounts() const noexcept;
  [[nodiscard]] LoadSplit loadSplit() const;
  [[nodiscard]] const GroundTruth& truth() const noexcept { return truth_; }
  [[nodiscard]] const CollectorOptions& options() const noexcept { return options_; }

 private:
  struct Totals;
  struct Scope;
  struct ClientCounters {
    std::uint64_t requests = 0;
    std::uint64_t rejected = 0;
    std::uint64_t delayed = 0;
    std::uint64_t errors = 0;
  };

  void countEvent(core::TimePoint at, const std::string& service, const std::string& target, ResilienceEventKind kind, bool open);
  void keepEvent(EventRecord record);
  [[nodiscard]] std::vector<std::size_t> policiesFor(const MetricRef& ref, bool& ok) const;
  /// query() over one scope; `truthWindow` selects the ground truth's counts (nullopt with
  /// `truth` false: no ground truth for this scope).
  [[nodiscard]] std::optional<double> queryIn(const Scope& scope, const MetricRef& ref, bool truth,
                                              std::optional<std::size_t> truthWindow, core::Duration duration) const;
  [[nodiscard]] RequestTotals summarize(const Totals& t) const;

  [[nodiscard]] std::string clientName(ClientId id) const;

  const ClientTable& clients_;
  CollectorOptions options_;
  GroundTruth truth_;
  std::vector<std::string> routeNames_;
  std::vector<std::string> serviceNames_;
  std::vector<std::vector<std::string>> targetNames_;
  std::vector<std::size_t> policyBase_;  // first flat policy index of each route

  std::unique_ptr<Scope> run_;
  std::vector<std::unique_ptr<Scope>> windows_;
  std::unique_ptr<Scope> bucket_;
  std::vector<ClientCounters> clientCounters_;
  std::vector<std::vector<TargetTotals>> targets_;

  std::vector<EventRecord> events_;
  std::uint64_t droppedEvents_ = 0;

  std::function<void(const TimelineBucket&)> sink_;
  core::TimePoint bucketStart_{};
  std::uint64_t bucketIndex_ = 0;
  core::TimePoint last_{};
  std::optional<core::TimePoint> end_;
};

}  // namespace gatelab::sim
