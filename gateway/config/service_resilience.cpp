// A service's resilience keys: timeout / timeouts, retries, circuit_breaker, outlier_detection,
// load_balancer, health_checks. Each section builds the core's config struct (Timeouts,
// RetryConfig + RetryBudgetConfig, BreakerConfig, OutlierConfig, LbConfig); then the rules between
// sections and the service's targets run, and last the core's own validate functions, so a config
// that loads always builds (runtime.cpp).
//
// As in the rate-limit builder, a setting that could never have an effect is an error naming the
// setting that prevents it and where that one is written ("(at 12:7)") or that it is a default:
// a breaker with no trip condition, a connect timeout longer than the try containing it, a key
// the chosen mode does not read, weights a balancer ignores.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>

#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"
#include "gateway/config/units.hpp"

namespace gatelab::config::detail {
namespace {

namespace res = core::resilience;
using core::Duration;
using core::formatDuration;
using res::Percent;

// Allowed keys, in documentation order.
constexpr std::array<std::string_view, 3> kTimeoutsKeys{"connect", "per_try", "overall"};
constexpr std::array<std::string_view, 7> kRetriesKeys{"attempts",          "on",          "backoff", "non_idempotent",
                                                       "honor_retry_after", "max_retry_after", "budget"};
constexpr std::array<std::string_view, 2> kBackoffKeys{"base", "max"};
constexpr std::array<std::string_view, 2> kBudgetKeys{"percent", "min_concurrency"};
constexpr std::array<std::string_view, 17> kBreakerKeys{
    "consecutive_failures", "failure_rate", "slow_call_rate",      "slow_call_duration", "window",
    "window_bucket",        "minimum_calls", "open_for",           "open_for_multiplier", "max_open_for",
    "half_open_calls",      "half_open_successes", "half_open_max_wait", "failure_on",    "mode",
    "fallback",             "per_target"};
constexpr std::array<std::string_view, 3> kTripKeys{"consecutive_failures", "failure_rate", "slow_call_rate"};
constexpr std::array<std::string_view, 3> kFallbackKeys{"status", "headers", "body"};
constexpr std::array<std::string_view, 7> kOutlierKeys{"consecutive_5xx",      "consecutive_gateway_failure",
                                                       "base_ejection_time",   "max_ejection_time",
                                                       "max_ejection_percent", "always_eject_one",
                                                       "interval"};
constexpr std::array<std::string_view, 4> kLoadBalancerKeys{"algorithm", "hash_on", "ring_replicas", "panic_threshold"};
constexpr std::array<std::string_view, 5> kHealthCheckKeys{"path", "interval", "timeout", "healthy_threshold",
                                                           "unhealthy_threshold"};

// The core's bounds (its validate functions check the same; the config reports them per field).
constexpr Duration kMaxLong = std::chrono::hours{24 * 365};  // open periods, ejections, waits
constexpr Duration kMaxBackoff = std::chrono::hours{1};
constexpr std::int64_t kMaxRetries = 100;
constexpr std::int64_t kMaxCount = 1'000'000;  // windows, thresholds, concurrency
constexpr std::int64_t kMaxProbes = 10'000;
constexpr std::int64_t kMaxMultiplier = 100;
constexpr std::int64_t kMaxRingReplicas = 10'000;
constexpr std::int64_t kMaxThreshold = 1'000;
constexpr std::size_t kMaxFallbackBody = 64 * 1024;
constexpr std::size_t kMaxFallbackHeaders = 64;
constexpr std::uint32_t kDefaultMinimumCalls = 100;  // resilience4j minimumNumberOfCalls

constexpr std::string_view kOutcomesAllowed =
    "a non-empty list of connect-failure, gateway-error (502, 503, 504), 5xx, timeout, reset, or HTTP statuses "
    "400-599";
constexpr std::string_view kWindowAllowed = "a number of calls from 1 to 1000000 (window: 20), or a duration (window: 60s)";
constexpr std::string_view kAlgorithmsAllowed = "round_robin, weighted, weighted_random, least_request, consistent_hash";
constexpr std::string_view kHashOnAllowed = "ip, or header:NAME";

enum class OutcomeName : std::uint8_t { kConnectFailure, kGatewayError, k5xx, kTimeout, kReset };
constexpr std::array<EnumName<OutcomeName>, 5> kOutcomeNames{{{"connect-failure", OutcomeName::kConnectFailure},
                                                              {"gateway-error", OutcomeName::kGatewayError},
                                                              {"5xx", OutcomeName::k5xx},
                                                              {"timeout", OutcomeName::kTimeout},
                                                              {"reset", OutcomeName::kReset}}};

constexpr std::array<EnumName<BreakerMode>, 4> kModes{{{"enforce", BreakerMode::kEnforce},
                                                       {"dry_run", BreakerMode::kDryRun},
                                                       {"forced_open", BreakerMode::kForcedOpen},
                                                       {"disabled", BreakerMode::kDisabled}}};

constexpr std::array<EnumName<res::LbAlgorithm>, 5> kAlgorithms{{
    {"round_robin", res::LbAlgorithm::kRoundRobin},
    {"weighted", res::LbAlgorithm::kWeightedRoundRobin},
    {"weighted_random", res::LbAlgorithm::kWeightedRandom},
    {"least_request", res::LbAlgorithm::kLeastRequest},
    {"consistent_hash", res::LbAlgorithm::kConsistentHash},
}};

// ---- small helpers ----------------------------------------------------------------------------

// " (at 12:7)" for a written value, " (the default)" otherwise: where the other setting of a
// cross-field message comes from.
std::string origin(const std::optional<Node>& written) {
  return written ? " (at " + at(written->mark) + ")" : " (the default)";
}

// The value as the user wrote it ("1500ms"), or its canonical text when defaulted.
std::string shown(const std::optional<Node>& written, const std::string& canonical) {
  return written && written->yaml.IsScalar() ? written->yaml.Scalar() : canonical;
}

std::optional<Duration> readDurationIn(Sink& sink, const Node& node, Duration min, std::string_view allowed) {
  auto d = readDuration(sink, node);
  if (!d) return std::nullopt;
  if (*d < min) {
    sink.error(node.mark, node.path, min.count() > 0 ? "must be longer than zero" : "must not be negative",
               std::string(allowed));
    return std::nullopt;
  }
  return d;
}

std::optional<Duration> readDurationUpTo(Sink& sink, const Node& node, Duration min, Duration max,
                                         std::string_view allowed) {
  auto d = readDurationIn(sink, node, min, allowed);
  if (d && *d > max) {
    sink.error(node.mark, node.path, node.yaml.Scalar() + " is too long; at most " + formatDuration(max),
               std::string(allowed));
    return std::nullopt;
  }
  return d;
}

// Reports that `key` has no effect in this mapping's configuration.
void notUsed(Sink& sink, const Mapping& m, std::string_view key, const std::string& why, std::string allowed) {
  sink.error(m.keyMark(key), childPath(m.self().path, key), std::string(key) + " " + why, std::move(allowed));
}

std::uint32_t u32(std::int64_t v) { return static_cast<std::uint32_t>(v); }

// ---- outcome lists (retries.on, circuit_breaker.failure_on) -----------------------------------

struct OutcomeSet {
  bool connectFailure = false;
  bool gatewayError = false;
  bool serverErrors = false;
  bool timeout = false;
  bool reset = false;
  res::StatusSet statuses;
  std::optional<Node> timeoutItem;  ///< where `timeout` is listed (cross-field rules)
};

std::optional<OutcomeSet> readOutcomes(Sink& sink, const Node& node) {
  auto items = readList(sink, node, kOutcomesAllowed);
  if (!items) return std::nullopt;
  const std::size_t before = sink.count();
  OutcomeSet set;
  std::map<std::string, Node, std::less<>> seen;  // canonical item -> where first listed
  std::optional<Node> gatewayItem;
  std::optional<Node> serverItem;
  std::vector<std::pair<std::uint16_t, Node>> statuses;
  for (const Node& item : *items) {
    auto text = readString(sink, item, kOutcomesAllowed);
    if (!text) continue;
    const bool digits = std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; });
    std::string canonical = *text;
    if (digits) {
      const int status = text->size() <= 3 ? std::stoi(*text) : 0;
      if (status < 400 || status > 599) {
        sink.error(item.mark, item.path, "status " + text->substr(0, 10) + " is not an error status",
                   std::string(kOutcomesAllowed));
        continue;
      }
      canonical = std::to_string(status);
    }
    if (auto first = seen.find(canonical); first != seen.end()) {
      sink.error(item.mark, item.path, "duplicate " + inQuotes(*text) + "; first listed at " + at(first->second.mark),
                 std::string(kOutcomesAllowed));
      continue;
    }
    seen.emplace(canonical, item);
    if (digits) {
      statuses.emplace_back(static_cast<std::uint16_t>(std::stoi(canonical)), item);
      continue;
    }
    std::optional<OutcomeName> name;
    for (const auto& e : kOutcomeNames) {
      if (e.name == *text) name = e.value;
    }
    if (!name) {
      std::array<std::string_view, kOutcomeNames.size()> names{};
      for (std::size_t i = 0; i < names.size(); ++i) names[i] = kOutcomeNames[i].name;
      sink.error(item.mark, item.path,
                 "unknown outcome " + inQuotes(*text) + didYouMean(*text, std::span<const std::string_view>(names)),
                 std::string(kOutcomesAllowed));
      continue;
    }
    switch (*name) {
      case OutcomeName::kConnectFailure: set.connectFailure = true; break;
      case OutcomeName::kGatewayError:
        set.gatewayError = true;
        gatewayItem = item;
        break;
      case OutcomeName::k5xx:
        set.serverErrors = true;
        serverItem = item;
        break;
      case OutcomeName::kTimeout:
        set.timeout = true;
        set.timeoutItem = item;
        break;
      case OutcomeName::kReset: set.reset = true; break;
    }
  }
  // Items another item already covers: harmless to the core, but a sign of a misread list.
  if (gatewayItem && serverItem) {
    sink.error(gatewayItem->mark, gatewayItem->path,
               "gateway-error (502, 503, 504) is already included in 5xx (at " + at(serverItem->mark) + ")",
               std::string(kOutcomesAllowed));
  }
  for (const auto& [status, item] : statuses) {
    if (serverItem && status >= 500) {
      sink.error(item.mark, item.path,
                 std::to_string(status) + " is already included in 5xx (at " + at(serverItem->mark) + ")",
                 std::string(kOutcomesAllowed));
    } else if (gatewayItem && (status == 502 || status == 503 || status == 504)) {
      sink.error(item.mark, item.path,
                 std::to_string(status) + " is already included in gateway-error (at " + at(gatewayItem->mark) + ")",
                 std::string(kOutcomesAllowed));
    } else {
      set.statuses.add(status);
    }
  }
  if (sink.count() != before) return std::nullopt;
  return set;
}

