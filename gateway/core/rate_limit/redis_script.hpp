#pragma once
// The Redis store of a rate-limit policy (`store: redis`), as pure functions: the Lua script that
// evaluates a whole policy atomically inside Redis, the arguments of one call, and the reply as a
// PolicyDecision. No I/O here: the live proxy sends the call (gateway/proxy/redis_client.hpp).
//
// Exactness: the script reproduces the local algorithms of algorithms.hpp decision for decision
// (verdict, delay, limit, remaining, window, reset, retry-after, to the nanosecond) for the same
// timed sequence, so a policy rehearsed in the simulator (which evaluates Redis-stored policies
// with the local limiters) decides the same in Redis. Lua numbers are doubles, so every value the
// script computes must stay below 2^53: absolute times are passed split into (seconds,
// nanoseconds) and the script only works with differences; per-limit values that depend on the
// absolute time alone (clock-aligned window starts, fill indices, milliseconds) are computed here
// in C++ and passed in; validateForRedis() refuses limits whose magnitudes could exceed 2^53.
//
// One call = EVALSHA sha KEYS... ARGV...: one Redis key per limit (prefix, policy, limit index, a
// fingerprint of the limit's spec so a changed limit starts fresh, and the client key's hash in
// a {hash tag} so every key of one call is in one Redis Cluster slot). Each key expires (PX) once
// its state is equivalent to a never-seen key's (Algorithm::idle), so Redis holds no dead keys.
//
// Reply: a flat array of integers: [evaluated, then 7 per evaluated limit: verdict (0 allow,
// 1 delay, 2 reject), delay ns, limit, remaining, window ns, reset ns, retry-after ns]. As in
// RateLimitPolicy::evaluateKey, with several limits all are peeked first; when one would reject,
// only that one is charged (as its algorithm charges rejections) and `evaluated` ends with it.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/hash.hpp"
#include "gateway/core/rate_limit/limit_spec.hpp"
#include "gateway/core/rate_limit/policy.hpp"
#include "gateway/core/rate_limit/policy_spec.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::ratelimit::redis {

/// The Lua source (loaded once per connection with SCRIPT LOAD; EVAL as fallback on NOSCRIPT).
std::string_view script() noexcept;

/// Why `spec` (with the policy's per-request `cost`) cannot be evaluated exactly by the script,
/// or nullopt. Called by the config layer for `store: redis` policies, after validateLimitSpec.
std::optional<std::string> validateForRedis(const LimitSpec& spec, std::uint64_t cost);

/// One script call. Strings are reused across calls (buildCall assigns, never shrinks capacity);
/// the arguments that depend on the policy alone are assigned only when the policy differs from
/// the last call's (so `keys` and `argv` are buildCall's to write: a caller only reads them).
struct Call {
  std::vector<std::string> keys;  ///< one per limit
  std::vector<std::string> argv;
  /// What buildCall keeps between calls: each key up to the client's hash (escaped names, the
  /// limit's fingerprint) for the policy and prefix it was last called with, so a call for an equal
  /// policy only appends the hash. Compared by content (a reloaded policy may reuse an address).
  /// Not part of the call.
  std::string lastName;
  std::string lastPrefix;
  std::uint64_t lastCost = 0;
  std::vector<LimitSpec> lastLimits;
  std::vector<std::string> keyHeads;
  /// Each limit's constants for the script (code, limit, window, need, p1, p2, p3), kept with
  /// keyHeads: they too depend on the policy alone.
  std::vector<std::array<std::int64_t, 7>> limitParams;
};

/// Fills `out` with the call evaluating `spec` for client key `key` at `now`. `prefix` starts
/// every Redis key (config `redis.key_prefix`, default "gatelab"). Precondition: the policy was
/// accepted by RateLimitPolicy::create and every limit by validateForRedis.
void buildCall(const RateLimitPolicySpec& spec, std::string_view prefix, const Hash128& key, TimePoint now, Call& out);

/// The script's reply as the policy's decision (combineDecisions over the per-limit decisions,
/// so the binding limit, shadow mode and reject status apply as for a local policy). A reply of
/// the wrong shape or with values out of range: nullopt, with what was wrong in `error`.
std::optional<PolicyDecision> parseReply(const RateLimitPolicySpec& spec, const Hash128& key,
                                         std::span<const std::int64_t> reply, std::string& error);

}  // namespace gatelab::core::ratelimit::redis
