// SimGateway: the real core (router, rate limits, breaker, timeouts, retries, budget, balancing,
// outlier detection) driven in virtual time against mock backends. Every test sets explicit times
// and constant service times, so each latency is known to the nanosecond.

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "gateway/core/events.hpp"
#include "sim/engine/backend.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/gateway/sim_gateway.hpp"

namespace gatelab::sim {
namespace {

using namespace std::chrono_literals;
using core::atOffset;
using core::Duration;
using core::TimePoint;
using core::resilience::OutcomeKind;

// Keeps copies of everything reported (decisions are only valid during the call).
struct Recorder final : GatewayObserver {
  struct RateLimit {
    RateLimitReport report;
    core::ratelimit::PolicyDecision decision;
  };
  std::vector<RateLimit> rateLimits;
  std::vector<TryReport> tries;
  std::vector<CompletionReport> completions;
  std::function<void(const CompletionReport&)> onCompleteHook;

  void onRateLimit(const RateLimitReport& r) override {
    rateLimits.push_back({r, *r.decision});
    rateLimits.back().report.decision = nullptr;
  }
  void onTry(const TryReport& r) override { tries.push_back(r); }
  void onComplete(const CompletionReport& r) override {
    completions.push_back(r);
    if (onCompleteHook) onCompleteHook(r);
  }
  const CompletionReport& only() const {
    EXPECT_EQ(completions.size(), 1U);
    return completions.at(0);
  }
};

// Backend settings per (service name, target index); the default is a 10ms constant server with
// an unbounded queue.
using BackendSetup = std::function<void(const std::string& service, std::size_t target, BackendConfig&)>;

// Declaration order is destruction order reversed: the gateway goes first (it cancels its calls on
// the backends), then the backends, the runtime, the sink, the simulation.
struct Harness {
  Simulation sim;
  core::VectorEventSink events;
  std::unique_ptr<config::GatewayRuntime> runtime;
  std::vector<std::vector<std::unique_ptr<MockBackend>>> backends;
  Recorder recorder;
  std::unique_ptr<SimGateway> gateway;

  explicit Harness(const std::string& yaml, const BackendSetup& setup = {}, std::uint64_t seed = 7)
      : sim(RunSeed{seed, 0}) {
    const config::LoadResult loaded = config::loadConfigString(yaml, "test.yaml");
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.errorText();
      return;
    }
    config::BuildResult built = config::buildRuntime(loaded.config, events);
    if (!built.ok()) {
      ADD_FAILURE() << config::formatDiagnostics(built.diagnostics);
      return;
    }
    runtime = std::move(built.runtime);
    std::vector<std::vector<MockBackend*>> table(runtime->services.size());
    backends.resize(runtime->services.size());
    for (std::size_t s = 0; s < runtime->services.size(); ++s) {
      const auto& service = runtime->services[s];
      for (std::size_t t = 0; t < service.targets->size(); ++t) {
        BackendConfig cfg;
        cfg.service = service.config->name;
        cfg.target = service.targets->target(t).name;
        cfg.servers = 1000;
        cfg.serviceTime = ServiceTime::constant(10ms);
        if (setup) setup(cfg.service, t, cfg);
        backends[s].push_back(std::make_unique<MockBackend>(sim, cfg));
        table[s].push_back(backends[s].back().get());
      }
    }
    gateway = std::make_unique<SimGateway>(sim, *runtime, std::move(table), recorder,
                                           sim.random().stream("gateway"));
  }

  std::uint64_t send(std::string_view path, std::string_view client = "10.0.0.1", std::string_view method = "GET") {
    core::RequestView view;
    view.method = method;
    view.path = path;
    view.host = "example.com";
    view.clientAddress = client;
    return gateway->submit(view, 0);
  }
  // Submits at `at` (runs the simulation up to it first).
  std::uint64_t sendAt(TimePoint at, std::string_view path, std::string_view client = "10.0.0.1") {
    sim.runUntil(at);
    return send(path, client);
  }
  MockBackend& backend(std::size_t service, std::size_t target) { return *backends.at(service).at(target); }

