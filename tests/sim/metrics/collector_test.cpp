// MetricsCollector: counters per label, queries (units, labels, windows, no-data cases), timeline
// buckets and their boundaries, events capped with a dropped count, heavy/light split, ground truth
// through the collector, and the JSON shapes (metrics_json).

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "sim/metrics/collector.hpp"
#include "sim/metrics/metrics_json.hpp"

namespace gatelab::sim {
namespace {

using namespace std::chrono_literals;
using core::Duration;
using core::TimePoint;
using core::ratelimit::PolicyDecision;
using core::ratelimit::Verdict;
using core::resilience::BreakerState;
using core::resilience::CallOutcome;

constexpr std::string_view kYaml = R"(version: 1
services:
  - name: api
    targets: [http://a:1, http://a:2]
  - name: auth
    targets: [http://b:1]
routes:
  - name: api
    match:
      path_prefix: /api
    service: api
    policies:
      - rate_limit:
          name: api-fixed
          algorithm: fixed_window
          limit: 10/s
          key: ip
      - rate_limit:
          name: api-shadow
          algorithm: sliding_window_log
          limit: 5/s
          key: ip
          shadow: true
  - name: login
    match:
      path: /login
    service: auth
    policies:
      - rate_limit:
          name: login-limit
          algorithm: token_bucket
          limit: 5/s
          key: ip
)";

const TimePoint kStart = core::atOffset(10s);

std::unique_ptr<config::GatewayRuntime> buildRuntime() {
  const auto loaded = config::loadConfigString(kYaml, "test.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.errorText();
  auto built = config::buildRuntime(loaded.config);
  EXPECT_TRUE(built.ok()) << config::formatDiagnostics(built.diagnostics);
  return std::move(built.runtime);
}

struct Fixture {
  std::unique_ptr<config::GatewayRuntime> runtime = buildRuntime();
  ClientTable clients;
  std::unique_ptr<MetricsCollector> m;

  explicit Fixture(std::vector<MetricWindow> windows = {{0s, 1s}, {1s, 2s}}, std::size_t maxEvents = 10000,
                   std::vector<MetricRef> watch = {}) {
    for (int i = 0; i < 300; ++i) clients.intern("client-" + std::to_string(i));
    CollectorOptions o;
    o.start = kStart;
    o.bucket = 1s;
    o.windows = std::move(windows);
    o.maxEvents = maxEvents;
    o.topClients = 3;
    o.watch = std::move(watch);
    m = std::make_unique<MetricsCollector>(*runtime, clients, std::move(o));
  }

  void complete(Duration arrival, Duration latency, std::uint32_t route, std::uint32_t service, std::uint16_t status,
                RequestOutcome outcome = RequestOutcome::kUpstream, ClientId client = 0, Duration delay = 0s) {
    CompletionReport r;
    r.arrival = kStart + arrival;
    r.done = r.arrival + latency;
    r.route = route;
    r.service = service;
    r.target = service == kNoServiceIndex ? kNoTargetIndex : 0;
    r.client = client;
    r.status = status;
    r.outcome = outcome;
    r.rateLimitDelay = delay;
    r.tries = outcome == RequestOutcome::kUpstream ? 1 : 0;
    m->onComplete(r);
  }
  void tried(Duration end, std::uint32_t route, std::uint32_t service, std::uint32_t target, std::uint32_t attempt,
             CallOutcome outcome) {
    TryReport r;
    r.start = kStart + end - 1ms;
    r.end = kStart + end;
    r.route = route;
    r.service = service;
    r.target = target;
    r.attempt = attempt;
    r.outcome = outcome;
    m->onTry(r);
  }
  // Drives the runtime's own policy and reports its decision.
  PolicyDecision decide(Duration when, std::uint32_t route, std::uint32_t policy, ClientId client) {
    const PolicyDecision d =
        runtime->routes[route].rateLimits[policy]->evaluateKey(core::Hash128{client + 1u, 0}, kStart + when);
    report(when, route, policy, client, d);
    return d;
  }
  void report(Duration when, std::uint32_t route, std::uint32_t policy, ClientId client, const PolicyDecision& d) {
    RateLimitReport r;
    r.at = kStart + when;
    r.route = route;
    r.policy = policy;
    r.client = client;
    r.decision = &d;
    m->onRateLimit(r);
  }
  std::optional<double> q(Metric metric, std::string route = "", std::string service = "", std::string policy = "",
                          std::optional<MetricWindow> window = std::nullopt) const {
    return m->query(MetricRef{metric, std::move(route), std::move(service), std::move(policy), window});
  }
};

TEST(MetricsCollector, CountsRequestsPerRouteAndServiceAndAnswersQueriesInCanonicalUnits) {
  Fixture f;
  for (int i = 0; i < 90; ++i) f.complete(100ms, 20ms, 0, 0, 200);
  for (int i = 0; i < 10; ++i) f.complete(200ms, 500ms, 0, 0, 503);
  f.complete(300ms, 30s, 0, 0, 504, RequestOutcome::kTimeout);
  f.complete(300ms, 1ms, 1, 1, 429, RequestOutcome::kRateLimited, 5);
  f.complete(300ms, 1ms, kNoRouteIndex, kNoServiceIndex, 404, RequestOutcome::kNotFound);
  f.m->finish(kStart + 4s);

  EXPECT_EQ(f.q(Metric::kRequests), 103.0);
  EXPECT_EQ(f.q(Metric::kRequests, "api"), 101.0);
  EXPECT_EQ(f.q(Metric::kRequests, "", "auth"), 1.0);
  EXPECT_EQ(f.q(Metric::kRequests, "login"), 1.0);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kThroughput), 103.0 / 4.0);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kErrorRate, "api"), 11.0 / 101.0);
  EXPECT_EQ(f.q(Metric::kTimeouts), 1.0);
  EXPECT_NEAR(*f.q(Metric::kP50Latency, "api"), 0.020, 0.020 * 0.004);
  EXPECT_NEAR(*f.q(Metric::kP90Latency, "", "api"), 0.5, 0.5 * 0.004);  // rank 91 of 101
  EXPECT_NEAR(*f.q(Metric::kP99Latency, "api"), 0.5, 0.5 * 0.004);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kMaxLatency), 30.0);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kMeanLatency, "login"), 0.001);

  // Unknown labels, labels a metric does not take, two request labels at once: nullopt.
  EXPECT_FALSE(f.q(Metric::kRequests, "nope").has_value());
  EXPECT_FALSE(f.q(Metric::kRequests, "", "nope").has_value());
  EXPECT_FALSE(f.q(Metric::kRequests, "api", "api").has_value());
  EXPECT_FALSE(f.q(Metric::kRequests, "", "", "api-fixed").has_value());
  EXPECT_FALSE(f.q(Metric::kBreakerOpens, "api").has_value());
  // No data: percentiles and shares are nullopt, counts are 0.
  Fixture empty;
  EXPECT_FALSE(empty.q(Metric::kP99Latency).has_value());
  EXPECT_FALSE(empty.q(Metric::kErrorRate).has_value());
  EXPECT_FALSE(empty.q(Metric::kThroughput).has_value());
  EXPECT_EQ(empty.q(Metric::kRequests), 0.0);

  const MetricsResults r = f.m->results();
  EXPECT_EQ(r.overall.requests, 103u);
  EXPECT_EQ(r.unroutedRequests, 1u);
  EXPECT_EQ(r.routes.at(0).name, "api");
  EXPECT_EQ(r.routes.at(0).totals.statusClasses[statusClassIndex(200)], 90u);
  EXPECT_EQ(r.routes.at(0).totals.statusClasses[statusClassIndex(503)], 11u);
  EXPECT_EQ(r.overall.outcomes[static_cast<std::size_t>(RequestOutcome::kRateLimited)], 1u);
  EXPECT_EQ(r.overall.outcomes[static_cast<std::size_t>(RequestOutcome::kNotFound)], 1u);
  EXPECT_EQ(r.end - r.start, Duration{4s});
}

