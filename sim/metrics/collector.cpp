#include "sim/metrics/collector.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>

#include "gateway/config/runtime.hpp"
#include "gateway/core/rate_limit/policy.hpp"

namespace gatelab::sim {

using core::ratelimit::Verdict;

// Request-level counters of one label in one scope.
struct MetricsCollector::Totals {
  RequestCounts c;
  LatencyHistogram latency;

  void complete(const CompletionReport& r) noexcept {
    ++c.requests;
    ++c.statusClasses[statusClassIndex(r.status)];
    const auto outcome = static_cast<std::size_t>(r.outcome);
    if (outcome < kOutcomeCount) ++c.outcomes[outcome];
    if (r.status >= 500) ++c.errors;
    if (r.status == 504) ++c.timeouts;
    if (r.rateLimitDelay > core::Duration::zero()) ++c.delayed;
    if (r.shadowRejected) ++c.shadowRejected;
    latency.record(r.done - r.arrival);
  }
  void tried(const TryReport& r) noexcept {
    ++c.tries;
    if (r.attempt == 0)
      ++c.firstTries;
    else
      ++c.retries;
    if (r.outcome.isServerError()) ++c.tryFailures;
  }
  void clear() noexcept {
    c = RequestCounts{};
    latency.reset();
  }
};

// Everything counted over one span of time: the whole run, a registered window, or the current
// timeline bucket (which keeps no per-label request totals).
struct MetricsCollector::Scope {
  struct PolicyCounts {
    std::uint64_t decisions = 0;
    std::uint64_t allowed = 0;
    std::uint64_t delayed = 0;
    std::uint64_t rejected = 0;
    std::uint64_t enforcedRejected = 0;
  };

  Totals overall;
  std::vector<Totals> routes;
  std::vector<Totals> services;
  std::vector<PolicyCounts> policies;
  std::uint64_t unrouted = 0;
  std::uint64_t breakerOpens = 0;
  std::uint64_t ejections = 0;
  std::vector<std::uint64_t> serviceBreakerOpens;
  std::vector<std::uint64_t> serviceEjections;

  Scope(std::size_t routeCount, std::size_t serviceCount, std::size_t policyCount, bool perLabel)
      : routes(perLabel ? routeCount : 0),
        services(perLabel ? serviceCount : 0),
        policies(policyCount),
        serviceBreakerOpens(serviceCount, 0),
        serviceEjections(serviceCount, 0) {}