// ---- timeout / timeouts -----------------------------------------------------------------------

struct TimeoutsDraft {
  res::Timeouts value = kDefaultTimeouts;
  std::optional<Node> connect;  ///< written (and valid)
  std::optional<Node> perTry;   ///< written: timeouts.per_try or the `timeout` shorthand
  std::optional<Node> overall;
  bool valid = true;
};

TimeoutsDraft readTimeouts(Sink& sink, const Mapping& service) {
  TimeoutsDraft d;
  const std::size_t before = sink.count();
  const auto shorthand = service.get("timeout");
  const auto full = service.get("timeouts");
  if (shorthand && full) {
    sink.error(service.keyMark("timeouts"), full->path,
               "timeout and timeouts cannot be combined: timeout is shorthand for timeouts.per_try",
               "either timeout: DURATION (the per-try timeout), or timeouts: {connect, per_try, overall}");
    d.valid = false;
    return d;
  }
  if (shorthand) {
    if (auto t = readPositiveDuration(sink, *shorthand)) {
      d.value.perTry = *t;
      d.perTry = *shorthand;
    }
  } else if (full) {
    if (auto m = Mapping::open(sink, *full, kTimeoutsKeys, "the timeouts")) {
      constexpr std::string_view kAllowed = "a duration >= 0s; 0s means no limit";
      auto read = [&](std::string_view key, Duration& out, std::optional<Node>& where) {
        if (auto n = m->get(key)) {
          if (auto v = readDurationIn(sink, *n, Duration{0}, kAllowed)) {
            out = *v;
            where = *n;
          }
        }
      };
      read("connect", d.value.connect, d.connect);
      read("per_try", d.value.perTry, d.perTry);
      read("overall", d.value.overall, d.overall);
    }
  }
  if (sink.count() != before) {
    d.valid = false;
    return d;
  }

  res::Timeouts& t = d.value;
  const std::string perTryName = shorthand ? "timeout" : "timeouts.per_try";
  // Defaults shrink to fit the limits that contain them: per_try to overall (Envoy's per-try
  // timeout defaults to the route timeout), connect to the try.
  if (!d.perTry && t.overall > Duration{0} && t.perTry > t.overall) t.perTry = t.overall;
  if (!d.connect) {
    if (t.perTry > Duration{0}) t.connect = std::min(t.connect, t.perTry);
    if (t.overall > Duration{0}) t.connect = std::min(t.connect, t.overall);
  }

  if (t.perTry == Duration{0} && t.overall == Duration{0}) {
    sink.error(d.perTry->mark, d.perTry->path,
               "per_try 0s and overall 0s" + origin(d.overall) +
                   " both mean no limit: a request to a hung upstream would wait forever",
               "a per_try or an overall timeout above 0s");
    d.valid = false;
  }
  if (t.overall > Duration{0} && t.perTry > t.overall) {  // per_try is written here: a default shrinks
    sink.error(d.perTry->mark, d.perTry->path,
               "per_try " + shown(d.perTry, formatDuration(t.perTry)) + " exceeds overall " +
                   shown(d.overall, formatDuration(t.overall)) + origin(d.overall) +
                   "; the overall timeout covers every try, so it would always end the try first",
               "per_try <= overall");
    d.valid = false;
  }
  if (d.connect && t.connect > Duration{0}) {
    const bool byTry = t.perTry > Duration{0} && t.connect > t.perTry;
    const bool byOverall = !byTry && t.overall > Duration{0} && t.connect > t.overall;
    if (byTry || byOverall) {
      const std::string other = byTry ? perTryName + " " + shown(d.perTry, formatDuration(t.perTry)) + origin(d.perTry) +
                                            " ends every try first"
                                      : "timeouts.overall " + shown(d.overall, formatDuration(t.overall)) +
                                            origin(d.overall) + " ends every request first";
      sink.error(d.connect->mark, d.connect->path,
                 "connect " + shown(d.connect, formatDuration(t.connect)) + " can never fire: " + other,
                 "connect <= per_try <= overall (0s: no separate limit)");
      d.valid = false;
    }
  }
  return d;
}

