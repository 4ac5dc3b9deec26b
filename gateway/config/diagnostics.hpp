#pragma once
// Diagnostic: one problem found in a config file, with enough context to fix it without reading
// the loader's source: where (file, line, column, YAML path), which rule failed, what is allowed.
//
// Formatting is pure and thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace gatelab::config {

struct Diagnostic {
  std::string file;     ///< display name of the config ("examples/gateway.yaml", "<string>")
  int line = 0;         ///< 1-based line of the offending node; 0 when the file itself failed
  int column = 0;       ///< 1-based column of the offending node; 0 when unknown
  std::string path;     ///< YAML path, e.g. "routes[2].policies[0].rate_limit.limit"; "" for syntax errors
  std::string message;  ///< the rule that failed, e.g. `invalid rate "100/minute": unknown period "minute"`
  std::string allowed;  ///< what is allowed there, e.g. "N/s, N/min, ..."; may be empty

  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

/// One line, no trailing newline:
/// `FILE:LINE:COL: PATH: MESSAGE; allowed: ALLOWED`. Parts that are empty/zero are left out
/// (`FILE: MESSAGE` when the file could not be read; no `PATH: ` for YAML syntax errors).
[[nodiscard]] std::string formatDiagnostic(const Diagnostic& d);

/// Every diagnostic formatted, one per line, each line ending in '\n'.
[[nodiscard]] std::string formatDiagnostics(const std::vector<Diagnostic>& diagnostics);

}  // namespace gatelab::config
