// The scenario file's YAML schema: nodes -> a Scenario, every problem a Diagnostic at the node it
// concerns. Reuses gateway/config's schema-checked reader, so scenario errors read exactly like
// config errors.
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <system_error>

#include "gateway/config/detail/yaml_reader.hpp"
#include "gateway/config/units.hpp"
#include "sim/scenario/config_path.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/trace/line_parser.hpp"
#include "sim/trace/trace_time.hpp"

namespace gatelab::sim::scenario {
namespace {

using config::detail::EnumName;
using config::detail::Mapping;
using config::detail::Mark;
using config::detail::Node;
using config::detail::Sink;
using config::detail::inQuotes;

constexpr std::size_t kMaxDiagnostics = 200;

constexpr std::array<std::string_view, 11> kTopKeys{"version", "name",     "description", "seed",     "gateway", "trace",
                                                    "backends", "failures", "variants",    "timeline", "expect"};
constexpr std::array<std::string_view, 23> kTraceKeys{
    "file",           "format", "map",    "time_field", "time_format", "time_zone",       "time_base",      "header",
    "optional_tail",  "extras", "client", "speedup",    "spread",      "reorder_window",  "reorder_records", "late",
    "max_line_length", "start", "end",    "skip",       "duration",    "host",            "headers"};
constexpr std::array<std::string_view, 9> kBackendKeys{"servers",     "queue",           "service_time",
                                                       "errors",      "error_status",    "ok_status",
                                                       "refusal_latency", "on_abandon",  "targets"};
constexpr std::array<std::string_view, 8> kTargetBackendKeys{"servers",      "queue",     "service_time",
                                                             "errors",       "error_status", "ok_status",
                                                             "refusal_latency", "on_abandon"};
constexpr std::array<std::string_view, 8> kServiceTimeKeys{"distribution", "value", "mean",    "median",
                                                           "p99",          "points", "samples", "interpolate"};
constexpr std::array<std::string_view, 2> kPointKeys{"value", "weight"};
constexpr std::array<std::string_view, 15> kFailureKeys{
    "service", "target", "at",     "for",      "effect",   "reset_in_flight",    "rate",    "status",
    "multiplier", "add", "period", "down",     "capacity", "latency_multiplier", "recovery"};
constexpr std::array<std::string_view, 3> kRecoveryKeys{"ramp", "capacity", "latency_multiplier"};
constexpr std::array<std::string_view, 4> kVariantKeys{"name", "description", "set", "unset"};
constexpr std::array<std::string_view, 1> kTimelineKeys{"bucket"};
constexpr std::array<std::string_view, 3> kExpectKeys{"check", "during", "variant"};

constexpr std::array<EnumName<ServiceTimeKind>, 4> kDistributions{{
    {"constant", ServiceTimeKind::kConstant},
    {"exponential", ServiceTimeKind::kExponential},
    {"lognormal", ServiceTimeKind::kLogNormal},
    {"empirical", ServiceTimeKind::kEmpirical},
}};
constexpr std::array<EnumName<AbandonPolicy>, 3> kAbandonPolicies{{
    {"keep_working", AbandonPolicy::kKeepWorking},
    {"drop_queued", AbandonPolicy::kDropQueued},
    {"stop_work", AbandonPolicy::kStopWork},
}};
constexpr std::array<EnumName<FailureKind>, 6> kEffects{{
    {"down", FailureKind::kDown},
    {"error_burst", FailureKind::kErrorBurst},
    {"latency", FailureKind::kLatency},
    {"black_hole", FailureKind::kBlackHole},
    {"flapping", FailureKind::kFlapping},
    {"slow_recovery", FailureKind::kSlowRecovery},
}};
constexpr std::array<EnumName<trace::SpreadMode>, 3> kSpreadModes{{
    {"none", trace::SpreadMode::kNone},
    {"even", trace::SpreadMode::kEven},
    {"jitter", trace::SpreadMode::kJitter},
}};
constexpr std::array<EnumName<trace::LatePolicy>, 2> kLatePolicies{{
    {"clamp", trace::LatePolicy::kClamp},
    {"drop", trace::LatePolicy::kDrop},
}};

constexpr std::string_view kNumberAllowed = "a decimal number";
constexpr std::string_view kNameAllowed = "letters, digits, '_', '-' and '.'";
constexpr std::string_view kGatewayAllowed =
    "a config file path (relative to the scenario's directory, ${VAR} expanded) or the config itself as a mapping";

bool validName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}

// Which effect-specific keys of a failure apply to each effect.
bool effectKeyApplies(std::string_view key, FailureKind kind) {
  switch (kind) {
    case FailureKind::kDown: return key == "reset_in_flight" || key == "recovery";
    case FailureKind::kErrorBurst: return key == "rate" || key == "status" || key == "recovery";
    case FailureKind::kLatency: return key == "multiplier" || key == "add" || key == "recovery";
    case FailureKind::kBlackHole: return key == "recovery";
    case FailureKind::kFlapping: return key == "period" || key == "down" || key == "reset_in_flight" || key == "recovery";
    case FailureKind::kSlowRecovery: return key == "capacity" || key == "latency_multiplier";
  }
  return false;
}

std::string effectKeys(FailureKind kind) {
  switch (kind) {
    case FailureKind::kDown: return "reset_in_flight, recovery";
    case FailureKind::kErrorBurst: return "rate, status, recovery";
    case FailureKind::kLatency: return "multiplier, add, recovery";
    case FailureKind::kBlackHole: return "recovery";
    case FailureKind::kFlapping: return "period, down, reset_in_flight, recovery";
    case FailureKind::kSlowRecovery: return "capacity, latency_multiplier";
  }
  return "";
}

bool serviceTimeKeyApplies(std::string_view key, ServiceTimeKind kind) {
  if (key == "distribution") return true;
  switch (kind) {
    case ServiceTimeKind::kConstant: return key == "value";
    case ServiceTimeKind::kExponential: return key == "mean";
    case ServiceTimeKind::kLogNormal: return key == "median" || key == "p99";
    case ServiceTimeKind::kEmpirical: return key == "points" || key == "samples" || key == "interpolate";
  }
  return false;
}

std::string serviceTimeKeys(ServiceTimeKind kind) {
  switch (kind) {
    case ServiceTimeKind::kConstant: return "distribution, value";
    case ServiceTimeKind::kExponential: return "distribution, mean";
    case ServiceTimeKind::kLogNormal: return "distribution, median, p99";
    case ServiceTimeKind::kEmpirical: return "distribution, points or samples, interpolate";
  }
  return "";
}

std::string stemOf(std::string_view displayName) {
  try {
    std::string stem = std::filesystem::path(std::string(displayName)).stem().string();
    return stem.empty() ? std::string("scenario") : stem;
  } catch (const std::exception&) {
    return "scenario";
  }
}

// One entry of a mapping whose keys are data (service names, paths, header names).
struct FreeEntry {
  std::string key;
  Mark keyMark;
  Node value;
};

class ScenarioReader {
 public:
  ScenarioReader(Sink& sink, std::string baseDir, const EnvLookup& env) : sink_(sink), baseDir_(std::move(baseDir)), env_(env) {}