// ---- retries ----------------------------------------------------------------------------------

struct RetriesDraft {
  std::optional<RetriesConfig> value;
  std::optional<Node> timeoutItem;  ///< `timeout` in retries.on
};

RetriesDraft readRetries(Sink& sink, const Node& node) {
  RetriesDraft draft;
  auto m = Mapping::open(sink, node, kRetriesKeys, "the retries");
  if (!m) return draft;
  const std::size_t before = sink.count();
  RetriesConfig out;
  res::RetryConfig& c = out.policy;

  if (auto n = m->require(sink, "attempts", "an integer from 0 to 100: retries after the first try")) {
    if (auto v = readInt(sink, *n, 0, kMaxRetries)) c.maxRetries = u32(*v);
  }
  if (auto n = m->get("on")) {
    if (auto set = readOutcomes(sink, *n)) {
      c.on = res::RetryOn{set->connectFailure, set->gatewayError, set->serverErrors, set->timeout, set->reset,
                          set->statuses};
      draft.timeoutItem = set->timeoutItem;
    }
  }
  if (auto n = m->get("backoff")) {
    if (auto b = Mapping::open(sink, *n, kBackoffKeys, "the back-off")) {
      const auto baseNode = b->get("base");
      const auto maxNode = b->get("max");
      constexpr std::string_view kAllowed = "a duration from 0s (no back-off) to 1h";
      std::optional<Duration> base;
      std::optional<Duration> max;
      if (baseNode) base = readDurationUpTo(sink, *baseNode, Duration{0}, kMaxBackoff, kAllowed);
      if (maxNode) max = readDurationUpTo(sink, *maxNode, Duration{1}, kMaxBackoff, "a duration from 1ns to 1h");
      if (base) c.backoff.base = *base;
      if (max) {
        c.backoff.max = *max;
      } else if (base) {
        c.backoff.max = std::min(*base * 10, kMaxBackoff);  // Envoy: max_interval defaults to 10 x base
      }
      if (maxNode && max && base && *base == Duration{0}) {
        notUsed(sink, *b, "max", "has no effect without a back-off (base 0s retries at once)",
                "a base above 0s, or no max");
      } else if (max && (!baseNode || base) && c.backoff.base > *max) {
        sink.error(maxNode->mark, maxNode->path,
                   "max " + maxNode->yaml.Scalar() + " is below base " +
                       shown(baseNode, formatDuration(c.backoff.base)) + origin(baseNode) +
                       "; every back-off would be cut to max",
                   "max >= base");
      }
    }
  }
  if (auto n = m->get("non_idempotent")) c.retryNonIdempotent = readBool(sink, *n).value_or(false);
  if (auto n = m->get("honor_retry_after")) c.honorRetryAfter = readBool(sink, *n).value_or(true);
  if (auto n = m->get("max_retry_after")) {
    if (!c.honorRetryAfter && m->has("honor_retry_after")) {
      notUsed(sink, *m, "max_retry_after", "has no effect with honor_retry_after: false",
              "honor_retry_after: true, or no max_retry_after");
    } else if (auto d = readDurationUpTo(sink, *n, Duration{0}, kMaxLong, "a duration from 0s to 365d")) {
      c.maxRetryAfter = *d;
    }
  }
  if (auto n = m->get("budget")) {
    if (auto b = Mapping::open(sink, *n, kBudgetKeys, "the retry budget")) {
      if (auto p = b->get("percent")) out.budget.percent = readPercent(sink, *p).value_or(out.budget.percent);
      if (auto mc = b->get("min_concurrency")) {
        if (auto v = readInt(sink, *mc, 0, kMaxCount)) out.budget.minConcurrency = u32(*v);
      }
      if (b->has("percent") && b->has("min_concurrency") && out.budget.percent.milli == 0 &&
          out.budget.minConcurrency == 0) {
        sink.error(n->mark, n->path, "a budget of 0% with min_concurrency 0 never allows a retry",
                   "percent above 0% or min_concurrency above 0 (or attempts: 0 to turn retries off)");
      }
    }
  }
  if (sink.count() == before) draft.value = out;
  return draft;
}

// ---- circuit_breaker --------------------------------------------------------------------------

