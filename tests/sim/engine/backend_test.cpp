// Mock backends: c servers then a FIFO queue, refusal when full, outcomes and latencies, error
// probability within binomial bounds, abandonment under each policy, statistics (waiting time,
// time-weighted utilization and queue length), re-entrant completions, config validation.

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "sim/engine/backend.hpp"
#include "tests/sim/engine/test_support.hpp"

namespace gatelab::sim {
namespace {

using namespace testing;

BackendConfig constantBackend(std::uint32_t servers, std::uint32_t queue, Duration service) {
  BackendConfig c;
  c.service = "users";
  c.target = "0";
  c.servers = servers;
  c.queueCapacity = queue;
  c.serviceTime = ServiceTime::constant(service);
  return c;
}

// Two servers, one queue slot: calls 1-2 served at once, call 3 waits, call 4 is refused.
TEST(MockBackend, ServersThenQueueThenRefusal) {
  Simulation sim;
  MockBackend backend(sim, constantBackend(2, 1, 10ms));
  Recorder rec(sim);
  for (int tag = 1; tag <= 4; ++tag) rec.call(backend, tag);
  EXPECT_EQ(backend.busyServers(), 2U);
  EXPECT_EQ(backend.queueLength(), 1U);
  EXPECT_TRUE(rec.got.empty()) << "nothing is delivered inside call()";
  sim.run();
  ASSERT_EQ(rec.got.size(), 4U);
  EXPECT_EQ(rec.got[0].tag, 4);
  EXPECT_EQ(rec.got[0].outcome.kind, OutcomeKind::kConnectFailure);
  EXPECT_EQ(rec.got[0].at, at(0ms));
  EXPECT_EQ(rec.got[1].tag, 1);
  EXPECT_EQ(rec.got[1].outcome, CallOutcome::response(200, 10ms));
  EXPECT_EQ(rec.got[2].tag, 2);
  EXPECT_EQ(rec.got[3].tag, 3);
  EXPECT_EQ(rec.got[3].at, at(20ms));
  EXPECT_EQ(rec.got[3].outcome, CallOutcome::response(200, 20ms)) << "latency includes the wait";
  const BackendStats& s = backend.stats();
  EXPECT_EQ(s.calls, 4U);
  EXPECT_EQ(s.accepted, 3U);
  EXPECT_EQ(s.refusedQueueFull, 1U);
  EXPECT_EQ(s.responses, 3U);
  EXPECT_EQ(s.totalWait, 10ms);
  EXPECT_EQ(s.maxWait, 10ms);
}

// The queue is FIFO; a refusal takes refusalLatency.
TEST(MockBackend, QueueIsFifoAndRefusalsTakeTheirLatency) {
  Simulation sim;
  BackendConfig cfg = constantBackend(1, 3, 5ms);
  cfg.refusalLatency = 1ms;
  MockBackend backend(sim, cfg);
  Recorder rec(sim);
  for (int tag = 1; tag <= 5; ++tag) rec.call(backend, tag);
  sim.run();
  std::vector<int> order;
  for (const Delivered& d : rec.got) order.push_back(d.tag);
  EXPECT_EQ(order, (std::vector<int>{5, 1, 2, 3, 4}));
  EXPECT_EQ(rec.find(5)->at, at(1ms));
  EXPECT_EQ(rec.find(5)->outcome, CallOutcome::connectFailure(1ms));
  EXPECT_EQ(rec.find(4)->at, at(20ms));
}

// A completion that calls the backend again queues behind calls already waiting.
TEST(MockBackend, ReentrantCallQueuesBehindWaitingCalls) {
  Simulation sim;
  MockBackend backend(sim, constantBackend(1, kUnboundedQueue, 5ms));
  std::vector<std::pair<int, TimePoint>> order;
  backend.call([&](const CallOutcome&) {
    order.emplace_back(1, sim.now());
    backend.call([&](const CallOutcome&) { order.emplace_back(3, sim.now()); });
  });
  backend.call([&](const CallOutcome&) { order.emplace_back(2, sim.now()); });
  sim.run();
  ASSERT_EQ(order.size(), 3U);
  EXPECT_EQ(order[0], std::make_pair(1, at(5ms)));
  EXPECT_EQ(order[1], std::make_pair(2, at(10ms)));
  EXPECT_EQ(order[2], std::make_pair(3, at(15ms)));
}

// With a fixed seed the share of errors is within 5 sigma of p, and errors carry the status.
TEST(MockBackend, ErrorProbabilityWithinBinomialBounds) {
  Simulation sim(RunSeed{123, 0});
  BackendConfig cfg = constantBackend(1000, kUnboundedQueue, 1ms);
  cfg.errorProbability = 0.2;
  cfg.errorStatus = 503;
  MockBackend backend(sim, cfg);
  int errors = 0;
  int ok = 0;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i)
    sim.schedule(at(i * 10us), [&] {
      backend.call([&](const CallOutcome& o) {
        if (o.status == 503) ++errors;
        if (o.status == 200) ++ok;
      });
    });
  sim.run();
  EXPECT_EQ(errors + ok, kN);
  const double sigma = std::sqrt(kN * 0.2 * 0.8);
  EXPECT_NEAR(errors, kN * 0.2, 5 * sigma);
  EXPECT_EQ(backend.stats().errorResponses, static_cast<std::uint64_t>(errors));
}

// Abandoned calls: the callback never runs; by default the server keeps working until the call
// would have finished, so the next call waits for it.
TEST(MockBackend, AbandonedCallKeepsItsServerByDefault) {
  Simulation sim;
  MockBackend backend(sim, constantBackend(1, kUnboundedQueue, 10ms));
  Recorder rec(sim);
  CallHandle a;
  sim.schedule(at(0ms), [&] { a = rec.call(backend, 1); });
  sim.schedule(at(1ms), [&] {
    EXPECT_TRUE(backend.cancel(a));
    EXPECT_FALSE(backend.cancel(a)) << "second cancel is a no-op";
  });
  rec.callAt(backend, at(2ms), 2);
  sim.run();
  ASSERT_EQ(rec.got.size(), 1U);
  EXPECT_EQ(rec.got[0].tag, 2);
  EXPECT_EQ(rec.got[0].at, at(20ms)) << "waited for the abandoned call's service to end at 10ms";
  EXPECT_EQ(backend.stats().abandoned, 1U);
  EXPECT_EQ(backend.stats().servicesCompleted, 2U);
}

// kStopWork frees the server at once; kDropQueued removes queued abandoned calls.
TEST(MockBackend, AbandonPoliciesFreeCapacity) {
  {
    Simulation sim;
    BackendConfig cfg = constantBackend(1, kUnboundedQueue, 10ms);
    cfg.onAbandon = AbandonPolicy::kStopWork;
    MockBackend backend(sim, cfg);
    Recorder rec(sim);
    CallHandle a;
    sim.schedule(at(0ms), [&] { a = rec.call(backend, 1); });
    rec.callAt(backend, at(2ms), 2);
    sim.schedule(at(3ms), [&] { EXPECT_TRUE(backend.cancel(a)); });
    sim.run();
    ASSERT_EQ(rec.got.size(), 1U);
    EXPECT_EQ(rec.got[0].at, at(13ms)) << "call 2 started at 3ms when call 1 was abandoned";
  }
  for (AbandonPolicy policy : {AbandonPolicy::kKeepWorking, AbandonPolicy::kDropQueued}) {
    Simulation sim;
    BackendConfig cfg = constantBackend(1, kUnboundedQueue, 10ms);
    cfg.onAbandon = policy;
    MockBackend backend(sim, cfg);
    Recorder rec(sim);
    rec.call(backend, 1);
    const CallHandle queued = rec.call(backend, 2);
    EXPECT_EQ(backend.queueLength(), 1U);
    EXPECT_TRUE(backend.cancel(queued));
    EXPECT_EQ(backend.queueLength(), policy == AbandonPolicy::kDropQueued ? 0U : 1U) << toString(policy);
    rec.call(backend, 3);
    sim.run();
    ASSERT_EQ(rec.got.size(), 2U);
    EXPECT_EQ(rec.find(3)->at, policy == AbandonPolicy::kDropQueued ? at(20ms) : at(30ms)) << toString(policy);
  }
}

// Cancel after the response was delivered is a no-op; so is a default handle.
TEST(MockBackend, CancelAfterCompletionIsANoOp) {
  Simulation sim;
  MockBackend backend(sim, constantBackend(1, 0, 1ms));
  Recorder rec(sim);
  const CallHandle h = rec.call(backend, 1);
  sim.run();
  EXPECT_FALSE(backend.cancel(h));
  EXPECT_FALSE(backend.cancel(CallHandle{}));
  rec.call(backend, 2);  // reuses the record of call 1: its old handle stays stale
  EXPECT_FALSE(backend.cancel(h));
  const CallHandle refused = rec.call(backend, 3);  // server busy, no queue: refused
  EXPECT_TRUE(backend.cancel(refused)) << "a pending refusal can be cancelled";
  sim.run();
  ASSERT_EQ(rec.got.size(), 2U);
  EXPECT_EQ(rec.got[1].tag, 2);
  EXPECT_EQ(backend.stats().refusedQueueFull, 1U);
}

// Time-weighted statistics are exact for a deterministic schedule.
TEST(MockBackend, TimeWeightedUtilizationAndQueueLength) {
  Simulation sim;
  MockBackend backend(sim, constantBackend(2, kUnboundedQueue, 10ms));
  Recorder rec(sim);
  for (int i = 0; i < 3; ++i) rec.call(backend, i);  // busy 2 for [0,10), 1 for [10,20)
  sim.runUntil(at(40ms));
  EXPECT_DOUBLE_EQ(backend.utilization(), (2 * 10.0 + 1 * 10.0) / 40.0 / 2.0);
  EXPECT_DOUBLE_EQ(backend.meanQueueLength(), 10.0 / 40.0);
  EXPECT_DOUBLE_EQ(backend.busyIntegral().integralSeconds(at(40ms)), 0.030);
  EXPECT_EQ(backend.queueIntegral().max(), 1);
  EXPECT_DOUBLE_EQ(backend.meanWaitSeconds(), 0.010 / 3);
  backend.resetStatistics();
  sim.runUntil(at(50ms));
  EXPECT_EQ(backend.stats().calls, 0U);
  EXPECT_DOUBLE_EQ(backend.utilization(), 0.0);
}

// Destroying a backend cancels its pending events; the simulation can go on without it.
TEST(MockBackend, DestructionCancelsPendingEvents) {
  Simulation sim;
  Recorder rec(sim);
  {
    auto backend = std::make_unique<MockBackend>(sim, constantBackend(1, 0, 10ms));
    rec.call(*backend, 1);  // in service
    rec.call(*backend, 2);  // refused, delivery pending
    backend->addFailure(at(1s), at(2s), Down{});
    EXPECT_EQ(sim.pendingEvents(), 4U);
  }
  EXPECT_EQ(sim.pendingEvents(), 0U);
  sim.run();
  EXPECT_TRUE(rec.got.empty());
}

TEST(MockBackend, ConfigValidationListsEveryProblem) {
  BackendConfig cfg;
  cfg.servers = 0;
  cfg.errorProbability = 1.5;
  cfg.errorStatus = 42;
  cfg.serviceTime = ServiceTime::exponential(-1ms);
  const auto err = validateBackendConfig(cfg);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("service: must not be empty"), std::string::npos);
  EXPECT_NE(err->find("servers: must be >= 1, got 0"), std::string::npos);
  EXPECT_NE(err->find("service_time: exponential: mean must be > 0"), std::string::npos);
  EXPECT_NE(err->find("error_probability: must be in [0, 1]"), std::string::npos);
  EXPECT_NE(err->find("error_status: must be an HTTP status 100..599, got 42"), std::string::npos);
  EXPECT_FALSE(validateBackendConfig(constantBackend(1, 0, 1ms)).has_value());
}

TEST(MockBackend, NameAndStreamsComeFromServiceAndTarget) {
  Simulation sim;
  MockBackend a(sim, constantBackend(1, 0, 1ms));
  EXPECT_EQ(a.name(), "users/0");
  BackendConfig cfg = constantBackend(1, 0, 1ms);
  cfg.target.clear();
  MockBackend b(sim, cfg);
  EXPECT_EQ(b.name(), "users");
}

}  // namespace
}  // namespace gatelab::sim
