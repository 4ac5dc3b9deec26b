#include "gateway/flow/request_flow.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "gateway/core/hash.hpp"
#include "gateway/core/rate_limit/key.hpp"
#include "gateway/core/resilience/load_balancer.hpp"
#include "gateway/core/resilience/retry.hpp"
#include "gateway/core/resilience/timeouts.hpp"
#include "gateway/core/router.hpp"

namespace gatelab::flow {
namespace {

using core::TimePoint;
using core::resilience::CallOutcome;
using core::resilience::OutcomeKind;

// RetryPolicy::decide only asks whether the method is idempotent (isIdempotentMethod); the view is
// gone by then, so the request keeps that bit and hands decide a method with the same answer.
constexpr std::string_view kIdempotentMethod = "GET";
constexpr std::string_view kNonIdempotentMethod = "POST";

constexpr std::uint16_t kStatusBadRequest = 400;
constexpr std::uint16_t kStatusNotFound = 404;
constexpr std::uint16_t kStatusBadGateway = 502;
constexpr std::uint16_t kStatusUnavailable = 503;
constexpr std::uint16_t kStatusGatewayTimeout = 504;

[[noreturn]] void invariantBroken(const char* what) noexcept {
  // A broken invariant of the flow itself (not input): stop loudly rather than answer wrongly.
  std::fprintf(stderr, "gatelab: RequestFlow: %s\n", what);
  std::abort();
}

}  // namespace

const char* toString(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::kUpstream: return "upstream";
    case Outcome::kRateLimited: return "rate_limited";
    case Outcome::kNotFound: return "not_found";
    case Outcome::kBadRequest: return "bad_request";
    case Outcome::kBreakerOpen: return "breaker_open";
    case Outcome::kNoTarget: return "no_target";
    case Outcome::kConnectFailure: return "connect_failure";
    case Outcome::kTimeout: return "timeout";
    case Outcome::kReset: return "reset";
  }
  return "unknown";
}

const char* statusClassName(std::size_t index) noexcept {
  static constexpr const char* kNames[kStatusClassCount] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
  return index < kStatusClassCount ? kNames[index] : "other";
}

RequestFlow::RequestFlow(config::GatewayRuntime& runtime, StoreMode stores) : runtime_(runtime), askStores_(stores == StoreMode::kAsk) {
  services_.resize(runtime.services.size());
  for (std::size_t s = 0; s < runtime.services.size(); ++s) {
    config::ServiceRuntime& rt = runtime.services[s];
    ServiceInfo& info = services_[s];
    info.runtime = &rt;
    info.algorithm = rt.loadBalancer->algorithm();
    info.perTargetBreaker = rt.config->circuitBreaker.has_value() && rt.config->circuitBreaker->perTarget;
    info.hashOnHeader = rt.config->loadBalancer.hashOn.kind == config::HashOn::Kind::kHeader;
    info.hashHeader = rt.config->loadBalancer.hashOn.header;
  }
  const auto specs = runtime.router.routes();
  routes_.resize(specs.size());
  for (std::size_t r = 0; r < specs.size(); ++r) {
    for (const core::WeightedService& ws : specs[r].services) {
      std::uint32_t found = kNoServiceIndex;
      for (std::size_t s = 0; s < runtime.services.size(); ++s) {
        if (runtime.services[s].config->name == ws.service) {
          found = static_cast<std::uint32_t>(s);
          break;
        }
      }
      if (found == kNoServiceIndex) invariantBroken("a route names a service the runtime lacks");
      routes_[r].push_back(found);
    }
  }
}

