#pragma once
// TraceRecord: one request read from a recorded trace (an access-log line, a JSON object, a CSV
// row), as the simulator's replay layer sees it.
//
// A TraceRecord is a view: its strings and spans point into storage owned by whoever filled it
// (a TraceReader's line buffer, or an OwnedRecord). Copy it into an OwnedRecord to keep it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/core/request.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::sim::trace {

/// When a recorded request happened: integer nanoseconds since the Unix epoch, UTC (the time zone
/// written in the log has been applied). Deliberately a different type from core::TimePoint, the
/// host's monotonic timeline: the replay layer (ReplayStream) maps one onto the other.
using TraceTime = std::chrono::sys_time<std::chrono::nanoseconds>;

/// A named value carried along with a record: a request header ("x-tenant-id") or an extra field
/// (an unknown log_format variable, an unmapped CSV column or JSON member).
using Field = core::Header;

struct TraceRecord {
  TraceTime time{};                         ///< required: every record has a time
  std::string_view method;                  ///< "GET"; empty if the trace has no method
  std::string_view path;                    ///< request-target path without the query, raw (not normalized)
  std::string_view query;                   ///< query string without '?', may be empty
  std::string_view host;                    ///< Host header / authority, if the trace has it
  std::string_view client;                  ///< client identity as logged ($remote_addr, a host name)
  std::string_view user;                    ///< authenticated user ($remote_user); empty for "-"
  std::string_view protocol;                ///< "HTTP/1.1"; empty if not logged
  std::string_view referer;                 ///< empty for "-" or absent
  std::string_view userAgent;               ///< empty for "-" or absent
  int status = 0;                           ///< HTTP status; 0 when the trace has none for this line
  std::optional<std::uint64_t> bytes;       ///< response body bytes; nullopt for "-" or absent
  std::optional<core::Duration> requestTime;  ///< $request_time or a mapped duration field, if logged
  std::span<const Field> headers;           ///< request headers the trace records (names lower-case for log formats)
  std::span<const Field> extras;            ///< other fields, by their name in the trace
  std::uint64_t line = 0;                   ///< 1-based physical line number in the input

  /// First header named `name` (ASCII case-insensitive), if any.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
  /// First extra field named `name` (exact match), if any.
  [[nodiscard]] std::optional<std::string_view> extra(std::string_view name) const noexcept;
};

/// A TraceRecord with its own storage: a deep copy that stays valid after the reader moves on.
/// assign() reuses the previous capacity, so a recycled OwnedRecord copies without allocating once
/// it has seen a record as large. Copying an OwnedRecord copies the record (views are rebound).
/// Not thread-safe; O(record size) per assign.
class OwnedRecord {
 public:
  OwnedRecord() = default;
  explicit OwnedRecord(const TraceRecord& r) { assign(r); }
  OwnedRecord(const OwnedRecord& other) { assign(other.view()); }
  OwnedRecord& operator=(const OwnedRecord& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  // Moving keeps the buffers (and so every view into them): nothing to rebind. The source is
  // left empty.
  OwnedRecord(OwnedRecord&& other) noexcept
      : view_(std::exchange(other.view_, TraceRecord{})), arena_(std::move(other.arena_)), fields_(std::move(other.fields_)) {}
  OwnedRecord& operator=(OwnedRecord&& other) noexcept {
    if (this != &other) {
      view_ = std::exchange(other.view_, TraceRecord{});
      arena_ = std::move(other.arena_);
      fields_ = std::move(other.fields_);
    }
    return *this;
  }
  ~OwnedRecord() = default;

  /// Replaces the content with a copy of `r` (which may not point into this object).
  void assign(const TraceRecord& r);
  /// The record, viewing this object's storage; valid until the next assign or destruction.
  [[nodiscard]] const TraceRecord& view() const noexcept { return view_; }
  /// Changes the time only (reordering clamps late records, spreading moves them in their second).
  void setTime(TraceTime t) noexcept { view_.time = t; }
  /// Hints the processor to load this object (the view and the buffer pointers; it spans several
  /// cache lines). Call it a while before prefetch(), which reads the pointers.
  void prefetchObject() const noexcept {
    __builtin_prefetch(&view_);
    __builtin_prefetch(&view_.client);
    __builtin_prefetch(&arena_);
    __builtin_prefetch(&fields_);
  }
  /// Hints the processor to load the record's strings and fields (a buffered record is read long
  /// after it was written, from memory). No effect on the content.
  void prefetch() const noexcept {
    if (!arena_.empty()) __builtin_prefetch(arena_.data());
    if (!fields_.empty()) __builtin_prefetch(fields_.data());
  }
  /// Bytes of storage held (capacity), for memory accounting.
  [[nodiscard]] std::size_t capacityBytes() const noexcept;

 private:
  // The views in view_ point straight into arena_ and fields_; a std::vector's buffer does not
  // move when the vector does (unlike a short std::string's), so moves keep them valid.
  TraceRecord view_;
  std::vector<char> arena_;    // every string of the record, back to back
  std::vector<Field> fields_;  // headers then extras
};

}  // namespace gatelab::sim::trace
