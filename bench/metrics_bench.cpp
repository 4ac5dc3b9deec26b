// Cost of recording one request in the metrics: onRateLimit (with its ground-truth judgement) plus
// onComplete, as the simulated gateway calls them; and the latency histogram alone.
// Figures go to docs/performance.md; nothing here is asserted.

#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "sim/metrics/collector.hpp"
#include "sim/metrics/histogram.hpp"

namespace {

using namespace std::chrono_literals;
using namespace gatelab;

constexpr std::string_view kYaml = R"(version: 1
services:
  - name: api
    targets: [http://a:1, http://a:2]
routes:
  - name: api
    match:
      path_prefix: /api
    service: api
    policies:
      - rate_limit:
          name: api-limit
          algorithm: sliding_window_counter
          limit: 100/s
          key: ip
)";

void BM_HistogramRecord(benchmark::State& state) {
  sim::LatencyHistogram h;
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> dist(std::log(20e6), 1.0);
  std::vector<core::Duration> values(4096);
  for (auto& v : values) v = core::Duration{static_cast<std::int64_t>(dist(rng))};
  std::size_t i = 0;
  for (auto _ : state) {
    h.record(values[i++ & 4095]);
  }
  benchmark::DoNotOptimize(h.count());
}
BENCHMARK(BM_HistogramRecord);

// One request: a rate-limit report (the policy's real decision for the client's key) and its
// completion, over `clients` clients with `windows` registered windows.
void BM_RecordRequest(benchmark::State& state) {
  const auto clientCount = static_cast<std::uint32_t>(state.range(0));
  const auto windowCount = static_cast<std::size_t>(state.range(1));
  const auto loaded = config::loadConfigString(kYaml, "bench.yaml");
  auto built = config::buildRuntime(loaded.config);
  auto& runtime = *built.runtime;
  sim::ClientTable clients;
  for (std::uint32_t c = 0; c < clientCount; ++c) clients.intern("client-" + std::to_string(c));
  sim::CollectorOptions options;
  options.start = core::TimePoint{};
  options.bucket = 1s;
  for (std::size_t w = 0; w < windowCount; ++w)
    options.windows.push_back(sim::MetricWindow{std::chrono::seconds(w * 60), std::chrono::seconds(w * 60 + 60)});
  sim::MetricsCollector metrics(runtime, clients, options);

  // Decisions computed up front (the policy's cost is not measured here); replayed in a loop with
  // time shifted forward on every pass so reports stay in time order.
  constexpr std::size_t kN = 1 << 18;
  constexpr std::int64_t kGap = 50'000;  // 20k requests/s
  std::mt19937_64 rng(7);
  auto& policy = *runtime.routes[0].rateLimits[0];
  std::vector<std::uint32_t> picks(kN);
  std::vector<core::ratelimit::PolicyDecision> decisions(kN);
  for (std::size_t k = 0; k < kN; ++k) {
    picks[k] = static_cast<std::uint32_t>(rng() % clientCount);
    decisions[k] = policy.evaluateKey(core::Hash128{picks[k] + 1ull, 0},
                                      core::TimePoint{core::Duration{static_cast<std::int64_t>(k) * kGap}});
  }
  std::int64_t now = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    now += kGap;
    const std::size_t k = i++ & (kN - 1);
    const std::uint32_t client = picks[k];
    const auto& decision = decisions[k];
    const core::TimePoint t{core::Duration{now}};
    sim::RateLimitReport r;
    r.at = t;
    r.client = client;
    r.decision = &decision;
    metrics.onRateLimit(r);
    sim::CompletionReport c;
    c.arrival = t;
    c.done = t + core::Duration{1'000'000 + (now % 7'000'000)};
    c.route = 0;
    c.service = 0;
    c.target = 0;
    c.client = client;
    c.status = decision.wouldBe == core::ratelimit::Verdict::kReject ? 429 : 200;
    c.outcome = decision.wouldBe == core::ratelimit::Verdict::kReject ? sim::RequestOutcome::kRateLimited
                                                                      : sim::RequestOutcome::kUpstream;
    metrics.onComplete(c);
  }
  benchmark::DoNotOptimize(metrics.truth().trackedKeys());
}
BENCHMARK(BM_RecordRequest)->Args({1000, 0})->Args({100000, 0})->Args({100000, 4});

// Policy evaluation alone vs policy + metrics, as the simulated gateway runs them.
void BM_PolicyAndMetrics(benchmark::State& state, bool withMetrics) {
  const auto loaded = config::loadConfigString(kYaml, "bench.yaml");
  auto built = config::buildRuntime(loaded.config);
  auto& runtime = *built.runtime;
  sim::ClientTable clients;
  const std::uint32_t clientCount = 100000;
  for (std::uint32_t c = 0; c < clientCount; ++c) clients.intern("client-" + std::to_string(c));
  sim::MetricsCollector metrics(runtime, clients, sim::CollectorOptions{});
  std::mt19937_64 rng(7);
  std::vector<std::uint32_t> picks(65536);
  for (auto& p : picks) p = static_cast<std::uint32_t>(rng() % clientCount);
  auto& policy = *runtime.routes[0].rateLimits[0];
  std::int64_t now = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    now += 50'000;
    const std::uint32_t client = picks[i++ & 65535];
    const core::TimePoint t{core::Duration{now}};
    const auto decision = policy.evaluateKey(core::Hash128{client + 1ull, 0}, t);
    if (withMetrics) {
      sim::RateLimitReport r;
      r.at = t;
      r.client = client;
      r.decision = &decision;
      metrics.onRateLimit(r);
      sim::CompletionReport c;
      c.arrival = t;
      c.done = t + core::Duration{1'000'000 + (now % 7'000'000)};
      c.route = 0;
      c.service = 0;
      c.target = 0;
      c.client = client;
      c.status = 200;
      metrics.onComplete(c);
    } else {
      benchmark::DoNotOptimize(decision);
    }
  }
}
BENCHMARK_CAPTURE(BM_PolicyAndMetrics, policy_only, false);
BENCHMARK_CAPTURE(BM_PolicyAndMetrics, policy_and_metrics, true);

}  // namespace

BENCHMARK_MAIN();
