// `gatelab sim | compare | rehearse | demo`: load a scenario, run its variants through the
// simulator, print what happened, check the expectations, write the output files
// (docs/simulator.md, docs/outputs.md).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "sim/metrics/metrics_json.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/trace/trace_time.hpp"

#ifndef GATELAB_SOURCE_DIR
#define GATELAB_SOURCE_DIR "."
#endif

namespace gatelab::cli {
namespace {

namespace fs = std::filesystem;
namespace scn = sim::scenario;
using nlohmann::json;

enum class Mode { kSim, kCompare, kRehearse };

/// One expectation's verdict.
struct CheckResult {
  const scn::Expectation* expectation = nullptr;
  std::size_t index = 0;        ///< position in the variant's checks = in RunPlan::watch
  std::optional<double> value;  ///< nullopt: no data (a breach: the SLO cannot be shown to hold)
  bool passed = false;
};

/// One variant's run with its verdicts.
/// One timeline bucket's value of every check's metric (RunPlan::watch, in check order): what
/// locates a breach in time. Kept for every bucket (~16 bytes per check).
struct BucketFigures {
  core::Duration start{0}, end{0};
  std::vector<std::optional<double>> watched;
};

struct VariantRun {
  const scn::Variant* variant = nullptr;
  sim::RunResult result;
  std::vector<CheckResult> checks;
  std::vector<BucketFigures> buckets;
  std::string timelineError;  ///< writing timeline.ndjson failed
  [[nodiscard]] std::size_t breaches() const {
    return static_cast<std::size_t>(std::count_if(checks.begin(), checks.end(), [](const CheckResult& c) { return !c.passed; }));
  }
};

/// A time offset or span for people: "312ms", "42.5s", then "10m05s", "12h51m02s" from ten minutes.
std::string formatDuration(core::Duration d) {
  using std::chrono::duration_cast;
  if (d < std::chrono::minutes(10)) {
    return sim::formatMetricValue(sim::MetricUnit::kSeconds, std::chrono::duration<double>(d).count());
  }
  const auto total = duration_cast<std::chrono::seconds>(d).count();
  char text[64];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm%02llds", static_cast<long long>(total / 3600),
                  static_cast<long long>(total / 60 % 60), static_cast<long long>(total % 60));
  } else {
    std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(total / 60), static_cast<long long>(total % 60));
  }
  return text;
}

std::string formatShare(std::optional<double> v) {
  return v ? sim::formatMetricValue(sim::MetricUnit::kShare, *v) : std::string{"-"};
}

std::string formatCount(std::uint64_t n) { return std::to_string(n); }

std::optional<std::uint64_t> parseSeed(const std::string& text) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc{} || p != end || text.empty()) return std::nullopt;
  return v;
}

/// The scenario and every selected variant's config, or an error already printed.
struct Loaded {
  scn::Scenario scenario;
  std::vector<std::size_t> selected;  ///< indices into scenario.variants
  std::vector<std::shared_ptr<const config::GatewayConfig>> configs;  ///< per scenario.variants
};

std::optional<Loaded> load(const ScenarioRunOptions& options, Mode mode) {
  auto loaded = scn::loadScenarioFile(options.scenario);
  if (!loaded) {
    std::cerr << loaded.errorText();
    return std::nullopt;
  }
  Loaded out{std::move(*loaded.scenario), {}, {}};
  const auto& variants = out.scenario.variants;
  if (!options.variants.empty()) {
    for (const auto& name : options.variants) {
      const scn::Variant* v = out.scenario.findVariant(name);
      if (v == nullptr) {
        std::string names;
        for (const auto& each : variants) names += (names.empty() ? "" : ", ") + each.name;
        std::cerr << "gatelab: " << out.scenario.sourcePath << ": no variant named '" << name
                  << "'; allowed: " << names << '\n';
        return std::nullopt;
      }
      const auto index = static_cast<std::size_t>(v - variants.data());
      if (std::find(out.selected.begin(), out.selected.end(), index) == out.selected.end()) out.selected.push_back(index);
    }
  } else if (mode == Mode::kSim) {
    out.selected.push_back(0);
  } else {
    for (std::size_t i = 0; i < variants.size(); ++i) out.selected.push_back(i);
  }
  if (mode == Mode::kSim && out.selected.size() > 1) {
    std::cerr << "gatelab sim: runs one variant; use `gatelab compare` for several\n";
    return std::nullopt;
  }
  auto configs = scn::loadScenarioConfigs(out.scenario);
  if (!configs.ok()) {
    std::cerr << configs.errorText();
    return std::nullopt;
  }
  out.configs = std::move(configs.configs);
  return out;
}

sim::RunPlan planFor(const scn::Scenario& scenario, std::size_t variant,
                     std::shared_ptr<const config::GatewayConfig> config, std::uint64_t seed, bool injectFailures) {
  sim::RunPlan plan;
  plan.label = scenario.variants[variant].name;
  plan.config = config;
  plan.seed = sim::RunSeed{seed, 0};
  plan.traceFile = scenario.trace.file;
  plan.traceFormat = scenario.trace.format;
  plan.readerOptions = scenario.trace.reader;
  plan.replay = scenario.trace.replay;
  plan.defaultHost = scenario.trace.host;
  plan.headers = scenario.trace.headers;
  plan.backendFor = [&backends = scenario.backends](const std::string& service, const std::string& target,
                                                     std::size_t index) {
    return backends.backendFor(service, target, index);
  };
  for (const auto& f : scenario.failures) {
    sim::PlannedFailure planned;
    planned.at = f.at;
    planned.spec = f.toFailureSpec(core::TimePoint{}, config.get());
    plan.failures.push_back(std::move(planned));
  }
  plan.injectFailures = injectFailures;
  plan.bucket = scenario.bucket;
  plan.windows = scenario.windows();
  for (const scn::Expectation* e : scenario.expectationsFor(scenario.variants[variant].name)) plan.watch.push_back(e->ref);
  return plan;
}

