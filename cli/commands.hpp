#pragma once
// The gatelab subcommands. Each returns the process exit status: 0 success, 1 the input was
// invalid (or a check failed), 2 usage error.

#include <cstddef>
#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace gatelab::cli {

struct ValidateOptions {
  std::vector<std::string> files;
  bool quiet = false;  ///< print nothing for valid files
};
int runValidate(const ValidateOptions& options);

/// `gatelab limiters`: every algorithm on the same synthetic burst (docs/rate-limiting.md).
struct LimitersOptions {
  bool json = false;  ///< machine-readable output instead of the table
};
int runLimiters(const LimitersOptions& options);

/// `gatelab serve CONFIG`: the config as a live reverse proxy (docs/operations.md).
struct ServeOptions {
  std::string config;
  std::string listen;    ///< HOST:PORT overriding the config's `listen`; empty: the config's
  unsigned threads = 0;  ///< I/O threads; 0: one per core
  double drainTimeoutSeconds = 30;  ///< SIGTERM/SIGINT: how long requests in flight may finish
  std::string accessLog;            ///< JSON-lines access log file ("-": stdout); empty: none
  std::size_t maxConnections = 10'000;  ///< open client connections; more are closed at accept
};
int runServe(const ServeOptions& options);

/// What `sim`, `compare`, `rehearse` and `demo` share (docs/simulator.md).
struct ScenarioRunOptions {
  std::string scenario;                ///< scenario file
  std::string out;                     ///< output directory; empty: no files
  std::string seed;                    ///< overrides the scenario's seed; empty: keep it
  std::vector<std::string> variants;   ///< only these variants; empty: the command's default
  bool noFailures = false;             ///< run without the scenario's failures
  bool json = false;                   ///< machine-readable output on stdout
  bool quiet = false;                  ///< no progress bar, shorter output
};
/// `gatelab sim SCENARIO`: one variant (the first, or --variant), full summary and output files.
int runSim(const ScenarioRunOptions& options);
/// `gatelab compare SCENARIO`: every variant on the same trace, side by side.
int runCompare(const ScenarioRunOptions& options);
/// `gatelab rehearse SCENARIO`: runs with the failures and checks the expectations; exit 1 on a breach.
int runRehearse(const ScenarioRunOptions& options);
/// `gatelab demo`: compare on the bundled scenario and trace.
int runDemo(const ScenarioRunOptions& options);

/// The scenario subcommands, for dispatch.
struct ScenarioCommands {
  CLI::App* sim = nullptr;
  CLI::App* compare = nullptr;
  CLI::App* rehearse = nullptr;
  CLI::App* demo = nullptr;
};
ScenarioCommands addScenarioCommands(CLI::App& app, ScenarioRunOptions& options);

/// `gatelab trace stats FILE [options]` (docs/traces.md).
struct TraceStatsOptions {
  std::string file;
  std::string format = "combined";    ///< parseTraceFormat spec
  std::vector<std::string> map;       ///< "field=source,..." (setTraceFormatOption "map")
  std::string timeField;
  std::string timeFormat;
  std::string timeZone;
  std::string timeBase;
  bool optionalTail = false;
  bool noHeader = false;
  std::string client = "ip";          ///< ClientSelector spec
  std::string reorderWindow = "10s";
  std::size_t reorderRecords = 65536;
  std::string late = "clamp";
  std::size_t top = 10;
  std::size_t maxLineLength = 64 * 1024;
  std::string displayZone;            ///< print times at this UTC offset (text output); default UTC
  bool json = false;
};
int runTraceStats(const TraceStatsOptions& options);

/// `gatelab trace gen [options]` (docs/traces.md, "Generating traces"). Workload flags are kept as
/// text (empty: not given) so that they can be refused next to --spec and parsed with precise errors.
struct TraceGenOptions {
  std::string spec;                    ///< YAML workload spec; empty: the workload comes from flags
  std::string out = "-";               ///< output path; "-": standard output; ".gz": gzip
  std::string format = "combined";     ///< parseTraceFormat spec
  std::vector<std::string> map;        ///< "field=source,..." (setTraceFormatOption "map")
  std::string timeField;
  std::string timeFormat;
  std::string timePrecision;           ///< s | ms | us | ns
  bool noHeader = false;
  bool gzip = false;
  int gzipLevel = 6;
  std::string duration;
  std::string count;
  std::string start;
  std::string timeZone;
  std::string seed;
  std::string rate;                    ///< workload flags (refused with --spec) ...
  std::string clients;
  std::string zipf;
  std::string process;
  std::string burstFactor;
  std::string burstLength;
  std::string burstGap;
  std::string peakHour;
  std::string peakRatio;               ///< ... up to here
  std::vector<std::string> abusive;    ///< "K@RATE[,...]"
  bool quiet = false;
};
/// Binds the `gen` subcommand's flags to `options`.
void addTraceGenOptions(CLI::App& gen, TraceGenOptions& options);
int runTraceGen(const TraceGenOptions& options);

/// The `trace` subcommands, for dispatch.
struct TraceCommands {
  CLI::App* stats = nullptr;
  CLI::App* gen = nullptr;
};
/// Registers `trace` with its `stats` and `gen` subcommands on `app`, binding the options.
TraceCommands addTraceCommand(CLI::App& app, TraceStatsOptions& stats, TraceGenOptions& gen);

}  // namespace gatelab::cli
