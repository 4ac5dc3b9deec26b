// gatelab trace gen: generate a synthetic trace (Poisson, MMPP or diurnal arrivals, Zipf clients,
// abusive clients) from flags or a YAML workload spec, and write it in any format the readers
// support, plain or gzip. The composition root for the workload library: it reads the spec, opens
// the output and runs the generator into a writer. docs/traces.md, "Generating traces".
#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "gateway/config/diagnostics.hpp"
#include "gateway/config/units.hpp"
#include "sim/trace/trace_format.hpp"
#include "sim/trace/trace_time.hpp"
#include "sim/workload/generator.hpp"
#include "sim/workload/output.hpp"
#include "sim/workload/spec.hpp"
#include "sim/workload/spec_yaml.hpp"
#include "sim/workload/time_format.hpp"
#include "sim/workload/writer.hpp"

namespace gatelab::cli {
namespace {

namespace tr = sim::trace;
namespace wl = sim::workload;

constexpr const char* kPrefix = "gatelab trace gen: ";

int usage(const std::string& message, std::string_view allowed = {}) {
  std::cerr << kPrefix << message;
  if (!allowed.empty()) std::cerr << "; allowed: " << allowed;
  std::cerr << "\n";
  return 2;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

bool parseUnsigned(const std::string& text, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
}

bool parseNumber(const std::string& text, double& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size() && std::isfinite(out);
}

// The flag a spec path came from when the spec was built from flags.
std::string flagFor(const std::string& path) {
  struct Entry {
    const char* prefix;
    const char* flag;
  };
  static constexpr Entry kFlags[] = {
      {"groups[0].clients", "--clients"},          {"groups[0].zipf", "--zipf"},
      {"groups[0].arrivals.rate", "--rate"},       {"groups[0].arrivals.burst_factor", "--burst-factor"},
      {"groups[0].arrivals.burst_length", "--burst-length"}, {"groups[0].arrivals.burst_gap", "--burst-gap"},
      {"groups[0].arrivals.peak_hour", "--peak-hour"}, {"groups[0].arrivals.peak_ratio", "--peak-ratio"},
      {"abusive", "--abusive"},                    {"duration", "--duration"},
      {"count", "--count"},                        {"start", "--start"},
      {"time_zone", "--time-zone"},
  };
  for (const Entry& e : kFlags) {
    if (path.rfind(e.prefix, 0) == 0) return e.flag;
  }
  return path;
}

// Flags that describe the workload itself: with --spec, the spec file says these.
struct WorkloadFlag {
  const char* name;
  const std::string TraceGenOptions::*field;
};
constexpr WorkloadFlag kWorkloadFlags[] = {
    {"--rate", &TraceGenOptions::rate},           {"--clients", &TraceGenOptions::clients},
    {"--zipf", &TraceGenOptions::zipf},           {"--process", &TraceGenOptions::process},
    {"--burst-factor", &TraceGenOptions::burstFactor}, {"--burst-length", &TraceGenOptions::burstLength},
    {"--burst-gap", &TraceGenOptions::burstGap},  {"--peak-hour", &TraceGenOptions::peakHour},
    {"--peak-ratio", &TraceGenOptions::peakRatio},
};

// The spec from flags (no --spec). Returns 0, or the exit status of a usage error.
int specFromFlags(const TraceGenOptions& o, wl::WorkloadSpec& spec) {
  wl::GroupSpec g;
  g.name = "clients";
  g.content = spec.content;
  if (!o.clients.empty() && !parseUnsigned(o.clients, g.clients)) {
    return usage("invalid --clients \"" + o.clients + "\"", "an integer from 1 to 10000000");
  }
  if (!o.zipf.empty() && !parseNumber(o.zipf, g.zipf)) return usage("invalid --zipf \"" + o.zipf + "\"", "a number from 0 to 10");
  const std::string process = o.process.empty() ? "poisson" : o.process;
  if (process == "poisson") {
    g.arrivals.kind = wl::ArrivalKind::kPoisson;
  } else if (process == "mmpp" || process == "bursty") {
    g.arrivals.kind = wl::ArrivalKind::kMmpp;
  } else if (process == "diurnal") {
    g.arrivals.kind = wl::ArrivalKind::kDiurnal;
  } else {
    return usage("unknown --process \"" + process + "\"", "poisson, mmpp, diurnal");
  }
  const auto onlyFor = [&](const std::string& value, const char* flag, wl::ArrivalKind kind, const char* name) {
    if (!value.empty() && g.arrivals.kind != kind) {
      usage(std::string(flag) + " applies to --process " + name + " only");
      return false;
    }
    return true;
  };
  if (!onlyFor(o.burstFactor, "--burst-factor", wl::ArrivalKind::kMmpp, "mmpp") ||
      !onlyFor(o.burstLength, "--burst-length", wl::ArrivalKind::kMmpp, "mmpp") ||
      !onlyFor(o.burstGap, "--burst-gap", wl::ArrivalKind::kMmpp, "mmpp") ||
      !onlyFor(o.peakHour, "--peak-hour", wl::ArrivalKind::kDiurnal, "diurnal") ||
      !onlyFor(o.peakRatio, "--peak-ratio", wl::ArrivalKind::kDiurnal, "diurnal")) {
    return 2;
  }
  if (!o.rate.empty()) {
    auto r = config::parseRate(o.rate);
    if (!r) return usage("invalid --rate: " + r.error().message, r.error().allowed);
    g.arrivals.rate = r.value();
  }
  if (!o.burstFactor.empty() && !parseNumber(o.burstFactor, g.arrivals.burstFactor)) {
    return usage("invalid --burst-factor \"" + o.burstFactor + "\"", "a number >= 1, e.g. 5");
  }
  for (const auto& [text, target, flag] : {std::tuple{&o.burstLength, &g.arrivals.burstLength, "--burst-length"},
                                           std::tuple{&o.burstGap, &g.arrivals.burstGap, "--burst-gap"}}) {
    if (text->empty()) continue;
    auto d = config::parseDuration(*text);
    if (!d) return usage(std::string("invalid ") + flag + ": " + d.error().message, d.error().allowed);
    *target = d.value();
  }
  if (!o.peakHour.empty() && !parseNumber(o.peakHour, g.arrivals.peakHour)) {
    return usage("invalid --peak-hour \"" + o.peakHour + "\"", "hours from 0 to 24 (excluded), e.g. 14 or 13.5");
  }
  if (!o.peakRatio.empty() && !parseNumber(o.peakRatio, g.arrivals.peakRatio)) {
    return usage("invalid --peak-ratio \"" + o.peakRatio + "\"", "a number >= 1: peak rate / trough rate");
  }
  spec.groups.push_back(std::move(g));
  return 0;
}

void printProblems(const std::vector<wl::SpecProblem>& problems, bool fromFlags, const std::string& specFile) {
  for (const wl::SpecProblem& p : problems) {
    std::cerr << kPrefix << (fromFlags ? flagFor(p.path) : specFile + ": " + p.path) << ": " << p.message;
    if (!p.allowed.empty()) std::cerr << "; allowed: " << p.allowed;
    std::cerr << "\n";
  }
}

}  // namespace

void addTraceGenOptions(CLI::App& gen, TraceGenOptions& o) {
  gen.add_option("--spec", o.spec, "YAML workload spec (groups, MMPP states, diurnal profile, path mix...)");
  gen.add_option("-o,--out", o.out, "output file; .gz compresses; - or omitted: standard output");
  gen.add_option("-f,--format", o.format,
                 "clf | combined | nginx:'<log_format>' | jsonl | csv | tsv | nasa-tsv | epa (default combined)");
  gen.add_option("--map", o.map, "JSON/CSV/TSV: field=source[,...], as for trace stats");
  gen.add_option("--time-field", o.timeField, "JSON member / CSV column for the time (= --map time=NAME)");
  gen.add_option("--time-format", o.timeFormat,
                 "time syntax of JSON/CSV/TSV and $time: auto (RFC 3339) | rfc3339 | epoch_s | epoch_ms | epoch_us | "
                 "epoch_ns | clf | a strptime-like pattern");
  gen.add_option("--time-precision", o.timePrecision, "sub-second digits where the syntax allows them: s | ms | us | ns (default ms)");
  gen.add_flag("--no-header", o.noHeader, "CSV/TSV: no header line; --map by column number");
  gen.add_flag("--gzip", o.gzip, "compress even without a .gz suffix (e.g. to standard output)");
  gen.add_option("--gzip-level", o.gzipLevel, "1 (fast) .. 9 (small), default 6");
  gen.add_option("--duration", o.duration, "trace length, e.g. 10m (default 1m when neither --duration nor --count)");
  gen.add_option("-n,--count", o.count, "stop after N requests (with --duration: whichever comes first)");
  gen.add_option("--start", o.start, "time of the first instant, RFC 3339 (default 2024-01-01T00:00:00Z)");
  gen.add_option("--time-zone", o.timeZone, "UTC offset of local times: written log times and diurnal hours (default Z)");
  gen.add_option("--seed", o.seed, "random seed (default 1); same seed, same bytes");
  gen.add_option("--rate", o.rate, "mean request rate of the clients, e.g. 200/s (default 100/s)");
  gen.add_option("--clients", o.clients, "number of clients (default 1000)");
  gen.add_option("--zipf", o.zipf, "Zipf exponent of client popularity (default 1.0; 0 = uniform)");
  gen.add_option("--process", o.process, "arrival process: poisson | mmpp | diurnal (default poisson)");
  gen.add_option("--burst-factor", o.burstFactor, "mmpp: burst rate / quiet rate (default 5)");
  gen.add_option("--burst-length", o.burstLength, "mmpp: mean burst length (default 10s)");
  gen.add_option("--burst-gap", o.burstGap, "mmpp: mean time between bursts (default 2m)");
  gen.add_option("--peak-hour", o.peakHour, "diurnal: local hour of the peak (default 14)");
  gen.add_option("--peak-ratio", o.peakRatio, "diurnal: peak rate / trough rate (default 3)");
  gen.add_option("--abusive", o.abusive, std::string("abusive clients on top (repeatable): ") + std::string(wl::kAbusiveFlagAllowed));
  gen.add_flag("-q,--quiet", o.quiet, "no summary line on standard error");
}

int runTraceGen(const TraceGenOptions& o) {
  // ---- the workload -----------------------------------------------------------------------------
  wl::WorkloadSpec spec;
  const bool fromFlags = o.spec.empty();
  if (!fromFlags) {
    for (const WorkloadFlag& f : kWorkloadFlags) {
      if (!(o.*(f.field)).empty()) return usage(std::string(f.name) + " cannot be combined with --spec: set it in the spec file");
    }
    if (!o.abusive.empty()) return usage("--abusive cannot be combined with --spec: add an abusive entry to the spec file");
    wl::SpecLoadResult loaded = wl::loadWorkloadSpec(o.spec);
    if (!loaded.spec) {
      std::cerr << config::formatDiagnostics(loaded.diagnostics);
      return 1;
    }
    spec = std::move(*loaded.spec);
  } else {
    if (const int rc = specFromFlags(o, spec); rc != 0) return rc;
    for (const std::string& a : o.abusive) {
      auto parsed = wl::parseAbusiveFlag(a, spec.content);
      if (!parsed) return usage(parsed.error().message, parsed.error().allowed);
      wl::AbusiveSpec entry = parsed.value();
      entry.name = "abusive" + std::to_string(spec.abusive.size());
      spec.abusive.push_back(std::move(entry));
    }
  }
  if (!o.seed.empty()) {
    std::uint64_t seed = 0;
    if (!parseUnsigned(o.seed, seed)) return usage("invalid --seed \"" + o.seed + "\"", "an integer from 0 to 2^64-1");
    spec.seed = seed;
  }
  if (!o.timeZone.empty()) {
    const auto z = tr::parseZoneOffset(o.timeZone);
    if (!z) return usage("invalid --time-zone \"" + o.timeZone + "\"", "Z, UTC, +02:00, -0400, +02");
    spec.zone = *z;
  }
  if (!o.start.empty()) {
    tr::TraceTime t{};
    if (!tr::parseRfc3339(o.start, spec.zone, t)) {
      return usage("invalid --start \"" + o.start + "\"", "an RFC 3339 time such as 2024-03-05T08:00:00Z");
    }
    spec.start = t;
  }
  if (!o.duration.empty() || !o.count.empty()) {
    spec.duration.reset();
    spec.count.reset();
  }
  if (!o.duration.empty()) {
    auto d = config::parseDuration(o.duration);
    if (!d) return usage("invalid --duration: " + d.error().message, d.error().allowed);
    spec.duration = d.value();
  }
  if (!o.count.empty()) {
    std::uint64_t n = 0;
    if (!parseUnsigned(o.count, n)) return usage("invalid --count \"" + o.count + "\"", "an integer >= 1");
    spec.count = n;
  }
  if (fromFlags && !spec.duration && !spec.count) spec.duration = std::chrono::minutes(1);
  if (const auto problems = wl::checkWorkloadSpec(spec); !problems.empty()) {
    printProblems(problems, fromFlags, o.spec);
    return fromFlags ? 2 : 1;
  }

  // ---- the output format --------------------------------------------------------------------------
  auto parsed = tr::parseTraceFormat(o.format);
  if (!parsed) return usage(parsed.error().message, parsed.error().allowed);
  tr::TraceFormat format = parsed.value();
  for (const auto& [key, value] : {std::pair<std::string_view, const std::string*>{"time-field", &o.timeField},
                                   std::pair<std::string_view, const std::string*>{"time-format", &o.timeFormat}}) {
    if (value->empty()) continue;
    if (auto err = tr::setTraceFormatOption(format, key, *value)) return usage(err->message, err->allowed);
  }
  for (const std::string& m : o.map) {
    if (auto err = tr::setTraceFormatOption(format, "map", m)) return usage(err->message, err->allowed);
  }
  if (o.noHeader) format.header = false;
  // Local times are written at the workload's offset, unless the format fixes one (the epa preset's
  // EDT) and none was asked for: then the reader of that format must find it.
  if (!o.timeZone.empty() || format.time.zone.count() == 0) format.time.zone = spec.zone;

  wl::WriterOptions writerOptions;
  if (!o.timePrecision.empty()) {
    const std::string& p = o.timePrecision;
    writerOptions.fractionDigits = p == "s" ? 0 : p == "ms" ? 3 : p == "us" ? 6 : p == "ns" ? 9 : -1;
    if (writerOptions.fractionDigits < 0) return usage("invalid --time-precision \"" + p + "\"", "s, ms, us, ns");
  }
  if (o.gzipLevel < 1 || o.gzipLevel > 9) return usage("invalid --gzip-level " + std::to_string(o.gzipLevel), "1 to 9");

  auto generator = wl::WorkloadGenerator::make(spec);
  if (!generator) return usage(generator.error.message, generator.error.allowed);
  writerOptions.headers = generator.ptr->headerNames();
  auto formatter = wl::makeLineFormatter(format, writerOptions);
  if (!formatter) return usage(formatter.error.message, formatter.error.allowed);

  // ---- generate -----------------------------------------------------------------------------------
  wl::OutputOptions outputOptions;
  outputOptions.compression = o.gzip ? wl::Compression::kGzip : wl::Compression::kAuto;
  outputOptions.gzipLevel = o.gzipLevel;
  auto sink = wl::openOutput(o.out, outputOptions);
  if (!sink) {
    std::cerr << kPrefix << sink.error.message << "\n";
    return 1;
  }
  wl::TraceWriter writer(std::move(formatter.ptr), *sink.ptr);
  wl::WorkloadGenerator& gen = *generator.ptr;
  wl::GeneratedRequest request;
  bool ok = true;
  while (ok && gen.next(request)) ok = writer.write(request.record);
  ok = writer.finish() && ok;
  if (!ok) {
    std::cerr << kPrefix << writer.error() << "\n";
    return 1;
  }

  if (!o.quiet) {
    const wl::GeneratorStats& s = gen.stats();
    const core::Duration length = spec.duration ? *spec.duration : s.last;
    const double seconds = std::chrono::duration<double>(length).count();
    std::uint64_t abusive = 0;
    for (const wl::SourceInfo& src : gen.sources()) abusive += src.abusive ? src.clients : 0;
    const auto when = [&spec](core::Duration offset) {
      char buf[wl::kMaxTimeText];
      return std::string(buf, wl::appendRfc3339(buf, spec.start + offset, spec.zone, 3, true));
    };
    const auto shown = std::chrono::floor<std::chrono::milliseconds>(length);
    std::cerr << kPrefix << s.requests << " requests";
    if (s.requests != 0) std::cerr << ", " << when(s.first) << " -> " << when(s.last);
    std::cerr << " (" << (shown.count() == 0 ? std::string("0s") : core::formatDuration(shown)) << "), mean "
              << fixed(seconds > 0 ? static_cast<double>(s.requests) / seconds : 0.0, 1) << " req/s";
    if (gen.expectedRequests() && seconds > 0) std::cerr << " (expected " << fixed(*gen.expectedRequests() / seconds, 1) << ")";
    std::cerr << ", " << s.distinctClients << " of " << gen.totalClients() << " clients seen (" << abusive << " abusive)"
              << ", " << format.name << (sink.ptr->compressed() ? " gzip" : "") << " -> "
              << (o.out.empty() || o.out == "-" ? std::string("stdout") : o.out);
    const std::string readBack = wl::readBackOptions(format, writerOptions);
    if (!readBack.empty()) std::cerr << "; read back with" << readBack;
    std::cerr << "\n";
  }
  return 0;
}

}  // namespace gatelab::cli
