// RequestFlow: the steps a host gets for one request, with explicit times, scripted draws and try
// outcomes (no host, no clock): answers before the upstream, rate-limit rejects and delays, tries
// with deadlines, retries avoiding the failed target, breaker fail-fast with its fallback and wake-up,
// the retry budget given back on every path, and abandon().

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "gateway/core/resilience/retry.hpp"
#include "gateway/core/resilience/timeouts.hpp"
#include "gateway/flow/request_flow.hpp"

namespace gatelab::flow {
namespace {

using namespace std::chrono_literals;
using core::atOffset;
using core::TimePoint;
using core::resilience::CallOutcome;

constexpr std::string_view kYaml = R"(version: 1
services:
  - name: api
    targets: [http://10.0.0.1:80, http://10.0.0.2:80]
    timeouts: { per_try: 100ms, overall: 1s }
    retries: { attempts: 2, on: [connect-failure, timeout, gateway-error], backoff: { base: 0s } }
  - name: slowpoke
    targets: [http://10.0.1.1:80]
    timeouts: { per_try: 50ms, overall: 200ms }
    retries: { attempts: 1, on: [gateway-error], backoff: { base: 40ms, max: 40ms } }
  - name: fragile
    targets: [http://10.0.2.1:80]
    circuit_breaker: { consecutive_failures: 2, open_for: 5s, fallback: { status: 599 } }
routes:
  - name: api
    match: { path_prefix: /api }
    service: api
    policies:
      - rate_limit: { name: strict, algorithm: fixed_window, limit: 1/s, key: ip, status: 429 }
  - name: queued
    match: { path_prefix: /queued }
    service: slowpoke
    policies:
      - rate_limit: { name: nginx, algorithm: leaky_bucket, limit: 10r/s, burst: 5, key: ip }
  - name: fragile
    match: { path_prefix: /fragile }
    service: fragile
)";

struct Hooks final : FlowHooks, FlowDraws {
  std::uint64_t draws = 0;
  std::vector<core::ratelimit::PolicyDecision> decisions;
  std::vector<std::pair<std::uint32_t, TimePoint>> wakes;
  std::uint64_t next() override { return 0x9E3779B97F4A7C15ULL * ++draws; }
  void onRateLimit(const RateLimitEvaluation& ev) override { decisions.push_back(*ev.decision); }
  void wakeAt(std::uint32_t service, TimePoint at) override { wakes.emplace_back(service, at); }
};

struct Fixture {
  std::unique_ptr<config::GatewayRuntime> runtime;
  std::unique_ptr<RequestFlow> flow;
  Hooks hooks;
  std::vector<core::Header> headers;

  Fixture() {
    const auto loaded = config::loadConfigString(kYaml, "flow.yaml");
    EXPECT_TRUE(loaded.ok()) << loaded.errorText();
    auto built = config::buildRuntime(loaded.config);
    EXPECT_TRUE(built.ok()) << config::formatDiagnostics(built.diagnostics);
    runtime = std::move(built.runtime);
    flow = std::make_unique<RequestFlow>(*runtime);
  }
  Step start(FlowRequest& r, std::string_view path, TimePoint now, std::string_view ip = "203.0.113.9",
             std::string_view method = "GET") {
    core::RequestView v;
    v.method = method;
    v.path = path;
    v.host = "example.test";
    v.clientAddress = ip;
    v.headers = headers;
    return flow->start(r, v, now, hooks, hooks);
  }
  Step done(FlowRequest& r, const CallOutcome& o, TimePoint now) { return flow->tryDone(r, o, now, hooks, hooks); }
  Step resume(FlowRequest& r, TimePoint now) { return flow->resume(r, now, hooks, hooks); }
  config::ServiceRuntime& service(std::string_view name) { return *runtime->findService(name); }
};

TEST(RequestFlow, UnroutedAndUnnormalizablePathsAnswerBeforeAnyPolicy) {
  Fixture f;
  FlowRequest r;
  Step s = f.start(r, "/nowhere", atOffset(1s));
  EXPECT_EQ(s.kind, StepKind::kAnswer);
  EXPECT_EQ(s.status, 404);
  EXPECT_EQ(s.outcome, Outcome::kNotFound);
  EXPECT_EQ(r.route, kNoRouteIndex);
  s = f.start(r, "/api/%zz", atOffset(1s));  // an invalid percent-escape does not normalize
  EXPECT_EQ(s.status, 400);
  EXPECT_EQ(s.outcome, Outcome::kBadRequest);
  EXPECT_EQ(r.phase, FlowPhase::kDone);
  EXPECT_EQ(f.hooks.draws, 0u);
  EXPECT_TRUE(f.hooks.decisions.empty());
}

TEST(RequestFlow, RateLimitRejectAnswersWithThePolicysStatusAfterReportingTheDecision) {
  Fixture f;
  FlowRequest first, second;
  ASSERT_EQ(f.start(first, "/api/a", atOffset(1s)).kind, StepKind::kSendTry);
  const Step s = f.start(second, "/api/b", atOffset(1s) + 10ms);
  EXPECT_EQ(s.kind, StepKind::kAnswer);
  EXPECT_EQ(s.status, 429);
  EXPECT_EQ(s.outcome, Outcome::kRateLimited);
  EXPECT_EQ(s.rejectingPolicy, 0u);
  ASSERT_EQ(f.hooks.decisions.size(), 2u);
  EXPECT_EQ(f.hooks.decisions[1].verdict, core::ratelimit::Verdict::kReject);
  EXPECT_EQ(second.tries, 0u);
  // The rejected request never took a retry-budget place; the first still holds one.
  EXPECT_EQ(f.service("api").retryBudget->activeRequests(), 1u);
}

TEST(RequestFlow, TryDeadlinesRetriesAvoidingTheFailedTargetAndTheUpstreamsAnswer) {
  Fixture f;
  FlowRequest r;
  const TimePoint t0 = atOffset(2s);
  Step s = f.start(r, "/api/x", t0);
  ASSERT_EQ(s.kind, StepKind::kSendTry);
  EXPECT_EQ(s.deadline, t0 + 100ms);  // per_try before the 1s overall
  const std::uint32_t firstTarget = s.target;
  EXPECT_EQ(f.service("api").targets->outstanding(firstTarget), 1u);

  s = f.done(r, CallOutcome::timeout(100ms), t0 + 100ms);  // the try's deadline passed
  ASSERT_EQ(s.kind, StepKind::kSendTry);                    // retried at once (base 0s)
  EXPECT_NE(s.target, firstTarget);
  EXPECT_EQ(s.deadline, t0 + 200ms);
  EXPECT_EQ(f.service("api").targets->outstanding(firstTarget), 0u);

  s = f.done(r, CallOutcome::response(200, 30ms), t0 + 130ms);
  EXPECT_EQ(s.kind, StepKind::kAnswer);
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.outcome, Outcome::kUpstream);
  EXPECT_EQ(r.tries, 2u);
  EXPECT_EQ(r.retriesDone, 1u);
  const auto& budget = *f.service("api").retryBudget;
  EXPECT_EQ(budget.activeRequests(), 0u);
  EXPECT_EQ(budget.activeRetries(), 0u);
}

TEST(RequestFlow, ExhaustedRetriesMapTheLastOutcomeToAStatus) {
  Fixture f;
  const TimePoint t0 = atOffset(3s);
  FlowRequest r;
  ASSERT_EQ(f.start(r, "/api/x", t0).kind, StepKind::kSendTry);
  ASSERT_EQ(f.done(r, CallOutcome::connectFailure(1ms), t0 + 1ms).kind, StepKind::kSendTry);
  ASSERT_EQ(f.done(r, CallOutcome::connectFailure(1ms), t0 + 2ms).kind, StepKind::kSendTry);
  const Step s = f.done(r, CallOutcome::connectFailure(1ms), t0 + 3ms);
  EXPECT_EQ(s.status, 502);
  EXPECT_EQ(s.outcome, Outcome::kConnectFailure);
  EXPECT_EQ(r.tries, 3u);
}

TEST(RequestFlow, LeakyBucketDelayWaitsThenStartsTheUpstreamPhaseAndBackoffWaitsToo) {
  Fixture f;
  const TimePoint t0 = atOffset(5s);
  FlowRequest a, b;
  ASSERT_EQ(f.start(a, "/queued/1", t0).kind, StepKind::kSendTry);
  Step s = f.start(b, "/queued/2", t0);  // nginx: the second simultaneous request waits 100ms
  ASSERT_EQ(s.kind, StepKind::kWait);
  EXPECT_EQ(s.until, t0 + 100ms);
  EXPECT_EQ(b.rateLimitDelay, 100ms);
  s = f.resume(b, t0 + 100ms);
  ASSERT_EQ(s.kind, StepKind::kSendTry);
  EXPECT_EQ(s.deadline, t0 + 150ms);  // timeouts start when the delay is over
  EXPECT_EQ(b.upstreamStart, t0 + 100ms);
  const std::uint64_t drawsBefore = f.hooks.draws;
  s = f.done(b, CallOutcome::response(503, 5ms), t0 + 105ms);  // gateway-error: back off, jittered up to 40ms
  ASSERT_EQ(s.kind, StepKind::kWait);
  EXPECT_GT(s.until, t0 + 105ms);
  EXPECT_LE(s.until, t0 + 145ms);
  EXPECT_EQ(f.hooks.draws, drawsBefore + 1);  // the jitter is the host's draw
  const TimePoint retryAt = s.until;
  s = f.resume(b, retryAt);
  ASSERT_EQ(s.kind, StepKind::kSendTry);
  EXPECT_EQ(s.deadline, retryAt + 50ms);
  s = f.done(b, CallOutcome::response(503, 5ms), retryAt + 5ms);
  EXPECT_EQ(s.status, 503);  // attempts: 1 used up
  EXPECT_EQ(s.outcome, Outcome::kUpstream);
}

TEST(RequestFlow, OpenBreakerFailsFastWithItsFallbackAndAnnouncesTheHalfOpenWakeUp) {
  Fixture f;
  const TimePoint t0 = atOffset(10s);
  for (int i = 0; i < 2; ++i) {
    FlowRequest r;
    ASSERT_EQ(f.start(r, "/fragile", t0).kind, StepKind::kSendTry);
    EXPECT_EQ(f.done(r, CallOutcome::response(500, 1ms), t0 + 1ms).status, 500);
  }
  ASSERT_FALSE(f.hooks.wakes.empty());
  EXPECT_EQ(f.hooks.wakes.back().second, t0 + 1ms + 5s);  // open_for after the tripping failure
  FlowRequest r;
  const Step s = f.start(r, "/fragile", t0 + 2ms);
  EXPECT_EQ(s.kind, StepKind::kAnswer);
  EXPECT_EQ(s.outcome, Outcome::kBreakerOpen);
  EXPECT_EQ(s.status, 599);
  ASSERT_NE(s.fallback, nullptr);
  EXPECT_EQ(s.fallback->status, 599);
  EXPECT_EQ(r.tries, 0u);
  // wake() advances the breaker: half-open after open_for, and a probe is admitted.
  f.flow->wake(2, t0 + 1ms + 5s, f.hooks);
  FlowRequest probe;
  EXPECT_EQ(f.start(probe, "/fragile", t0 + 1ms + 5s).kind, StepKind::kSendTry);
}

// A try that consumed a streamed body cannot be repeated: the failure is the answer, and a retry's
// budget place is given back.
TEST(RequestFlow, ANonReplayableRequestIsNotRetriedAfterItsTry) {
  Fixture f;
  const TimePoint t0 = atOffset(4s);
  FlowRequest r;
  ASSERT_EQ(f.start(r, "/api/upload", t0, "203.0.113.9", "PUT").kind, StepKind::kSendTry);
  // Before the body is consumed a connect failure is retried as usual (nothing left the gateway).
  ASSERT_EQ(f.done(r, CallOutcome::connectFailure(1ms), t0 + 1ms).kind, StepKind::kSendTry);
  EXPECT_EQ(f.service("api").retryBudget->activeRetries(), 1u);
  r.replayable = false;  // the host streamed the body on this try
  const Step s = f.done(r, CallOutcome::timeout(100ms), t0 + 101ms);
  EXPECT_EQ(s.kind, StepKind::kAnswer);
  EXPECT_EQ(s.status, 504);
  EXPECT_EQ(s.outcome, Outcome::kTimeout);
  EXPECT_EQ(r.tries, 2u);
  EXPECT_EQ(f.service("api").retryBudget->activeRetries(), 0u);
  EXPECT_EQ(f.service("api").retryBudget->activeRequests(), 0u);
}

TEST(RequestFlow, AbandonReleasesTheTryInFlightAndTheBudget) {
  Fixture f;
  const TimePoint t0 = atOffset(20s);
  FlowRequest r;
  const Step s = f.start(r, "/api/gone", t0);
  ASSERT_EQ(s.kind, StepKind::kSendTry);
  EXPECT_EQ(f.service("api").targets->outstanding(s.target), 1u);
  f.flow->abandon(r);
  EXPECT_EQ(r.phase, FlowPhase::kDone);
  EXPECT_EQ(f.service("api").targets->outstanding(s.target), 0u);
  EXPECT_EQ(f.service("api").retryBudget->activeRequests(), 0u);
  f.flow->abandon(r);  // twice is harmless
  EXPECT_EQ(f.service("api").retryBudget->activeRequests(), 0u);
}

TEST(RequestFlow, OutcomeNamesAreStable) {
  EXPECT_STREQ(toString(Outcome::kUpstream), "upstream");
  EXPECT_STREQ(toString(Outcome::kRateLimited), "rate_limited");
  EXPECT_STREQ(toString(Outcome::kConnectFailure), "connect_failure");
  EXPECT_STREQ(toString(Outcome::kReset), "reset");
}

}  // namespace
}  // namespace gatelab::flow
