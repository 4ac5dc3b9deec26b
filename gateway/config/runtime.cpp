#include "gateway/config/runtime.hpp"

#include <string>
#include <utility>

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

BuildResult build(std::shared_ptr<const GatewayConfig> config, std::unique_ptr<core::NullEventSink> owned,
                  core::EventSink& events, core::TimePoint start) {
  BuildResult out;
  auto fail = [&](std::string path, std::string message) {
    out.diagnostics.push_back(Diagnostic{config->source, 0, 0, std::move(path), std::move(message), ""});
  };
  core::RouterBuild rb = core::Router::build(config->routeSpecs());
  for (std::string& e : rb.errors) fail("routes", std::move(e));

  std::vector<RouteRuntime> routes(config->routes.size());
  for (std::size_t r = 0; r < config->routes.size(); ++r) {
    const RouteConfig& route = config->routes[r];
    for (std::size_t p = 0; p < route.policies.size(); ++p) {
      if (const auto* spec = std::get_if<core::ratelimit::RateLimitPolicySpec>(&route.policies[p])) {
        std::string error;
        auto policy = core::ratelimit::RateLimitPolicy::create(*spec, error);
        if (!policy) {
          fail("routes[" + std::to_string(r) + "].policies[" + std::to_string(p) + "].rate_limit", error);
          continue;
        }
        routes[r].rateLimits.push_back(std::move(policy));
      }
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
                                                                std::move(services)});
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
