// Simulator engine costs: events per second through Simulation with a realistic request mix
// (every request schedules a response and a timeout; the timeout is cancelled when the response
// comes first, so a third of the scheduled events are cancelled), the classic "hold" model at
// several queue sizes for each queue implementation, and calls per second through an M/M/c mock
// backend with and without caller timeouts. Run in Release (scripts/bench.sh); figures are
// recorded in docs/simulator.md.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/engine/backend.hpp"
#include "sim/engine/event_queue.hpp"
#include "sim/engine/random.hpp"
#include "sim/engine/simulation.hpp"

namespace {

using namespace gatelab;
using namespace gatelab::sim;
using namespace std::chrono_literals;

std::unique_ptr<EventQueue> makeQueue(std::int64_t arity) {
  if (arity == 4) return std::make_unique<QuaternaryHeapQueue>();
  return std::make_unique<BinaryHeapQueue>();
}

core::Duration expDraw(Rng& rng, double meanNs) {
  return core::Duration{static_cast<std::int64_t>(rng.exponential(meanNs))};
}

// `clients` closed-loop clients: think (exp 1ms), send (response after exp 5ms, timeout after
// 20ms), on the response cancel the timeout; on the timeout start over. Per request: 3 events
// scheduled, ~2 executed, ~1 cancelled (about 1.8% of timeouts fire).
class TimeoutMix {
 public:
  TimeoutMix(std::int64_t arity, std::uint32_t clients)
      : sim_(SimulationOptions{RunSeed{1, 0}, makeQueue(arity), true}), rng_(sim_.random().stream("bench")),
        timeouts_(clients) {
    for (std::uint32_t c = 0; c < clients; ++c) think(c);
  }
  Simulation& sim() { return sim_; }

 private:
  void think(std::uint32_t c) {
    sim_.schedule(expDraw(rng_, 1e6), [this, c] { send(c); }, 1);
  }
  void send(std::uint32_t c) {
    timeouts_[c] = sim_.schedule(20ms, [this, c] { think(c); }, 3);
    sim_.schedule(expDraw(rng_, 5e6), [this, c] {
      if (sim_.cancel(timeouts_[c])) think(c);
    }, 2);
  }

  Simulation sim_;
  Rng rng_;
  std::vector<EventId> timeouts_;
};

void BM_EventsTimeoutMix(benchmark::State& state) {
  TimeoutMix mix(state.range(0), static_cast<std::uint32_t>(state.range(1)));
  Simulation& sim = mix.sim();
  for (int i = 0; i < 100000; ++i) sim.step();  // reach a steady state first
  const EngineStats before = sim.stats();
  for (auto _ : state) sim.step();
  const EngineStats& after = sim.stats();
  const auto executed = static_cast<double>(after.executed - before.executed);
  const auto scheduled = static_cast<double>(after.scheduled - before.scheduled);
  const auto cancelled = static_cast<double>(after.cancelled - before.cancelled);
  state.SetItemsProcessed(static_cast<std::int64_t>(executed));
  state.counters["scheduled/s"] = benchmark::Counter(scheduled, benchmark::Counter::kIsRate);
  state.counters["cancelled%"] = 100.0 * cancelled / scheduled;
  state.counters["queue"] = static_cast<double>(sim.queue().size());
  state.SetLabel(std::string(sim.queue().name()));
}
BENCHMARK(BM_EventsTimeoutMix)->ArgsProduct({{2, 4}, {1000, 10000, 100000}});

// Hold model: a queue of n pending events; each event schedules one replacement at now + exp.
void BM_EventsHold(benchmark::State& state) {
  Simulation sim(SimulationOptions{RunSeed{2, 0}, makeQueue(state.range(0)), true});
  Rng rng = sim.random().stream("hold");
  struct Hold {
    Simulation* sim;
    Rng* rng;
    void operator()() const { sim->schedule(expDraw(*rng, 1e6), Hold{sim, rng}); }
  };
  for (std::int64_t i = 0; i < state.range(1); ++i) sim.schedule(expDraw(rng, 1e6), Hold{&sim, &rng});
  for (auto _ : state) sim.step();
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(sim.queue().name()));
}
BENCHMARK(BM_EventsHold)->ArgsProduct({{2, 4}, {1000, 100000, 1000000}});

// Poisson arrivals into an M/M/8 backend at rho = 0.8 (mean service 10ms); with a 1s caller
// timeout per call (scheduled, then cancelled by the response) when range(0) is 1.
void BM_BackendCalls(benchmark::State& state) {
  const bool withTimeouts = state.range(0) != 0;
  Simulation sim(RunSeed{3, 0});
  BackendConfig cfg;
  cfg.service = "bench";
  cfg.servers = 8;
  cfg.queueCapacity = 1000;
  cfg.serviceTime = ServiceTime::exponential(10ms);
  MockBackend backend(sim, cfg);
  Rng arrivals = sim.random().stream("arrivals");
  const double meanGapNs = 1e9 / 640.0;  // lambda = 0.8 x 8 x 100/s
  std::uint64_t calls = 0;
  struct Arrival {
    Simulation* sim;
    MockBackend* backend;
    Rng* rng;
    double meanGapNs;
    std::uint64_t* calls;
    bool withTimeouts;
    void operator()() const {
      ++*calls;
      if (withTimeouts) {
        Simulation* s = sim;
        const EventId timeout = s->schedule(1s, [] {}, 3);
        backend->call([s, timeout](const core::resilience::CallOutcome&) { s->cancel(timeout); });
      } else {
        backend->call([](const core::resilience::CallOutcome&) {});
      }
      sim->schedule(expDraw(*rng, meanGapNs), *this, 1);
    }
  };
  sim.schedule(0ns, Arrival{&sim, &backend, &arrivals, meanGapNs, &calls, withTimeouts}, 1);
  for (int i = 0; i < 100000; ++i) sim.step();
  const std::uint64_t before = calls;
  for (auto _ : state) sim.step();
  state.SetItemsProcessed(static_cast<std::int64_t>(calls - before));
  state.counters["utilization"] = backend.utilization();
  state.SetLabel(withTimeouts ? "calls/s, with cancelled timeouts" : "calls/s");
}
BENCHMARK(BM_BackendCalls)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
