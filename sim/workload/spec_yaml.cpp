// The workload spec's YAML schema. Reading is two passes over what was written: this file turns
// nodes into a WorkloadSpec (types, syntax, unknown keys, keys that do not apply), then
// checkWorkloadSpec() judges the values; its problems are placed at the node they name.
#include "sim/workload/spec_yaml.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <limits>
#include <map>
#include <type_traits>

#include "gateway/config/detail/yaml_reader.hpp"
#include "gateway/config/units.hpp"

namespace gatelab::sim::workload {
namespace {

using config::Diagnostic;
using config::detail::Mapping;
using config::detail::Mark;
using config::detail::Node;
using config::detail::Sink;

constexpr std::size_t kMaxDiagnostics = 100;
constexpr std::size_t kMaxSpecBytes = 4 * 1024 * 1024;

constexpr std::array<std::string_view, 10> kTopKeys{"version", "seed",   "start",   "time_zone", "duration",
                                                    "count",   "content", "groups", "abusive",   "description"};
constexpr std::array<std::string_view, 5> kGroupKeys{"name", "clients", "zipf", "arrivals", "content"};
constexpr std::array<std::string_view, 12> kArrivalKeys{"process",  "rate",   "burst_factor", "burst_length",
                                                        "burst_gap", "states", "transitions",  "generator",
                                                        "initial_state", "peak_hour", "peak_ratio", "profile"};
constexpr std::array<std::string_view, 10> kAbusiveKeys{"name", "count", "rate", "pattern", "on",
                                                        "off",  "from",  "until", "content", "description"};
constexpr std::array<std::string_view, 10> kContentKeys{"methods",     "paths",    "statuses",  "bytes",   "request_time",
                                                        "user_agents", "referers", "protocols", "headers", "ids"};
constexpr std::array<std::string_view, 6> kPathKeys{"path", "weight", "methods", "statuses", "bytes", "request_time"};
constexpr std::array<std::string_view, 3> kSizeKeys{"median", "p99", "per_path"};
constexpr std::array<std::string_view, 2> kLatencyKeys{"median", "p99"};
constexpr std::array<std::string_view, 3> kHeaderKeys{"api_key", "tenant", "tenants"};
constexpr std::array<std::string_view, 2> kStateKeys{"rate", "sojourn"};
constexpr std::array<std::string_view, 2> kPointKeys{"at", "rate"};
constexpr std::array<std::string_view, 2> kWeightedKeys{"value", "weight"};

constexpr std::array<config::detail::EnumName<ArrivalKind>, 3> kProcesses{{
    {"poisson", ArrivalKind::kPoisson},
    {"mmpp", ArrivalKind::kMmpp},
    {"diurnal", ArrivalKind::kDiurnal},
}};
constexpr std::array<config::detail::EnumName<AbusePattern>, 2> kPatterns{{
    {"constant", AbusePattern::kConstant},
    {"poisson", AbusePattern::kPoisson},
}};

constexpr std::string_view kNumberAllowed = "a decimal number";
constexpr std::string_view kSizeAllowed = "bytes: an integer, optionally with B, KB, MB, GB (x1000) or KiB, MiB, GiB (x1024)";

// Which arrival keys each process takes.
bool appliesTo(std::string_view key, ArrivalKind kind) {
  if (key == "process") return true;
  switch (kind) {
    case ArrivalKind::kPoisson: return key == "rate";
    case ArrivalKind::kMmpp:
      return key == "rate" || key == "burst_factor" || key == "burst_length" || key == "burst_gap" || key == "states" ||
             key == "transitions" || key == "generator" || key == "initial_state";
    case ArrivalKind::kDiurnal: return key == "rate" || key == "peak_hour" || key == "peak_ratio" || key == "profile";
  }
  return false;
}

// Component-wise prefix: "a.b" is a prefix of "a.b.c" and "a.b[1]", not of "a.bc".
bool pathPrefix(std::string_view prefix, std::string_view path) {
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '.' || path[prefix.size()] == '[';
}

class SpecReader {
 public:
  explicit SpecReader(Sink& sink) : sink_(sink) {}

 private:
  // ---- bookkeeping ----------------------------------------------------------------------------

  void remember(const Node& n) { marks_.emplace(n.path, n.mark); }
  void failed(const std::string& path) { failed_.push_back(path); }