  template <typename E>
  std::vector<E> eventsOf() const {
    std::vector<E> out;
    for (const auto& e : events.events())
      if (const E* p = std::get_if<E>(&e)) out.push_back(*p);
    return out;
  }
};

// A config with one service "api" (the given targets and extra service lines) and one prefix route
// "/api" with the given policy lines.
std::string gatewayYaml(std::string_view serviceLines, std::string_view routeLines = "",
                        std::string_view targets = "[http://a:1, http://b:2]") {
  std::string y = "version: 1\nservices:\n  - name: api\n    targets: " + std::string(targets) + "\n" +
                  std::string(serviceLines) +
                  "routes:\n  - name: r\n    match: { path_prefix: /api }\n    service: api\n" + std::string(routeLines);
  return y;
}

Duration latency(const CompletionReport& c) { return c.done - c.arrival; }

TEST(SimGateway, UnroutedRequestsAnswer404And400AtOnce) {
  // No route: 404 kNotFound; a path that does not normalize: 400 kBadRequest; neither reaches a
  // backend or a limiter, and both complete inside submit() with zero latency.
  Harness h(gatewayYaml("    load_balancer: round_robin\n"));
  h.sim.runUntil(atOffset(5s));
  h.send("/nothing-here");
  h.send("/api/%zz");
  ASSERT_EQ(h.recorder.completions.size(), 2U);
  const auto& nf = h.recorder.completions[0];
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.outcome, RequestOutcome::kNotFound);
  EXPECT_EQ(nf.route, kNoRouteIndex);
  EXPECT_EQ(nf.service, kNoServiceIndex);
  EXPECT_EQ(nf.tries, 0U);
  EXPECT_EQ(latency(nf), Duration{0});
  const auto& bad = h.recorder.completions[1];
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.outcome, RequestOutcome::kBadRequest);
  EXPECT_EQ(h.backend(0, 0).stats().calls + h.backend(0, 1).stats().calls, 0U);
  EXPECT_EQ(h.gateway->stats().inFlight, 0U);
  EXPECT_EQ(h.gateway->stats().byOutcome[static_cast<std::size_t>(RequestOutcome::kNotFound)], 1U);
  EXPECT_EQ(h.gateway->stats().byOutcome[static_cast<std::size_t>(RequestOutcome::kBadRequest)], 1U);
}

TEST(SimGateway, SuccessfulRequestLatencyIsTheServiceTime) {
  // A plain request: one try, the upstream's status, latency = service time, ids 1, 2, ...
  Harness h(gatewayYaml("    load_balancer: round_robin\n"));
  EXPECT_EQ(h.sendAt(atOffset(1s), "/api/x"), 1U);
  EXPECT_EQ(h.send("/api/y"), 2U);
  h.sim.run();
  ASSERT_EQ(h.recorder.completions.size(), 2U);
  for (const auto& c : h.recorder.completions) {
    EXPECT_EQ(c.status, 200);
    EXPECT_EQ(c.outcome, RequestOutcome::kUpstream);
    EXPECT_EQ(c.tries, 1U);
    EXPECT_EQ(latency(c), 10ms);
    EXPECT_EQ(c.arrival, atOffset(1s));
  }
  // Round robin: one per target.
  EXPECT_NE(h.recorder.completions[0].target, h.recorder.completions[1].target);
  EXPECT_EQ(h.recorder.tries.size(), 2U);
}

TEST(SimGateway, RateLimitRejectAnswersTheConfiguredStatus) {
  // fixed_window 2/1s with status 503: the third request in the window is rejected with 503
  // (kRateLimited) without reaching a backend; each applied decision is reported with its cost.
  Harness h(gatewayYaml("", "    policies:\n      - rate_limit: { algorithm: fixed_window, limit: 2/1s, "
                            "key: ip, status: 503, cost: 1 }\n"));
  h.sim.runUntil(atOffset(1s));
  h.send("/api/a");
  h.send("/api/b");
  h.send("/api/c");
  h.sim.run();
  ASSERT_EQ(h.recorder.completions.size(), 3U);
  const auto& rejected = h.recorder.completions[0];  // completes inside submit, before the others
  EXPECT_EQ(rejected.request, 3U);
  EXPECT_EQ(rejected.status, 503);
  EXPECT_EQ(rejected.outcome, RequestOutcome::kRateLimited);
  EXPECT_EQ(rejected.tries, 0U);
  EXPECT_EQ(h.backend(0, 0).stats().calls + h.backend(0, 1).stats().calls, 2U);
  ASSERT_EQ(h.recorder.rateLimits.size(), 3U);
  EXPECT_EQ(h.recorder.rateLimits[2].decision.verdict, core::ratelimit::Verdict::kReject);
  EXPECT_EQ(h.recorder.rateLimits[2].report.cost, 1U);
  EXPECT_EQ(h.recorder.rateLimits[2].report.at, atOffset(1s));
}