Step RequestFlow::start(FlowRequest& r, const core::RequestView& request, TimePoint now, FlowDraws& draws,
                        FlowHooks& hooks) {
  r = FlowRequest{};
  r.arrival = now;

  const core::RouteMatch match = runtime_.router.match(request, pathScratch_);
  if (match.status != core::MatchStatus::kMatched) {
    const bool bad = match.status == core::MatchStatus::kBadPath;
    return answer(r, bad ? kStatusBadRequest : kStatusNotFound, bad ? Outcome::kBadRequest : Outcome::kNotFound);
  }
  const std::uint32_t routeIndex = match.routeIndex;
  r.route = routeIndex;
  const std::vector<std::uint32_t>& routeServices = routes_[routeIndex];
  const core::RouteSpec& spec = *match.route;

  std::uint32_t serviceIndex = routeServices[0];
  if (routeServices.size() > 1) {
    const core::WeightedService* picked = runtime_.router.pickService(routeIndex, draws.next());
    if (picked < spec.services.data() || picked >= spec.services.data() + spec.services.size())
      invariantBroken("pickService returned no service of the route");
    serviceIndex = routeServices[static_cast<std::size_t>(picked - spec.services.data())];
  }
  r.service = serviceIndex;
  const ServiceInfo& service = services_[serviceIndex];

  r.idempotent = core::resilience::isIdempotentMethod(request.method);
  if (service.algorithm == core::resilience::LbAlgorithm::kConsistentHash) {
    std::string_view key = request.clientAddress;
    if (service.hashOnHeader) {
      if (auto h = request.header(service.hashHeader); h && !h->empty()) key = *h;
    }
    r.lbHash = core::hash128(key).lo;
  }
  Step s = runPolicies(r, request, 0, now, draws, hooks);
  s.upstreamPath = match.upstreamPath;
  return s;
}

Step RequestFlow::runPolicies(FlowRequest& r, const core::RequestView& request, std::uint32_t from, TimePoint now,
                              FlowDraws& draws, FlowHooks& hooks) {
  // Rate limiting: every policy of the route, in order; the first reject answers.
  auto& policies = runtime_.routes[r.route].rateLimits;
  if (from < policies.size()) {
    const core::RouteSpec& spec = runtime_.router.routes()[r.route];
    const core::ratelimit::KeyContext ctx{spec.name, services_[r.service].runtime->config->name};
    for (std::size_t p = from; p < policies.size(); ++p) {
      core::ratelimit::RateLimitPolicy& policy = *policies[p];
      if (askStores_ && policy.spec().store != core::ratelimit::StoreKind::kLocal) {
        if (!core::ratelimit::buildKey(policy.spec().key, policy.spec().onMissingKey, request, ctx, keyScratch_))
          continue;
        r.storeKey = core::hash128(keyScratch_);
        r.storePolicy = static_cast<std::uint32_t>(p);
        r.phase = FlowPhase::kStore;
        Step s;
        s.kind = StepKind::kAskStore;
        s.storePolicy = static_cast<std::uint32_t>(p);
        return s;
      }
      const core::ratelimit::PolicyDecision d = policy.evaluate(request, ctx, now, keyScratch_);
      if (!d.applied) continue;
      if (auto s = applyDecision(r, static_cast<std::uint32_t>(p), d, hooks)) return *s;
    }
  }
  return admitted(r, now, draws, hooks);
}

std::optional<Step> RequestFlow::applyDecision(FlowRequest& r, std::uint32_t p,
                                               const core::ratelimit::PolicyDecision& d, FlowHooks& hooks) {
  const core::ratelimit::RateLimitPolicy& policy = *runtime_.routes[r.route].rateLimits[p];
  RateLimitEvaluation ev;
  ev.route = r.route;
  ev.policy = p;
  ev.cost = policy.spec().cost;
  ev.spec = &policy;
  ev.decision = &d;
  hooks.onRateLimit(ev);
  if (policy.spec().shadow && d.wouldBe == core::ratelimit::Verdict::kReject) r.shadowRejected = true;
  if (d.verdict == core::ratelimit::Verdict::kReject) {
    Step s = answer(r, d.status, Outcome::kRateLimited);
    s.rejectingPolicy = p;
    return s;
  }
  if (d.verdict == core::ratelimit::Verdict::kDelay) r.rateLimitDelay = std::max(r.rateLimitDelay, d.delay);
  return std::nullopt;
}

Step RequestFlow::storeAnswered(FlowRequest& r, const core::RequestView& request,
                                const core::ratelimit::PolicyDecision* decision, TimePoint now, FlowDraws& draws,
                                FlowHooks& hooks) {
  if (r.phase != FlowPhase::kStore) invariantBroken("storeAnswered() without a pending store step");
  const std::uint32_t p = r.storePolicy;
  const core::ratelimit::RateLimitPolicy& policy = *runtime_.routes[r.route].rateLimits[p];
  r.phase = FlowPhase::kNew;
  if (decision != nullptr) {
    if (auto s = applyDecision(r, p, *decision, hooks)) return *s;
  } else if (policy.spec().onStoreError == core::ratelimit::StoreFailure::kReject) {
    Step s = answer(r, policy.spec().rejectStatus, Outcome::kRateLimited);
    s.rejectingPolicy = p;
    s.storeFailed = true;
    return s;
  }
  return runPolicies(r, request, p + 1, now, draws, hooks);
}

