#include "sim/engine/service_time.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace gatelab::sim {

namespace {

constexpr double kNanosPerSecond = 1e9;

core::Duration roundToNanos(double ns) {
  if (!(ns > 0.0)) return core::Duration{0};  // also NaN
  constexpr auto kMax = static_cast<double>(std::numeric_limits<std::int64_t>::max() / 2);
  if (ns >= kMax) return core::Duration{std::numeric_limits<std::int64_t>::max() / 2};
  return core::Duration{std::llround(ns)};
}

double nanos(core::Duration d) { return static_cast<double>(d.count()); }

}  // namespace

const char* toString(ServiceTimeKind k) noexcept {
  switch (k) {
    case ServiceTimeKind::kConstant: return "constant";
    case ServiceTimeKind::kExponential: return "exponential";
    case ServiceTimeKind::kLogNormal: return "lognormal";
    case ServiceTimeKind::kEmpirical: return "empirical";
  }
  return "?";
}

ServiceTime ServiceTime::constant(core::Duration d) {
  ServiceTime s;
  s.kind_ = ServiceTimeKind::kConstant;
  s.a_ = nanos(d);
  if (d < core::Duration{0}) s.invalid_ = "constant: duration must be >= 0, got " + core::formatDuration(d);
  return s;
}

ServiceTime ServiceTime::exponential(core::Duration mean) {
  ServiceTime s;
  s.kind_ = ServiceTimeKind::kExponential;
  s.a_ = nanos(mean);
  if (mean <= core::Duration{0}) s.invalid_ = "exponential: mean must be > 0, got " + core::formatDuration(mean);
  return s;
}

ServiceTime ServiceTime::lognormal(core::Duration median, core::Duration p99) {
  ServiceTime s;
  s.kind_ = ServiceTimeKind::kLogNormal;
  if (median <= core::Duration{0}) {
    s.invalid_ = "lognormal: median must be > 0, got " + core::formatDuration(median);
    return s;
  }
  if (p99 < median) {
    s.invalid_ = "lognormal: p99 (" + core::formatDuration(p99) + ") must be >= median (" +
                 core::formatDuration(median) + ")";
    return s;
  }
  s.a_ = std::log(nanos(median));
  s.b_ = std::log(nanos(p99) / nanos(median)) / kNormalQuantile99;
  return s;
}

ServiceTime ServiceTime::lognormalParams(double mu, double sigma) {
  ServiceTime s;
  s.kind_ = ServiceTimeKind::kLogNormal;
  s.a_ = mu;
  s.b_ = sigma;
  if (!std::isfinite(mu) || !std::isfinite(sigma) || sigma < 0.0)
    s.invalid_ = "lognormal: mu must be finite and sigma finite and >= 0";
  return s;
}

ServiceTime ServiceTime::empirical(std::vector<WeightedDuration> points) {
  ServiceTime s;
  s.kind_ = ServiceTimeKind::kEmpirical;
  if (points.empty()) {
    s.invalid_ = "empirical: needs at least one point";
    return s;
  }
  double total = 0.0;
  for (const WeightedDuration& p : points) {
    if (p.value < core::Duration{0}) {
      s.invalid_ = "empirical: values must be >= 0, got " + core::formatDuration(p.value);
      return s;
    }
    if (!(p.weight >= 0.0) || !std::isfinite(p.weight)) {
      s.invalid_ = "empirical: weights must be finite and >= 0";
      return s;
    }
    total += p.weight;
    s.values_.push_back(p.value);
    s.cumulative_.push_back(total);
  }
  if (!(total > 0.0)) s.invalid_ = "empirical: the weights must not all be 0";
  return s;
}

ServiceTime ServiceTime::empiricalSamples(std::vector<core::Duration> samples, bool interpolate) {
  ServiceTime s;
  s.kind_ = ServiceTimeKind::kEmpirical;
  if (samples.empty()) {
    s.invalid_ = "empirical: needs at least one sample";
    return s;
  }
  for (core::Duration d : samples)
    if (d < core::Duration{0}) {
      s.invalid_ = "empirical: samples must be >= 0, got " + core::formatDuration(d);
      return s;
    }
  std::sort(samples.begin(), samples.end());
  s.values_ = std::move(samples);
  s.interpolate_ = interpolate && s.values_.size() > 1;
  if (!s.interpolate_) {
    s.cumulative_.resize(s.values_.size());
    for (std::size_t i = 0; i < s.values_.size(); ++i) s.cumulative_[i] = static_cast<double>(i + 1);
  }
  return s;
}

std::optional<std::string> ServiceTime::validate() const { return invalid_; }