TEST(SimGateway, ShadowPolicyNeverRejectsButMarksTheRequest) {
  // A shadow limit that would reject lets the request through, flagged shadowRejected.
  Harness h(gatewayYaml("", "    policies:\n      - rate_limit: { algorithm: fixed_window, limit: 1/1s, "
                            "key: ip, shadow: true }\n"));
  h.send("/api/a");
  h.send("/api/b");
  h.sim.run();
  ASSERT_EQ(h.recorder.completions.size(), 2U);
  EXPECT_FALSE(h.recorder.completions[0].shadowRejected);
  EXPECT_TRUE(h.recorder.completions[1].shadowRejected);
  EXPECT_EQ(h.recorder.completions[1].status, 200);
  EXPECT_EQ(h.recorder.completions[1].outcome, RequestOutcome::kUpstream);
}

TEST(SimGateway, LeakyBucketDelayIsRealWaitingAndCountsInLatency) {
  // nginx limit_req rate=10r/s burst=5 without nodelay: the second simultaneous request waits
  // 100ms before going upstream; its latency is 100ms + the 10ms service time.
  Harness h(gatewayYaml("", "    policies:\n      - rate_limit: { algorithm: leaky_bucket, limit: 10r/s, "
                            "burst: 5, key: ip }\n"));
  h.sim.runUntil(atOffset(2s));
  h.send("/api/a");
  h.send("/api/b");
  h.sim.run();
  ASSERT_EQ(h.recorder.completions.size(), 2U);
  std::map<std::uint64_t, CompletionReport> byId;
  for (const auto& c : h.recorder.completions) byId[c.request] = c;
  EXPECT_EQ(byId[1].rateLimitDelay, Duration{0});
  EXPECT_EQ(latency(byId[1]), 10ms);
  EXPECT_EQ(byId[2].rateLimitDelay, 100ms);
  EXPECT_EQ(latency(byId[2]), 110ms);
  ASSERT_EQ(h.recorder.tries.size(), 2U);
  EXPECT_EQ(h.recorder.tries[1].start, atOffset(2s) + 100ms);  // the try starts after the delay
}

TEST(SimGateway, PerTryTimeoutRetriesOnAnotherTargetAndSucceeds) {
  // Target a is slow (1s), b fast (10ms); per_try 100ms, retry on timeout without back-off: the
  // first try times out on a at 100ms, the retry avoids a and succeeds on b at 110ms.
  Harness h(gatewayYaml("    load_balancer: round_robin\n"
                        "    timeouts: { per_try: 100ms, overall: 5s }\n"
                        "    retries: { attempts: 1, on: [timeout], backoff: { base: 0s } }\n"),
            [](const std::string&, std::size_t t, BackendConfig& c) {
              if (t == 0) c.serviceTime = ServiceTime::constant(1s);
            });
  h.send("/api/x");
  h.sim.run();
  const auto& c = h.recorder.only();
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(c.outcome, RequestOutcome::kUpstream);
  EXPECT_EQ(c.tries, 2U);
  EXPECT_EQ(c.target, 1U);
  EXPECT_EQ(latency(c), 110ms);
  ASSERT_EQ(h.recorder.tries.size(), 2U);
  EXPECT_EQ(h.recorder.tries[0].target, 0U);
  EXPECT_EQ(h.recorder.tries[0].attempt, 0U);
  EXPECT_EQ(h.recorder.tries[0].outcome.kind, OutcomeKind::kTimeout);
  EXPECT_EQ(h.recorder.tries[0].outcome.latency, 100ms);
  EXPECT_EQ(h.recorder.tries[1].target, 1U);
  EXPECT_EQ(h.recorder.tries[1].attempt, 1U);
  EXPECT_EQ(h.recorder.tries[1].start, atOffset(100ms));
  EXPECT_EQ(h.backend(0, 0).stats().abandoned, 1U);  // the timed-out call was cancelled
}

TEST(SimGateway, OverallTimeoutAnswers504) {
  // One slow target, overall 300ms, no retries: 504 kTimeout at exactly 300ms.
  Harness h(gatewayYaml("    timeouts: { overall: 300ms }\n", "", "[http://a:1]"),
            [](const std::string&, std::size_t, BackendConfig& c) { c.serviceTime = ServiceTime::constant(2s); });
  h.send("/api/x");
  h.sim.run();
  const auto& c = h.recorder.only();
  EXPECT_EQ(c.status, 504);
  EXPECT_EQ(c.outcome, RequestOutcome::kTimeout);
  EXPECT_EQ(latency(c), 300ms);
  EXPECT_EQ(c.tries, 1U);
}

