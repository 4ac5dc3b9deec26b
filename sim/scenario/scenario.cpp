// The scenario model's own functions: backend precedence, failure offsets, the expectation grammar.
#include "sim/scenario/scenario.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <span>
#include <system_error>

#include "gateway/config/suggest.hpp"

namespace gatelab::sim::scenario {

// ---- backends ---------------------------------------------------------------------------------

void BackendSettings::applyTo(BackendConfig& out) const {
  if (servers) out.servers = *servers;
  if (queueCapacity) out.queueCapacity = *queueCapacity;
  if (serviceTime) out.serviceTime = *serviceTime;
  if (errorProbability) out.errorProbability = *errorProbability;
  if (errorStatus) out.errorStatus = *errorStatus;
  if (okStatus) out.okStatus = *okStatus;
  if (refusalLatency) out.refusalLatency = *refusalLatency;
  if (onAbandon) out.onAbandon = *onAbandon;
}

const ServiceBackend* Backends::find(std::string_view service) const noexcept {
  for (const ServiceBackend& s : services) {
    if (s.service == service) return &s;
  }
  return nullptr;
}

BackendConfig Backends::backendFor(const std::string& service, const std::string& target, std::size_t index) const {
  BackendConfig out;
  out.service = service;
  out.target = target;
  defaults.applyTo(out);
  const ServiceBackend* s = find(service);
  if (s == nullptr) return out;
  s->settings.applyTo(out);
  const TargetBackend* byIndex = nullptr;
  for (const TargetBackend& t : s->targets) {
    if (!t.index && !t.target.empty() && t.target == target) {
      t.settings.applyTo(out);  // a URL key is the most specific
      return out;
    }
    if (t.index && *t.index == index && byIndex == nullptr) byIndex = &t;
  }
  if (byIndex != nullptr) byIndex->settings.applyTo(out);
  return out;
}

// ---- failures ---------------------------------------------------------------------------------

FailureSpec FailureTemplate::toFailureSpec(core::TimePoint runStart, const config::GatewayConfig* config) const {
  FailureSpec spec;
  spec.service = service;
  spec.target = target;
  if (targetIndex && config != nullptr) {
    if (const config::ServiceConfig* s = config->findService(service); s != nullptr && *targetIndex < s->targets.size()) {
      spec.target = s->targetSpecs()[*targetIndex].name;
    }
  }
  spec.start = runStart + at;
  spec.duration = duration;
  spec.effect = effect;
  spec.recovery = recovery;
  return spec;
}

// ---- scenario ---------------------------------------------------------------------------------

const Variant* Scenario::findVariant(std::string_view wanted) const noexcept {
  for (const Variant& v : variants) {
    if (v.name == wanted) return &v;
  }
  return nullptr;
}

std::vector<const Expectation*> Scenario::expectationsFor(std::string_view variant) const {
  std::vector<const Expectation*> out;
  for (const Expectation& e : expectations) {
    if (e.variant.empty() || e.variant == variant) out.push_back(&e);
  }
  return out;
}

std::vector<MetricWindow> Scenario::windows() const {
  std::vector<MetricWindow> out;
  for (const Expectation& e : expectations) {
    if (e.ref.window && std::find(out.begin(), out.end(), *e.ref.window) == out.end()) out.push_back(*e.ref.window);
  }
  return out;
}

// ---- expectations -----------------------------------------------------------------------------

const char* toString(Comparison op) noexcept {
  switch (op) {
    case Comparison::kLess: return "<";
    case Comparison::kLessEqual: return "<=";
    case Comparison::kGreater: return ">";
    case Comparison::kGreaterEqual: return ">=";
    case Comparison::kEqual: return "==";
  }
  return "?";
}

bool compare(double value, Comparison op, double threshold) noexcept {
  switch (op) {
    case Comparison::kLess: return value < threshold;
    case Comparison::kLessEqual: return value <= threshold;
    case Comparison::kGreater: return value > threshold;
    case Comparison::kGreaterEqual: return value >= threshold;
    case Comparison::kEqual: return value == threshold;
  }
  return false;
}

std::string Expectation::describe() const {
  return toString(ref) + " " + toString(op) + " " + formatMetricValue(metricInfo(ref.metric).unit, threshold);
}

namespace {

constexpr std::string_view kOperatorsAllowed = "<, <=, >, >=, ==";
constexpr std::string_view kGrammar =
    "METRIC[{route=R,service=S,policy=P}][[FROM,TO)] OP THRESHOLD, e.g. p99_latency{route=api} < 300ms";

bool isNameChar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == '/' || c == ':';
}

std::string metricNames() {
  std::string out;
  for (const MetricInfo& m : metricCatalogue()) {
    if (!out.empty()) out += ", ";
    out += m.name;
  }
  return out;
}

std::vector<std::string_view> metricNameList() {
  std::vector<std::string_view> out;
  for (const MetricInfo& m : metricCatalogue()) out.push_back(m.name);
  return out;
}

std::string labelNames(std::uint8_t labels) {
  std::string out;
  const auto add = [&out](std::string_view n) {
    if (!out.empty()) out += ", ";
    out += n;
  };
  if ((labels & kLabelRoute) != 0) add("route");
  if ((labels & kLabelService) != 0) add("service");
  if ((labels & kLabelPolicy) != 0) add("policy");
  return out.empty() ? "no labels" : out;
}

// A plain decimal number ("0.5", "17", "1e3"); nothing else.
std::optional<double> parseNumber(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string quoted(std::string_view s) { return "\"" + std::string(s.substr(0, 60)) + (s.size() > 60 ? "...\"" : "\""); }

struct Threshold {
  std::optional<double> value;
  std::string message;
  std::string allowed;
};

Threshold parseThreshold(const MetricInfo& info, std::string_view text) {
  Threshold t;
  const std::string metric(info.name);
  switch (info.unit) {
    case MetricUnit::kSeconds: {
      t.allowed = "a duration for " + metric + " (" + std::string(config::kDurationAllowed) + ")";
      if (parseNumber(text)) {
        t.message = metric + " is a latency: the threshold " + quoted(text) + " needs a unit such as ms or s";
        return t;
      }
      auto d = config::parseDuration(text);
      if (!d) {
        t.message = metric + " is a latency: " + quoted(text) + " is not a duration";
        return t;
      }
      t.value = static_cast<double>(d.value().count()) / 1e9;
      return t;
    }
    case MetricUnit::kShare: {
      t.allowed = "a percentage (1%, 0.1%) or a fraction from 0 to 1 for " + metric;
      if (!text.empty() && text.back() == '%') {
        auto p = config::parsePercent(text);
        if (!p) {
          t.message = "invalid percentage " + quoted(text);
          return t;
        }
        t.value = p.value() / 100.0;
        return t;
      }
      auto n = parseNumber(text);
      if (!n || *n < 0.0 || *n > 1.0) {
        t.message = metric + " is a share: " + quoted(text) + " is neither a percentage nor a fraction from 0 to 1";
        return t;
      }
      t.value = *n;
      return t;
    }
    case MetricUnit::kPerSecond: {
      t.allowed = "a rate for " + metric + ": N/s, N/min, N/h or a number per second";
      if (auto n = parseNumber(text); n && *n >= 0.0) {
        t.value = *n;
        return t;
      }
      auto r = config::parseRate(text);
      if (!r) {
        t.message = metric + " is a rate: " + quoted(text) + " is not a rate";
        return t;
      }
      t.value = r.value().perSecond();
      return t;
    }
    case MetricUnit::kCount: {
      t.allowed = "a number for " + metric + " (a count, no unit)";
      auto n = parseNumber(text);
      if (!n || *n < 0.0) {
        t.message = metric + " is a count: " + quoted(text) + " is not a number >= 0";
        return t;
      }
      t.value = *n;
      return t;
    }
    case MetricUnit::kRatio: {
      t.allowed = "a number or Nx for " + metric + " (a ratio, e.g. 1.25 or 1.25x)";
      std::string_view s = text;
      if (!s.empty() && (s.back() == 'x' || s.back() == 'X')) s.remove_suffix(1);
      auto n = parseNumber(s);
      if (!n || *n < 0.0) {
        t.message = metric + " is a ratio: " + quoted(text) + " is not a number >= 0";
        return t;
      }
      t.value = *n;
      return t;
    }
  }
  t.message = "unknown unit";
  return t;
}

class ExpectationParser {
 public:
  ExpectationParser(std::string_view text, ExpectationError* error) : s_(text), error_(error) {}

  std::optional<Expectation> parse() {
    Expectation e;
    e.text = std::string(s_);
    skipSpace();
    const std::size_t nameAt = pos_;
    while (pos_ < s_.size() && (isNameChar(s_[pos_]) && s_[pos_] != '.' && s_[pos_] != '/' && s_[pos_] != ':')) ++pos_;
    const std::string_view name = s_.substr(nameAt, pos_ - nameAt);
    if (name.empty()) return fail(nameAt, "expected a metric name at the start", metricNames());
    const MetricInfo* info = findMetric(name);
    if (info == nullptr) {
      const auto names = metricNameList();
      return fail(nameAt, "unknown metric " + quoted(name) + config::didYouMean(name, std::span<const std::string_view>(names)),
                  metricNames());
    }
    e.ref.metric = info->metric;
    skipSpace();
    if (peek() == '{' && !labels(*info, e.ref)) return std::nullopt;
    skipSpace();
    if (peek() == '[' && !window(e.ref)) return std::nullopt;
    skipSpace();
    const std::size_t opAt = pos_;
    if (!op(e.op)) {
      return fail(opAt, pos_ >= s_.size() ? "missing comparison after " + quoted(s_.substr(0, opAt))
                                         : "expected a comparison, got " + quoted(s_.substr(opAt)),
                  kOperatorsAllowed);
    }
    skipSpace();
    std::size_t end = s_.size();
    while (end > pos_ && (s_[end - 1] == ' ' || s_[end - 1] == '\t')) --end;
    const std::string_view thresholdText = s_.substr(pos_, end - pos_);
    if (thresholdText.empty()) {
      Threshold hint = parseThreshold(*info, "");
      return fail(pos_, "missing threshold after " + std::string(toString(e.op)), hint.allowed);
    }
    Threshold t = parseThreshold(*info, thresholdText);
    if (!t.value) return fail(pos_, t.message, t.allowed);
    e.threshold = *t.value;
    return e;
  }

 private:
  [[nodiscard]] char peek() const noexcept { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skipSpace() noexcept {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }

  std::nullopt_t fail(std::size_t at, std::string message, std::string_view allowed) {
    if (error_ != nullptr) *error_ = ExpectationError{std::move(message), std::string(allowed), std::min(at, s_.size())};
    return std::nullopt;
  }

  bool labels(const MetricInfo& info, MetricRef& ref) {
    ++pos_;  // '{'
    const std::string allowed = labelNames(info.labels) + " (route=NAME, service=NAME, policy=NAME)";
    while (true) {
      skipSpace();
      const std::size_t keyAt = pos_;
      while (pos_ < s_.size() && ((s_[pos_] >= 'a' && s_[pos_] <= 'z') || s_[pos_] == '_')) ++pos_;
      const std::string_view key = s_.substr(keyAt, pos_ - keyAt);
      std::uint8_t bit = 0;
      std::string* slot = nullptr;
      if (key == "route") {
        bit = kLabelRoute;
        slot = &ref.route;
      } else if (key == "service") {
        bit = kLabelService;
        slot = &ref.service;
      } else if (key == "policy") {
        bit = kLabelPolicy;
        slot = &ref.policy;
      } else {
        static constexpr std::array<std::string_view, 3> kLabels{"route", "service", "policy"};
        fail(keyAt, key.empty() ? "expected a label name" : "unknown label " + quoted(key) + config::didYouMean(key, kLabels),
             allowed);
        return false;
      }
      if ((info.labels & bit) == 0) {
        fail(keyAt, std::string(info.name) + " cannot be narrowed by " + std::string(key), labelNames(info.labels));
        return false;
      }
      if (!slot->empty()) {
        fail(keyAt, "label " + std::string(key) + " given twice", "each label at most once");
        return false;
      }
      skipSpace();
      if (peek() != '=') {
        fail(pos_, "expected '=' after " + std::string(key), allowed);
        return false;
      }
      ++pos_;
      skipSpace();
      const std::size_t valueAt = pos_;
      while (pos_ < s_.size() && isNameChar(s_[pos_])) ++pos_;
      if (pos_ == valueAt) {
        fail(valueAt, "expected a name after " + std::string(key) + "=", "a route, service or policy name");
        return false;
      }
      *slot = std::string(s_.substr(valueAt, pos_ - valueAt));
      skipSpace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      fail(pos_, pos_ >= s_.size() ? "missing '}'" : "expected ',' or '}', got " + quoted(s_.substr(pos_, 1)), allowed);
      return false;
    }
  }

  std::optional<core::Duration> duration(char stop) {
    skipSpace();
    const std::size_t at = pos_;
    while (pos_ < s_.size() && s_[pos_] != stop && s_[pos_] != ')' && s_[pos_] != ']' && s_[pos_] != ' ') ++pos_;
    const std::string_view text = s_.substr(at, pos_ - at);
    auto d = config::parseDuration(text);
    if (!d) {
      fail(at, "invalid window bound " + quoted(text) + ": " + d.error().message, config::kDurationAllowed);
      return std::nullopt;
    }
    skipSpace();
    return d.value();
  }

  bool window(MetricRef& ref) {
    const std::size_t openAt = pos_;
    ++pos_;  // '['
    auto from = duration(',');
    if (!from) return false;
    if (peek() != ',') {
      fail(pos_, "expected ',' between the window bounds", "[FROM, TO) as offsets from the run start, e.g. [2m, 3m)");
      return false;
    }
    ++pos_;
    auto to = duration(')');
    if (!to) return false;
    if (peek() != ')' && peek() != ']') {
      fail(pos_, "expected ')' to close the window", "[FROM, TO) as offsets from the run start, e.g. [2m, 3m)");
      return false;
    }
    ++pos_;
    if (*from >= *to) {
      fail(openAt, "the window is empty: from " + core::formatDuration(*from) + " is not before to " + core::formatDuration(*to),
           "[FROM, TO) with FROM < TO");
      return false;
    }
    ref.window = MetricWindow{*from, *to};
    return true;
  }

  bool op(Comparison& out) {
    const auto take = [this](std::string_view tok) {
      if (s_.substr(pos_, tok.size()) != tok) return false;
      pos_ += tok.size();
      return true;
    };
    if (take("<=")) out = Comparison::kLessEqual;
    else if (take(">=")) out = Comparison::kGreaterEqual;
    else if (take("==")) out = Comparison::kEqual;
    else if (take("<")) out = Comparison::kLess;
    else if (take(">")) out = Comparison::kGreater;
    else return false;
    return true;
  }

  std::string_view s_;
  ExpectationError* error_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<Expectation> parseExpectation(std::string_view text, ExpectationError* error) {
  if (text.empty()) {
    if (error != nullptr) *error = ExpectationError{"empty expectation", std::string(kGrammar), 0};
    return std::nullopt;
  }
  return ExpectationParser(text, error).parse();
}

}  // namespace gatelab::sim::scenario