core::Duration ServiceTime::sample(Rng& rng) const {
  switch (kind_) {
    case ServiceTimeKind::kConstant: return roundToNanos(a_);
    case ServiceTimeKind::kExponential: return roundToNanos(rng.exponential(a_));
    case ServiceTimeKind::kLogNormal: return b_ == 0.0 ? roundToNanos(std::exp(a_)) : roundToNanos(rng.lognormal(a_, b_));
    case ServiceTimeKind::kEmpirical: {
      if (interpolate_) {
        const double pos = rng.uniform() * static_cast<double>(values_.size() - 1);
        const auto lo = static_cast<std::size_t>(pos);
        const double frac = pos - static_cast<double>(lo);
        return roundToNanos(nanos(values_[lo]) + frac * (nanos(values_[lo + 1]) - nanos(values_[lo])));
      }
      if (values_.size() == 1) return values_.front();
      const double u = rng.uniform() * cumulative_.back();
      // First point whose running sum exceeds u: zero-weight points are never chosen.
      const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
      const auto idx = static_cast<std::size_t>(std::min<std::ptrdiff_t>(it - cumulative_.begin(),
                                                                         static_cast<std::ptrdiff_t>(values_.size() - 1)));
      return values_[idx];
    }
  }
  return core::Duration{0};
}

double ServiceTime::meanSeconds() const {
  switch (kind_) {
    case ServiceTimeKind::kConstant:
    case ServiceTimeKind::kExponential: return a_ / kNanosPerSecond;
    case ServiceTimeKind::kLogNormal: return std::exp(a_ + b_ * b_ / 2.0) / kNanosPerSecond;
    case ServiceTimeKind::kEmpirical: {
      if (values_.empty()) return 0.0;
      double sum = 0.0;
      if (interpolate_) {
        for (std::size_t i = 0; i + 1 < values_.size(); ++i) sum += (nanos(values_[i]) + nanos(values_[i + 1])) / 2.0;
        return sum / static_cast<double>(values_.size() - 1) / kNanosPerSecond;
      }
      double prev = 0.0;
      for (std::size_t i = 0; i < values_.size(); ++i) {
        sum += nanos(values_[i]) * (cumulative_[i] - prev);
        prev = cumulative_[i];
      }
      return sum / cumulative_.back() / kNanosPerSecond;
    }
  }
  return 0.0;
}

double ServiceTime::secondMomentSeconds() const {
  constexpr double kNs2 = kNanosPerSecond * kNanosPerSecond;
  switch (kind_) {
    case ServiceTimeKind::kConstant: return a_ * a_ / kNs2;
    case ServiceTimeKind::kExponential: return 2.0 * a_ * a_ / kNs2;
    case ServiceTimeKind::kLogNormal: return std::exp(2.0 * a_ + 2.0 * b_ * b_) / kNs2;
    case ServiceTimeKind::kEmpirical: {
      if (values_.empty()) return 0.0;
      double sum = 0.0;
      if (interpolate_) {
        // E[X^2] of a uniform on [a, b] is (a^2 + ab + b^2) / 3.
        for (std::size_t i = 0; i + 1 < values_.size(); ++i) {
          const double a = nanos(values_[i]);
          const double b = nanos(values_[i + 1]);
          sum += (a * a + a * b + b * b) / 3.0;
        }
        return sum / static_cast<double>(values_.size() - 1) / kNs2;
      }
      double prev = 0.0;
      for (std::size_t i = 0; i < values_.size(); ++i) {
        sum += nanos(values_[i]) * nanos(values_[i]) * (cumulative_[i] - prev);
        prev = cumulative_[i];
      }
      return sum / cumulative_.back() / kNs2;
    }
  }
  return 0.0;
}

std::string ServiceTime::describe() const {
  switch (kind_) {
    case ServiceTimeKind::kConstant: return "constant(" + core::formatDuration(roundToNanos(a_)) + ")";
    case ServiceTimeKind::kExponential: return "exponential(mean=" + core::formatDuration(roundToNanos(a_)) + ")";
    case ServiceTimeKind::kLogNormal:
      return "lognormal(median=" + core::formatDuration(roundToNanos(std::exp(a_))) +
             ", p99=" + core::formatDuration(roundToNanos(std::exp(a_ + kNormalQuantile99 * b_))) + ")";
    case ServiceTimeKind::kEmpirical:
      return std::string("empirical(") + std::to_string(values_.size()) + (interpolate_ ? " samples, interpolated)" : " points)");
  }
  return "?";
}

}  // namespace gatelab::sim
