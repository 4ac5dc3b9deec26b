#pragma once
// SimGateway: the simulated gateway host. It runs the real, pure policy core (router, rate-limit
// policies, load balancer, circuit breakers, timeouts, retry policy and budget, outlier detector:
// one config::GatewayRuntime) for every replayed request, against MockBackends, in virtual time.
//
// One request (docs/resilience.md "How a host uses them for one request" is the contract):
//   submit()      at sim.now() (the request's trace time = its arrival): route (404 kNotFound /
//                 400 kBadRequest), pick the service (weighted services: Router::pickService with a
//                 draw), evaluate every rate-limit policy of the route in order (the first reject
//                 answers with its status, kRateLimited; kDelay decisions hold the request for the
//                 longest delay, as a simulation event). The RequestView is not kept.
//   upstream      starts when the rate-limit delay is over: overall deadline = that start +
//                 timeouts.overall; retry budget onRequestStart; then tries:
//   each try      LB pick (avoiding the previous try's target; none: 503 kNoTarget), breaker
//                 tryAcquire (refused: the breaker's fallback status, 503 by default, kBreakerOpen),
//                 targets.onRequestStart, MockBackend::call, plus one timeout event at
//                 min(try start + per_try, overall deadline). Whichever comes first ends the try:
//                 the backend's answer (the timeout event is cancelled) or the timeout (the
//                 backend call is cancelled; CallOutcome::timeout).
//   try end       targets.onRequestEnd, breaker onResult (mirrored into the TargetSet for
//                 per-target breakers), outlier onResult, GatewayObserver::onTry, then
//                 RetryPolicy::decide with the budget: retry at once, after a back-off event, or
//                 answer: the upstream status (kUpstream), 502 connect failure / reset, 504 timeout.
//   completion    GatewayObserver::onComplete exactly once per submitted request, latency =
//                 done - arrival (rate-limit delay, back-off and every try count: no coordinated
//                 omission); retry budget onRequestEnd.
// Time-driven policy transitions (breaker open -> half-open, outlier returns) are reported on time:
// the gateway keeps one wake-up event per service at the earliest nextTransitionAt()/nextReturnAt()
// and calls advance() then. Decisions would be the same without it (the core is lazy).
//
// Not modelled: the connect timeout (a MockBackend refuses after its own refusalLatency), the
// request body, response headers other than the status.
//
// Memory: per-request state lives in a pooled slab indexed by slot + generation; events and backend
// completions capture {this, slot, generation} (16 bytes, inline in SmallFunction). No allocation
// per request once the slab has grown to the peak number of requests in flight.
// Thread safety: none; belongs to one Simulation. Complexity per request: the core's costs plus a
// few O(log n) event-queue operations per try.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/config/runtime.hpp"
#include "gateway/core/request.hpp"
#include "gateway/core/resilience/circuit_breaker.hpp"
#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/resilience/load_balancer.hpp"
#include "gateway/core/time.hpp"
#include "sim/engine/backend.hpp"
#include "sim/engine/random.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/gateway/observer.hpp"

namespace gatelab::sim {

/// Event kinds scheduled by the simulated gateway (see EventKind): 0x0300-0x03FF.
inline constexpr EventKind kGatewayRateLimitDelayEnd = 0x0301;
inline constexpr EventKind kGatewayTryTimeout = 0x0302;
inline constexpr EventKind kGatewayBackoffEnd = 0x0303;
inline constexpr EventKind kGatewayPolicyWake = 0x0304;

struct SimGatewayStats {
  std::uint64_t submitted = 0;  ///< submit() calls
  std::uint64_t completed = 0;  ///< onComplete reports made
  std::uint64_t inFlight = 0;   ///< submitted - completed
  std::array<std::uint64_t, 9> byOutcome{};  ///< completions indexed by RequestOutcome
};

class SimGateway {
 public:
  /// backends[s][t]: the backend of service s (GatewayRuntime::services order), target t (its
  /// TargetSet order); all must outlive the gateway, as must `sim`, `runtime` and `observer`.
  /// rng: the gateway's own random stream (LB draws, service picks, retry jitter).
  /// Precondition (aborts otherwise): backends has one row per service, one entry per target.
  SimGateway(Simulation& sim, config::GatewayRuntime& runtime, std::vector<std::vector<MockBackend*>> backends,
             GatewayObserver& observer, Rng rng);
  ~SimGateway();
  SimGateway(const SimGateway&) = delete;
  SimGateway& operator=(const SimGateway&) = delete;

