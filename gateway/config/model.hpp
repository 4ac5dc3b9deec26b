#pragma once
// GatewayConfig: the validated, typed, immutable form of a gateway config file.
//
// Built only by the loader (loader.hpp), which has checked every range and cross-field rule, and
// handed out as std::shared_ptr<const GatewayConfig>: share it freely between threads (it is never
// mutated), keep the old one alive while a reload validates the new one.
//
// Route and policy values are the core's spec types (core::RouteSpec,
// core::ratelimit::RateLimitPolicySpec), so the router and limiter factories consume them directly.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/config/address.hpp"
#include "gateway/core/rate_limit/policy_spec.hpp"
#include "gateway/core/route_spec.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::config {

/// The config format versions this build reads.
inline constexpr int kSupportedVersion = 1;

/// One upstream server of a service.
struct Target {
  TargetUrl url;
  std::uint32_t weight = 1;  ///< 1..1000, relative share of the service's traffic
};

/// An upstream service: a named group of targets.
struct ServiceConfig {
  std::string name;             ///< unique, [A-Za-z0-9_.-]+
  std::vector<Target> targets;  ///< at least one, no duplicate URLs
  /// Upstream response timeout (time to the response headers). Default 60s, as nginx
  /// proxy_read_timeout and Kong's read_timeout (Envoy's route timeout defaults to 15s).
  core::Duration timeout = std::chrono::seconds{60};
};

/// A policy attached to a route. One alternative per policy kind; later kinds (jwt, key_auth,
/// acl, cors, cache, transform...) are added as alternatives.
using PolicySpec = std::variant<core::ratelimit::RateLimitPolicySpec>;

/// A route: what it matches and where it sends traffic (the core's RouteSpec), plus its policies
/// in the order they were written (the order they run).
struct RouteConfig {
  core::RouteSpec spec;
  std::vector<PolicySpec> policies;

  [[nodiscard]] const std::string& name() const noexcept { return spec.name; }
};

struct GatewayConfig {
  int version = kSupportedVersion;
  HostPort listen{"127.0.0.1", 8080};  ///< where the proxy accepts client traffic
  HostPort admin{"127.0.0.1", 9901};   ///< where the admin API (/metrics, /healthz, reload) listens
  std::vector<ServiceConfig> services;  ///< in file order, names unique
  std::vector<RouteConfig> routes;      ///< in file order, names unique
  std::string source;                   ///< display name of the file it came from

  /// The service named `name`, or nullptr. O(number of services).
  [[nodiscard]] const ServiceConfig* findService(std::string_view name) const noexcept;
  /// The route named `name`, or nullptr. O(number of routes).
  [[nodiscard]] const RouteConfig* findRoute(std::string_view name) const noexcept;
  /// The routes' specs in file order, as the router compiler takes them.
  [[nodiscard]] std::vector<core::RouteSpec> routeSpecs() const;
  /// Every rate-limit policy of every route, in file order.
  [[nodiscard]] std::vector<const core::ratelimit::RateLimitPolicySpec*> rateLimitPolicies() const;
};

}  // namespace gatelab::config
