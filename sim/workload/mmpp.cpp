#include "sim/workload/mmpp.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace gatelab::sim::workload {
namespace {

constexpr const char* kGeneratorAllowed =
    "an N x N matrix per second: off-diagonal entries >= 0, each row summing to 0 (q_ii = -sum of the others), "
    "every state reachable from every other";
constexpr const char* kTransitionsAllowed =
    "an N x N matrix of jump probabilities: diagonal 0, entries >= 0, each row summing to 1";

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

config::UnitError error(std::string message, const char* allowed) { return config::UnitError{std::move(message), allowed}; }

std::optional<config::UnitError> checkRates(const std::vector<double>& rates) {
  if (rates.empty() || rates.size() > kMaxMmppStates) {
    return error("an MMPP needs 1 to " + std::to_string(kMaxMmppStates) + " states, got " + std::to_string(rates.size()),
                 "1 to 32 states, each with a rate");
  }
  bool any = false;
  for (std::size_t i = 0; i < rates.size(); ++i) {
    if (!std::isfinite(rates[i]) || rates[i] < 0) {
      return error("state " + std::to_string(i) + ": rate " + num(rates[i]) + " is not a finite rate >= 0", "a rate >= 0");
    }
    any = any || rates[i] > 0;
  }
  if (!any) return error("every state has rate 0, so no request would ever arrive", "at least one state with a rate > 0");
  return std::nullopt;
}

// Every state reaches every other along positive rates (strong connectivity, two searches from 0).
std::optional<std::size_t> unreachableState(const std::vector<std::vector<double>>& q, bool reversed) {
  const std::size_t n = q.size();
  std::vector<bool> seen(n, false);
  std::vector<std::size_t> stack{0};
  seen[0] = true;
  while (!stack.empty()) {
    const std::size_t i = stack.back();
    stack.pop_back();
    for (std::size_t j = 0; j < n; ++j) {
      const double rate = reversed ? q[j][i] : q[i][j];
      if (j != i && rate > 0 && !seen[j]) {
        seen[j] = true;
        stack.push_back(j);
      }
    }
  }
  for (std::size_t j = 0; j < n; ++j) {
    if (!seen[j]) return j;
  }
  return std::nullopt;
}

}  // namespace

double MmppModel::jumpProbability(std::size_t i, std::size_t j) const noexcept {
  if (i == j || exitRate(i) <= 0) return 0.0;
  return q_[i][j] / exitRate(i);
}

config::UnitResult<MmppModel> MmppModel::fromGenerator(std::vector<double> rates, std::vector<std::vector<double>> q) {
  if (auto e = checkRates(rates)) return *e;
  const std::size_t n = rates.size();
  if (q.size() != n) {
    return error("the generator has " + std::to_string(q.size()) + " rows for " + std::to_string(n) + " states",
                 kGeneratorAllowed);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (q[i].size() != n) {
      return error("generator row " + std::to_string(i) + " has " + std::to_string(q[i].size()) + " entries, not " +
                       std::to_string(n),
                   kGeneratorAllowed);
    }
    double off = 0.0;
    double scale = 1.0;
    for (std::size_t j = 0; j < n; ++j) {
      if (!std::isfinite(q[i][j])) return error("generator row " + std::to_string(i) + ": entry " + std::to_string(j) + " is not finite", kGeneratorAllowed);
      if (j != i && q[i][j] < 0) {
        return error("generator row " + std::to_string(i) + ": off-diagonal entry " + std::to_string(j) + " is " +
                         num(q[i][j]) + ", must be >= 0",
                     kGeneratorAllowed);
      }
      if (j != i) off += q[i][j];
      scale = std::max(scale, std::fabs(q[i][j]));
    }
    if (std::fabs(off + q[i][i]) > 1e-6 * scale) {
      return error("generator row " + std::to_string(i) + " sums to " + num(off + q[i][i]) + ", not 0 (q_" +
                       std::to_string(i) + std::to_string(i) + " should be " + num(-off) + ")",
                   kGeneratorAllowed);
    }
    q[i][i] = -off;  // exact, whatever rounding the user's decimals had
  }
  return solve(std::move(rates), std::move(q));
}