Step RequestFlow::admitted(FlowRequest& r, TimePoint now, FlowDraws& draws, FlowHooks& hooks) {
  if (r.rateLimitDelay > core::Duration::zero()) {
    r.phase = FlowPhase::kDelayed;
    Step s;
    s.kind = StepKind::kWait;
    s.until = now + r.rateLimitDelay;
    return s;
  }
  return startUpstream(r, now, draws, hooks);
}

Step RequestFlow::resume(FlowRequest& r, TimePoint now, FlowDraws& draws, FlowHooks& hooks) {
  switch (r.phase) {
    case FlowPhase::kDelayed: return startUpstream(r, now, draws, hooks);
    case FlowPhase::kBackoff: return startTry(r, now, draws, hooks);
    default: invariantBroken("resume() without a pending wait");
  }
}

Step RequestFlow::startUpstream(FlowRequest& r, TimePoint now, FlowDraws& draws, FlowHooks& hooks) {
  const config::ServiceRuntime& service = *services_[r.service].runtime;
  r.upstreamStart = now;
  r.deadline = core::resilience::overallDeadline(service.timeouts, r.upstreamStart);
  if (service.retryBudget) {
    service.retryBudget->onRequestStart();
    r.budgetStarted = true;
  }
  return startTry(r, now, draws, hooks);
}

Step RequestFlow::startTry(FlowRequest& r, TimePoint now, FlowDraws& draws, FlowHooks& hooks) {
  ServiceInfo& info = services_[r.service];
  config::ServiceRuntime& service = *info.runtime;

  core::resilience::PickRequest pr;
  pr.now = now;
  pr.avoid = r.target;  // kNoTargetIndex == core::resilience::kNoTarget on the first try
  switch (info.algorithm) {
    case core::resilience::LbAlgorithm::kWeightedRandom: pr.draw = draws.next(); break;
    case core::resilience::LbAlgorithm::kLeastRequest:
      pr.draw = draws.next();
      pr.draw2 = draws.next();
      break;
    case core::resilience::LbAlgorithm::kConsistentHash: pr.hash = r.lbHash; break;
    default: break;
  }
  const core::resilience::Pick pick = service.loadBalancer->pick(*service.targets, pr);
  if (!pick.ok()) return answer(r, kStatusUnavailable, Outcome::kNoTarget);
  const std::uint32_t t = pick.target;

  core::resilience::CircuitBreaker* breaker = service.breakerFor(t);
  r.permit = {};
  if (breaker != nullptr) {
    const core::resilience::Admission adm = breaker->tryAcquire(now);
    if (info.perTargetBreaker) service.targets->setBlockedUntil(t, breaker->blockedUntil());
    if (auto at = breaker->nextTransitionAt()) hooks.wakeAt(r.service, *at);
    if (!adm.admitted()) {
      const std::uint16_t status = adm.fallback != nullptr ? adm.fallback->status : kStatusUnavailable;
      Step s = answer(r, status, Outcome::kBreakerOpen);
      s.fallback = adm.fallback;
      return s;
    }
    r.permit = adm.permit;
  }
  r.breaker = breaker;
  r.target = t;
  r.tryStart = now;
  r.phase = FlowPhase::kInTry;
  ++r.tries;
  service.targets->onRequestStart(t);

  Step s;
  s.kind = StepKind::kSendTry;
  s.target = t;
  s.deadline = core::resilience::tryDeadline(service.timeouts, r.upstreamStart, now);
  return s;
}

