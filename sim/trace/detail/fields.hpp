#pragma once
// Shared by the line parsers: converting one textual value into a record field. Internal to
// sim/trace; everything is allocation-free and noexcept.

#include <string_view>
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

/// Stores `value` into record field `kind` (not kHeader: callers append headers themselves).
/// Returns an empty view on success or the rule that failed ("not a number", ...).
/// A "-" means absent for every field but time and request, which it makes malformed.
/// `isJsonNumber` is passed to the time parser (kAuto reads JSON numbers as epoch values).
[[nodiscard]] std::string_view applyField(FieldKind kind, std::string_view value, const TimeParser& time,
                                          TraceRecord& out, bool isJsonNumber = false) noexcept;

/// Resets every field of `out` to its default (the parsers fill it from scratch each line).
void clearRecord(TraceRecord& out) noexcept;

}  // namespace gatelab::sim::trace::detail