std::optional<std::vector<res::FallbackHeader>> readFallbackHeaders(Sink& sink, const Node& node) {
  constexpr std::string_view kAllowed = "a mapping of header names to values, e.g. {Content-Type: application/json}";
  if (!node.yaml.IsMap()) {
    sink.error(node.mark, node.path, "expected a mapping, got " + describe(node.yaml), std::string(kAllowed));
    return std::nullopt;
  }
  const std::size_t before = sink.count();
  std::vector<res::FallbackHeader> out;
  std::vector<Mark> marks;
  for (auto it = node.yaml.begin(); it != node.yaml.end(); ++it) {
    const YAML::Node key = it->first;
    const Mark keyMark = markOf(key, node.mark);
    if (!key.IsScalar()) {
      sink.error(keyMark, node.path, "a header name must be a string, got " + describe(key), std::string(kAllowed));
      continue;
    }
    const std::string& name = key.Scalar();
    const Node value{it->second, childPath(node.path, name), markOf(it->second, keyMark)};
    if (!isToken(name)) {
      sink.error(keyMark, value.path, "invalid header name " + inQuotes(name), std::string(kTokenAllowed));
      continue;
    }
    const std::string lower = toLowerAscii(name);
    if (lower == "content-length" || lower == "transfer-encoding" || lower == "connection") {
      sink.error(keyMark, value.path, name + " is set by the gateway from the body; it cannot be configured",
                 "any other header");
      continue;
    }
    bool duplicate = false;
    for (std::size_t i = 0; i < out.size() && !duplicate; ++i) {
      if (toLowerAscii(out[i].name) == lower) {
        sink.error(keyMark, value.path,
                   "duplicate header " + inQuotes(name) + " (names are case-insensitive); first at " + at(marks[i]),
                   "each header once");
        duplicate = true;
      }
    }
    if (duplicate) continue;
    auto text = readString(sink, value, "a header value on one line", /*allowEmpty=*/true);
    if (!text) continue;
    if (text->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      sink.error(value.mark, value.path, "a header value cannot contain line breaks or NUL", "a header value on one line");
      continue;
    }
    out.push_back(res::FallbackHeader{name, *text});
    marks.push_back(keyMark);
  }
  if (out.size() > kMaxFallbackHeaders) {
    sink.error(node.mark, node.path, std::to_string(out.size()) + " headers; at most " +
                                         std::to_string(kMaxFallbackHeaders), std::string(kAllowed));
  }
  if (sink.count() != before) return std::nullopt;
  return out;
}

std::optional<res::FallbackResponse> readFallback(Sink& sink, const Node& node) {
  auto m = Mapping::open(sink, node, kFallbackKeys, "the fallback response");
  if (!m) return std::nullopt;
  const std::size_t before = sink.count();
  res::FallbackResponse f;
  if (auto n = m->get("status")) {
    if (auto s = readInt(sink, *n, 200, 599)) f.status = static_cast<std::uint16_t>(*s);
  }
  if (auto n = m->get("headers")) {
    if (auto h = readFallbackHeaders(sink, *n)) f.headers = std::move(*h);
  }
  if (auto n = m->get("body")) {
    if (auto b = readString(sink, *n, "a string of at most 64 KiB", /*allowEmpty=*/true)) {
      if (b->size() > kMaxFallbackBody) {
        sink.error(n->mark, n->path, "the body is " + std::to_string(b->size()) + " bytes; at most 65536",
                   "a string of at most 64 KiB");
      } else {
        f.body = std::move(*b);
      }
    }
  }
  if (sink.count() != before) return std::nullopt;
  return f;
}

struct BreakerDraft {
  std::optional<CircuitBreakerConfig> value;
  std::optional<Node> slowCallDuration;
};

// `window:` is a number of calls or a duration.
void readWindow(Sink& sink, const Node& n, res::BreakerConfig& c) {
  if (isUnsignedInteger(n.yaml)) {
    if (auto v = readInt(sink, n, 1, kMaxCount)) {
      c.window = res::WindowKind::kCount;
      c.windowSize = u32(*v);
    }
    return;
  }
  if (!n.yaml.IsScalar()) {
    sink.error(n.mark, n.path, "expected a number of calls or a duration, got " + describe(n.yaml),
               std::string(kWindowAllowed));
    return;
  }
  auto d = parseDuration(n.yaml.Scalar());
  if (!d) {
    sink.error(n.mark, n.path,
               "invalid window " + inQuotes(n.yaml.Scalar()) +
                   ": expected a number of calls (count window) or a duration (time window)",
               std::string(kWindowAllowed));
    return;
  }
  if (d.value() <= Duration{0}) {
    sink.error(n.mark, n.path, "a time window must be longer than zero", std::string(kWindowAllowed));
    return;
  }
  c.window = res::WindowKind::kTime;
  c.windowDuration = d.value();
}