  void decide(std::size_t policy, const core::ratelimit::PolicyDecision& d) noexcept {
    PolicyCounts& p = policies[policy];
    ++p.decisions;
    switch (d.wouldBe) {
      case Verdict::kAllow: ++p.allowed; break;
      case Verdict::kDelay: ++p.delayed; break;
      case Verdict::kReject: ++p.rejected; break;
    }
    if (d.verdict == Verdict::kReject) ++p.enforcedRejected;
  }
  void complete(const CompletionReport& r) noexcept {
    overall.complete(r);
    if (r.route == kNoRouteIndex) ++unrouted;
    if (!routes.empty() && r.route < routes.size()) routes[r.route].complete(r);
    if (!services.empty() && r.service < services.size()) services[r.service].complete(r);
  }
  void tried(const TryReport& r) noexcept {
    overall.tried(r);
    if (!routes.empty() && r.route < routes.size()) routes[r.route].tried(r);
    if (!services.empty() && r.service < services.size()) services[r.service].tried(r);
  }
  void event(std::optional<std::size_t> service, ResilienceEventKind kind, bool open) noexcept {
    if (kind == ResilienceEventKind::kBreaker && open) {
      ++breakerOpens;
      if (service) ++serviceBreakerOpens[*service];
    } else if (kind == ResilienceEventKind::kEjection) {
      ++ejections;
      if (service) ++serviceEjections[*service];
    }
  }
  void clear() noexcept {
    overall.clear();
    for (auto& t : routes) t.clear();
    for (auto& t : services) t.clear();
    std::fill(policies.begin(), policies.end(), PolicyCounts{});
    unrouted = breakerOpens = ejections = 0;
    std::fill(serviceBreakerOpens.begin(), serviceBreakerOpens.end(), 0);
    std::fill(serviceEjections.begin(), serviceEjections.end(), 0);
  }
};

namespace {

std::vector<TruthPolicy> truthPolicies(const config::GatewayRuntime& runtime) { return GroundTruth::policiesOf(runtime); }

TruthOptions truthOptions(const CollectorOptions& o) { return TruthOptions{o.start, o.windows}; }

LatencySummary summarizeLatency(const LatencyHistogram& h) {
  LatencySummary s;
  s.count = h.count();
  if (h.empty()) return s;
  s.min = h.min();
  s.max = h.max();
  s.mean = core::Duration{static_cast<std::int64_t>(std::llround(h.meanNanos()))};
  s.p50 = *h.quantile(0.50);
  s.p90 = *h.quantile(0.90);
  s.p99 = *h.quantile(0.99);
  s.p999 = *h.quantile(0.999);
  return s;
}

std::optional<double> ratio(std::uint64_t num, std::uint64_t den) {
  if (den == 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

std::optional<double> seconds(std::optional<core::Duration> d) {
  if (!d) return std::nullopt;
  return static_cast<double>(d->count()) / 1e9;
}

std::optional<std::size_t> findName(const std::vector<std::string>& names, const std::string& name) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return i;
  return std::nullopt;
}

}  // namespace

const char* toString(ResilienceEventKind k) noexcept {
  switch (k) {
    case ResilienceEventKind::kBreaker: return "breaker";
    case ResilienceEventKind::kEjection: return "ejection";
    case ResilienceEventKind::kReturn: return "return";
    case ResilienceEventKind::kEjectionSkipped: return "ejection_skipped";
  }
  return "?";
}

std::optional<double> LoadSplit::heavyRejectedShare() const noexcept { return ratio(heavyRejected, heavyRequests); }
std::optional<double> LoadSplit::lightRejectedShare() const noexcept { return ratio(lightRejected, lightRequests); }

MetricsCollector::MetricsCollector(const config::GatewayRuntime& runtime, const ClientTable& clients,
                                   CollectorOptions options)
    : clients_(clients),
      options_(std::move(options)),
      truth_(truthPolicies(runtime), truthOptions(options_)) {
  if (options_.bucket <= core::Duration::zero()) options_.bucket = std::chrono::seconds(1);
  std::size_t policyCount = 0;
  for (std::size_t r = 0; r < runtime.routes.size(); ++r) {
    routeNames_.push_back(runtime.config->routes.at(r).name());
    policyBase_.push_back(policyCount);
    policyCount += runtime.routes[r].rateLimits.size();
  }
  policyBase_.push_back(policyCount);
  for (const auto& service : runtime.services) {
    serviceNames_.push_back(service.config->name);
    std::vector<std::string> names;
    std::vector<TargetTotals> totals;
    for (std::size_t t = 0; t < service.targets->size(); ++t) {
      names.push_back(service.targets->target(t).name);
      TargetTotals tt;
      tt.name = names.back();
      totals.push_back(std::move(tt));
    }
    targetNames_.push_back(std::move(names));
    targets_.push_back(std::move(totals));
  }
  const std::size_t routes = routeNames_.size();
  const std::size_t services = serviceNames_.size();
  run_ = std::make_unique<Scope>(routes, services, policyCount, true);
  for (std::size_t w = 0; w < options_.windows.size(); ++w)
    windows_.push_back(std::make_unique<Scope>(routes, services, policyCount, true));
  // The bucket keeps per-route and per-service totals only when a watched metric needs them.
  const bool labelledWatch = std::any_of(options_.watch.begin(), options_.watch.end(),
                                         [](const MetricRef& r) { return !r.route.empty() || !r.service.empty(); });
  bucket_ = std::make_unique<Scope>(routes, services, policyCount, labelledWatch);
  clientCounters_.resize(clients.size());
  bucketStart_ = options_.start;
  last_ = options_.start;
}

MetricsCollector::~MetricsCollector() = default;

void MetricsCollector::willDecide(std::uint32_t route, std::uint32_t policy, ClientId client, const core::Hash128& key) {
  truth_.willDecide(route, policy, client, key);
  if (client < clientCounters_.size()) __builtin_prefetch(&clientCounters_[client]);
}

void MetricsCollector::onRateLimit(const RateLimitReport& report) {
  if (report.decision == nullptr) return;
  last_ = std::max(last_, report.at);
  truth_.onRateLimit(report);
  if (report.route >= routeNames_.size()) return;  // also kNoRouteIndex
  const std::size_t index = policyBase_[report.route] + report.policy;
  if (index >= policyBase_[report.route + 1]) return;
  run_->decide(index, *report.decision);
  bucket_->decide(index, *report.decision);
  for (std::size_t w = 0; w < windows_.size(); ++w) {
    const MetricWindow& win = options_.windows[w];
    if (report.at >= options_.start + win.from && report.at < options_.start + win.to) windows_[w]->decide(index, *report.decision);
  }
}

void MetricsCollector::onTry(const TryReport& report) {
  last_ = std::max(last_, report.end);
  run_->tried(report);
  bucket_->tried(report);
  for (std::size_t w = 0; w < windows_.size(); ++w) {
    const MetricWindow& win = options_.windows[w];
    if (report.end >= options_.start + win.from && report.end < options_.start + win.to) windows_[w]->tried(report);
  }
  if (report.service < targets_.size() && report.target < targets_[report.service].size()) {
    TargetTotals& t = targets_[report.service][report.target];
    ++t.tries;
    if (report.outcome.isServerError()) ++t.failures;
    switch (report.outcome.kind) {
      case core::resilience::OutcomeKind::kResponse:
        if (report.outcome.status >= 500 && report.outcome.status <= 599) ++t.responses5xx;
        break;
      case core::resilience::OutcomeKind::kConnectFailure: ++t.connectFailures; break;
      case core::resilience::OutcomeKind::kTimeout: ++t.timeouts; break;
      case core::resilience::OutcomeKind::kReset: ++t.resets; break;
    }
  }
}

void MetricsCollector::onComplete(const CompletionReport& report) {
  last_ = std::max(last_, report.done);
  run_->complete(report);
  bucket_->complete(report);
  for (std::size_t w = 0; w < windows_.size(); ++w) {
    const MetricWindow& win = options_.windows[w];
    if (report.done >= options_.start + win.from && report.done < options_.start + win.to) windows_[w]->complete(report);
  }
  if (report.client >= clientCounters_.size())
    clientCounters_.resize(std::max<std::size_t>(std::size_t{report.client} + 1, clientCounters_.size() * 2));
  ClientCounters& c = clientCounters_[report.client];
  ++c.requests;
  if (report.outcome == RequestOutcome::kRateLimited) ++c.rejected;
  if (report.rateLimitDelay > core::Duration::zero()) ++c.delayed;
  if (report.status >= 500) ++c.errors;
}

void MetricsCollector::onEvent(const core::Event& event) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        EventRecord r;
        r.at = e.at;
        r.service = e.subject.service;
        r.target = e.subject.target;
        r.reason = e.reason;
        if constexpr (std::is_same_v<T, core::BreakerStateChanged>) {
          r.kind = ResilienceEventKind::kBreaker;
          r.from = core::resilience::toString(e.from);
          r.to = core::resilience::toString(e.to);
          r.duration = e.to == core::resilience::BreakerState::kOpen ? e.openFor : core::Duration{0};
          r.dryRun = e.dryRun;
          countEvent(e.at, r.service, r.target, r.kind, e.to == core::resilience::BreakerState::kOpen);
        } else if constexpr (std::is_same_v<T, core::OutlierEjected>) {
          r.kind = ResilienceEventKind::kEjection;
          r.from = "in";
          r.to = "ejected";
          r.duration = e.ejectedFor;
          countEvent(e.at, r.service, r.target, r.kind, false);
        } else if constexpr (std::is_same_v<T, core::OutlierReturned>) {
          r.kind = ResilienceEventKind::kReturn;
          r.from = "ejected";
          r.to = "in";
          countEvent(e.at, r.service, r.target, r.kind, false);
        } else {
          static_assert(std::is_same_v<T, core::OutlierEjectionSkipped>);
          r.kind = ResilienceEventKind::kEjectionSkipped;
          r.from = "in";
          r.to = "in";
          countEvent(e.at, r.service, r.target, r.kind, false);
        }
        keepEvent(std::move(r));
      },
      event);
}

