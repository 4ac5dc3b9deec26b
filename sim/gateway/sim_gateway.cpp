#include "sim/gateway/sim_gateway.hpp"

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>

#include "gateway/core/hash.hpp"
#include "gateway/core/rate_limit/key.hpp"
#include "gateway/core/rate_limit/policy.hpp"
#include "gateway/core/resilience/retry.hpp"
#include "gateway/core/resilience/timeouts.hpp"
#include "gateway/core/router.hpp"
#include "sim/engine/check.hpp"

namespace gatelab::sim {

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

constexpr std::size_t index(RequestOutcome o) noexcept { return static_cast<std::size_t>(o); }

}  // namespace

SimGateway::SimGateway(Simulation& sim, config::GatewayRuntime& runtime,
                       std::vector<std::vector<MockBackend*>> backends, GatewayObserver& observer, Rng rng)
    : sim_(sim), runtime_(runtime), observer_(observer), rng_(rng) {
  detail::check(backends.size() == runtime.services.size(), "SimGateway: one backend row per service");
  services_.resize(runtime.services.size());
  for (std::size_t s = 0; s < runtime.services.size(); ++s) {
    config::ServiceRuntime& rt = runtime.services[s];
    ServiceInfo& info = services_[s];
    detail::check(backends[s].size() == rt.targets->size(), "SimGateway: one backend per target");
    for (MockBackend* b : backends[s]) detail::check(b != nullptr, "SimGateway: null backend");
    info.runtime = &rt;
    info.backends = std::move(backends[s]);
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
      detail::check(found != kNoServiceIndex, "SimGateway: a route names a service the runtime lacks");
      routes_[r].serviceIndex.push_back(found);
    }
  }
}

SimGateway::~SimGateway() {
  // Pending events and backend calls capture `this`: drop them so nothing calls into a dead object.
  for (ServiceInfo& s : services_) sim_.cancel(s.wake);
  for (Request& r : slab_) {
    if (r.phase == Phase::kFree) continue;
    sim_.cancel(r.timer);
    if (r.phase == Phase::kInTry && r.backend != nullptr) r.backend->cancel(r.call);
  }
}

std::uint32_t SimGateway::allocate() {
  std::uint32_t slot;
  if (freeHead_ != kNoSlot) {
    slot = freeHead_;
    freeHead_ = slab_[slot].nextFree;
  } else {
    slot = static_cast<std::uint32_t>(slab_.size());
    slab_.emplace_back();
  }
  return slot;
}

void SimGateway::release(std::uint32_t slot) noexcept {
  Request& r = slab_[slot];
  const std::uint32_t generation = r.generation + 1;
  r = Request{};
  r.generation = generation == 0 ? 1 : generation;
  r.nextFree = freeHead_;
  freeHead_ = slot;
}

SimGateway::Request& SimGateway::live(std::uint32_t slot, std::uint32_t generation) noexcept {
  detail::check(slot < slab_.size() && slab_[slot].generation == generation && slab_[slot].phase != Phase::kFree,
                "SimGateway: event for a finished request");
  return slab_[slot];
}

std::uint64_t SimGateway::submit(const core::RequestView& request, ClientId client) {
  const TimePoint now = sim_.now();
  const std::uint64_t id = ++nextId_;
  ++stats_.submitted;
  ++stats_.inFlight;

  CompletionReport done;
  done.arrival = now;
  done.done = now;
  done.request = id;
  done.client = client;

  const core::RouteMatch match = runtime_.router.match(request, pathScratch_);
  if (match.status != core::MatchStatus::kMatched) {
    const bool bad = match.status == core::MatchStatus::kBadPath;
    done.status = bad ? kStatusBadRequest : kStatusNotFound;
    report(done, bad ? RequestOutcome::kBadRequest : RequestOutcome::kNotFound);
    return id;
  }
  const std::uint32_t routeIndex = match.routeIndex;
  done.route = routeIndex;
  const RouteInfo& route = routes_[routeIndex];
  const core::RouteSpec& spec = *match.route;

  std::uint32_t serviceIndex = route.serviceIndex[0];
  if (route.serviceIndex.size() > 1) {
    const core::WeightedService* picked = runtime_.router.pickService(routeIndex, rng_());
    detail::check(picked >= spec.services.data() && picked < spec.services.data() + spec.services.size(),
                  "SimGateway: pickService returned no service of the route");
    serviceIndex = route.serviceIndex[static_cast<std::size_t>(picked - spec.services.data())];
  }
  done.service = serviceIndex;
  ServiceInfo& service = services_[serviceIndex];

  // Rate limiting: every policy of the route, in order; the first reject answers.
  core::Duration delay{0};
  bool shadowRejected = false;
  auto& policies = runtime_.routes[routeIndex].rateLimits;
  if (!policies.empty()) {
    const core::ratelimit::KeyContext ctx{spec.name, service.runtime->config->name};
    for (std::size_t p = 0; p < policies.size(); ++p) {
      core::ratelimit::RateLimitPolicy& policy = *policies[p];
      const core::ratelimit::PolicyDecision d = policy.evaluate(request, ctx, now, keyScratch_);
      if (!d.applied) continue;
      RateLimitReport rl;
      rl.at = now;
      rl.request = id;
      rl.route = routeIndex;
      rl.policy = static_cast<std::uint32_t>(p);
      rl.client = client;
      rl.cost = policy.spec().cost;
      rl.decision = &d;
      observer_.onRateLimit(rl);
      if (policy.spec().shadow && d.wouldBe == core::ratelimit::Verdict::kReject) shadowRejected = true;
      if (d.verdict == core::ratelimit::Verdict::kReject) {
        done.status = d.status;
        done.shadowRejected = shadowRejected;
        report(done, RequestOutcome::kRateLimited);
        return id;
      }
      if (d.verdict == core::ratelimit::Verdict::kDelay) delay = std::max(delay, d.delay);
    }
  }

  const std::uint32_t slot = allocate();
  Request& r = slab_[slot];
  r.arrival = now;
  r.id = id;
  r.route = routeIndex;
  r.service = serviceIndex;
  r.client = client;
  r.idempotent = core::resilience::isIdempotentMethod(request.method);
  r.shadowRejected = shadowRejected;
  r.rateLimitDelay = delay;
  if (service.algorithm == core::resilience::LbAlgorithm::kConsistentHash) {
    std::string_view key = request.clientAddress;
    if (service.hashOnHeader) {
      if (auto h = request.header(service.hashHeader); h && !h->empty()) key = *h;
    }
    r.lbHash = core::hash128(key).lo;
  }
  if (delay > core::Duration::zero()) {
    r.phase = Phase::kDelayed;
    const std::uint32_t generation = r.generation;
    r.timer = sim_.schedule(
        delay,
        [this, slot, generation] {
          live(slot, generation).timer = EventId{};
          startUpstream(slot);
        },
        kGatewayRateLimitDelayEnd);
  } else {
    startUpstream(slot);
  }
  return id;
}