std::vector<CheckResult> evaluate(const scn::Scenario& scenario, const std::string& variant,
                                  const sim::MetricsCollector& metrics) {
  std::vector<CheckResult> out;
  for (const scn::Expectation* e : scenario.expectationsFor(variant)) {
    CheckResult c;
    c.expectation = e;
    c.index = out.size();
    c.value = metrics.query(e->ref);
    c.passed = c.value.has_value() && e->holds(*c.value);
    out.push_back(c);
  }
  return out;
}

/// When a breached check broke, from the timeline: the buckets (inside the check's window) whose
/// own value of the check's metric breaches the threshold. Only for latencies, shares and rates:
/// a count over one bucket says nothing about a threshold for a whole window, and the ground truth
/// has no per-bucket figures. Empty when the timeline cannot say.
std::string whenBreached(const CheckResult& c, const std::vector<BucketFigures>& buckets) {
  const scn::Expectation& e = *c.expectation;
  const sim::MetricRef& ref = e.ref;
  if (sim::metricInfo(ref.metric).unit == sim::MetricUnit::kCount) return {};
  auto value = [&c](const BucketFigures& b) -> std::optional<double> {
    return c.index < b.watched.size() ? b.watched[c.index] : std::nullopt;
  };
  const sim::MetricUnit unit = sim::metricInfo(ref.metric).unit;
  std::size_t breaching = 0, inWindow = 0;
  const BucketFigures* first = nullptr;
  const BucketFigures* worst = nullptr;
  double worstValue = 0.0;
  for (const auto& b : buckets) {
    if (ref.window && (b.end <= ref.window->from || b.start >= ref.window->to)) continue;
    const auto v = value(b);
    if (!v) continue;
    ++inWindow;
    if (e.holds(*v)) continue;
    ++breaching;
    if (first == nullptr) first = &b;
    // The worst bucket: farthest from the threshold in the breaching direction.
    const double distance = std::abs(*v - e.threshold);
    if (worst == nullptr || distance > worstValue) {
      worst = &b;
      worstValue = distance;
    }
  }
  if (first == nullptr) return {};
  std::string out = "first breached in [" + formatDuration(first->start) + ", " + formatDuration(first->end) + ")";
  out += "; worst [" + formatDuration(worst->start) + ", " + formatDuration(worst->end) + ") " +
         sim::formatMetricValue(unit, *value(*worst));
  out += "; " + std::to_string(breaching) + " of " + std::to_string(inWindow) + " timeline buckets breach";
  return out;
}

// ---- JSON ---------------------------------------------------------------------------------------

json checksToJson(const scn::Scenario& scenario, const std::vector<CheckResult>& checks,
                  const std::vector<BucketFigures>& buckets) {
  json arr = json::array();
  for (const auto& c : checks) {
    const auto& info = sim::metricInfo(c.expectation->ref.metric);
    json j;
    j["check"] = c.expectation->describe();
    j["text"] = c.expectation->text;
    j["file"] = scenario.sourcePath;
    j["line"] = c.expectation->line;
    j["metric"] = sim::toString(c.expectation->ref);
    j["unit"] = sim::toString(info.unit);
    j["threshold"] = c.expectation->threshold;
    j["value"] = c.value ? json(*c.value) : json(nullptr);
    j["passed"] = c.passed;
    const std::string when = c.passed ? std::string{} : whenBreached(c, buckets);
    j["when"] = when.empty() ? json(nullptr) : json(when);
    arr.push_back(std::move(j));
  }
  return arr;
}

json runToJson(const scn::Scenario& scenario, const VariantRun& run, bool injectFailures) {
  const auto& r = run.result;
  json j;
  j["scenario"] = scenario.name;
  j["scenario_file"] = scenario.sourcePath;
  j["variant"] = run.variant->name;
  j["seed"] = r.seed.seed;
  j["failures_injected"] = injectFailures;
  json trace;
  trace["file"] = scenario.trace.written;
  trace["lines"] = r.reader.linesRead;
  trace["records"] = r.reader.records;
  trace["malformed"] = r.reader.malformed;
  trace["skipped"] = r.reader.skipped;
  json malformed = json::array();
  for (const auto& m : r.reader.firstMalformed) malformed.push_back(json{{"line", m.line}, {"reason", m.reason}});
  trace["first_malformed"] = std::move(malformed);
  trace["replayed"] = r.replay.records;
  trace["late"] = r.replay.late;
  trace["late_dropped"] = r.replay.lateDropped;
  trace["before_window"] = r.replay.beforeWindow;
  trace["missing_client"] = r.replay.missingClient;
  trace["origin"] = r.traceOrigin ? json(sim::trace::formatTraceTime(*r.traceOrigin)) : json(nullptr);
  j["trace"] = std::move(trace);
  j["submitted"] = r.submitted;
  j["simulated_ms"] = sim::toMillis(r.simulated);
  j["engine_events"] = r.events;
  json failures = json::array();
  for (const auto& w : r.failureWindows) {
    failures.push_back(json{{"service", w.service},
                            {"target", w.target},
                            {"start_ms", sim::toMillis(w.start - core::TimePoint{})},
                            {"end_ms", sim::toMillis(w.end - core::TimePoint{})},
                            {"what", w.description}});
  }
  j["failure_windows"] = std::move(failures);
  json backends = json::array();
  for (const auto& b : r.backends) {
    backends.push_back(json{{"service", b.service},
                            {"target", b.target},
                            {"calls", b.stats.calls},
                            {"responses", b.stats.responses},
                            {"error_responses", b.stats.errorResponses},
                            {"refused_queue_full", b.stats.refusedQueueFull},
                            {"refused_down", b.stats.refusedDown},
                            {"swallowed", b.stats.swallowed},
                            {"resets", b.stats.resets},
                            {"abandoned", b.stats.abandoned},
                            {"max_wait_ms", sim::toMillis(b.stats.maxWait)},
                            {"utilization", b.utilization},
                            {"mean_queue", b.meanQueue}});
  }
  j["backends"] = std::move(backends);
  j["metrics"] = sim::metricsToJson(r.metrics().results());
  j["checks"] = checksToJson(scenario, run.checks, run.buckets);
  j["passed"] = run.breaches() == 0;
  return j;
}