  // Runs a reader on `n`, remembering its position and whether it reported a problem.
  template <typename F>
  auto tracked(const Node& n, F f) {
    remember(n);
    const std::size_t before = sink_.count();
    auto result = f();
    if (sink_.count() != before || !result) failed(n.path);
    return result;
  }

  void error(const Node& n, std::string message, std::string_view allowed) {
    sink_.error(n.mark, n.path, std::move(message), std::string(allowed));
    failed(n.path);
  }

  Mark markFor(std::string path) const {
    while (true) {
      if (auto it = marks_.find(path); it != marks_.end()) return it->second;
      const std::size_t cut = path.find_last_of(".[");
      if (cut == std::string::npos || cut == 0) break;
      path.resize(cut);
    }
    if (auto it = marks_.find(""); it != marks_.end()) return it->second;
    return Mark{1, 1};
  }

  std::optional<Mapping> open(const Node& n, config::detail::KeyTable keys, std::string_view what) {
    remember(n);
    auto m = Mapping::open(sink_, n, keys, what);
    if (!m) failed(n.path);
    return m;
  }

  // ---- scalars --------------------------------------------------------------------------------

  std::optional<double> number(const Node& n, double min, double max) {
    remember(n);
    if (!n.yaml.IsScalar()) {
      error(n, "expected a number, got " + config::detail::describe(n.yaml), kNumberAllowed);
      return std::nullopt;
    }
    const std::string& s = n.yaml.Scalar();
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) {
      error(n, "expected a number, got " + config::detail::describe(n.yaml), kNumberAllowed);
      return std::nullopt;
    }
    if (v < min || v > max) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "a number from %g to %g", min, max);
      error(n, s.substr(0, 40) + " is out of range", buf);
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::uint64_t> count(const Node& n, std::int64_t min, std::int64_t max) {
    auto v = tracked(n, [&] { return config::detail::readInt(sink_, n, min, max); });
    if (!v) return std::nullopt;
    return static_cast<std::uint64_t>(*v);
  }

  std::optional<core::Rate> rate(const Node& n, bool allowZero) {
    remember(n);
    if (allowZero && n.yaml.IsScalar()) {
      const std::string& s = n.yaml.Scalar();
      if (s == "0" || s.starts_with("0/")) return core::Rate{0, std::chrono::seconds(1)};
    }
    auto r = tracked(n, [&] { return config::detail::readRate(sink_, n); });
    return r;
  }

  std::optional<core::Duration> duration(const Node& n, bool positive) {
    return tracked(n, [&] {
      return positive ? config::detail::readPositiveDuration(sink_, n) : config::detail::readDuration(sink_, n);
    });
  }

  std::optional<std::uint64_t> size(const Node& n) {
    remember(n);
    if (!n.yaml.IsScalar()) {
      error(n, "expected a size, got " + config::detail::describe(n.yaml), kSizeAllowed);
      return std::nullopt;
    }
    const std::string& s = n.yaml.Scalar();
    std::size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + digits, v);
    const std::string_view unit = std::string_view(s).substr(digits);
    std::uint64_t scale = 0;
    if (unit.empty() || unit == "B") scale = 1;
    else if (unit == "KB" || unit == "kB") scale = 1000;
    else if (unit == "MB") scale = 1000 * 1000;
    else if (unit == "GB") scale = 1000 * 1000 * 1000;
    else if (unit == "KiB") scale = 1024;
    else if (unit == "MiB") scale = 1024 * 1024;
    else if (unit == "GiB") scale = 1024 * 1024 * 1024;
    if (digits == 0 || ec != std::errc{} || end != s.data() + digits || scale == 0 || v > 1'000'000'000'000ULL / scale) {
      error(n, "invalid size " + config::detail::inQuotes(s), kSizeAllowed);
      return std::nullopt;
    }
    return v * scale;
  }

