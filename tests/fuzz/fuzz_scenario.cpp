// Fuzz target: the scenario loader. Any bytes give a scenario or diagnostics, never a crash;
// diagnostics always carry a message; a scenario always has at least one variant, and its inline
// gateway config (if any) loads or gives diagnostics under every variant's overrides.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sim/scenario/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace scn = gatelab::sim::scenario;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // No environment and no base directory: paths resolve against the working directory, variables
  // are unset (so ${X} without a default is a diagnostic).
  const scn::EnvLookup noEnv = [](std::string_view) { return std::optional<std::string>{}; };
  scn::ScenarioLoadResult r = scn::loadScenarioString(in, "<fuzz>", "", noEnv);
  if (r.ok() != r.diagnostics.empty()) std::abort();
  for (const auto& d : r.diagnostics) {
    if (d.message.empty()) std::abort();
  }
  if (!r.ok()) return 0;
  if (r.scenario->variants.empty()) std::abort();
  for (const auto& e : r.scenario->expectations) {
    if (e.ref.window && e.ref.window->from >= e.ref.window->to) std::abort();
  }
  if (r.scenario->gateway.isInline()) {
    scn::ScenarioConfigs c = scn::loadScenarioConfigs(*r.scenario);
    if (c.configs.size() != r.scenario->variants.size()) std::abort();
    for (const auto& d : c.diagnostics) {
      if (d.message.empty()) std::abort();
    }
  }
  return 0;
}