/// The compare row set, one value per variant (the same figures the table prints).
struct Figures {
  std::uint64_t requests = 0;
  std::optional<double> allowed, delayed, rejected;  ///< shares of policy decisions
  std::optional<double> falseAllow, falseBlock;
  std::uint64_t falseAllows = 0, falseBlocks = 0, wronglyBlockedClients = 0;
  std::optional<double> worstOvershoot;
  std::optional<double> heavyRejected, lightRejected;
  std::uint64_t heavyClients = 0, lightClients = 0;
  std::optional<double> p50, p99, p999, errorRate;
  std::uint64_t retries = 0, breakerOpens = 0, ejections = 0, timeouts = 0;
  std::uint64_t cacheHits = 0, cacheStale = 0;  ///< answers from the response cache
  std::uint64_t backendTries = 0;               ///< upstream tries: the load the backends saw
};

Figures figuresOf(const sim::RunResult& r) {
  const auto& m = r.metrics();
  Figures f;
  auto q = [&m](sim::Metric metric) { return m.query(sim::MetricRef{metric, {}, {}, {}, {}}); };
  f.requests = static_cast<std::uint64_t>(q(sim::Metric::kRequests).value_or(0));
  f.allowed = q(sim::Metric::kAllowedShare);
  f.delayed = q(sim::Metric::kDelayedShare);
  f.rejected = q(sim::Metric::kRejectedShare);
  f.falseAllow = q(sim::Metric::kFalseAllowShare);
  f.falseBlock = q(sim::Metric::kFalseBlockShare);
  f.falseAllows = static_cast<std::uint64_t>(q(sim::Metric::kFalseAllows).value_or(0));
  f.falseBlocks = static_cast<std::uint64_t>(q(sim::Metric::kFalseBlocks).value_or(0));
  f.wronglyBlockedClients = static_cast<std::uint64_t>(q(sim::Metric::kWronglyBlockedClients).value_or(0));
  f.worstOvershoot = q(sim::Metric::kWorstOvershoot);
  const sim::LoadSplit split = m.loadSplit();
  f.heavyRejected = split.heavyRejectedShare();
  f.lightRejected = split.lightRejectedShare();
  f.heavyClients = split.heavyClients;
  f.lightClients = split.lightClients;
  f.p50 = q(sim::Metric::kP50Latency);
  f.p99 = q(sim::Metric::kP99Latency);
  f.p999 = q(sim::Metric::kP999Latency);
  f.errorRate = q(sim::Metric::kErrorRate);
  f.retries = static_cast<std::uint64_t>(q(sim::Metric::kRetries).value_or(0));
  f.breakerOpens = static_cast<std::uint64_t>(q(sim::Metric::kBreakerOpens).value_or(0));
  f.ejections = static_cast<std::uint64_t>(q(sim::Metric::kEjections).value_or(0));
  f.timeouts = static_cast<std::uint64_t>(q(sim::Metric::kTimeouts).value_or(0));
  const sim::RequestCounts& overall = m.overallCounts();
  f.cacheHits = overall.outcomes[static_cast<std::size_t>(flow::Outcome::kCacheHit)];
  f.cacheStale = overall.outcomes[static_cast<std::size_t>(flow::Outcome::kCacheStale)];
  f.backendTries = overall.tries;
  return f;
}

/// One figure as the machine-readable outputs (compare --json, summary.csv) carry it.
struct FigureColumn {
  enum class Kind {
    kCount,    ///< an integer
    kValue,    ///< a number in its catalogue unit (share, ratio), null when there is no data
    kSeconds,  ///< a latency: milliseconds in both outputs, null when there is no data
  };
  const char* key;  ///< the JSON key and the CSV column
  Kind kind;
  bool inCsv;       ///< the CSV leaves out the raw counts behind the shares
  std::uint64_t Figures::*count = nullptr;
  std::optional<double> Figures::*value = nullptr;
};