TEST(MetricsCollector, CountsTriesRetriesAndFailuresPerServiceAndTarget) {
  Fixture f;
  f.tried(10ms, 0, 0, 0, 0, CallOutcome::response(200));
  f.tried(20ms, 0, 0, 1, 0, CallOutcome::response(503));
  f.tried(30ms, 0, 0, 0, 1, CallOutcome::timeout());
  f.tried(40ms, 0, 0, 1, 2, CallOutcome::connectFailure());
  f.tried(50ms, 1, 1, 0, 0, CallOutcome::reset());
  EXPECT_EQ(f.q(Metric::kRetries), 2.0);
  EXPECT_EQ(f.q(Metric::kRetries, "", "api"), 2.0);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kRetryRate, "api"), 2.0 / 2.0);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kTryErrorRate, "", "api"), 3.0 / 4.0);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kTryErrorRate, "", "auth"), 1.0);
  const MetricsResults r = f.m->results();
  const auto& targets = r.services.at(0).targets;
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].name, "http://a:1");
  EXPECT_EQ(targets[0].tries, 2u);
  EXPECT_EQ(targets[0].timeouts, 1u);
  EXPECT_EQ(targets[1].responses5xx, 1u);
  EXPECT_EQ(targets[1].connectFailures, 1u);
  EXPECT_EQ(targets[1].failures, 2u);
  EXPECT_EQ(r.services.at(1).targets.at(0).resets, 1u);
}

