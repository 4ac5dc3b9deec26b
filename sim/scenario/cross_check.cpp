// Names the scenario uses, checked against a loaded gateway config.
#include <algorithm>
#include <array>
#include <span>

#include "gateway/config/suggest.hpp"
#include "sim/scenario/scenario.hpp"

namespace gatelab::sim::scenario {
namespace {

using config::Diagnostic;

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string listOrNone(const std::vector<std::string>& names, std::string_view what) {
  if (names.empty()) return "a " + std::string(what) + " of the gateway config (there are none)";
  return "a " + std::string(what) + " of the gateway config: " + config::joinNames(std::span<const std::string>(names));
}

class Checker {
 public:
  explicit Checker(const config::GatewayConfig& config) : config_(config) {
    for (const config::ServiceConfig& s : config.services) services_.push_back(s.name);
    for (const config::RouteConfig& r : config.routes) routes_.push_back(r.name());
    for (const auto* p : config.rateLimitPolicies()) policies_.push_back(p->name);
  }

  void error(const SourceRef& at, std::string message, std::string allowed) {
    out_.push_back(Diagnostic{at.file, at.line, at.column, at.path, std::move(message), std::move(allowed)});
  }

  const config::ServiceConfig* service(const SourceRef& at, const std::string& name, std::string_view path) {
    if (const config::ServiceConfig* s = config_.findService(name)) return s;
    error(SourceRef{at.file, at.line, at.column, std::string(path)},
          "unknown service " + quote(name) + config::didYouMean(name, services_), listOrNone(services_, "service"));
    return nullptr;
  }

  void target(const SourceRef& at, const config::ServiceConfig& s, const std::string& url, std::optional<std::size_t> index) {
    std::vector<std::string> urls;
    for (const auto& t : s.targetSpecs()) urls.push_back(t.name);
    const std::string allowed = "a target of service " + s.name + ": " + config::joinNames(std::span<const std::string>(urls)) +
                                " (or its index, 0 to " + std::to_string(urls.size() - 1) + ")";
    if (index) {
      if (*index >= urls.size()) {
        error(at, "target index " + std::to_string(*index) + " is out of range: service " + s.name + " has " +
                      std::to_string(urls.size()) + (urls.size() == 1 ? " target" : " targets"),
              allowed);
      }
      return;
    }
    if (url.empty() || std::find(urls.begin(), urls.end(), url) != urls.end()) return;
    error(at, "service " + s.name + " has no target " + quote(url) + config::didYouMean(url, urls), allowed);
  }

  void label(const SourceRef& at, const std::string& value, const std::vector<std::string>& known, std::string_view what) {
    if (value.empty() || std::find(known.begin(), known.end(), value) != known.end()) return;
    error(at, "unknown " + std::string(what) + " " + quote(value) + config::didYouMean(value, known),
          listOrNone(known, what));
  }

  void run(const Scenario& s) {
    for (const ServiceBackend& b : s.backends.services) {
      const config::ServiceConfig* svc = service(b.at, b.service, b.at.path);
      if (svc == nullptr) continue;
      for (const TargetBackend& t : b.targets) target(t.at, *svc, t.target, t.index);
    }
    for (const FailureTemplate& f : s.failures) {
      const config::ServiceConfig* svc = service(f.source, f.service, f.source.path + ".service");
      if (svc == nullptr) continue;
      target(SourceRef{f.source.file, f.source.line, f.source.column, f.source.path + ".target"}, *svc, f.target, f.targetIndex);
    }
    for (const Expectation& e : s.expectations) {
      label(e.at, e.ref.route, routes_, "route");
      label(e.at, e.ref.service, services_, "service");
      label(e.at, e.ref.policy, policies_, "policy");
    }
  }

  std::vector<Diagnostic> take() { return std::move(out_); }

 private:
  const config::GatewayConfig& config_;
  std::vector<std::string> services_;
  std::vector<std::string> routes_;
  std::vector<std::string> policies_;
  std::vector<Diagnostic> out_;
};

}  // namespace

std::vector<config::Diagnostic> checkScenarioAgainstConfig(const Scenario& scenario, const config::GatewayConfig& config) {
  Checker c(config);
  c.run(scenario);
  return c.take();
}

ScenarioConfigs loadScenarioConfigs(const Scenario& scenario) {
  ScenarioConfigs out;
  const auto add = [&out](const Diagnostic& d) {
    if (std::find(out.diagnostics.begin(), out.diagnostics.end(), d) == out.diagnostics.end()) out.diagnostics.push_back(d);
  };
  for (const Variant& v : scenario.variants) {
    config::LoadResult r = loadVariantConfig(scenario, &v);
    if (!r.ok()) {
      for (const Diagnostic& d : r.diagnostics) add(d);
      out.configs.push_back(nullptr);
      continue;
    }
    for (const Diagnostic& d : checkScenarioAgainstConfig(scenario, *r.config)) add(d);
    out.configs.push_back(r.config);
  }
  return out;
}

}  // namespace gatelab::sim::scenario