/// Every compared figure, in CSV column order. The JSON object has the same keys.
constexpr FigureColumn kFigureColumns[] = {
    {"requests", FigureColumn::Kind::kCount, true, &Figures::requests},
    {"allowed_share", FigureColumn::Kind::kValue, true, nullptr, &Figures::allowed},
    {"delayed_share", FigureColumn::Kind::kValue, true, nullptr, &Figures::delayed},
    {"rejected_share", FigureColumn::Kind::kValue, true, nullptr, &Figures::rejected},
    {"false_allows", FigureColumn::Kind::kCount, false, &Figures::falseAllows},
    {"false_blocks", FigureColumn::Kind::kCount, false, &Figures::falseBlocks},
    {"false_allow_share", FigureColumn::Kind::kValue, true, nullptr, &Figures::falseAllow},
    {"false_block_share", FigureColumn::Kind::kValue, true, nullptr, &Figures::falseBlock},
    {"wrongly_blocked_clients", FigureColumn::Kind::kCount, true, &Figures::wronglyBlockedClients},
    {"worst_overshoot", FigureColumn::Kind::kValue, true, nullptr, &Figures::worstOvershoot},
    {"heavy_clients", FigureColumn::Kind::kCount, false, &Figures::heavyClients},
    {"light_clients", FigureColumn::Kind::kCount, false, &Figures::lightClients},
    {"heavy_rejected_share", FigureColumn::Kind::kValue, true, nullptr, &Figures::heavyRejected},
    {"light_rejected_share", FigureColumn::Kind::kValue, true, nullptr, &Figures::lightRejected},
    {"p50_latency_ms", FigureColumn::Kind::kSeconds, true, nullptr, &Figures::p50},
    {"p99_latency_ms", FigureColumn::Kind::kSeconds, true, nullptr, &Figures::p99},
    {"p999_latency_ms", FigureColumn::Kind::kSeconds, true, nullptr, &Figures::p999},
    {"error_rate", FigureColumn::Kind::kValue, true, nullptr, &Figures::errorRate},
    {"timeouts", FigureColumn::Kind::kCount, true, &Figures::timeouts},
    {"retries", FigureColumn::Kind::kCount, true, &Figures::retries},
    {"breaker_opens", FigureColumn::Kind::kCount, true, &Figures::breakerOpens},
    {"ejections", FigureColumn::Kind::kCount, true, &Figures::ejections},
    {"cache_hits", FigureColumn::Kind::kCount, false, &Figures::cacheHits},
    {"cache_stale", FigureColumn::Kind::kCount, false, &Figures::cacheStale},
    {"backend_tries", FigureColumn::Kind::kCount, false, &Figures::backendTries},
};

json figuresToJson(const Figures& f) {
  json j = json::object();
  for (const FigureColumn& c : kFigureColumns) {
    if (c.kind == FigureColumn::Kind::kCount) {
      j[c.key] = f.*c.count;
      continue;
    }
    const std::optional<double> v = f.*c.value;
    if (!v) {
      j[c.key] = nullptr;
    } else if (c.kind == FigureColumn::Kind::kSeconds) {
      j[c.key] = std::round(*v * 1e6) / 1e3;  // milliseconds, to the microsecond
    } else {
      j[c.key] = *v;
    }
  }
  return j;
}

// ---- Text output --------------------------------------------------------------------------------

