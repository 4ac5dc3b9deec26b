#pragma once
// Scenario: one simulator experiment as a file (format: docs/scenarios.md). It names the gateway
// config (a file, or inline), the trace and how to replay it, the mock backends behind each
// service, the failures to inject, the variants to compare (named overrides of config values) and
// the expectations (SLOs such as `p99_latency < 300ms`) every run is judged by.
//
// Reading is untrusted input handled as data: nothing throws to the caller, no input crashes the
// loader, and every problem is a config::Diagnostic in the config loader's format
// (FILE:LINE:COL: PATH: MESSAGE; allowed: ...), unknown keys with a did-you-mean. All problems are
// collected, not just the first. Three stages, each reporting in that format:
//   1. loadScenarioFile / loadScenarioString: the scenario's own schema and values.
//   2. loadVariantConfig: the gateway config with one variant's overrides applied.
//   3. checkScenarioAgainstConfig: names the scenario uses (services, targets, routes, policies)
//      exist in the config.
// loadScenarioConfigs runs 2 and 3 for every variant.
//
// The result types are plain values (no yaml-cpp here). Functions are thread-safe: they share no
// state; a Scenario may be read from several threads at once.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/config/diagnostics.hpp"
#include "gateway/config/loader.hpp"
#include "gateway/config/model.hpp"
#include "gateway/config/units.hpp"
#include "gateway/core/time.hpp"
#include "sim/engine/backend.hpp"
#include "sim/engine/failure_effect.hpp"
#include "sim/engine/failures.hpp"
#include "sim/engine/service_time.hpp"
#include "sim/metrics/metric_ref.hpp"
#include "sim/trace/reader.hpp"
#include "sim/trace/replay.hpp"
#include "sim/trace/trace_format.hpp"

namespace gatelab::sim::scenario {

/// The scenario format versions this build reads.
inline constexpr int kScenarioVersion = 1;
/// Larger scenario files are rejected before parsing.
inline constexpr std::size_t kMaxScenarioBytes = 4 * 1024 * 1024;

/// Where something was written in the scenario file, so later stages (cross-checks, the runner)
/// can report problems at the right place.
struct SourceRef {
  std::string file;  ///< display name of the scenario file
  int line = 0;      ///< 1-based; 0 when unknown
  int column = 0;    ///< 1-based; 0 when unknown
  std::string path;  ///< YAML path in the scenario, e.g. "failures[1].target"
  friend bool operator==(const SourceRef&, const SourceRef&) = default;
};

/// `gateway:` — a config file, or the config written inline under the key.
struct GatewaySource {
  std::string file;     ///< resolved path (env expanded, relative to the scenario's directory); empty when inline
  std::string written;  ///< the path as written; empty when inline
  SourceRef at;         ///< the value of `gateway`
  [[nodiscard]] bool isInline() const noexcept { return file.empty(); }
};

/// `trace:` — what to read and how to replay it. `format` + `reader` open a trace::TraceReader
/// (openTraceFile(file, format, reader)); `replay` drives a trace::ReplayStream (the runner sets
/// replay.timelineStart).
struct TraceSettings {
  std::string file;     ///< resolved path
  std::string written;  ///< as written
  trace::TraceFormat format;          ///< default: combined
  trace::ReaderOptions reader;
  trace::ReplayOptions replay;
  std::string host;  ///< Host given to records that have none (empty: leave them without)
  std::vector<std::pair<std::string, std::string>> headers;  ///< added to every request, in file order
  SourceRef at;
};

/// One level of backend settings: every field optional; unset fields inherit (see Backends).
struct BackendSettings {
  std::optional<std::uint32_t> servers;
  std::optional<std::uint32_t> queueCapacity;  ///< kUnboundedQueue for `queue: unbounded`
  std::optional<ServiceTime> serviceTime;
  std::optional<double> errorProbability;      ///< [0, 1]
  std::optional<std::uint16_t> errorStatus;
  std::optional<std::uint16_t> okStatus;
  std::optional<core::Duration> refusalLatency;
  std::optional<AbandonPolicy> onAbandon;

