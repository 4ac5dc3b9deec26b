#include "gateway/config/runtime.hpp"

#include <string>
#include <utility>
#include <variant>

namespace gatelab::config {
namespace {

namespace res = core::resilience;

std::string servicePath(std::size_t i) { return "services[" + std::to_string(i) + "]"; }

// Builds one service's objects. The loader has run the core's validate functions already; they
// are checked again here because a GatewayConfig can also be assembled in code, and the core's
// constructors only assert their preconditions.
ServiceRuntime buildService(const ServiceConfig& s, std::size_t index, core::EventSink& events, core::TimePoint start,
                            std::vector<std::string>& errors) {
  ServiceRuntime out;
  out.config = &s;
  out.timeouts = s.timeouts;
  const std::string path = servicePath(index);
  auto check = [&](const std::optional<std::string>& why) {
    if (why) errors.push_back(path + "." + *why);
    return !why;
  };
  if (const char* why = res::validateTimeouts(s.timeouts)) errors.push_back(path + "." + why);
  std::vector<res::TargetSpec> specs = s.targetSpecs();
  if (!check(res::validateTargets(specs)) || s.loadBalancer.panicThreshold.milli > res::Percent::kHundred ||
      !check(res::validateLbConfig(s.loadBalancer.lb))) {
    return out;
  }
  out.targets = std::make_unique<res::TargetSet>(s.name, std::move(specs), s.loadBalancer.panicThreshold);
  out.loadBalancer = res::makeLoadBalancer(s.loadBalancer.lb, *out.targets);

  if (s.circuitBreaker && check(res::validateBreakerConfig(s.circuitBreaker->breaker))) {
    const CircuitBreakerConfig& cb = *s.circuitBreaker;
    const std::size_t count = cb.perTarget ? out.targets->size() : 1;
    for (std::size_t i = 0; i < count; ++i) {
      core::EventSubject subject{s.name, cb.perTarget ? out.targets->target(i).name : std::string{}};
      auto breaker = std::make_unique<res::CircuitBreaker>(cb.breaker, std::move(subject), events);
      if (cb.mode == BreakerMode::kForcedOpen) breaker->forceOpen(start, "mode: forced_open in the config");
      if (cb.mode == BreakerMode::kDisabled) breaker->disable(start, "mode: disabled in the config");
      if (cb.perTarget) out.targets->setBlockedUntil(i, breaker->blockedUntil());
      out.breakers.push_back(std::move(breaker));
    }
  }
  if (s.outlierDetection && check(res::validateOutlierConfig(*s.outlierDetection))) {
    out.outlierDetector = std::make_unique<res::OutlierDetector>(*s.outlierDetection, *out.targets, events);
  }
  if (s.retries && check(res::validateRetryConfig(s.retries->policy)) &&
      check(res::validateRetryBudgetConfig(s.retries->budget))) {
    out.retryPolicy = std::make_unique<res::RetryPolicy>(s.retries->policy);
    out.retryBudget = std::make_unique<res::RetryBudget>(s.retries->budget);
  }
  return out;
}

// Every key of every consumer, as ApiKeyAuth takes them (digests, owned by their consumer ids).
std::vector<core::auth::ApiKeySpec> consumerKeys(const GatewayConfig& config) {
  std::vector<core::auth::ApiKeySpec> keys;
  for (const ConsumerConfig& c : config.consumers) {
    for (const ConsumerKey& k : c.keys) keys.push_back(core::auth::ApiKeySpec{c.id, k.digest, k.id});
  }
  return keys;
}

// Builds one access or shaping policy into `route`. The loader ran the core's factories already;
// they run again here (a GatewayConfig can also be assembled in code) and report through `errors`.
struct RoutePolicyBuilder {
  const GatewayConfig& config;
  const std::shared_ptr<const core::auth::ConsumerRegistry>& consumers;
  RouteRuntime& route;
  core::SpecErrors& errors;

