#pragma once
// RequestFlow: one request's path through the gateway's policies as a pure state machine, driven
// by both hosts — the simulator (sim/gateway/sim_gateway.cpp) with events in virtual time, the
// live proxy (gateway/proxy) with sockets and timers. The host waits and does the I/O; the flow
// decides. Given the same request, times, random draws and try outcomes, both hosts get the same
// steps, so a decision rehearsed in simulation is the decision made live.
//
// A request (docs/resilience.md "How a host uses them for one request" is the contract):
//   start()     route (no match: 404 kNotFound; a path that does not normalize: 400 kBadRequest),
//               pick the service (weighted services: one draw), then run the route's deciding
//               policies in the config's list order (docs/security.md, "how the pieces fit"):
//               cors (a preflight is answered: 204 or 403, kPreflight), authentication (jwt and
//               key_auth together, at the first one's place: 401 kUnauthorized), acl (401
//               kUnauthorized / 403 kForbidden), and each rate-limit policy (each applied decision
//               goes to FlowHooks::onRateLimit; the first reject answers with its status,
//               kRateLimited; kDelay holds the request for the longest delay). What they found
//               goes to the AccessState (access.hpp); policies after authentication see its
//               consumer and claims. Then either kWait (a delay: call resume() when it is over) or
//               the upstream phase starts at once. With StoreMode::kAsk, a policy kept in a shared
//               store (Redis) stops the walk with kAskStore; storeAnswered() continues it.
//   upstream    starts when the delay is over: overall deadline = that time + timeouts.overall;
//               retry budget onRequestStart; then a try.
//   a try       load-balancer pick avoiding the previous try's target (none: 503 kNoTarget),
//               breaker tryAcquire (refused: the breaker's fallback, 503 by default,
//               kBreakerOpen), targets.onRequestStart; the step is kSendTry with the try's
//               deadline min(try start + per_try, overall deadline). The host sends it and calls
//               tryDone() with how it ended (a response, connect failure, reset, or a timeout
//               when the deadline passed first).
//   tryDone()   targets.onRequestEnd, breaker onResult (mirrored into the target set for per-target
//               breakers), outlier onResult, then the retry policy with its budget: kSendTry at
//               once, kWait for a back-off (then resume()), or kAnswer with the upstream's status
//               (kUpstream), 502 for a connect failure or reset, 504 for a timeout.
//   kAnswer     ends the request: the flow has already released what it held (retry budget).
//               Exactly one kAnswer per started request, unless the host calls abandon().
//
// Random draws come from the host (FlowDraws), in a fixed order per request: one for a weighted
// service pick, per try one (weighted random) or two (least request) for the load balancer, one per
// retry decision for the back-off jitter. Time-driven policy transitions (breaker open ->
// half-open, outlier returns) are announced through FlowHooks::wakeAt; the host calls wake() then
// so events are reported on time (decisions would be the same without it: the core is lazy).
//
// Thread safety: none. A RequestFlow and its GatewayRuntime belong to one thread (or are guarded
// by their owner). FlowRequest is the per-request state the host keeps between calls.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "gateway/config/runtime.hpp"
#include "gateway/core/hash.hpp"
#include "gateway/flow/access.hpp"
#include "gateway/core/rate_limit/policy.hpp"
#include "gateway/core/request.hpp"
#include "gateway/core/resilience/circuit_breaker.hpp"
#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::flow {

inline constexpr std::uint32_t kNoRouteIndex = 0xFFFFFFFFu;
inline constexpr std::uint32_t kNoServiceIndex = 0xFFFFFFFFu;
inline constexpr std::uint32_t kNoTargetIndex = 0xFFFFFFFFu;

/// How the gateway answered a request (the first reason that applies).
enum class Outcome : std::uint8_t {
  kUpstream,        ///< the upstream's response was returned (any status, including 5xx)
  kRateLimited,     ///< a rate-limit policy rejected it (its reject status, 429 by default)
  kNotFound,        ///< no route matched (404)
  kBadRequest,      ///< the path did not normalize (400)
  kBreakerOpen,     ///< a circuit breaker refused the call (503 or the fallback status)
  kNoTarget,        ///< no healthy target to pick (503)
  kConnectFailure,  ///< the last try could not connect (502)
  kTimeout,         ///< the per-try or overall timeout fired on the last try (504)
  kReset,           ///< the connection broke on the last try (502)
  kUnauthorized,    ///< authentication (jwt / key_auth) refused it, or the acl found nobody (401)
  kForbidden,       ///< the acl refused the authenticated caller (403)
  kPreflight,       ///< a CORS preflight, answered by the cors policy (204, or 403 when refused)
  kCacheHit,        ///< answered from the route's response cache (the entry's status)
  kCacheStale,      ///< the upstream failed; answered with an expired entry (stale-if-error)
  kCacheUnavailable,  ///< Cache-Control: only-if-cached and no fresh entry (504, RFC 9111 §5.2.1.7)
};
inline constexpr std::size_t kOutcomeCount = 15;
const char* toString(Outcome outcome) noexcept;