BreakerDraft readBreaker(Sink& sink, const Node& node) {
  BreakerDraft draft;
  auto m = Mapping::open(sink, node, kBreakerKeys, "a circuit_breaker");
  if (!m) return draft;
  const std::size_t before = sink.count();
  CircuitBreakerConfig out;
  res::BreakerConfig& c = out.breaker;
  c.failureRate.reset();  // no implied trip condition: each one is written (docs/config-reference.md)

  // Trip conditions.
  constexpr std::string_view kRateAllowed = "a percentage above 0% and at most 100%, e.g. 50%";
  auto readTripRate = [&](std::string_view key, std::optional<Percent>& rate) {
    auto n = m->get(key);
    if (!n) return;
    auto p = readPercent(sink, *n);
    if (!p) return;
    if (p->milli == 0) {
      sink.error(n->mark, n->path, std::string(key) + " 0% would be reached by any call and trip at once",
                 std::string(kRateAllowed));
      return;
    }
    rate = *p;
  };
  if (auto n = m->get("consecutive_failures")) {
    if (auto v = readInt(sink, *n, 1, kMaxCount)) c.consecutiveFailures = u32(*v);
  }
  readTripRate("failure_rate", c.failureRate);
  readTripRate("slow_call_rate", c.slowCallRate);
  const bool anyTrip = std::any_of(kTripKeys.begin(), kTripKeys.end(), [&](std::string_view k) { return m->has(k); });
  const bool misspelledTrip =
      std::any_of(kTripKeys.begin(), kTripKeys.end(), [&](std::string_view k) { return m->misspelled(k); });
  if (!anyTrip && !misspelledTrip) {
    sink.error(node.mark, node.path,
               "the breaker can never trip: no trip condition (consecutive_failures, failure_rate, slow_call_rate)",
               "at least one of consecutive_failures, failure_rate, slow_call_rate, e.g. {consecutive_failures: 5} "
               "or {failure_rate: 50%, window: 20, minimum_calls: 10}");
  }

  // Slow calls.
  const auto slowDuration = m->get("slow_call_duration");
  if (slowDuration && !m->has("slow_call_rate")) {
    notUsed(sink, *m, "slow_call_duration", "is only used with slow_call_rate", "slow_call_rate: X% with it, or neither");
  } else if (slowDuration) {
    if (auto d = readPositiveDuration(sink, *slowDuration)) {
      c.slowCallDuration = *d;
      draft.slowCallDuration = *slowDuration;
    }
  } else if (m->has("slow_call_rate") && !m->misspelled("slow_call_duration")) {
    sink.error(node.mark, childPath(node.path, "slow_call_duration"),
               "missing slow_call_duration: slow_call_rate (at " + at(m->keyMark("slow_call_rate")) +
                   ") needs the latency above which a call is slow",
               "a positive duration, e.g. slow_call_duration: 2s");
  }

  // The window the rates are computed over.
  const bool rates = m->has("failure_rate") || m->has("slow_call_rate");
  const std::string rateOnly = "is only used by failure_rate and slow_call_rate";
  const std::string rateOnlyAllowed = "failure_rate or slow_call_rate with it, or no ";
  const auto windowNode = m->get("window");
  const auto bucketNode = m->get("window_bucket");
  const auto minimumNode = m->get("minimum_calls");
  bool windowOk = true;
  if (windowNode) {
    if (!rates) {
      notUsed(sink, *m, "window", rateOnly, rateOnlyAllowed + "window");
    } else {
      const std::size_t mark = sink.count();
      readWindow(sink, *windowNode, c);
      windowOk = sink.count() == mark;
    }
  }
  if (bucketNode) {
    if (!rates) {
      notUsed(sink, *m, "window_bucket", rateOnly, rateOnlyAllowed + "window_bucket");
    } else if (windowOk && c.window == res::WindowKind::kCount) {
      notUsed(sink, *m, "window_bucket",
              "is only used by a time window; window " + shown(windowNode, "100") + origin(windowNode) +
                  " counts calls",
              "window: DURATION (e.g. 60s) with window_bucket, or no window_bucket");
    } else if (auto b = readPositiveDuration(sink, *bucketNode)) {
      c.bucketWidth = *b;
    } else {
      windowOk = false;
    }
  }
  if (rates && windowOk && c.window == res::WindowKind::kTime) {
    const Node& win = windowNode.value();  // a time window is always written
    if (c.windowDuration < c.bucketWidth || c.windowDuration % c.bucketWidth != Duration{0}) {
      sink.error(win.mark, win.path,
                 "window " + win.yaml.Scalar() + " is not a whole number of buckets of " +
                     shown(bucketNode, formatDuration(c.bucketWidth)) + origin(bucketNode),
                 "a multiple of window_bucket (default 1s), e.g. window: 60s");
    } else if (c.windowDuration / c.bucketWidth > 3600) {
      // Reported at the bucket when it is written (the usual fix), else at the window.
      const Node& where = bucketNode ? *bucketNode : win;
      sink.error(where.mark, where.path,
                 "window " + win.yaml.Scalar() + (bucketNode ? " (at " + at(win.mark) + ")" : std::string{}) +
                     " holds " + std::to_string(c.windowDuration / c.bucketWidth) + " buckets of " +
                     shown(bucketNode, formatDuration(c.bucketWidth)) +
                     (bucketNode ? std::string{} : std::string(" (the default)")) + "; at most 3600",
                 "a window_bucket of at least window / 3600");
    }
  }
  if (minimumNode) {
    if (!rates) {
      notUsed(sink, *m, "minimum_calls", rateOnly, rateOnlyAllowed + "minimum_calls");
    } else if (auto v = readInt(sink, *minimumNode, 1, kMaxCount)) {
      c.minimumCalls = u32(*v);
      if (windowOk && c.window == res::WindowKind::kCount && c.minimumCalls > c.windowSize) {
        sink.error(minimumNode->mark, minimumNode->path,
                   "minimum_calls " + std::to_string(c.minimumCalls) + " exceeds the window of " +
                       std::to_string(c.windowSize) + " calls" + origin(windowNode) +
                       "; the rates would never be evaluated",
                   "minimum_calls <= window for a count window");
      }
    }
  } else if (c.window == res::WindowKind::kCount) {
    c.minimumCalls = std::min(kDefaultMinimumCalls, c.windowSize);  // resilience4j caps it the same way
  } else {
    c.minimumCalls = kDefaultMinimumCalls;
  }

  // Open.
  const auto openNode = m->get("open_for");
  const auto multNode = m->get("open_for_multiplier");
  const auto maxOpenNode = m->get("max_open_for");
  bool openOk = true;
  if (openNode) {
    if (auto d = readDurationUpTo(sink, *openNode, Duration{1}, kMaxLong, "a duration from 1ns to 365d")) {
      c.openFor = *d;
    } else {
      openOk = false;
    }
  }
  if (multNode) {
    if (auto v = readInt(sink, *multNode, 1, kMaxMultiplier)) {
      c.openForMultiplier = u32(*v);
    } else {
      openOk = false;
    }
  }
  if (maxOpenNode) {
    if (openOk && c.openForMultiplier <= 1) {
      notUsed(sink, *m, "max_open_for",
              "caps a growing open period; it is only used with open_for_multiplier above 1",
              "open_for_multiplier: 2 (or more) with it, or no max_open_for");
      openOk = false;
    } else if (auto d = readDurationUpTo(sink, *maxOpenNode, Duration{1}, kMaxLong, "a duration from 1ns to 365d")) {
      c.maxOpenFor = *d;
    } else {
      openOk = false;
    }
  }
  if (openOk && c.openForMultiplier > 1 && c.maxOpenFor < c.openFor) {
    const std::string open = shown(openNode, formatDuration(c.openFor));
    if (maxOpenNode) {
      sink.error(maxOpenNode->mark, maxOpenNode->path,
                 "max_open_for " + maxOpenNode->yaml.Scalar() + " is shorter than open_for " + open + origin(openNode),
                 "max_open_for >= open_for");
    } else {
      sink.error(openNode->mark, openNode->path,
                 "open_for " + open + " exceeds max_open_for " + formatDuration(c.maxOpenFor) +
                     " (the default), the cap of the growing open period",
                 "open_for <= max_open_for; set max_open_for");
    }
  }

  // Half-open.
  const auto probesNode = m->get("half_open_calls");
  const auto successesNode = m->get("half_open_successes");
  bool probesOk = true;
  if (probesNode) {
    if (auto v = readInt(sink, *probesNode, 1, kMaxProbes)) {
      c.halfOpenProbes = u32(*v);
    } else {
      probesOk = false;
    }
  }
  c.halfOpenSuccesses = c.halfOpenProbes;
  if (successesNode) {
    if (auto v = readInt(sink, *successesNode, 1, kMaxProbes)) {
      c.halfOpenSuccesses = u32(*v);
      if (probesOk && c.halfOpenSuccesses > c.halfOpenProbes) {
        sink.error(successesNode->mark, successesNode->path,
                   "half_open_successes " + std::to_string(c.halfOpenSuccesses) + " exceeds half_open_calls " +
                       std::to_string(c.halfOpenProbes) + origin(probesNode) + ": only " +
                       std::to_string(c.halfOpenProbes) +
                       " probes are admitted per half-open period, so the breaker could never close",
                   "1 <= half_open_successes <= half_open_calls");
      }
    }
  }
  if (auto n = m->get("half_open_max_wait")) {
    if (auto d = readDurationUpTo(sink, *n, Duration{0}, kMaxLong, "a duration from 0s (off) to 365d")) {
      c.halfOpenMaxWait = *d;
    }
  }

  // What fails, what to answer, how it runs.
  if (auto n = m->get("failure_on")) {
    if (auto set = readOutcomes(sink, *n)) {
      c.classifier = res::FailureClassifier{set->serverErrors, set->statuses, set->connectFailure, set->timeout,
                                            set->reset};
      if (set->gatewayError) {
        c.classifier.statuses.add(502);
        c.classifier.statuses.add(503);
        c.classifier.statuses.add(504);
      }
    }
  }
  if (auto n = m->get("mode")) out.mode = readEnum(sink, *n, kModes).value_or(out.mode);
  c.dryRun = out.mode == BreakerMode::kDryRun;
  if (auto n = m->get("fallback")) {
    if (auto f = readFallback(sink, *n)) c.fallback = std::move(*f);
  }
  if (auto n = m->get("per_target")) out.perTarget = readBool(sink, *n).value_or(false);

  if (sink.count() == before) draft.value = std::move(out);
  return draft;
}

