#include "gateway/flow/request_flow.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <variant>

#include "gateway/core/auth/token_source.hpp"
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
constexpr std::uint16_t kStatusUnauthorized = 401;
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
    case Outcome::kUnauthorized: return "unauthorized";
    case Outcome::kForbidden: return "forbidden";
    case Outcome::kPreflight: return "preflight";
    case Outcome::kCacheHit: return "cache_hit";
    case Outcome::kCacheStale: return "cache_stale";
    case Outcome::kCacheUnavailable: return "cache_unavailable";
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
  // The deciding policies of each route in the config's order; jwt and key_auth authenticate
  // together (either credential admits: docs/security.md) at the first one's place.
  stages_.resize(specs.size());
  const auto& routeConfigs = runtime.config->routes;
  if (routeConfigs.size() != specs.size()) invariantBroken("the runtime's router and config disagree on the routes");
  for (std::size_t r = 0; r < specs.size(); ++r) {
    std::uint32_t rateLimit = 0;
    Stage* auth = nullptr;
    for (const config::PolicySpec& p : routeConfigs[r].policies) {
      // The stage each policy type decides in (type-checked: a new policy type must be placed
      // here or the overload set below stops compiling); transforms and the like have none, the
      // host applies them when forwarding.
      using K = std::optional<Stage::Kind>;
      struct Classify {
        K operator()(const core::ratelimit::RateLimitPolicySpec&) const { return Stage::Kind::kRateLimit; }
        K operator()(const core::shaping::CorsSpec&) const { return Stage::Kind::kCors; }
        K operator()(const core::auth::AclSpec&) const { return Stage::Kind::kAcl; }
        K operator()(const config::CachePolicyConfig&) const { return Stage::Kind::kCache; }
        K operator()(const config::JwtPolicyConfig&) const { return Stage::Kind::kAuthenticate; }
        K operator()(const config::KeyAuthPolicyConfig&) const { return Stage::Kind::kAuthenticate; }
        K operator()(const config::RequestHeadersConfig&) const { return std::nullopt; }
        K operator()(const config::ResponseHeadersConfig&) const { return std::nullopt; }
        K operator()(const core::shaping::AggregateSpec&) const { return std::nullopt; }
        K operator()(const config::ResponseProjectionConfig&) const { return std::nullopt; }
      };
      const std::optional<Stage::Kind> kind = std::visit(Classify{}, p);
      if (!kind) continue;
      Stage stage;
      stage.kind = *kind;
      if (stage.kind == Stage::Kind::kRateLimit) stage.rateLimit = rateLimit++;
      if (stage.kind == Stage::Kind::kAuthenticate) {
        if (auth != nullptr) continue;  // jwt and key_auth decide together, at the first one's place
        stage.keyAuthFirst = std::holds_alternative<config::KeyAuthPolicyConfig>(p);
      }
      stages_[r].push_back(stage);
      if (stage.kind == Stage::Kind::kAuthenticate) auth = &stages_[r].back();
    }
    if (rateLimit != runtime.routes[r].rateLimits.size())
      invariantBroken("the runtime's rate limits and the config's disagree");
  }
  partServices_.resize(specs.size());
  for (std::size_t r = 0; r < specs.size(); ++r) {
    const core::shaping::AggregateSpec* aggregate = runtime.routes[r].aggregate;
    if (aggregate == nullptr) continue;
    for (const core::shaping::AggregatePart& part : aggregate->parts) {
      const config::ServiceRuntime* service = runtime.findService(part.service);
      if (service == nullptr) invariantBroken("an aggregate part names a service the runtime lacks");
      partServices_[r].push_back(static_cast<std::uint32_t>(service - runtime.services.data()));
    }
  }
}

Step RequestFlow::start(FlowRequest& r, const core::RequestView& request, TimePoint now, FlowDraws& draws,
                        FlowHooks& hooks) {
  access_.unixNow = now;
  return start(r, request, now, draws, hooks, access_);
}

