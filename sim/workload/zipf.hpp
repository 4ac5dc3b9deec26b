#pragma once
// ZipfDistribution: which client sends a request, when client popularity follows Zipf's law.
//
// Over ranks k = 1..n, P(k) = k^-s / H(n, s), H(n, s) = sum_{j=1..n} j^-s (s = 0 is uniform; s
// around 1 is what web access logs show). sample() returns the 0-based rank k - 1.
//
// Sampling is exact inversion of the CDF over a precomputed table: the cumulative weights
// c_k = sum_{j<=k} j^-s are summed once in double precision (Neumaier-compensated, so the table is
// correct to a few ulps even for millions of ranks); a draw takes U uniform on [0, 1) and returns
// the first k with c_k > U * c_n (binary search). The only approximation is the rounding of c_k
// and of the product, at the 1e-16 relative level: no rejection, no truncated tail.
//
// Memory 8 bytes per rank (n <= kMaxZipfRanks, 80 MB at the cap); construction O(n) with one
// std::pow per rank; sample O(log n), one uniform draw. Immutable after construction; thread-safe
// (sample() uses only the caller's Rng).

#include <cstdint>
#include <vector>

#include "sim/engine/random.hpp"

namespace gatelab::sim::workload {

inline constexpr std::uint64_t kMaxZipfRanks = 10'000'000;

class ZipfDistribution {
 public:
  /// Preconditions: 1 <= n <= kMaxZipfRanks; s >= 0 and finite.
  ZipfDistribution(std::uint64_t n, double s);

  /// A 0-based rank (0 the most popular).
  [[nodiscard]] std::uint64_t sample(Rng& rng) const noexcept;
  /// P(rank) for a 0-based rank (0 outside [0, n)).
  [[nodiscard]] double pmf(std::uint64_t rank) const noexcept;
  [[nodiscard]] std::uint64_t size() const noexcept { return cdf_.size(); }
  [[nodiscard]] double exponent() const noexcept { return s_; }

 private:
  std::vector<double> cdf_;  // unnormalised cumulative weights
  double s_;
};

}  // namespace gatelab::sim::workload