/// Status classes as both hosts' reports count them: 1xx..5xx, then "other" (0 or >= 600).
inline constexpr std::size_t kStatusClassCount = 6;
[[nodiscard]] constexpr std::size_t statusClassIndex(std::uint16_t status) noexcept {
  return status >= 100 && status <= 599 ? static_cast<std::size_t>(status / 100 - 1) : 5;
}
/// "1xx" .. "5xx", "other". Precondition: index < kStatusClassCount.
const char* statusClassName(std::size_t index) noexcept;

enum class StepKind : std::uint8_t {
  kAnswer,   ///< respond to the client: the request is finished
  kWait,     ///< wait until `until`, then call resume()
  kSendTry,  ///< send a try to `target` of the request's service, then call tryDone()
  kAskStore, ///< decide rate-limit policy `storePolicy` of the request's route in its store for
             ///< FlowRequest::storeKey, then call storeAnswered() (only with StoreMode::kAsk)
  kFanOut,   ///< the route aggregates (RouteRuntime::aggregate): start each part with startPart()
             ///< (each then runs like a request of its own: kSendTry / kWait / kAnswer), and when
             ///< every part has answered, call fanInDone() for this request's answer
};

/// Who decides rate-limit policies whose counters live in a shared store (`store: redis`).
enum class StoreMode : std::uint8_t {
  kLocal,  ///< the flow evaluates them with their local limiters (the simulator: the same
           ///< arithmetic the store's script reproduces, docs/rate-limiting.md#redis-store)
  kAsk,    ///< the flow stops with kAskStore and the host asks the store (the live proxy)
};

struct Step {
  StepKind kind = StepKind::kAnswer;
  // kAnswer
  std::uint16_t status = 0;
  Outcome outcome = Outcome::kUpstream;
  /// kBreakerOpen: the breaker's configured answer (lives as long as the runtime), else nullptr.
  const core::resilience::FallbackResponse* fallback = nullptr;
  /// kRateLimited: index of the rejecting policy within its route (its decision, for Retry-After
  /// and the limit headers, went to FlowHooks::onRateLimit just before).
  std::uint32_t rejectingPolicy = 0;
  /// kRateLimited: the store did not answer and the policy fails closed (on_store_error: reject);
  /// no decision went to FlowHooks::onRateLimit.
  bool storeFailed = false;
  // kAskStore
  std::uint32_t storePolicy = 0;  ///< index within the route's policies
  // kWait
  core::TimePoint until{};
  // kSendTry
  /// start()'s steps after a match: the path to send upstream (normalized, minus the matched prefix
  /// with strip_path; no query). Views the request's path or the flow's scratch: valid until the
  /// next call on the flow, and while the request's path is.
  std::string_view upstreamPath;
  std::uint32_t target = kNoTargetIndex;
  core::TimePoint deadline{};  ///< core::resilience::kNoDeadline: none
};

enum class FlowPhase : std::uint8_t { kNew, kStore, kDelayed, kInTry, kBackoff, kFanOut, kDone };

inline constexpr std::uint32_t kNoPart = 0xFFFFFFFFu;

/// The per-request state the host keeps between calls (a value; no pointers into the host).
struct FlowRequest {
  core::TimePoint arrival{};
  core::TimePoint upstreamStart{};  ///< the rate-limit delay is over: timeouts start here
  core::TimePoint deadline{};       ///< overall deadline of the upstream phase
  core::TimePoint tryStart{};
  core::Duration rateLimitDelay{0};  ///< longest kDelay of the route's policies
  std::uint64_t lbHash = 0;          ///< consistent_hash key, hashed at start()
  core::Hash128 storeKey{};          ///< kAskStore: the client key to decide for
  std::uint32_t storePolicy = 0;     ///< kAskStore: the policy asked
  std::uint32_t storeStage = 0;      ///< kAskStore: where the walk of the route's policies resumes
  core::resilience::Permit permit;
  core::resilience::CircuitBreaker* breaker = nullptr;  ///< of the try in flight
  std::uint32_t route = kNoRouteIndex;
  std::uint32_t service = kNoServiceIndex;
  std::uint32_t target = kNoTargetIndex;  ///< target of the last try sent
  std::uint32_t retriesDone = 0;
  std::uint32_t tries = 0;
  std::uint32_t part = kNoPart;  ///< a part of an aggregate: its index (startPart), else kNoPart
  FlowPhase phase = FlowPhase::kNew;
  bool idempotent = true;
  /// The host can send the request again: false once a try consumed a body it did not keep (a
  /// streamed request body). Then no retry follows, whatever the retry policy says.
  bool replayable = true;
  bool shadowRejected = false;  ///< a shadow (dry-run) policy would have rejected it
  bool budgetHeld = false;      ///< the pending retry holds a retry-budget slot
  bool budgetStarted = false;   ///< onRequestStart was called on the service's budget
};

