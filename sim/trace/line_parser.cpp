#include "sim/trace/line_parser.hpp"

#include "sim/trace/detail/parsers.hpp"

namespace gatelab::sim::trace {

std::string describeLineResult(const LineResult& r) {
  std::string out(r.field);
  if (!out.empty() && !r.what.empty()) out += ": ";
  out += r.what;
  return out;
}

Made<LineParser> makeLineParser(const TraceFormat& format) {
  switch (format.kind) {
    case FormatKind::kLogFormat: return detail::makeLogFormatParser(format);
    case FormatKind::kJsonLines: return detail::makeJsonLinesParser(format);
    case FormatKind::kCsv:
    case FormatKind::kTsv: return detail::makeDelimitedParser(format);
  }
  return config::UnitError{"unknown trace format kind", std::string(kTraceFormatAllowed)};
}

}  // namespace gatelab::sim::trace
