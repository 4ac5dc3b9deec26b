// Fuzz target: the trace readers (every line-parser family, the line splitter with a small
// maximum line length, gzip detection and inflate) and the replay pipeline. Any bytes give records,
// skips or counted malformed lines, never a crash; the invariants below are checked with abort().
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <utility>
#include <string_view>
#include <vector>

#include "sim/trace/line_parser.hpp"
#include "sim/trace/reader.hpp"
#include "sim/trace/replay.hpp"
#include "sim/trace/stats.hpp"
#include "sim/trace/trace_format.hpp"

namespace {

namespace tr = gatelab::sim::trace;

tr::TraceFormat make(std::string_view spec, std::initializer_list<std::pair<std::string_view, std::string_view>> options = {}) {
  auto f = tr::parseTraceFormat(spec);
  if (!f.ok()) std::abort();
  tr::TraceFormat out = f.value();
  for (const auto& [k, v] : options) {
    if (tr::setTraceFormatOption(out, k, v)) std::abort();
  }
  return out;
}

const std::vector<tr::TraceFormat>& formats() {
  static const std::vector<tr::TraceFormat> all = {
      make("clf"),
      make("combined"),
      make("epa"),
      make("nasa-tsv"),
      make("nginx:$msec $remote_addr $request_uri $status $request_time \"$http_x_tenant_id\" $upstream_addr"),
      make("nginx:[$time_iso8601] \"$request\" ${status}|$bytes_sent|$host"),
      make("jsonl", {{"map", "time=ts,client=req.ip,header.X-Tenant=req.h.t"}, {"time-format", "auto"}}),
      make("jsonl"),
      make("csv"),
      make("csv", {{"header", "false"}, {"map", "time=1,client=2,status=3"}, {"time-format", "%d/%b/%Y:%T %z"}}),
      make("tsv", {{"time-format", "rfc3339"}}),
  };
  return all;
}

// A view lies inside one of the given buffers (or is empty, or a static "/").
bool inside(std::string_view v, std::string_view a) {
  return v.empty() || v == "/" || (v.data() >= a.data() && v.data() + v.size() <= a.data() + a.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  // 1. Each line straight into each parser: records view the line or the parser's storage.
  for (const tr::TraceFormat& f : formats()) {
    tr::Made<tr::LineParser> p = tr::makeLineParser(f);
    if (!p) std::abort();
    std::size_t start = 0;
    while (start <= in.size()) {
      const std::size_t nl = in.find('\n', start);
      const std::string_view line = in.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
      tr::TraceRecord r;
      const tr::LineResult res = p.ptr->parse(line, r);
      if (res.status == tr::LineStatus::kRecord) {
        if (r.status < 0 || r.status > 999) std::abort();
        // Log formats and TSV never decode: every string views the line itself.
        if (f.kind == tr::FormatKind::kLogFormat || f.kind == tr::FormatKind::kTsv) {
          for (std::string_view v : {r.method, r.path, r.query, r.client, r.user, r.protocol, r.referer, r.userAgent}) {
            if (!inside(v, line)) std::abort();
          }
        }
      } else if (res.status == tr::LineStatus::kMalformed && res.what.empty()) {
        std::abort();  // every malformed line has a reason
      }
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
  }

  // 2. The whole input through a reader with tight buffers (gzip if it starts with 1f 8b).
  tr::ReaderOptions options;
  options.maxLineLength = 128;
  options.readChunk = 16;
  options.keepMalformed = 3;
  for (const tr::TraceFormat& f : formats()) {
    tr::Made<tr::TraceReader> reader = tr::openTraceMemory(in, f, options);
    if (!reader) std::abort();
    tr::TraceRecord r;
    std::uint64_t records = 0;
    std::uint64_t lastLine = 0;
    while (reader.ptr->next(r)) {
      ++records;
      if (r.line <= lastLine) std::abort();  // line numbers strictly increase
      lastLine = r.line;
      // O(maxLineLength): line buffer, input chunk, and per-line scratch (cells, fields) of one line.
      if (reader.ptr->bufferCapacity() > 160 * 128) std::abort();
    }
    const tr::ReaderStats& s = reader.ptr->stats();
    if (s.records != records || s.firstMalformed.size() > 3 || s.firstMalformed.size() > s.malformed) std::abort();
    if (s.error.empty() && s.records + s.malformed + s.skipped != s.linesRead) std::abort();
    if (s.overlong > s.malformed) std::abort();
  }

  // 3. The replay pipeline and statistics on the combined reader: output never goes back in time.
  tr::Made<tr::TraceReader> reader = tr::openTraceMemory(in, formats()[1], options);
  if (!reader) std::abort();
  tr::ReplayOptions replay;
  replay.reorder.window = std::chrono::seconds(2);
  replay.reorder.maxRecords = 4;
  replay.spread = tr::SpreadMode::kEven;
  tr::ReplayStream stream(*reader.ptr, replay);
  tr::TraceStatsCollector stats;
  tr::ReplayItem item;
  std::optional<gatelab::core::TimePoint> previous;
  while (stream.next(item)) {
    if (previous && item.at < *previous) std::abort();
    previous = item.at;
    stats.add(item.time, item.client, item.record->status, item.record->method);
  }
  if (stats.finish().requests != stream.stats().records || stats.finish().outOfOrder != 0) std::abort();
  return 0;
}
