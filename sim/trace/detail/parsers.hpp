#pragma once
// Factories for the three parser families; makeLineParser dispatches on TraceFormat::kind.
// Internal to sim/trace.

#include <memory>

#include "sim/trace/line_parser.hpp"

namespace gatelab::sim::trace::detail {

[[nodiscard]] Made<LineParser> makeLogFormatParser(const TraceFormat& format);
[[nodiscard]] Made<LineParser> makeJsonLinesParser(const TraceFormat& format);
[[nodiscard]] Made<LineParser> makeDelimitedParser(const TraceFormat& format);

}  // namespace gatelab::sim::trace::detail