Step RequestFlow::start(FlowRequest& r, const core::RequestView& request, TimePoint now, FlowDraws& draws,
                        FlowHooks& hooks, AccessState& access) {
  r = FlowRequest{};
  r.arrival = now;
  access.reset();

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
  Step s = runPolicies(r, request, 0, now, draws, hooks, access);
  s.upstreamPath = match.upstreamPath;
  return s;
}

Step RequestFlow::runPolicies(FlowRequest& r, const core::RequestView& request, std::uint32_t fromStage,
                              TimePoint now, FlowDraws& draws, FlowHooks& hooks, AccessState& access) {
  const std::vector<Stage>& stages = stages_[r.route];
  config::RouteRuntime& route = runtime_.routes[r.route];
  const core::RouteSpec& spec = runtime_.router.routes()[r.route];
  const core::ratelimit::KeyContext ctx{spec.name, services_[r.service].runtime->config->name};
  // What the policies see: after authentication, its consumer and claims.
  core::RequestView view = access.view(request);
  for (std::size_t i = fromStage; i < stages.size(); ++i) {
    const Stage& stage = stages[i];
    switch (stage.kind) {
      case Stage::Kind::kCors: {
        access.cors = route.cors->evaluate(view);
        if (access.cors->respondNow()) {
          access.refusedBy = AccessPolicy::kCors;
          access.reason = core::shaping::toString(access.cors->reason);
          return answer(r, access.cors->status, Outcome::kPreflight);
        }
        break;
      }
      case Stage::Kind::kAuthenticate:
        if (auto s = authenticate(r, request, stage.keyAuthFirst, access)) return *s;
        view = access.view(request);
        break;
      case Stage::Kind::kAcl:
        if (auto s = checkAcl(r, view, access)) return *s;
        break;
      case Stage::Kind::kCache: {
        access.cache = route.cache->lookup(view, now);
        const core::cache::CacheLookup& l = *access.cache;
        if (l.status == core::cache::CacheStatus::kHit)
          return answer(r, l.notModified ? std::uint16_t{304} : l.response->status, Outcome::kCacheHit);
        if (l.onlyIfCached) return answer(r, kStatusGatewayTimeout, Outcome::kCacheUnavailable);
        break;
      }
      case Stage::Kind::kRateLimit: {
        const std::uint32_t p = stage.rateLimit;
        core::ratelimit::RateLimitPolicy& policy = *route.rateLimits[p];
        const std::optional<core::Hash128> key = policy.keyOf(view, ctx, keyScratch_);
        if (!key) break;  // a key component is missing: the policy does not apply
        if (askStores_ && policy.spec().store != core::ratelimit::StoreKind::kLocal) {
          r.storeKey = *key;
          r.storePolicy = p;
          r.storeStage = static_cast<std::uint32_t>(i);
          r.phase = FlowPhase::kStore;
          Step s;
          s.kind = StepKind::kAskStore;
          s.storePolicy = p;
          return s;
        }
        // The host hears the key before the limiter's lookup (a prefetch hint), then the decision.
        hooks.willDecide(r.route, p, *key);
        const core::ratelimit::PolicyDecision d = policy.evaluateKey(*key, now);
        if (auto s = applyDecision(r, p, d, hooks)) return *s;
        break;
      }
    }
  }
  return admitted(r, now, draws, hooks);
}