  /// A request arriving at sim.now(). Routing and rate limiting run synchronously (the view is not
  /// kept); everything after (delay, tries, backoff, timeouts) runs as simulation events. Returns
  /// the request id (1, 2, ... in submission order). onComplete may be called before this returns
  /// (404, 400, rate-limit reject, no target, breaker open).
  std::uint64_t submit(const core::RequestView& request, ClientId client);

  [[nodiscard]] const SimGatewayStats& stats() const noexcept { return stats_; }

 private:
  struct RouteInfo {
    std::vector<std::uint32_t> serviceIndex;  // parallel to RouteSpec::services
  };
  struct ServiceInfo {
    config::ServiceRuntime* runtime = nullptr;
    std::vector<MockBackend*> backends;
    core::resilience::LbAlgorithm algorithm = core::resilience::LbAlgorithm::kRoundRobin;
    bool perTargetBreaker = false;
    bool hashOnHeader = false;
    std::string hashHeader;
    EventId wake;
    core::TimePoint wakeAt = core::TimePoint::max();
  };
  enum class Phase : std::uint8_t { kFree, kDelayed, kInTry, kBackoff };
  struct Request {
    core::TimePoint arrival{};
    core::TimePoint upstreamStart{};  // the rate-limit delay is over: timeouts start here
    core::TimePoint deadline{};   // overall deadline of the upstream phase
    core::TimePoint tryStart{};
    core::Duration rateLimitDelay{0};
    std::uint64_t id = 0;
    std::uint64_t lbHash = 0;     // consistent_hash key, hashed at submit
    core::resilience::Permit permit;
    core::resilience::CircuitBreaker* breaker = nullptr;  // of the try in flight
    MockBackend* backend = nullptr;
    CallHandle call;
    EventId timer;  // the pending event: rate-limit delay end, try timeout or back-off end
    std::uint32_t generation = 1;
    std::uint32_t nextFree = 0;
    std::uint32_t route = kNoRouteIndex;
    std::uint32_t service = kNoServiceIndex;
    std::uint32_t target = kNoTargetIndex;  // target of the last try sent
    std::uint32_t retriesDone = 0;
    std::uint32_t tries = 0;
    ClientId client = 0;
    Phase phase = Phase::kFree;
    bool idempotent = true;
    bool shadowRejected = false;
    bool budgetHeld = false;  // the try in flight (or pending after back-off) holds a budget slot
  };

  std::uint32_t allocate();
  void release(std::uint32_t slot) noexcept;
  Request& live(std::uint32_t slot, std::uint32_t generation) noexcept;

  void startUpstream(std::uint32_t slot);
  void startTry(std::uint32_t slot);
  void onBackendDone(std::uint32_t slot, std::uint32_t generation, const core::resilience::CallOutcome& outcome);
  void onTryTimeout(std::uint32_t slot, std::uint32_t generation);
  void finishTry(std::uint32_t slot, const core::resilience::CallOutcome& outcome);
  void completeUpstream(std::uint32_t slot, std::uint16_t status, RequestOutcome outcome);
  void report(CompletionReport& report, RequestOutcome outcome);

  void armWake(std::uint32_t service, core::TimePoint at);
  void onWake(std::uint32_t service);

  Simulation& sim_;
  config::GatewayRuntime& runtime_;
  GatewayObserver& observer_;
  Rng rng_;
  std::vector<RouteInfo> routes_;
  std::vector<ServiceInfo> services_;
  std::vector<Request> slab_;
  std::uint32_t freeHead_ = kNoSlot;
  std::uint64_t nextId_ = 0;
  std::string pathScratch_;
  std::string keyScratch_;
  SimGatewayStats stats_;

  static constexpr std::uint32_t kNoSlot = 0xFFFFFFFFu;
};

}  // namespace gatelab::sim
