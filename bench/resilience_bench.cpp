// Resilience policy costs: circuit breaker admit + record (count and time windows, and the
// fail-fast path), one load-balancer pick over 100 targets per algorithm, one retry decision
// (with a budget), one outlier-detection record. Run in Release (scripts/bench.sh); figures are
// recorded in docs/resilience.md.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gateway/core/events.hpp"
#include "gateway/core/resilience/circuit_breaker.hpp"
#include "gateway/core/resilience/load_balancer.hpp"
#include "gateway/core/resilience/outlier_detection.hpp"
#include "gateway/core/resilience/retry.hpp"
#include "gateway/core/resilience/target_set.hpp"

namespace {

using namespace gatelab::core;
using namespace gatelab::core::resilience;
using namespace std::chrono_literals;

// xorshift64*: the benchmark's own draws (the core never generates randomness).
struct Draws {
  std::uint64_t s = 0x9E3779B97F4A7C15ULL;
  std::uint64_t next() noexcept {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1DULL;
  }
};

BreakerConfig breakerConfig(WindowKind window) {
  BreakerConfig c;
  c.failureRate = Percent::of(50);
  c.slowCallRate = Percent::of(80);
  c.slowCallDuration = 1s;
  c.consecutiveFailures = 20;
  c.window = window;
  c.windowSize = 100;
  c.windowDuration = 60s;
  c.minimumCalls = 20;
  return c;
}

// Closed breaker, one admit + one recorded outcome per iteration, 1 us apart, 1 failure in 8
// (below every threshold, so it stays closed: the hot path of a healthy service).
void BM_BreakerAdmitRecord(benchmark::State& state) {
  const auto window = static_cast<WindowKind>(state.range(0));
  NullEventSink sink;
  CircuitBreaker cb(breakerConfig(window), EventSubject{"users", ""}, sink);
  std::int64_t t = 0;
  std::uint32_t i = 0;
  const CallOutcome okOutcome = CallOutcome::response(200, 5ms);
  const CallOutcome failOutcome = CallOutcome::response(503, 5ms);
  for (auto _ : state) {
    const TimePoint now = atOffset(Duration{t});
    const Admission a = cb.tryAcquire(now);
    cb.onResult(a.permit, (++i & 7) == 0 ? failOutcome : okOutcome, now);
    t += 1000;
  }
  benchmark::DoNotOptimize(cb.stats());
  state.SetLabel(toString(window));
}

// Open breaker: the fail-fast answer during an outage.
void BM_BreakerFailFast(benchmark::State& state) {
  NullEventSink sink;
  BreakerConfig c = breakerConfig(WindowKind::kCount);
  c.openFor = std::chrono::hours{1};
  CircuitBreaker cb(c, EventSubject{"users", ""}, sink);
  cb.forceOpen(atOffset(0s));
  std::int64_t t = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cb.tryAcquire(atOffset(Duration{t})));
    t += 1000;
  }
}

std::vector<TargetSpec> hundredTargets() {
  std::vector<TargetSpec> out;
  for (int i = 0; i < 100; ++i)
    out.push_back(TargetSpec{"http://10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":8080",
                             static_cast<std::uint32_t>(1 + i % 5)});
  return out;
}

// One pick among 100 targets; range(1) of them unavailable (health down).
void BM_LbPick(benchmark::State& state) {
  const auto algo = static_cast<LbAlgorithm>(state.range(0));
  TargetSet set("users", hundredTargets());
  for (std::int64_t i = 0; i < state.range(1); ++i) set.setHealthy(static_cast<std::size_t>(i * 7 % 100), false);
  LbConfig c;
  c.algorithm = algo;
  auto lb = makeLoadBalancer(c, set);
  Draws d;
  PickRequest r;
  r.now = atOffset(1s);
  for (auto _ : state) {
    r.draw = d.next();
    r.draw2 = d.next();
    r.hash = d.next();
    const Pick p = lb->pick(set, r);
    benchmark::DoNotOptimize(p);
  }
  state.SetLabel(std::string(toString(algo)) + (state.range(1) > 0 ? " (10 down)" : ""));
}

// One retry decision for a 503 on the first try, with a budget (charged and released).
void BM_RetryDecision(benchmark::State& state) {
  RetryConfig c;
  c.maxRetries = 2;
  const RetryPolicy policy(c);
  RetryBudget budget(RetryBudgetConfig{});
  for (int i = 0; i < 100; ++i) budget.onRequestStart();
  Draws d;
  RetryQuery q;
  q.outcome = CallOutcome::response(503, 5ms);
  q.method = "GET";
  q.now = atOffset(1s);
  q.deadline = atOffset(3s);
  for (auto _ : state) {
    q.draw = d.next();
    const RetryDecision r = policy.decide(q, &budget);
    if (r.budgetHeld) budget.onRetryEnd();
    benchmark::DoNotOptimize(r);
  }
}

// One outcome recorded by outlier detection, spread over 100 targets; range(0) selects a healthy
// stream (all 200) or one with 1 in 4 failing (runs start and reset, no ejection).
void BM_EjectionRecord(benchmark::State& state) {
  NullEventSink sink;
  TargetSet set("users", hundredTargets());
  OutlierDetector od(OutlierConfig{}, set, sink);
  const CallOutcome okOutcome = CallOutcome::response(200, 5ms);
  const CallOutcome failOutcome = CallOutcome::response(503, 5ms);
  const bool failing = state.range(0) != 0;
  std::size_t target = 0;
  std::uint32_t i = 0;
  std::int64_t t = 0;
  for (auto _ : state) {
    const bool fail = failing && (++i & 3) == 0;
    benchmark::DoNotOptimize(od.onResult(target, fail ? failOutcome : okOutcome, atOffset(Duration{t})));
    target = target + 1 == 100 ? 0 : target + 1;
    t += 1000;
  }
  state.SetLabel(failing ? "25% 503" : "all 200");
}

}  // namespace

BENCHMARK(BM_BreakerAdmitRecord)->Arg(static_cast<int>(WindowKind::kCount))->Arg(static_cast<int>(WindowKind::kTime));
BENCHMARK(BM_BreakerFailFast);
BENCHMARK(BM_LbPick)
    ->ArgsProduct({{static_cast<int>(LbAlgorithm::kRoundRobin), static_cast<int>(LbAlgorithm::kWeightedRoundRobin),
                    static_cast<int>(LbAlgorithm::kWeightedRandom), static_cast<int>(LbAlgorithm::kLeastRequest),
                    static_cast<int>(LbAlgorithm::kConsistentHash)},
                   {0, 10}});
BENCHMARK(BM_RetryDecision);
BENCHMARK(BM_EjectionRecord)->Arg(0)->Arg(1);

BENCHMARK_MAIN();