TEST(MetricsCollector, PolicyDecisionSharesUseWouldBeAndShadowPoliciesCount) {
  Fixture f;
  PolicyDecision allow, delay, reject, shadowReject;
  allow.applied = delay.applied = reject.applied = shadowReject.applied = true;
  delay.verdict = delay.wouldBe = Verdict::kDelay;
  delay.delay = 5ms;
  reject.verdict = reject.wouldBe = Verdict::kReject;
  shadowReject.wouldBe = Verdict::kReject;  // verdict stays kAllow
  f.report(0ms, 0, 0, 1, allow);
  f.report(0ms, 0, 0, 1, allow);
  f.report(0ms, 0, 0, 1, delay);
  f.report(0ms, 0, 0, 1, reject);
  f.report(0ms, 0, 1, 1, shadowReject);
  f.report(0ms, 0, 1, 1, allow);
  f.report(0ms, kNoRouteIndex, 0, 1, reject);  // names no policy: ignored
  f.report(0ms, 1, 5, 1, reject);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kAllowedShare, "", "", "api-fixed"), 0.5);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kDelayedShare, "", "", "api-fixed"), 0.25);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kRejectedShare, "", "", "api-shadow"), 0.5);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kRejectedShare, "api"), 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kRejectedShare), 2.0 / 6.0);
  EXPECT_FALSE(f.q(Metric::kRejectedShare, "login").has_value());  // no decisions
  EXPECT_FALSE(f.q(Metric::kRejectedShare, "login", "", "api-fixed").has_value());  // not that route's
  EXPECT_FALSE(f.q(Metric::kRejectedShare, "", "", "nope").has_value());
  const MetricsResults r = f.m->results();
  ASSERT_EQ(r.policies.size(), 3u);
  EXPECT_EQ(r.policies[1].name, "api-shadow");
  EXPECT_TRUE(r.policies[1].shadow);
  EXPECT_EQ(r.policies[1].rejected, 1u);
  EXPECT_EQ(r.policies[1].enforcedRejected, 0u);
  EXPECT_EQ(r.policies[0].enforcedRejected, 1u);
  EXPECT_EQ(r.policies[2].route, "login");
}

TEST(MetricsCollector, GroundTruthThroughQueriesAndWindows) {
  // The fixed-window boundary burst of the truth tests, through the runtime's own policy.
  Fixture f;
  for (int i = 0; i < 10; ++i) f.decide(900ms + i * 10ms, 0, 0, 4);
  for (int i = 0; i < 10; ++i) f.decide(1000ms + i * 10ms, 0, 0, 4);
  f.decide(1955ms, 0, 0, 4);
  EXPECT_EQ(f.q(Metric::kFalseAllows), 10.0);
  EXPECT_EQ(f.q(Metric::kFalseAllows, "api"), 10.0);
  EXPECT_EQ(f.q(Metric::kFalseAllows, "login"), 0.0);
  EXPECT_EQ(f.q(Metric::kFalseBlocks, "", "", "api-fixed"), 1.0);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kFalseAllowShare, "", "", "api-fixed"), 10.0 / 21.0);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kWorstOvershoot, "", "", "api-fixed"), 2.0);
  EXPECT_EQ(f.q(Metric::kWronglyBlockedClients), 1.0);
  EXPECT_FALSE(f.q(Metric::kWorstOvershoot, "login").has_value());
  EXPECT_FALSE(f.q(Metric::kFalseBlockShare, "login").has_value());
  EXPECT_EQ(f.q(Metric::kFalseAllows, "", "", "", MetricWindow{0s, 1s}), 0.0);
  EXPECT_EQ(f.q(Metric::kFalseAllows, "", "", "", MetricWindow{1s, 2s}), 10.0);
  EXPECT_EQ(f.q(Metric::kWronglyBlockedClients, "", "", "", MetricWindow{1s, 2s}), 1.0);
  const MetricsResults r = f.m->results();
  EXPECT_EQ(r.truthWorstClient, "client-4");
  EXPECT_EQ(r.policies[0].wronglyBlocked, std::vector<std::string>{"client-4"});
}

