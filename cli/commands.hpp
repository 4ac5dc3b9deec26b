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

struct DemoOptions {
  bool json = false;  ///< machine-readable output instead of the table
};
int runDemo(const DemoOptions& options);

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
/// Registers `trace` and its `stats` subcommand on `app`, binding `options`; returns `stats`.
CLI::App* addTraceCommand(CLI::App& app, TraceStatsOptions& options);
int runTraceStats(const TraceStatsOptions& options);

}  // namespace gatelab::cli