TEST(SimGateway, OverallTimeoutBoundsEveryRetry) {
  // per_try 100ms, overall 250ms, up to 5 retries on timeout: tries at 0, 100, 200ms; the third
  // try's deadline is the overall one (250ms), after which no retry fits: 504 at 250ms.
  Harness h(gatewayYaml("    load_balancer: round_robin\n"
                        "    timeouts: { per_try: 100ms, overall: 250ms }\n"
                        "    retries: { attempts: 5, on: [timeout], backoff: { base: 0s } }\n"),
            [](const std::string&, std::size_t, BackendConfig& c) { c.serviceTime = ServiceTime::constant(1s); });
  h.send("/api/x");
  h.sim.run();
  const auto& c = h.recorder.only();
  EXPECT_EQ(c.status, 504);
  EXPECT_EQ(c.outcome, RequestOutcome::kTimeout);
  EXPECT_EQ(c.tries, 3U);
  EXPECT_EQ(latency(c), 250ms);
  ASSERT_EQ(h.recorder.tries.size(), 3U);
  EXPECT_EQ(h.recorder.tries[2].outcome.latency, 50ms);
}

TEST(SimGateway, ConnectRefusalAnswers502) {
  // Backend down (a Down window): connect failure, no retries configured: 502 kConnectFailure
  // after the refusal latency.
  Harness h(gatewayYaml("", "", "[http://a:1]"), [](const std::string&, std::size_t, BackendConfig& c) {
    c.refusalLatency = 1ms;
  });
  h.backend(0, 0).addFailure(atOffset(0s), atOffset(10s), Down{});
  h.sendAt(atOffset(1s), "/api/x");
  h.sim.run();
  const auto& c = h.recorder.only();
  EXPECT_EQ(c.status, 502);
  EXPECT_EQ(c.outcome, RequestOutcome::kConnectFailure);
  EXPECT_EQ(latency(c), 1ms);
  EXPECT_EQ(h.backend(0, 0).stats().refusedDown, 1U);
}

TEST(SimGateway, FullQueueRefusesAnd502s) {
  // One server, no waiting room: the second simultaneous request is refused (502).
  Harness h(gatewayYaml("", "", "[http://a:1]"), [](const std::string&, std::size_t, BackendConfig& c) {
    c.servers = 1;
    c.queueCapacity = 0;
  });
  h.send("/api/x");
  h.send("/api/y");
  h.sim.run();
  ASSERT_EQ(h.recorder.completions.size(), 2U);
  EXPECT_EQ(h.recorder.completions[0].request, 2U);
  EXPECT_EQ(h.recorder.completions[0].status, 502);
  EXPECT_EQ(h.recorder.completions[0].outcome, RequestOutcome::kConnectFailure);
  EXPECT_EQ(h.recorder.completions[1].status, 200);
  EXPECT_EQ(h.backend(0, 0).stats().refusedQueueFull, 1U);
}

TEST(SimGateway, BreakerOpensFailsFastWithTheFallbackThenProbesAfterOpenFor) {
  // 3 consecutive 500s trip the breaker; while open the gateway answers the fallback status (529)
  // without calling the backend; at exactly open_for later the breaker goes half-open (reported on
  // time without traffic); the probe succeeds and closes it.
  Harness h(gatewayYaml("    circuit_breaker: { consecutive_failures: 3, open_for: 1s, half_open_calls: 1,"
                        " fallback: { status: 529 } }\n",
                        "", "[http://a:1]"));
  h.backend(0, 0).addFailure(atOffset(0s), atOffset(500ms), ErrorBurst{1.0, 500});
  for (int i = 0; i < 3; ++i) h.sendAt(atOffset(std::chrono::milliseconds(100 * i)), "/api/x");
  h.sim.runUntil(atOffset(300ms));
  ASSERT_EQ(h.recorder.completions.size(), 3U);
  for (const auto& c : h.recorder.completions) EXPECT_EQ(c.status, 500);
  // Tripped by the third result at 210ms.
  const TimePoint openedAt = atOffset(210ms);
  const std::uint64_t callsBefore = h.backend(0, 0).stats().calls;
  h.sendAt(atOffset(400ms), "/api/x");
  ASSERT_EQ(h.recorder.completions.size(), 4U);
  const auto& failFast = h.recorder.completions[3];
  EXPECT_EQ(failFast.status, 529);
  EXPECT_EQ(failFast.outcome, RequestOutcome::kBreakerOpen);
  EXPECT_EQ(failFast.tries, 0U);
  EXPECT_EQ(latency(failFast), Duration{0});
  EXPECT_EQ(h.backend(0, 0).stats().calls, callsBefore);

  // No traffic: the half-open transition is still reported at openedAt + 1s.
  h.sim.runUntil(openedAt + 1s);
  const auto changes = h.eventsOf<core::BreakerStateChanged>();
  ASSERT_GE(changes.size(), 2U);
  EXPECT_EQ(changes[0].to, core::resilience::BreakerState::kOpen);
  EXPECT_EQ(changes[0].at, openedAt);
  EXPECT_EQ(changes[1].to, core::resilience::BreakerState::kHalfOpen);
  EXPECT_EQ(changes[1].at, openedAt + 1s);

  h.sendAt(openedAt + 1s + 1ms, "/api/x");
  h.sim.run();
  ASSERT_EQ(h.recorder.completions.size(), 5U);
  EXPECT_EQ(h.recorder.completions[4].status, 200);
  EXPECT_EQ(h.recorder.completions[4].tries, 1U);
  const auto after = h.eventsOf<core::BreakerStateChanged>();
  ASSERT_EQ(after.size(), 3U);
  EXPECT_EQ(after[2].to, core::resilience::BreakerState::kClosed);
}

