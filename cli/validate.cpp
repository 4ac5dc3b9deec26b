// gatelab validate FILE...: load, validate and build each config; report every problem.
#include <iostream>
#include <map>
#include <string>

#include "cli/commands.hpp"
#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"

namespace gatelab::cli {

namespace {
// ", access policies: 2 jwt, 1 acl; 3 consumers" — the issue 6 kinds a config uses (empty: none).
std::string accessSummary(const config::GatewayConfig& c) {
  std::map<std::string, std::size_t, std::less<>> kinds;
  for (const auto& ref : c.accessPolicies()) ++kinds[std::string(ref.kind)];
  std::string out;
  for (const auto& [kind, n] : kinds) out += (out.empty() ? ", access policies: " : ", ") + std::to_string(n) + " " + kind;
  if (!c.consumers.empty()) out += "; " + std::to_string(c.consumers.size()) + " consumers";
  return out;
}
}  // namespace

int runValidate(const ValidateOptions& options) {
  int status = 0;
  for (const std::string& file : options.files) {
    config::LoadResult loaded = config::loadConfigFile(file);
    if (!loaded.ok()) {
      std::cerr << loaded.errorText();
      std::cerr << file << ": invalid (" << loaded.diagnostics.size() << " error"
                << (loaded.diagnostics.size() == 1 ? "" : "s") << ")\n";
      status = 1;
      continue;
    }
    config::BuildResult built = config::buildRuntime(loaded.config);
    if (!built.ok()) {
      std::cerr << config::formatDiagnostics(built.diagnostics);
      std::cerr << file << ": invalid (" << built.diagnostics.size() << " error"
                << (built.diagnostics.size() == 1 ? "" : "s") << ")\n";
      status = 1;
      continue;
    }
    if (options.quiet) continue;
    const config::GatewayConfig& c = *loaded.config;
    std::size_t targets = 0;
    std::size_t breakers = 0;
    std::size_t retrying = 0;
    std::size_t outliers = 0;
    for (const auto& s : c.services) targets += s.targets.size();
    for (const config::ServiceRuntime& s : built.runtime->services) {
      breakers += s.breakers.size();
      if (s.retryPolicy) ++retrying;
      if (s.outlierDetector) ++outliers;
    }
    std::cout << file << ": ok: version " << c.version << ", " << c.services.size() << " services ("
              << targets << " targets), " << c.routes.size() << " routes, "
              << c.rateLimitPolicies().size() << " rate-limit policies, " << breakers << " circuit breaker"
              << (breakers == 1 ? "" : "s") << ", retries on " << retrying << ", outlier detection on " << outliers
              << accessSummary(c) << "; listen " << c.listen.toString();
    for (const auto& also : c.alsoListen) std::cout << ", " << also.toString();
    std::cout << ", admin " << c.admin.toString() << "\n";
  }
  return status;
}

}  // namespace gatelab::cli