TEST(MetricsCollector, WindowsHaveTheirOwnAccumulators) {
  Fixture f;
  f.complete(100ms, 10ms, 0, 0, 200);         // done 0.11s: window 0
  f.complete(900ms, 200ms, 0, 0, 500);        // done 1.1s: window 1 (by completion time)
  f.complete(1500ms, 30ms, 1, 1, 200);        // window 1
  f.complete(2500ms, 30ms, 1, 1, 200);        // neither
  const MetricWindow w0{0s, 1s}, w1{1s, 2s};
  EXPECT_EQ(f.q(Metric::kRequests, "", "", "", w0), 1.0);
  EXPECT_EQ(f.q(Metric::kRequests, "", "", "", w1), 2.0);
  EXPECT_EQ(f.q(Metric::kRequests, "login", "", "", w1), 1.0);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kThroughput, "", "", "", w1), 2.0);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kErrorRate, "", "", "", w1), 0.5);
  EXPECT_DOUBLE_EQ(*f.q(Metric::kMaxLatency, "", "api", "", w1), 0.2);
  EXPECT_FALSE(f.q(Metric::kP50Latency, "login", "", "", w0).has_value());
  EXPECT_FALSE(f.q(Metric::kRequests, "", "", "", MetricWindow{0s, 2s}).has_value());  // not registered
  EXPECT_EQ(f.q(Metric::kRequests), 4.0);
}

TEST(MetricsCollector, TimelineBucketsHoldWhatHappenedSinceTheLastCloseAndTheGauges) {
  Fixture f;
  std::vector<TimelineBucket> buckets;
  f.m->setTimelineSink([&](const TimelineBucket& b) { buckets.push_back(b); });
  PolicyDecision reject;
  reject.applied = true;
  reject.verdict = reject.wouldBe = Verdict::kReject;
  f.report(100ms, 1, 0, 2, reject);
  f.complete(100ms, 10ms, 0, 0, 200);
  f.complete(200ms, 30ms, 0, 0, 502, RequestOutcome::kConnectFailure);
  f.tried(300ms, 0, 0, 0, 1, CallOutcome::response(500));
  GaugeSample g;
  g.breakers.push_back(BreakerGauge{"api", "", BreakerState::kOpen});
  g.backends.push_back(QueueGauge{"api", "http://a:1", 7, 2, 2});
  f.m->closeBucket(kStart + 1s, g);
  f.m->closeBucket(kStart + 2s, GaugeSample{});  // nothing happened
  f.complete(2100ms, 5ms, 0, 0, 200);
  f.m->closeBucket(kStart + 2500ms, GaugeSample{});  // the final, partial bucket

  ASSERT_EQ(buckets.size(), 3u);
  const TimelineBucket& b0 = buckets[0];
  EXPECT_EQ(b0.index, 0u);
  EXPECT_EQ(b0.start, kStart);
  EXPECT_EQ(b0.end, kStart + 1s);
  EXPECT_EQ(b0.requests, 2u);
  EXPECT_EQ(b0.statusClasses[statusClassIndex(502)], 1u);
  EXPECT_EQ(b0.outcomes[static_cast<std::size_t>(RequestOutcome::kConnectFailure)], 1u);
  EXPECT_EQ(b0.retries, 1u);
  EXPECT_EQ(b0.tryFailures, 1u);
  EXPECT_EQ(b0.max, Duration{30ms});
  EXPECT_NEAR(static_cast<double>(b0.p50->count()), 10e6, 10e6 * 0.004);
  ASSERT_EQ(b0.policies.size(), 3u);
  EXPECT_EQ(b0.policies[2].name, "login-limit");
  EXPECT_EQ(b0.policies[2].rejected, 1u);
  ASSERT_EQ(b0.gauges.breakers.size(), 1u);
  EXPECT_EQ(b0.gauges.breakers[0].state, BreakerState::kOpen);
  EXPECT_EQ(b0.gauges.backends[0].queued, 7u);

  const TimelineBucket& b1 = buckets[1];
  EXPECT_EQ(b1.start, kStart + 1s);
  EXPECT_EQ(b1.requests, 0u);
  EXPECT_FALSE(b1.p50.has_value());
  EXPECT_FALSE(b1.max.has_value());
  EXPECT_EQ(b1.policies[2].rejected, 0u);

  EXPECT_EQ(buckets[2].start, kStart + 2s);
  EXPECT_EQ(buckets[2].end, kStart + 2500ms);
  EXPECT_EQ(buckets[2].requests, 1u);
  EXPECT_EQ(buckets[2].max, Duration{5ms});

  const nlohmann::json j = timelineBucketToJson(b0, kStart);
  EXPECT_EQ(j["start_ms"], 0.0);
  EXPECT_EQ(j["end_ms"], 1000.0);
  EXPECT_EQ(j["requests"], 2);
  EXPECT_EQ(j["status"]["5xx"], 1);
  EXPECT_EQ(j["outcomes"]["connect_failure"], 1);
  EXPECT_EQ(j["latency"]["max_ms"], 30.0);
  EXPECT_EQ(j["policies"][2]["name"], "login-limit");
  EXPECT_EQ(j["policies"][2]["route"], "login");
  EXPECT_EQ(j["breakers"][0]["state"], "open");
  EXPECT_EQ(j["backends"][0]["queued"], 7);
  EXPECT_TRUE(timelineBucketToJson(buckets[1], kStart)["latency"]["p50_ms"].is_null());
  const std::string line = timelineBucketLine(b0, kStart);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(nlohmann::json::parse(line), j);
}

