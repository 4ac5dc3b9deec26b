#pragma once
// ServiceTime: how long a mock backend's server works on one call.
//
//   constant(d)              always d (M/D/c)
//   exponential(mean)        -mean * ln(U), U uniform on (0, 1] (M/M/c)
//   lognormal(median, p99)   exp(mu + sigma * Z), Z standard normal, with
//                              mu    = ln(median)
//                              sigma = ln(p99 / median) / z_0.99,  z_0.99 = 2.3263478740408408
//                            so that the median and the 99th percentile are exactly the given ones;
//                            mean = exp(mu + sigma^2 / 2). p99 == median gives a constant.
//   empirical(points)        a discrete distribution over (value, weight) points: P(value_i) =
//                            weight_i / sum(weights), drawn by inverting the cumulative weights
//                            (binary search).
//   empiricalSamples(s, interpolate)
//                            equal weights over recorded samples; with `interpolate`, the inverse
//                            of the piecewise-linear CDF through the sorted samples
//                            (u * (n - 1) -> between sample floor and ceil), so draws are continuous
//                            between the smallest and the largest sample.
// Draws are rounded to whole nanoseconds and never negative.
//
// Thread safety: immutable after construction; sample() uses only the caller's Rng.
// Complexity: sample O(1) (empirical: O(log n)).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/time.hpp"
#include "sim/engine/random.hpp"

namespace gatelab::sim {

/// z such that P(Z <= z) = 0.99 for a standard normal Z.
inline constexpr double kNormalQuantile99 = 2.3263478740408408;

enum class ServiceTimeKind : std::uint8_t { kConstant, kExponential, kLogNormal, kEmpirical };

const char* toString(ServiceTimeKind k) noexcept;

struct WeightedDuration {
  core::Duration value{0};
  double weight = 1.0;
  friend bool operator==(const WeightedDuration&, const WeightedDuration&) = default;
};

class ServiceTime {
 public:
  /// Default: constant zero.
  ServiceTime() = default;

  static ServiceTime constant(core::Duration d);
  static ServiceTime exponential(core::Duration mean);
  static ServiceTime lognormal(core::Duration median, core::Duration p99);
  /// Lognormal from its parameters: mu = ln(median in nanoseconds), sigma >= 0.
  static ServiceTime lognormalParams(double mu, double sigma);
  static ServiceTime empirical(std::vector<WeightedDuration> points);
  static ServiceTime empiricalSamples(std::vector<core::Duration> samples, bool interpolate);

  /// nullopt when usable, else what is wrong ("lognormal: p99 (10ms) must be >= median (20ms)").
  [[nodiscard]] std::optional<std::string> validate() const;

  /// One draw. Precondition: validate() returned nullopt.
  [[nodiscard]] core::Duration sample(Rng& rng) const;

  [[nodiscard]] ServiceTimeKind kind() const noexcept { return kind_; }
  /// E[S] in seconds.
  [[nodiscard]] double meanSeconds() const;
  /// E[S^2] in seconds^2 (the Pollaczek-Khinchine formula needs it).
  [[nodiscard]] double secondMomentSeconds() const;
  /// lognormal: mu and sigma of the underlying normal (mu over nanoseconds).
  [[nodiscard]] double mu() const noexcept { return a_; }
  [[nodiscard]] double sigma() const noexcept { return b_; }
  /// "exponential(mean=20ms)", "lognormal(median=20ms, p99=200ms)", ...
  [[nodiscard]] std::string describe() const;

 private:
  ServiceTimeKind kind_ = ServiceTimeKind::kConstant;
  // constant: a_ = ns; exponential: a_ = mean ns; lognormal: a_ = mu, b_ = sigma.
  double a_ = 0.0;
  double b_ = 0.0;
  bool interpolate_ = false;
  std::vector<core::Duration> values_;  // empirical, sorted by value for interpolation
  std::vector<double> cumulative_;      // empirical discrete: running weight sums
  std::optional<std::string> invalid_;  // set by a factory given unusable arguments
};

}  // namespace gatelab::sim
