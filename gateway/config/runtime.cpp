#include "gateway/config/runtime.hpp"

#include <utility>

namespace gatelab::config {

BuildResult buildRuntime(std::shared_ptr<const GatewayConfig> config) {
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
  if (!out.diagnostics.empty()) return out;
  out.runtime = std::make_unique<GatewayRuntime>(GatewayRuntime{std::move(config), std::move(*rb.router), std::move(routes)});
  return out;
}

}  // namespace gatelab::config