TEST(SimGateway, OutlierEjectionMovesTrafficOffABadTargetUntilItReturns) {
  // Target 0 of 3 always answers 500; after 3 in a row it is ejected for 10s and gets no traffic;
  // it returns at exactly ejection + 10s (reported on time without traffic) and gets traffic again.
  Harness h(gatewayYaml("    load_balancer: round_robin\n"
                        "    outlier_detection: { consecutive_5xx: 3, base_ejection_time: 10s, max_ejection_time: 10s,"
                        " max_ejection_percent: 34% }\n",
                        "", "[http://a:1, http://b:2, http://c:3]"),
            [](const std::string&, std::size_t t, BackendConfig& c) {
              if (t == 0) {
                c.errorProbability = 1.0;
                c.errorStatus = 500;
              }
            });
  for (int i = 0; i < 60; ++i) h.sendAt(atOffset(std::chrono::milliseconds(20 * i)), "/api/x");
  h.sim.runUntil(atOffset(2s));
  const auto ejected = h.eventsOf<core::OutlierEjected>();
  ASSERT_EQ(ejected.size(), 1U);
  const TimePoint ejectedAt = ejected[0].at;
  std::size_t badAfter = 0;
  std::size_t goodAfter = 0;
  for (const auto& t : h.recorder.tries) {
    if (t.start <= ejectedAt) continue;
    (t.target == 0 ? badAfter : goodAfter) += 1;
  }
  EXPECT_EQ(badAfter, 0U);
  EXPECT_GT(goodAfter, 40U);
  EXPECT_EQ(h.backend(0, 0).stats().calls, 3U);

  h.sim.runUntil(ejectedAt + 10s);
  const auto returned = h.eventsOf<core::OutlierReturned>();
  ASSERT_EQ(returned.size(), 1U);
  EXPECT_EQ(returned[0].at, ejectedAt + 10s);
  for (int i = 0; i < 3; ++i) h.send("/api/x");
  h.sim.run();
  EXPECT_EQ(h.backend(0, 0).stats().calls, 4U);
}

// Tries made for `requests` requests spaced 1ms apart against a service whose targets always
// answer 503, with 3 retries on gateway errors and the given budget.
std::size_t triesUnderStorm(const std::string& budget, std::size_t requests, std::uint64_t* denied) {
  Harness h(gatewayYaml("    load_balancer: round_robin\n"
                        "    retries: { attempts: 3, on: [gateway-error], backoff: { base: 0s }, budget: " +
                        budget + " }\n"),
            [](const std::string&, std::size_t, BackendConfig& c) {
              c.errorProbability = 1.0;
              c.errorStatus = 503;
            });
  for (std::size_t i = 0; i < requests; ++i) h.sendAt(atOffset(std::chrono::milliseconds(i)), "/api/x");
  h.sim.run();
  EXPECT_EQ(h.recorder.completions.size(), requests);
  for (const auto& c : h.recorder.completions) EXPECT_EQ(c.status, 503);
  *denied = h.runtime->services[0].retryBudget->stats().denied;
  EXPECT_EQ(h.runtime->services[0].retryBudget->activeRequests(), 0U);
  EXPECT_EQ(h.runtime->services[0].retryBudget->activeRetries(), 0U);
  return h.recorder.tries.size();
}

