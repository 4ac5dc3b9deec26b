#pragma once
// SimGateway: the simulated gateway host. It runs the real, pure policy core (router, rate-limit
// policies, load balancer, circuit breakers, timeouts, retry policy and budget, outlier detector:
// one config::GatewayRuntime) for every replayed request, against MockBackends, in virtual time.
//
// One request follows gatelab::flow::RequestFlow (gateway/flow/request_flow.hpp), the same state
// machine the live proxy drives: submit() starts it at sim.now() (the request's trace time = its
// arrival); a kWait step (rate-limit delay, retry back-off) becomes an event, a kSendTry step a
// MockBackend::call plus one timeout event at the try's deadline. Whichever comes first ends the
// try: the backend's answer (the timeout event is cancelled) or the timeout (the backend call is
// cancelled; CallOutcome::timeout). GatewayObserver gets onRateLimit for every applied decision,
// onTry for every finished try, and onComplete exactly once per submitted request, latency =
// done - arrival (rate-limit delay, back-off and every try count: no coordinated omission).
// Time-driven policy transitions (breaker open -> half-open, outlier returns) are reported on time:
// the gateway keeps one wake-up event per service at the earliest time the flow announces and
// calls RequestFlow::wake() then. Random draws come from the gateway's own stream.
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
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/config/runtime.hpp"
#include "gateway/core/request.hpp"
#include "gateway/core/resilience/circuit_breaker.hpp"
#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/resilience/load_balancer.hpp"
#include "gateway/core/time.hpp"
#include "gateway/flow/request_flow.hpp"
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
  std::array<std::uint64_t, flow::kOutcomeCount> byOutcome{};  ///< completions indexed by RequestOutcome
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
  /// (404, 400, rate-limit reject, no target, breaker open, an access policy's 401/403/preflight).
  /// `unixTime` is the request's time on the Unix-epoch timeline (its trace time), against which
  /// JWTs' exp / nbf / iat are checked; by default sim.now().
  /// `responseBytes`: the answer's body size as the trace logged it (what a cache entry holds).
  std::uint64_t submit(const core::RequestView& request, ClientId client, std::optional<core::TimePoint> unixTime = {},
                       std::uint64_t responseBytes = 0);

  [[nodiscard]] const SimGatewayStats& stats() const noexcept { return stats_; }

 private:
  static constexpr std::uint32_t kNoSlot = 0xFFFFFFFFu;
  struct ServiceWake {
    EventId event;
    core::TimePoint at = core::TimePoint::max();
  };
  enum class Phase : std::uint8_t { kFree, kDelayed, kInTry, kBackoff, kFanOut };
  struct Request {
    flow::FlowRequest flow;
    std::uint64_t id = 0;
    MockBackend* backend = nullptr;  // of the try in flight
    CallHandle call;
    EventId timer;  // the pending event: rate-limit delay end, try timeout or back-off end
    std::uint32_t generation = 1;
    std::uint32_t nextFree = 0;
    ClientId client = 0;
    // Aggregate routes: a part is a request of its own whose answer goes to its parent (never to
    // the observer); the parent answers when its last part has.
    std::uint32_t parent = kNoSlot;  // a part: its parent's slot
    std::uint32_t parentGeneration = 0;
    std::uint32_t partsLeft = 0;  // a parent: parts not yet answered
    std::uint32_t partsOk = 0;    // a parent: bit i set when part i succeeded
    std::uint32_t partTries = 0;  // a parent: its parts' upstream tries
    // Routes with a response cache: the lookup, for storing the answer or serving stale.
    std::unique_ptr<core::cache::CacheLookup> cache;
    std::uint64_t responseBytes = 0;
    bool hadAuthorization = false;
    Phase phase = Phase::kFree;
  };
  /// The flow's hooks and random draws for one call: reports go to the observer with the
  /// request's id and client; wake-ups become events.
  class Hooks;

  std::uint32_t allocate();
  void release(std::uint32_t slot) noexcept;
  Request& live(std::uint32_t slot, std::uint32_t generation) noexcept;

  /// Carries out `step` for the request in `slot` (schedules, calls a backend, or completes).
  void apply(std::uint32_t slot, const flow::Step& step);
  void onWaitOver(std::uint32_t slot, std::uint32_t generation);
  void onBackendDone(std::uint32_t slot, std::uint32_t generation, const core::resilience::CallOutcome& outcome);
  void onTryTimeout(std::uint32_t slot, std::uint32_t generation);
  void finishTry(std::uint32_t slot, const core::resilience::CallOutcome& outcome);
  void complete(std::uint32_t slot, const flow::Step& answer);
  void fanOut(std::uint32_t slot);
  void partDone(std::uint32_t slot, const flow::Step& answer);
  /// The cache's part of an answer: turns a failure into a stale answer, or hands an upstream
  /// answer to the cache (stored when its status and the lookup allow, as the route's first
  /// content type with the trace's body size; invalidates after an unsafe method). Returns the
  /// answer to report.
  flow::Step cacheAnswer(Request& r, const flow::Step& answer);
  void report(CompletionReport& report, RequestOutcome outcome);

  void armWake(std::uint32_t service, core::TimePoint at);
  void onWake(std::uint32_t service);

  Simulation& sim_;
  GatewayObserver& observer_;
  Rng rng_;
  flow::RequestFlow flow_;
  flow::AccessState access_;  // the access policies' findings: used during submit() only
  std::vector<std::vector<MockBackend*>> backends_;
  std::vector<ServiceWake> wakes_;
  std::vector<Request> slab_;
  std::uint32_t freeHead_ = kNoSlot;
  std::uint64_t nextId_ = 0;
  SimGatewayStats stats_;

};

}  // namespace gatelab::sim
