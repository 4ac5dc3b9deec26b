#pragma once
// Shared helpers for the resilience tests: exact times, breaker configs, outcome shorthands.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/core/events.hpp"
#include "gateway/core/resilience/circuit_breaker.hpp"
#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/resilience/target_set.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::resilience::testing {

using namespace std::chrono_literals;

inline TimePoint at(Duration d) { return atOffset(d); }

inline CallOutcome ok(Duration latency = 10ms) { return CallOutcome::response(200, latency); }
inline CallOutcome status(std::uint16_t code, Duration latency = 10ms) { return CallOutcome::response(code, latency); }
inline CallOutcome fail(Duration latency = 10ms) { return CallOutcome::response(500, latency); }

/// A breaker config with only a failure-rate condition over a count window.
inline BreakerConfig rateConfig(std::uint32_t percent, std::uint32_t window, std::uint32_t minimum) {
  BreakerConfig c;
  c.failureRate = Percent::of(percent);
  c.window = WindowKind::kCount;
  c.windowSize = window;
  c.minimumCalls = minimum;
  c.openFor = 30s;
  c.halfOpenProbes = 3;
  c.halfOpenSuccesses = 3;
  return c;
}

/// A breaker config with only a consecutive-failures condition.
inline BreakerConfig consecutiveConfig(std::uint32_t n) {
  BreakerConfig c;
  c.failureRate.reset();
  c.consecutiveFailures = n;
  c.openFor = 30s;
  c.halfOpenProbes = 3;
  c.halfOpenSuccesses = 3;
  return c;
}

inline const EventSubject kSubject{"users", ""};

/// `n` targets named t0..t(n-1) with the given weights (all 1 when empty).
inline std::vector<TargetSpec> targets(std::size_t n, std::vector<std::uint32_t> weights = {}) {
  std::vector<TargetSpec> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(TargetSpec{"http://10.0.0." + std::to_string(i) + ":8080", weights.empty() ? 1u : weights[i]});
  return out;
}

}  // namespace gatelab::core::resilience::testing
