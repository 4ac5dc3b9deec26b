#pragma once
// Shared by the line parsers: converting one textual value into a record field. Internal to
// sim/trace; everything is allocation-free and noexcept.

#include <array>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/trace/line_parser.hpp"
#include "sim/trace/trace_time.hpp"

namespace gatelab::sim::trace::detail {

/// "-" is how access logs write "no value".
constexpr bool isDash(std::string_view v) noexcept { return v.size() == 1 && v[0] == '-'; }

/// Non-negative decimal integer without sign or spaces; false on overflow or any other byte.
[[nodiscard]] bool parseUnsigned(std::string_view text, std::uint64_t& out) noexcept;
/// Decimal seconds "0.123" / "12" -> nanoseconds (digits below a nanosecond truncated).
[[nodiscard]] bool parseSeconds(std::string_view text, core::Duration& out) noexcept;
/// "GET /x?y HTTP/1.1": exactly three non-empty tokens separated by single spaces.
[[nodiscard]] bool splitRequestLine(std::string_view line, std::string_view& method, std::string_view& target,
                                    std::string_view& protocol) noexcept;
/// Splits a request target into path and query ('?'); an absolute URL ("http://h:1/p?q") also gives
/// the authority as `host` (left unchanged otherwise) and "/" when its path is empty.
void splitTarget(std::string_view target, std::string_view& path, std::string_view& query,
                 std::string_view& host) noexcept;

/// A TimeParser that remembers the last text it read and what it parsed to. Access logs are
/// written in time order with second or millisecond resolution, so most lines repeat the previous
/// line's time text byte for byte (a 5,000 req/s trace with milliseconds: about four lines in
/// five); those skip the date arithmetic. Exact: a TimeParser is a pure function of (text,
/// isJsonNumber). One per time field of a line parser (which is single-threaded); texts longer
/// than the buffer are not kept.
class TimeMemo {
 public:
  TimeMemo() = default;
  explicit TimeMemo(TimeParser time) : time_(std::move(time)) {}

  [[nodiscard]] bool parse(std::string_view text, TraceTime& out, bool isJsonNumber = false) noexcept {
    if (text.size() == size_ && isJsonNumber == isJsonNumber_ && size_ != 0 &&
        std::memcmp(text.data(), text_.data(), size_) == 0) {
      out = value_;
      return true;
    }
    if (!time_.parse(text, out, isJsonNumber)) return false;
    if (text.size() <= text_.size()) {
      std::memcpy(text_.data(), text.data(), text.size());
      size_ = text.size();
      isJsonNumber_ = isJsonNumber;
      value_ = out;
    }
    return true;
  }

 private:
  TimeParser time_;
  std::array<char, 48> text_{};
  std::size_t size_ = 0;  // 0: nothing remembered
  bool isJsonNumber_ = false;
  TraceTime value_{};
};

/// The record field a kind stores its text in as it is (method, path, client...); null for the
/// kinds that convert or split their text (time, url, request, status, bytes, request_time) and
/// for kHeader.
[[nodiscard]] inline std::string_view* textField(FieldKind kind, TraceRecord& out) noexcept {
  switch (kind) {
    case FieldKind::kMethod: return &out.method;
    case FieldKind::kPath: return &out.path;
    case FieldKind::kQuery: return &out.query;
    case FieldKind::kHost: return &out.host;
    case FieldKind::kClient: return &out.client;
    case FieldKind::kUser: return &out.user;
    case FieldKind::kProtocol: return &out.protocol;
    case FieldKind::kReferer: return &out.referer;
    case FieldKind::kUserAgent: return &out.userAgent;
    default: return nullptr;
  }
}

/// applyField for the kinds textField() does not cover.
[[nodiscard]] std::string_view applyConvertedField(FieldKind kind, std::string_view value, TimeMemo& time,
                                                   TraceRecord& out, bool isJsonNumber) noexcept;

/// Stores `value` into record field `kind` (not kHeader: callers append headers themselves).
/// Returns an empty view on success or the rule that failed ("not a number", ...).
/// A "-" means absent for every field but time and request, which it makes malformed.
/// `isJsonNumber` is passed to the time parser (kAuto reads JSON numbers as epoch values).
/// Inline for the text fields (most of a line's fields: a store, no call); the rest out of line.
[[nodiscard]] inline std::string_view applyField(FieldKind kind, std::string_view value, TimeMemo& time,
                                                 TraceRecord& out, bool isJsonNumber = false) noexcept {
  if (std::string_view* const field = textField(kind, out)) {
    if (!isDash(value)) *field = value;
    return {};
  }
  return applyConvertedField(kind, value, time, out, isJsonNumber);
}

/// Resets every field of `out` to its default (the parsers fill it from scratch each line).
void clearRecord(TraceRecord& out) noexcept;

}  // namespace gatelab::sim::trace::detail