  /// Overwrites the fields of `out` that are set here.
  void applyTo(BackendConfig& out) const;
};

/// `backends.SERVICE.targets.KEY`: one replica's settings, keyed by its URL or its index.
struct TargetBackend {
  std::string target;                ///< the target's URL as written; empty when keyed by index
  std::optional<std::size_t> index;  ///< set when keyed by an integer
  BackendSettings settings;
  SourceRef at;  ///< the key
};

/// `backends.SERVICE`.
struct ServiceBackend {
  std::string service;
  BackendSettings settings;
  std::vector<TargetBackend> targets;
  SourceRef at;  ///< the key
};

/// `backends:` — mock backends per service of the gateway config.
struct Backends {
  BackendSettings defaults;              ///< `backends.default`
  std::vector<ServiceBackend> services;  ///< in file order, names unique

  [[nodiscard]] const ServiceBackend* find(std::string_view service) const noexcept;
  /// The backend for target `index` (named `target`, its URL) of `service`: BackendConfig's
  /// defaults, then `default`, then the service's settings, then the target's (by URL, else by
  /// index). service/target of the result are the arguments. O(services + targets).
  [[nodiscard]] BackendConfig backendFor(const std::string& service, const std::string& target,
                                         std::size_t index) const;
};

/// `failures[i]`: a FailureSpec whose start is an offset from the run start.
struct FailureTemplate {
  std::string service;
  std::string target;                      ///< URL as written; empty: every target (or by index)
  std::optional<std::size_t> targetIndex;  ///< `target: 1` (resolved against the config)
  core::Duration at{0};                    ///< offset from the run start (>= 0)
  core::Duration duration{0};              ///< `for:` (> 0)
  FailureEffect effect;
  std::optional<RecoveryRamp> recovery;
  SourceRef source;  ///< the list item

  /// The FailureSpec starting at runStart + at. A target given by index is named by the
  /// service's target URL in `config` (precondition: checkScenarioAgainstConfig found no problem).
  [[nodiscard]] FailureSpec toFailureSpec(core::TimePoint runStart, const config::GatewayConfig* config = nullptr) const;
};

/// One entry of a variant's `set:` (a value replaces the config node at `path`) or `unset:` (the
/// node is removed). The value itself stays in the scenario text; loadVariantConfig re-reads it.
struct Override {
  std::string path;       ///< config path as written: "routes[api].policies[0].rate_limit.algorithm"
  bool remove = false;    ///< from `unset:`
  std::string valueText;  ///< for display: the scalar, or "a mapping" / "a list"; empty for unset
  SourceRef at;           ///< the entry's key (set) or item (unset)
  std::size_t entry = 0;  ///< index in the variant's `set` mapping or `unset` list
};

/// `variants[i]`, or the implicit "baseline" when the scenario lists none.
struct Variant {
  std::string name;
  std::string description;
  std::vector<Override> overrides;  ///< `set:` entries in file order, then `unset:` entries
  SourceRef at;                     ///< the list item; empty for the implicit baseline
  std::optional<std::size_t> index;  ///< position in `variants:`; empty for the implicit baseline
};

/// Expectation operators.
enum class Comparison : std::uint8_t { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual };

/// "<", "<=", ">", ">=", "==".
[[nodiscard]] const char* toString(Comparison op) noexcept;
/// `value op threshold`. NaN never satisfies any operator.
[[nodiscard]] bool compare(double value, Comparison op, double threshold) noexcept;

/// `expect[i]`: one SLO.
struct Expectation {
  MetricRef ref;                       ///< window from `during:` or the text's `[from, to)`
  Comparison op = Comparison::kLess;
  double threshold = 0.0;              ///< in the metric's canonical unit (metric_ref.hpp)
  std::string text;                    ///< as written
  std::string variant;                 ///< empty: every variant
  int line = 0;                        ///< line of the check in the scenario file
  SourceRef at;                        ///< the check's text

  [[nodiscard]] bool holds(double value) const noexcept { return compare(value, op, threshold); }
  /// "p99_latency{route=api} < 300ms" (canonical spelling).
  [[nodiscard]] std::string describe() const;
};

/// parseExpectation's error: what is wrong, what is allowed, and where in the text (0-based byte).
struct ExpectationError {
  std::string message;
  std::string allowed;
  std::size_t offset = 0;
};

/// Parses the expectation grammar (docs/scenarios.md):
///   METRIC [ '{' LABEL '=' VALUE {',' LABEL '=' VALUE} '}' ] [ '[' FROM ',' TO ( ')' | ']' ) ] OP THRESHOLD
/// LABEL: route, service, policy (each metric accepts some); OP: < <= > >= ==; THRESHOLD in the
/// metric's unit: a duration (latencies), a percentage or fraction (shares), N/s or a number
/// (rates), a number (counts), a number or Nx (ratios). Only `ref`, `op`, `threshold` and `text`
/// of the result are set. Pure.
[[nodiscard]] std::optional<Expectation> parseExpectation(std::string_view text, ExpectationError* error = nullptr);

/// A loaded scenario: every value typed and range-checked.
struct Scenario {
  int version = kScenarioVersion;
  std::string name;         ///< default: the file name without its extension
  std::string description;
  std::uint64_t seed = 1;
  std::string sourcePath;   ///< display name of the scenario file
  std::string baseDir;      ///< relative paths in the scenario are relative to this ("" = working directory)

