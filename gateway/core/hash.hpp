#pragma once
// 128-bit non-cryptographic hash used to identify rate-limit keys.
//
// Keyed limiter state is indexed by the 128-bit hash of the key bytes, not by the key itself,
// which keeps per-key state small and fixed-size. Two distinct keys share state only if their
// 128-bit hashes collide: for 10^8 live keys the chance that any pair collides is below 10^-22.
// The hash is not keyed, so it is not a defence against chosen collisions; keys come from
// request data an attacker controls only within one limiter's own bucket space.

#include <cstdint>
#include <string_view>

namespace gatelab::core {

struct Hash128 {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  friend bool operator==(const Hash128&, const Hash128&) = default;
};

/// Hash of `bytes`. Pure function of the input; stable across runs and platforms (little endian
/// reads are assembled byte by byte). O(n).
Hash128 hash128(std::string_view bytes) noexcept;

}  // namespace gatelab::core
