#pragma once
// Randomness of a simulation: reproducible, independent per component, and the same on every
// machine.
//
//   RunSeed        (seed, run): what a report prints so a run can be replayed. The run number
//                  selects an independent replication with the same seed (ns-3's RngRun).
//   RandomStreams  derives one generator per component from (seed, run, stable name[, index]):
//                  "backend/users/0/service". Streams depend only on their own name, so adding a
//                  component (or drawing more from one) never changes another component's draws.
//   Rng            xoshiro256++ (Blackman & Vigna), seeded through splitmix64. 32 bytes of state,
//                  a UniformRandomBitGenerator, plus the few distributions the simulator needs,
//                  implemented here rather than taken from <random>: std:: distributions are
//                  implementation-defined, ours give the same draws with every standard library.
//
// Floating point: the uniform mapping and sqrt are exact IEEE operations; exponential and
// lognormal draws also use std::log / std::exp, which glibc implements identically on x86-64 and
// aarch64 but which the C++ standard does not pin down to the last bit. Durations are rounded to
// whole nanoseconds, which absorbs a last-bit difference in all but vanishingly rare draws.
//
// Thread safety: Rng is a value, not synchronised; RandomStreams is immutable. Complexity: O(1)
// per draw (normal(): expected 1.27 pairs of uniforms per two normals).

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace gatelab::sim {

/// The identity of one simulation run's randomness.
struct RunSeed {
  std::uint64_t seed = 1;  ///< the user's seed (scenario `seed:` or --seed)
  std::uint64_t run = 0;   ///< replication number (--run): same seed, independent streams

  friend constexpr bool operator==(const RunSeed&, const RunSeed&) = default;
};

/// "seed=42 run=0" (for report headers and logs).
std::string toString(const RunSeed& s);

/// splitmix64's output function applied to `x` (a bijective 64-bit mixer). Stable, O(1).
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// FNV-1a 64 of the bytes of `name`: the stable hash of a stream name. O(length).
constexpr std::uint64_t hashName(std::string_view name) noexcept {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return h;
}

class Rng {
 public:
  using result_type = std::uint64_t;

  /// The four state words are the next four outputs of splitmix64 started at `seed` (the
  /// seeding xoshiro's authors recommend; never all zero).
  explicit Rng(std::uint64_t seed = 0) noexcept;

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  /// The next 64 uniformly distributed bits (xoshiro256++).
  result_type operator()() noexcept {
    const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform on [0, 1): the top 53 bits scaled by 2^-53 (every value a multiple of 2^-53).
  double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
  /// Uniform on (0, 1]: 1 - uniform(); safe to take the logarithm of.
  double uniformPositive() noexcept { return 1.0 - uniform(); }
  /// Uniform on [lo, hi).
  double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
  /// Uniform integer on [0, n) without bias (Lemire's multiply-and-reject). Precondition: n > 0.
  std::uint64_t below(std::uint64_t n) noexcept;
  /// True with probability p (p <= 0: never draws and returns false; p >= 1: never draws and
  /// returns true, so certain events consume no randomness).
  bool bernoulli(double p) noexcept {
    if (p <= 0.0) return false;
    if (p >= 1.0) return true;
    return uniform() < p;
  }
  /// Exponential with the given mean: -mean * ln(U), U uniform on (0, 1].
  double exponential(double mean) noexcept;
  /// Standard normal (Marsaglia's polar method; the second value of each pair is kept for the
  /// next call, so the state includes it).
  double normal() noexcept;
  /// exp(mu + sigma * normal()).
  double lognormal(double mu, double sigma) noexcept;

  friend bool operator==(const Rng&, const Rng&) = default;

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

  std::uint64_t s_[4]{};
  double spare_ = 0.0;
  bool hasSpare_ = false;
};

/// Derives the generators of one run. Cheap to copy (16 bytes).
class RandomStreams {
 public:
  explicit RandomStreams(RunSeed seed = {}) noexcept;

  [[nodiscard]] const RunSeed& runSeed() const noexcept { return seed_; }

  /// The generator for component `name`. Same (seed, run, name) -> same sequence; distinct
  /// names -> statistically independent sequences. O(length of name).
  [[nodiscard]] Rng stream(std::string_view name) const noexcept;
  /// The generator for the index-th member of a family ("client", 17), without building a name.
  [[nodiscard]] Rng stream(std::string_view name, std::uint64_t index) const noexcept;

 private:
  RunSeed seed_;
  std::uint64_t key_;  // mix of seed and run: the root of every stream
};

}  // namespace gatelab::sim
