#pragma once
// Small enumerations shared by the resilience policies and the event vocabulary
// (gateway/core/events.hpp). Kept apart so events.hpp does not pull in the policies.

#include <cstdint>

namespace gatelab::core::resilience {

/// The states of a circuit breaker (resilience4j's names; "metrics only" is the orthogonal
/// BreakerConfig::dryRun flag, not a state, so a dry run shows the states a live breaker would
/// take).
enum class BreakerState : std::uint8_t {
  kClosed,      ///< calls flow; outcomes are recorded and may trip the breaker
  kOpen,        ///< calls fail fast until the open duration has elapsed
  kHalfOpen,    ///< a limited number of probe calls decide between closed and open
  kForcedOpen,  ///< an operator holds the breaker open (every call fails fast) until reset
  kDisabled,    ///< an operator switched the breaker off (every call admitted, nothing recorded)
};

const char* toString(BreakerState s) noexcept;

/// Why outlier detection acted on a target.
enum class EjectionCause : std::uint8_t {
  kConsecutive5xx,             ///< N consecutive 5xx / local-origin errors (Envoy consecutive_5xx)
  kConsecutiveGatewayFailure,  ///< N consecutive 502/503/504 / local-origin errors
};

const char* toString(EjectionCause c) noexcept;

}  // namespace gatelab::core::resilience