Step RequestFlow::tryDone(FlowRequest& r, const CallOutcome& outcome, TimePoint now, FlowDraws& draws,
                          FlowHooks& hooks) {
  if (r.phase != FlowPhase::kInTry) invariantBroken("tryDone() without a try in flight");
  ServiceInfo& info = services_[r.service];
  config::ServiceRuntime& service = *info.runtime;
  const std::uint32_t t = r.target;

  service.targets->onRequestEnd(t);
  if (r.breaker != nullptr) {
    r.breaker->onResult(r.permit, outcome, now);
    if (info.perTargetBreaker) service.targets->setBlockedUntil(t, r.breaker->blockedUntil());
    if (auto at = r.breaker->nextTransitionAt()) hooks.wakeAt(r.service, *at);
  }
  r.permit = {};
  if (service.outlierDetector) {
    service.outlierDetector->onResult(t, outcome, now);
    if (auto at = service.outlierDetector->nextReturnAt()) hooks.wakeAt(r.service, *at);
  }

  if (service.retryPolicy && !r.replayable && r.budgetHeld) {  // this try was a retry; no other follows
    service.retryBudget->onRetryEnd();
    r.budgetHeld = false;
  }
  if (service.retryPolicy && r.replayable) {
    core::resilience::RetryQuery q;
    q.outcome = outcome;
    q.retriesDone = r.retriesDone;
    q.method = r.idempotent ? kIdempotentMethod : kNonIdempotentMethod;
    q.now = now;
    q.deadline = r.deadline;
    q.draw = draws.next();
    const core::resilience::RetryDecision d = service.retryPolicy->decide(q, service.retryBudget.get());
    if (r.budgetHeld) {
      service.retryBudget->onRetryEnd();
      r.budgetHeld = false;
    }
    if (d.retry()) {
      r.budgetHeld = d.budgetHeld;
      ++r.retriesDone;
      if (d.delay > core::Duration::zero()) {
        r.phase = FlowPhase::kBackoff;
        Step s;
        s.kind = StepKind::kWait;
        s.until = now + d.delay;
        return s;
      }
      return startTry(r, now, draws, hooks);
    }
  }

  switch (outcome.kind) {
    case OutcomeKind::kResponse: return answer(r, outcome.status, Outcome::kUpstream);
    case OutcomeKind::kConnectFailure: return answer(r, kStatusBadGateway, Outcome::kConnectFailure);
    case OutcomeKind::kTimeout: return answer(r, kStatusGatewayTimeout, Outcome::kTimeout);
    case OutcomeKind::kReset: return answer(r, kStatusBadGateway, Outcome::kReset);
  }
  invariantBroken("unknown outcome kind");
}

void RequestFlow::abandon(FlowRequest& r) {
  if (r.phase == FlowPhase::kDone || r.phase == FlowPhase::kNew) return;
  if (r.phase == FlowPhase::kStore) {  // nothing held yet: the upstream phase had not begun
    r.phase = FlowPhase::kDone;
    return;
  }
  if (r.phase == FlowPhase::kInTry) {
    config::ServiceRuntime& service = *services_[r.service].runtime;
    service.targets->onRequestEnd(r.target);
    if (r.breaker != nullptr) r.breaker->release(r.permit);
    r.permit = {};
  }
  answer(r, 0, Outcome::kUpstream);
}

Step RequestFlow::answer(FlowRequest& r, std::uint16_t status, Outcome outcome) {
  if (r.budgetStarted) {
    config::ServiceRuntime& service = *services_[r.service].runtime;
    // A retry that held a slot and was never sent (no target, breaker open) gives it back.
    if (r.budgetHeld) service.retryBudget->onRetryEnd();
    service.retryBudget->onRequestEnd();
    r.budgetHeld = false;
    r.budgetStarted = false;
  }
  r.phase = FlowPhase::kDone;
  Step s;
  s.kind = StepKind::kAnswer;
  s.status = status;
  s.outcome = outcome;
  return s;
}

void RequestFlow::wake(std::uint32_t service, TimePoint now, FlowHooks& hooks) {
  ServiceInfo& info = services_.at(service);
  config::ServiceRuntime& rt = *info.runtime;
  std::optional<TimePoint> next;
  const auto consider = [&next, now](std::optional<TimePoint> at) {
    if (at && *at > now && (!next || *at < *next)) next = at;
  };
  if (rt.outlierDetector) {
    rt.outlierDetector->advance(now);
    consider(rt.outlierDetector->nextReturnAt());
  }
  for (std::size_t b = 0; b < rt.breakers.size(); ++b) {
    core::resilience::CircuitBreaker& breaker = *rt.breakers[b];
    breaker.advance(now);
    if (info.perTargetBreaker) rt.targets->setBlockedUntil(b, breaker.blockedUntil());
    consider(breaker.nextTransitionAt());
  }
  if (next) hooks.wakeAt(service, *next);
}

}  // namespace gatelab::flow
