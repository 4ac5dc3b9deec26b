// RequestFlow with policies kept in a shared store (`store: redis`): with StoreMode::kLocal (the
// simulator) they are evaluated in place; with StoreMode::kAsk (the live proxy) the walk stops at
// each of them with kAskStore and storeAnswered() continues it — with the store's decision, or
// with the policy's on_store_error when the store failed. Answering the step with the same
// arithmetic gives exactly the steps and decisions of the local mode.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "gateway/core/hash.hpp"
#include "gateway/core/rate_limit/key.hpp"
#include "gateway/flow/request_flow.hpp"

namespace gatelab::flow {
namespace {

using namespace std::chrono_literals;
using core::atOffset;
using core::TimePoint;
using core::ratelimit::Verdict;

constexpr std::string_view kYaml = R"(version: 1
redis: { address: 127.0.0.1:6379 }
services:
  - name: api
    targets: [http://10.0.0.1:80]
routes:
  - name: api
    match: { path_prefix: /api }
    service: api
    policies:
      - rate_limit: { name: local-first, algorithm: token_bucket, limit: 5/s, burst: 5, key: ip }
      - rate_limit: { name: shared, algorithm: fixed_window, limit: 3/s, key: header:X-Tenant, on_missing_key: skip, store: redis }
      - rate_limit: { name: paced, algorithm: leaky_bucket, limit: 20r/s, burst: 10, key: global, store: redis }
  - name: strict
    match: { path_prefix: /strict }
    service: api
    policies:
      - rate_limit: { name: closed, algorithm: gcra, limit: 100/s, key: ip, store: redis, on_store_error: reject, status: 503 }
)";

struct Hooks final : FlowHooks, FlowDraws {
  std::uint64_t draws = 0;
  std::vector<std::pair<std::string, core::ratelimit::PolicyDecision>> decisions;
  std::uint64_t next() override { return 0x9E3779B97F4A7C15ULL * ++draws; }
  void onRateLimit(const RateLimitEvaluation& ev) override { decisions.emplace_back(ev.spec->spec().name, *ev.decision); }
};

struct Fixture {
  std::unique_ptr<config::GatewayRuntime> runtime;
  std::unique_ptr<RequestFlow> flow;
  Hooks hooks;