void MetricsCollector::countEvent(core::TimePoint at, const std::string& service, const std::string& target,
                                  ResilienceEventKind kind, bool open) {
  const std::optional<std::size_t> s = findName(serviceNames_, service);
  std::optional<std::size_t> t;
  if (s && !target.empty()) t = findName(targetNames_[*s], target);
  run_->event(s, kind, open);
  bucket_->event(s, kind, open);
  for (std::size_t w = 0; w < windows_.size(); ++w) {
    const MetricWindow& win = options_.windows[w];
    if (at >= options_.start + win.from && at < options_.start + win.to) windows_[w]->event(s, kind, open);
  }
  if (s && t) {
    TargetTotals& tt = targets_[*s][*t];
    switch (kind) {
      case ResilienceEventKind::kBreaker:
        if (open) ++tt.breakerOpens;
        break;
      case ResilienceEventKind::kEjection: ++tt.ejections; break;
      case ResilienceEventKind::kReturn: ++tt.returns; break;
      case ResilienceEventKind::kEjectionSkipped: ++tt.skippedEjections; break;
    }
  }
}

void MetricsCollector::keepEvent(EventRecord record) {
  if (events_.size() < options_.maxEvents)
    events_.push_back(std::move(record));
  else
    ++droppedEvents_;
}