TEST(SimGateway, RetryBudgetCapsRetriesUnderAStorm) {
  // 100% failures, 3 retries each: a budget that cannot bind (min_concurrency 1,000,000) makes 4
  // tries per request; a 20% budget
  // with min_concurrency 1 (about 10 requests in flight: at most 2 retries in flight) keeps the
  // retries to a small share of the tries.
  std::uint64_t deniedUnlimited = 0;
  std::uint64_t deniedCapped = 0;
  const std::size_t unlimited = triesUnderStorm("{ percent: 100%, min_concurrency: 1000000 }", 1000, &deniedUnlimited);
  const std::size_t capped = triesUnderStorm("{ percent: 20%, min_concurrency: 1 }", 1000, &deniedCapped);
  EXPECT_EQ(unlimited, 4000U);
  EXPECT_EQ(deniedUnlimited, 0U);
  EXPECT_LT(capped, 1500U);
  EXPECT_GT(capped, 1000U);
  EXPECT_GT(deniedCapped, 0U);
}

TEST(SimGateway, BackoffWaitsAreEventsAndCountInLatency) {
  // Always 503, 2 retries with back-off base 100ms: latency = three 10ms tries plus the two
  // back-off gaps, each within Envoy's jitter range ([0, 100ms) then [0, 300ms)).
  Harness h(gatewayYaml("    retries: { attempts: 2, on: [gateway-error], backoff: { base: 100ms, max: 1s } }\n", "",
                        "[http://a:1]"),
            [](const std::string&, std::size_t, BackendConfig& c) {
              c.errorProbability = 1.0;
              c.errorStatus = 503;
            });
  h.send("/api/x");
  h.sim.run();
  const auto& c = h.recorder.only();
  EXPECT_EQ(c.status, 503);
  EXPECT_EQ(c.tries, 3U);
  const auto& t = h.recorder.tries;
  ASSERT_EQ(t.size(), 3U);
  const Duration gap1 = t[1].start - t[0].end;
  const Duration gap2 = t[2].start - t[1].end;
  EXPECT_LT(gap1, 100ms);
  EXPECT_LT(gap2, 300ms);
  EXPECT_GT(gap1 + gap2, Duration{0});
  EXPECT_EQ(latency(c), 30ms + gap1 + gap2);
  EXPECT_EQ(c.done, t[2].end);
}

TEST(SimGateway, NonIdempotentRequestIsNotRetriedAfterItWasSent) {
  // POST with a 503 (not a connect failure): the retry policy's idempotency rule holds even though
  // the view is gone by the time the try ends.
  Harness h(gatewayYaml("    retries: { attempts: 2, on: [gateway-error], backoff: { base: 0s } }\n", "",
                        "[http://a:1]"),
            [](const std::string&, std::size_t, BackendConfig& c) {
              c.errorProbability = 1.0;
              c.errorStatus = 503;
            });
  h.send("/api/x", "10.0.0.1", "POST");
  h.sim.run();
  EXPECT_EQ(h.recorder.only().tries, 1U);
}

TEST(SimGateway, WeightedServicesAreSplitByTheRoutesWeights) {
  // A route with services a:90, b:10 sends about 90% of requests to a.
  const std::string yaml =
      "version: 1\nservices:\n  - name: a\n    targets: [http://a:1]\n  - name: b\n    targets: [http://b:1]\n"
      "routes:\n  - name: r\n    match: { path_prefix: /api }\n    services:\n      - { name: a, weight: 90 }\n"
      "      - { name: b, weight: 10 }\n";
  Harness h(yaml);
  for (int i = 0; i < 2000; ++i) h.send("/api/x");
  h.sim.run();
  const auto a = h.backend(0, 0).stats().calls;
  const auto b = h.backend(1, 0).stats().calls;
  EXPECT_EQ(a + b, 2000U);
  EXPECT_NEAR(static_cast<double>(a) / 2000.0, 0.9, 0.03);
  std::size_t reportedB = 0;
  for (const auto& c : h.recorder.completions) reportedB += c.service == 1 ? 1 : 0;
  EXPECT_EQ(reportedB, b);
}

