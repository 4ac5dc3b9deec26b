#include "sim/workload/zipf.hpp"

#include <algorithm>
#include <cmath>

namespace gatelab::sim::workload {

ZipfDistribution::ZipfDistribution(std::uint64_t n, double s) : s_(s) {
  cdf_.reserve(n);
  double sum = 0.0;
  double compensation = 0.0;  // Neumaier: the low-order bits lost by each addition
  for (std::uint64_t k = 1; k <= n; ++k) {
    const double w = s == 0.0 ? 1.0 : std::pow(static_cast<double>(k), -s);
    const double t = sum + w;
    compensation += std::fabs(sum) >= std::fabs(w) ? (sum - t) + w : (w - t) + sum;
    sum = t;
    cdf_.push_back(sum + compensation);
  }
}

std::uint64_t ZipfDistribution::sample(Rng& rng) const noexcept {
  const double target = rng.uniform() * cdf_.back();
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), target);
  if (it == cdf_.end()) return cdf_.size() - 1;  // the product rounded up to the total
  return static_cast<std::uint64_t>(it - cdf_.begin());
}

double ZipfDistribution::pmf(std::uint64_t rank) const noexcept {
  if (rank >= cdf_.size()) return 0.0;
  const double w = s_ == 0.0 ? 1.0 : std::pow(static_cast<double>(rank + 1), -s_);
  return w / cdf_.back();
}

}  // namespace gatelab::sim::workload