void MetricsCollector::setTimelineSink(std::function<void(const TimelineBucket&)> sink) { sink_ = std::move(sink); }

void MetricsCollector::closeBucket(core::TimePoint end, const GaugeSample& gauges) {
  if (sink_) {
    TimelineBucket b;
    b.index = bucketIndex_;
    b.start = bucketStart_;
    b.end = end;
    const Totals& t = bucket_->overall;
    static_cast<RequestCounts&>(b) = t.c;
    b.breakerOpens = bucket_->breakerOpens;
    b.ejections = bucket_->ejections;
    b.p50 = t.latency.quantile(0.50);
    b.p90 = t.latency.quantile(0.90);
    b.p99 = t.latency.quantile(0.99);
    if (!t.latency.empty()) b.max = t.latency.max();
    const auto policies = truth_.policies();
    b.policies.reserve(policies.size());
    for (std::size_t i = 0; i < policies.size(); ++i) {
      const Scope::PolicyCounts& p = bucket_->policies[i];
      b.policies.push_back(TimelineBucket::Policy{routeNames_.at(policies[i].route), policies[i].name, p.allowed,
                                                  p.delayed, p.rejected});
    }
    b.gauges = gauges;
    b.watched.reserve(options_.watch.size());
    for (const MetricRef& ref : options_.watch) b.watched.push_back(queryIn(*bucket_, ref, false, std::nullopt, end - bucketStart_));
    sink_(b);
  }
  bucket_->clear();
  bucketStart_ = end;
  ++bucketIndex_;
}

void MetricsCollector::finish(core::TimePoint end) {
  end_ = end;
  last_ = std::max(last_, end);
}

