// The `rate_limit` policy: builds a core::ratelimit::RateLimitPolicySpec.

#include <algorithm>
#include <array>

#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"
#include "gateway/config/units.hpp"
#include "gateway/core/rate_limit/limiter.hpp"
#include "gateway/core/rate_limit/policy.hpp"
#include "gateway/core/rate_limit/redis_script.hpp"

namespace gatelab::config::detail {
namespace {

using core::ratelimit::Algorithm;
using core::ratelimit::HeaderStyle;
using core::ratelimit::KeyComponent;
using core::ratelimit::KeyPart;
using core::ratelimit::LimitSpec;
using core::ratelimit::MissingKey;
using core::ratelimit::RateLimitPolicySpec;
using core::ratelimit::WindowAlign;

// Allowed keys, in documentation order.
constexpr std::array<std::string_view, 19> kRateLimitKeys{
    "name",     "algorithm", "refill", "limit",  "limits",   "burst",   "nodelay", "delay",          "align", "count_rejected",
    "key",      "on_missing_key",      "cost",   "status",   "shadow",  "max_keys", "headers",       "store", "on_store_error"};

constexpr std::array<EnumName<Algorithm>, 6> kAlgorithms{{
    {"token_bucket", Algorithm::kTokenBucket},
    {"leaky_bucket", Algorithm::kLeakyBucket},
    {"fixed_window", Algorithm::kFixedWindow},
    {"sliding_window_log", Algorithm::kSlidingWindowLog},
    {"sliding_window_counter", Algorithm::kSlidingWindowCounter},
    {"gcra", Algorithm::kGcra},
}};

enum class Refill : std::uint8_t { kContinuous, kDiscrete };
constexpr std::array<EnumName<Refill>, 2> kRefills{{{"continuous", Refill::kContinuous}, {"discrete", Refill::kDiscrete}}};

constexpr std::array<EnumName<WindowAlign>, 2> kAligns{{{"clock", WindowAlign::kClock},
                                                        {"first_request", WindowAlign::kFirstRequest}}};

constexpr std::array<EnumName<MissingKey>, 3> kMissingKeys{
    {{"skip", MissingKey::kSkip}, {"shared", MissingKey::kShared}, {"ip", MissingKey::kClientIp}}};

constexpr std::array<EnumName<HeaderStyle>, 4> kHeaderStyles{{{"none", HeaderStyle::kNone},
                                                               {"legacy", HeaderStyle::kLegacy},
                                                               {"ietf", HeaderStyle::kIetf},
                                                               {"both", HeaderStyle::kBoth}}};

constexpr std::array<EnumName<core::ratelimit::StoreKind>, 2> kStores{
    {{"local", core::ratelimit::StoreKind::kLocal}, {"redis", core::ratelimit::StoreKind::kRedis}}};

constexpr std::array<EnumName<core::ratelimit::StoreFailure>, 2> kStoreFailures{
    {{"allow", core::ratelimit::StoreFailure::kAllow}, {"reject", core::ratelimit::StoreFailure::kReject}}};

constexpr std::array<std::string_view, 7> kKeyParts{"ip", "consumer", "route", "service", "global", "header:NAME",
                                                    "jwt:CLAIM"};
constexpr std::string_view kKeyAllowed =
    "ip, consumer, route, service, global, header:NAME, jwt:CLAIM, or a list of them (global alone)";
constexpr std::string_view kAlgorithmAllowed =
    "token_bucket, leaky_bucket, fixed_window, sliding_window_log, sliding_window_counter, gcra";
constexpr std::string_view kLimitAllowed = "limit: RATE, or limits: [RATE, ...]";

constexpr std::int64_t kMaxBurst = static_cast<std::int64_t>(kMaxRateCount);
constexpr std::int64_t kMaxCost = static_cast<std::int64_t>(kMaxRateCount);
constexpr std::int64_t kMaxMaxKeys = 100'000'000;

std::string_view algorithmName(Algorithm a) {
  if (a == Algorithm::kTokenBucketDiscrete) return "token_bucket";
  return enumName(kAlgorithms, a);
}

bool isTokenBucket(Algorithm a) { return a == Algorithm::kTokenBucket || a == Algorithm::kTokenBucketDiscrete; }
bool isWindow(Algorithm a) {
  return a == Algorithm::kFixedWindow || a == Algorithm::kSlidingWindowLog || a == Algorithm::kSlidingWindowCounter;
}

// Keys that only some algorithms read: using them with another algorithm is an error rather than
// silently ignored, because it means the author expects a behaviour they will not get.
struct AlgorithmOnlyKey {
  std::string_view key;
  bool (*applies)(Algorithm);
  std::string_view appliesTo;
};
constexpr std::array<AlgorithmOnlyKey, 6> kAlgorithmOnlyKeys{{
    {"refill", [](Algorithm a) { return isTokenBucket(a); }, "token_bucket"},
    {"burst", [](Algorithm a) { return !isWindow(a); }, "token_bucket, leaky_bucket, gcra"},
    {"nodelay", [](Algorithm a) { return a == Algorithm::kLeakyBucket; }, "leaky_bucket"},
    {"delay", [](Algorithm a) { return a == Algorithm::kLeakyBucket; }, "leaky_bucket"},
    {"align", [](Algorithm a) { return a == Algorithm::kFixedWindow; }, "fixed_window"},
    {"count_rejected", [](Algorithm a) { return a == Algorithm::kSlidingWindowCounter; }, "sliding_window_counter"},
}};

// nginx keeps the rate in milli-requests per second, truncated: rate=1r/s is 1000.
std::uint64_t nginxMilliRequestsPerSecond(const core::Rate& r) {
  __extension__ using Wide = unsigned __int128;
  const Wide scaled = static_cast<Wide>(r.count) * 1000U * 1'000'000'000U;
  return static_cast<std::uint64_t>(scaled / static_cast<Wide>(r.period.count()));
}

std::string rateText(const core::Rate& r) { return core::formatRate(r); }

std::optional<KeyComponent> parseKeyComponent(Sink& sink, const Node& node) {
  auto text = readString(sink, node, kKeyAllowed);
  if (!text) return std::nullopt;
  const std::string& s = *text;
  if (s == "ip") return KeyComponent{KeyPart::kClientIp, {}};
  if (s == "consumer") return KeyComponent{KeyPart::kConsumer, {}};
  if (s == "route") return KeyComponent{KeyPart::kRoute, {}};
  if (s == "service") return KeyComponent{KeyPart::kService, {}};
  if (s == "global") return KeyComponent{KeyPart::kGlobal, {}};
  const std::size_t colon = s.find(':');
  const std::string prefix = s.substr(0, colon);
  if (prefix == "header" || prefix == "jwt") {
    const std::string name = colon == std::string::npos ? std::string{} : s.substr(colon + 1);
    const bool header = prefix == "header";
    if (name.empty()) {
      sink.error(node.mark, node.path,
                 header ? "header needs a field name, e.g. header:X-Tenant-Id" : "jwt needs a claim name, e.g. jwt:sub",
                 std::string(kKeyAllowed));
      return std::nullopt;
    }
    if (header && !isToken(name)) {
      sink.error(node.mark, node.path, "invalid header name " + inQuotes(name), std::string(kTokenAllowed));
      return std::nullopt;
    }
    if (!header && name.find_first_of(" \t\r\n") != std::string::npos) {
      sink.error(node.mark, node.path, "invalid claim name " + inQuotes(name) + ": no white space", std::string(kKeyAllowed));
      return std::nullopt;
    }
    return KeyComponent{header ? KeyPart::kHeader : KeyPart::kJwtClaim, name};
  }
  // Suggest against the bare part names ("heder:X" -> "header:NAME").
  std::string hint = didYouMean(colon == std::string::npos ? s : prefix + ":NAME", kKeyParts);
  if (hint.empty() && colon != std::string::npos) hint = didYouMean(prefix + ":CLAIM", kKeyParts);
  sink.error(node.mark, node.path, "unknown key component " + inQuotes(s) + hint, std::string(kKeyAllowed));
  return std::nullopt;
}

bool sameComponent(const KeyComponent& a, const KeyComponent& b) {
  if (a.part != b.part) return false;
  // Header names are case-insensitive; claim names are not.
  return a.part == KeyPart::kHeader ? toLowerAscii(a.name) == toLowerAscii(b.name) : a.name == b.name;
}

std::optional<std::vector<KeyComponent>> readKey(Sink& sink, const Node& node) {
  std::vector<Node> items;
  if (node.yaml.IsSequence()) {
    auto list = readList(sink, node, kKeyAllowed);
    if (!list) return std::nullopt;
    items = std::move(*list);
  } else {
    items.push_back(node);
  }
  const std::size_t before = sink.count();
  std::vector<KeyComponent> key;
  std::vector<const Node*> where;
  for (const Node& item : items) {
    auto c = parseKeyComponent(sink, item);
    if (!c) continue;
    bool duplicate = false;
    for (std::size_t i = 0; i < key.size(); ++i) {
      if (sameComponent(key[i], *c)) {
        sink.error(item.mark, item.path, "duplicate key component " + inQuotes(item.yaml.Scalar()) + "; first at " +
                                             at(where[i]->mark),
                   std::string(kKeyAllowed));
        duplicate = true;
        break;
      }
    }
    if (duplicate) continue;
    key.push_back(*c);
    where.push_back(&item);
  }
  if (key.size() > 1) {
    for (std::size_t i = 0; i < key.size(); ++i) {
      if (key[i].part == KeyPart::kGlobal) {
        sink.error(where[i]->mark, where[i]->path,
                   "global cannot be combined with other key components (it means one bucket for everyone)",
                   std::string(kKeyAllowed));
      }
    }
  }
  if (sink.count() != before) return std::nullopt;
  return key;
}

struct RateAt {
  core::Rate rate;
  Node node;
  // As written ("50/1m"), so messages quote the config rather than a re-spelling of it.
  [[nodiscard]] std::string text() const { return node.yaml.IsScalar() ? node.yaml.Scalar() : rateText(rate); }
};

// Cross-field checks between several limits of one policy.
void checkLimitSet(Sink& sink, const std::vector<RateAt>& rates, const std::vector<LimitSpec>& limits) {
  for (std::size_t j = 0; j < rates.size(); ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      if (rates[i].rate.period == rates[j].rate.period) {
        sink.error(rates[j].node.mark, rates[j].node.path,
                   "two limits with the same period " + core::formatDuration(rates[j].rate.period) + ": " +
                       rates[i].text() + " (at " + at(rates[i].node.mark) + ") and " + rates[j].text() +
                       "; keep the stricter one",
                   "one limit per period, e.g. [10/s, 500/min, 10000/h]");
      }
    }
  }
  // A shorter-period limit whose count is not below a longer-period limit's count can never be the
  // one that rejects: the longer limit runs out first in every window.
  for (const RateAt& shortLimit : rates) {
    for (const RateAt& longLimit : rates) {
      if (longLimit.rate.period <= shortLimit.rate.period) continue;
      if (longLimit.rate.count <= shortLimit.rate.count) {
        sink.error(shortLimit.node.mark, shortLimit.node.path,
                   "limit " + shortLimit.text() + " can never be reached: limit " + longLimit.text() +
                       " (at " + at(longLimit.node.mark) + ") admits at most " + std::to_string(longLimit.rate.count) +
                       " requests per " + core::formatDuration(longLimit.rate.period) + ", so never " +
                       std::to_string(shortLimit.rate.count) + " in " + core::formatDuration(shortLimit.rate.period),
                   "shorter periods with smaller counts, e.g. [10/s, 300/min]");
        break;
      }
    }
  }
  // The reverse: a longer-period limit above anything the shorter one lets through in that period
  // can never be the one that rejects. The bound is generous for every algorithm: the burst, plus
  // the shorter limit's count for every one of its periods the longer period touches.
  for (std::size_t l = 0; l < rates.size() && l < limits.size(); ++l) {
    for (std::size_t s = 0; s < rates.size() && s < limits.size(); ++s) {
      const core::Rate& longRate = rates[l].rate;
      const core::Rate& shortRate = rates[s].rate;
      if (longRate.period <= shortRate.period) continue;
      const auto periods = static_cast<std::uint64_t>((longRate.period.count() + shortRate.period.count() - 1) /
                                                      shortRate.period.count()) + 1;
      const std::uint64_t burst =
          limits[s].algorithm == Algorithm::kLeakyBucket ? limits[s].burst + 1 : limits[s].burst;
      const std::uint64_t most = burst + shortRate.count * periods;
      if (most < longRate.count) {
        sink.error(rates[l].node.mark, rates[l].node.path,
                   "limit " + rates[l].text() + " can never be reached: limit " + rates[s].text() + " (at " +
                       at(rates[s].node.mark) + ") lets through at most " + std::to_string(most) + " requests in any " +
                       core::formatDuration(longRate.period),
                   "a longer-period limit below what the shorter one admits over that period, e.g. [1/s, 30/min]");
        break;
      }
    }
  }
}

}  // namespace