void SimGateway::startUpstream(std::uint32_t slot) {
  Request& r = slab_[slot];
  const config::ServiceRuntime& service = *services_[r.service].runtime;
  r.upstreamStart = sim_.now();
  r.deadline = core::resilience::overallDeadline(service.timeouts, r.upstreamStart);
  if (service.retryBudget) service.retryBudget->onRequestStart();
  startTry(slot);
}

void SimGateway::startTry(std::uint32_t slot) {
  Request& r = slab_[slot];
  ServiceInfo& info = services_[r.service];
  config::ServiceRuntime& service = *info.runtime;
  const TimePoint now = sim_.now();

  core::resilience::PickRequest pr;
  pr.now = now;
  pr.avoid = r.target;  // kNoTargetIndex == core::resilience::kNoTarget on the first try
  switch (info.algorithm) {
    case core::resilience::LbAlgorithm::kWeightedRandom: pr.draw = rng_(); break;
    case core::resilience::LbAlgorithm::kLeastRequest:
      pr.draw = rng_();
      pr.draw2 = rng_();
      break;
    case core::resilience::LbAlgorithm::kConsistentHash: pr.hash = r.lbHash; break;
    default: break;
  }
  const core::resilience::Pick pick = service.loadBalancer->pick(*service.targets, pr);
  if (!pick.ok()) {
    completeUpstream(slot, kStatusUnavailable, RequestOutcome::kNoTarget);
    return;
  }
  const std::uint32_t t = pick.target;

  core::resilience::CircuitBreaker* breaker = service.breakerFor(t);
  r.permit = {};
  if (breaker != nullptr) {
    const core::resilience::Admission adm = breaker->tryAcquire(now);
    if (info.perTargetBreaker) service.targets->setBlockedUntil(t, breaker->blockedUntil());
    if (auto at = breaker->nextTransitionAt()) armWake(r.service, *at);
    if (!adm.admitted()) {
      const std::uint16_t status = adm.fallback != nullptr ? adm.fallback->status : kStatusUnavailable;
      completeUpstream(slot, status, RequestOutcome::kBreakerOpen);
      return;
    }
    r.permit = adm.permit;
  }
  r.breaker = breaker;
  r.target = t;
  r.tryStart = now;
  r.phase = Phase::kInTry;
  ++r.tries;
  service.targets->onRequestStart(t);

  const std::uint32_t generation = r.generation;
  r.backend = info.backends[t];
  r.call = r.backend->call([this, slot, generation](const CallOutcome& o) { onBackendDone(slot, generation, o); });
  const TimePoint deadline = core::resilience::tryDeadline(service.timeouts, r.upstreamStart, now);
  if (deadline != core::resilience::kNoDeadline) {
    r.timer = sim_.schedule(
        std::max(deadline, now), [this, slot, generation] { onTryTimeout(slot, generation); }, kGatewayTryTimeout);
  } else {
    r.timer = EventId{};
  }
}

void SimGateway::onBackendDone(std::uint32_t slot, std::uint32_t generation, const CallOutcome& outcome) {
  Request& r = live(slot, generation);
  sim_.cancel(r.timer);
  r.timer = EventId{};
  finishTry(slot, outcome);
}

