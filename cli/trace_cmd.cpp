// gatelab trace stats: read a trace (any supported format, plain or gzip) and print the figures a
// user needs before choosing rate limits: volume, span, peaks overall and per client, the busiest
// clients, statuses and methods, and what could not be read.
#include <CLI/CLI.hpp>

#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.hpp"
#include "gateway/config/units.hpp"
#include "sim/trace/reader.hpp"
#include "sim/trace/replay.hpp"
#include "sim/trace/stats.hpp"
#include "sim/trace/trace_format.hpp"

namespace gatelab::cli {

namespace {

namespace tr = sim::trace;

std::string percent(std::uint64_t part, std::uint64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

double share(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void usageError(const config::UnitError& e) {
  std::cerr << "gatelab trace stats: " << e.message;
  if (!e.allowed.empty()) std::cerr << "; allowed: " << e.allowed;
  std::cerr << "\n";
}

std::string formatDurationOrZero(core::Duration d) { return d.count() == 0 ? "0s" : core::formatDuration(d); }

// Statuses, methods, reordering, malformed lines and errors: printed even for an empty trace.
void printTail(const TraceStatsOptions& o, const tr::TraceStatsReport& r) {
  const tr::TraceStats& s = r.stats;
  const tr::ReaderStats& rd = r.reader;
  std::cout << "statuses   ";
  for (const auto& [status, n] : s.statuses) std::cout << " " << (status == 0 ? std::string("none") : std::to_string(status)) << ":" << n;
  std::cout << "\nmethods    ";
  for (const auto& [method, n] : s.methods) std::cout << " " << (method.empty() ? std::string("none") : method) << ":" << n;
  std::cout << "\n";
  std::cout << "reorder     window " << o.reorderWindow << ": " << r.replay.late << " late (" << r.replay.lateClamped
            << " clamped, " << r.replay.lateDropped << " dropped";
  if (r.replay.late != 0) std::cout << ", up to " << core::formatDuration(r.replay.maxLateness) << " behind";
  std::cout << ")";
  if (r.replay.reorderOverflows != 0) std::cout << "; " << r.replay.reorderOverflows << " released early (buffer full)";
  std::cout << "\n";
  if (rd.malformed != 0) {
    std::cout << "malformed   " << rd.malformed << " lines";
    if (rd.overlong != 0) std::cout << " (" << rd.overlong << " over " << o.maxLineLength << " bytes)";
    std::cout << "; first:\n";
    for (const tr::MalformedLine& m : rd.firstMalformed) std::cout << "  line " << m.line << ": " << m.reason << "\n";
  }
  if (!rd.error.empty()) std::cout << "error       reading stopped: " << rd.error << "\n";
}

void printText(const TraceStatsOptions& o, const tr::TraceFormat& format, const tr::TraceStatsReport& r,
               const std::string& clientSpec, tr::ZoneOffset zone) {
  const auto when = [zone](tr::TraceTime t) { return tr::formatTraceTime(t, zone); };
  const tr::TraceStats& s = r.stats;
  const tr::ReaderStats& rd = r.reader;
  std::cout << "trace       " << o.file << (rd.compressed ? " (gzip)" : "") << "\n";
  std::cout << "format      " << tr::describeTraceFormat(format) << "\n";
  std::cout << "lines       " << rd.linesRead << " read: " << rd.records << " records, " << rd.malformed << " malformed, "
            << rd.skipped << " skipped (blank or header)\n";
  std::cout << "requests    " << s.requests << "\n";
  if (s.first) {
    std::cout << "span        " << when(*s.first) << " -> " << when(*s.last) << " ("
              << formatDurationOrZero(s.span()) << ", " << fixed(static_cast<double>(s.span().count()) / 3.6e12, 2)
              << " h)\n";
    std::cout << "rate        mean " << fixed(s.meanPerSecond(), 2) << " req/s; peak " << s.peakPerSecond
              << " req/s (first at " << when(s.peakSecond) << ")\n";
  }
  std::cout << "clients     " << s.distinctClients << " distinct (identity: " << clientSpec << "); median "
            << fixed(s.medianPerClient, 1) << " requests per client";
  if (s.missingClient != 0) std::cout << "; " << s.missingClient << " requests without an identity";
  std::cout << "\n";
  if (s.distinctClients == 0) {
    printTail(o, r);
    return;
  }
  std::cout << "per client  peak " << s.clientPerSecond.count << " req/s (" << s.clientPerSecond.client << "), "
            << s.clientFixedMinute.count << " req/fixed minute (" << s.clientFixedMinute.client << "), "
            << s.clientSliding60s.count << " req/sliding 60 s (" << s.clientSliding60s.client << ")\n";
  std::cout << "            " << s.sameSecondRepeats << " requests (" << percent(s.sameSecondRepeats, s.requests)
            << ") are a client's 2nd or later in one second\n";
  std::cout << "top 1 %     " << s.topPercentClients << " clients send " << percent(s.topPercentRequests, s.requests)
            << " of requests\n";
  if (!s.topClients.empty()) {
    std::cout << "top clients\n";
    for (std::size_t i = 0; i < s.topClients.size(); ++i) {
      char line[64];
      std::snprintf(line, sizeof line, "  %3zu %8" PRIu64 "  %6s  ", i + 1, s.topClients[i].requests,
                    percent(s.topClients[i].requests, s.requests).c_str());
      std::cout << line << s.topClients[i].client << "\n";
    }
  }
  printTail(o, r);
}

nlohmann::ordered_json peakJson(const tr::ClientPeak& p) {
  return nlohmann::ordered_json{{"count", p.count}, {"client", p.client}, {"at", tr::formatTraceTime(p.at)}};
}

void printJson(const TraceStatsOptions& o, const tr::TraceFormat& format, const tr::TraceStatsReport& r,
               const std::string& clientSpec) {
  const tr::TraceStats& s = r.stats;
  const tr::ReaderStats& rd = r.reader;
  nlohmann::ordered_json j;
  j["file"] = o.file;
  j["format"] = tr::describeTraceFormat(format);
  j["compressed"] = rd.compressed;
  j["lines"] = {{"read", rd.linesRead}, {"records", rd.records}, {"malformed", rd.malformed},
                {"overlong", rd.overlong}, {"skipped", rd.skipped}};
  nlohmann::ordered_json bad = nlohmann::ordered_json::array();
  for (const tr::MalformedLine& m : rd.firstMalformed) bad.push_back({{"line", m.line}, {"reason", m.reason}});
  j["first_malformed"] = bad;
  j["requests"] = s.requests;
  if (s.first) {
    j["first"] = tr::formatTraceTime(*s.first);
    j["last"] = tr::formatTraceTime(*s.last);
    j["first_epoch_s"] = std::chrono::floor<std::chrono::seconds>(*s.first).time_since_epoch().count();
    j["last_epoch_s"] = std::chrono::floor<std::chrono::seconds>(*s.last).time_since_epoch().count();
  } else {
    j["first"] = nullptr;
    j["last"] = nullptr;
  }
  j["span_s"] = static_cast<double>(s.span().count()) / 1e9;
  j["mean_per_second"] = s.meanPerSecond();
  j["peak_per_second"] = {{"count", s.peakPerSecond}, {"at", tr::formatTraceTime(s.peakSecond)}};
  j["client_identity"] = clientSpec;
  j["distinct_clients"] = s.distinctClients;
  j["missing_client"] = s.missingClient;
  j["median_per_client"] = s.medianPerClient;
  j["per_client_peak"] = {{"second", peakJson(s.clientPerSecond)},
                          {"fixed_minute", peakJson(s.clientFixedMinute)},
                          {"sliding_60s", peakJson(s.clientSliding60s)}};
  j["same_second_repeats"] = s.sameSecondRepeats;
  j["top_1_percent"] = {{"clients", s.topPercentClients},
                        {"requests", s.topPercentRequests},
                        {"share", share(s.topPercentRequests, s.requests)}};
  nlohmann::ordered_json top = nlohmann::ordered_json::array();
  for (const tr::ClientCount& c : s.topClients) {
    top.push_back({{"client", c.client}, {"requests", c.requests}, {"share", share(c.requests, s.requests)}});
  }
  j["top_clients"] = top;
  nlohmann::ordered_json statuses = nlohmann::ordered_json::object();
  for (const auto& [status, n] : s.statuses) statuses[status == 0 ? std::string("none") : std::to_string(status)] = n;
  j["statuses"] = statuses;
  nlohmann::ordered_json methods = nlohmann::ordered_json::object();
  for (const auto& [method, n] : s.methods) methods[method.empty() ? std::string("none") : method] = n;
  j["methods"] = methods;
  j["reorder"] = {{"window", o.reorderWindow},
                  {"late", r.replay.late},
                  {"late_clamped", r.replay.lateClamped},
                  {"late_dropped", r.replay.lateDropped},
                  {"max_lateness_s", static_cast<double>(r.replay.maxLateness.count()) / 1e9},
                  {"released_early", r.replay.reorderOverflows}};
  j["error"] = rd.error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(rd.error);
  std::cout << j.dump(2) << "\n";
}

}  // namespace

TraceCommands addTraceCommand(CLI::App& app, TraceStatsOptions& o, TraceGenOptions& genOptions) {
  CLI::App* trace = app.add_subcommand(
      "trace", "Inspect or generate traffic traces (access logs, JSON lines, CSV/TSV; plain or gzip)");
  trace->require_subcommand(1);
  CLI::App* stats = trace->add_subcommand(
      "stats",
      "Requests, span, clients, peaks per second/minute overall and per client, top clients, statuses and methods.\n"
      "Exit 0 read, 1 unreadable or nothing parsed, 2 usage. See docs/traces.md.");
  stats->add_option("FILE", o.file, "trace file (plain or gzip; - for standard input)")->required();
  stats->add_option("-f,--format", o.format,
                    "clf | combined | nginx:'<log_format>' | jsonl | csv | tsv | nasa-tsv | epa (default combined)");
  stats->add_option("--map", o.map, "field=source[,...]: JSON member path or CSV/TSV column for each record field");
  stats->add_option("--time-field", o.timeField, "JSON member / CSV column holding the time (= --map time=NAME)");
  stats->add_option("--time-format", o.timeFormat,
                    "auto | clf | rfc3339 | epoch_s | epoch_ms | epoch_us | epoch_ns | a strptime-like pattern (%d:%H:%M:%S)");
  stats->add_option("--time-zone", o.timeZone, "UTC offset for times written without one (+02:00, -0400, Z)");
  stats->add_option("--time-base", o.timeBase, "date parts a time pattern lacks (1995-08 or 1995-08-01)");
  stats->add_flag("--optional-tail", o.optionalTail, "log formats: lines may stop early once time and request are read");
  stats->add_flag("--no-header", o.noHeader, "CSV/TSV: no header line; map columns by number (1-based)");
  stats->add_option("--client", o.client, "client identity: ip | host | user | user_agent | header:NAME | field:NAME");
  stats->add_option("--reorder-window", o.reorderWindow, "re-sort out-of-order lines within this much trace time (0s: off)");
  stats->add_option("--reorder-records", o.reorderRecords, "hold at most this many records for reordering");
  stats->add_option("--late", o.late, "records older than the reorder window: clamp (keep at the window's time) | drop");
  stats->add_option("--top", o.top, "how many busiest clients to list (default 10)");
  stats->add_option("--max-line-length", o.maxLineLength, "longer lines are counted as malformed (bytes)");
  stats->add_option("--display-zone", o.displayZone, "print times at this UTC offset, e.g. -04:00 (default UTC)");
  stats->add_flag("--json", o.json, "print the figures as JSON (times always UTC)");
  CLI::App* gen = trace->add_subcommand(
      "gen",
      "Generate a synthetic trace: Poisson, bursty (MMPP) or diurnal arrivals, Zipf-distributed clients, abusive\n"
      "clients; any format trace stats reads, plain or gzip. Same seed, same bytes.\n"
      "Exit 0 written, 1 invalid spec file or write error, 2 usage. See docs/traces.md.");
  addTraceGenOptions(*gen, genOptions);
  return TraceCommands{stats, gen};
}

int runTraceStats(const TraceStatsOptions& o) {
  auto parsed = tr::parseTraceFormat(o.format);
  if (!parsed) {
    usageError(parsed.error());
    return 2;
  }
  tr::TraceFormat format = parsed.value();
  const auto set = [&format](std::string_view key, const std::string& value) {
    if (value.empty()) return true;
    if (auto err = tr::setTraceFormatOption(format, key, value)) {
      usageError(*err);
      return false;
    }
    return true;
  };
  for (const std::string& m : o.map) {
    if (!set("map", m)) return 2;
  }
  if (!set("time-field", o.timeField) || !set("time-format", o.timeFormat) || !set("time-zone", o.timeZone) ||
      !set("time-base", o.timeBase)) {
    return 2;
  }
  if (o.optionalTail) format.optionalTail = true;
  if (o.noHeader) format.header = false;

  tr::ReplayOptions replay;
  auto client = tr::ClientSelector::parse(o.client);
  if (!client) {
    usageError(client.error());
    return 2;
  }
  replay.client = client.value();
  auto window = config::parseDuration(o.reorderWindow);
  if (!window) {
    usageError(window.error());
    return 2;
  }
  replay.reorder.window = window.value();
  replay.reorder.maxRecords = o.reorderRecords;
  const auto late = tr::parseLatePolicy(o.late);
  if (!late) {
    usageError(config::UnitError{"invalid --late \"" + o.late + "\"", "clamp, drop"});
    return 2;
  }
  replay.reorder.late = *late;

  tr::ZoneOffset displayZone{0};
  if (!o.displayZone.empty()) {
    const auto z = tr::parseZoneOffset(o.displayZone);
    if (!z) {
      usageError(config::UnitError{"invalid --display-zone \"" + o.displayZone + "\"", "Z, UTC, +02:00, -0400, +02"});
      return 2;
    }
    displayZone = *z;
  }

  tr::ReaderOptions readerOptions;
  readerOptions.maxLineLength = o.maxLineLength;
  auto reader = tr::openTraceFile(o.file, format, readerOptions);
  if (!reader) {
    const bool io = reader.error.message.starts_with("cannot open");
    std::cerr << "gatelab trace stats: " << reader.error.message;
    if (!reader.error.allowed.empty()) std::cerr << "; allowed: " << reader.error.allowed;
    std::cerr << "\n";
    return io ? 1 : 2;
  }
  const tr::TraceStatsReport report = tr::collectTraceStats(*reader.ptr, replay, o.top);
  if (o.json) {
    printJson(o, format, report, replay.client.describe());
  } else {
    printText(o, format, report, replay.client.describe(), displayZone);
  }
  if (!report.reader.error.empty()) return 1;
  if (report.stats.requests == 0 && report.reader.malformed != 0) {
    std::cerr << "gatelab trace stats: no line of " << o.file << " is in the format " << format.name
              << "; pick the format with --format (see docs/traces.md)\n";
    return 1;
  }
  return 0;
}

}  // namespace gatelab::cli
