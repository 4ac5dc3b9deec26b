// Requests per second through SimGateway: the whole simulated request path (route match, one
// rate-limit policy, load balancing, a circuit breaker, a per-try timeout event, retries with
// back-off and a budget, mock backends with errors) on one core, engine included. Run in Release;
// figures go to docs/performance.md.
//
//   Full      route + token bucket per client IP + 4 targets (round robin) + breaker + retries,
//             1% backend errors, ~100 requests in flight.
//   Minimal   route + one target, no policies: the floor of the host's own cost.

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "sim/engine/backend.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/gateway/sim_gateway.hpp"

namespace {

using namespace gatelab;
using namespace gatelab::sim;
using namespace std::chrono_literals;

const char* const kFullYaml = R"(version: 1
services:
  - name: api
    targets: [http://a:1, http://b:2, http://c:3, http://d:4]
    load_balancer: round_robin
    timeouts: { per_try: 200ms, overall: 1s }
    retries: { attempts: 2, on: [connect-failure, gateway-error, 500], backoff: { base: 1ms } }
    circuit_breaker: { failure_rate: 50%, window: 100, minimum_calls: 50, open_for: 1s }
routes:
  - name: api
    match: { path_prefix: /api }
    service: api
    policies:
      - rate_limit: { algorithm: token_bucket, limit: 2000/s, burst: 100, key: ip }
)";

const char* const kMinimalYaml = R"(version: 1
services:
  - name: api
    targets: [http://a:1]
routes:
  - name: api
    match: { path_prefix: /api }
    service: api
)";

struct Counter final : GatewayObserver {
  std::uint64_t done = 0;
  void onComplete(const CompletionReport&) override { ++done; }
};

void runGateway(benchmark::State& state, const char* yaml, double errorProbability) {
  const config::LoadResult loaded = config::loadConfigString(yaml, "bench.yaml");
  if (!loaded.ok()) {
    state.SkipWithError(loaded.errorText().c_str());
    return;
  }
  config::BuildResult built = config::buildRuntime(loaded.config);
  if (!built.ok()) {
    state.SkipWithError("buildRuntime failed");
    return;
  }
  config::GatewayRuntime& runtime = *built.runtime;
  Simulation sim(RunSeed{1, 0});
  std::vector<std::unique_ptr<MockBackend>> owned;
  std::vector<std::vector<MockBackend*>> table(runtime.services.size());
  for (std::size_t s = 0; s < runtime.services.size(); ++s) {
    for (std::size_t t = 0; t < runtime.services[s].targets->size(); ++t) {
      BackendConfig cfg;
      cfg.service = runtime.services[s].config->name;
      cfg.target = runtime.services[s].targets->target(t).name;
      cfg.servers = 64;
      cfg.serviceTime = ServiceTime::exponential(5ms);
      cfg.errorProbability = errorProbability;
      owned.push_back(std::make_unique<MockBackend>(sim, cfg));
      table[s].push_back(owned.back().get());
    }
  }
  Counter counter;
  SimGateway gateway(sim, runtime, std::move(table), counter, sim.random().stream("gateway"));

  // 1,000 client addresses, one request every 50us of virtual time (20k/s, ~100 in flight).
  std::vector<std::string> clients;
  for (int i = 0; i < 1000; ++i) clients.push_back("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  core::RequestView view;
  view.method = "GET";
  view.path = "/api/v1/items";
  view.host = "shop.example.com";
  core::TimePoint at = sim.now();
  std::size_t client = 0;
  for (auto _ : state) {
    at += 50us;
    sim.runUntil(at);
    view.clientAddress = clients[client];
    client = client + 1 == clients.size() ? 0 : client + 1;
    benchmark::DoNotOptimize(gateway.submit(view, static_cast<ClientId>(client)));
  }
  sim.run();
  state.SetItemsProcessed(static_cast<std::int64_t>(gateway.stats().submitted));
  state.counters["completed"] = static_cast<double>(counter.done);
  state.counters["events/req"] =
      static_cast<double>(sim.stats().executed) / static_cast<double>(std::max<std::uint64_t>(1, gateway.stats().submitted));
  const auto& by = gateway.stats().byOutcome;
  state.counters["rate_limited"] = static_cast<double>(by[static_cast<std::size_t>(RequestOutcome::kRateLimited)]);
  state.counters["breaker_open"] = static_cast<double>(by[static_cast<std::size_t>(RequestOutcome::kBreakerOpen)]);
}

void BM_SimGatewayFull(benchmark::State& state) { runGateway(state, kFullYaml, 0.01); }
void BM_SimGatewayMinimal(benchmark::State& state) { runGateway(state, kMinimalYaml, 0.0); }

BENCHMARK(BM_SimGatewayFull)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_SimGatewayMinimal)->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
