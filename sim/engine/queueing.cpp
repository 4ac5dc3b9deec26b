#include "sim/engine/queueing.hpp"

namespace gatelab::sim {

double erlangC(std::uint32_t c, double a) noexcept {
  double b = 1.0;
  for (std::uint32_t k = 1; k <= c; ++k) b = a * b / (static_cast<double>(k) + a * b);
  const double cd = static_cast<double>(c);
  return cd * b / (cd - a * (1.0 - b));
}

MmcMetrics mmc(double lambda, double mu, std::uint32_t c) noexcept {
  MmcMetrics m;
  const double a = lambda / mu;
  m.utilization = a / static_cast<double>(c);
  m.waitProbability = erlangC(c, a);
  m.meanWait = m.waitProbability / (static_cast<double>(c) * mu - lambda);
  m.meanQueueLength = lambda * m.meanWait;
  m.meanResponse = m.meanWait + 1.0 / mu;
  return m;
}

double mg1MeanWait(double lambda, double meanService, double secondMomentService) noexcept {
  const double rho = lambda * meanService;
  return lambda * secondMomentService / (2.0 * (1.0 - rho));
}

}  // namespace gatelab::sim
