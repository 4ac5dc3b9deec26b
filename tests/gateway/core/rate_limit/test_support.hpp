#pragma once
// Shared helpers for the rate-limit tests: exact times and terse spec builders.

#include <chrono>
#include <cstdint>

#include "gateway/core/hash.hpp"
#include "gateway/core/rate_limit/limit_spec.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::ratelimit::testing {

using namespace std::chrono_literals;

inline TimePoint at(Duration d) { return atOffset(d); }
inline std::int64_t ns(Duration d) { return d.count(); }

inline LimitSpec spec(Algorithm a, std::uint64_t count, Duration period, std::uint64_t burst = 0) {
  LimitSpec s;
  s.algorithm = a;
  s.rate = Rate{count, period};
  s.burst = burst;
  return s;
}

inline const Hash128 kKeyA = hash128("client-a");
inline const Hash128 kKeyB = hash128("client-b");

}  // namespace gatelab::core::ratelimit::testing