/// A plain-text table: first column left-aligned, the others right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& os, const std::string& indent = "  ") const {
    std::vector<std::size_t> width;
    for (const auto& row : rows_) {
      if (width.size() < row.size()) width.resize(row.size(), 0);
      for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    for (const auto& row : rows_) {
      std::string line = indent;
      for (std::size_t i = 0; i < row.size(); ++i) {
        const std::string& cell = row[i];
        const std::string pad(width[i] - cell.size(), ' ');
        if (i == 0) {
          line += cell + pad;
        } else {
          line += "  " + pad + cell;
        }
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      os << line << '\n';
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string optionalLatency(std::optional<double> seconds) {
  return seconds ? sim::formatMetricValue(sim::MetricUnit::kSeconds, *seconds) : std::string{"-"};
}

void printTraceLine(std::ostream& os, const scn::Scenario& scenario, const sim::RunResult& r) {
  os << "trace    " << scenario.trace.written << ": " << r.reader.records << " records";
  if (r.reader.malformed != 0) os << ", " << r.reader.malformed << " malformed lines skipped";
  if (r.replay.lateDropped != 0) os << ", " << r.replay.lateDropped << " late records dropped";
  os << ", " << formatDuration(r.simulated) << " simulated";
  if (r.traceOrigin) os << " from " << sim::trace::formatTraceTime(*r.traceOrigin);
  os << '\n';
  if (!r.reader.firstMalformed.empty()) {
    const auto& m = r.reader.firstMalformed.front();
    os << "         first malformed line " << m.line << ": " << m.reason << '\n';
  }
}

void printChecks(std::ostream& os, const scn::Scenario& scenario, const VariantRun& run) {
  for (const auto& c : run.checks) {
    const auto& info = sim::metricInfo(c.expectation->ref.metric);
    os << "  " << (c.passed ? "PASS" : "FAIL") << "  " << c.expectation->describe() << "   (measured "
       << (c.value ? sim::formatMetricValue(info.unit, *c.value) : std::string{"no data"}) << ")";
    if (!c.passed) os << "  " << scenario.sourcePath << ':' << c.expectation->line;
    os << '\n';
    if (!c.passed) {
      const std::string when = whenBreached(c, run.buckets);
      if (!when.empty()) os << "        " << when << '\n';
    }
  }
}

void printSim(std::ostream& os, const scn::Scenario& scenario, const VariantRun& run, bool injectFailures) {
  const auto& r = run.result;
  const sim::MetricsResults m = r.metrics().results();
  os << "scenario " << scenario.name << " (" << scenario.sourcePath << "), variant " << run.variant->name << ", "
     << sim::toString(r.seed) << (injectFailures ? "" : ", failures off") << '\n';
  printTraceLine(os, scenario, r);
  const auto& o = m.overall;
  os << "requests " << o.requests << " answered: " << o.statusClasses[1] << " 2xx, " << o.statusClasses[2] << " 3xx, "
     << o.statusClasses[3] << " 4xx, " << o.statusClasses[4] << " 5xx";
  if (o.statusClasses[0] + o.statusClasses[5] != 0) os << ", " << o.statusClasses[0] + o.statusClasses[5] << " other";
  os << '\n';
  os << "latency  p50 " << formatDuration(o.latency.p50) << "  p90 " << formatDuration(o.latency.p90) << "  p99 "
     << formatDuration(o.latency.p99) << "  p99.9 " << formatDuration(o.latency.p999) << "  max "
     << formatDuration(o.latency.max) << '\n';
  os << "outcomes";
  for (std::size_t i = 0; i < sim::kOutcomeCount; ++i) {
    if (o.outcomes[i] == 0) continue;
    os << "  " << sim::toString(static_cast<sim::RequestOutcome>(i)) << ' ' << o.outcomes[i];
  }
  os << '\n';
  if (o.tries != 0) {
    os << "upstream " << o.tries << " tries, " << o.retries << " retries, " << o.tryFailures << " failed tries ("
       << formatShare(o.tries != 0 ? std::optional<double>(static_cast<double>(o.tryFailures) / static_cast<double>(o.tries))
                                   : std::nullopt)
       << "); " << m.breakerOpens << " breaker opens, " << m.ejections << " ejections\n";
  }

  os << "\nroutes\n";
  Table routes({"route", "requests", "2xx", "4xx", "5xx", "p50", "p99", "max"});
  for (const auto& route : m.routes) {
    const auto& t = route.totals;
    routes.add({route.name, formatCount(t.requests), formatCount(t.statusClasses[1]), formatCount(t.statusClasses[3]),
                formatCount(t.statusClasses[4]), t.requests ? formatDuration(t.latency.p50) : "-",
                t.requests ? formatDuration(t.latency.p99) : "-", t.requests ? formatDuration(t.latency.max) : "-"});
  }
  if (m.unroutedRequests != 0) routes.add({"(no route)", formatCount(m.unroutedRequests), "", "", "", "", "", ""});
  routes.print(os);

  if (!m.services.empty()) {
    os << "\nservices\n";
    Table services({"service", "requests", "tries", "retries", "failed tries", "5xx", "p99", "breaker opens", "ejections"});
    for (const auto& s : m.services) {
      const auto& t = s.totals;
      services.add({s.name, formatCount(t.requests), formatCount(t.tries), formatCount(t.retries),
                    formatCount(t.tryFailures), formatCount(t.statusClasses[4]),
                    t.requests ? formatDuration(t.latency.p99) : "-", formatCount(s.breakerOpens),
                    formatCount(s.ejections)});
    }
    services.print(os);
  }

  if (!m.policies.empty()) {
    os << "\nrate-limit policies (ground truth: the exact sliding log at each limit's nominal rate)\n";
    Table policies({"route/policy", "decisions", "allowed", "delayed", "rejected", "false allows", "false blocks",
                    "worst overshoot"});
    for (const auto& p : m.policies) {
      const double n = static_cast<double>(p.decisions);
      auto share = [n](std::uint64_t k) {
        return n > 0 ? formatShare(static_cast<double>(k) / n) : std::string{"-"};
      };
      policies.add({p.route + "/" + p.name + (p.shadow ? " (shadow)" : ""), formatCount(p.decisions), share(p.allowed),
                    share(p.delayed), share(p.rejected), formatCount(p.truth.falseAllows),
                    formatCount(p.truth.falseBlocks),
                    p.truth.worst ? sim::formatMetricValue(sim::MetricUnit::kRatio, p.truth.worst->ratio) : "-"});
    }
    policies.print(os);
    const sim::LoadSplit split = m.load;
    os << "  rejected: heaviest 1% of clients (" << split.heavyClients << ") " << formatShare(split.heavyRejectedShare())
       << " of their requests; the other " << split.lightClients << " clients " << formatShare(split.lightRejectedShare())
       << '\n';
  }

  if (!r.failureWindows.empty()) {
    os << "\nfailures\n";
    for (const auto& w : r.failureWindows) {
      os << "  " << formatDuration(w.start - core::TimePoint{}) << " .. " << formatDuration(w.end - core::TimePoint{})
         << "  " << w.service << (w.target.empty() ? "" : " " + w.target) << ": " << w.description << '\n';
    }
  }
  if (!m.events.empty()) {
    os << "\nresilience events (" << m.events.size() + m.droppedEvents << ")\n";
    const std::size_t shown = std::min<std::size_t>(m.events.size(), 12);
    for (std::size_t i = 0; i < shown; ++i) {
      const auto& e = m.events[i];
      os << "  " << formatDuration(e.at - core::TimePoint{}) << "  " << sim::toString(e.kind) << ' ' << e.service
         << (e.target.empty() ? "" : " " + e.target) << ": " << e.from << " -> " << e.to;
      if (!e.reason.empty()) os << " (" << e.reason << ")";
      os << '\n';
    }
    if (m.events.size() > shown) os << "  ... " << m.events.size() - shown << " more in report.json\n";
  }
  if (!run.checks.empty()) {
    os << "\nchecks\n";
    printChecks(os, scenario, run);
  }
}

void printCompare(std::ostream& os, const scn::Scenario& scenario, const std::vector<VariantRun>& runs,
                  bool injectFailures) {
  os << "scenario " << scenario.name << " (" << scenario.sourcePath << "), " << sim::toString(runs.front().result.seed)
     << (injectFailures ? "" : ", failures off") << '\n';
  if (!scenario.description.empty()) os << scenario.description << '\n';
  printTraceLine(os, scenario, runs.front().result);
  os << '\n';
  std::vector<std::string> header{""};
  std::vector<Figures> figures;
  for (const auto& run : runs) {
    header.push_back(run.variant->name);
    figures.push_back(figuresOf(run.result));
  }
  Table table(header);
  auto row = [&](const std::string& name, auto&& cell) {
    std::vector<std::string> cells{name};
    for (const auto& f : figures) cells.push_back(cell(f));
    table.add(std::move(cells));
  };
  const bool anyPolicy = std::any_of(runs.begin(), runs.end(), [](const VariantRun& r) {
    return !r.result.metrics().truth().policies().empty();
  });
  row("requests", [](const Figures& f) { return formatCount(f.requests); });
  if (anyPolicy) {
    row("allowed", [](const Figures& f) { return formatShare(f.allowed); });
    row("delayed", [](const Figures& f) { return formatShare(f.delayed); });
    row("rejected", [](const Figures& f) { return formatShare(f.rejected); });
    row("false allows", [](const Figures& f) { return formatShare(f.falseAllow); });
    row("false blocks", [](const Figures& f) { return formatShare(f.falseBlock); });
    row("wrongly blocked clients", [](const Figures& f) { return formatCount(f.wronglyBlockedClients); });
    row("worst overshoot", [](const Figures& f) {
      return f.worstOvershoot ? sim::formatMetricValue(sim::MetricUnit::kRatio, *f.worstOvershoot) : std::string{"-"};
    });
    row("rejected, heaviest 1%", [](const Figures& f) { return formatShare(f.heavyRejected); });
    row("rejected, other 99%", [](const Figures& f) { return formatShare(f.lightRejected); });
  }
  row("p50 latency", [](const Figures& f) { return optionalLatency(f.p50); });
  row("p99 latency", [](const Figures& f) { return optionalLatency(f.p99); });
  row("error rate (5xx)", [](const Figures& f) { return formatShare(f.errorRate); });
  // Resilience counters only when some variant has any (a pure rate-limit comparison has none).
  auto countRow = [&](const std::string& name, std::uint64_t Figures::*field) {
    if (std::none_of(figures.begin(), figures.end(), [field](const Figures& f) { return f.*field != 0; })) return;
    row(name, [field](const Figures& f) { return formatCount(f.*field); });
  };
  countRow("timeouts (504)", &Figures::timeouts);
  countRow("retries", &Figures::retries);
  countRow("breaker opens", &Figures::breakerOpens);
  countRow("ejections", &Figures::ejections);
  // The response cache's effect: answers it gave, and the tries the backends still saw.
  if (std::any_of(figures.begin(), figures.end(), [](const Figures& f) { return f.cacheHits + f.cacheStale != 0; })) {
    row("cache hits", [](const Figures& f) {
      return formatCount(f.cacheHits) + " (" + formatShare(f.requests ? static_cast<double>(f.cacheHits) / static_cast<double>(f.requests) : 0.0) + ")";
    });
    countRow("stale answers", &Figures::cacheStale);
    row("backend tries", [](const Figures& f) { return formatCount(f.backendTries); });
  }
  const bool anyChecks = std::any_of(runs.begin(), runs.end(), [](const VariantRun& r) { return !r.checks.empty(); });
  if (anyChecks) {
    std::vector<std::string> cells{"checks passed"};
    for (const auto& run : runs)
      cells.push_back(std::to_string(run.checks.size() - run.breaches()) + "/" + std::to_string(run.checks.size()));
    table.add(std::move(cells));
  }
  table.print(os);
  if (anyPolicy) {
    os << "\nfalse allows/blocks: decisions that differ from the exact sliding log at each limit's nominal rate;\n"
          "worst overshoot: most requests one client got through in any window of the limit's period, / the limit.\n";
  }
}

// ---- Files --------------------------------------------------------------------------------------

/// A file name made of safe characters (variant names are free text).
std::string safeName(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    out += ok ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "variant";
  return out;
}

bool writeFile(const fs::path& path, const std::string& text) {
  std::ofstream os(path, std::ios::binary | std::ios::trunc);
  os << text;
  os.close();
  if (!os) {
    std::cerr << "gatelab: cannot write " << path.string() << '\n';
    return false;
  }
  return true;
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string csvNumber(std::optional<double> v) {
  if (!v) return "";
  std::ostringstream os;
  os.precision(9);
  os << *v;
  return os.str();
}

std::string summaryCsv(const std::vector<VariantRun>& runs) {
  std::string out = "variant";
  for (const FigureColumn& c : kFigureColumns) {
    if (c.inCsv) out += std::string(",") + c.key;
  }
  out += ",checks,checks_failed\n";
  for (const auto& run : runs) {
    const Figures f = figuresOf(run.result);
    out += csvField(run.variant->name);
    for (const FigureColumn& c : kFigureColumns) {
      if (!c.inCsv) continue;
      out += ',';
      if (c.kind == FigureColumn::Kind::kCount) {
        out += std::to_string(f.*c.count);
      } else {
        const std::optional<double> v = f.*c.value;
        out += csvNumber(v && c.kind == FigureColumn::Kind::kSeconds ? std::optional<double>(*v * 1e3) : v);
      }
    }
    out += "," + std::to_string(run.checks.size()) + "," + std::to_string(run.breaches()) + "\n";
  }
  return out;
}

// ---- Running ------------------------------------------------------------------------------------

/// Runs `loaded.selected` variants, up to the machine's cores at once; results in selected order.
std::vector<VariantRun> runAll(const Loaded& loaded, const ScenarioRunOptions& options, std::uint64_t seed,
                               const fs::path& outDir) {
  const auto& scenario = loaded.scenario;
  const std::size_t n = loaded.selected.size();
  std::vector<VariantRun> runs(n);
  std::vector<sim::RunPlan> plans;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t v = loaded.selected[i];
    runs[i].variant = &scenario.variants[v];
    plans.push_back(planFor(scenario, v, loaded.configs[v], seed, !options.noFailures));
  }

  std::uintmax_t traceBytes = 0;
  {
    std::error_code ec;
    traceBytes = fs::file_size(scenario.trace.file, ec);
    if (ec) traceBytes = 0;
  }
  ProgressLine progress(!options.quiet && !options.json);
  progress.start(n == 1 ? runs[0].variant->name : std::to_string(n) + " variants");
  std::mutex progressMutex;
  std::vector<std::uint64_t> records(n, 0), bytes(n, 0);
  std::vector<double> simulated(n, 0.0);
  bool compressed = false;

  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < n; i = next++) {
      std::ofstream timeline;
      if (!outDir.empty()) {
        const fs::path dir = outDir / safeName(runs[i].variant->name);
        std::error_code ec;
        fs::create_directories(dir, ec);
        timeline.open(dir / "timeline.ndjson", std::ios::binary | std::ios::trunc);
        if (!timeline) runs[i].timelineError = "cannot write " + (dir / "timeline.ndjson").string();
      }
      sim::RunHooks hooks;
      hooks.timeline = [&timeline, &run = runs[i]](const sim::TimelineBucket& b) {
        if (timeline.is_open()) timeline << sim::timelineBucketLine(b, core::TimePoint{});
        run.buckets.push_back(BucketFigures{b.start - core::TimePoint{}, b.end - core::TimePoint{}, b.watched});
      };
      hooks.progress = [&, i](const sim::RunProgress& p) {
        const std::lock_guard lock(progressMutex);
        records[i] = p.records;
        bytes[i] = p.bytesRead;
        simulated[i] = std::chrono::duration<double>(p.simulated).count();
        compressed = compressed || p.compressed;
        std::uint64_t totalRecords = 0, totalBytes = 0;
        double minSimulated = simulated[0];
        for (std::size_t k = 0; k < n; ++k) {
          totalRecords += records[k];
          totalBytes += bytes[k];
          minSimulated = std::min(minSimulated, simulated[k]);
        }
        const double fraction = (compressed || traceBytes == 0)
                                    ? -1.0
                                    : static_cast<double>(totalBytes) / (static_cast<double>(traceBytes) * static_cast<double>(n));
        progress.update(totalRecords, minSimulated, std::min(1.0, fraction));
      };
      runs[i].result = sim::runSimulation(plans[i], hooks);
      if (timeline.is_open()) {
        timeline.close();
        if (!timeline && runs[i].timelineError.empty()) runs[i].timelineError = "writing timeline.ndjson failed";
      }
      if (runs[i].result.ok) runs[i].checks = evaluate(scenario, runs[i].variant->name, runs[i].result.metrics());
    }
  };
  const std::size_t threads = std::max<std::size_t>(1, std::min<std::size_t>(n, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  progress.finish();
  return runs;
}

int runScenario(const ScenarioRunOptions& options, Mode mode) {
  std::uint64_t seed = 0;
  std::optional<std::uint64_t> seedOverride;
  if (!options.seed.empty()) {
    seedOverride = parseSeed(options.seed);
    if (!seedOverride) {
      std::cerr << "gatelab: --seed: '" << options.seed << "' is not a seed; allowed: an integer 0.."
                << UINT64_MAX << '\n';
      return 2;
    }
  }
  auto loaded = load(options, mode);
  if (!loaded) return 1;
  const auto& scenario = loaded->scenario;
  seed = seedOverride.value_or(scenario.seed);

  fs::path outDir;
  if (!options.out.empty()) {
    outDir = options.out;
    std::error_code ec;
    fs::create_directories(outDir, ec);
    if (ec || !fs::is_directory(outDir)) {
      std::cerr << "gatelab: --out " << options.out << ": cannot create the directory"
                << (ec ? ": " + ec.message() : std::string{}) << '\n';
      return 1;
    }
  }

  std::vector<VariantRun> runs = runAll(*loaded, options, seed, outDir);
  int status = 0;
  for (const auto& run : runs) {
    if (!run.result.ok) {
      std::cerr << "gatelab: " << scenario.sourcePath << ": variant " << run.variant->name << ": "
                << run.result.error << '\n';
      status = 1;
    } else if (!run.timelineError.empty()) {
      std::cerr << "gatelab: " << run.timelineError << '\n';
      status = 1;
    }
  }
  if (status != 0) return status;

  const bool inject = !options.noFailures;
  if (!outDir.empty()) {
    for (const auto& run : runs) {
      const fs::path dir = outDir / safeName(run.variant->name);
      if (!writeFile(dir / "report.json", runToJson(scenario, run, inject).dump(2) + "\n")) status = 1;
    }
    if (!writeFile(outDir / "summary.csv", summaryCsv(runs))) status = 1;
    if (status != 0) return status;
  }

  std::size_t breaches = 0, checks = 0;
  for (const auto& run : runs) {
    breaches += run.breaches();
    checks += run.checks.size();
  }

  if (options.json) {
    json out;
    out["scenario"] = scenario.name;
    out["scenario_file"] = scenario.sourcePath;
    out["seed"] = seed;
    out["failures_injected"] = inject;
    json variants = json::array();
    for (const auto& run : runs) {
      json v;
      v["variant"] = run.variant->name;
      v["figures"] = figuresToJson(figuresOf(run.result));
      v["checks"] = checksToJson(scenario, run.checks, run.buckets);
      v["passed"] = run.breaches() == 0;
      variants.push_back(std::move(v));
    }
    out["variants"] = std::move(variants);
    out["checks"] = checks;
    out["breaches"] = breaches;
    std::cout << out.dump(2) << '\n';
  } else if (mode == Mode::kSim) {
    printSim(std::cout, scenario, runs.front(), inject);
  } else {
    printCompare(std::cout, scenario, runs, inject);
    if (mode == Mode::kRehearse) {
      for (const auto& run : runs) {
        if (run.checks.empty()) continue;
        std::cout << "\nchecks, " << run.variant->name << '\n';
        printChecks(std::cout, scenario, run);
      }
    }
  }
  if (!options.json && !outDir.empty()) {
    std::cout << "\nwrote " << outDir.string() << "/summary.csv and report.json + timeline.ndjson per variant\n";
  }

  if (mode == Mode::kRehearse) {
    if (checks == 0) {
      std::cerr << "gatelab rehearse: " << scenario.sourcePath << " has no `expect:` checks; nothing to gate on\n";
      return 1;
    }
    if (!options.json) {
      std::cout << "\nrehearse: " << checks << " checks over " << runs.size() << " variant(s), " << breaches
                << (breaches == 1 ? " breach" : " breaches") << (breaches == 0 ? ": PASS" : ": FAIL") << '\n';
    }
    if (breaches != 0) {
      std::cout.flush();  // the verdict line first, then the breaches on stderr
      for (const auto& run : runs)
        for (const auto& c : run.checks)
          if (!c.passed)
            std::cerr << scenario.sourcePath << ':' << c.expectation->line << ": variant " << run.variant->name
                      << ": breached " << c.expectation->describe() << " (measured "
                      << (c.value ? sim::formatMetricValue(sim::metricInfo(c.expectation->ref.metric).unit, *c.value)
                                  : std::string{"no data"})
                      << ")" << [&] {
                           const std::string when = whenBreached(c, run.buckets);
                           return when.empty() ? std::string{} : ": " + when;
                         }()
                      << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

int runSim(const ScenarioRunOptions& options) { return runScenario(options, Mode::kSim); }
int runCompare(const ScenarioRunOptions& options) { return runScenario(options, Mode::kCompare); }
int runRehearse(const ScenarioRunOptions& options) { return runScenario(options, Mode::kRehearse); }

int runDemo(const ScenarioRunOptions& options) {
  ScenarioRunOptions demo = options;
  if (demo.scenario.empty()) {
    const fs::path bundled = fs::path(GATELAB_SOURCE_DIR) / "scenarios" / "compare-limiters.yaml";
    std::error_code ec;
    if (!fs::exists(bundled, ec)) {
      std::cerr << "gatelab demo: the bundled scenario " << bundled.string()
                << " is missing (is the source tree still there?); pass one: gatelab demo SCENARIO\n";
      return 1;
    }
    // Shown relative to the working directory when it is inside the source tree (the usual case).
    const fs::path relative = fs::relative(bundled, ec);
    const bool inside = !ec && !relative.empty() && *relative.begin() != "..";
    demo.scenario = inside ? relative.string() : bundled.string();
  }
  return runCompare(demo);
}

ScenarioCommands addScenarioCommands(CLI::App& app, ScenarioRunOptions& options) {
  ScenarioCommands cmds;
  auto common = [&options](CLI::App* cmd, bool scenarioRequired) {
    auto* file = cmd->add_option("SCENARIO", options.scenario, "scenario file (YAML, docs/scenarios.md)");
    if (scenarioRequired) file->required();
    cmd->add_option("-o,--out", options.out,
                    "write summary.csv and, per variant, report.json and timeline.ndjson into this directory");
    cmd->add_option("--seed", options.seed, "random seed (overrides the scenario's `seed:`)");
    cmd->add_option("--variant", options.variants, "run only this variant (repeatable)")->allow_extra_args(false);
    cmd->add_flag("--no-failures", options.noFailures, "run without the scenario's injected failures");
    cmd->add_flag("--json", options.json, "print the results as JSON");
    cmd->add_flag("-q,--quiet", options.quiet, "no progress line");
  };
  cmds.sim = app.add_subcommand("sim", "Replay a scenario's trace through one variant of its gateway config and\n"
                                       "report what happened (requests, latency, rate limits, breakers, checks)");
  common(cmds.sim, true);
  cmds.compare = app.add_subcommand("compare", "Run every variant of a scenario on the same trace and compare them\n"
                                               "side by side (rate-limit accuracy, fairness, latency, errors)");
  common(cmds.compare, true);
  cmds.rehearse = app.add_subcommand(
      "rehearse", "Run a scenario with its failures and check its `expect:` SLOs;\n"
                  "exit 0 when every check holds, 1 on any breach (for CI gates)");
  common(cmds.rehearse, true);
  cmds.demo = app.add_subcommand("demo", "Compare rate-limiting algorithms on the bundled demo trace\n"
                                         "(scenarios/compare-limiters.yaml)");
  common(cmds.demo, false);
  return cmds;
}

}  // namespace gatelab::cli
