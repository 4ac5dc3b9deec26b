// buildRuntime: one ServiceRuntime per service holding the core objects its config describes,
// wired to the caller's EventSink; the built objects behave as configured (driven with explicit
// times, no clock).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "tests/gateway/config/config_test_support.hpp"

namespace gatelab::config {
namespace {

using namespace std::chrono_literals;
using core::atOffset;
using core::BreakerStateChanged;
using core::OutlierEjected;
using core::TimePoint;
using core::VectorEventSink;
using core::resilience::BreakerState;
using core::resilience::CallOutcome;
using core::resilience::CircuitBreaker;
using core::resilience::GiveUpReason;
using core::resilience::LbAlgorithm;
using core::resilience::PickRequest;
using core::resilience::RetryQuery;
using test::dump;
using ::testing::HasSubstr;

std::shared_ptr<const GatewayConfig> load(const std::string& yaml) {
  const LoadResult r = loadConfigString(yaml, test::kFile);
  EXPECT_TRUE(r.ok()) << dump(r);
  return r.config;
}

// One service "s" with the given targets and extra lines.
std::string svc(std::string_view lines, std::string_view targets = "[http://h:1, http://h:2]") {
  return "version: 1\nservices:\n  - name: s\n    targets: " + std::string(targets) + "\n" + std::string(lines);
}

// A built runtime and the sink its events go to (the sink outlives the runtime: declared first).
struct Built {
  std::unique_ptr<VectorEventSink> events = std::make_unique<VectorEventSink>();
  std::unique_ptr<GatewayRuntime> runtime;
  ServiceRuntime& service(std::size_t i = 0) { return runtime->services.at(i); }
};

Built build(const std::string& yaml, TimePoint start = TimePoint{}) {
  Built b;
  auto config = load(yaml);
  if (!config) return b;
  BuildResult r = buildRuntime(config, *b.events, start);
  EXPECT_TRUE(r.ok()) << formatDiagnostics(r.diagnostics);
  b.runtime = std::move(r.runtime);
  return b;
}

// Deterministic 64-bit draws (splitmix64).
std::uint64_t nextDraw(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

TEST(ConfigRuntime, BuildsTheExampleServicesWiredToTheCallersSink) {
  // examples/gateway.yaml: one ServiceRuntime per service, each object as configured, every
  // breaker reporting to the sink given to buildRuntime.
  const LoadResult loaded = loadConfigFile(std::string(GATELAB_SOURCE_DIR) + "/examples/gateway.yaml");
  ASSERT_TRUE(loaded.ok()) << dump(loaded);
  VectorEventSink events;
  BuildResult r = buildRuntime(loaded.config, events);
  ASSERT_TRUE(r.ok()) << formatDiagnostics(r.diagnostics);
  const GatewayRuntime& rt = *r.runtime;
  EXPECT_EQ(rt.events, &events);
  EXPECT_EQ(rt.ownedEvents, nullptr);
  ASSERT_EQ(rt.services.size(), 4U);
  for (std::size_t i = 0; i < rt.services.size(); ++i) {
    EXPECT_EQ(rt.services[i].config, &loaded.config->services[i]);
    ASSERT_NE(rt.services[i].targets, nullptr);
    ASSERT_NE(rt.services[i].loadBalancer, nullptr);
    EXPECT_EQ(rt.services[i].targets->service(), loaded.config->services[i].name);
  }

  const ServiceRuntime& users = *rt.findService("users");
  EXPECT_EQ(users.loadBalancer->algorithm(), LbAlgorithm::kConsistentHash);
  EXPECT_EQ(users.targets->size(), 2U);
  EXPECT_EQ(users.targets->target(0).weight, 90U);
  EXPECT_TRUE(users.breakers.empty());
  EXPECT_EQ(users.breakerFor(0), nullptr);
  ASSERT_NE(users.retryPolicy, nullptr);
  ASSERT_NE(users.retryBudget, nullptr);
  EXPECT_EQ(users.outlierDetector, nullptr);
  EXPECT_EQ(users.timeouts.perTry, 2s);

  const ServiceRuntime& orders = *rt.findService("orders");
  ASSERT_EQ(orders.breakers.size(), 1U);
  EXPECT_EQ(orders.breakers[0]->subject(), (core::EventSubject{"orders", ""}));
  EXPECT_EQ(orders.breakers[0]->config().windowSize, 20U);
  EXPECT_EQ(orders.breakerFor(0), orders.breakers[0].get());
  EXPECT_EQ(orders.retryPolicy->config().maxRetries, 2U);
  EXPECT_EQ(orders.retryBudget->config().minConcurrency, 3U);
  EXPECT_EQ(orders.timeouts.overall, 4s);

  const ServiceRuntime& search = *rt.findService("search");
  EXPECT_EQ(search.loadBalancer->algorithm(), LbAlgorithm::kLeastRequest);
  ASSERT_EQ(search.breakers.size(), 3U);  // per_target
  EXPECT_EQ(search.breakers[2]->subject(), (core::EventSubject{"search", "http://10.0.1.3:9200"}));
  EXPECT_EQ(search.breakerFor(1), search.breakers[1].get());
  EXPECT_TRUE(search.breakers[0]->config().dryRun);
  ASSERT_NE(search.outlierDetector, nullptr);
  EXPECT_EQ(search.outlierDetector->config().consecutiveGatewayFailure, 3U);
  EXPECT_EQ(search.retryPolicy, nullptr);

  EXPECT_EQ(rt.findService("nope"), nullptr);
  EXPECT_EQ(events.size(), 0U);  // nothing starts forced open or disabled
}

TEST(ConfigRuntime, WithoutASinkTheRuntimeOwnsANullSink) {
  // The one-argument overload keeps working (the validate CLI and the fuzz target use it).
  BuildResult r = buildRuntime(load(svc("    circuit_breaker: {consecutive_failures: 1}\n")));
  ASSERT_TRUE(r.ok()) << formatDiagnostics(r.diagnostics);
  ASSERT_NE(r.runtime->ownedEvents, nullptr);
  EXPECT_EQ(r.runtime->events, r.runtime->ownedEvents.get());
  // The breaker reports into it without anyone else holding a sink.
  CircuitBreaker& b = *r.runtime->services[0].breakers.at(0);
  const auto adm = b.tryAcquire(atOffset(1s));
  b.onResult(adm.permit, CallOutcome::response(500), atOffset(1s));
  EXPECT_EQ(b.state(), BreakerState::kOpen);
}

TEST(ConfigRuntime, BuiltBreakerTripsOpensAndProbesExactlyAsConfigured) {
  // consecutive_failures 3, open_for 10s, 2 probes of which 2 must succeed; fallback 429 "busy".
  Built b = build(svc("    circuit_breaker: {consecutive_failures: 3, open_for: 10s, half_open_calls: 2, "
                      "half_open_successes: 2, fallback: {status: 429, body: busy}}\n"));
  ASSERT_TRUE(b.runtime);
  CircuitBreaker& cb = *b.service().breakers.at(0);
  const TimePoint t0 = atOffset(100s);
  for (int i = 0; i < 2; ++i) {
    const TimePoint t = t0 + std::chrono::milliseconds{i};
    const auto adm = cb.tryAcquire(t);
    ASSERT_TRUE(adm.admitted());
    cb.onResult(adm.permit, CallOutcome::response(503), t);
  }
  EXPECT_EQ(cb.state(), BreakerState::kClosed);  // 2 failures: below the threshold
  const TimePoint trip = t0 + 5ms;
  const auto third = cb.tryAcquire(trip);
  cb.onResult(third.permit, CallOutcome::connectFailure(), trip);
  EXPECT_EQ(cb.state(), BreakerState::kOpen);
  const auto changes = b.events->all<BreakerStateChanged>();
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_EQ(changes[0].at, trip);
  EXPECT_EQ(changes[0].to, BreakerState::kOpen);
  EXPECT_EQ(changes[0].openFor, 10s);
  EXPECT_EQ(changes[0].subject, (core::EventSubject{"s", ""}));
  EXPECT_THAT(changes[0].reason, HasSubstr("3 consecutive failures >= 3"));

  // 1ns before the end of the open period: still failing fast with the configured answer.
  const auto early = cb.tryAcquire(trip + 10s - 1ns);
  EXPECT_FALSE(early.admitted());
  EXPECT_EQ(early.retryAfter, 1ns);
  ASSERT_NE(early.fallback, nullptr);
  EXPECT_EQ(early.fallback->status, 429);
  EXPECT_EQ(early.fallback->body, "busy");
  // At the end exactly: half-open, two probes and no third.
  const TimePoint half = trip + 10s;
  const auto p1 = cb.tryAcquire(half);
  const auto p2 = cb.tryAcquire(half);
  EXPECT_TRUE(p1.admitted());
  EXPECT_TRUE(p2.admitted());
  EXPECT_EQ(p1.state, BreakerState::kHalfOpen);
  EXPECT_FALSE(cb.tryAcquire(half).admitted());
  cb.onResult(p1.permit, CallOutcome::response(200), half + 1ms);
  EXPECT_EQ(cb.state(), BreakerState::kHalfOpen);  // 1 of 2 successes
  cb.onResult(p2.permit, CallOutcome::response(200), half + 2ms);
  EXPECT_EQ(cb.state(), BreakerState::kClosed);
}

TEST(ConfigRuntime, BuiltRateBreakerEvaluatesFromMinimumCalls) {
  // failure_rate 50% over a 4-call window, minimum_calls 4: three failures in three calls do not
  // trip; the 4th call (a success) is the first evaluated and 3/4 >= 50% trips.
  Built b = build(svc("    circuit_breaker: {failure_rate: 50%, window: 4, minimum_calls: 4}\n"));
  ASSERT_TRUE(b.runtime);
  CircuitBreaker& cb = *b.service().breakers.at(0);
  for (int i = 0; i < 3; ++i) {
    const auto adm = cb.tryAcquire(atOffset(1s));
    cb.onResult(adm.permit, CallOutcome::timeout(), atOffset(1s));
  }
  EXPECT_EQ(cb.state(), BreakerState::kClosed);
  const auto adm = cb.tryAcquire(atOffset(2s));
  cb.onResult(adm.permit, CallOutcome::response(200), atOffset(2s));
  EXPECT_EQ(cb.state(), BreakerState::kOpen);
  EXPECT_THAT(b.events->all<BreakerStateChanged>().at(0).reason, HasSubstr("failure rate 75% (3/4) >= 50%"));
}

TEST(ConfigRuntime, BuiltLoadBalancersHonourWeights) {
  // Default (weighted, smooth WRR): exact 3:1 shares in every cycle of 4 picks.
  {
    Built b = build(svc("", "[{url: http://h:1, weight: 3}, http://h:2]"));
    ASSERT_TRUE(b.runtime);
    ServiceRuntime& s = b.service();
    std::array<int, 2> counts{};
    for (int i = 0; i < 400; ++i) {
      const auto pick = s.loadBalancer->pick(*s.targets, PickRequest{atOffset(1s), 0, 0, 0});
      ASSERT_TRUE(pick.ok());
      ++counts.at(pick.target);
    }
    EXPECT_EQ(counts[0], 300);
    EXPECT_EQ(counts[1], 100);
  }
  // weighted_random: within 1% of 90/10 over 100k draws.
  {
    Built b = build(svc("    load_balancer: weighted_random\n", "[{url: http://h:1, weight: 90}, {url: http://h:2, weight: 10}]"));
    ASSERT_TRUE(b.runtime);
    ServiceRuntime& s = b.service();
    std::uint64_t state = 42;
    int first = 0;
    constexpr int kPicks = 100'000;
    for (int i = 0; i < kPicks; ++i) {
      const auto pick = s.loadBalancer->pick(*s.targets, PickRequest{atOffset(1s), nextDraw(state), 0, 0});
      if (pick.target == 0) ++first;
    }
    EXPECT_NEAR(static_cast<double>(first) / kPicks, 0.9, 0.01);
  }
}

TEST(ConfigRuntime, ForcedOpenPerTargetBreakersStartOpenAndBlockTheirTargets) {
  // mode forced_open, per_target: one breaker per target, forced open at the runtime's start,
  // reported to the sink and mirrored into the TargetSet.
  const TimePoint start = atOffset(5s);
  Built b = build(svc("    circuit_breaker: {consecutive_failures: 5, mode: forced_open, per_target: true}\n"), start);
  ASSERT_TRUE(b.runtime);
  ServiceRuntime& s = b.service();
  ASSERT_EQ(s.breakers.size(), 2U);
  EXPECT_EQ(s.breakers[1]->subject(), (core::EventSubject{"s", "http://h:2"}));
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(s.breakers[i]->state(), BreakerState::kForcedOpen);
    EXPECT_EQ(s.targets->blockedUntil(i), TimePoint::max());
    EXPECT_FALSE(s.breakerFor(i)->tryAcquire(start + 1h).admitted());
  }
  const auto changes = b.events->all<BreakerStateChanged>();
  ASSERT_EQ(changes.size(), 2U);
  EXPECT_EQ(changes[0].at, start);
  EXPECT_EQ(changes[0].to, BreakerState::kForcedOpen);
  EXPECT_THAT(changes[0].reason, HasSubstr("mode: forced_open in the config"));
}

TEST(ConfigRuntime, DisabledBreakerAdmitsEverything) {
  // mode disabled: every call admitted, nothing recorded, whatever fails.
  Built b = build(svc("    circuit_breaker: {consecutive_failures: 1, mode: disabled}\n"));
  ASSERT_TRUE(b.runtime);
  CircuitBreaker& cb = *b.service().breakers.at(0);
  EXPECT_EQ(cb.state(), BreakerState::kDisabled);
  for (int i = 0; i < 5; ++i) {
    const auto adm = cb.tryAcquire(atOffset(1s));
    ASSERT_TRUE(adm.admitted());
    cb.onResult(adm.permit, CallOutcome::response(500), atOffset(1s));
  }
  EXPECT_EQ(cb.state(), BreakerState::kDisabled);
}

TEST(ConfigRuntime, DryRunBreakerTransitionsButAdmits) {
  // mode dry_run: the breaker trips (event flagged dryRun) and still admits the next call.
  Built b = build(svc("    circuit_breaker: {consecutive_failures: 1, mode: dry_run}\n"));
  ASSERT_TRUE(b.runtime);
  CircuitBreaker& cb = *b.service().breakers.at(0);
  const auto adm = cb.tryAcquire(atOffset(1s));
  cb.onResult(adm.permit, CallOutcome::response(500), atOffset(1s));
  EXPECT_EQ(cb.state(), BreakerState::kOpen);
  EXPECT_TRUE(b.events->all<BreakerStateChanged>().at(0).dryRun);
  const auto next = cb.tryAcquire(atOffset(2s));
  EXPECT_TRUE(next.admitted());
  EXPECT_TRUE(next.dryRunWouldReject);
}

TEST(ConfigRuntime, OutlierDetectorEjectsFromTheBuiltTargetSet) {
  // consecutive_5xx 2 on three targets: two 503s from target 0 eject it for base_ejection_time;
  // the balancer stops picking it and picks it again at exactly the end of the ejection.
  Built b = build(svc("    outlier_detection: {consecutive_5xx: 2, base_ejection_time: 30s}\n",
                      "[http://h:1, http://h:2, http://h:3]"));
  ASSERT_TRUE(b.runtime);
  ServiceRuntime& s = b.service();
  const TimePoint t = atOffset(10s);
  s.outlierDetector->onResult(0, CallOutcome::response(503), t);
  s.outlierDetector->onResult(0, CallOutcome::response(503), t);
  EXPECT_FALSE(s.targets->available(0, t));
  ASSERT_EQ(b.events->all<OutlierEjected>().size(), 1U);
  EXPECT_EQ(b.events->all<OutlierEjected>()[0].subject.target, "http://h:1");
  for (int i = 0; i < 10; ++i) {
    EXPECT_NE(s.loadBalancer->pick(*s.targets, PickRequest{t + 1s, 0, 0, 0}).target, 0U);
  }
  EXPECT_FALSE(s.targets->available(0, t + 30s - 1ns));
  EXPECT_TRUE(s.targets->available(0, t + 30s));
}

TEST(ConfigRuntime, RetryPolicyAndBudgetComeFromTheConfig) {
  // attempts 1 on [503] with a budget of at least 1 concurrent retry.
  Built b = build(svc("    retries: {attempts: 1, on: [503], backoff: {base: 0s}, budget: {percent: 50%, "
                      "min_concurrency: 1}}\n"));
  ASSERT_TRUE(b.runtime);
  ServiceRuntime& s = b.service();
  RetryQuery q{CallOutcome::response(503), 0, "GET", atOffset(1s)};
  auto d = s.retryPolicy->decide(q, s.retryBudget.get());
  EXPECT_TRUE(d.retry());
  EXPECT_TRUE(d.budgetHeld);
  EXPECT_EQ(d.delay, 0s);
  // The budget's single slot is taken: a second concurrent retry is refused.
  EXPECT_EQ(s.retryPolicy->decide(q, s.retryBudget.get()).reason, GiveUpReason::kBudgetExceeded);
  // 502 is not in `on`; a second retry exceeds attempts.
  q.outcome = CallOutcome::response(502);
  EXPECT_EQ(s.retryPolicy->decide(q, nullptr).reason, GiveUpReason::kNotRetryable);
  q.outcome = CallOutcome::response(503);
  q.retriesDone = 1;
  EXPECT_EQ(s.retryPolicy->decide(q, nullptr).reason, GiveUpReason::kAttemptsExhausted);
}

TEST(ConfigRuntime, ConfigBuiltInCodeThatTheCoreRejectsGivesDiagnosticsNotACrash) {
  // A GatewayConfig assembled in code skips the loader: the runtime checks the core's rules
  // itself and names the service and field.
  auto config = std::make_shared<GatewayConfig>();
  config->source = "code";
  ServiceConfig s;
  s.name = "s";
  s.targets.push_back(Target{TargetUrl{"http", "h", 1}, 1});
  CircuitBreakerConfig cb;
  cb.breaker.failureRate.reset();  // no trip condition at all
  s.circuitBreaker = cb;
  config->services.push_back(s);
  ServiceConfig empty;
  empty.name = "e";
  config->services.push_back(empty);
  const BuildResult r = buildRuntime(config);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 2U) << formatDiagnostics(r.diagnostics);
  EXPECT_EQ(r.diagnostics[0].path, "services[0].circuit_breaker");
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("set at least one of consecutive_failures"));
  EXPECT_EQ(r.diagnostics[1].path, "services[1].targets");
  EXPECT_THAT(r.diagnostics[1].message, HasSubstr("at least one target"));
}

}  // namespace
}  // namespace gatelab::config