  // "HH:MM" or "HH:MM:SS" -> offset into the day.
  std::optional<core::Duration> timeOfDay(const Node& n) {
    constexpr std::string_view kAllowed = "HH:MM or HH:MM:SS from 00:00 to 23:59:59 (quote it: \"14:30\")";
    auto s = tracked(n, [&] { return config::detail::readString(sink_, n, kAllowed); });
    if (!s) return std::nullopt;
    int parts[3] = {0, 0, 0};
    std::size_t count = 0;
    std::size_t pos = 0;
    bool ok = true;
    while (ok && count < 3) {
      const std::size_t colon = s->find(':', pos);
      const std::string_view part = std::string_view(*s).substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
      int v = 0;
      const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
      ok = !part.empty() && part.size() <= 2 && ec == std::errc{} && end == part.data() + part.size();
      parts[count++] = v;
      if (colon == std::string::npos) break;
      pos = colon + 1;
      if (count == 3) ok = false;
    }
    ok = ok && count >= 2 && parts[0] < 24 && parts[1] < 60 && parts[2] < 60;
    if (!ok) {
      error(n, "invalid time of day " + config::detail::inQuotes(*s), kAllowed);
      return std::nullopt;
    }
    return std::chrono::hours(parts[0]) + std::chrono::minutes(parts[1]) + std::chrono::seconds(parts[2]);
  }

  // ---- lists ----------------------------------------------------------------------------------