LoadSplit MetricsCollector::loadSplit() const {
  std::vector<ClientId> ids;
  for (std::size_t i = 0; i < clientCounters_.size(); ++i)
    if (clientCounters_[i].requests > 0) ids.push_back(static_cast<ClientId>(i));
  LoadSplit s;
  if (ids.empty()) return s;
  const std::size_t heavy = std::max<std::size_t>(1, (ids.size() + 99) / 100);
  std::nth_element(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(heavy - 1), ids.end(),
                   [this](ClientId a, ClientId b) {
                     const auto ra = clientCounters_[a].requests;
                     const auto rb = clientCounters_[b].requests;
                     return ra != rb ? ra > rb : a < b;
                   });
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const ClientCounters& c = clientCounters_[ids[i]];
    if (i < heavy) {
      ++s.heavyClients;
      s.heavyRequests += c.requests;
      s.heavyRejected += c.rejected;
    } else {
      ++s.lightClients;
      s.lightRequests += c.requests;
      s.lightRejected += c.rejected;
    }
  }
  return s;
}

std::vector<std::size_t> MetricsCollector::policiesFor(const MetricRef& ref, bool& ok) const {
  ok = true;
  std::vector<std::size_t> out;
  std::optional<std::size_t> route;
  if (!ref.route.empty()) {
    route = findName(routeNames_, ref.route);
    if (!route) {
      ok = false;
      return out;
    }
  }
  const auto policies = truth_.policies();
  for (std::size_t i = 0; i < policies.size(); ++i) {
    if (route && policies[i].route != *route) continue;
    if (!ref.policy.empty() && policies[i].name != ref.policy) continue;
    out.push_back(i);
  }
  if (!ref.policy.empty() && out.empty()) ok = false;
  return out;
}

std::optional<double> MetricsCollector::query(const MetricRef& ref) const {
  const Scope* scope = run_.get();
  std::optional<std::size_t> window;
  core::Duration duration = (end_ ? *end_ : last_) - options_.start;
  if (ref.window) {
    const auto it = std::find(options_.windows.begin(), options_.windows.end(), *ref.window);
    if (it == options_.windows.end()) return std::nullopt;
    window = static_cast<std::size_t>(it - options_.windows.begin());
    scope = windows_[*window].get();
    duration = ref.window->to - ref.window->from;
  }
  return queryIn(*scope, ref, true, window, duration);
}