std::optional<Step> RequestFlow::authenticate(FlowRequest& r, const core::RequestView& request, bool keyAuthFirst,
                                              AccessState& access) {
  namespace auth = core::auth;
  config::RouteRuntime& route = runtime_.routes[r.route];
  access.authRan = true;
  const auth::Consumer* anonymous = nullptr;
  // The refusal to report: the first policy whose credential was present but wrong, else the
  // first that found none.
  AccessPolicy refusedBy = AccessPolicy::kNone;
  std::string_view reason;
  bool presented = false;
  const auto refused = [&](AccessPolicy policy, std::string_view why, bool credentialPresent) {
    if (refusedBy == AccessPolicy::kNone || (credentialPresent && !presented)) {
      refusedBy = policy;
      reason = why;
      presented = credentialPresent;
    }
  };

  const auto tryJwt = [&]() -> bool {
    if (!route.jwt) return false;
    const config::JwtPolicyConfig& policy = *route.jwtPolicy;
    std::optional<auth::FoundToken> found = auth::findToken(request, policy.tokenSources);
    auth::JwtResult result = !found            ? auth::jwtFailure(auth::JwtReason::kMissingToken)
                             : route.jwtCache ? route.jwt->verify(found->token, access.unixNow, *route.jwtCache)
                                              : route.jwt->verify(found->token, access.unixNow);
    access.jwtReason = result.reason;
    if (!result.ok()) {
      access.challenges.push_back(auth::bearerChallenge(result, policy.realm));
      if (access.detail.empty()) access.detail = std::move(result.detail);
      refused(AccessPolicy::kJwt, auth::toString(result.reason), result.reason != auth::JwtReason::kMissingToken);
      return false;
    }
    access.token = std::move(result.token);
    access.jwtCacheHit = result.cacheHit;
    access.claims.clear();
    for (const auth::Claim& c : access.token->claims) access.claims.push_back(core::Header{c.name, c.value});
    access.authenticated = true;
    access.authenticatedBy = AccessPolicy::kJwt;
    if (!policy.consumerClaim.empty()) {
      if (auto id = access.token->claim(policy.consumerClaim); id && !id->empty()) {
        access.consumer = runtime_.consumers->find(*id);
        access.consumerId = *id;
      }
    }
    if (auto sub = access.token->claim("sub")) access.userId = *sub;
    if (auto scope = access.token->claim("scope")) {
      access.scopes = *scope;
    } else if (auto scp = access.token->claim("scp")) {
      access.scopes = *scp;
    }
    return true;
  };
  const auto tryKey = [&]() -> bool {
    if (!route.keyAuth) return false;
    auth::ApiKeyResult result = route.keyAuth->authenticate(request);
    access.keyReason = result.reason;
    access.hide = std::move(result.hide);
    if (!result.authenticated()) {
      if (result.admitted()) anonymous = result.consumer;
      access.challenges.push_back(auth::apiKeyChallenge(route.keyAuthPolicy->realm));
      refused(AccessPolicy::kKeyAuth, auth::toString(result.reason), result.reason != auth::ApiKeyReason::kMissingKey);
      return false;
    }
    access.consumer = result.consumer;
    access.consumerId = result.consumer->id;
    access.credential = result.credential;
    access.authenticated = true;
    access.authenticatedBy = AccessPolicy::kKeyAuth;
    return true;
  };

  const bool ok = keyAuthFirst ? (tryKey() || tryJwt()) : (tryJwt() || tryKey());
  if (ok || anonymous != nullptr) {
    // A key sent beside an accepted JWT is still stripped when the key_auth hides credentials.
    if (route.keyAuth && !access.keyReason && route.keyAuthPolicy->hideCredentials)
      access.hide = route.keyAuth->authenticate(request).hide;
    if (!ok) {
      access.consumer = anonymous;
      access.consumerId = anonymous->id;
      access.anonymous = true;
    }
    access.challenges.clear();
    access.detail.clear();
    return std::nullopt;
  }
  access.refusedBy = refusedBy;
  access.reason = reason;
  return answer(r, kStatusUnauthorized, Outcome::kUnauthorized);
}