/// Uniform 64-bit random values, from the host's seeded stream.
class FlowDraws {
 public:
  virtual ~FlowDraws() = default;
  virtual std::uint64_t next() = 0;
};

/// One applied rate-limit decision, as start() reports it.
struct RateLimitEvaluation {
  std::uint32_t route = 0;
  std::uint32_t policy = 0;  ///< index within the route's policies
  std::uint32_t cost = 1;
  const core::ratelimit::RateLimitPolicy* spec = nullptr;  ///< the policy (spec(), headers)
  const core::ratelimit::PolicyDecision* decision = nullptr;  ///< valid during the call
};

class FlowHooks {
 public:
  virtual ~FlowHooks() = default;
  virtual void onRateLimit(const RateLimitEvaluation&) {}
  /// A local rate-limit policy is about to decide for `key` (route index, policy index within the
  /// route): the decision and its onRateLimit follow in this call. A hint only, so a host can start
  /// loading state it keeps per key (the simulator's ground truth) while the limiter looks up its
  /// own; it must not change anything a decision depends on.
  virtual void willDecide(std::uint32_t /*route*/, std::uint32_t /*policy*/, const core::Hash128& /*key*/) {}
  /// A policy of `service` changes state by itself at `at`: call RequestFlow::wake() then.
  virtual void wakeAt(std::uint32_t /*service*/, core::TimePoint /*at*/) {}
};

class RequestFlow {
 public:
  /// `runtime` must outlive the flow. Aborts if a route names a service the runtime lacks (the
  /// config validator rules that out).
  explicit RequestFlow(config::GatewayRuntime& runtime, StoreMode stores = StoreMode::kLocal);

  /// A request arriving at `now`. The view is not kept. `access` is reset, then filled by the
  /// route's access policies (its unixNow is the input for JWT time checks); the host keeps it
  /// with the request until the answer (see access.hpp).
  Step start(FlowRequest& r, const core::RequestView& request, core::TimePoint now, FlowDraws& draws,
             FlowHooks& hooks, AccessState& access);
  /// As above with the flow's own scratch AccessState (unixNow = `now`): for hosts and tests that
  /// need nothing of it after the call.
  Step start(FlowRequest& r, const core::RequestView& request, core::TimePoint now, FlowDraws& draws,
             FlowHooks& hooks);
  /// The store answered the kAskStore step at `now`: `decision` is the policy's decision for
  /// FlowRequest::storeKey (as RateLimitPolicy::evaluateKey would make it), or nullptr when the
  /// store failed (down, timeout, bad reply): the policy's on_store_error decides (allow: as if
  /// the policy did not apply; reject: its reject status, Step::storeFailed). The remaining
  /// policies run, then the request proceeds as after start(). `request` and `access` are those
  /// given to start() (still valid: the host keeps them).
  Step storeAnswered(FlowRequest& r, const core::RequestView& request, const core::ratelimit::PolicyDecision* decision,
                     core::TimePoint now, FlowDraws& draws, FlowHooks& hooks, AccessState& access);
  /// As above, for a request started with the flow's scratch AccessState.
  Step storeAnswered(FlowRequest& r, const core::RequestView& request, const core::ratelimit::PolicyDecision* decision,
                     core::TimePoint now, FlowDraws& draws, FlowHooks& hooks) {
    return storeAnswered(r, request, decision, now, draws, hooks, access_);
  }
  /// The kWait step's time has come: the upstream phase starts (after a rate-limit delay) or the
  /// next try (after a back-off). Precondition: the last step was kWait.
  Step resume(FlowRequest& r, core::TimePoint now, FlowDraws& draws, FlowHooks& hooks);
  /// The try of the last kSendTry ended at `now` with `outcome`.
  Step tryDone(FlowRequest& r, const core::resilience::CallOutcome& outcome, core::TimePoint now, FlowDraws& draws,
               FlowHooks& hooks);
  /// Part `index` of the aggregate of `parent`'s route (after kFanOut) starts at `now` in `part`:
  /// the upstream phase of the part's service (load balancing, breaker, retry budget and retries,
  /// timeouts), with the part's timeout as its overall deadline when it has one. No policies run
  /// (the parent passed them). Returns kSendTry or an answer (no target, breaker open); the host
  /// then drives `part` with tryDone() / resume() like any request; its kAnswer ends the part.
  Step startPart(FlowRequest& part, const FlowRequest& parent, std::uint32_t index, core::TimePoint now,
                 FlowDraws& draws, FlowHooks& hooks);
  /// The response cache (docs/caching.md, "Hosts"). After an answer from the upstream, read
  /// whole: stores it when `lookup` (the request's, AccessState::cache) allows (`sentAt`: when
  /// its try was sent), or invalidates the path after an unsafe method.
  core::cache::StoreResult cacheStore(const FlowRequest& r, const core::cache::CacheLookup& lookup,
                                      const core::RequestView& request, core::cache::UpstreamResponse response,
                                      core::TimePoint sentAt, core::TimePoint now);
  /// When `answer` is a failure the cache may hide (connect failure, reset, timeout, no target,
  /// breaker open, or an upstream 500/502/503/504): the expired entry to serve instead, if one is
  /// still in its stale window. The answer then counts as Outcome::kCacheStale with the entry's
  /// status (the host reports it so). nullopt otherwise.
  std::optional<core::cache::StaleResponse> cacheStale(const FlowRequest& r, const core::cache::CacheLookup& lookup,
                                                       const Step& answer, core::TimePoint now);
  /// The kind of failure `answer` is for stale-if-error, or nullopt when no stale entry can stand
  /// in for it (whatever the cache holds). Pure: a host may ask before taking any lock.
  [[nodiscard]] static std::optional<core::cache::UpstreamFailure> staleCandidate(const Step& answer) noexcept;
  /// Every part of the kFanOut request `r` has answered; partOk[i]: part i succeeded
  /// (the proxy: core::shaping::partSucceeded on its answer; the simulator, without bodies: a 2xx
  /// kUpstream answer). Answers with the aggregate's status
  /// (core::shaping::decide: 200, or 502 when a part with on_failure: fail failed), kUpstream.
  Step fanInDone(FlowRequest& r, std::span<const bool> partOk);
  /// The host gives up on an unfinished request (client went away, shutdown): releases what the
  /// try in flight and the budget hold, without a verdict on the target. No-op when done.
  void abandon(FlowRequest& r);