std::optional<double> MetricsCollector::queryIn(const Scope& scopeRef, const MetricRef& ref, bool withTruth,
                                                std::optional<std::size_t> window, core::Duration duration) const {
  const MetricInfo& info = metricInfo(ref.metric);
  if ((!ref.route.empty() && (info.labels & kLabelRoute) == 0) ||
      (!ref.service.empty() && (info.labels & kLabelService) == 0) ||
      (!ref.policy.empty() && (info.labels & kLabelPolicy) == 0))
    return std::nullopt;
  const Scope* scope = &scopeRef;

  // Request-level metrics: overall, one route or one service.
  auto totals = [&]() -> const Totals* {
    if (!ref.route.empty() && !ref.service.empty()) return nullptr;
    if (!ref.route.empty()) {
      const auto r = findName(routeNames_, ref.route);
      return r && *r < scope->routes.size() ? &scope->routes[*r] : nullptr;
    }
    if (!ref.service.empty()) {
      const auto s = findName(serviceNames_, ref.service);
      return s && *s < scope->services.size() ? &scope->services[*s] : nullptr;
    }
    return &scope->overall;
  };
  auto decisions = [&](auto field) -> std::optional<double> {
    bool ok = false;
    const auto selected = policiesFor(ref, ok);
    if (!ok) return std::nullopt;
    std::uint64_t num = 0;
    std::uint64_t den = 0;
    for (std::size_t i : selected) {
      num += scope->policies[i].*field;
      den += scope->policies[i].decisions;
    }
    return ratio(num, den);
  };
  auto truth = [&]() -> std::optional<TruthCounts> {
    if (!withTruth) return std::nullopt;
    bool ok = false;
    const auto selected = policiesFor(ref, ok);
    if (!ok) return std::nullopt;
    return truth_.counts(std::span<const std::size_t>(selected), window);
  };
  auto perService = [&](std::uint64_t Scope::*overall,
                        std::vector<std::uint64_t> Scope::*byService) -> std::optional<double> {
    if (ref.service.empty()) return static_cast<double>(scope->*overall);
    const auto s = findName(serviceNames_, ref.service);
    if (!s) return std::nullopt;
    return static_cast<double>((scope->*byService)[*s]);
  };

  switch (ref.metric) {
    case Metric::kRequests:
    case Metric::kThroughput:
    case Metric::kP50Latency:
    case Metric::kP90Latency:
    case Metric::kP99Latency:
    case Metric::kP999Latency:
    case Metric::kMaxLatency:
    case Metric::kMeanLatency:
    case Metric::kErrorRate:
    case Metric::kRetries:
    case Metric::kRetryRate:
    case Metric::kTryErrorRate:
    case Metric::kTimeouts:
    case Metric::kAuthRejectedShare:
    case Metric::kCacheHitShare: {
      const Totals* t = totals();
      if (t == nullptr) return std::nullopt;
      const auto& c = t->c;
      switch (ref.metric) {
        case Metric::kRequests: return static_cast<double>(c.requests);
        case Metric::kThroughput:
          if (duration <= core::Duration::zero()) return std::nullopt;
          return static_cast<double>(c.requests) / (static_cast<double>(duration.count()) / 1e9);
        case Metric::kP50Latency: return seconds(t->latency.quantile(0.50));
        case Metric::kP90Latency: return seconds(t->latency.quantile(0.90));
        case Metric::kP99Latency: return seconds(t->latency.quantile(0.99));
        case Metric::kP999Latency: return seconds(t->latency.quantile(0.999));
        case Metric::kMaxLatency:
          return t->latency.empty() ? std::nullopt : seconds(t->latency.max());
        case Metric::kMeanLatency:
          if (t->latency.empty()) return std::nullopt;
          return t->latency.meanNanos() / 1e9;
        case Metric::kErrorRate: return ratio(c.errors, c.requests);
        case Metric::kRetries: return static_cast<double>(c.retries);
        case Metric::kRetryRate: return ratio(c.retries, c.firstTries);
        case Metric::kTryErrorRate: return ratio(c.tryFailures, c.tries);
        case Metric::kTimeouts: return static_cast<double>(c.timeouts);
        case Metric::kAuthRejectedShare:
          return ratio(c.outcomes[static_cast<std::size_t>(flow::Outcome::kUnauthorized)] +
                           c.outcomes[static_cast<std::size_t>(flow::Outcome::kForbidden)],
                       c.requests);
        case Metric::kCacheHitShare:
          return ratio(c.outcomes[static_cast<std::size_t>(flow::Outcome::kCacheHit)], c.requests);
        default: return std::nullopt;
      }
    }
    case Metric::kAllowedShare: return decisions(&Scope::PolicyCounts::allowed);
    case Metric::kDelayedShare: return decisions(&Scope::PolicyCounts::delayed);
    case Metric::kRejectedShare: return decisions(&Scope::PolicyCounts::rejected);
    case Metric::kFalseAllows: {
      const auto t = truth();
      return t ? std::optional<double>(static_cast<double>(t->falseAllows)) : std::nullopt;
    }
    case Metric::kFalseBlocks: {
      const auto t = truth();
      return t ? std::optional<double>(static_cast<double>(t->falseBlocks)) : std::nullopt;
    }
    case Metric::kFalseAllowShare: {
      const auto t = truth();
      return t ? t->falseAllowShare() : std::nullopt;
    }
    case Metric::kFalseBlockShare: {
      const auto t = truth();
      return t ? t->falseBlockShare() : std::nullopt;
    }
    case Metric::kWorstOvershoot: {
      const auto t = truth();
      return t && t->worst ? std::optional<double>(t->worst->ratio) : std::nullopt;
    }
    case Metric::kWronglyBlockedClients: {
      const auto t = truth();
      return t ? std::optional<double>(static_cast<double>(t->wronglyBlockedClients)) : std::nullopt;
    }
    case Metric::kBreakerOpens: return perService(&Scope::breakerOpens, &Scope::serviceBreakerOpens);
    case Metric::kEjections: return perService(&Scope::ejections, &Scope::serviceEjections);
  }
  return std::nullopt;
}

