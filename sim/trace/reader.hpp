#pragma once
// TraceReader: streams TraceRecords out of a trace file (plain or gzip) or an in-memory buffer.
//
// Memory is independent of the trace's length: the reader holds one fixed-size line buffer
// (ReaderOptions::maxLineLength + ReaderOptions::readChunk bytes, allocated once), the parser's
// scratch (at most one line) and the first few malformed-line reports. Bad input never stops a
// read: a line that does not parse, or is longer than maxLineLength, is counted in stats() (the
// first keepMalformed ones with their line number and reason) and skipped. Only an unreadable
// file, corrupt compressed data, or a CSV/TSV header lacking a mapped column end it early; then
// stats().error says why.
//
// Not thread-safe; one reader per thread. Host-side code: it reads files, never a clock.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/units.hpp"
#include "sim/trace/line_parser.hpp"
#include "sim/trace/trace_format.hpp"
#include "sim/trace/trace_record.hpp"

namespace gatelab::sim::trace {

struct ReaderOptions {
  std::size_t maxLineLength = 64 * 1024;  ///< bytes before the newline; longer lines are malformed (16 B..64 MiB)
  std::size_t readChunk = 64 * 1024;      ///< bytes read (or inflated) per refill (16 B..16 MiB)
  std::size_t keepMalformed = 10;         ///< how many malformed lines to keep with their reason
};

/// One malformed line, kept for reports.
struct MalformedLine {
  std::uint64_t line = 0;  ///< 1-based physical line number
  std::string reason;      ///< e.g. "$status: not a status code (0-999)", "line: longer than 65536 bytes"
  friend bool operator==(const MalformedLine&, const MalformedLine&) = default;
};

struct ReaderStats {
  std::uint64_t linesRead = 0;  ///< physical lines seen (records + malformed + skipped)
  std::uint64_t records = 0;    ///< lines that gave a record
  std::uint64_t malformed = 0;  ///< lines counted as malformed (including over-long ones)
  std::uint64_t overlong = 0;   ///< of which longer than maxLineLength
  std::uint64_t skipped = 0;    ///< blank lines and the CSV/TSV header line
  std::uint64_t bytesRead = 0;  ///< input bytes after decompression
  std::vector<MalformedLine> firstMalformed;  ///< the first ReaderOptions::keepMalformed malformed lines
  bool compressed = false;      ///< the input was gzip (detected by its magic bytes 1f 8b)
  std::string error;            ///< why reading stopped early; empty when it reached the end
};

class TraceReader {
 public:
  virtual ~TraceReader() = default;
  /// Reads the next record into `out`. Its views point into the reader's buffers and stay valid
  /// until the next call to next() or the reader's destruction (copy into an OwnedRecord to keep
  /// it). Returns false at the end of the input or after a fatal error (stats().error).
  [[nodiscard]] virtual bool next(TraceRecord& out) = 0;
  [[nodiscard]] virtual const ReaderStats& stats() const noexcept = 0;
  /// Bytes the reader holds for line data (line buffer, inflate window excluded, parser scratch).
  /// Bounded by maxLineLength + readChunk + O(maxLineLength): it does not grow with the trace.
  [[nodiscard]] virtual std::size_t bufferCapacity() const noexcept = 0;
};

/// Opens `path` ("-" for standard input); gzip is detected by its magic bytes (multi-member gzip
/// files are read through). Errors: the file cannot be opened, the format does not compile.
[[nodiscard]] Made<TraceReader> openTraceFile(const std::string& path, const TraceFormat& format,
                                             const ReaderOptions& options = {});

/// Reads from memory (plain or gzip bytes). `data` must outlive the reader; it is not copied.
[[nodiscard]] Made<TraceReader> openTraceMemory(std::string_view data, const TraceFormat& format,
                                               const ReaderOptions& options = {});

}  // namespace gatelab::sim::trace