  explicit Fixture(StoreMode mode) {
    const auto loaded = config::loadConfigString(kYaml, "store.yaml");
    EXPECT_TRUE(loaded.ok()) << loaded.errorText();
    auto built = config::buildRuntime(loaded.config);
    EXPECT_TRUE(built.ok()) << config::formatDiagnostics(built.diagnostics);
    runtime = std::move(built.runtime);
    flow = std::make_unique<RequestFlow>(*runtime, mode);
  }
};

struct Req {
  std::string path;
  std::string ip;
  std::string tenant;  // empty: no X-Tenant header
  std::vector<core::Header> headers;
  core::RequestView view() {
    headers.clear();
    if (!tenant.empty()) headers.push_back(core::Header{"X-Tenant", tenant});
    core::RequestView v;
    v.method = "GET";
    v.path = path;
    v.host = "example.test";
    v.clientAddress = ip;
    v.headers = headers;
    return v;
  }
};

TEST(StoreStep, LocalModeEvaluatesStoredPoliciesInPlace) {
  Fixture f(StoreMode::kLocal);
  FlowRequest r;
  Req q{"/api/x", "192.0.2.1", "acme", {}};
  const Step s = f.flow->start(r, q.view(), atOffset(1s), f.hooks, f.hooks);
  EXPECT_EQ(s.kind, StepKind::kSendTry);
  ASSERT_EQ(f.hooks.decisions.size(), 3u);
  EXPECT_EQ(f.hooks.decisions[1].first, "shared");
  EXPECT_EQ(f.hooks.decisions[2].first, "paced");
}

TEST(StoreStep, AskModeStopsAtEachStoredPolicyWithItsKey) {
  Fixture f(StoreMode::kAsk);
  FlowRequest r;
  Req q{"/api/x", "192.0.2.1", "acme", {}};
  const core::RequestView v = q.view();
  Step s = f.flow->start(r, v, atOffset(1s), f.hooks, f.hooks);
  ASSERT_EQ(s.kind, StepKind::kAskStore);
  EXPECT_EQ(s.storePolicy, 1u);
  EXPECT_EQ(s.upstreamPath, "/api/x");
  EXPECT_EQ(r.phase, FlowPhase::kStore);
  ASSERT_EQ(f.hooks.decisions.size(), 1u);  // the local policy before it ran already
  // The key asked for is the one the local policy object would charge.
  std::string scratch;
  const auto& shared = *f.runtime->routes[r.route].rateLimits[1];
  const auto key = shared.keyOf(v, core::ratelimit::KeyContext{"api", "api"}, scratch);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(r.storeKey, *key);

  core::ratelimit::PolicyDecision allow;
  allow.applied = true;
  allow.key = r.storeKey;
  s = f.flow->storeAnswered(r, v, &allow, atOffset(1s), f.hooks, f.hooks);
  ASSERT_EQ(s.kind, StepKind::kAskStore);  // the next stored policy
  EXPECT_EQ(s.storePolicy, 2u);
  s = f.flow->storeAnswered(r, v, &allow, atOffset(1s), f.hooks, f.hooks);
  EXPECT_EQ(s.kind, StepKind::kSendTry);
  EXPECT_EQ(f.hooks.decisions.size(), 3u);
}

TEST(StoreStep, AStoredPolicyWhoseKeyIsMissingIsSkippedWithoutAsking) {
  Fixture f(StoreMode::kAsk);
  FlowRequest r;
  Req q{"/api/x", "192.0.2.1", "", {}};  // no X-Tenant: `shared` skips
  const Step s = f.flow->start(r, q.view(), atOffset(1s), f.hooks, f.hooks);
  ASSERT_EQ(s.kind, StepKind::kAskStore);
  EXPECT_EQ(s.storePolicy, 2u);
}

TEST(StoreStep, AStoreRejectAnswersWithThePolicysStatusAndADelayWaits) {
  Fixture f(StoreMode::kAsk);
  Req q{"/api/x", "192.0.2.1", "acme", {}};
  const core::RequestView v = q.view();
  const auto& shared = *f.runtime->routes[0].rateLimits[1];
  FlowRequest r;
  ASSERT_EQ(f.flow->start(r, v, atOffset(1s), f.hooks, f.hooks).kind, StepKind::kAskStore);
  core::ratelimit::Decision d;
  d.verdict = Verdict::kReject;
  d.limit = 3;
  d.retryAfter = 400ms;
  const auto reject = core::ratelimit::combineDecisions(shared.spec(), r.storeKey, std::span(&d, 1));
  Step s = f.flow->storeAnswered(r, v, &reject, atOffset(1s), f.hooks, f.hooks);
  EXPECT_EQ(s.kind, StepKind::kAnswer);
  EXPECT_EQ(s.status, 429);
  EXPECT_EQ(s.outcome, Outcome::kRateLimited);
  EXPECT_EQ(s.rejectingPolicy, 1u);
  EXPECT_FALSE(s.storeFailed);

  FlowRequest r2;
  ASSERT_EQ(f.flow->start(r2, v, atOffset(2s), f.hooks, f.hooks).kind, StepKind::kAskStore);
  core::ratelimit::PolicyDecision allow;
  allow.applied = true;
  s = f.flow->storeAnswered(r2, v, &allow, atOffset(2s), f.hooks, f.hooks);
  ASSERT_EQ(s.kind, StepKind::kAskStore);
  core::ratelimit::Decision late;
  late.verdict = Verdict::kDelay;
  late.delay = 150ms;
  const auto& paced = *f.runtime->routes[0].rateLimits[2];
  const auto delayed = core::ratelimit::combineDecisions(paced.spec(), r2.storeKey, std::span(&late, 1));
  s = f.flow->storeAnswered(r2, v, &delayed, atOffset(2s), f.hooks, f.hooks);
  EXPECT_EQ(s.kind, StepKind::kWait);
  EXPECT_EQ(s.until, atOffset(2s) + 150ms);
  EXPECT_EQ(f.flow->resume(r2, s.until, f.hooks, f.hooks).kind, StepKind::kSendTry);
}

TEST(StoreStep, AFailedStoreFailsOpenOrClosedAsThePolicySays) {
  Fixture f(StoreMode::kAsk);
  Req open{"/api/x", "192.0.2.1", "acme", {}};
  const core::RequestView v = open.view();
  FlowRequest r;
  ASSERT_EQ(f.flow->start(r, v, atOffset(1s), f.hooks, f.hooks).kind, StepKind::kAskStore);
  const std::size_t before = f.hooks.decisions.size();
  Step s = f.flow->storeAnswered(r, v, nullptr, atOffset(1s), f.hooks, f.hooks);  // allow (default)
  ASSERT_EQ(s.kind, StepKind::kAskStore);
  s = f.flow->storeAnswered(r, v, nullptr, atOffset(1s), f.hooks, f.hooks);
  EXPECT_EQ(s.kind, StepKind::kSendTry);
  EXPECT_EQ(f.hooks.decisions.size(), before);  // no decision was made, none reported

  Req closed{"/strict/x", "192.0.2.1", "", {}};
  const core::RequestView cv = closed.view();
  FlowRequest c;
  ASSERT_EQ(f.flow->start(c, cv, atOffset(1s), f.hooks, f.hooks).kind, StepKind::kAskStore);
  s = f.flow->storeAnswered(c, cv, nullptr, atOffset(1s), f.hooks, f.hooks);
  EXPECT_EQ(s.kind, StepKind::kAnswer);
  EXPECT_EQ(s.status, 503);
  EXPECT_EQ(s.outcome, Outcome::kRateLimited);
  EXPECT_TRUE(s.storeFailed);
}

TEST(StoreStep, AbandonWhileAskingHoldsNothing) {
  Fixture f(StoreMode::kAsk);
  Req q{"/api/x", "192.0.2.1", "acme", {}};
  FlowRequest r;
  ASSERT_EQ(f.flow->start(r, q.view(), atOffset(1s), f.hooks, f.hooks).kind, StepKind::kAskStore);
  f.flow->abandon(r);
  EXPECT_EQ(r.phase, FlowPhase::kDone);
  EXPECT_EQ(f.runtime->findService("api")->targets->outstanding(0), 0u);
}

// The proxy's contract with the simulator: a host that answers every kAskStore with the same
// arithmetic (here the policy's own local limiters, as the Redis script reproduces them) gets the
// very steps and decisions the local mode produces.
TEST(StoreStep, AnsweringWithTheSameArithmeticGivesTheLocalModesStepsAndDecisions) {
  Fixture local(StoreMode::kLocal);
  Fixture ask(StoreMode::kAsk);
  // The "store": fresh policy objects with the same specs, evaluated by key.
  std::vector<std::unique_ptr<core::ratelimit::RateLimitPolicy>> store;
  for (const auto& route : ask.runtime->routes) {
    for (const auto& p : route.rateLimits) {
      std::string error;
      store.push_back(core::ratelimit::RateLimitPolicy::create(p->spec(), error));
      ASSERT_TRUE(store.back()) << error;
    }
  }
  auto storeFor = [&](std::uint32_t route, std::uint32_t policy) -> core::ratelimit::RateLimitPolicy& {
    std::size_t index = 0;
    for (std::uint32_t i = 0; i < route; ++i) index += ask.runtime->routes[i].rateLimits.size();
    return *store[index + policy];
  };
  const std::vector<std::string> tenants = {"acme", "globex", ""};
  std::uint64_t x = 12345;
  TimePoint t = atOffset(10s);
  int asked = 0, rejected = 0, delayed = 0;
  for (int i = 0; i < 600; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    t += std::chrono::microseconds((x >> 33) % 40000);
    Req q{(x >> 20) % 4 == 0 ? "/strict/a" : "/api/a", "192.0.2." + std::to_string((x >> 40) % 3), tenants[(x >> 50) % 3], {}};
    const core::RequestView v = q.view();
    FlowRequest lr, ar;
    const Step ls = local.flow->start(lr, v, t, local.hooks, local.hooks);
    Step as = ask.flow->start(ar, v, t, ask.hooks, ask.hooks);
    while (as.kind == StepKind::kAskStore) {
      ++asked;
      const auto d = storeFor(ar.route, as.storePolicy).evaluateKey(ar.storeKey, t);
      as = ask.flow->storeAnswered(ar, v, &d, t, ask.hooks, ask.hooks);
    }
    ASSERT_EQ(as.kind, ls.kind) << "request " << i;
    ASSERT_EQ(as.status, ls.status) << "request " << i;
    ASSERT_EQ(as.outcome, ls.outcome) << "request " << i;
    ASSERT_EQ(as.until, ls.until) << "request " << i;
    if (ls.outcome == Outcome::kRateLimited) ++rejected;
    if (ls.kind == StepKind::kWait) ++delayed;
    if (ls.kind == StepKind::kWait) {
      ASSERT_EQ(ask.flow->resume(ar, ls.until, ask.hooks, ask.hooks).kind,
                local.flow->resume(lr, ls.until, local.hooks, local.hooks).kind);
    }
    local.flow->abandon(lr);
    ask.flow->abandon(ar);
  }
  ASSERT_EQ(ask.hooks.decisions.size(), local.hooks.decisions.size());
  for (std::size_t i = 0; i < local.hooks.decisions.size(); ++i) {
    const auto& [ln, ld] = local.hooks.decisions[i];
    const auto& [an, ad] = ask.hooks.decisions[i];
    ASSERT_EQ(an, ln) << i;
    ASSERT_EQ(ad.verdict, ld.verdict) << i;
    ASSERT_EQ(ad.delay, ld.delay) << i;
    ASSERT_EQ(ad.key, ld.key) << i;
    ASSERT_EQ(ad.bindingDecision().remaining, ld.bindingDecision().remaining) << i;
    ASSERT_EQ(ad.bindingDecision().retryAfter, ld.bindingDecision().retryAfter) << i;
  }
  // The sequence exercised every path.
  EXPECT_GT(asked, 300);
  EXPECT_GT(rejected, 20);
  EXPECT_GT(delayed, 5);
}

}  // namespace
}  // namespace gatelab::flow
