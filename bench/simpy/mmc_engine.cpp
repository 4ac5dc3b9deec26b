// M/M/c queue on gatelab's engine (Simulation + MockBackend), the counterpart of mmc_simpy.py:
// Poisson arrivals at rate LAMBDA, c servers with exponential service at rate MU each, FIFO,
// unbounded queue; CUSTOMERS measured arrivals after CUSTOMERS/10 warm-up arrivals. Prints one
// JSON line with the measured mean wait, the Erlang C prediction and the wall time of the run.
//
// usage: mmc_engine LAMBDA MU C CUSTOMERS [SEED]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gateway/core/resilience/outcome.hpp"
#include "sim/engine/backend.hpp"
#include "sim/engine/queueing.hpp"
#include "sim/engine/random.hpp"
#include "sim/engine/service_time.hpp"
#include "sim/engine/simulation.hpp"

namespace {

using gatelab::sim::BackendConfig;
using gatelab::sim::MockBackend;
using gatelab::sim::Rng;
using gatelab::sim::RunSeed;
using gatelab::sim::ServiceTime;
using gatelab::sim::Simulation;

struct Source {
  Simulation* sim;
  MockBackend* backend;
  Rng* rng;
  double meanGapNs;
  std::uint64_t* remaining;
  std::uint64_t resetAt;  // statistics restart when this many arrivals remain (end of warm-up)
  void operator()() const {
    if (*remaining == resetAt) backend->resetStatistics();
    backend->call([](const gatelab::core::resilience::CallOutcome&) {});
    if (--*remaining == 0) return;
    sim->schedule(gatelab::core::Duration{static_cast<std::int64_t>(rng->exponential(meanGapNs))}, *this);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: mmc_engine LAMBDA MU C CUSTOMERS [SEED]\n");
    return 2;
  }
  const double lambda = std::strtod(argv[1], nullptr);
  const double mu = std::strtod(argv[2], nullptr);
  const auto c = static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10));
  const std::uint64_t customers = std::strtoull(argv[4], nullptr, 10);
  const std::uint64_t seed = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 1;
  if (!(lambda > 0) || !(mu > 0) || c == 0 || customers == 0 || lambda >= c * mu) {
    std::fprintf(stderr, "mmc_engine: need LAMBDA > 0, MU > 0, C >= 1, CUSTOMERS >= 1, LAMBDA < C*MU\n");
    return 2;
  }
  const std::uint64_t warmup = customers / 10;

  const auto started = std::chrono::steady_clock::now();
  Simulation sim(RunSeed{seed, 0});
  BackendConfig config;
  config.service = "mmc";
  config.servers = c;
  config.serviceTime = ServiceTime::exponential(gatelab::core::Duration{static_cast<std::int64_t>(1e9 / mu)});
  MockBackend backend(sim, config);
  Rng arrivals = sim.random().stream("arrivals");
  // One arrival stream; statistics restart at the first measured arrival, as the SimPy model
  // counts waits from the WARMUP-th arrival on.
  std::uint64_t remaining = warmup + customers;
  const double meanGapNs = 1e9 / lambda;
  sim.schedule(gatelab::core::Duration{0}, Source{&sim, &backend, &arrivals, meanGapNs, &remaining, customers});
  sim.run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const gatelab::sim::MmcMetrics theory = gatelab::sim::mmc(lambda, mu, c);
  std::printf(
      "{\"tool\": \"gatelab-engine\", \"lambda\": %.1f, \"mu\": %.1f, \"c\": %u, \"customers\": %llu, "
      "\"mean_wait_s\": %.9g, \"erlang_c_wait_s\": %.9g, \"utilization\": %.6f, \"wall_s\": %.6f, "
      "\"customers_per_s\": %.1f, \"events\": %llu}\n",
      lambda, mu, c, static_cast<unsigned long long>(customers), backend.meanWaitSeconds(), theory.meanWait,
      backend.utilization(), wall, static_cast<double>(warmup + customers) / wall,
      static_cast<unsigned long long>(sim.stats().executed));
  return 0;
}