TEST(MetricsCollector, WatchedMetricsAreEvaluatedOverEachBucketAlone) {
  const std::vector<MetricRef> watch = {
      MetricRef{Metric::kErrorRate, "", "api", "", std::nullopt},
      MetricRef{Metric::kP99Latency, "login", "", "", std::nullopt},
      MetricRef{Metric::kThroughput, "", "", "", MetricWindow{0s, 1s}},  // window ignored per bucket
      MetricRef{Metric::kRejectedShare, "login", "", "", std::nullopt},
      MetricRef{Metric::kFalseBlockShare, "", "", "", std::nullopt},  // ground truth: no bucket value
      MetricRef{Metric::kErrorRate, "nope", "", "", std::nullopt},   // unknown route
  };
  Fixture f({}, 10000, watch);
  std::vector<TimelineBucket> buckets;
  f.m->setTimelineSink([&](const TimelineBucket& b) { buckets.push_back(b); });
  // Bucket 0: service api 1 error of 4; login 2 requests (20ms, 40ms), one of 2 decisions rejected.
  for (int i = 0; i < 3; ++i) f.complete(100ms, 5ms, 0, 0, 200);
  f.complete(200ms, 5ms, 0, 0, 503);
  f.complete(300ms, 20ms, 1, 1, 200);
  f.complete(400ms, 40ms, 1, 1, 200);
  PolicyDecision allow, reject;
  allow.applied = reject.applied = true;
  allow.verdict = allow.wouldBe = Verdict::kAllow;
  reject.verdict = reject.wouldBe = Verdict::kReject;
  f.report(300ms, 1, 0, 1, allow);
  f.report(400ms, 1, 0, 1, reject);
  f.m->closeBucket(kStart + 1s, GaugeSample{});
  // Bucket 1 (half a second): only service api, no errors; nothing on login.
  f.complete(1100ms, 5ms, 0, 0, 200);
  f.m->closeBucket(kStart + 1500ms, GaugeSample{});

  ASSERT_EQ(buckets.size(), 2u);
  const auto& w0 = buckets[0].watched;
  ASSERT_EQ(w0.size(), watch.size());
  EXPECT_DOUBLE_EQ(*w0[0], 0.25);
  EXPECT_NEAR(*w0[1], 0.040, 0.040 * 0.01);
  EXPECT_DOUBLE_EQ(*w0[2], 6.0);  // 6 completions over a 1 s bucket
  EXPECT_DOUBLE_EQ(*w0[3], 0.5);
  EXPECT_FALSE(w0[4].has_value());
  EXPECT_FALSE(w0[5].has_value());
  const auto& w1 = buckets[1].watched;
  EXPECT_DOUBLE_EQ(*w1[0], 0.0);
  EXPECT_FALSE(w1[1].has_value());  // no login request completed in it
  EXPECT_DOUBLE_EQ(*w1[2], 2.0);    // 1 completion over 0.5 s
  EXPECT_FALSE(w1[3].has_value());  // no decision
  // The whole-run answers are unchanged by watching.
  EXPECT_DOUBLE_EQ(*f.m->query(watch[0]), 1.0 / 5.0);
}

