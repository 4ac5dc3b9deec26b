#pragma once
// GatewayRuntime: the core objects built from a validated config, shared by both hosts (the
// simulator and the live proxy build exactly this, so they decide exactly alike).
//
// Stage 3 of parse -> validate -> build: the loader has checked the config; building compiles
// the router and creates each route's policies. Building can still fail on what only the core
// can check (a regex RE2 rejects, arithmetic bounds of a limit); those failures come back as
// diagnostics naming the route or policy.

#include <memory>
#include <vector>

#include "gateway/config/diagnostics.hpp"
#include "gateway/config/model.hpp"
#include "gateway/core/rate_limit/policy.hpp"
#include "gateway/core/router.hpp"

namespace gatelab::config {

/// One route's runtime policies, in the order the config lists them.
struct RouteRuntime {
  std::vector<std::unique_ptr<core::ratelimit::RateLimitPolicy>> rateLimits;
};

/// Owns mutable limiter state: one runtime per host thread (or guarded by its owner).
struct GatewayRuntime {
  std::shared_ptr<const GatewayConfig> config;
  core::Router router;
  std::vector<RouteRuntime> routes;  ///< indexed like config->routes and router.routes()
};

struct BuildResult {
  std::unique_ptr<GatewayRuntime> runtime;  ///< non-null iff `diagnostics` is empty
  std::vector<Diagnostic> diagnostics;
  [[nodiscard]] bool ok() const noexcept { return runtime != nullptr; }
};

/// Builds the runtime for a validated config. Precondition: `config` is non-null.
[[nodiscard]] BuildResult buildRuntime(std::shared_ptr<const GatewayConfig> config);

}  // namespace gatelab::config