// A random run: Poisson-ish arrivals from a few clients, a limiter, a breaker, an outlier
// detector, retries with back-off, timeouts, and random failure windows on the backends.
const std::string kStormYaml =
    "version: 1\nservices:\n"
    "  - name: api\n    targets: [http://a:1, http://b:2, http://c:3, http://d:4]\n"
    "    load_balancer: { algorithm: least_request, panic_threshold: 0% }\n"
    "    timeouts: { per_try: 80ms, overall: 300ms }\n"
    "    retries: { attempts: 2, on: [connect-failure, gateway-error, timeout, reset], backoff: { base: 5ms },"
    " budget: { percent: 50%, min_concurrency: 2 } }\n"
    "    circuit_breaker: { consecutive_failures: 5, open_for: 200ms, half_open_calls: 2, per_target: true }\n"
    "    outlier_detection: { consecutive_5xx: 4, base_ejection_time: 300ms, max_ejection_time: 1s,"
    " max_ejection_percent: 50% }\n"
    "  - name: other\n    targets: [http://o:1]\n"
    "    retries: { attempts: 1 }\n"
    "    circuit_breaker: { failure_rate: 50%, window: 20, minimum_calls: 10, open_for: 100ms }\n"
    "routes:\n"
    "  - name: main\n    match: { path_prefix: /api }\n    service: api\n"
    "    policies:\n      - rate_limit: { algorithm: leaky_bucket, limit: 60r/s, burst: 5, key: ip }\n"
    "  - name: other\n    match: { path_prefix: /other }\n    service: other\n"
    "    policies:\n      - rate_limit: { algorithm: token_bucket, limit: 50/s, burst: 10, key: ip, shadow: true }\n";

struct StormResult {
  std::string log;  // every report, in order
  SimGatewayStats stats;
};