  // {NAME: weight, ...}: methods; statuses when `statuses`.
  template <typename T>
  std::optional<std::vector<Weighted<T>>> weightMap(const Node& n, std::string_view what) {
    remember(n);
    const std::string allowed = std::string(what) + " with weights, e.g. {" +
                                (std::is_same_v<T, int> ? "200: 95, 404: 5" : "GET: 90, POST: 10") + "}";
    if (!n.yaml.IsMap()) {
      error(n, "expected a mapping of " + std::string(what) + " to weights, got " + config::detail::describe(n.yaml), allowed);
      return std::nullopt;
    }
    std::vector<Weighted<T>> out;
    bool ok = true;
    for (auto it = n.yaml.begin(); it != n.yaml.end(); ++it) {
      const YAML::Node key = it->first;
      const Mark keyMark = config::detail::markOf(key, n.mark);
      if (!key.IsScalar()) {
        sink_.error(keyMark, n.path, "a key must be a scalar, got " + config::detail::describe(key), allowed);
        ok = false;
        continue;
      }
      const std::string& name = key.Scalar();
      const Node value{it->second, config::detail::childPath(n.path, name), config::detail::markOf(it->second, keyMark)};
      Weighted<T> w;
      if constexpr (std::is_same_v<T, int>) {
        int status = 0;
        const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), status);
        if (name.empty() || ec != std::errc{} || end != name.data() + name.size()) {
          sink_.error(keyMark, value.path, "status " + config::detail::inQuotes(name) + " is not a number", allowed);
          ok = false;
          continue;
        }
        w.value = status;
      } else {
        w.value = name;
      }
      for (const Weighted<T>& prior : out) {
        if (prior.value == w.value) {
          sink_.error(keyMark, value.path, "duplicate key " + config::detail::inQuotes(name), "each key at most once");
          ok = false;
        }
      }
      if (auto weight = number(value, 0, 1e12)) w.weight = *weight;
      else ok = false;
      out.push_back(std::move(w));
    }
    if (!ok) {
      failed(n.path);
      return std::nullopt;
    }
    return out;
  }

  // A list of strings, or of {value, weight}.
  std::optional<std::vector<Weighted<std::string>>> weightedStrings(const Node& n, std::string_view what) {
    const std::string allowed = "a list of " + std::string(what) + ": strings, or {value: ..., weight: N}";
    auto items = tracked(n, [&] { return config::detail::readList(sink_, n, allowed); });
    if (!items) return std::nullopt;
    std::vector<Weighted<std::string>> out;
    bool ok = true;
    for (const Node& item : *items) {
      remember(item);
      Weighted<std::string> w;
      if (item.yaml.IsMap()) {
        auto m = open(item, kWeightedKeys, "a weighted value");
        if (!m) {
          ok = false;
          continue;
        }
        if (auto v = m->require(sink_, "value", allowed)) {
          if (auto s = tracked(*v, [&] { return config::detail::readString(sink_, *v, allowed); })) w.value = *s;
          else ok = false;
        } else {
          ok = false;
        }
        if (auto v = m->get("weight")) {
          if (auto x = number(*v, 0, 1e12)) w.weight = *x;
          else ok = false;
        }
      } else if (auto s = tracked(item, [&] { return config::detail::readString(sink_, item, allowed); })) {
        w.value = *s;
      } else {
        ok = false;
      }
      out.push_back(std::move(w));
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::vector<std::vector<double>> matrix(const Node& n, std::string_view what) {
    const std::string allowed = std::string(what) + ": a list of rows, each a list of numbers, e.g. [[0, 1], [1, 0]]";
    std::vector<std::vector<double>> out;
    auto rows = tracked(n, [&] { return config::detail::readList(sink_, n, allowed); });
    if (!rows) return out;
    for (const Node& row : *rows) {
      auto cells = tracked(row, [&] { return config::detail::readList(sink_, row, allowed); });
      std::vector<double> values;
      if (cells) {
        for (const Node& cell : *cells) values.push_back(number(cell, -1e12, 1e12).value_or(0.0));
      }
      out.push_back(std::move(values));
    }
    return out;
  }

  // ---- sections -------------------------------------------------------------------------------

  void readSize(const Node& n, SizeSpec& out) {
    remember(n);
    if (n.yaml.IsScalar()) {
      if (auto v = size(n)) out = SizeSpec{*v, *v, false};
      return;
    }
    auto m = open(n, kSizeKeys, "a body size (median, p99, per_path)");
    if (!m) return;
    if (auto v = m->require(sink_, "median", kSizeAllowed)) {
      if (auto x = size(*v)) out.median = *x;
    }
    out.p99 = out.median;
    if (auto v = m->get("p99")) {
      if (auto x = size(*v)) out.p99 = *x;
    }
    if (auto v = m->get("per_path")) {
      if (auto b = tracked(*v, [&] { return config::detail::readBool(sink_, *v); })) out.perPath = *b;
    }
  }

  void readLatency(const Node& n, LatencySpec& out) {
    remember(n);
    if (n.yaml.IsScalar()) {
      if (auto d = duration(n, true)) out = LatencySpec{*d, *d};
      return;
    }
    auto m = open(n, kLatencyKeys, "a response time (median, p99)");
    if (!m) return;
    if (auto v = m->require(sink_, "median", "a duration, e.g. 25ms")) {
      if (auto d = duration(*v, true)) out.median = *d;
    }
    out.p99 = out.median;
    if (auto v = m->get("p99")) {
      if (auto d = duration(*v, true)) out.p99 = *d;
    }
  }

  void readContent(const Node& n, ContentSpec& c) {
    auto m = open(n, kContentKeys, "request content");
    if (!m) return;
    if (auto v = m->get("methods")) {
      if (auto w = weightMap<std::string>(*v, "HTTP methods")) c.methods = std::move(*w);
    }
    if (auto v = m->get("statuses")) {
      if (auto w = weightMap<int>(*v, "HTTP statuses")) c.statuses = std::move(*w);
    }
    if (auto v = m->get("paths")) {
      if (auto items = tracked(*v, [&] { return config::detail::readList(sink_, *v, "a list of path templates"); })) {
        std::vector<PathSpec> paths;
        for (const Node& item : *items) paths.push_back(readPath(item));
        c.paths = std::move(paths);
      }
    }
    if (auto v = m->get("bytes")) readSize(*v, c.bytes);
    if (auto v = m->get("request_time")) readLatency(*v, c.requestTime);
    if (auto v = m->get("user_agents")) {
      if (auto w = weightedStrings(*v, "user agents")) c.userAgents = std::move(*w);
    }
    if (auto v = m->get("referers")) {
      if (auto w = weightedStrings(*v, "referers (- for none)")) c.referers = std::move(*w);
    }
    if (auto v = m->get("protocols")) {
      if (auto w = weightedStrings(*v, "protocols")) c.protocols = std::move(*w);
    }
    if (auto v = m->get("ids")) {
      if (auto x = count(*v, 1, 1'000'000'000'000'000'000LL)) c.ids = *x;
    }
    if (auto v = m->get("headers")) {
      auto h = open(*v, kHeaderKeys, "identity headers (api_key, tenant, tenants)");
      if (!h) return;
      const auto headerName = [&](std::string_view key, std::string& out) {
        if (auto x = h->get(key)) {
          remember(*x);
          if (x->yaml.IsNull()) {
            out.clear();
          } else if (auto s = tracked(*x, [&] { return config::detail::readString(sink_, *x, "a header name, or \"\" for none", true); })) {
            out = *s;
          }
        }
      };
      headerName("api_key", c.apiKeyHeader);
      headerName("tenant", c.tenantHeader);
      if (auto x = h->get("tenants")) {
        if (auto t = count(*x, 1, 1'000'000)) c.tenants = static_cast<std::uint32_t>(*t);
      }
    }
  }

  PathSpec readPath(const Node& n) {
    PathSpec p;
    remember(n);
    if (n.yaml.IsScalar()) {
      if (auto s = tracked(n, [&] { return config::detail::readString(sink_, n, kPathTemplateAllowed); })) p.pattern = *s;
      const Node alias{n.yaml, config::detail::childPath(n.path, "path"), n.mark};
      remember(alias);  // checkWorkloadSpec reports templates at ".path"
      return p;
    }
    auto m = open(n, kPathKeys, "a path template");
    if (!m) return p;
    if (auto v = m->require(sink_, "path", kPathTemplateAllowed)) {
      if (auto s = tracked(*v, [&] { return config::detail::readString(sink_, *v, kPathTemplateAllowed); })) p.pattern = *s;
    }
    if (auto v = m->get("weight")) {
      if (auto x = number(*v, 0, 1e12)) p.weight = *x;
    }
    if (auto v = m->get("methods")) {
      if (auto w = weightMap<std::string>(*v, "HTTP methods")) p.methods = std::move(*w);
    }
    if (auto v = m->get("statuses")) {
      if (auto w = weightMap<int>(*v, "HTTP statuses")) p.statuses = std::move(*w);
    }
    if (auto v = m->get("bytes")) {
      SizeSpec s;
      readSize(*v, s);
      p.bytes = s;
    }
    if (auto v = m->get("request_time")) {
      LatencySpec l;
      readLatency(*v, l);
      p.requestTime = l;
    }
    return p;
  }

  void readArrivals(const Node& n, ArrivalSpec& a) {
    auto m = open(n, kArrivalKeys, "an arrival process");
    if (!m) return;
    auto process = m->require(sink_, "process", "poisson, mmpp, diurnal");
    if (!process) {
      failed(n.path);
      return;
    }
    auto kind = tracked(*process, [&] { return config::detail::readEnum(sink_, *process, kProcesses); });
    if (!kind) {
      failed(n.path);
      return;
    }
    a.kind = *kind;
    for (const Mapping::Entry& e : m->entries()) {
      if (!appliesTo(e.key, a.kind)) {
        sink_.error(e.keyMark, e.value.path,
                    "key " + config::detail::inQuotes(e.key) + " does not apply to process " +
                        std::string(config::detail::enumName(kProcesses, a.kind)),
                    a.kind == ArrivalKind::kPoisson ? "poisson: rate"
                    : a.kind == ArrivalKind::kMmpp  ? "mmpp: rate, burst_factor, burst_length, burst_gap, or states with "
                                                      "transitions/generator, initial_state"
                                                    : "diurnal: rate, peak_hour, peak_ratio, or profile");
        failed(e.value.path);
      }
    }
    const bool explicitStates = m->has("states");
    if (auto v = m->get("rate"); v && appliesTo("rate", a.kind)) {
      if (a.kind == ArrivalKind::kMmpp && explicitStates) {
        error(*v, "rate goes with the burst shorthand; with states, each state has its own rate", "rate + burst_* or states");
      } else if (a.kind == ArrivalKind::kDiurnal && m->has("profile")) {
        error(*v, "rate goes with the sinusoid (peak_hour, peak_ratio); a profile gives its own rates", "rate + peak_* or profile");
      } else if (auto r = rate(*v, false)) {
        a.rate = *r;
      }
    } else if (a.kind == ArrivalKind::kPoisson || (a.kind == ArrivalKind::kMmpp && !explicitStates) ||
               (a.kind == ArrivalKind::kDiurnal && !m->has("profile"))) {
      if (!m->misspelled("rate")) {
        sink_.error(n.mark, config::detail::childPath(n.path, "rate"), "missing required key \"rate\"", std::string(config::kRateAllowed));
      }
      failed(config::detail::childPath(n.path, "rate"));
    }
    if (a.kind == ArrivalKind::kMmpp) {
      if (auto v = m->get("burst_factor")) {
        if (auto x = number(*v, 1, 1e6)) a.burstFactor = *x;
      }
      if (auto v = m->get("burst_length")) {
        if (auto d = duration(*v, true)) a.burstLength = *d;
      }
      if (auto v = m->get("burst_gap")) {
        if (auto d = duration(*v, true)) a.burstGap = *d;
      }
      if (explicitStates) {
        for (const std::string_view k : {"burst_factor", "burst_length", "burst_gap"}) {
          if (m->has(k)) {
            sink_.error(m->keyMark(k), config::detail::childPath(n.path, k),
                        std::string(k) + " goes with the burst shorthand, not with explicit states", "rate + burst_* or states");
            failed(config::detail::childPath(n.path, k));
          }
        }
      }
      if (auto v = m->get("states")) {
        constexpr std::string_view kAllowed = "a list of states {rate: 100/s, sojourn: 50s} (sojourn optional with a generator)";
        if (auto items = tracked(*v, [&] { return config::detail::readList(sink_, *v, kAllowed); })) {
          for (const Node& item : *items) {
            MmppStateSpec s;
            if (auto sm = open(item, kStateKeys, "an MMPP state")) {
              if (auto r = sm->require(sink_, "rate", config::kRateAllowed)) {
                if (auto x = rate(*r, true)) s.rate = *x;
              } else {
                failed(item.path);
              }
              if (auto d = sm->get("sojourn")) s.sojourn = duration(*d, true);
            }
            a.states.push_back(s);
          }
        }
      }
      if (auto v = m->get("transitions")) a.transitions = matrix(*v, "transition probabilities");
      if (auto v = m->get("generator")) a.generator = matrix(*v, "a generator matrix per second");
      if (auto v = m->get("initial_state")) {
        if (auto x = count(*v, 0, static_cast<std::int64_t>(kMaxMmppStates) - 1)) a.initialState = static_cast<std::size_t>(*x);
      }
    }
    if (a.kind == ArrivalKind::kDiurnal) {
      if (auto v = m->get("peak_hour")) {
        if (auto x = number(*v, 0, 23.999999)) a.peakHour = *x;
      }
      if (auto v = m->get("peak_ratio")) {
        if (auto x = number(*v, 1, 1e6)) a.peakRatio = *x;
      }
      if (auto v = m->get("profile")) {
        if (m->has("peak_hour") || m->has("peak_ratio")) {
          error(*v, "a profile replaces the sinusoid: drop peak_hour and peak_ratio", "rate + peak_* or profile");
        }
        constexpr std::string_view kAllowed = "a list of points {at: \"HH:MM\", rate: 100/s}";
        if (auto items = tracked(*v, [&] { return config::detail::readList(sink_, *v, kAllowed); })) {
          for (const Node& item : *items) {
            ProfilePointSpec p;
            if (auto pm = open(item, kPointKeys, "a profile point")) {
              if (auto t = pm->require(sink_, "at", "HH:MM")) {
                if (auto x = timeOfDay(*t)) p.at = *x;
              } else {
                failed(item.path);
              }
              if (auto r = pm->require(sink_, "rate", config::kRateAllowed)) {
                if (auto x = rate(*r, true)) p.rate = *x;
              } else {
                failed(item.path);
              }
            }
            a.profile.push_back(p);
          }
        }
      }
    }
  }

  GroupSpec readGroup(const Node& n, const ContentSpec& base) {
    GroupSpec g;
    g.content = base;
    auto m = open(n, kGroupKeys, "a client group");
    if (!m) return g;
    if (auto v = m->get("name")) {
      if (auto s = tracked(*v, [&] { return config::detail::readString(sink_, *v, "a name"); })) g.name = *s;
    } else {
      g.name = "group" + n.path.substr(n.path.find('['));  // "group[0]"
      g.name.erase(std::remove_if(g.name.begin(), g.name.end(), [](char c) { return c == '[' || c == ']'; }), g.name.end());
    }
    if (auto v = m->require(sink_, "clients", "an integer from 1 to 10000000")) {
      if (auto x = count(*v, 1, static_cast<std::int64_t>(kMaxClients))) g.clients = *x;
    } else {
      failed(config::detail::childPath(n.path, "clients"));
    }
    if (auto v = m->get("zipf")) {
      if (auto x = number(*v, 0, 10)) g.zipf = *x;
    }
    if (auto v = m->require(sink_, "arrivals", "a mapping with process: poisson | mmpp | diurnal")) {
      readArrivals(*v, g.arrivals);
    } else {
      failed(config::detail::childPath(n.path, "arrivals"));
    }
    if (auto v = m->get("content")) readContent(*v, g.content);
    return g;
  }

  AbusiveSpec readAbusive(const Node& n, const ContentSpec& base) {
    AbusiveSpec a;
    a.content = abusiveContent(base);
    auto m = open(n, kAbusiveKeys, "an abusive client entry");
    if (!m) return a;
    if (auto v = m->get("description")) (void)tracked(*v, [&] { return config::detail::readString(sink_, *v, "any text", true); });
    if (auto v = m->get("name")) {
      if (auto s = tracked(*v, [&] { return config::detail::readString(sink_, *v, "a name"); })) a.name = *s;
    } else {
      a.name = "abusive" + n.path.substr(n.path.find('[') + 1);
      a.name.pop_back();  // "abusive0"
    }
    if (auto v = m->get("count")) {
      if (auto x = count(*v, 1, static_cast<std::int64_t>(kMaxAbusiveClients))) a.count = *x;
    }
    if (auto v = m->require(sink_, "rate", config::kRateAllowed)) {
      if (auto r = rate(*v, false)) a.rate = *r;
    } else {
      failed(config::detail::childPath(n.path, "rate"));
    }
    if (auto v = m->get("pattern")) {
      if (auto p = tracked(*v, [&] { return config::detail::readEnum(sink_, *v, kPatterns); })) a.pattern = *p;
    }
    if (auto v = m->get("on")) a.on = duration(*v, true);
    if (auto v = m->get("off")) a.off = duration(*v, false);
    if (auto v = m->get("from")) {
      if (auto d = duration(*v, false)) a.from = *d;
    }
    if (auto v = m->get("until")) a.until = duration(*v, true);
    if (auto v = m->get("content")) readContent(*v, a.content);
    return a;
  }

 public:
  WorkloadSpec read(const Node& root) {
    WorkloadSpec spec;
    remember(root);
    auto top = Mapping::open(sink_, root, kTopKeys, "the workload spec");
    if (!top) return spec;
    if (auto v = top->require(sink_, "version", "version: 1")) {
      if (auto n = tracked(*v, [&] { return config::detail::readInt(sink_, *v, 1, 1); }); !n) failed(v->path);
    }
    if (auto v = top->get("description")) (void)tracked(*v, [&] { return config::detail::readString(sink_, *v, "any text", true); });
    if (auto v = top->get("seed")) {
      if (auto n = tracked(*v, [&] { return config::detail::readInt(sink_, *v, 0, std::numeric_limits<std::int64_t>::max()); })) {
        spec.seed = static_cast<std::uint64_t>(*n);
      }
    }
    if (auto v = top->get("time_zone")) {
      if (auto s = tracked(*v, [&] { return config::detail::readString(sink_, *v, "Z, +02:00, -0400"); })) {
        if (auto z = trace::parseZoneOffset(*s)) {
          spec.zone = *z;
        } else {
          error(*v, "invalid UTC offset " + config::detail::inQuotes(*s), "Z, UTC, +02:00, -0400, +02 (offsets, not zone names)");
        }
      }
    }
    if (auto v = top->get("start")) {
      if (auto s = tracked(*v, [&] { return config::detail::readString(sink_, *v, "an RFC 3339 time"); })) {
        trace::TraceTime t{};
        if (trace::parseRfc3339(*s, spec.zone, t)) {
          spec.start = t;
        } else {
          error(*v, "invalid time " + config::detail::inQuotes(*s),
                "an RFC 3339 time such as 2024-03-05T08:00:00Z (without an offset: time_zone applies)");
        }
      }
    }
    if (auto v = top->get("duration")) {
      if (auto d = tracked(*v, [&] { return config::detail::readPositiveDuration(sink_, *v); })) spec.duration = *d;
    }
    if (auto v = top->get("count")) {
      if (auto n = tracked(*v, [&] { return config::detail::readInt(sink_, *v, 1, std::numeric_limits<std::int64_t>::max()); })) {
        spec.count = static_cast<std::uint64_t>(*n);
      }
    }
    if (auto v = top->get("content")) readContent(*v, spec.content);
    if (auto v = top->get("groups")) {
      if (auto items = tracked(*v, [&] { return config::detail::readList(sink_, *v, "a list of client groups", true); })) {
        for (const Node& item : *items) spec.groups.push_back(readGroup(item, spec.content));
      }
    }
    if (auto v = top->get("abusive")) {
      if (auto items = tracked(*v, [&] { return config::detail::readList(sink_, *v, "a list of abusive client entries", true); })) {
        for (const Node& item : *items) spec.abusive.push_back(readAbusive(item, spec.content));
      }
    }
    return spec;
  }

  /// Adds checkWorkloadSpec's problems, at the node each names (or its nearest read ancestor),
  /// except those about a node that already failed to read (they would repeat the same mistake).
  void addProblems(const std::vector<SpecProblem>& problems) {
    for (const SpecProblem& p : problems) {
      const bool repeats = std::any_of(failed_.begin(), failed_.end(), [&p](const std::string& f) {
        return pathPrefix(f, p.path) || pathPrefix(p.path, f);
      });
      if (repeats) continue;
      sink_.error(markFor(p.path), p.path, p.message, p.allowed);
    }
  }

 private:
  Sink& sink_;
  std::map<std::string, Mark> marks_;
  std::vector<std::string> failed_;
};

SpecLoadResult singleError(const std::string& file, std::string message) {
  SpecLoadResult r;
  r.diagnostics.push_back(Diagnostic{file, 0, 0, "", std::move(message), ""});
  return r;
}

}  // namespace