  void operator()(const core::ratelimit::RateLimitPolicySpec& spec) const {
    std::string error;
    auto policy = core::ratelimit::RateLimitPolicy::create(spec, error);
    if (!policy) {
      errors.push_back({"", error});
      return;
    }
    route.rateLimits.push_back(std::move(policy));
  }
  void operator()(const JwtPolicyConfig& spec) const {
    if (spec.keys.empty()) {
      errors.push_back({"keys", "a jwt policy needs at least one key"});
      return;
    }
    if (auto why = core::auth::validateJwtConfig(spec.rules)) {
      errors.push_back({"", *why});
      return;
    }
    if (auto why = core::auth::validateTokenSources(spec.tokenSources)) {
      errors.push_back({"token_sources", *why});
      return;
    }
    if (spec.cacheEntries && (*spec.cacheEntries < 1 || *spec.cacheEntries >= (std::size_t{1} << 31))) {
      errors.push_back({"cache.max_entries", "must be between 1 and 2^31 - 1"});
      return;
    }
    route.jwt = std::make_shared<const core::auth::JwtVerifier>(spec.keys, spec.rules);
    route.jwtPolicy = &spec;
    if (spec.cacheEntries) route.jwtCache = std::make_unique<core::auth::VerifiedTokenCache>(*spec.cacheEntries);
  }
  void operator()(const KeyAuthPolicyConfig& spec) const {
    core::auth::ApiKeyAuthSpec s;
    s.sources = spec.sources;
    s.keys = consumerKeys(config);
    s.hideCredentials = spec.hideCredentials;
    s.anonymous = spec.anonymous;
    route.keyAuth = core::auth::ApiKeyAuth::create(std::move(s), consumers, errors);
    if (route.keyAuth) route.keyAuthPolicy = &spec;
  }
  void operator()(const core::auth::AclSpec& spec) const { route.acl = core::auth::AccessControl::create(spec, errors); }
  void operator()(const core::shaping::CorsSpec& spec) const { route.cors = core::shaping::CorsPolicy::create(spec, errors); }
  void operator()(const RequestHeadersConfig& spec) const {
    route.requestHeaders = core::shaping::HeaderTransform::create(spec.transform, errors);
  }
  void operator()(const ResponseHeadersConfig& spec) const {
    route.responseHeaders = core::shaping::HeaderTransform::create(spec.transform, errors);
  }
  void operator()(const core::shaping::AggregateSpec& spec) const {
    if (!core::shaping::validateAggregate(spec, errors)) return;
    for (std::size_t i = 0; i < spec.parts.size(); ++i) {
      if (config.findService(spec.parts[i].service) == nullptr)
        errors.push_back({"parts[" + std::to_string(i) + "].service", "unknown service \"" + spec.parts[i].service + "\""});
    }
    route.aggregate = &spec;
  }
  void operator()(const CachePolicyConfig& spec) const {
    if (auto cache = core::cache::ResponseCache::create(spec.spec, errors))
      route.cache = std::make_unique<core::cache::ResponseCache>(std::move(*cache));
  }
  void operator()(const ResponseProjectionConfig& spec) const {
    route.projection = core::shaping::JsonProjection::create(spec.spec, errors);
  }
};

BuildResult build(std::shared_ptr<const GatewayConfig> config, std::unique_ptr<core::NullEventSink> owned,
                  core::EventSink& events, core::TimePoint start) {
  BuildResult out;
  auto fail = [&](std::string path, std::string message) {
    out.diagnostics.push_back(Diagnostic{config->source, 0, 0, std::move(path), std::move(message), ""});
  };
  core::RouterBuild rb = core::Router::build(config->routeSpecs());
  for (std::string& e : rb.errors) fail("routes", std::move(e));

  // Shared by every route: the consumers (key_auth, ACL groups) and the identity-header names.
  std::shared_ptr<const core::auth::ConsumerRegistry> consumers;
  {
    std::vector<core::auth::Consumer> list;
    for (const ConsumerConfig& c : config->consumers) list.push_back(core::auth::Consumer{c.id, c.groups});
    core::SpecErrors errors;
    consumers = core::auth::ConsumerRegistry::create(std::move(list), errors);
    for (core::SpecError& e : errors) fail(std::move(e.field), std::move(e.message));
  }
  std::optional<core::auth::IdentityPolicy> identity;
  {
    core::SpecErrors errors;
    identity = core::auth::IdentityPolicy::create(config->identityHeaders, errors);
    for (core::SpecError& e : errors) fail("identity_headers." + e.field, std::move(e.message));
  }

  std::vector<RouteRuntime> routes(config->routes.size());
  for (std::size_t r = 0; r < config->routes.size() && consumers != nullptr; ++r) {
    const RouteConfig& route = config->routes[r];
    for (std::size_t p = 0; p < route.policies.size(); ++p) {
      core::SpecErrors errors;
      std::visit(RoutePolicyBuilder{*config, consumers, routes[r], errors}, route.policies[p]);
      const std::string path = "routes[" + std::to_string(r) + "].policies[" + std::to_string(p) + "]." +
                               std::string(policyKind(route.policies[p]));
      for (core::SpecError& e : errors) fail(e.field.empty() ? path : path + "." + e.field, std::move(e.message));
    }
  }

  std::vector<ServiceRuntime> services;
  services.reserve(config->services.size());
  for (std::size_t i = 0; i < config->services.size(); ++i) {
    std::vector<std::string> errors;
    services.push_back(buildService(config->services[i], i, events, start, errors));
    for (std::string& e : errors) {
      const std::size_t colon = e.find(": ");
      fail(e.substr(0, colon), colon == std::string::npos ? e : e.substr(colon + 2));
    }
  }

  if (!out.diagnostics.empty()) return out;
  out.runtime = std::make_unique<GatewayRuntime>(GatewayRuntime{std::move(owned), &events, std::move(config),
                                                                std::move(*rb.router), std::move(routes),
                                                                std::move(services), std::move(consumers),
                                                                std::move(identity)});
  // Routes that authenticate tell the upstream who it was (and strip what clients claim).
  for (RouteRuntime& route : out.runtime->routes) {
    if (route.jwt != nullptr || route.keyAuth.has_value()) route.identity = &*out.runtime->identity;
  }
  return out;
}

}  // namespace

res::CircuitBreaker* ServiceRuntime::breakerFor(std::size_t target) const noexcept {
  if (breakers.empty()) return nullptr;
  return breakers.size() == 1 ? breakers.front().get() : breakers[target].get();
}

ServiceRuntime* GatewayRuntime::findService(std::string_view name) noexcept {
  for (ServiceRuntime& s : services) {
    if (s.config != nullptr && s.config->name == name) return &s;
  }
  return nullptr;
}

const ServiceRuntime* GatewayRuntime::findService(std::string_view name) const noexcept {
  for (const ServiceRuntime& s : services) {
    if (s.config != nullptr && s.config->name == name) return &s;
  }
  return nullptr;
}

BuildResult buildRuntime(std::shared_ptr<const GatewayConfig> config, core::EventSink& events, core::TimePoint start) {
  return build(std::move(config), nullptr, events, start);
}

BuildResult buildRuntime(std::shared_ptr<const GatewayConfig> config) {
  auto owned = std::make_unique<core::NullEventSink>();
  core::EventSink& events = *owned;
  return build(std::move(config), std::move(owned), events, core::TimePoint{});
}

}  // namespace gatelab::config
