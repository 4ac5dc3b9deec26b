#pragma once
// Trace writers: the inverse of sim/trace's readers. A TraceFormat (the same value, parsed from the
// same words, that `gatelab trace stats` reads with) decides the output, so whatever is written
// with `--format F [options]` reads back with `--format F [options]`:
//
//   log formats (clf, combined, nginx:'...', epa)  every variable the reader knows is written from
//       the record (time variables in their own syntax; $time per --time-format); $http_NAME from
//       the record's header NAME; variables the reader keeps as extras are written as "-". Values
//       are escaped as nginx does (", \ and bytes outside 0x20-0x7e as \xHH); empty ones are "-".
//   jsonl, csv, tsv (and nasa-tsv)  one member/column per mapped field: the explicit --map entries
//       first, then the same-named defaults the readers look for (time, client, method, url,
//       protocol, status, bytes, request_time, referer, user_agent) unless a mapping already
//       covers them, then one per header in WriterOptions::headers (named after the header in
//       lower case, "x-api-key"). Dotted JSON sources become nested objects. CSV quotes per RFC
//       4180; TSV replaces tabs; both replace line breaks by spaces (the readers are line-based).
//       Without a header line (--no-header), only explicit mappings by column number are written.
//
// Times: CLF and $time_iso8601 have whole seconds (truncated); RFC 3339 times (the JSON/CSV
// default, `auto`), epoch seconds and %f carry WriterOptions::fractionDigits decimals; epoch_ms,
// epoch_us and epoch_ns are integers. Local times use TraceFormat::time.zone.
//
// readBackFormat() says how to read a writer's output: the format plus the header mappings the
// writer added. The round trip is exact up to the time resolution of the format (tests check every
// format).
//
// LineFormatter: stateless apart from caches, one per writer, not thread-safe; append() does not
// allocate once its output buffer has grown. TraceWriter buffers ~256 KiB and hands it to an
// OutputSink: memory is independent of the number of lines.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/trace/line_parser.hpp"
#include "sim/trace/trace_format.hpp"
#include "sim/trace/trace_record.hpp"
#include "sim/workload/output.hpp"

namespace gatelab::sim::workload {

struct WriterOptions {
  int fractionDigits = 3;            ///< sub-second decimals where the syntax allows them (0..9)
  std::vector<std::string> headers;  ///< header columns for JSON/CSV/TSV ("X-Api-Key")
};

class LineFormatter {
 public:
  LineFormatter() = default;
  LineFormatter(const LineFormatter&) = delete;
  LineFormatter& operator=(const LineFormatter&) = delete;
  virtual ~LineFormatter() = default;

  /// Text before the first line (the CSV/TSV header line); usually empty.
  virtual void begin(std::string& out) = 0;
  /// Appends one line for `r`, ending in '\n'.
  virtual void append(const trace::TraceRecord& r, std::string& out) = 0;
};

/// Compiles a formatter. Errors: the format cannot be read back (it is checked with the reader's
/// own compiler), a JSON member that is both a value and an object, a source used twice, a
/// no-header mapping that is not a column number.
[[nodiscard]] trace::Made<LineFormatter> makeLineFormatter(const trace::TraceFormat& format,
                                                           const WriterOptions& options = {});

/// The format that reads back makeLineFormatter(format, options)'s output.
[[nodiscard]] trace::TraceFormat readBackFormat(const trace::TraceFormat& format, const WriterOptions& options = {});

/// The extra reader options readBackFormat adds, as CLI words (" --map header.X-Api-Key=x-api-key");
/// empty when none are needed.
[[nodiscard]] std::string readBackOptions(const trace::TraceFormat& format, const WriterOptions& options = {});

struct WriterStats {
  std::uint64_t lines = 0;  ///< records written
  std::uint64_t bytes = 0;  ///< uncompressed bytes handed to the sink
};

class TraceWriter {
 public:
  /// `sink` must outlive the writer.
  TraceWriter(std::unique_ptr<LineFormatter> formatter, OutputSink& sink);
  /// Formats and buffers one record; false once the sink has failed (see error()).
  bool write(const trace::TraceRecord& r);
  /// Flushes the buffer and closes the sink; false on any error.
  [[nodiscard]] bool finish();
  [[nodiscard]] const WriterStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const std::string& error() const noexcept { return sink_.error(); }

 private:
  bool flush();

  std::unique_ptr<LineFormatter> formatter_;
  OutputSink& sink_;
  std::string buffer_;
  WriterStats stats_;
  bool begun_ = false;
};

}  // namespace gatelab::sim::workload