std::string MetricsCollector::clientName(ClientId id) const {
  return id < clients_.size() ? std::string(clients_.name(id)) : "#" + std::to_string(id);
}

RequestTotals MetricsCollector::summarize(const Totals& t) const {
  RequestTotals r;
  static_cast<RequestCounts&>(r) = t.c;
  r.latency = summarizeLatency(t.latency);
  return r;
}

const RequestCounts& MetricsCollector::overallCounts() const noexcept { return run_->overall.c; }

MetricsResults MetricsCollector::results() const {
  MetricsResults out;
  out.start = options_.start;
  out.end = end_ ? *end_ : last_;
  out.overall = summarize(run_->overall);
  for (std::size_t r = 0; r < routeNames_.size(); ++r) out.routes.push_back(RouteResult{routeNames_[r], summarize(run_->routes[r])});
  for (std::size_t s = 0; s < serviceNames_.size(); ++s) {
    ServiceResult sr;
    sr.name = serviceNames_[s];
    sr.totals = summarize(run_->services[s]);
    sr.breakerOpens = run_->serviceBreakerOpens[s];
    sr.ejections = run_->serviceEjections[s];
    sr.targets = targets_[s];
    out.services.push_back(std::move(sr));
  }
  const auto policies = truth_.policies();
  for (std::size_t i = 0; i < policies.size(); ++i) {
    const Scope::PolicyCounts& c = run_->policies[i];
    PolicyResult p;
    p.route = routeNames_.at(policies[i].route);
    p.name = policies[i].name;
    p.shadow = policies[i].shadow;
    p.decisions = c.decisions;
    p.allowed = c.allowed;
    p.delayed = c.delayed;
    p.rejected = c.rejected;
    p.enforcedRejected = c.enforcedRejected;
    p.truth = truth_.counts(i);
    if (p.truth.worst) p.worstClient = clientName(p.truth.worst->client);
    const std::size_t one[] = {i};
    const auto blocked = truth_.wronglyBlocked(std::span<const std::size_t>(one));
    for (std::size_t k = 0; k < blocked.size() && k < options_.topClients; ++k) p.wronglyBlocked.push_back(clientName(blocked[k]));
    out.policies.push_back(std::move(p));
  }
  out.truth = truth_.total();
  if (out.truth.worst) out.truthWorstClient = clientName(out.truth.worst->client);

  std::vector<ClientId> ids;
  for (std::size_t i = 0; i < clientCounters_.size(); ++i)
    if (clientCounters_[i].requests > 0) ids.push_back(static_cast<ClientId>(i));
  out.clientCount = ids.size();
  // The first topClients of `ids` by `count` (descending, ties to the lower id), as results.
  const auto rank = [this, &ids](std::uint64_t ClientCounters::*count, std::vector<ClientResult>& into) {
    const std::size_t top = std::min(options_.topClients, ids.size());
    std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(top), ids.end(),
                      [this, count](ClientId a, ClientId b) {
                        const auto ra = clientCounters_[a].*count;
                        const auto rb = clientCounters_[b].*count;
                        return ra != rb ? ra > rb : a < b;
                      });
    for (std::size_t i = 0; i < top; ++i) {
      const ClientCounters& c = clientCounters_[ids[i]];
      if (c.*count == 0) break;
      ClientResult cr;
      cr.id = ids[i];
      cr.name = clientName(ids[i]);
      cr.requests = c.requests;
      cr.rejected = c.rejected;
      cr.delayed = c.delayed;
      cr.errors = c.errors;
      into.push_back(std::move(cr));
    }
  };
  rank(&ClientCounters::requests, out.topClients);
  rank(&ClientCounters::rejected, out.topRejectedClients);
  out.load = loadSplit();
  out.unroutedRequests = run_->unrouted;
  out.breakerOpens = run_->breakerOpens;
  out.ejections = run_->ejections;
  out.events = events_;
  out.droppedEvents = droppedEvents_;
  return out;
}

}  // namespace gatelab::sim
