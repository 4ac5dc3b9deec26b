#pragma once
// OutputSink: where a generated trace's bytes go: a file or standard output, plain or gzip, or a
// string in memory (tests, benchmarks). Streaming: memory is a fixed compression window and
// buffer, independent of how much is written.
//
// gzip output is reproducible: the header carries no file name and no modification time (mtime
// 0) and "unknown" as the operating system, so the same bytes in give the same file on every
// machine with the same zlib (the deflate stream itself is zlib's; another zlib version may
// compress differently, which never changes the decompressed bytes).
//
// Errors are values: a failed write sets error() (naming the file and the system's reason) and
// makes later writes no-ops; close() reports it too. Not thread-safe. Host-side code: it writes
// files, never reads a clock.

#include <memory>
#include <string>
#include <string_view>

#include "sim/trace/line_parser.hpp"

namespace gatelab::sim::workload {

enum class Compression : std::uint8_t {
  kAuto,  ///< gzip when the path ends in ".gz", plain otherwise (standard output: plain)
  kNone,
  kGzip,
};

struct OutputOptions {
  Compression compression = Compression::kAuto;
  int gzipLevel = 6;  ///< 1 (fast) .. 9 (small)
};

class OutputSink {
 public:
  OutputSink() = default;
  OutputSink(const OutputSink&) = delete;
  OutputSink& operator=(const OutputSink&) = delete;
  virtual ~OutputSink() = default;

  /// Appends bytes (compressing them if gzip). False once an error has happened.
  [[nodiscard]] virtual bool write(std::string_view data) = 0;
  /// Finishes the stream (gzip trailer), flushes and closes; false on any error so far.
  [[nodiscard]] virtual bool close() = 0;
  /// Why writing failed; empty while all is well.
  [[nodiscard]] virtual const std::string& error() const noexcept = 0;
  /// True when the output is gzip-compressed.
  [[nodiscard]] virtual bool compressed() const noexcept = 0;
};

/// Opens `path` for writing ("-" is standard output, which is flushed but not closed). Errors: the
/// file cannot be created.
[[nodiscard]] trace::Made<OutputSink> openOutput(const std::string& path, const OutputOptions& options = {});

/// Appends to `target` (which must outlive the sink), gzip-compressed if `gzip`.
[[nodiscard]] std::unique_ptr<OutputSink> memoryOutput(std::string& target, bool gzip, int gzipLevel = 6);

}  // namespace gatelab::sim::workload