SpecLoadResult parseWorkloadSpec(std::string_view yaml, const std::string& displayName) {
  Sink sink(displayName, kMaxDiagnostics);
  SpecLoadResult result;
  try {
    if (yaml.size() > kMaxSpecBytes) {
      return singleError(displayName, "the spec is " + std::to_string(yaml.size()) + " bytes; the limit is " +
                                          std::to_string(kMaxSpecBytes));
    }
    const std::vector<YAML::Node> documents = YAML::LoadAll(std::string(yaml));
    if (documents.size() > 1) {
      sink.error(config::detail::markOf(documents[1], Mark{1, 1}), "",
                 "a workload spec holds one YAML document; found " + std::to_string(documents.size()),
                 "a single document (remove the extra '---')");
    } else {
      SpecReader reader(sink);
      const Node root{documents.empty() ? YAML::Node{} : documents.front(), "", Mark{1, 1}};
      WorkloadSpec spec = reader.read(root);
      reader.addProblems(checkWorkloadSpec(spec));
      if (sink.count() == 0) result.spec = std::move(spec);
    }
  } catch (const YAML::Exception& e) {
    const Mark m{e.mark.line >= 0 ? e.mark.line + 1 : 0, e.mark.column >= 0 ? e.mark.column + 1 : 0};
    sink.error(m, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    sink.error(Mark{}, "", std::string("internal error while reading the spec: ") + e.what());
  }
  result.diagnostics = sink.take();
  if (!result.diagnostics.empty()) result.spec.reset();
  return result;
}

SpecLoadResult loadWorkloadSpec(const std::string& path) {
  try {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found) return singleError(path, "cannot read workload spec: no such file");
    if (ec) return singleError(path, "cannot read workload spec: " + ec.message());
    if (std::filesystem::is_directory(status)) return singleError(path, "cannot read workload spec: it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return singleError(path, std::string("cannot open workload spec: ") + std::strerror(errno));
    std::string text;
    std::array<char, 64 * 1024> buffer{};
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
      if (text.size() > kMaxSpecBytes) {
        return singleError(path, "the workload spec is larger than the limit of " + std::to_string(kMaxSpecBytes) + " bytes");
      }
    }
    if (in.bad()) return singleError(path, "error while reading the workload spec");
    return parseWorkloadSpec(text, path);
  } catch (const std::exception& e) {
    return singleError(path, std::string("internal error while reading the workload spec: ") + e.what());
  }
}

}  // namespace gatelab::sim::workload
