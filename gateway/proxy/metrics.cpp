#include "gateway/proxy/metrics.hpp"

#include <cmath>
#include <optional>
#include <cstdio>
#include <variant>

#include "gateway/core/resilience/states.hpp"
#include "gateway/proxy/access_log.hpp"

namespace gatelab::proxy {
namespace {

constexpr std::array<core::resilience::BreakerState, 5> kBreakerStates = {
    core::resilience::BreakerState::kClosed, core::resilience::BreakerState::kOpen,
    core::resilience::BreakerState::kHalfOpen, core::resilience::BreakerState::kForcedOpen,
    core::resilience::BreakerState::kDisabled};

const char* verdictName(int v) noexcept {
  switch (static_cast<core::ratelimit::Verdict>(v)) {
    case core::ratelimit::Verdict::kAllow: return "allowed";
    case core::ratelimit::Verdict::kDelay: return "delayed";
    case core::ratelimit::Verdict::kReject: return "rejected";
  }
  return "unknown";
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

ProxyMetrics::ProxyMetrics(unsigned shards) {
  routes_.emplace_back();  // id 0: no route
  for (unsigned i = 0; i < std::max(shards, 1u); ++i) shards_.push_back(std::make_unique<Shard>());
}

std::uint32_t ProxyMetrics::intern(std::vector<std::string>& names, const std::string& name) {
  for (std::uint32_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return i;
  names.push_back(name);
  return static_cast<std::uint32_t>(names.size() - 1);
}

ProxyMetrics::Ids ProxyMetrics::registerConfig(const config::GatewayConfig& config) {
  Ids ids;
  {
    const std::lock_guard lock(namesMutex_);
    ids.noRoute = 0;
    for (const auto& r : config.routes) {
      const std::uint32_t route = intern(routes_, r.name());
      ids.routes.push_back(route);
      std::vector<std::uint32_t> policyIds;
      for (const auto& p : r.policies) {
        const auto* rl = std::get_if<core::ratelimit::RateLimitPolicySpec>(&p);
        if (rl == nullptr) continue;
        auto id = static_cast<std::uint32_t>(policies_.size());
        for (std::uint32_t i = 0; i < policies_.size(); ++i) {
          if (policies_[i].route == route && policies_[i].name == rl->name && policies_[i].shadow == rl->shadow) id = i;
        }
        if (id == policies_.size()) policies_.push_back(PolicyName{route, rl->name, rl->shadow});
        policyIds.push_back(id);
      }
      ids.policies.push_back(std::move(policyIds));
    }
    for (const auto& sv : config.services) {
      const std::uint32_t service = intern(services_, sv.name);
      ids.services.push_back(service);
      std::vector<std::uint32_t> targetIds;
      for (const auto& t : sv.targets) {
        const std::string url = t.url.toString();
        auto id = static_cast<std::uint32_t>(targets_.size());
        for (std::uint32_t i = 0; i < targets_.size(); ++i) {
          if (targets_[i].service == service && targets_[i].url == url) id = i;
        }
        if (id == targets_.size()) targets_.push_back(TargetName{service, url});
        targetIds.push_back(id);
      }
      ids.targets.push_back(std::move(targetIds));
    }
  }
  const std::lock_guard lock(eventsMutex_);
  breakerState_.clear();
  health_.clear();
  for (const auto& sv : config.services) {
    if (!sv.healthChecks) continue;
    for (const auto& t : sv.targets) health_[BreakerKey{sv.name, t.url.toString()}] = 1;
  }
  for (const auto& sv : config.services) {
    if (!sv.circuitBreaker) continue;
    if (sv.circuitBreaker->perTarget) {
      for (const auto& t : sv.targets) breakerState_[BreakerKey{sv.name, t.url.toString()}] = 0;
    } else {
      breakerState_[BreakerKey{sv.name, ""}] = 0;
    }
  }
  return ids;
}

void ProxyMetrics::request(unsigned shard, std::uint32_t routeId, unsigned status, core::Duration latency, int outcome) {
  Shard& s = *shards_[shard % shards_.size()];
  const double seconds = std::chrono::duration<double>(latency).count();
  const std::lock_guard lock(s.mutex);
  Bucket& bk = s.bucket;
  ++bk.requests;
  ++bk.status[flow::statusClassIndex(static_cast<std::uint16_t>(std::min(status, 65535u)))];
  if (outcome >= 0 && static_cast<std::size_t>(outcome) < bk.outcomes.size()) ++bk.outcomes[static_cast<std::size_t>(outcome)];
  bk.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(latency.count(), 0)));
  ++s.requests[{routeId, status}];
  Histogram& h = s.latency[routeId];
  std::size_t b = 0;
  while (b < kLatencyBuckets.size() && seconds > kLatencyBuckets[b]) ++b;
  ++h.buckets[b];
  h.sum += seconds;
}

void ProxyMetrics::rateLimit(unsigned shard, std::uint32_t policyId, core::ratelimit::Verdict wouldBe) {
  Shard& s = *shards_[shard % shards_.size()];
  const std::lock_guard lock(s.mutex);
  ++s.decisions[{policyId, static_cast<int>(wouldBe)}];
  ++s.bucket.decisions[{policyId, static_cast<int>(wouldBe)}];
}

const char* ProxyMetrics::toString(StoreResult r) noexcept {
  switch (r) {
    case StoreResult::kOk: return "ok";
    case StoreResult::kTimeout: return "timeout";
    case StoreResult::kUnavailable: return "unavailable";
    case StoreResult::kError: return "error";
  }
  return "unknown";
}

void ProxyMetrics::storeCall(unsigned shard, std::uint32_t policyId, StoreResult result) {
  Shard& s = *shards_[shard % shards_.size()];
  const std::lock_guard lock(s.mutex);
  ++s.storeCalls[{policyId, static_cast<int>(result)}];
}

void ProxyMetrics::access(unsigned shard, std::uint32_t routeId, std::string_view policy, std::string_view result) {
  Shard& s = *shards_[shard % shards_.size()];
  const std::lock_guard lock(s.mutex);
  ++s.access[{routeId, policy, result}];
}

void ProxyMetrics::cacheLookup(unsigned shard, std::uint32_t routeId, std::string_view status) {
  Shard& s = *shards_[shard % shards_.size()];
  const std::lock_guard lock(s.mutex);
  ++s.cache[{routeId, status}];
}

void ProxyMetrics::upstreamTry(unsigned shard, std::uint32_t serviceId, std::uint32_t targetId,
                               core::resilience::OutcomeKind outcome, bool retry, bool failed) {
  Shard& s = *shards_[shard % shards_.size()];
  const std::lock_guard lock(s.mutex);
  ++s.bucket.tries;
  if (retry) ++s.bucket.retries;
  if (failed) ++s.bucket.tryFailures;
  ++s.tries[{targetId, static_cast<int>(outcome)}];
  if (retry) ++s.retries[serviceId];
}

void ProxyMetrics::upstreamConnection(unsigned shard, bool reused) {
  shards_[shard % shards_.size()]->connections[reused ? 1 : 0].fetch_add(1, std::memory_order_relaxed);
}

void ProxyMetrics::onEvent(const core::Event& event) {
  struct Pending {
    core::TimePoint at;
    const char* kind;
    std::string service, target, from, to, reason;
    double durationMs;
    bool dryRun;
  };
  std::optional<Pending> pending;
  {
    const std::lock_guard lock(eventsMutex_);
    std::visit(
        [this, &pending](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          const BreakerKey key{e.subject.service, e.subject.target};
          const char* kind = "return";
          std::string from = "ejected", to = "in";
          double durationMs = 0;
          bool dryRun = false;
          if constexpr (std::is_same_v<T, core::BreakerStateChanged>) {
            breakerState_[key] = static_cast<int>(e.to);
            ++breakerTransitions_[{key, static_cast<int>(e.to)}];
            if (e.to == core::resilience::BreakerState::kOpen) ++bucketBreakerOpens_;
            kind = "breaker";
            from = core::resilience::toString(e.from);
            to = core::resilience::toString(e.to);
            if (e.to == core::resilience::BreakerState::kOpen) durationMs = std::chrono::duration<double, std::milli>(e.openFor).count();
            dryRun = e.dryRun;
          } else if constexpr (std::is_same_v<T, core::OutlierEjected>) {
            ++ejections_[key];
            ++bucketEjections_;
            kind = "ejection";
            from = "in";
            to = "ejected";
            durationMs = std::chrono::duration<double, std::milli>(e.ejectedFor).count();
          } else if constexpr (std::is_same_v<T, core::OutlierEjectionSkipped>) {
            kind = "ejection_skipped";
            from = "in";
            to = "in";
          }
          if (feed_) {
            pending = Pending{e.at, kind, e.subject.service, e.subject.target, from, to, e.reason, durationMs, dryRun};
          }
        },
        event);
  }
  if (pending) {
    publishResilience(pending->at, pending->kind, pending->service, pending->target, pending->from, pending->to,
                      pending->reason, pending->durationMs, pending->dryRun);
  }
}

void ProxyMetrics::publishResilience(core::TimePoint at, std::string_view kind, std::string_view service,
                                     std::string_view target, std::string_view from, std::string_view to,
                                     std::string_view reason, double durationMs, bool dryRun) {
  if (!feed_) return;
  // The simulator's report.json event shape.
  std::string json = "{\"at_ms\":" + number(std::chrono::duration<double, std::milli>(at - feedStart_).count());
  const auto field = [&json](const char* key, std::string_view value) {
    json += ",\"";
    json += key;
    json += "\":\"";
    appendJsonEscaped(json, value);
    json += '"';
  };
  field("kind", kind);
  field("service", service);
  field("target", target);
  field("from", from);
  field("to", to);
  field("reason", reason);
  json += ",\"duration_ms\":" + number(durationMs) + ",\"dry_run\":" + (dryRun ? "true" : "false") + "}";
  feed_("resilience", json);
}

ProxyMetrics::Totals ProxyMetrics::totals() const {
  Totals t;
  t.connections = connectionsTotal_.load();
  for (const auto& sp : shards_) {
    const std::lock_guard lock(sp->mutex);
    for (const auto& [k, v] : sp->requests) t.requests += v;
    for (const auto& [k, v] : sp->tries) t.tries += v;
    t.newUpstreamConnections += sp->connections[0].load(std::memory_order_relaxed);
  }
  return t;
}

void ProxyMetrics::targetHealth(const std::string& service, const std::string& url, bool up) {
  const std::lock_guard lock(eventsMutex_);
  health_[BreakerKey{service, url}] = up ? 1 : 0;
}

void ProxyMetrics::setEventFeed(std::function<void(std::string_view, std::string_view)> feed, core::TimePoint start) {
  const std::lock_guard lock(eventsMutex_);
  feed_ = std::move(feed);
  feedStart_ = start;
  bucketStart_ = start;
}

void ProxyMetrics::FineHistogram::record(std::uint64_t v) {
  std::size_t idx = 0;
  if (v < 64) {
    idx = static_cast<std::size_t>(v);
  } else {
    const int e = 63 - __builtin_clzll(v);
    idx = 64 + static_cast<std::size_t>(e - 6) * 32 + static_cast<std::size_t>((v >> (e - 5)) & 31);
  }
  if (counts.size() <= idx) counts.resize(idx + 1, 0);
  ++counts[idx];
  ++total;
  maxNanos = std::max(maxNanos, v);
}

void ProxyMetrics::FineHistogram::merge(const FineHistogram& o) {
  if (counts.size() < o.counts.size()) counts.resize(o.counts.size(), 0);
  for (std::size_t i = 0; i < o.counts.size(); ++i) counts[i] += o.counts[i];
  total += o.total;
  maxNanos = std::max(maxNanos, o.maxNanos);
}

std::uint64_t ProxyMetrics::FineHistogram::quantile(double q) const {
  if (total == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    seen += counts[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) {
      if (i < 64) return i;
      const std::size_t e = (i - 64) / 32 + 6;
      const std::uint64_t m = (i - 64) % 32;
      const std::uint64_t lower = (std::uint64_t{1} << e) + (m << (e - 5));
      return std::min(lower + (std::uint64_t{1} << (e - 5)) / 2, maxNanos);  // the bucket's middle
    }
  }
  return maxNanos;
}

std::string ProxyMetrics::takeTimelineBucket(std::uint64_t index, core::TimePoint end) {
  Bucket merged;
  for (const auto& sp : shards_) {
    Shard& sh = *sp;
    const std::lock_guard lock(sh.mutex);
    const Bucket& b = sh.bucket;
    merged.requests += b.requests;
    for (std::size_t i = 0; i < b.status.size(); ++i) merged.status[i] += b.status[i];
    for (std::size_t i = 0; i < b.outcomes.size(); ++i) merged.outcomes[i] += b.outcomes[i];
    merged.tries += b.tries;
    merged.retries += b.retries;
    merged.tryFailures += b.tryFailures;
    merged.latency.merge(b.latency);
    for (const auto& [k, v] : b.decisions) merged.decisions[k] += v;
    sh.bucket = Bucket{};
  }
  std::vector<std::string> routes;
  std::vector<PolicyName> policies;
  {
    const std::lock_guard lock(namesMutex_);
    routes = routes_;
    policies = policies_;
  }
  const auto ms = [](core::Duration d) { return number(std::chrono::duration<double, std::milli>(d).count()); };
  const auto latencyMs = [&merged](double q) -> std::string {
    if (merged.latency.total == 0) return "null";
    return number(static_cast<double>(merged.latency.quantile(q)) / 1e6);
  };
  std::string j = "{\"index\":" + std::to_string(index);
  std::uint64_t opens = 0, ejections = 0;
  std::string breakers;
  core::TimePoint start{};
  {
    const std::lock_guard lock(eventsMutex_);
    start = bucketStart_;
    bucketStart_ = end;
    opens = bucketBreakerOpens_;
    ejections = bucketEjections_;
    bucketBreakerOpens_ = bucketEjections_ = 0;
    for (const auto& [k, state] : breakerState_) {
      breakers += breakers.empty() ? "" : ",";
      breakers += "{\"service\":\"" + escapeLabelValue(k.service) + "\",\"target\":\"" + escapeLabelValue(k.target) +
                  "\",\"state\":\"" + core::resilience::toString(static_cast<core::resilience::BreakerState>(state)) + "\"}";
    }
    j += ",\"start_ms\":" + ms(start - feedStart_) + ",\"end_ms\":" + ms(end - feedStart_);
  }
  j += ",\"requests\":" + std::to_string(merged.requests);
  j += ",\"status\":{";
  for (std::size_t i = 0; i < flow::kStatusClassCount; ++i) j += std::string(i ? "," : "") + "\"" + flow::statusClassName(i) + "\":" + std::to_string(merged.status[i]);
  j += "},\"outcomes\":{";
  for (std::size_t i = 0; i < merged.outcomes.size(); ++i) {
    const char* name = i < flow::kOutcomeCount ? flow::toString(static_cast<flow::Outcome>(i)) : "refused";
    j += std::string(i ? "," : "") + "\"" + name + "\":" + std::to_string(merged.outcomes[i]);
  }
  j += "},\"tries\":" + std::to_string(merged.tries) + ",\"retries\":" + std::to_string(merged.retries) +
       ",\"try_failures\":" + std::to_string(merged.tryFailures) + ",\"breaker_opens\":" + std::to_string(opens) +
       ",\"ejections\":" + std::to_string(ejections);
  j += ",\"latency\":{\"p50_ms\":" + latencyMs(0.50) + ",\"p90_ms\":" + latencyMs(0.90) + ",\"p99_ms\":" + latencyMs(0.99) +
       ",\"max_ms\":" + (merged.latency.total == 0 ? std::string("null") : number(static_cast<double>(merged.latency.maxNanos) / 1e6)) + "}";
  j += ",\"policies\":[";
  for (std::size_t p = 0; p < policies.size(); ++p) {
    std::uint64_t counts[3] = {0, 0, 0};
    for (int v = 0; v < 3; ++v) {
      const auto it = merged.decisions.find({static_cast<std::uint32_t>(p), v});
      if (it != merged.decisions.end()) counts[v] = it->second;
    }
    j += std::string(p ? "," : "") + "{\"route\":\"" +
         escapeLabelValue(policies[p].route < routes.size() ? routes[policies[p].route] : "") + "\",\"name\":\"" +
         escapeLabelValue(policies[p].name) + "\",\"allowed\":" + std::to_string(counts[0]) +
         ",\"delayed\":" + std::to_string(counts[1]) + ",\"rejected\":" + std::to_string(counts[2]) + "}";
  }
  j += "],\"breakers\":[" + breakers + "],\"backends\":[]}";
  return j;
}

std::string ProxyMetrics::render() const {
  // Merge the shards first (each locked briefly), then format without any lock.
  std::map<std::pair<std::uint32_t, unsigned>, std::uint64_t> requests;
  std::map<std::uint32_t, Histogram> latency;
  std::map<std::pair<std::uint32_t, int>, std::uint64_t> decisions;
  std::map<std::pair<std::uint32_t, int>, std::uint64_t> storeCalls;
  std::map<std::tuple<std::uint32_t, std::string_view, std::string_view>, std::uint64_t> access;
  std::map<std::pair<std::uint32_t, std::string_view>, std::uint64_t> cache;
  std::map<std::pair<std::uint32_t, int>, std::uint64_t> tries;
  std::map<std::uint32_t, std::uint64_t> retries;
  std::array<std::uint64_t, 2> connections{};
  for (const auto& sp : shards_) {
    const Shard& s = *sp;
    const std::lock_guard lock(s.mutex);
    for (const auto& [k, v] : s.requests) requests[k] += v;
    for (const auto& [k, h] : s.latency) {
      Histogram& m = latency[k];
      for (std::size_t i = 0; i < h.buckets.size(); ++i) m.buckets[i] += h.buckets[i];
      m.sum += h.sum;
    }
    for (const auto& [k, v] : s.decisions) decisions[k] += v;
    for (const auto& [k, v] : s.storeCalls) storeCalls[k] += v;
    for (const auto& [k, v] : s.access) access[k] += v;
    for (const auto& [k, v] : s.cache) cache[k] += v;
    for (const auto& [k, v] : s.tries) tries[k] += v;
    for (const auto& [k, v] : s.retries) retries[k] += v;
    connections[0] += s.connections[0].load(std::memory_order_relaxed);
    connections[1] += s.connections[1].load(std::memory_order_relaxed);
  }

  std::vector<std::string> routes, services;
  std::vector<PolicyName> policies;
  std::vector<TargetName> targets;
  {
    const std::lock_guard lock(namesMutex_);
    routes = routes_;
    services = services_;
    policies = policies_;
    targets = targets_;
  }
  const auto routeName = [&routes](std::uint32_t id) { return id < routes.size() ? routes[id] : std::string{}; };
  const auto serviceName = [&services](std::uint32_t id) { return id < services.size() ? services[id] : std::string{}; };

  std::string out;
  header(out, "gatelab_requests_total", "counter", "Requests answered, by route and status code.");
  for (const auto& [k, v] : requests) {
    out += "gatelab_requests_total{route=\"" + escapeLabelValue(routeName(k.first)) + "\",code=\"" +
           std::to_string(k.second) + "\"} " + std::to_string(v) + "\n";
  }
  header(out, "gatelab_request_duration_seconds", "histogram",
         "Time from a request's arrival to its answer, rate-limit delays and retries included.");
  for (const auto& [route, h] : latency) {
    const std::string label = "route=\"" + escapeLabelValue(routeName(route)) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out += "gatelab_request_duration_seconds_bucket{" + label + ",le=\"" + number(kLatencyBuckets[i]) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    cumulative += h.buckets.back();
    out += "gatelab_request_duration_seconds_bucket{" + label + ",le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
    out += "gatelab_request_duration_seconds_sum{" + label + "} " + number(h.sum) + "\n";
    out += "gatelab_request_duration_seconds_count{" + label + "} " + std::to_string(cumulative) + "\n";
  }
  header(out, "gatelab_ratelimit_decisions_total", "counter",
         "Rate-limit decisions by route, policy and what enforcement decided (shadow policies included).");
  for (const auto& [k, v] : decisions) {
    const auto [policy, verdict] = k;
    if (policy >= policies.size()) continue;
    const PolicyName& p = policies[policy];
    out += "gatelab_ratelimit_decisions_total{route=\"" + escapeLabelValue(routeName(p.route)) + "\",policy=\"" +
           escapeLabelValue(p.name) + "\",result=\"" + verdictName(verdict) + "\",shadow=\"" +
           (p.shadow ? "true" : "false") + "\"} " + std::to_string(v) + "\n";
  }
  header(out, "gatelab_ratelimit_store_calls_total", "counter",
         "Calls of store: redis rate-limit policies to Redis, by how they ended (all but ok applied on_store_error).");
  for (const auto& [k, v] : storeCalls) {
    const auto [policy, result] = k;
    if (policy >= policies.size()) continue;
    const PolicyName& p = policies[policy];
    out += "gatelab_ratelimit_store_calls_total{route=\"" + escapeLabelValue(routeName(p.route)) + "\",policy=\"" +
           escapeLabelValue(p.name) + "\",result=\"" + toString(static_cast<StoreResult>(result)) + "\"} " +
           std::to_string(v) + "\n";
  }
  header(out, "gatelab_access_decisions_total", "counter",
         "Access policy verdicts (jwt, key_auth, acl; cors for preflights), by result: ok or the reason code.");
  for (const auto& [k, v] : access) {
    const auto& [route, policy, result] = k;
    out += "gatelab_access_decisions_total{route=\"" + escapeLabelValue(routeName(route)) + "\",policy=\"" +
           std::string(policy) + "\",result=\"" + std::string(result) + "\"} " + std::to_string(v) + "\n";
  }
  header(out, "gatelab_cache_requests_total", "counter",
         "Requests on routes with a response cache, by X-Cache-Status (Hit, Miss, Stale, Bypass).");
  for (const auto& [k, v] : cache) {
    out += "gatelab_cache_requests_total{route=\"" + escapeLabelValue(routeName(k.first)) + "\",status=\"" +
           std::string(k.second) + "\"} " + std::to_string(v) + "\n";
  }
  header(out, "gatelab_upstream_tries_total", "counter", "Upstream tries by service, target and how they ended.");
  for (const auto& [k, v] : tries) {
    const auto [target, outcome] = k;
    if (target >= targets.size()) continue;
    out += "gatelab_upstream_tries_total{service=\"" + escapeLabelValue(serviceName(targets[target].service)) +
           "\",target=\"" + escapeLabelValue(targets[target].url) + "\",outcome=\"" +
           core::resilience::toString(static_cast<core::resilience::OutcomeKind>(outcome)) + "\"} " +
           std::to_string(v) + "\n";
  }
  header(out, "gatelab_upstream_retries_total", "counter", "Retries sent, by service.");
  for (const auto& [service, v] : retries) {
    out += "gatelab_upstream_retries_total{service=\"" + escapeLabelValue(serviceName(service)) + "\"} " +
           std::to_string(v) + "\n";
  }
  header(out, "gatelab_upstream_connections_total", "counter",
         "Upstream connections used for tries: new (reused=\"false\") or taken from the keep-alive pool.");
  out += "gatelab_upstream_connections_total{reused=\"false\"} " + std::to_string(connections[0]) + "\n";
  out += "gatelab_upstream_connections_total{reused=\"true\"} " + std::to_string(connections[1]) + "\n";
  header(out, "gatelab_config_reloads_total", "counter", "Config reloads, by result (failed: refused, the running config kept).");
  out += "gatelab_config_reloads_total{result=\"ok\"} " + std::to_string(reloadsOk_.load()) + "\n";
  out += "gatelab_config_reloads_total{result=\"failed\"} " + std::to_string(reloadsFailed_.load()) + "\n";
  header(out, "gatelab_connections_total", "counter", "Client connections accepted.");
  out += "gatelab_connections_total " + std::to_string(connectionsTotal_.load()) + "\n";
  header(out, "gatelab_connections_active", "gauge", "Client connections open now.");
  out += "gatelab_connections_active " + std::to_string(connectionsActive_.load()) + "\n";
  header(out, "gatelab_connections_refused_total", "counter", "Client connections closed at accept: over max_connections.");
  out += "gatelab_connections_refused_total " + std::to_string(connectionsRefused_.load()) + "\n";
  header(out, "gatelab_tls_handshake_failures_total", "counter",
         "TLS handshakes on the TLS listener that failed or timed out (the connection was closed).");
  out += "gatelab_tls_handshake_failures_total " + std::to_string(tlsHandshakeFailures_.load()) + "\n";
  header(out, "gatelab_streamed_bodies_total", "counter",
         "Bodies larger than the body buffer, streamed through in blocks (request: to an upstream; response: to a client).");
  out += "gatelab_streamed_bodies_total{direction=\"request\"} " + std::to_string(streamedRequests_.load()) + "\n";
  out += "gatelab_streamed_bodies_total{direction=\"response\"} " + std::to_string(streamedResponses_.load()) + "\n";
  header(out, "gatelab_upstream_stream_cuts_total", "counter",
         "Streamed answers the upstream broke off or stalled past the body timeout (the client got a cut body).");
  out += "gatelab_upstream_stream_cuts_total " + std::to_string(streamCuts_.load()) + "\n";

  const std::lock_guard lock(eventsMutex_);
  header(out, "gatelab_circuit_breaker_state", "gauge",
         "1 for each breaker's current state, 0 for the others (target=\"\": one breaker for the service).");
  for (const auto& [k, state] : breakerState_) {
    for (const auto s : kBreakerStates) {
      out += "gatelab_circuit_breaker_state{service=\"" + escapeLabelValue(k.service) + "\",target=\"" +
             escapeLabelValue(k.target) + "\",state=\"" + core::resilience::toString(s) + "\"} " +
             (static_cast<int>(s) == state ? "1" : "0") + "\n";
    }
  }
  header(out, "gatelab_circuit_breaker_transitions_total", "counter", "Breaker state changes, by the state entered.");
  for (const auto& [k, v] : breakerTransitions_) {
    out += "gatelab_circuit_breaker_transitions_total{service=\"" + escapeLabelValue(k.first.service) + "\",target=\"" +
           escapeLabelValue(k.first.target) + "\",to=\"" +
           core::resilience::toString(static_cast<core::resilience::BreakerState>(k.second)) + "\"} " +
           std::to_string(v) + "\n";
  }
  header(out, "gatelab_upstream_healthy", "gauge", "Active health checks: 1 target up, 0 down.");
  for (const auto& [k, v] : health_) {
    out += "gatelab_upstream_healthy{service=\"" + escapeLabelValue(k.service) + "\",target=\"" + escapeLabelValue(k.target) +
           "\"} " + std::to_string(v) + "\n";
  }
  header(out, "gatelab_outlier_ejections_total", "counter", "Targets ejected by outlier detection.");
  for (const auto& [k, v] : ejections_) {
    out += "gatelab_outlier_ejections_total{service=\"" + escapeLabelValue(k.service) + "\",target=\"" +
           escapeLabelValue(k.target) + "\"} " + std::to_string(v) + "\n";
  }
  return out;
}

}  // namespace gatelab::proxy