void SimGateway::onTryTimeout(std::uint32_t slot, std::uint32_t generation) {
  Request& r = live(slot, generation);
  r.timer = EventId{};
  r.backend->cancel(r.call);
  finishTry(slot, CallOutcome::timeout(sim_.now() - r.tryStart));
}

void SimGateway::finishTry(std::uint32_t slot, const CallOutcome& outcome) {
  Request& r = slab_[slot];
  ServiceInfo& info = services_[r.service];
  config::ServiceRuntime& service = *info.runtime;
  const TimePoint now = sim_.now();
  const std::uint32_t t = r.target;
  r.backend = nullptr;
  r.call = CallHandle{};

  service.targets->onRequestEnd(t);
  if (r.breaker != nullptr) {
    r.breaker->onResult(r.permit, outcome, now);
    if (info.perTargetBreaker) service.targets->setBlockedUntil(t, r.breaker->blockedUntil());
    if (auto at = r.breaker->nextTransitionAt()) armWake(r.service, *at);
  }
  if (service.outlierDetector) {
    service.outlierDetector->onResult(t, outcome, now);
    if (auto at = service.outlierDetector->nextReturnAt()) armWake(r.service, *at);
  }

  TryReport tr;
  tr.start = r.tryStart;
  tr.end = now;
  tr.request = r.id;
  tr.route = r.route;
  tr.service = r.service;
  tr.target = t;
  tr.attempt = r.retriesDone;
  tr.client = r.client;
  tr.outcome = outcome;
  observer_.onTry(tr);

  if (service.retryPolicy) {
    core::resilience::RetryQuery q;
    q.outcome = outcome;
    q.retriesDone = r.retriesDone;
    q.method = r.idempotent ? kIdempotentMethod : kNonIdempotentMethod;
    q.now = now;
    q.deadline = r.deadline;
    q.draw = rng_();
    const core::resilience::RetryDecision d = service.retryPolicy->decide(q, service.retryBudget.get());
    if (r.budgetHeld) {
      service.retryBudget->onRetryEnd();
      r.budgetHeld = false;
    }
    if (d.retry()) {
      r.budgetHeld = d.budgetHeld;
      ++r.retriesDone;
      if (d.delay > core::Duration::zero()) {
        r.phase = Phase::kBackoff;
        const std::uint32_t generation = r.generation;
        r.timer = sim_.schedule(
            d.delay,
            [this, slot, generation] {
              live(slot, generation).timer = EventId{};
              startTry(slot);
            },
            kGatewayBackoffEnd);
      } else {
        startTry(slot);
      }
      return;
    }
  }

  switch (outcome.kind) {
    case OutcomeKind::kResponse: completeUpstream(slot, outcome.status, RequestOutcome::kUpstream); break;
    case OutcomeKind::kConnectFailure:
      completeUpstream(slot, kStatusBadGateway, RequestOutcome::kConnectFailure);
      break;
    case OutcomeKind::kTimeout: completeUpstream(slot, kStatusGatewayTimeout, RequestOutcome::kTimeout); break;
    case OutcomeKind::kReset: completeUpstream(slot, kStatusBadGateway, RequestOutcome::kReset); break;
  }
}

void SimGateway::completeUpstream(std::uint32_t slot, std::uint16_t status, RequestOutcome outcome) {
  Request& r = slab_[slot];
  config::ServiceRuntime& service = *services_[r.service].runtime;
  if (service.retryBudget) {
    // A retry that held a slot and was never sent (no target, breaker open) gives it back.
    if (r.budgetHeld) service.retryBudget->onRetryEnd();
    service.retryBudget->onRequestEnd();
  }
  CompletionReport done;
  done.arrival = r.arrival;
  done.done = sim_.now();
  done.request = r.id;
  done.route = r.route;
  done.service = r.service;
  done.target = r.tries > 0 ? r.target : kNoTargetIndex;
  done.client = r.client;
  done.status = status;
  done.tries = r.tries;
  done.rateLimitDelay = r.rateLimitDelay;
  done.shadowRejected = r.shadowRejected;
  release(slot);
  report(done, outcome);
}

void SimGateway::report(CompletionReport& done, RequestOutcome outcome) {
  done.outcome = outcome;
  ++stats_.completed;
  --stats_.inFlight;
  ++stats_.byOutcome[index(outcome)];
  observer_.onComplete(done);
}

void SimGateway::armWake(std::uint32_t service, TimePoint at) {
  ServiceInfo& info = services_[service];
  const TimePoint now = sim_.now();
  if (at <= now || at >= info.wakeAt) return;
  sim_.cancel(info.wake);
  info.wakeAt = at;
  info.wake = sim_.schedule(at, [this, service] { onWake(service); }, kGatewayPolicyWake);
}

void SimGateway::onWake(std::uint32_t service) {
  ServiceInfo& info = services_[service];
  config::ServiceRuntime& rt = *info.runtime;
  const TimePoint now = sim_.now();
  info.wake = EventId{};
  info.wakeAt = TimePoint::max();
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
  if (next) armWake(service, *next);
}

}  // namespace gatelab::sim
