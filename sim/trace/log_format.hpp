#pragma once
// The text of an nginx `log_format`, split into its variables: what the trace reader
// (log_format_parser.cpp) compiles into a parser and the workload writer (sim/workload/writer.cpp)
// into a formatter, so both read the same syntax and know the same variables.
//
// Syntax: `$name` (letters, digits, '_') or `${name}`; a '$' that starts no name is literal text.
// Pure; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatelab::sim::trace {

/// The nginx variables a trace record has a field for; kHeader is `$http_NAME` for any other
/// NAME; kOther is any other variable (an extra field).
enum class LogVariable : std::uint8_t {
  kRemoteAddr,
  kRemoteUser,
  kTimeLocal,
  kTimeIso8601,
  kMsec,
  kTime,  ///< gatelab's own: a time in TraceFormat::time's format
  kRequest,
  kRequestMethod,
  kRequestUri,
  kUri,  ///< $uri or $document_uri
  kArgs,  ///< $args or $query_string
  kServerProtocol,
  kStatus,
  kBodyBytesSent,
  kBytesSent,
  kHost,  ///< $host or $http_host
  kHttpReferer,
  kHttpUserAgent,
  kRequestTime,
  kHeader,
  kOther,
};

struct LogFormatItem {
  std::string name;  ///< as written, without '$' and braces
  LogVariable variable = LogVariable::kOther;
  std::string header;  ///< kHeader: the header's name, '_' written as '-', case as written
  std::string after;   ///< the literal text up to the next variable (or the end)
};

struct LogFormatPieces {
  std::string prefix;  ///< literal text before the first variable
  std::vector<LogFormatItem> items;
};

/// Splits `text`; nullopt with `*error` set ("unclosed ${ at offset 7", "bad variable name
/// ${a-b}") when it is not valid syntax. An empty item list is not an error here.
[[nodiscard]] std::optional<LogFormatPieces> splitLogFormat(std::string_view text, std::string* error = nullptr);

}  // namespace gatelab::sim::trace