// ---- outlier_detection ------------------------------------------------------------------------

std::optional<res::OutlierConfig> readOutlier(Sink& sink, const Node& node) {
  auto m = Mapping::open(sink, node, kOutlierKeys, "the outlier detection");
  if (!m) return std::nullopt;
  const std::size_t before = sink.count();
  res::OutlierConfig c;
  if (auto n = m->get("consecutive_5xx")) {
    if (auto v = readInt(sink, *n, 0, kMaxCount)) c.consecutive5xx = u32(*v);
  }
  if (auto n = m->get("consecutive_gateway_failure")) {
    if (auto v = readInt(sink, *n, 0, kMaxCount)) c.consecutiveGatewayFailure = u32(*v);
  }
  if (sink.count() == before && c.consecutive5xx == 0 && c.consecutiveGatewayFailure == 0) {
    sink.error(node.mark, node.path,
               "outlier detection can never eject: consecutive_5xx and consecutive_gateway_failure are both 0",
               "consecutive_5xx (default 5) or consecutive_gateway_failure above 0");
  }
  const auto baseNode = m->get("base_ejection_time");
  const auto maxNode = m->get("max_ejection_time");
  bool timesOk = true;
  constexpr std::string_view kAllowed = "a duration from 1ns to 365d";
  if (baseNode) {
    if (auto d = readDurationUpTo(sink, *baseNode, Duration{1}, kMaxLong, kAllowed)) {
      c.baseEjectionTime = *d;
    } else {
      timesOk = false;
    }
  }
  if (maxNode) {
    if (auto d = readDurationUpTo(sink, *maxNode, Duration{1}, kMaxLong, kAllowed)) {
      c.maxEjectionTime = *d;
    } else {
      timesOk = false;
    }
  }
  if (timesOk && c.maxEjectionTime < c.baseEjectionTime) {
    const std::string base = shown(baseNode, formatDuration(c.baseEjectionTime));
    if (maxNode) {
      sink.error(maxNode->mark, maxNode->path,
                 "max_ejection_time " + maxNode->yaml.Scalar() + " is shorter than base_ejection_time " + base +
                     origin(baseNode),
                 "max_ejection_time >= base_ejection_time");
    } else {
      sink.error(baseNode->mark, baseNode->path,
                 "base_ejection_time " + base + " exceeds max_ejection_time " + formatDuration(c.maxEjectionTime) +
                     " (the default)",
                 "base_ejection_time <= max_ejection_time; set max_ejection_time");
    }
  }
  const auto percentNode = m->get("max_ejection_percent");
  if (percentNode) {
    if (auto p = readPercent(sink, *percentNode)) c.maxEjectionPercent = *p;
  }
  const auto ejectOneNode = m->get("always_eject_one");
  if (ejectOneNode) c.alwaysEjectOne = readBool(sink, *ejectOneNode).value_or(true);
  if (auto n = m->get("interval")) {
    if (auto d = readDurationUpTo(sink, *n, Duration{0}, kMaxLong, "a duration from 0s (never decays) to 365d")) {
      c.interval = *d;
    }
  }
  if (percentNode && c.maxEjectionPercent.milli == 0 && !c.alwaysEjectOne) {
    sink.error(percentNode->mark, percentNode->path,
               "max_ejection_percent 0% with always_eject_one: false" + origin(ejectOneNode) +
                   " never lets a target be ejected",
               "a percentage above 0%, or always_eject_one: true");
  }
  if (sink.count() != before) return std::nullopt;
  return c;
}

// ---- load_balancer ----------------------------------------------------------------------------

struct LoadBalancerDraft {
  LoadBalancerConfig value;
  std::optional<Node> algorithm;  ///< written (and valid)
  std::optional<Node> panic;      ///< panic_threshold, when written
  bool valid = true;
};

