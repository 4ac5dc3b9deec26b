#pragma once
// Loading a gateway config: parse YAML -> validate every field -> cross-field checks -> an
// immutable GatewayConfig, or the complete list of problems.
//
// Error policy: a config is untrusted input. Nothing here throws to the caller (yaml-cpp's
// exceptions are caught; only std::bad_alloc could escape) and no input crashes it. All problems
// are collected, each with file, line, column, YAML path, the rule that failed and what is
// allowed (see diagnostics.hpp). Both functions are thread-safe (no shared state).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/diagnostics.hpp"
#include "gateway/config/model.hpp"

namespace gatelab::config {

/// Larger config files are rejected before parsing.
inline constexpr std::size_t kMaxConfigBytes = 4 * 1024 * 1024;
/// At most this many diagnostics are kept; one more says the rest were dropped.
inline constexpr std::size_t kMaxDiagnostics = 200;

/// Outcome of a load: exactly one of `config` (valid) and `diagnostics` (errors) is set/non-empty.
struct LoadResult {
  std::shared_ptr<const GatewayConfig> config;  ///< non-null iff the config is valid
  std::vector<Diagnostic> diagnostics;          ///< in file order; empty iff valid

  [[nodiscard]] bool ok() const noexcept { return config != nullptr; }
  explicit operator bool() const noexcept { return ok(); }
  /// All diagnostics, one line each (formatDiagnostics).
  [[nodiscard]] std::string errorText() const { return formatDiagnostics(diagnostics); }
};

/// Reads and validates the file at `path` (at most kMaxConfigBytes). Diagnostics name the file as
/// `path` was given. A missing or unreadable file gives one diagnostic with line 0.
[[nodiscard]] LoadResult loadConfigFile(const std::string& path);

/// Validates `yaml`; diagnostics name the file `displayName` (e.g. "<stdin>" or a path).
[[nodiscard]] LoadResult loadConfigString(std::string_view yaml, std::string_view displayName);

}  // namespace gatelab::config