  /// Advances the time-driven policies of `service` to `now` and announces the next wake-up.
  void wake(std::uint32_t service, core::TimePoint now, FlowHooks& hooks);

  [[nodiscard]] config::GatewayRuntime& runtime() noexcept { return runtime_; }
  /// The service indices of route `route` (parallel to its RouteSpec::services).
  [[nodiscard]] const std::vector<std::uint32_t>& routeServices(std::uint32_t route) const { return routes_.at(route); }

 private:
  struct ServiceInfo {
    config::ServiceRuntime* runtime = nullptr;
    core::resilience::LbAlgorithm algorithm = core::resilience::LbAlgorithm::kRoundRobin;
    bool perTargetBreaker = false;
    bool hashOnHeader = false;
    std::string hashHeader;
  };

  /// One deciding policy of a route, in list order (jwt and key_auth share one kAuthenticate).
  struct Stage {
    enum class Kind : std::uint8_t { kRateLimit, kCors, kAuthenticate, kAcl, kCache };
    Kind kind = Kind::kRateLimit;
    std::uint32_t rateLimit = 0;  ///< kRateLimit: index in RouteRuntime::rateLimits
    bool keyAuthFirst = false;    ///< kAuthenticate: key_auth is listed before jwt
  };

  Step runPolicies(FlowRequest& r, const core::RequestView& request, std::uint32_t fromStage, core::TimePoint now,
                   FlowDraws& draws, FlowHooks& hooks, AccessState& access);
  std::optional<Step> authenticate(FlowRequest& r, const core::RequestView& request, bool keyAuthFirst,
                                   AccessState& access);
  std::optional<Step> checkAcl(FlowRequest& r, const core::RequestView& request, AccessState& access);
  std::optional<Step> applyDecision(FlowRequest& r, std::uint32_t policy, const core::ratelimit::PolicyDecision& d,
                                    FlowHooks& hooks);
  Step admitted(FlowRequest& r, core::TimePoint now, FlowDraws& draws, FlowHooks& hooks);
  Step startUpstream(FlowRequest& r, core::TimePoint now, FlowDraws& draws, FlowHooks& hooks);
  Step startTry(FlowRequest& r, core::TimePoint now, FlowDraws& draws, FlowHooks& hooks);
  Step answer(FlowRequest& r, std::uint16_t status, Outcome outcome);

  config::GatewayRuntime& runtime_;
  std::vector<std::vector<std::uint32_t>> routes_;
  std::vector<std::vector<Stage>> stages_;  ///< per route
  std::vector<std::vector<std::uint32_t>> partServices_;  ///< per route: each aggregate part's service
  std::vector<ServiceInfo> services_;
  AccessState access_;  ///< scratch for start() without an AccessState
  std::string pathScratch_;
  std::string keyScratch_;
  bool askStores_ = false;
};

}  // namespace gatelab::flow