std::optional<HashOn> readHashOn(Sink& sink, const Node& n) {
  auto text = readString(sink, n, kHashOnAllowed);
  if (!text) return std::nullopt;
  if (*text == "ip") return HashOn{};
  if (text->rfind("header:", 0) == 0) {
    const std::string name = text->substr(7);
    if (!isToken(name)) {
      sink.error(n.mark, n.path, name.empty() ? "header needs a field name, e.g. header:X-User-Id"
                                              : "invalid header name " + inQuotes(name),
                 std::string(kHashOnAllowed));
      return std::nullopt;
    }
    return HashOn{HashOn::Kind::kHeader, name};
  }
  constexpr std::array<std::string_view, 2> kForms{"ip", "header:NAME"};
  const std::size_t colon = text->find(':');
  const std::string probe = colon == std::string::npos ? *text : text->substr(0, colon) + ":NAME";
  sink.error(n.mark, n.path, "unknown hash key " + inQuotes(*text) + didYouMean(probe, kForms),
             std::string(kHashOnAllowed));
  return std::nullopt;
}

LoadBalancerDraft readLoadBalancer(Sink& sink, const Node& node) {
  LoadBalancerDraft d;
  const std::size_t before = sink.count();
  if (node.yaml.IsScalar()) {
    if (auto a = readEnum(sink, node, kAlgorithms)) {
      d.value.lb.algorithm = *a;
      d.algorithm = node;
    }
    d.valid = sink.count() == before;
    return d;
  }
  if (!node.yaml.IsMap()) {
    sink.error(node.mark, node.path, "expected an algorithm name or a mapping, got " + describe(node.yaml),
               std::string(kAlgorithmsAllowed) + ", or {algorithm, hash_on, ring_replicas, panic_threshold}");
    d.valid = false;
    return d;
  }
  auto m = Mapping::open(sink, node, kLoadBalancerKeys, "the load balancer");
  if (!m) {
    d.valid = false;
    return d;
  }
  bool known = true;
  if (auto n = m->get("algorithm")) {
    if (auto a = readEnum(sink, *n, kAlgorithms)) {
      d.value.lb.algorithm = *a;
      d.algorithm = *n;
    } else {
      known = false;
    }
  }
  const bool hashing = d.value.lb.algorithm == res::LbAlgorithm::kConsistentHash;
  for (std::string_view key : {std::string_view{"hash_on"}, std::string_view{"ring_replicas"}}) {
    auto n = m->get(key);
    if (!n || !known) continue;
    if (!hashing) {
      notUsed(sink, *m, key,
              "is only used by consistent_hash; algorithm is " +
                  std::string(enumName(kAlgorithms, d.value.lb.algorithm)) + origin(d.algorithm),
              "algorithm: consistent_hash with it, or no " + std::string(key));
    } else if (key == "hash_on") {
      if (auto h = readHashOn(sink, *n)) d.value.hashOn = *h;
    } else if (auto v = readInt(sink, *n, 1, kMaxRingReplicas)) {
      d.value.lb.ringReplicas = u32(*v);
    }
  }
  if (auto n = m->get("panic_threshold")) {
    if (auto p = readPercent(sink, *n)) {
      d.value.panicThreshold = *p;
      d.panic = *n;
    }
  }
  d.valid = sink.count() == before;
  return d;
}

// ---- health_checks ----------------------------------------------------------------------------

std::optional<HealthCheckConfig> readHealthChecks(Sink& sink, const Node& node) {
  auto m = Mapping::open(sink, node, kHealthCheckKeys, "the health checks");
  if (!m) return std::nullopt;
  const std::size_t before = sink.count();
  HealthCheckConfig h;
  if (auto n = m->get("path")) {
    if (auto p = readString(sink, *n, kPathAllowed)) {
      if (std::string reason = checkNormalizedPath(*p); !reason.empty()) {
        sink.error(n->mark, n->path, "invalid path " + inQuotes(*p) + ": " + reason, std::string(kPathAllowed));
      } else {
        h.path = *p;
      }
    }
  }
  const auto intervalNode = m->get("interval");
  const auto timeoutNode = m->get("timeout");
  bool timesOk = true;
  constexpr std::string_view kAllowed = "a duration from 1ns to 365d";
  if (intervalNode) {
    if (auto d = readDurationUpTo(sink, *intervalNode, Duration{1}, kMaxLong, kAllowed)) {
      h.interval = *d;
    } else {
      timesOk = false;
    }
  }
  if (timeoutNode) {
    if (auto d = readDurationUpTo(sink, *timeoutNode, Duration{1}, kMaxLong, kAllowed)) {
      h.timeout = *d;
    } else {
      timesOk = false;
    }
  }
  if (timesOk && h.timeout >= h.interval) {
    const std::string overlap = ": a check could still be running when the next one starts";
    if (timeoutNode) {
      sink.error(timeoutNode->mark, timeoutNode->path,
                 "timeout " + timeoutNode->yaml.Scalar() + " is not shorter than interval " +
                     shown(intervalNode, formatDuration(h.interval)) + origin(intervalNode) + overlap,
                 "timeout < interval");
    } else {
      sink.error(intervalNode->mark, intervalNode->path,
                 "interval " + intervalNode->yaml.Scalar() + " is not longer than timeout " +
                     formatDuration(h.timeout) + " (the default)" + overlap,
                 "interval > timeout");
    }
  }
  if (auto n = m->get("healthy_threshold")) {
    if (auto v = readInt(sink, *n, 1, kMaxThreshold)) h.healthyThreshold = u32(*v);
  }
  if (auto n = m->get("unhealthy_threshold")) {
    if (auto v = readInt(sink, *n, 1, kMaxThreshold)) h.unhealthyThreshold = u32(*v);
  }
  if (sink.count() != before) return std::nullopt;
  return h;
}

// ---- rules between sections -------------------------------------------------------------------

// Where a try ends at the latest, for rules that compare a latency with it.
struct TryBound {
  Duration limit{0};  ///< 0: unbounded
  std::string name;   ///< "timeouts.per_try 2s (at 9:14)"
};

TryBound tryBound(const TimeoutsDraft& t, bool shorthand) {
  if (t.value.perTry > Duration{0}) {
    const bool capped = !t.perTry && t.value.perTry == t.value.overall;
    return {t.value.perTry, std::string(shorthand ? "timeout " : "timeouts.per_try ") +
                                shown(t.perTry, formatDuration(t.value.perTry)) +
                                (capped ? std::string(" (the default, capped at overall)") : origin(t.perTry))};
  }
  if (t.value.overall > Duration{0}) {
    return {t.value.overall, "timeouts.overall " + shown(t.overall, formatDuration(t.value.overall)) + origin(t.overall)};
  }
  return {};
}

