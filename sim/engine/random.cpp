#include "sim/engine/random.hpp"

#include <cmath>

#include "gateway/core/int128.hpp"

namespace gatelab::sim {

std::string toString(const RunSeed& s) {
  return "seed=" + std::to_string(s.seed) + " run=" + std::to_string(s.run);
}

Rng::Rng(std::uint64_t seed) noexcept {
  std::uint64_t x = seed;
  for (std::uint64_t& w : s_) {
    w = mix64(x);
    x += 0x9E3779B97F4A7C15ULL;
  }
}

std::uint64_t Rng::below(std::uint64_t n) noexcept {
  // Lemire, "Fast random integer generation in an interval" (2019).
  core::U128 m = static_cast<core::U128>((*this)()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<core::U128>((*this)()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

double Rng::exponential(double mean) noexcept { return -mean * std::log(uniformPositive()); }

double Rng::normal() noexcept {
  if (hasSpare_) {
    hasSpare_ = false;
    return spare_;
  }
  double u = 0.0;
  double v = 0.0;
  double s = 0.0;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double f = std::sqrt(-2.0 * std::log(s) / s);
  spare_ = v * f;
  hasSpare_ = true;
  return u * f;
}

double Rng::lognormal(double mu, double sigma) noexcept { return std::exp(mu + sigma * normal()); }

RandomStreams::RandomStreams(RunSeed seed) noexcept
    : seed_(seed), key_(mix64(mix64(seed.seed) ^ mix64(seed.run ^ 0x5EED5EED5EED5EEDULL))) {}

Rng RandomStreams::stream(std::string_view name) const noexcept { return Rng(mix64(key_ ^ hashName(name))); }

Rng RandomStreams::stream(std::string_view name, std::uint64_t index) const noexcept {
  return Rng(mix64(mix64(key_ ^ hashName(name)) + index));
}

}  // namespace gatelab::sim
