#pragma once
// RateLimitPolicy: one route's `rate_limit` policy: a key, one or more limits that must all
// admit, a cost, a reject status and a shadow (dry-run) switch.
//
// Semantics (docs/rate-limiting.md):
// - Limits are checked in config order without charging; the first one that would reject
//   decides, and only that limit is charged (as its algorithm charges rejections: usually not at
//   all). Earlier limits are not charged for a rejected request, as nginx does with several
//   limit_req directives.
// - When all admit, all are charged; the request is delayed by the longest delay any limit asks.
// - Shadow: state moves exactly as when enforcing (so the shadow shows what enforcement would
//   have done over time), but the returned verdict is always kAllow; `wouldBe` keeps the truth.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gateway/core/hash.hpp"
#include "gateway/core/rate_limit/decision.hpp"
#include "gateway/core/rate_limit/key.hpp"
#include "gateway/core/rate_limit/limiter.hpp"
#include "gateway/core/rate_limit/policy_spec.hpp"
#include "gateway/core/request.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::ratelimit {

inline constexpr std::size_t kMaxLimitsPerPolicy = 8;

struct PolicyDecision {
  bool applied = false;              ///< false: a key component was missing and the policy skips
  Verdict verdict = Verdict::kAllow; ///< what the host must do (always kAllow in shadow mode)
  Verdict wouldBe = Verdict::kAllow; ///< what enforcement decided
  Duration delay{0};                 ///< for kDelay (and wouldBe == kDelay in shadow mode)
  std::uint16_t status = 0;          ///< reject status when wouldBe == kReject
  std::uint8_t limitCount = 0;       ///< decisions in `limits`
  std::uint8_t binding = 0;          ///< the limit that decided: the rejecting one, else the one
                                     ///< with the least remaining share of its quota
  Hash128 key{};                     ///< the bucket charged (per-client reports, events)
  std::array<Decision, kMaxLimitsPerPolicy> limits{};  ///< per limit, in config order; limits
                                     ///< after a rejecting one are not evaluated (left default)

  [[nodiscard]] const Decision& bindingDecision() const noexcept { return limits[binding]; }
};

/// Combines the decisions of a policy's limits, in config order, into the policy's decision.
/// `evaluated` holds the limits that were evaluated: all of them, or up to and including the one
/// that rejected (its decision last; earlier entries may be default when a peek found the
/// rejecting limit before any was charged). The binding limit, the longest delay, the reject
/// status and shadow mode are applied here, so a local evaluation and a store's (Redis) make the
/// same PolicyDecision from the same per-limit decisions.
PolicyDecision combineDecisions(const RateLimitPolicySpec& spec, const Hash128& key,
                                std::span<const Decision> evaluated) noexcept;

class RateLimitPolicy {
 public:
  /// Builds the policy, or returns nullptr and sets `error` if the spec is invalid (every
  /// LimitSpec checked with validateLimitSpec, 1..kMaxLimitsPerPolicy limits, a non-empty key).
  static std::unique_ptr<RateLimitPolicy> create(RateLimitPolicySpec spec, std::string& error);

  /// Decides for `req` at `now`: keyOf, then evaluateKey (a request missing a key component is
  /// not applied). `scratch` holds the key bytes (reused across calls, so the hot path does not
  /// allocate). Not thread-safe.
  PolicyDecision evaluate(const RequestView& req, const KeyContext& ctx, TimePoint now, std::string& scratch);

  /// The hashed key `req` is counted under, or nullopt when a key component is missing and the
  /// policy's missing-key rule skips it. `scratch` holds the key bytes. Thread-safe (reads only).
  [[nodiscard]] std::optional<Hash128> keyOf(const RequestView& req, const KeyContext& ctx, std::string& scratch) const;

  /// Decides for an already-built key (the simulator and benchmarks use this directly).
  PolicyDecision evaluateKey(const Hash128& key, TimePoint now);

  /// A config reload: when `old` counts the same things the same way (same name, key, missing-key
  /// rule, limits, cost and key bound; the reject status, header style and shadow flag may
  /// differ), this policy takes over its per-key state and returns true; otherwise nothing changes.
  bool adoptStateFrom(RateLimitPolicy& old);

  [[nodiscard]] const RateLimitPolicySpec& spec() const noexcept { return spec_; }
  [[nodiscard]] std::span<const std::unique_ptr<Limiter>> limiters() const noexcept { return limiters_; }

 private:
  RateLimitPolicy(RateLimitPolicySpec spec, std::vector<std::unique_ptr<Limiter>> limiters);

  RateLimitPolicySpec spec_;
  std::vector<std::unique_ptr<Limiter>> limiters_;
};

}  // namespace gatelab::core::ratelimit