core::Event breaker(Duration at, std::string target, BreakerState from, BreakerState to) {
  core::BreakerStateChanged e;
  e.at = kStart + at;
  e.subject = core::EventSubject{"api", std::move(target)};
  e.from = from;
  e.to = to;
  e.reason = "failure rate 60% (6/10) >= 50% over the last 10 calls";
  e.openFor = to == BreakerState::kOpen ? Duration{30s} : Duration{0};
  return e;
}

TEST(MetricsCollector, EventsAreKeptUpToTheCapAndCountedBeyondIt) {
  Fixture f({{0s, 1s}}, /*maxEvents=*/3);
  f.m->onEvent(breaker(100ms, "http://a:2", BreakerState::kClosed, BreakerState::kOpen));
  f.m->onEvent(breaker(200ms, "http://a:2", BreakerState::kOpen, BreakerState::kHalfOpen));
  core::OutlierEjected ej;
  ej.at = kStart + 300ms;
  ej.subject = core::EventSubject{"api", "http://a:1"};
  ej.reason = "5 consecutive 5xx >= 5";
  ej.ejectedFor = 30s;
  f.m->onEvent(ej);
  f.m->onEvent(breaker(1500ms, "", BreakerState::kClosed, BreakerState::kOpen));  // beyond the cap
  core::OutlierReturned ret;
  ret.at = kStart + 2s;
  ret.subject = core::EventSubject{"api", "http://a:1"};
  ret.reason = "ejection of 30s elapsed";
  f.m->onEvent(ret);

  const MetricsResults r = f.m->results();
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.droppedEvents, 2u);
  EXPECT_EQ(r.events[0].kind, ResilienceEventKind::kBreaker);
  EXPECT_EQ(r.events[0].from, "closed");
  EXPECT_EQ(r.events[0].to, "open");
  EXPECT_EQ(r.events[0].target, "http://a:2");
  EXPECT_EQ(r.events[0].duration, Duration{30s});
  EXPECT_EQ(r.events[2].kind, ResilienceEventKind::kEjection);
  EXPECT_EQ(r.events[2].reason, "5 consecutive 5xx >= 5");
  EXPECT_EQ(r.breakerOpens, 2u);
  EXPECT_EQ(r.ejections, 1u);
  EXPECT_EQ(r.services[0].breakerOpens, 2u);
  EXPECT_EQ(r.services[0].targets[1].breakerOpens, 1u);
  EXPECT_EQ(r.services[0].targets[0].ejections, 1u);
  EXPECT_EQ(r.services[0].targets[0].returns, 1u);
  EXPECT_EQ(f.q(Metric::kBreakerOpens), 2.0);
  EXPECT_EQ(f.q(Metric::kBreakerOpens, "", "api"), 2.0);
  EXPECT_EQ(f.q(Metric::kBreakerOpens, "", "auth"), 0.0);
  EXPECT_EQ(f.q(Metric::kBreakerOpens, "", "", "", MetricWindow{0s, 1s}), 1.0);
  EXPECT_EQ(f.q(Metric::kEjections, "", "api"), 1.0);

  const nlohmann::json j = metricsToJson(r);
  EXPECT_EQ(j["dropped_events"], 2);
  EXPECT_EQ(j["events"][0]["kind"], "breaker");
  EXPECT_EQ(j["events"][0]["at_ms"], 100.0);
  EXPECT_EQ(j["events"][0]["duration_ms"], 30000.0);
  EXPECT_EQ(j["events"][2]["kind"], "ejection");
}

