#include "gateway/core/hash.hpp"

#include <bit>
#include <cstring>

namespace gatelab::core {

namespace {

// Odd 64-bit constants from the golden ratio and from MurmurHash3's finalizer (published values).
constexpr std::uint64_t kPhi = 0x9E3779B97F4A7C15ULL;
constexpr std::uint64_t kMulA = 0xFF51AFD7ED558CCDULL;
constexpr std::uint64_t kMulB = 0xC4CEB9FE1A85EC53ULL;

constexpr std::uint64_t avalanche(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= kMulA;
  x ^= x >> 33;
  x *= kMulB;
  x ^= x >> 33;
  return x;
}

inline std::uint64_t load64(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Hash128 hash128(std::string_view bytes) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  // Two lanes with different mixing so that lo and hi are independent functions of the input.
  std::uint64_t a = kPhi ^ (static_cast<std::uint64_t>(n) * kMulA);
  std::uint64_t b = kMulB ^ static_cast<std::uint64_t>(n);
  while (n >= 8) {
    const std::uint64_t w = load64(p);
    a = std::rotl((a ^ w) * kMulA, 31) * kPhi;
    b = std::rotl((b + w) * kMulB, 27) ^ (a >> 7);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    std::uint64_t w = 0;
    for (std::size_t i = n; i > 0; --i) w = (w << 8) | p[i - 1];
    w |= static_cast<std::uint64_t>(n) << 56;  // distinguish tails of different length
    a = std::rotl((a ^ w) * kMulA, 31) * kPhi;
    b = std::rotl((b + w) * kMulB, 27) ^ (a >> 7);
  }
  const std::uint64_t lo = avalanche(a ^ std::rotl(b, 17));
  const std::uint64_t hi = avalanche(b + lo * kPhi);
  return Hash128{lo, hi};
}

}  // namespace gatelab::core
