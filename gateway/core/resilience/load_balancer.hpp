#pragma once
// Load balancing across one service's targets. Every balancer picks among the candidates of the
// service's TargetSet at `now` (available targets: healthy, not ejected, breaker not open; or all
// targets in panic mode, see target_set.hpp) and returns the choice as a value.
//
//   kRoundRobin          candidates in turn; weights ignored (nginx's default with equal weights)
//   kWeightedRoundRobin  nginx's smooth weighted round robin: deterministic, exact shares over
//                        every cycle of sum(weights) picks, no bursts to the heaviest target. O(n)
//   kWeightedRandom      one caller draw mapped onto the cumulative weights (binary search). O(log n)
//   kLeastRequest        power of two choices: two distinct candidates from two caller draws, the
//                        one with fewer outstanding requests wins (Envoy LEAST_REQUEST with
//                        choice_count 2; weights ignored). O(1)
//   kConsistentHash      a hash ring with `ringReplicas` points per unit of gcd-reduced weight
//                        (Envoy RING_HASH, Kong consistent-hashing); the key's point walks
//                        clockwise to the first eligible target, so adding a target moves only the
//                        keys the new target takes (about 1/(n+1)), and an unavailable target's
//                        keys spread over the others while the rest stay put. O(log ring)
//
// Randomness comes only from the caller's draws in PickRequest (uniform 64-bit values).
// `avoid` names a target to skip when another candidate exists (the target the previous try
// failed on, as Envoy's previous_hosts retry predicate and nginx's proxy_next_upstream do).
// Thread safety: a balancer holds mutable state (cursor, current weights); one per service per
// event loop, or a mutex in the host. A balancer is built for one TargetSet and must always be
// given that set.

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "gateway/core/resilience/target_set.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::resilience {

enum class LbAlgorithm : std::uint8_t {
  kRoundRobin,
  kWeightedRoundRobin,
  kWeightedRandom,
  kLeastRequest,
  kConsistentHash,
};

const char* toString(LbAlgorithm a) noexcept;  ///< the proposed YAML spelling: "round_robin", ...

struct LbConfig {
  LbAlgorithm algorithm = LbAlgorithm::kRoundRobin;
  std::uint32_t ringReplicas = 160;  ///< kConsistentHash: ring points per unit of reduced weight
};

std::optional<std::string> validateLbConfig(const LbConfig& c);

inline constexpr std::uint32_t kNoTarget = std::numeric_limits<std::uint32_t>::max();

struct PickRequest {
  TimePoint now;
  std::uint64_t draw = 0;   ///< kWeightedRandom, kLeastRequest (first choice)
  std::uint64_t draw2 = 0;  ///< kLeastRequest (second choice)
  std::uint64_t hash = 0;   ///< kConsistentHash: 64-bit hash of the request's key (e.g. hash128().lo)
  std::uint32_t avoid = kNoTarget;  ///< skip this target if any other candidate exists
};

struct Pick {
  std::uint32_t target = kNoTarget;  ///< kNoTarget: no candidate (answer 503)
  bool panic = false;                ///< chosen from all targets because too few were available

  [[nodiscard]] bool ok() const noexcept { return target != kNoTarget; }
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  LoadBalancer() = default;
  LoadBalancer(const LoadBalancer&) = delete;
  LoadBalancer& operator=(const LoadBalancer&) = delete;

  /// One pick at request.now. Precondition: `targets` is the set the balancer was built for.
  [[nodiscard]] virtual Pick pick(TargetSet& targets, const PickRequest& request) = 0;
  [[nodiscard]] virtual LbAlgorithm algorithm() const noexcept = 0;
};

/// Precondition: validateLbConfig(config) == nullopt. The ring of kConsistentHash is built here
/// from the targets' names and weights: O(points log points).
std::unique_ptr<LoadBalancer> makeLoadBalancer(const LbConfig& config, const TargetSet& targets);

}  // namespace gatelab::core::resilience