  void read(const YAML::Node& root, Scenario& out) {
    const Node rootNode{root, "", config::detail::markOf(root, Mark{1, 1})};
    if (root.IsNull() || !root.IsDefined()) {
      sink_.error(Mark{1, 1}, "", "the scenario is empty",
                  "a mapping with keys " + config::joinNames(std::span<const std::string_view>(kTopKeys)));
      return;
    }
    auto top = Mapping::open(sink_, rootNode, kTopKeys, "the scenario");
    if (!top) return;
    readVersion(*top, out);
    if (auto n = top->get("name")) {
      if (auto s = config::detail::readString(sink_, *n, kNameAllowed)) {
        if (validName(*s)) {
          out.name = *s;
        } else {
          sink_.error(n->mark, n->path, "invalid scenario name " + inQuotes(*s), std::string(kNameAllowed));
        }
      }
    }
    if (auto n = top->get("description")) {
      if (auto s = config::detail::readString(sink_, *n, "text", true)) out.description = *s;
    }
    if (auto n = top->get("seed")) {
      if (auto v = config::detail::readInt(sink_, *n, 0, std::numeric_limits<std::int64_t>::max())) {
        out.seed = static_cast<std::uint64_t>(*v);
      }
    }
    if (auto n = top->require(sink_, "gateway", kGatewayAllowed)) readGateway(*n, out.gateway);
    if (auto n = top->require(sink_, "trace", "a mapping with at least file")) readTrace(*n, out.trace);
    if (auto n = top->get("backends")) readBackends(*n, out.backends);
    if (auto n = top->get("failures")) readFailures(*n, out.failures);
    if (auto n = top->get("variants")) readVariants(*n, out.variants);
    if (out.variants.empty() && !top->has("variants")) out.variants.push_back(Variant{"baseline", "", {}, {}, std::nullopt});
    if (auto n = top->get("timeline")) {
      if (auto m = Mapping::open(sink_, *n, kTimelineKeys, "the timeline settings")) {
        if (auto b = m->get("bucket")) {
          if (auto d = config::detail::readPositiveDuration(sink_, *b)) out.bucket = *d;
        }
      }
    }
    if (auto n = top->get("expect")) readExpectations(*n, out);
  }

 private:
  SourceRef ref(Mark m, std::string path) const { return SourceRef{sink_.file(), m.line, m.column, std::move(path)}; }

  void error(const Node& n, std::string message, std::string_view allowed) {
    sink_.error(n.mark, n.path, std::move(message), std::string(allowed));
  }

  // ---- scalars --------------------------------------------------------------------------------

  std::optional<double> number(const Node& n, double min, double max, std::string_view allowed) {
    if (!n.yaml.IsScalar()) {
      error(n, "expected a number, got " + config::detail::describe(n.yaml), allowed);
      return std::nullopt;
    }
    const std::string& s = n.yaml.Scalar();
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) {
      error(n, "expected a number, got " + config::detail::describe(n.yaml), allowed);
      return std::nullopt;
    }
    if (v < min || v > max) {
      error(n, s.substr(0, 40) + " is out of range", allowed);
      return std::nullopt;
    }
    return v;
  }

  // A percentage "50%" as a fraction 0.5.
  std::optional<double> share(const Node& n) {
    if (!n.yaml.IsScalar()) {
      error(n, "expected a percentage, got " + config::detail::describe(n.yaml), config::kPercentAllowed);
      return std::nullopt;
    }
    auto p = config::parsePercent(n.yaml.Scalar());
    if (!p) {
      error(n, p.error().message, p.error().allowed);
      return std::nullopt;
    }
    return p.value() / 100.0;
  }

  std::optional<std::uint16_t> status(const Node& n) {
    auto v = config::detail::readInt(sink_, n, 100, 599);
    if (!v) return std::nullopt;
    return static_cast<std::uint16_t>(*v);
  }

  std::optional<std::vector<FreeEntry>> freeMapping(const Node& n, std::string_view what, std::string_view allowed) {
    if (!n.yaml.IsMap()) {
      error(n, "expected " + std::string(what) + " as a mapping, got " + config::detail::describe(n.yaml), allowed);
      return std::nullopt;
    }
    std::vector<FreeEntry> out;
    for (auto it = n.yaml.begin(); it != n.yaml.end(); ++it) {
      const YAML::Node keyNode = it->first;
      const YAML::Node valueNode = it->second;
      const Mark keyMark = config::detail::markOf(keyNode, n.mark);
      if (!keyNode.IsScalar() || keyNode.Scalar().empty()) {
        sink_.error(keyNode.IsNull() ? n.mark : keyMark, n.path, "a mapping key must be a non-empty string, got " +
                                                                      config::detail::describe(keyNode),
                    std::string(allowed));
        continue;
      }
      const std::string& key = keyNode.Scalar();
      const std::string path = config::detail::childPath(n.path, key);
      if (key == "<<") {
        sink_.error(keyMark, path, "YAML merge keys (<<) are not supported; write the keys out", std::string(allowed));
        continue;
      }
      const auto dup = std::find_if(out.begin(), out.end(), [&key](const FreeEntry& e) { return e.key == key; });
      if (dup != out.end()) {
        sink_.error(keyMark, path, "duplicate key " + inQuotes(key) + "; first defined at " + config::detail::at(dup->keyMark),
                    "each key at most once");
        continue;
      }
      const Mark valueMark = valueNode.IsNull() ? keyMark : config::detail::markOf(valueNode, keyMark);
      out.push_back(FreeEntry{key, keyMark, Node{valueNode, path, valueMark}});
    }
    return out;
  }