std::optional<Step> RequestFlow::checkAcl(FlowRequest& r, const core::RequestView& view, AccessState& access) {
  const config::RouteRuntime& route = runtime_.routes[r.route];
  core::auth::AclSubject subject;
  subject.method = view.method;
  subject.authenticated = access.authenticated || access.anonymous;
  if (access.consumer != nullptr) subject.groups = access.consumer->groups;
  subject.claims = access.claims;
  const core::auth::AclDecision d = route.acl->check(subject);
  access.aclReason = d.reason;
  if (d.allowed()) return std::nullopt;
  access.refusedBy = AccessPolicy::kAcl;
  access.reason = core::auth::toString(d.reason);
  access.detail.assign(d.which);
  if (d.reason == core::auth::AclReason::kMissingScope && access.token != nullptr) {
    access.challenges.push_back(core::auth::insufficientScopeChallenge(d.which, route.jwtPolicy->realm));
  }
  const std::uint16_t status = d.status();
  return answer(r, status, status == kStatusUnauthorized ? Outcome::kUnauthorized : Outcome::kForbidden);
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
                                FlowHooks& hooks, AccessState& access) {
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
  return runPolicies(r, request, r.storeStage + 1, now, draws, hooks, access);
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
  const core::shaping::AggregateSpec* aggregate = runtime_.routes[r.route].aggregate;
  if (aggregate != nullptr && r.part == kNoPart) {
    r.phase = FlowPhase::kFanOut;
    r.upstreamStart = now;
    Step s;
    s.kind = StepKind::kFanOut;
    return s;
  }
  const config::ServiceRuntime& service = *services_[r.service].runtime;
  r.upstreamStart = now;
  r.deadline = core::resilience::overallDeadline(service.timeouts, r.upstreamStart);
  if (r.part != kNoPart) {
    if (const auto& timeout = aggregate->parts[r.part].timeout) r.deadline = std::min(r.deadline, now + *timeout);
  }
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
  // A part's own timeout can end the try earlier than the service's timeouts would.
  s.deadline = std::min(core::resilience::tryDeadline(service.timeouts, r.upstreamStart, now), r.deadline);
  return s;
}

Step RequestFlow::startPart(FlowRequest& part, const FlowRequest& parent, std::uint32_t index, TimePoint now,
                            FlowDraws& draws, FlowHooks& hooks) {
  if (parent.phase != FlowPhase::kFanOut) invariantBroken("startPart() without a pending fan-out");
  const std::vector<std::uint32_t>& services = partServices_[parent.route];
  if (index >= services.size()) invariantBroken("startPart() for a part the aggregate lacks");
  part = FlowRequest{};
  part.arrival = now;
  part.route = parent.route;
  part.service = services[index];
  part.part = index;
  part.idempotent = true;  // parts are GETs
  part.lbHash = parent.lbHash;
  return startUpstream(part, now, draws, hooks);
}

core::cache::StoreResult RequestFlow::cacheStore(const FlowRequest& r, const core::cache::CacheLookup& l,
                                                const core::RequestView& request, core::cache::UpstreamResponse response,
                                                TimePoint sentAt, TimePoint now) {
  core::cache::StoreResult result{core::cache::StoreOutcome::kNotAllowed, 0};
  if (r.route == kNoRouteIndex || !runtime_.routes[r.route].cache) return result;
  core::cache::ResponseCache& cache = *runtime_.routes[r.route].cache;
  if (l.invalidates) cache.invalidate(l, response.status);
  if (l.mayStore) result = cache.store(l, request, std::move(response), sentAt, now);
  return result;
}

std::optional<core::cache::StaleResponse> RequestFlow::cacheStale(const FlowRequest& r,
                                                                  const core::cache::CacheLookup& lookup,
                                                                  const Step& answer, TimePoint now) {
  if (r.route == kNoRouteIndex || !runtime_.routes[r.route].cache) return std::nullopt;
  const std::optional<core::cache::UpstreamFailure> failure = staleCandidate(answer);
  if (!failure) return std::nullopt;
  return runtime_.routes[r.route].cache->staleOnError(lookup, *failure, answer.status, now);
}

std::optional<core::cache::UpstreamFailure> RequestFlow::staleCandidate(const Step& answer) noexcept {
  switch (answer.outcome) {
    case Outcome::kConnectFailure:
    case Outcome::kReset:
    case Outcome::kNoTarget:
    case Outcome::kBreakerOpen: return core::cache::UpstreamFailure::kConnect;
    case Outcome::kTimeout: return core::cache::UpstreamFailure::kTimeout;
    case Outcome::kUpstream: return core::cache::UpstreamFailure::kStatus;
    default: return std::nullopt;
  }
}

Step RequestFlow::fanInDone(FlowRequest& r, std::span<const bool> partOk) {
  if (r.phase != FlowPhase::kFanOut) invariantBroken("fanInDone() without a pending fan-out");
  const core::shaping::AggregateVerdict v = core::shaping::decide(*runtime_.routes[r.route].aggregate, partOk);
  return answer(r, v.status, Outcome::kUpstream);
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