BuiltPolicy buildRateLimitPolicy(Sink& sink, const Node& body, const PolicyContext& context) {
  BuiltPolicy built;
  auto m = Mapping::open(sink, body, kRateLimitKeys, "a rate_limit policy");
  if (!m) return built;
  const std::size_t before = sink.count();
  RateLimitPolicySpec spec;

  // name
  if (auto n = m->get("name")) {
    if (auto name = readString(sink, *n, kNameAllowed)) {
      if (std::string reason = checkName(*name); !reason.empty()) {
        sink.error(n->mark, n->path, "invalid name " + inQuotes(*name) + ": " + reason, std::string(kNameAllowed));
      } else {
        spec.name = *name;
        built.name = Located{*name, n->mark, n->path};
      }
    }
  } else if (!context.routeName.empty()) {
    spec.name = context.routeName + ".rate_limit";
    if (context.kindCount > 1) spec.name += "[" + std::to_string(context.kindIndex) + "]";
    built.name = Located{spec.name, body.mark, body.path};
  }

  // algorithm (+ refill for the token bucket)
  std::optional<Algorithm> algorithm;
  if (auto n = m->require(sink, "algorithm", kAlgorithmAllowed)) {
    algorithm = readEnum(sink, *n, kAlgorithms);
  }
  if (algorithm) {
    for (const AlgorithmOnlyKey& only : kAlgorithmOnlyKeys) {
      auto n = m->get(only.key);
      if (!n || only.applies(*algorithm)) continue;
      const std::string name(algorithmName(*algorithm));
      std::string message = std::string(only.key) + " is not used by " + name;
      if (only.key == "burst") message += "; a window admits `limit` requests per window";
      sink.error(m->keyMark(only.key), n->path, message, "used only by " + std::string(only.appliesTo));
    }
  }
  const bool known = algorithm.has_value();
  const Algorithm algo = algorithm.value_or(Algorithm::kTokenBucket);
  auto applies = [&](std::string_view key) {
    if (!known) return false;
    for (const AlgorithmOnlyKey& only : kAlgorithmOnlyKeys) {
      if (only.key == key) return only.applies(algo);
    }
    return true;
  };

  Algorithm effective = algo;
  if (auto n = m->get("refill"); n && applies("refill")) {
    if (auto r = readEnum(sink, *n, kRefills); r && *r == Refill::kDiscrete) effective = Algorithm::kTokenBucketDiscrete;
  }

  // limit | limits
  std::vector<RateAt> rates;
  {
    const auto one = m->get("limit");
    const auto many = m->get("limits");
    if (one && many) {
      sink.error(m->keyMark("limits"), many->path, "limit and limits cannot be combined", std::string(kLimitAllowed));
    } else if (!one && !many) {
      if (!m->misspelled("limit") && !m->misspelled("limits")) {  // else the typo was reported
        sink.error(body.mark, childPath(body.path, "limit"), "missing required key \"limit\" (or \"limits\")",
                   std::string(kLimitAllowed));
      }
    } else if (one) {
      if (auto r = readRate(sink, *one)) rates.push_back(RateAt{*r, *one});
    } else if (auto items = readList(sink, *many, "a non-empty list of rates, e.g. [10/s, 500/min]")) {
      if (items->size() > core::ratelimit::kMaxLimitsPerPolicy) {
        sink.error(many->mark, many->path,
                   std::to_string(items->size()) + " limits; a policy has at most " +
                       std::to_string(core::ratelimit::kMaxLimitsPerPolicy),
                   "1 to " + std::to_string(core::ratelimit::kMaxLimitsPerPolicy) +
                       " rates; split the rest into another rate_limit policy");
      } else {
        for (const Node& item : *items) {
          if (auto r = readRate(sink, item)) rates.push_back(RateAt{*r, item});
        }
      }
    }
  }

  // burst, nodelay, delay
  std::optional<std::uint64_t> burst;
  std::optional<Node> burstNode = m->get("burst");
  if (burstNode && applies("burst")) {
    if (auto b = readInt(sink, *burstNode, 0, kMaxBurst)) {
      if (*b == 0 && (isTokenBucket(algo) || algo == Algorithm::kGcra)) {
        sink.error(burstNode->mark, burstNode->path,
                   "burst is the bucket's capacity for " + std::string(algorithmName(algo)) +
                       "; a capacity of 0 admits nothing",
                   "an integer from 1 to " + std::to_string(kMaxBurst) + " (default: the rate's count)");
      } else {
        burst = static_cast<std::uint64_t>(*b);
      }
    }
  }
  bool nodelay = false;
  if (auto n = m->get("nodelay"); n && applies("nodelay")) nodelay = readBool(sink, *n).value_or(false);
  std::uint64_t delay = 0;
  if (auto n = m->get("delay"); n && applies("delay")) {
    if (auto d = readInt(sink, *n, 0, kMaxBurst)) {
      delay = static_cast<std::uint64_t>(*d);
      if (nodelay) {
        sink.error(m->keyMark("delay"), n->path,
                   "delay and nodelay cannot be combined: nodelay already passes every request within burst undelayed",
                   "either nodelay: true, or delay: N with N <= burst");
      } else if (delay > burst.value_or(0)) {
        sink.error(n->mark, n->path,
                   "delay " + std::to_string(delay) + " exceeds burst " + std::to_string(burst.value_or(0)) +
                       "; delay counts excess requests passed undelayed, which burst bounds",
                   "an integer from 0 to burst");
      }
    }
  }

  // window knobs
  WindowAlign align = WindowAlign::kClock;
  if (auto n = m->get("align"); n && applies("align")) align = readEnum(sink, *n, kAligns).value_or(align);
  bool countRejected = false;
  if (auto n = m->get("count_rejected"); n && applies("count_rejected")) {
    countRejected = readBool(sink, *n).value_or(false);
  }

  // key, on_missing_key
  if (auto n = m->get("key")) {
    if (auto key = readKey(sink, *n)) {
      spec.key = std::move(*key);
      // A key on the consumer or a claim reads what authentication establishes (routes.cpp
      // checks it comes after the route's jwt / key_auth).
      for (const KeyComponent& c : spec.key) {
        if (c.part != KeyPart::kConsumer && c.part != KeyPart::kJwtClaim) continue;
        built.readsIdentity =
            Located{c.part == KeyPart::kConsumer ? "key consumer" : "key jwt:" + c.name, n->mark, n->path};
        break;
      }
    }
  } else {
    spec.key = {KeyComponent{KeyPart::kClientIp, {}}};
  }
  if (auto n = m->get("on_missing_key")) spec.onMissingKey = readEnum(sink, *n, kMissingKeys).value_or(spec.onMissingKey);

  // cost, status, shadow, max_keys, headers
  std::optional<Node> costNode = m->get("cost");
  if (costNode) {
    if (auto c = readInt(sink, *costNode, 1, kMaxCost)) spec.cost = static_cast<std::uint32_t>(*c);
  }
  if (auto n = m->get("status")) {
    if (auto s = readInt(sink, *n, 400, 599)) spec.rejectStatus = static_cast<std::uint16_t>(*s);
  }
  if (auto n = m->get("shadow")) spec.shadow = readBool(sink, *n).value_or(false);
  if (auto n = m->get("max_keys")) {
    if (auto k = readInt(sink, *n, 1, kMaxMaxKeys)) spec.maxKeys = static_cast<std::uint64_t>(*k);
  }
  if (auto n = m->get("headers")) spec.headers = readEnum(sink, *n, kHeaderStyles).value_or(spec.headers);

  // store, on_store_error
  std::optional<Node> storeNode = m->get("store");
  if (storeNode) spec.store = readEnum(sink, *storeNode, kStores).value_or(spec.store);
  if (auto n = m->get("on_store_error")) {
    if (spec.store != core::ratelimit::StoreKind::kRedis) {
      sink.error(n->mark, n->path, "on_store_error applies only to a policy with store: redis",
                 "remove on_store_error, or set store: redis");
    } else {
      spec.onStoreError = readEnum(sink, *n, kStoreFailures).value_or(spec.onStoreError);
    }
  }
  if (storeNode && spec.store == core::ratelimit::StoreKind::kRedis)
    built.redisStore = Located{"redis", storeNode->mark, storeNode->path};

  // Build one LimitSpec per rate, then the cross-field rules that need the final values.
  if (known) {
    for (const RateAt& r : rates) {
      LimitSpec limit;
      limit.algorithm = effective;
      limit.rate = r.rate;
      if (isTokenBucket(algo) || algo == Algorithm::kGcra) {
        limit.burst = burst.value_or(r.rate.count);
      } else if (algo == Algorithm::kLeakyBucket) {
        limit.burst = burst.value_or(0);
        limit.delay = nodelay ? LimitSpec::kNoDelay : delay;
        if (nginxMilliRequestsPerSecond(r.rate) < 1) {
          sink.error(r.node.mark, r.node.path,
                     "rate " + r.text() +
                         " is too low for nginx leaky bucket semantics: nginx keeps rates in whole milli-requests "
                         "per second, so this truncates to 0",
                     "at least 1 request per 1000s, e.g. 1/s, 30/min, 4/h");
        }
      }
      limit.align = align;
      limit.countRejected = countRejected;
      spec.limits.push_back(limit);

      // A request costing more than the most the limit can ever admit at once would never pass.
      if (costNode && spec.cost > 1) {
        std::uint64_t most = 0;
        std::string what;
        if (isWindow(algo)) {
          most = r.rate.count;
          what = "limit " + r.text() + " admits per window";
        } else if (algo == Algorithm::kLeakyBucket) {
          most = limit.burst + 1;
          what = "limit " + r.text() + " with burst " + std::to_string(limit.burst) + " admits at once (burst + 1)";
        } else {
          most = limit.burst;
          what = "the capacity (burst) of limit " + r.text();
        }
        if (spec.cost > most) {
          sink.error(costNode->mark, costNode->path,
                     "cost " + std::to_string(spec.cost) + " exceeds " + std::to_string(most) + ", " + what +
                         "; such a request could never pass",
                     "a cost no larger than " + std::to_string(most) + ", or a larger burst/limit");
        }
      }
    }
    checkLimitSet(sink, rates, spec.limits);
    // The core's own limits (exact-arithmetic bounds and the like) as a final check, so a config
    // that loads always builds. Only reached when every rule above passed.
    if (sink.count() == before) {
      for (std::size_t i = 0; i < spec.limits.size(); ++i) {
        if (auto why = core::ratelimit::validateLimitSpec(spec.limits[i], spec.cost)) {
          sink.error(rates[i].node.mark, rates[i].node.path, "limit " + rates[i].text() + ": " + *why,
                     "a limit the core can enforce exactly (smaller burst, shorter period or lower rate)");
        } else if (spec.store == core::ratelimit::StoreKind::kRedis) {
          if (auto whyRedis = core::ratelimit::redis::validateForRedis(spec.limits[i], spec.cost)) {
            sink.error(rates[i].node.mark, rates[i].node.path,
                       "limit " + rates[i].text() + " cannot be kept in Redis exactly: " + *whyRedis,
                       "a limit within the Redis store's range (docs/rate-limiting.md#redis-store), or store: local");
          }
        }
      }
    }
  }

  if (sink.count() == before) built.spec = PolicySpec{std::move(spec)};
  return built;
}

}  // namespace gatelab::config::detail
