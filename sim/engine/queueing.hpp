#pragma once
// Closed-form queueing results the mock backends are validated against (and that a scenario
// author can use to size a backend). Arrival rate lambda and service rate mu are per second.
//
//   M/M/c (Erlang C): offered load a = lambda / mu, utilisation rho = a / c < 1,
//     Erlang B by the stable recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)),
//     P(wait) = C(c, a) = c B(c) / (c - a (1 - B(c))),
//     Wq = C(c, a) / (c mu - lambda), Lq = lambda Wq, W = Wq + 1 / mu.
//   M/G/1 (Pollaczek-Khinchine): Wq = lambda E[S^2] / (2 (1 - rho)), rho = lambda E[S];
//     M/D/1: E[S^2] = S^2, so Wq = rho S / (2 (1 - rho)); M/M/1: Wq = rho / (mu - lambda).
//
// Thread safety: pure functions. Complexity: erlangC O(c), the others O(1).

#include <cstdint>

namespace gatelab::sim {

/// Probability that an arrival has to wait in an M/M/c queue with offered load `a` Erlangs.
/// Preconditions: c >= 1, 0 <= a < c.
double erlangC(std::uint32_t c, double a) noexcept;

struct MmcMetrics {
  double utilization = 0.0;      ///< rho = lambda / (c mu)
  double waitProbability = 0.0;  ///< Erlang C
  double meanWait = 0.0;         ///< Wq, seconds
  double meanQueueLength = 0.0;  ///< Lq
  double meanResponse = 0.0;     ///< W = Wq + 1/mu, seconds
};

/// Steady-state M/M/c metrics. Preconditions: lambda >= 0, mu > 0, lambda < c mu.
MmcMetrics mmc(double lambda, double mu, std::uint32_t c) noexcept;

/// M/G/1 mean waiting time (seconds) from the service time's first two moments (seconds,
/// seconds^2). Precondition: lambda * meanService < 1.
double mg1MeanWait(double lambda, double meanService, double secondMomentService) noexcept;

}  // namespace gatelab::sim
