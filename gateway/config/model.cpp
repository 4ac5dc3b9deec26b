#include "gateway/config/model.hpp"

#include <array>

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

std::string_view policyKind(const PolicySpec& policy) noexcept {
  static constexpr std::array<std::string_view, std::variant_size_v<PolicySpec>> kNames{
      "rate_limit", "jwt", "key_auth", "acl", "cors", "request_headers", "response_headers", "cache", "aggregate",
      "response_projection"};
  return policy.valueless_by_exception() ? std::string_view("?") : kNames[policy.index()];
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

std::vector<GatewayConfig::PolicyRef> GatewayConfig::accessPolicies() const {
  std::vector<PolicyRef> out;
  for (std::size_t r = 0; r < routes.size(); ++r) {
    for (std::size_t p = 0; p < routes[r].policies.size(); ++p) {
      const std::string_view kind = policyKind(routes[r].policies[p]);
      if (kind != "rate_limit") out.push_back(PolicyRef{r, p, kind});
    }
  }
  return out;
}

}  // namespace gatelab::config
