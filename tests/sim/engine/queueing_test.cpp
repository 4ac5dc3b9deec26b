// Validation against queueing theory: long runs of Poisson arrivals into a mock backend must
// match the closed forms within 3%: M/M/4 (Erlang C) mean wait and utilization, M/M/1,
// M/D/1 and M/G/1 with a lognormal service (Pollaczek-Khinchine). The measured relative errors
// are printed (and recorded as test properties) for docs/simulator.md.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "sim/engine/backend.hpp"
#include "sim/engine/queueing.hpp"
#include "tests/sim/engine/test_support.hpp"

namespace gatelab::sim {
namespace {

using namespace testing;

TEST(Queueing, ErlangCClosedForm) {
  // C(1, a) = a; C(2, 1) = 1/3; otherwise the textbook sum
  //   C(c, a) = (a^c / c!) (c / (c - a)) / (sum_{k<c} a^k / k! + (a^c / c!) (c / (c - a))).
  EXPECT_DOUBLE_EQ(erlangC(1, 0.8), 0.8);
  EXPECT_NEAR(erlangC(2, 1.0), 1.0 / 3.0, 1e-15);
  for (const auto& [c, a] : {std::pair{4U, 3.2}, std::pair{8U, 7.5}, std::pair{16U, 10.0}}) {
    double sum = 0.0;
    double term = 1.0;  // a^k / k!
    for (std::uint32_t k = 0; k < c; ++k) {
      sum += term;
      term *= a / static_cast<double>(k + 1);
    }
    const double tail = term * static_cast<double>(c) / (static_cast<double>(c) - a);
    EXPECT_NEAR(erlangC(c, a), tail / (sum + tail), 1e-12) << "c=" << c << " a=" << a;
  }
  EXPECT_NEAR(erlangC(4, 3.2), 0.596432, 1e-6);
  const MmcMetrics m = mmc(320.0, 100.0, 4);
  EXPECT_DOUBLE_EQ(m.utilization, 0.8);
  EXPECT_NEAR(m.meanWait, erlangC(4, 3.2) / 80.0, 1e-15);
  EXPECT_NEAR(mg1MeanWait(80.0, 0.01, 2e-4), 0.04, 1e-15) << "M/M/1 through P-K";
}

struct Measured {
  double meanWait = 0.0;     // seconds
  double utilization = 0.0;
  double meanQueue = 0.0;
};

// Poisson arrivals at `lambda`/s into `servers` servers with an unbounded queue; statistics are
// reset after the first 2% of arrivals (warm-up from an empty system).
Measured simulate(const ServiceTime& service, std::uint32_t servers, double lambda, std::uint64_t arrivals,
                  std::uint64_t seed) {
  Simulation sim(RunSeed{seed, 0});
  BackendConfig cfg;
  cfg.service = "queueing";
  cfg.servers = servers;
  cfg.serviceTime = service;
  MockBackend backend(sim, cfg);
  const std::uint64_t warmup = arrivals / 50;
  std::uint64_t n = 0;
  PoissonSource source(sim, sim.random().stream("arrivals"), Duration{static_cast<std::int64_t>(1e9 / lambda)}, arrivals,
                       [&] {
                         if (++n == warmup) backend.resetStatistics();
                         backend.call([](const CallOutcome&) {});
                       });
  source.start();
  sim.run();
  return {backend.meanWaitSeconds(), backend.utilization(), backend.meanQueueLength()};
}

double relativeError(double measured, double expected) { return std::abs(measured - expected) / expected; }

void report(const char* name, double wqErr, double utilErr) {
  std::printf("[queueing] %-40s Wq error %.2f%%, utilization error %.2f%%\n", name, 100 * wqErr, 100 * utilErr);
  ::testing::Test::RecordProperty(std::string(name) + " Wq error %", std::to_string(100 * wqErr));
}

// M/M/4 at rho = 0.8: mean wait matches Erlang C, utilization matches rho.
TEST(Queueing, MM4MatchesErlangC) {
  const double mu = 100.0;  // 10ms mean service
  const double lambda = 320.0;
  const MmcMetrics theory = mmc(lambda, mu, 4);
  const Measured m = simulate(ServiceTime::exponential(10ms), 4, lambda, 4'000'000, 1);
  const double wqErr = relativeError(m.meanWait, theory.meanWait);
  const double utilErr = relativeError(m.utilization, theory.utilization);
  report("M/M/4 rho=0.8 (4M arrivals)", wqErr, utilErr);
  EXPECT_LT(wqErr, 0.03) << "Wq measured " << m.meanWait << "s, Erlang C " << theory.meanWait << "s";
  EXPECT_LT(utilErr, 0.03) << "utilization " << m.utilization;
  EXPECT_LT(relativeError(m.meanQueue, theory.meanQueueLength), 0.03) << "Lq " << m.meanQueue;
}

TEST(Queueing, MM1MatchesTheory) {
  const double mu = 100.0;
  const double lambda = 70.0;
  const MmcMetrics theory = mmc(lambda, mu, 1);  // Wq = rho / (mu - lambda)
  const Measured m = simulate(ServiceTime::exponential(10ms), 1, lambda, 2'000'000, 2);
  const double wqErr = relativeError(m.meanWait, theory.meanWait);
  const double utilErr = relativeError(m.utilization, 0.7);
  report("M/M/1 rho=0.7 (2M arrivals)", wqErr, utilErr);
  EXPECT_LT(wqErr, 0.03);
  EXPECT_LT(utilErr, 0.03);
}

// Constant service: M/D/1, Wq = rho S / (2 (1 - rho)).
TEST(Queueing, MD1MatchesPollaczekKhinchine) {
  const double lambda = 80.0;
  const ServiceTime service = ServiceTime::constant(10ms);
  const double expected = mg1MeanWait(lambda, service.meanSeconds(), service.secondMomentSeconds());
  EXPECT_NEAR(expected, 0.8 * 0.01 / (2 * 0.2), 1e-15);
  const Measured m = simulate(service, 1, lambda, 2'000'000, 3);
  const double wqErr = relativeError(m.meanWait, expected);
  const double utilErr = relativeError(m.utilization, 0.8);
  report("M/D/1 rho=0.8 (2M arrivals)", wqErr, utilErr);
  EXPECT_LT(wqErr, 0.03);
  EXPECT_LT(utilErr, 0.03);
}

// Lognormal service (median 8ms, p99 24ms): M/G/1 with its exact first two moments.
TEST(Queueing, MG1LognormalMatchesPollaczekKhinchine) {
  const ServiceTime service = ServiceTime::lognormal(8ms, 24ms);
  const double rho = 0.7;
  const double lambda = rho / service.meanSeconds();
  const double expected = mg1MeanWait(lambda, service.meanSeconds(), service.secondMomentSeconds());
  const Measured m = simulate(service, 1, lambda, 2'000'000, 4);
  const double wqErr = relativeError(m.meanWait, expected);
  const double utilErr = relativeError(m.utilization, rho);
  report("M/G/1 lognormal rho=0.7 (2M arrivals)", wqErr, utilErr);
  EXPECT_LT(wqErr, 0.03);
  EXPECT_LT(utilErr, 0.03);
}

}  // namespace
}  // namespace gatelab::sim
