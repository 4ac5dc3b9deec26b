#pragma once
// LineParser: turns one line of a trace into a TraceRecord, for one TraceFormat. The readers
// (reader.hpp) feed it lines; tests, the fuzz target and benchmarks can call it directly.
//
// Untrusted input is data: any bytes give a record, a skip or a counted malformed-line reason,
// never a crash or an exception. parse() does not allocate once its scratch storage has grown to
// the longest line seen (string_views into the line, hand-written scanning, no regex or streams).
// A parser is stateful (CSV/TSV read their header line first) and not thread-safe: one per reader.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "gateway/config/units.hpp"
#include "sim/trace/trace_format.hpp"
#include "sim/trace/trace_record.hpp"

namespace gatelab::sim::trace {

enum class LineStatus : std::uint8_t {
  kRecord,     ///< `out` holds a record
  kSkip,       ///< a blank line or the CSV/TSV header line: nothing to count as malformed
  kMalformed,  ///< the line is not in the format; the reader counts it and goes on
  kFatal,      ///< nothing more can be read (e.g. the CSV header lacks a mapped column): fatalMessage()
};

/// A parse outcome. For kMalformed, `field` names the part that failed ("$status", "column
/// \"bytes\"", "line") and `what` the rule ("not a number"); both point to static text or to the
/// parser's compiled format, so returning them never allocates.
struct LineResult {
  LineStatus status = LineStatus::kRecord;
  std::string_view field;
  std::string_view what;
};

/// "FIELD: WHAT" for reports (only called for the few malformed lines that are kept).
[[nodiscard]] std::string describeLineResult(const LineResult& r);

class LineParser {
 public:
  virtual ~LineParser() = default;
  /// Parses `line` (without its newline; a trailing '\r' is the caller's to strip). On kRecord, `out`
  /// is overwritten; its views point into `line` and into this parser's storage, valid until the
  /// next parse() call or the parser's destruction. `out.line` is left for the caller to set.
  [[nodiscard]] virtual LineResult parse(std::string_view line, TraceRecord& out) = 0;
  /// After kFatal: why reading cannot go on (names the file's problem and what is allowed).
  [[nodiscard]] virtual std::string fatalMessage() const { return {}; }
  /// Bytes of scratch storage the parser holds (decoded strings, field lists), for memory bounds.
  [[nodiscard]] virtual std::size_t scratchCapacity() const noexcept = 0;
};

/// An owned object made from a description (a parser, a reader), or why it could not be made.
/// Move `ptr` out when ok().
template <typename T>
struct Made {
  Made(std::unique_ptr<T> p) noexcept : ptr(std::move(p)) {}  // NOLINT(google-explicit-constructor)
  template <typename Derived>
  Made(std::unique_ptr<Derived> p) noexcept : ptr(std::move(p)) {}  // NOLINT(google-explicit-constructor)
  Made(config::UnitError e) : error(std::move(e)) {}  // NOLINT(google-explicit-constructor)

  std::unique_ptr<T> ptr;
  config::UnitError error;  ///< set when !ok()
  [[nodiscard]] bool ok() const noexcept { return ptr != nullptr; }
  explicit operator bool() const noexcept { return ok(); }
};

/// Compiles `format` into a parser. Errors (a log_format without a time variable, two variables
/// with no text between them, a mapping without a time field, a bad time pattern) are reported
/// here, before any line is read.
[[nodiscard]] Made<LineParser> makeLineParser(const TraceFormat& format);

}  // namespace gatelab::sim::trace