TEST(MetricsCollector, HeavyClientsAreTheTopOnePercent) {
  // 200 clients: the top 1% (2 clients) sent 100 each with half rejected; the others one each.
  Fixture f;
  for (ClientId c = 0; c < 2; ++c)
    for (int i = 0; i < 100; ++i)
      f.complete(10ms, 1ms, 0, 0, i % 2 == 0 ? 429 : 200, i % 2 == 0 ? RequestOutcome::kRateLimited : RequestOutcome::kUpstream,
                 c + 50);
  for (ClientId c = 100; c < 298; ++c) f.complete(10ms, 1ms, 0, 0, 200, RequestOutcome::kUpstream, c);
  f.complete(10ms, 1ms, 0, 0, 429, RequestOutcome::kRateLimited, 120);
  const LoadSplit s = f.m->loadSplit();
  EXPECT_EQ(s.heavyClients, 2u);
  EXPECT_EQ(s.heavyRequests, 200u);
  EXPECT_DOUBLE_EQ(*s.heavyRejectedShare(), 0.5);
  EXPECT_EQ(s.lightClients, 198u);
  EXPECT_EQ(s.lightRequests, 199u);
  EXPECT_DOUBLE_EQ(*s.lightRejectedShare(), 1.0 / 199.0);
  const MetricsResults r = f.m->results();
  EXPECT_EQ(r.clientCount, 200u);
  ASSERT_EQ(r.topClients.size(), 3u);  // topClients = 3
  EXPECT_EQ(r.topClients[0].name, "client-50");
  EXPECT_EQ(r.topClients[1].name, "client-51");
  EXPECT_EQ(r.topClients[2].name, "client-120");
  EXPECT_EQ(r.topClients[0].rejected, 50u);
  // One client only: it is the heavy one, light is empty.
  Fixture one;
  one.complete(10ms, 1ms, 0, 0, 200);
  EXPECT_EQ(one.m->loadSplit().heavyClients, 1u);
  EXPECT_FALSE(one.m->loadSplit().lightRejectedShare().has_value());
}

TEST(MetricsJson, ResultsHaveStableFieldsAndDeterministicOutput) {
  Fixture f;
  f.complete(100ms, 12345678ns, 0, 0, 200, RequestOutcome::kUpstream, 3);
  f.tried(100ms, 0, 0, 0, 0, CallOutcome::response(200));
  for (int i = 0; i < 12; ++i) f.decide(200ms, 0, 0, 3);
  f.m->finish(kStart + 2s);
  const nlohmann::json j = metricsToJson(f.m->results());
  for (const char* key : {"duration_ms", "overall", "routes", "services", "policies", "truth", "clients",
                          "unrouted_requests", "breaker_opens", "ejections", "events", "dropped_events"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["duration_ms"], 2000.0);
  EXPECT_EQ(j["overall"]["requests"], 1);
  EXPECT_EQ(j["overall"]["latency"]["max_ms"], 12.346);  // rounded to microseconds
  EXPECT_EQ(j["overall"]["latency"]["count"], 1);
  EXPECT_EQ(j["routes"][0]["name"], "api");
  EXPECT_TRUE(j["routes"][1]["latency"]["p50_ms"].is_null());
  EXPECT_TRUE(j["routes"][1]["error_rate"].is_null());
  EXPECT_EQ(j["services"][0]["targets"][0]["tries"], 1);
  EXPECT_EQ(j["policies"][0]["name"], "api-fixed");
  EXPECT_EQ(j["policies"][0]["decisions"], 12);
  EXPECT_EQ(j["policies"][0]["rejected"], 2);
  EXPECT_EQ(j["policies"][0]["truth"]["false_allows"], 0);
  EXPECT_EQ(j["policies"][0]["truth"]["worst_overshoot"]["ratio"], 1.0);
  EXPECT_EQ(j["policies"][0]["truth"]["worst_overshoot"]["client"], "client-3");
  EXPECT_EQ(j["policies"][0]["truth"]["worst_overshoot"]["policy"], "api-fixed");
  EXPECT_EQ(j["policies"][0]["truth"]["worst_overshoot"]["at_ms"], 200.0);
  EXPECT_TRUE(j["policies"][2]["truth"]["worst_overshoot"].is_null());
  EXPECT_EQ(j["clients"]["count"], 1);
  EXPECT_EQ(j["clients"]["heavy"]["clients"], 1);
  EXPECT_TRUE(j["clients"]["light"]["rejected_share"].is_null());
  EXPECT_EQ(j.dump(), metricsToJson(f.m->results()).dump());
}

}  // namespace
}  // namespace gatelab::sim
