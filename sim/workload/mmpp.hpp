#pragma once
// MmppModel: the Markov chain behind a Markov-modulated Poisson process (MMPP), validated, with
// the figures theory gives for it.
//
// An MMPP has N states; in state i requests arrive as a Poisson process of rate lambda_i, and the
// state is a continuous-time Markov chain with generator Q (q_ij >= 0 the rate of jumping i -> j,
// q_ii = -sum_{j != i} q_ij). Two ways to give the chain:
//   fromGenerator(rates, Q)                    Q itself, per second
//   fromSojourns(rates, sojourns, P)           the mean time spent in each state per visit and the
//                                              jump probabilities P (p_ii = 0, rows sum to 1):
//                                              q_ij = p_ij / sojourn_i. An empty P means "to each
//                                              other state with equal probability" (two states
//                                              simply alternate).
// The chain must be irreducible (every state reachable from every other), so it has one
// stationary distribution pi: pi Q = 0, sum pi = 1, solved with Eigen (LU with full pivoting of Q^T
// with one equation replaced by the normalisation). From it:
//   meanRate          = sum_i pi_i lambda_i                      (long-run arrivals per second)
//   countVarianceRate = lim Var N(t) / t
//                     = meanRate + 2 (pi o lambda)^T D lambda,   D = (1 pi^T - Q)^-1 - 1 pi^T
//                     (D is the chain's deviation matrix; this is the asymptotic index of
//                     dispersion times the mean rate, used by the tests to derive tolerances.)
//
// Immutable after construction; thread-safe. Construction O(N^3) (N <= kMaxMmppStates).

#include <cstddef>
#include <string>
#include <vector>

#include "gateway/config/units.hpp"

namespace gatelab::sim::workload {

inline constexpr std::size_t kMaxMmppStates = 32;

class MmppModel {
 public:
  /// `rates` per second (>= 0, not all 0), `generator` N x N per second. Errors name the row and
  /// column at fault ("generator row 2: the off-diagonal entries must be >= 0").
  [[nodiscard]] static config::UnitResult<MmppModel> fromGenerator(std::vector<double> rates,
                                                                   std::vector<std::vector<double>> generator);
  /// `sojournSeconds` > 0 per state; `transitions` empty or N x N probabilities (p_ii = 0; each row
  /// sums to 1 within 1e-6; it is renormalised).
  [[nodiscard]] static config::UnitResult<MmppModel> fromSojourns(std::vector<double> rates,
                                                                  std::vector<double> sojournSeconds,
                                                                  std::vector<std::vector<double>> transitions);

  [[nodiscard]] std::size_t states() const noexcept { return rates_.size(); }
  [[nodiscard]] const std::vector<double>& rates() const noexcept { return rates_; }
  [[nodiscard]] const std::vector<std::vector<double>>& generator() const noexcept { return q_; }
  /// Total rate of leaving state i (-q_ii), per second. 0 only for a one-state chain.
  [[nodiscard]] double exitRate(std::size_t i) const noexcept { return -q_[i][i]; }
  /// Probability of jumping to j when leaving i (q_ij / -q_ii).
  [[nodiscard]] double jumpProbability(std::size_t i, std::size_t j) const noexcept;
  [[nodiscard]] const std::vector<double>& stationary() const noexcept { return pi_; }
  [[nodiscard]] double meanRate() const noexcept { return meanRate_; }
  [[nodiscard]] double countVarianceRate() const noexcept { return varianceRate_; }
  /// "mmpp(2 states: 100/s for 50s, 600/s for 10s; mean 183.3/s)".
  [[nodiscard]] std::string describe() const;

 private:
  MmppModel() = default;
  [[nodiscard]] static config::UnitResult<MmppModel> solve(std::vector<double> rates, std::vector<std::vector<double>> q);

  std::vector<double> rates_;
  std::vector<std::vector<double>> q_;
  std::vector<double> pi_;
  double meanRate_ = 0.0;
  double varianceRate_ = 0.0;
};

}  // namespace gatelab::sim::workload