config::UnitResult<MmppModel> MmppModel::fromSojourns(std::vector<double> rates, std::vector<double> sojourns,
                                                      std::vector<std::vector<double>> p) {
  if (auto e = checkRates(rates)) return *e;
  const std::size_t n = rates.size();
  if (sojourns.size() != n) {
    return error(std::to_string(sojourns.size()) + " sojourn times for " + std::to_string(n) + " states", "one per state");
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(sojourns[i]) || sojourns[i] <= 0) {
      return error("state " + std::to_string(i) + ": the mean sojourn must be a positive duration", "a duration > 0");
    }
  }
  if (p.empty()) {
    p.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      p[i].assign(n, n > 1 ? 1.0 / static_cast<double>(n - 1) : 0.0);
      p[i][i] = 0.0;
    }
  }
  if (p.size() != n) {
    return error("the transition matrix has " + std::to_string(p.size()) + " rows for " + std::to_string(n) + " states",
                 kTransitionsAllowed);
  }
  std::vector<std::vector<double>> q(n);  // (filled row by row: GCC 12 misreports a copied row's free)
  for (std::size_t i = 0; i < n; ++i) {
    q[i].assign(n, 0.0);
    if (p[i].size() != n) {
      return error("transition row " + std::to_string(i) + " has " + std::to_string(p[i].size()) + " entries, not " +
                       std::to_string(n),
                   kTransitionsAllowed);
    }
    double sum = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      if (!std::isfinite(p[i][j]) || p[i][j] < 0) {
        return error("transition row " + std::to_string(i) + ": entry " + std::to_string(j) + " is not a probability", kTransitionsAllowed);
      }
      if (j == i && p[i][j] != 0) {
        return error("transition row " + std::to_string(i) + ": the diagonal must be 0 (staying is the sojourn time)",
                     kTransitionsAllowed);
      }
      sum += p[i][j];
    }
    if (n > 1 && std::fabs(sum - 1.0) > 1e-6) {
      return error("transition row " + std::to_string(i) + " sums to " + num(sum) + ", not 1", kTransitionsAllowed);
    }
    if (n == 1) continue;
    for (std::size_t j = 0; j < n; ++j) {
      if (j != i) q[i][j] = p[i][j] / sum / sojourns[i];
    }
    double off = 0.0;
    for (std::size_t j = 0; j < n; ++j) off += j != i ? q[i][j] : 0.0;
    q[i][i] = -off;
  }
  return solve(std::move(rates), std::move(q));
}

config::UnitResult<MmppModel> MmppModel::solve(std::vector<double> rates, std::vector<std::vector<double>> q) {
  const std::size_t n = rates.size();
  for (const bool reversed : {false, true}) {
    if (const auto j = unreachableState(q, reversed)) {
      return error(reversed ? "state " + std::to_string(*j) + " cannot reach state 0, so the chain is not irreducible"
                            : "state " + std::to_string(*j) + " cannot be reached from state 0, so the chain is not irreducible",
                   "every state reachable from every other (a jump rate or probability > 0 along some path)");
    }
  }
  const auto ni = static_cast<Eigen::Index>(n);
  Eigen::MatrixXd Q(ni, ni);
  for (Eigen::Index i = 0; i < ni; ++i) {
    for (Eigen::Index j = 0; j < ni; ++j) Q(i, j) = q[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
  }
  // pi Q = 0 with sum(pi) = 1: Q^T pi^T = 0 has rank N - 1 for an irreducible chain; replace its
  // last equation by the normalisation.
  Eigen::MatrixXd A = Q.transpose();
  A.row(ni - 1).setOnes();
  Eigen::VectorXd b = Eigen::VectorXd::Zero(ni);
  b(ni - 1) = 1.0;
  Eigen::VectorXd pi = A.fullPivLu().solve(b);
  double total = 0.0;
  for (Eigen::Index i = 0; i < ni; ++i) {
    if (pi(i) < 0) pi(i) = 0;  // rounding noise on states with tiny mass
    total += pi(i);
  }
  pi /= total;

  Eigen::VectorXd lambda(ni);
  for (Eigen::Index i = 0; i < ni; ++i) lambda(i) = rates[static_cast<std::size_t>(i)];
  const Eigen::MatrixXd onePi = Eigen::VectorXd::Ones(ni) * pi.transpose();
  const Eigen::MatrixXd D = (onePi - Q).fullPivLu().inverse() - onePi;

  MmppModel m;
  m.meanRate_ = pi.dot(lambda);
  m.varianceRate_ = m.meanRate_ + 2.0 * pi.cwiseProduct(lambda).dot(D * lambda);
  m.rates_ = std::move(rates);
  m.q_ = std::move(q);
  m.pi_.resize(n);
  for (std::size_t i = 0; i < n; ++i) m.pi_[i] = pi(static_cast<Eigen::Index>(i));
  return m;
}

std::string MmppModel::describe() const {
  std::string out = "mmpp(" + std::to_string(states()) + (states() == 1 ? " state: " : " states: ");
  for (std::size_t i = 0; i < states(); ++i) {
    if (i) out += ", ";
    out += num(rates_[i]) + "/s";
    if (exitRate(i) > 0) out += " for " + num(1.0 / exitRate(i)) + "s";
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, "; mean %.1f/s)", meanRate_);
  return out + buf;
}

}  // namespace gatelab::sim::workload
