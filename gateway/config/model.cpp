#include "gateway/config/model.hpp"

namespace gatelab::config {

const ServiceConfig* GatewayConfig::findService(std::string_view name) const noexcept {
  for (const ServiceConfig& s : services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const RouteConfig* GatewayConfig::findRoute(std::string_view name) const noexcept {
  for (const RouteConfig& r : routes) {
    if (r.spec.name == name) return &r;
  }
  return nullptr;
}

std::vector<core::resilience::TargetSpec> ServiceConfig::targetSpecs() const {
  std::vector<core::resilience::TargetSpec> out;
  out.reserve(targets.size());
  for (const Target& t : targets) out.push_back(core::resilience::TargetSpec{t.url.toString(), t.weight});
  return out;
}

std::vector<core::RouteSpec> GatewayConfig::routeSpecs() const {
  std::vector<core::RouteSpec> out;
  out.reserve(routes.size());
  for (const RouteConfig& r : routes) out.push_back(r.spec);
  return out;
}

std::vector<const core::ratelimit::RateLimitPolicySpec*> GatewayConfig::rateLimitPolicies() const {
  std::vector<const core::ratelimit::RateLimitPolicySpec*> out;
  for (const RouteConfig& r : routes) {
    for (const PolicySpec& p : r.policies) {
      if (const auto* rl = std::get_if<core::ratelimit::RateLimitPolicySpec>(&p)) out.push_back(rl);
    }
  }
  return out;
}

}  // namespace gatelab::config