  // ---- paths ----------------------------------------------------------------------------------

  std::optional<std::string> expandEnv(const Node& n, std::string_view text) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
      if (text[i] != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
        out += text[i++];
        continue;
      }
      const std::size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        error(n, "unterminated ${ in " + inQuotes(text), "${NAME} or ${NAME:-default}");
        return std::nullopt;
      }
      std::string_view body = text.substr(i + 2, close - i - 2);
      std::optional<std::string_view> fallback;
      if (const std::size_t dash = body.find(":-"); dash != std::string_view::npos) {
        fallback = body.substr(dash + 2);
        body = body.substr(0, dash);
      }
      const bool nameOk = !body.empty() && std::all_of(body.begin(), body.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      });
      if (!nameOk) {
        error(n, "invalid variable name " + inQuotes(body) + " in " + inQuotes(text), "${NAME} or ${NAME:-default}");
        return std::nullopt;
      }
      std::optional<std::string> value;
      if (env_) {
        value = env_(body);
      } else if (const char* v = std::getenv(std::string(body).c_str())) {
        value = std::string(v);
      }
      if (!value || value->empty()) {
        if (!fallback) {
          error(n, "environment variable " + std::string(body) + " is not set",
                "set it, or give a default as ${" + std::string(body) + ":-default}");
          return std::nullopt;
        }
        value = std::string(*fallback);
      }
      out += *value;
      i = close + 1;
    }
    return out;
  }

  std::string resolve(const std::string& path) const {
    try {
      const std::filesystem::path p(path);
      if (p.is_absolute() || baseDir_.empty()) return path;
      return (std::filesystem::path(baseDir_) / p).lexically_normal().string();
    } catch (const std::exception&) {
      return path;
    }
  }

  // Reads a file path: env expansion, resolution, and a check that a regular file is there.
  bool filePath(const Node& n, std::string_view what, std::string& written, std::string& resolved) {
    auto text = config::detail::readString(sink_, n, "a file path");
    if (!text) return false;
    auto expanded = expandEnv(n, *text);
    if (!expanded) return false;
    written = *text;
    resolved = resolve(*expanded);
    std::error_code ec;
    const auto status = std::filesystem::status(resolved, ec);
    if (status.type() == std::filesystem::file_type::not_found || (ec && status.type() == std::filesystem::file_type::none)) {
      error(n, "no such " + std::string(what) + " " + inQuotes(resolved),
            "an existing file; relative paths are relative to the scenario's directory" +
                (baseDir_.empty() ? std::string{} : " (" + baseDir_ + ")"));
      return false;
    }
    if (std::filesystem::is_directory(status)) {
      error(n, inQuotes(resolved) + " is a directory", "a file");
      return false;
    }
    return true;
  }

  // ---- sections -------------------------------------------------------------------------------

  void readVersion(const Mapping& top, Scenario& out) {
    const std::string allowed = "supported versions: " + std::to_string(kScenarioVersion);
    auto n = top.require(sink_, "version", allowed);
    if (!n) return;
    if (n->yaml.IsScalar() && n->yaml.Scalar() == std::to_string(kScenarioVersion)) {
      out.version = kScenarioVersion;
      return;
    }
    error(*n, "unsupported scenario version " +
                  (n->yaml.IsScalar() ? inQuotes(n->yaml.Scalar()) : config::detail::describe(n->yaml)),
          allowed);
  }

  void readGateway(const Node& n, GatewaySource& out) {
    out.at = ref(n.mark, n.path);
    if (n.yaml.IsMap()) return;  // inline: validated by loadVariantConfig
    if (!n.yaml.IsScalar()) {
      error(n, "expected a file path or a mapping, got " + config::detail::describe(n.yaml), kGatewayAllowed);
      return;
    }
    filePath(n, "gateway config file", out.written, out.file);
  }

  void formatOption(const Node& n, trace::TraceFormat& format, std::string_view key, const std::string& value) {
    if (auto err = trace::setTraceFormatOption(format, key, value)) error(n, err->message, err->allowed);
  }

  std::optional<trace::TraceTime> traceTime(const Node& n, trace::ZoneOffset zone) {
    constexpr std::string_view kAllowed = "an RFC 3339 time (2024-05-06T08:00:00Z) or a CLF time (10/Oct/2000:13:55:36 -0700)";
    auto text = config::detail::readString(sink_, n, kAllowed);
    if (!text) return std::nullopt;
    trace::TraceTime t{};
    if (trace::parseRfc3339(*text, zone, t) || trace::parseClfTime(*text, t)) return t;
    error(n, "invalid time " + inQuotes(*text), kAllowed);
    return std::nullopt;
  }

  void readTrace(const Node& n, TraceSettings& out) {
    out.at = ref(n.mark, n.path);
    auto m = Mapping::open(sink_, n, kTraceKeys, "the trace settings");
    if (!m) return;
    if (auto f = m->require(sink_, "file", "the trace file's path")) filePath(*f, "trace file", out.written, out.file);

    bool formatOk = true;
    std::optional<Node> formatNode = m->get("format");
    if (formatNode) {
      if (auto text = config::detail::readString(sink_, *formatNode, trace::kTraceFormatAllowed)) {
        auto parsed = trace::parseTraceFormat(*text);
        if (parsed) {
          out.format = parsed.value();
        } else {
          error(*formatNode, parsed.error().message, parsed.error().allowed);
          formatOk = false;
        }
      } else {
        formatOk = false;
      }
    } else {
      auto parsed = trace::parseTraceFormat("combined");
      if (parsed) out.format = parsed.value();
    }
    const std::size_t before = sink_.count();
    if (auto mapNode = m->get("map")) readFieldMap(*mapNode, out.format);
    for (std::string_view key : {"time_field", "time_format", "time_zone", "time_base"}) {
      auto v = m->get(key);
      if (!v) continue;
      auto text = config::detail::readString(sink_, *v, "see docs/traces.md");
      if (!text) continue;
      std::string option(key);
      std::replace(option.begin(), option.end(), '_', '-');
      formatOption(*v, out.format, option, *text);
    }
    for (std::string_view key : {"header", "optional_tail", "extras"}) {
      auto v = m->get(key);
      if (!v) continue;
      auto b = config::detail::readBool(sink_, *v);
      if (!b) continue;
      std::string option(key);
      std::replace(option.begin(), option.end(), '_', '-');
      formatOption(*v, out.format, option, *b ? "true" : "false");
    }
    if (formatOk && sink_.count() == before) {
      // Compile it now, so a bad log_format or time pattern is reported here, not when the run starts.
      auto parser = trace::makeLineParser(out.format);
      if (!parser) {
        const Node& at = formatNode ? *formatNode : n;
        error(at, "the trace format does not compile: " + parser.error.message, parser.error.allowed);
      }
    }

    if (auto v = m->get("client")) {
      if (auto text = config::detail::readString(sink_, *v, "ip | host | user | user_agent | header:NAME | field:NAME")) {
        auto c = trace::ClientSelector::parse(*text);
        if (c) {
          out.replay.client = c.value();
        } else {
          error(*v, c.error().message, c.error().allowed);
        }
      }
    }
    if (auto v = m->get("speedup")) {
      if (!v->yaml.IsScalar()) {
        error(*v, "expected a number, got " + config::detail::describe(v->yaml), "a speedup such as 1, 10, 2.5 or 10x");
      } else {
        auto s = trace::TimeScale::parse(v->yaml.Scalar());
        if (s) {
          out.replay.speedup = s.value();
        } else {
          error(*v, s.error().message, s.error().allowed);
        }
      }
    }
    if (auto v = m->get("spread")) {
      if (auto s = config::detail::readEnum(sink_, *v, kSpreadModes)) out.replay.spread = *s;
    }
    if (auto v = m->get("reorder_window")) {
      if (auto d = config::detail::readDuration(sink_, *v)) out.replay.reorder.window = *d;
    }
    if (auto v = m->get("reorder_records")) {
      if (auto i = config::detail::readInt(sink_, *v, 1, 100'000'000)) out.replay.reorder.maxRecords = static_cast<std::size_t>(*i);
    }
    if (auto v = m->get("late")) {
      if (auto l = config::detail::readEnum(sink_, *v, kLatePolicies)) out.replay.reorder.late = *l;
    }
    if (auto v = m->get("max_line_length")) {
      if (auto i = config::detail::readInt(sink_, *v, 16, 64 * 1024 * 1024)) out.reader.maxLineLength = static_cast<std::size_t>(*i);
    }
    trace::ZoneOffset zone{0};
    if (auto z = m->get("time_zone"); z && z->yaml.IsScalar()) {
      if (auto parsed = trace::parseZoneOffset(z->yaml.Scalar())) zone = *parsed;
    }
    if (auto v = m->get("start")) out.replay.start = traceTime(*v, zone);
    if (auto v = m->get("end")) out.replay.end = traceTime(*v, zone);
    if (auto v = m->get("skip")) {
      if (m->has("start")) {
        sink_.error(m->keyMark("skip"), v->path, "skip and start both set the window start", "one of start, skip");
      } else if (auto d = config::detail::readDuration(sink_, *v)) {
        out.replay.skip = *d;
      }
    }
    if (auto v = m->get("duration")) {
      if (m->has("end")) {
        sink_.error(m->keyMark("duration"), v->path, "duration and end both set the window end", "one of end, duration");
      } else if (auto d = config::detail::readPositiveDuration(sink_, *v)) {
        out.replay.duration = *d;
      }
    }
    if (out.replay.start && out.replay.end && *out.replay.end <= *out.replay.start) {
      sink_.error(m->keyMark("end"), config::detail::childPath(n.path, "end"), "end is not after start",
                  "an end later than start");
    }
    if (auto v = m->get("host")) {
      if (auto s = config::detail::readString(sink_, *v, "a host name, e.g. api.example.com")) out.host = *s;
    }
    if (auto v = m->get("headers")) {
      if (auto entries = freeMapping(*v, "the headers", "header names mapped to values")) {
        for (const FreeEntry& e : *entries) {
          const bool token = std::all_of(e.key.begin(), e.key.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
          });
          if (!token) {
            sink_.error(e.keyMark, e.value.path, "invalid header name " + inQuotes(e.key), "letters, digits, '-' and '_'");
            continue;
          }
          if (auto s = config::detail::readString(sink_, e.value, "a header value", true)) out.headers.emplace_back(e.key, *s);
        }
      }
    }
  }

  void readFieldMap(const Node& n, trace::TraceFormat& format) {
    if (n.yaml.IsScalar()) {
      formatOption(n, format, "map", n.yaml.Scalar());
      return;
    }
    if (n.yaml.IsSequence()) {
      auto items = config::detail::readList(sink_, n, "field=source entries");
      if (!items) return;
      for (const Node& item : *items) {
        if (auto s = config::detail::readString(sink_, item, "field=source")) formatOption(item, format, "map", *s);
      }
      return;
    }
    auto entries = freeMapping(n, "the field mapping", "record fields mapped to trace fields, e.g. {time: ts, client: ip}");
    if (!entries) return;
    for (const FreeEntry& e : *entries) {
      if (auto s = config::detail::readString(sink_, e.value, "a trace field (JSON member or CSV column)")) {
        formatOption(e.value, format, "map", e.key + "=" + *s);
      }
    }
  }

  // ---- backends -------------------------------------------------------------------------------

  void readBackends(const Node& n, Backends& out) {
    auto entries = freeMapping(n, "the backends", "default and service names, each mapped to backend settings");
    if (!entries) return;
    for (const FreeEntry& e : *entries) {
      if (e.key == "default") {
        if (auto m = Mapping::open(sink_, e.value, kTargetBackendKeys, "the default backend settings")) {
          readBackendSettings(*m, out.defaults);
        }
        continue;
      }
      auto m = Mapping::open(sink_, e.value, kBackendKeys, "a service's backend settings");
      if (!m) continue;
      ServiceBackend s;
      s.service = e.key;
      s.at = ref(e.keyMark, e.value.path);
      readBackendSettings(*m, s.settings);
      if (auto t = m->get("targets")) readTargetBackends(*t, s.targets);
      out.services.push_back(std::move(s));
    }
  }

  void readTargetBackends(const Node& n, std::vector<TargetBackend>& out) {
    auto entries = freeMapping(n, "the targets", "target URLs (or 0-based indexes) mapped to backend settings");
    if (!entries) return;
    for (const FreeEntry& e : *entries) {
      auto m = Mapping::open(sink_, e.value, kTargetBackendKeys, "a target's backend settings");
      if (!m) continue;
      TargetBackend t;
      if (std::all_of(e.key.begin(), e.key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        std::size_t index = 0;
        const auto [end, ec] = std::from_chars(e.key.data(), e.key.data() + e.key.size(), index);
        if (ec != std::errc{} || index > 100000) {
          sink_.error(e.keyMark, e.value.path, "target index " + e.key + " is out of range", "a 0-based index or a URL");
          continue;
        }
        (void)end;
        t.index = index;
      } else {
        t.target = e.key;
      }
      t.at = ref(e.keyMark, e.value.path);
      readBackendSettings(*m, t.settings);
      out.push_back(std::move(t));
    }
  }

  void readBackendSettings(const Mapping& m, BackendSettings& out) {
    if (auto v = m.get("servers")) {
      if (auto i = config::detail::readInt(sink_, *v, 1, 1'000'000)) out.servers = static_cast<std::uint32_t>(*i);
    }
    if (auto v = m.get("queue")) {
      if (v->yaml.IsScalar() && v->yaml.Scalar() == "unbounded") {
        out.queueCapacity = kUnboundedQueue;
      } else if (!config::detail::isUnsignedInteger(v->yaml)) {
        error(*v, "expected a queue capacity, got " + config::detail::describe(v->yaml),
              "an integer from 0 to 100000000, or unbounded");
      } else if (auto i = config::detail::readInt(sink_, *v, 0, 100'000'000)) {
        out.queueCapacity = static_cast<std::uint32_t>(*i);
      }
    }
    if (auto v = m.get("service_time")) {
      if (auto st = readServiceTime(*v)) out.serviceTime = std::move(*st);
    }
    if (auto v = m.get("errors")) out.errorProbability = share(*v);
    if (auto v = m.get("error_status")) out.errorStatus = status(*v);
    if (auto v = m.get("ok_status")) out.okStatus = status(*v);
    if (auto v = m.get("refusal_latency")) out.refusalLatency = config::detail::readDuration(sink_, *v);
    if (auto v = m.get("on_abandon")) out.onAbandon = config::detail::readEnum(sink_, *v, kAbandonPolicies);
  }

  std::optional<ServiceTime> readServiceTime(const Node& n) {
    auto m = Mapping::open(sink_, n, kServiceTimeKeys, "a service time distribution");
    if (!m) return std::nullopt;
    auto dn = m->require(sink_, "distribution", "constant, exponential, lognormal, empirical");
    if (!dn) return std::nullopt;
    auto kind = config::detail::readEnum(sink_, *dn, kDistributions);
    if (!kind) return std::nullopt;
    bool ok = true;
    for (const Mapping::Entry& e : m->entries()) {
      if (serviceTimeKeyApplies(e.key, *kind)) continue;
      sink_.error(e.keyMark, e.value.path,
                  "key " + inQuotes(e.key) + " does not apply to distribution " + std::string(config::detail::enumName(kDistributions, *kind)),
                  serviceTimeKeys(*kind));
      ok = false;
    }
    if (!ok) return std::nullopt;  // a key of another distribution: the rest would only repeat it
    const auto duration = [&](std::string_view key) -> std::optional<core::Duration> {
      auto v = m->require(sink_, key, "a duration, e.g. 20ms");
      if (!v) return std::nullopt;
      return config::detail::readPositiveDuration(sink_, *v);
    };
    std::optional<ServiceTime> st;
    switch (*kind) {
      case ServiceTimeKind::kConstant:
        if (auto d = duration("value")) st = ServiceTime::constant(*d);
        break;
      case ServiceTimeKind::kExponential:
        if (auto d = duration("mean")) st = ServiceTime::exponential(*d);
        break;
      case ServiceTimeKind::kLogNormal: {
        auto median = duration("median");
        auto p99 = duration("p99");
        if (median && p99) st = ServiceTime::lognormal(*median, *p99);
        break;
      }
      case ServiceTimeKind::kEmpirical: st = readEmpirical(*m); break;
    }
    if (!st) return std::nullopt;
    if (auto problem = st->validate()) {
      error(n, *problem, "see docs/scenarios.md, service_time");
      return std::nullopt;
    }
    return st;
  }

  std::optional<ServiceTime> readEmpirical(const Mapping& m) {
    const bool hasPoints = m.has("points");
    const bool hasSamples = m.has("samples");
    if (hasPoints == hasSamples) {
      sink_.error(m.self().mark, m.self().path,
                  hasPoints ? "points and samples both given" : "an empirical distribution needs points or samples",
                  "points: [{value: 5ms, weight: 3}, ...] or samples: [5ms, 7ms, ...]");
      return std::nullopt;
    }
    if (hasPoints) {
      if (m.has("interpolate")) {
        sink_.error(m.keyMark("interpolate"), config::detail::childPath(m.self().path, "interpolate"),
                    "interpolate applies to samples only", "points, or samples with interpolate");
        return std::nullopt;
      }
      auto items = config::detail::readList(sink_, *m.get("points"), "{value: DURATION, weight: NUMBER} items");
      if (!items) return std::nullopt;
      std::vector<WeightedDuration> points;
      bool ok = true;
      for (const Node& item : *items) {
        auto pm = Mapping::open(sink_, item, kPointKeys, "a point");
        if (!pm) {
          ok = false;
          continue;
        }
        WeightedDuration w;
        auto v = pm->require(sink_, "value", "a duration");
        auto d = v ? config::detail::readDuration(sink_, *v) : std::nullopt;
        if (!d) {
          ok = false;
          continue;
        }
        w.value = *d;
        if (auto wn = pm->get("weight")) {
          auto x = number(*wn, 0.0, 1e12, "a weight > 0");
          if (!x || *x <= 0.0) {
            if (x) error(*wn, "must be > 0", "a weight > 0");
            ok = false;
            continue;
          }
          w.weight = *x;
        }
        points.push_back(w);
      }
      if (!ok) return std::nullopt;
      return ServiceTime::empirical(std::move(points));
    }
    auto items = config::detail::readList(sink_, *m.get("samples"), "durations");
    if (!items) return std::nullopt;
    std::vector<core::Duration> samples;
    bool ok = true;
    for (const Node& item : *items) {
      if (auto d = config::detail::readDuration(sink_, item)) {
        samples.push_back(*d);
      } else {
        ok = false;
      }
    }
    bool interpolate = false;
    if (auto v = m.get("interpolate")) {
      auto b = config::detail::readBool(sink_, *v);
      if (!b) return std::nullopt;
      interpolate = *b;
    }
    if (!ok) return std::nullopt;
    return ServiceTime::empiricalSamples(std::move(samples), interpolate);
  }

  // ---- failures -------------------------------------------------------------------------------

  void readFailures(const Node& n, std::vector<FailureTemplate>& out) {
    auto items = config::detail::readList(sink_, n, "failures: mappings with service, at, for, effect", true);
    if (!items) return;
    for (const Node& item : *items) {
      if (auto f = readFailure(item)) out.push_back(std::move(*f));
    }
  }

  std::optional<FailureTemplate> readFailure(const Node& n) {
    auto m = Mapping::open(sink_, n, kFailureKeys, "a failure");
    if (!m) return std::nullopt;
    const std::size_t before = sink_.count();
    FailureTemplate f;
    f.source = ref(n.mark, n.path);
    if (auto v = m->require(sink_, "service", "a service of the gateway config")) {
      if (auto s = config::detail::readString(sink_, *v, "a service name")) f.service = *s;
    }
    if (auto v = m->get("target")) {
      if (config::detail::isUnsignedInteger(v->yaml)) {
        if (auto i = config::detail::readInt(sink_, *v, 0, 100000)) f.targetIndex = static_cast<std::size_t>(*i);
      } else if (auto s = config::detail::readString(sink_, *v, "a target URL of the service, or its 0-based index")) {
        f.target = *s;
      }
    }
    if (auto v = m->require(sink_, "at", "an offset from the run start, e.g. 2m")) {
      if (auto d = config::detail::readDuration(sink_, *v)) f.at = *d;
    }
    if (auto v = m->require(sink_, "for", "a duration, e.g. 30s")) {
      if (auto d = config::detail::readPositiveDuration(sink_, *v)) f.duration = *d;
    }
    auto en = m->require(sink_, "effect", "down, error_burst, latency, black_hole, flapping, slow_recovery");
    if (!en) return std::nullopt;
    std::optional<FailureKind> kind;
    if (en->yaml.IsScalar()) {
      // Common shortenings get a pointer to the real name (closestMatch is too strict for them).
      static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kAliases{
          {{"error", "error_burst"}, {"errors", "error_burst"}, {"blackhole", "black_hole"}, {"flap", "flapping"},
           {"slow", "slow_recovery"}}};
      for (const auto& [alias, real] : kAliases) {
        if (en->yaml.Scalar() == alias) {
          error(*en, "unknown value " + inQuotes(alias) + " (did you mean '" + std::string(real) + "'?)",
                "down, error_burst, latency, black_hole, flapping, slow_recovery");
          return std::nullopt;
        }
      }
    }
    kind = config::detail::readEnum(sink_, *en, kEffects);
    if (!kind) return std::nullopt;
    for (const Mapping::Entry& e : m->entries()) {
      if (e.key == "service" || e.key == "target" || e.key == "at" || e.key == "for" || e.key == "effect") continue;
      if (effectKeyApplies(e.key, *kind)) continue;
      sink_.error(e.keyMark, e.value.path,
                  "key " + inQuotes(e.key) + " does not apply to effect " + std::string(toString(*kind)),
                  "service, target, at, for, effect, " + effectKeys(*kind));
    }
    const auto resetInFlight = [&]() {
      if (auto v = m->get("reset_in_flight")) return config::detail::readBool(sink_, *v).value_or(true);
      return true;
    };
    switch (*kind) {
      case FailureKind::kDown: f.effect = Down{resetInFlight()}; break;
      case FailureKind::kErrorBurst: {
        ErrorBurst b;
        if (auto v = m->get("rate"); v && effectKeyApplies("rate", *kind)) b.probability = share(*v).value_or(1.0);
        if (auto v = m->get("status")) b.status = status(*v).value_or(503);
        f.effect = b;
        break;
      }
      case FailureKind::kLatency: {
        LatencySpike l;
        if (!m->has("multiplier") && !m->has("add")) {
          error(n, "a latency failure needs multiplier or add", "multiplier: 5 (x5), add: 200ms, or both");
        }
        if (auto v = m->get("multiplier")) {
          if (auto x = number(*v, 0.0, 1e6, "a factor > 0, e.g. 5")) {
            if (*x <= 0.0) {
              error(*v, "must be > 0", "a factor > 0, e.g. 5");
            } else {
              l.factor = *x;
            }
          }
        }
        if (auto v = m->get("add")) {
          if (auto d = config::detail::readDuration(sink_, *v)) l.added = *d;
        }
        f.effect = l;
        break;
      }
      case FailureKind::kBlackHole: f.effect = BlackHole{}; break;
      case FailureKind::kFlapping: {
        Flapping fl;
        fl.resetInFlight = resetInFlight();
        if (auto v = m->require(sink_, "period", "a duration, e.g. 10s")) {
          if (auto d = config::detail::readPositiveDuration(sink_, *v)) fl.period = *d;
        }
        if (auto v = m->get("down")) {
          if (auto s = share(*v)) {
            if (*s <= 0.0) {
              error(*v, "must be more than 0%", "a share of each period spent down, (0%, 100%]");
            } else {
              fl.downFraction = *s;
            }
          }
        }
        f.effect = fl;
        break;
      }
      case FailureKind::kSlowRecovery: {
        SlowRecovery s;
        if (auto v = m->get("capacity")) s.startCapacity = share(*v).value_or(1.0);
        if (auto v = m->get("latency_multiplier")) {
          if (auto x = number(*v, 1.0, 1e6, "a factor >= 1")) s.startLatencyFactor = *x;
        }
        f.effect = s;
        break;
      }
    }
    if (auto v = m->get("recovery"); v && *kind != FailureKind::kSlowRecovery) {
      if (auto rm = Mapping::open(sink_, *v, kRecoveryKeys, "the recovery ramp")) {
        RecoveryRamp r;
        if (auto rv = rm->require(sink_, "ramp", "a duration, e.g. 30s")) {
          if (auto d = config::detail::readPositiveDuration(sink_, *rv)) r.ramp = *d;
        }
        if (auto rv = rm->get("capacity")) r.shape.startCapacity = share(*rv).value_or(1.0);
        if (auto rv = rm->get("latency_multiplier")) {
          if (auto x = number(*rv, 1.0, 1e6, "a factor >= 1")) r.shape.startLatencyFactor = *x;
        }
        f.recovery = r;
      }
    }
    if (sink_.count() != before) return std::nullopt;
    FailureSpec spec = f.toFailureSpec(core::TimePoint{});
    if (auto problem = validateFailureSpec(spec)) {
      std::string text = *problem;
      std::replace(text.begin(), text.end(), '\n', ';');
      error(n, text, "see docs/scenarios.md, failures");
      return std::nullopt;
    }
    return f;
  }

  // ---- variants -------------------------------------------------------------------------------

  void readVariants(const Node& n, std::vector<Variant>& out) {
    auto items = config::detail::readList(sink_, n, "variants: mappings with name and set");
    if (!items) return;
    std::map<std::string, Mark, std::less<>> seen;
    for (std::size_t i = 0; i < items->size(); ++i) {
      const Node& item = (*items)[i];
      auto m = Mapping::open(sink_, item, kVariantKeys, "a variant");
      if (!m) continue;
      Variant v;
      v.index = i;
      v.at = ref(item.mark, item.path);
      if (auto nn = m->require(sink_, "name", kNameAllowed)) {
        if (auto s = config::detail::readString(sink_, *nn, kNameAllowed)) {
          if (!validName(*s)) {
            error(*nn, "invalid variant name " + inQuotes(*s), kNameAllowed);
          } else if (auto [it, inserted] = seen.emplace(*s, nn->mark); !inserted) {
            error(*nn, "duplicate variant name " + inQuotes(*s) + "; first defined at " + config::detail::at(it->second),
                  "variant names must be unique");
          } else {
            v.name = *s;
          }
        }
      }
      if (auto d = m->get("description")) {
        if (auto s = config::detail::readString(sink_, *d, "text", true)) v.description = *s;
      }
      if (auto s = m->get("set")) {
        if (auto entries = freeMapping(*s, "the overrides", "config paths mapped to their new values")) {
          for (std::size_t j = 0; j < entries->size(); ++j) {
            const FreeEntry& e = (*entries)[j];
            std::string why;
            if (!detail::parseConfigPath(e.key, &why)) {
              sink_.error(e.keyMark, e.value.path, "invalid config path " + inQuotes(e.key) + ": " + why,
                          std::string(detail::kConfigPathAllowed));
              continue;
            }
            Override o;
            o.path = e.key;
            o.valueText = e.value.yaml.IsScalar() ? e.value.yaml.Scalar() : config::detail::describe(e.value.yaml);
            o.at = ref(e.keyMark, e.value.path);
            o.entry = j;
            v.overrides.push_back(std::move(o));
          }
        }
      }
      if (auto u = m->get("unset")) {
        if (auto paths = config::detail::readList(sink_, *u, "config paths to remove")) {
          for (std::size_t j = 0; j < paths->size(); ++j) {
            const Node& p = (*paths)[j];
            auto s = config::detail::readString(sink_, p, detail::kConfigPathAllowed);
            if (!s) continue;
            std::string why;
            if (!detail::parseConfigPath(*s, &why)) {
              error(p, "invalid config path " + inQuotes(*s) + ": " + why, detail::kConfigPathAllowed);
              continue;
            }
            Override o;
            o.path = *s;
            o.remove = true;
            o.at = ref(p.mark, p.path);
            o.entry = j;
            v.overrides.push_back(std::move(o));
          }
        }
      }
      out.push_back(std::move(v));
    }
  }

  // ---- expectations ---------------------------------------------------------------------------

  // Where byte `offset` of a scalar's text is in the file (exact for single-line scalars).
  static Mark markInScalar(const Node& n, std::size_t offset) {
    Mark m = n.mark;
    const bool quoted = n.yaml.Tag() == "!";
    if (m.line > 0 && offset < 100000) m.column += static_cast<int>(offset) + (quoted ? 1 : 0);
    return m;
  }

  void readExpectations(const Node& n, Scenario& out) {
    auto items = config::detail::readList(sink_, n, "expectations: \"METRIC OP THRESHOLD\" or {check, during, variant}", true);
    if (!items) return;
    for (const Node& item : *items) {
      Node checkNode = item;
      std::optional<Mapping> m;
      if (item.yaml.IsMap()) {
        m = Mapping::open(sink_, item, kExpectKeys, "an expectation");
        if (!m) continue;
        auto c = m->require(sink_, "check", "\"METRIC OP THRESHOLD\", e.g. \"p99_latency < 300ms\"");
        if (!c) continue;
        checkNode = *c;
      }
      auto text = config::detail::readString(sink_, checkNode, "\"METRIC OP THRESHOLD\", e.g. \"p99_latency < 300ms\"");
      if (!text) continue;
      ExpectationError why;
      auto e = parseExpectation(*text, &why);
      if (!e) {
        sink_.error(markInScalar(checkNode, why.offset), checkNode.path, why.message, why.allowed);
        continue;
      }
      e->line = checkNode.mark.line;
      e->at = ref(checkNode.mark, checkNode.path);
      bool ok = true;
      if (m) {
        if (auto d = m->get("during")) {
          if (e->ref.window) {
            error(*d, "the check already has a window [from, to)", "a window either in the check or in during, not both");
            ok = false;
          } else if (auto w = readWindow(*d)) {
            e->ref.window = *w;
          } else {
            ok = false;
          }
        }
        if (auto v = m->get("variant")) {
          if (auto s = config::detail::readString(sink_, *v, "a variant name")) {
            if (out.findVariant(*s) == nullptr) {
              std::vector<std::string> names;
              for (const Variant& var : out.variants) names.push_back(var.name);
              error(*v, "unknown variant " + inQuotes(*s) + config::didYouMean(*s, names),
                    "a variant of this scenario: " + config::joinNames(std::span<const std::string>(names)));
              ok = false;
            } else {
              e->variant = *s;
            }
          } else {
            ok = false;
          }
        }
      }
      if (ok) out.expectations.push_back(std::move(*e));
    }
  }

  std::optional<MetricWindow> readWindow(const Node& n) {
    constexpr std::string_view kAllowed = "[FROM, TO]: two offsets from the run start, FROM < TO, e.g. [2m, 3m]";
    if (!n.yaml.IsSequence() || n.yaml.size() != 2) {
      error(n, "expected a window [from, to], got " + config::detail::describe(n.yaml) +
                   (n.yaml.IsSequence() ? " of " + std::to_string(n.yaml.size()) + " items" : std::string{}),
            kAllowed);
      return std::nullopt;
    }
    auto items = config::detail::readList(sink_, n, kAllowed);
    if (!items) return std::nullopt;
    auto from = config::detail::readDuration(sink_, (*items)[0]);
    auto to = config::detail::readDuration(sink_, (*items)[1]);
    if (!from || !to) return std::nullopt;
    if (*from >= *to) {
      error(n, "the window is empty: from " + core::formatDuration(*from) + " is not before to " + core::formatDuration(*to),
            kAllowed);
      return std::nullopt;
    }
    return MetricWindow{*from, *to};
  }

  Sink& sink_;
  std::string baseDir_;
  const EnvLookup& env_;
};