StormResult runStorm(std::uint64_t seed, std::size_t requests) {
  Harness h(kStormYaml,
            [](const std::string&, std::size_t t, BackendConfig& c) {
              c.servers = 4;
              c.queueCapacity = 8;
              c.serviceTime = ServiceTime::exponential(std::chrono::milliseconds(10 + 10 * static_cast<int>(t)));
              c.errorProbability = 0.05;
              c.refusalLatency = 1ms;
            },
            seed);
  Rng rng(seed * 31 + 1);
  // Random failure windows over the run (about 10s of traffic at ~500/s).
  const std::vector<FailureEffect> kinds = {Down{true}, ErrorBurst{0.8, 503}, LatencySpike{5.0, 50ms}, BlackHole{}};
  for (std::size_t s = 0; s < h.backends.size(); ++s) {
    for (std::size_t t = 0; t < h.backends[s].size(); ++t) {
      TimePoint at = atOffset(std::chrono::milliseconds(rng.below(2000)));
      while (at < atOffset(10s)) {
        const Duration len = std::chrono::milliseconds(50 + rng.below(500));
        h.backend(s, t).addFailure(at, at + len, kinds[rng.below(kinds.size())]);
        at += len + std::chrono::milliseconds(200 + rng.below(3000));
      }
    }
  }
  std::map<std::uint64_t, int> completions;
  std::map<std::uint64_t, std::uint32_t> triesSeen;
  h.recorder.onCompleteHook = [&](const CompletionReport& c) { ++completions[c.request]; };
  const char* clients[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"};
  TimePoint now = atOffset(0s);
  for (std::size_t i = 0; i < requests; ++i) {
    now += std::chrono::microseconds(rng.below(4000));
    h.sim.runUntil(now);
    const bool other = rng.below(5) == 0;
    const bool unrouted = rng.below(50) == 0;
    h.send(unrouted ? "/nowhere" : (other ? "/other/x" : "/api/x"), clients[rng.below(5)],
           rng.below(10) == 0 ? "POST" : "GET");
  }
  h.sim.run();

  StormResult out;
  out.stats = h.gateway->stats();
  // Every submitted request completed exactly once.
  EXPECT_EQ(out.stats.submitted, requests);
  EXPECT_EQ(out.stats.completed, requests);
  EXPECT_EQ(out.stats.inFlight, 0U);
  EXPECT_EQ(completions.size(), requests);
  for (const auto& [id, n] : completions) EXPECT_EQ(n, 1) << "request " << id;
  std::uint64_t sum = 0;
  for (auto n : out.stats.byOutcome) sum += n;
  EXPECT_EQ(sum, requests);
  // Tries reported per request match the completion's count; every try precedes its completion.
  for (const auto& t : h.recorder.tries) ++triesSeen[t.request];
  for (const auto& c : h.recorder.completions) {
    EXPECT_EQ(triesSeen[c.request], c.tries) << "request " << c.request;
    EXPECT_GE(c.done, c.arrival);
  }
  // Nothing left over in the core's accounting.
  for (const auto& s : h.runtime->services) {
    for (std::size_t t = 0; t < s.targets->size(); ++t) EXPECT_EQ(s.targets->outstanding(t), 0U);
    if (s.retryBudget) {
      EXPECT_EQ(s.retryBudget->activeRequests(), 0U);
      EXPECT_EQ(s.retryBudget->activeRetries(), 0U);
    }
  }
  // Several kinds of answers occurred (the run exercises the paths it claims to).
  std::size_t kinds_seen = 0;
  for (auto n : out.stats.byOutcome) kinds_seen += n > 0 ? 1 : 0;
  EXPECT_GE(kinds_seen, 5U);

  std::ostringstream log;
  for (const auto& c : h.recorder.completions)
    log << c.request << ' ' << c.done.time_since_epoch().count() << ' ' << c.status << ' '
        << toString(c.outcome) << ' ' << c.tries << ' ' << c.target << '\n';
  for (const auto& t : h.recorder.tries)
    log << 't' << t.request << ' ' << t.end.time_since_epoch().count() << ' ' << t.target << '\n';
  log << "digest " << h.sim.traceDigest() << " events " << h.events.events().size() << '\n';
  out.log = log.str();
  return out;
}

TEST(SimGateway, EveryRequestCompletesExactlyOnceUnderRandomFailures) {
  // Invariants over a random run of thousands of requests with failures of every kind.
  const StormResult r = runStorm(11, 5000);
  const auto count = [&r](RequestOutcome o) { return r.stats.byOutcome[static_cast<std::size_t>(o)]; };
  EXPECT_GT(count(RequestOutcome::kUpstream), 0U);
  EXPECT_GT(count(RequestOutcome::kRateLimited), 0U);
  EXPECT_GT(count(RequestOutcome::kNotFound), 0U);
  EXPECT_GT(count(RequestOutcome::kBreakerOpen), 0U);
  EXPECT_GT(count(RequestOutcome::kNoTarget), 0U);
  EXPECT_GT(count(RequestOutcome::kConnectFailure), 0U);
  EXPECT_GT(count(RequestOutcome::kTimeout), 0U);
  for (std::size_t i = 0; i < r.stats.byOutcome.size(); ++i)
    RecordProperty(toString(static_cast<RequestOutcome>(i)), std::to_string(r.stats.byOutcome[i]));
}

TEST(SimGateway, SameSeedGivesTheSameReports) {
  // Determinism: the same seed replays identically (every report, the engine's digest); another
  // seed does not.
  const StormResult a = runStorm(5, 1500);
  const StormResult b = runStorm(5, 1500);
  const StormResult c = runStorm(6, 1500);
  EXPECT_EQ(a.log, b.log);
  EXPECT_NE(a.log, c.log);
}

TEST(SimGateway, DestroyingTheGatewayCancelsItsPendingWork) {
  // Requests held by a limiter delay, in a try and in back-off when the gateway goes away: none of
  // their events or backend completions runs afterwards (nothing calls into the dead gateway).
  Harness h(gatewayYaml("    retries: { attempts: 2, on: [gateway-error], backoff: { base: 1s } }\n",
                        "    policies:\n      - rate_limit: { algorithm: leaky_bucket, limit: 10r/s, burst: 5, key: ip }\n",
                        "[http://a:1]"),
            [](const std::string&, std::size_t, BackendConfig& c) {
              c.errorProbability = 1.0;
              c.errorStatus = 503;
            });
  h.send("/api/a");  // tries at once, fails at 10ms, backs off
  h.send("/api/b");  // delayed 100ms
  h.sim.runUntil(atOffset(50ms));
  h.send("/api/c", "10.0.0.2");  // in its first try
  EXPECT_EQ(h.gateway->stats().inFlight, 3U);
  h.gateway.reset();
  h.sim.run();
  EXPECT_TRUE(h.recorder.completions.empty());
  EXPECT_EQ(h.backend(0, 0).stats().abandoned, 1U);
}

TEST(SimGateway, OutcomeNamesAreStableAndDistinct) {
  // toString(RequestOutcome): the names reports and metrics use.
  EXPECT_STREQ(toString(RequestOutcome::kUpstream), "upstream");
  EXPECT_STREQ(toString(RequestOutcome::kRateLimited), "rate_limited");
  EXPECT_STREQ(toString(RequestOutcome::kNotFound), "not_found");
  EXPECT_STREQ(toString(RequestOutcome::kBadRequest), "bad_request");
  EXPECT_STREQ(toString(RequestOutcome::kBreakerOpen), "breaker_open");
  EXPECT_STREQ(toString(RequestOutcome::kNoTarget), "no_target");
  EXPECT_STREQ(toString(RequestOutcome::kConnectFailure), "connect_failure");
  EXPECT_STREQ(toString(RequestOutcome::kTimeout), "timeout");
  EXPECT_STREQ(toString(RequestOutcome::kReset), "reset");
}

}  // namespace
}  // namespace gatelab::sim