  GatewaySource gateway;
  TraceSettings trace;
  Backends backends;
  std::vector<FailureTemplate> failures;
  std::vector<Variant> variants;  ///< never empty: {"baseline"} when the file lists none
  core::Duration bucket = std::chrono::seconds(1);  ///< `timeline.bucket`
  std::vector<Expectation> expectations;

  /// The scenario's text (inline config and override values are re-read from it).
  std::shared_ptr<const std::string> text;

  [[nodiscard]] const Variant* findVariant(std::string_view name) const noexcept;
  /// The expectations that apply to `variant` (those naming it and those naming none).
  [[nodiscard]] std::vector<const Expectation*> expectationsFor(std::string_view variant) const;
  /// Distinct windows of the expectations, in first-use order (for RunPlan::windows).
  [[nodiscard]] std::vector<MetricWindow> windows() const;
};

struct ScenarioLoadResult {
  std::optional<Scenario> scenario;             ///< set exactly when diagnostics is empty
  std::vector<config::Diagnostic> diagnostics;  ///< sorted by position

  [[nodiscard]] bool ok() const noexcept { return scenario.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  [[nodiscard]] std::string errorText() const { return config::formatDiagnostics(diagnostics); }
};

/// Looks up an environment variable for `${NAME}` in paths; nullopt when unset. Empty function:
/// the process environment (std::getenv).
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// Reads and validates the file at `path` (at most kMaxScenarioBytes); relative paths inside are
/// relative to the file's directory. A missing or unreadable file is one diagnostic with line 0.
[[nodiscard]] ScenarioLoadResult loadScenarioFile(const std::string& path, const EnvLookup& env = {});

/// Validates `yaml`; diagnostics name `displayName`; relative paths are resolved against `baseDir`.
/// The default scenario name is displayName's stem.
[[nodiscard]] ScenarioLoadResult loadScenarioString(std::string_view yaml, std::string_view displayName,
                                                    std::string_view baseDir, const EnvLookup& env = {});

/// The gateway config with `variant`'s overrides applied (nullptr or no overrides: the config as
/// written). Override paths that do not exist are diagnostics at the variant's entry (with a
/// did-you-mean and what exists there). The config's own problems are reported as the config
/// loader reports them: at the config file for nodes the variant left alone, at the scenario's
/// `set` value for values it replaced; an inline config's problems point into the scenario, with
/// paths prefixed "gateway.".
[[nodiscard]] config::LoadResult loadVariantConfig(const Scenario& scenario, const Variant* variant);

/// Names the scenario uses that `config` lacks: backends and failures naming an unknown service
/// or target, expectations naming an unknown route, service or policy. Each diagnostic is at the
/// scenario node, with a did-you-mean and the allowed names. Empty when everything matches.
[[nodiscard]] std::vector<config::Diagnostic> checkScenarioAgainstConfig(const Scenario& scenario,
                                                                         const config::GatewayConfig& config);

/// Every variant's config, loaded and cross-checked.
struct ScenarioConfigs {
  /// One per Scenario::variants entry, same order; null where that variant's config has problems.
  std::vector<std::shared_ptr<const config::GatewayConfig>> configs;
  /// Every problem of every variant, each reported once (identical ones are merged).
  std::vector<config::Diagnostic> diagnostics;

  [[nodiscard]] bool ok() const noexcept { return diagnostics.empty(); }
  [[nodiscard]] std::string errorText() const { return config::formatDiagnostics(diagnostics); }
};

/// loadVariantConfig + checkScenarioAgainstConfig for each variant.
[[nodiscard]] ScenarioConfigs loadScenarioConfigs(const Scenario& scenario);

}  // namespace gatelab::sim::scenario
