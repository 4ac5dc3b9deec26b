// RequestFlow on an aggregate route: the policies run once for the parent, which then fans out;
// each part runs the upstream phase of its own service (its own target set, breaker, retries and
// timeouts, the part's timeout as its overall deadline); fanInDone() answers with the status the
// parts' fates give.

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "gateway/flow/request_flow.hpp"

namespace gatelab::flow {
namespace {

using namespace std::chrono_literals;
using core::atOffset;
using core::TimePoint;
using core::resilience::CallOutcome;

constexpr std::string_view kYaml = R"(version: 1
services:
  - name: users
    targets: [http://10.0.0.1:80]
    timeouts: { per_try: 1s, overall: 2s }
  - name: orders
    targets: [http://10.0.1.1:80, http://10.0.1.2:80]
    timeouts: { per_try: 1s }
    retries: { attempts: 3, on: [gateway-error, timeout], backoff: { base: 0s } }
routes:
  - name: home
    match: { path_prefix: /home }
    service: users
    policies:
      - rate_limit: { name: once, algorithm: fixed_window, limit: 1/s, key: ip }
      - aggregate:
          on_part_failure: null
          parts:
            - { name: profile, path: /me, on_failure: fail }
            - { name: orders, service: orders, path: /orders, timeout: 200ms }
)";

struct Hooks final : FlowHooks, FlowDraws {
  std::uint64_t n = 0;
  std::uint64_t next() override { return ++n; }
};

struct Fixture {
  std::unique_ptr<config::GatewayRuntime> runtime;
  std::unique_ptr<RequestFlow> flow;
  Hooks hooks;
  std::vector<core::Header> headers;
  Fixture() {
    const auto loaded = config::loadConfigString(kYaml, "aggregate.yaml");
    EXPECT_TRUE(loaded.ok()) << loaded.errorText();
    auto built = config::buildRuntime(loaded.config);
    EXPECT_TRUE(built.ok()) << config::formatDiagnostics(built.diagnostics);
    runtime = std::move(built.runtime);
    flow = std::make_unique<RequestFlow>(*runtime);
  }
  Step start(FlowRequest& r, TimePoint now) {
    core::RequestView v;
    v.method = "GET";
    v.path = "/home";
    v.host = "app.example";
    v.clientAddress = "203.0.113.9";
    v.headers = headers;
    return flow->start(r, v, now, hooks, hooks);
  }
};

TEST(FlowAggregate, PoliciesRunOnceThenThePartsFanOutToTheirServices) {
  Fixture f;
  const TimePoint t0 = atOffset(10s);
  FlowRequest parent;
  Step s = f.start(parent, t0);
  ASSERT_EQ(s.kind, StepKind::kFanOut);
  EXPECT_EQ(parent.phase, FlowPhase::kFanOut);

  FlowRequest profile;
  FlowRequest orders;
  Step p0 = f.flow->startPart(profile, parent, 0, t0, f.hooks, f.hooks);
  Step p1 = f.flow->startPart(orders, parent, 1, t0, f.hooks, f.hooks);
  ASSERT_EQ(p0.kind, StepKind::kSendTry);
  ASSERT_EQ(p1.kind, StepKind::kSendTry);
  EXPECT_EQ(f.flow->runtime().services[profile.service].config->name, "users");
  EXPECT_EQ(f.flow->runtime().services[orders.service].config->name, "orders");
  EXPECT_EQ(p0.deadline, t0 + 1s);     // the service's per_try
  EXPECT_EQ(p1.deadline, t0 + 200ms);  // the part's timeout, shorter than per_try
  EXPECT_EQ(orders.part, 1U);

  // orders: a 503 is retried on the other target, within the part's 200ms.
  Step d1 = f.flow->tryDone(orders, CallOutcome::response(503, 20ms), t0 + 20ms, f.hooks, f.hooks);
  ASSERT_EQ(d1.kind, StepKind::kSendTry);
  EXPECT_NE(d1.target, p1.target);
  EXPECT_EQ(d1.deadline, t0 + 200ms);
  // It times out at the part's deadline: no time is left for another retry.
  d1 = f.flow->tryDone(orders, CallOutcome::timeout(180ms), t0 + 200ms, f.hooks, f.hooks);
  ASSERT_EQ(d1.kind, StepKind::kAnswer);
  EXPECT_EQ(d1.outcome, Outcome::kTimeout);
  const Step d0 = f.flow->tryDone(profile, CallOutcome::response(200, 30ms), t0 + 30ms, f.hooks, f.hooks);
  ASSERT_EQ(d0.kind, StepKind::kAnswer);
  EXPECT_EQ(d0.status, 200);

  // orders is on_failure: null, so the page is still a 200.
  const std::array<bool, 2> ok{true, false};
  const Step done = f.flow->fanInDone(parent, ok);
  EXPECT_EQ(done.kind, StepKind::kAnswer);
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(parent.phase, FlowPhase::kDone);

  // The rate limit ran once for the parent: a second page in the same second is refused.
  FlowRequest again;
  EXPECT_EQ(f.start(again, t0 + 500ms).outcome, Outcome::kRateLimited);
}

TEST(FlowAggregate, ARequiredPartFailingMakesThePage502) {
  Fixture f;
  FlowRequest parent;
  ASSERT_EQ(f.start(parent, atOffset(1s)).kind, StepKind::kFanOut);
  const std::array<bool, 2> ok{false, true};
  const Step done = f.flow->fanInDone(parent, ok);
  EXPECT_EQ(done.status, 502);
  EXPECT_EQ(done.outcome, Outcome::kUpstream);
}

}  // namespace
}  // namespace gatelab::flow
