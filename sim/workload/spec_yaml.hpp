#pragma once
// Reading a workload spec from YAML (`gatelab trace gen --spec FILE`; format in docs/traces.md,
// "Generating traces"). Untrusted input: nothing throws; every problem becomes a config::Diagnostic
// with the file, line, column and YAML path, the rule that failed and what is allowed there
// (unknown keys with a did-you-mean, wrong types, bad rates/durations/numbers, keys that do not
// apply to the chosen process), followed by the semantic problems checkWorkloadSpec() finds,
// placed at the node they concern. All problems are collected, not just the first.
//
// Reuses gateway/config's schema-checked YAML reader (gateway/config/detail/yaml_reader.hpp) so
// spec errors read exactly like config errors. yaml-cpp types never appear in this header.
//
// Pure apart from reading the file; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/diagnostics.hpp"
#include "sim/workload/spec.hpp"

namespace gatelab::sim::workload {

struct SpecLoadResult {
  std::optional<WorkloadSpec> spec;               ///< set exactly when diagnostics is empty
  std::vector<config::Diagnostic> diagnostics;    ///< sorted by position
};

/// Parses YAML text; `displayName` names it in diagnostics.
[[nodiscard]] SpecLoadResult parseWorkloadSpec(std::string_view yaml, const std::string& displayName = "<string>");
/// Reads and parses a file (a missing or unreadable file is one diagnostic without a position).
[[nodiscard]] SpecLoadResult loadWorkloadSpec(const std::string& path);

}  // namespace gatelab::sim::workload