// Reports a core validate message ("circuit_breaker.window: ...") at the section it names. Only
// reached if a rule above is missing: the config rules are meant to catch everything first.
void coreRejected(Sink& sink, const Mapping& service, const std::string& why) {
  const std::size_t colon = why.find(": ");
  const std::string field = colon == std::string::npos ? std::string{} : why.substr(0, colon);
  const std::string message = colon == std::string::npos ? why : why.substr(colon + 2);
  const std::string section = field.substr(0, field.find_first_of(".["));
  sink.error(service.keyMark(section), childPath(service.self().path, field), message,
             "values the resilience core accepts (docs/resilience.md)");
}

}  // namespace

void readServiceResilience(Sink& sink, const Mapping& service, ServiceConfig& config, bool targetsValid) {
  const std::size_t before = sink.count();

  const TimeoutsDraft timeouts = readTimeouts(sink, service);
  if (timeouts.valid) config.timeouts = timeouts.value;
  const TryBound bound = tryBound(timeouts, service.has("timeout"));

  RetriesDraft retries;
  if (auto n = service.get("retries")) retries = readRetries(sink, *n);
  if (retries.value) {
    // A timed-out try has used min(per_try, overall); with per_try >= overall nothing is left.
    const res::Timeouts& t = config.timeouts;
    if (timeouts.valid && retries.timeoutItem && retries.value->policy.maxRetries > 0 && t.overall > Duration{0} &&
        (t.perTry == Duration{0} || t.perTry >= t.overall)) {
      const std::string overall =
          "timeouts.overall " + shown(timeouts.overall, formatDuration(t.overall)) + origin(timeouts.overall);
      const std::string why = t.perTry == Duration{0}
                                  ? "with timeouts.per_try 0s a try only times out at " + overall
                                  : bound.name + " is not shorter than " + overall;
      sink.error(retries.timeoutItem->mark, retries.timeoutItem->path,
                 "a retry after a timeout can never start: " + why +
                     ", so a timed-out try has used the whole request's time",
                 "timeouts.per_try below timeouts.overall (e.g. per_try: 2s, overall: 5s), or no timeout in on");
    }
    config.retries = retries.value;
  }

  if (auto n = service.get("circuit_breaker")) {
    BreakerDraft b = readBreaker(sink, *n);
    if (b.value && b.slowCallDuration && timeouts.valid && bound.limit > Duration{0} &&
        b.value->breaker.slowCallDuration >= bound.limit) {
      sink.error(b.slowCallDuration->mark, b.slowCallDuration->path,
                 "no call can be slower than slow_call_duration " + b.slowCallDuration->yaml.Scalar() + ": " +
                     bound.name + " ends every try first",
                 "a slow_call_duration below the per-try timeout");
    }
    if (b.value) config.circuitBreaker = std::move(b.value);
  }

  if (auto n = service.get("outlier_detection")) {
    if (auto o = readOutlier(sink, *n)) config.outlierDetection = *o;
  }

  LoadBalancerDraft lb;
  if (auto n = service.get("load_balancer")) lb = readLoadBalancer(sink, *n);
  if (lb.valid) config.loadBalancer = lb.value;

  if (auto n = service.get("health_checks")) {
    if (auto h = readHealthChecks(sink, *n)) config.healthChecks = *h;
  }

  // Rules with the targets (skipped when a target itself was invalid).
  const std::vector<Target>& targets = config.targets;
  if (targetsValid && lb.valid && lb.algorithm && !targets.empty()) {
    const res::LbAlgorithm a = config.loadBalancer.lb.algorithm;
    const auto unequal = std::find_if(targets.begin(), targets.end(),
                                      [&](const Target& t) { return t.weight != targets.front().weight; });
    if ((a == res::LbAlgorithm::kRoundRobin || a == res::LbAlgorithm::kLeastRequest) && unequal != targets.end()) {
      sink.error(lb.algorithm->mark, lb.algorithm->path,
                 std::string(enumName(kAlgorithms, a)) + " ignores target weights, but the targets have weights " +
                     std::to_string(targets.front().weight) + " and " + std::to_string(unequal->weight),
                 "weighted or weighted_random (or consistent_hash) for weighted targets, or equal weights");
    }
  }
  if (targetsValid && config.outlierDetection && lb.valid && !targets.empty()) {
    // Ejecting even one target leaves (n-1)/n available; below the panic threshold the balancer
    // ignores ejections altogether, so the detector could never change where traffic goes.
    const std::uint64_t n = targets.size();
    const Percent panic = config.loadBalancer.panicThreshold;
    if (panic.milli > 0 && !panic.reachedBy(n - 1, n)) {
      const auto where = service.get("outlier_detection");
      sink.error(where->mark, where->path,
                 "outlier detection can never take effect: ejecting 1 of " + std::to_string(n) + " target" +
                     (n == 1 ? "" : "s") + " leaves " + res::formatRatio(n - 1, n) +
                     " available, below load_balancer.panic_threshold " + res::formatPercent(panic) +
                     origin(lb.panic) + ", so the balancer would ignore the ejection (panic mode)",
                 "more targets, or load_balancer: {panic_threshold: 0%} to answer 503 instead of panicking");
    }
  }

  // Last, the core's own checks on what was built, so a config that loads always builds.
  if (sink.count() != before || !targetsValid) return;
  if (auto why = res::validateTargets(config.targetSpecs())) coreRejected(sink, service, *why);
  if (const char* why = res::validateTimeouts(config.timeouts)) coreRejected(sink, service, why);
  if (config.retries) {
    if (auto why = res::validateRetryConfig(config.retries->policy)) coreRejected(sink, service, *why);
    if (auto why = res::validateRetryBudgetConfig(config.retries->budget)) coreRejected(sink, service, *why);
  }
  if (config.circuitBreaker) {
    if (auto why = res::validateBreakerConfig(config.circuitBreaker->breaker)) coreRejected(sink, service, *why);
  }
  if (config.outlierDetection) {
    if (auto why = res::validateOutlierConfig(*config.outlierDetection)) coreRejected(sink, service, *why);
  }
  if (auto why = res::validateLbConfig(config.loadBalancer.lb)) coreRejected(sink, service, *why);
}

}  // namespace gatelab::config::detail