ScenarioLoadResult singleError(std::string_view file, std::string message) {
  ScenarioLoadResult r;
  r.diagnostics.push_back(config::Diagnostic{std::string(file), 0, 0, "", std::move(message), ""});
  return r;
}

}  // namespace

ScenarioLoadResult loadScenarioString(std::string_view yaml, std::string_view displayName, std::string_view baseDir,
                                      const EnvLookup& env) {
  ScenarioLoadResult result;
  try {
    if (yaml.size() > kMaxScenarioBytes) {
      return singleError(displayName, "the scenario is " + std::to_string(yaml.size()) + " bytes; the limit is " +
                                          std::to_string(kMaxScenarioBytes));
    }
    Sink sink(std::string(displayName), kMaxDiagnostics);
    Scenario scenario;
    scenario.sourcePath = std::string(displayName);
    scenario.baseDir = std::string(baseDir);
    scenario.name = stemOf(displayName);
    try {
      // Counted first, not with YAML::LoadAll, which never returns on some malformed streams
      // (see config::detail::scanDocuments).
      const std::string text(yaml);
      const config::detail::DocumentScan scan = config::detail::scanDocuments(text);
      if (scan.stuckAt) {
        const std::size_t pos = static_cast<std::size_t>(std::max(scan.stuckAt->pos, 0));
        sink.error(Mark{scan.stuckAt->line + 1, scan.stuckAt->column + 1}, "",
                   "YAML syntax error: unexpected " +
                       (pos < text.size() ? "\"" + text.substr(pos, 1) + "\"" : std::string("end of input")) +
                       "; the parser cannot continue from here",
                   "a YAML mapping; a ',' belongs inside [...] or {...}");
      } else if (scan.documents > 1) {
        sink.error(scan.second, "",
                   "a scenario file holds one YAML document; found " + std::to_string(scan.documents) +
                       (scan.documents >= config::detail::kMaxDocumentsScanned ? " or more" : ""),
                   "a single document (remove the extra '---')");
      } else {
        ScenarioReader(sink, std::string(baseDir), env).read(scan.documents == 0 ? YAML::Node{} : YAML::Load(text), scenario);
      }
    } catch (const YAML::Exception& e) {
      const Mark m{e.mark.line >= 0 ? e.mark.line + 1 : 0, e.mark.column >= 0 ? e.mark.column + 1 : 0};
      sink.error(m, "", "YAML syntax error: " + e.msg);
    }
    if (sink.count() == 0) {
      scenario.text = std::make_shared<const std::string>(yaml);
      result.scenario = std::move(scenario);
    } else {
      result.diagnostics = sink.take();
    }
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    return singleError(displayName, std::string("internal error while reading the scenario: ") + e.what());
  }
  return result;
}

ScenarioLoadResult loadScenarioFile(const std::string& path, const EnvLookup& env) {
  try {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found) return singleError(path, "cannot read scenario file: no such file");
    if (ec) return singleError(path, "cannot read scenario file: " + ec.message());
    if (std::filesystem::is_directory(status)) return singleError(path, "cannot read scenario file: it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return singleError(path, std::string("cannot open scenario file: ") + std::strerror(errno));
    std::string text;
    std::array<char, 64 * 1024> buffer{};
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
      if (text.size() > kMaxScenarioBytes) {
        return singleError(path, "the scenario file is larger than the limit of " + std::to_string(kMaxScenarioBytes) + " bytes");
      }
    }
    if (in.bad()) return singleError(path, "error while reading the scenario file");
    const std::string baseDir = std::filesystem::path(path).parent_path().string();
    return loadScenarioString(text, path, baseDir, env);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    return singleError(path, std::string("internal error while reading the scenario: ") + e.what());
  }
}

}  // namespace gatelab::sim::scenario
