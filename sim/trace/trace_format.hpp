#pragma once
// TraceFormat: how to read a trace's lines. One value describes every supported input: access logs
// written by an nginx `log_format` (Common and Combined Log Format are two such formats), JSON lines
// with a field mapping, and CSV/TSV with a header and a column mapping. A scenario file gives it as
// keys; the CLI gives it as `--format KIND` plus options; both end in parseTraceFormat() and
// setTraceFormatOption(), so they accept the same words. See docs/traces.md.
//
// Plain values; all functions are pure and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/units.hpp"
#include "sim/trace/trace_time.hpp"

namespace gatelab::sim::trace {

enum class FormatKind : std::uint8_t {
  kLogFormat,  ///< an nginx log_format (clf, combined, or the user's own)
  kJsonLines,  ///< one JSON object per line
  kCsv,        ///< comma-separated, RFC 4180 quoting
  kTsv,        ///< tab-separated, no quoting
};

/// The record field a trace value goes to.
enum class FieldKind : std::uint8_t {
  kTime,         ///< the request's time (syntax: TraceFormat::time)
  kMethod,
  kUrl,          ///< request target: path with optional "?query"; absolute URLs set host too
  kPath,
  kQuery,
  kHost,
  kClient,       ///< client identity ($remote_addr, a host name, an IP column)
  kUser,
  kProtocol,
  kRequest,      ///< a whole request line "GET /x HTTP/1.0" (method, url and protocol)
  kStatus,
  kBytes,
  kReferer,
  kUserAgent,
  kRequestTime,  ///< duration in decimal seconds ("0.123"), as nginx $request_time
  kHeader,       ///< a request header (FieldMapping::header names it)
};

/// time, method, url, path, query, host, client, user, protocol, request, status, bytes, referer,
/// user_agent, request_time, header.
[[nodiscard]] std::string_view fieldKindName(FieldKind kind) noexcept;
/// Inverse of fieldKindName for every kind but kHeader (written "header.NAME"); nullopt if unknown.
[[nodiscard]] std::optional<FieldKind> parseFieldKind(std::string_view name) noexcept;

/// One mapping entry for JSON lines and CSV/TSV: record field <- trace field.
struct FieldMapping {
  FieldKind field = FieldKind::kTime;
  std::string header;  ///< for kHeader: the header name ("X-Tenant-Id")
  std::string source;  ///< CSV/TSV: column name (or 1-based number without a header line);
                       ///< JSON: member name, nested members by dotted path ("req.headers.host")
  friend bool operator==(const FieldMapping&, const FieldMapping&) = default;
};

struct TraceFormat {
  std::string name = "combined";         ///< for display: "combined", "nginx", "nasa-tsv", ...
  FormatKind kind = FormatKind::kLogFormat;
  std::string logFormat;                 ///< kLogFormat: nginx log_format text
  std::vector<FieldMapping> fields;      ///< JSON/CSV/TSV explicit mapping; see effectiveFieldMappings
  TimeSpec time;                         ///< the mapped time field (JSON/CSV/TSV) and $time (log formats)
  bool header = true;                    ///< CSV/TSV: the first line names the columns
  bool optionalTail = false;             ///< log formats: a line may end early, inside any variable after
                                         ///< the last time/request one (which must be complete with the
                                         ///< text that ends it); the variable takes the rest of the line
                                         ///< and the ones after it are absent
  bool keepExtras = true;                ///< unknown variables, unmapped columns and top-level JSON members become extras
};

/// nginx/Apache Common Log Format.
inline constexpr std::string_view kClfLogFormat =
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent";
/// nginx's predefined "combined" = Apache's Combined Log Format.
inline constexpr std::string_view kCombinedLogFormat =
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" "
    "\"$http_user_agent\"";

/// What parseTraceFormat accepts, for messages and docs.
inline constexpr std::string_view kTraceFormatAllowed =
    "clf, combined, nginx:'<log_format>', jsonl, csv, tsv, or a preset: nasa-tsv, epa";

/// Parses a compact format name: "clf", "combined", "nginx:<log_format text>", "jsonl" (or "json"),
/// "csv", "tsv", or a preset ("nasa-tsv", "epa": the two shared real traces). Options that refine
/// it (mapping, time syntax) are set afterwards with setTraceFormatOption. The log_format text is
/// checked when a parser is made (makeLineParser), not here.
[[nodiscard]] config::UnitResult<TraceFormat> parseTraceFormat(std::string_view spec);

/// Sets one option, by the same names the CLI flags and scenario keys use:
///   map           "field=source[,field=source...]" (field: see fieldKindName; header.NAME for a header)
///   time-field    source of the time (same as map time=SOURCE)
///   time-format   auto | clf | rfc3339 | iso8601 | epoch_s | epoch_ms | epoch_us | epoch_ns | a pattern with '%'
///   time-zone     "+02:00", "-0400", "Z": offset for times written without one
///   time-base     "1995-08-01" or "1995-08": date parts a time pattern lacks
///   header        true | false (CSV/TSV)
///   optional-tail true | false (log formats)
///   extras        true | false
/// Returns an error (naming the option) and leaves `format` unchanged when the value is invalid.
[[nodiscard]] std::optional<config::UnitError> setTraceFormatOption(TraceFormat& format, std::string_view key,
                                                                    std::string_view value);

/// Same-named defaults: each field from the member/column of its own name (time, method, url, path,
/// query, host, client, user, protocol, request, status, bytes, referer, user_agent, request_time).
[[nodiscard]] std::vector<FieldMapping> defaultFieldMappings();
/// The mapping JSON/CSV/TSV readers use: the explicit TraceFormat::fields, then a same-named
/// default for every field not mapped explicitly whose name is not already the source of an
/// explicit mapping (so `--map client=host` keeps a "host" column out of the Host field).
/// Defaults whose member/column is absent are simply not read; explicit ones are required for CSV
/// (the header must name them) and optional for JSON (a member missing from a line is absent,
/// except the time, which makes the line malformed).
[[nodiscard]] std::vector<FieldMapping> effectiveFieldMappings(const TraceFormat& format);

/// NASA-HTTP as shared (TSV: host logname time method url response bytes referer useragent; epoch
/// seconds). Exactly `--format tsv --time-format epoch_s --map time=time,client=host,method=method,
/// url=url,status=response,bytes=bytes,referer=referer,user_agent=useragent`.
[[nodiscard]] TraceFormat nasaTsvPreset();
/// EPA-HTTP as shared (`host [DD:HH:MM:SS] "request" status bytes`, EDT, August 1995; 21 lines lack
/// the bytes). Exactly `--format 'nginx:$remote_addr [$time] "$request" $status $body_bytes_sent'
/// --time-format %d:%H:%M:%S --time-base 1995-08 --time-zone -04:00 --optional-tail`.
[[nodiscard]] TraceFormat epaPreset();

/// One line describing the format, for reports: `combined`, `tsv (time=time:epoch_s, client=host, ...)`.
[[nodiscard]] std::string describeTraceFormat(const TraceFormat& format);

}  // namespace gatelab::sim::trace
