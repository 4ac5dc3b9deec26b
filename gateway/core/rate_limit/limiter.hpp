#pragma once
// Limiter: one limit (one LimitSpec) applied per key, with bounded keyed state.
//
// The interface the policy, the simulator and the proxy call. Implementations combine one
// algorithm from algorithms.hpp with a KeyedStore. A Redis-backed implementation (the live
// gateway's `store: redis`) implements the same interface.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gateway/core/hash.hpp"
#include "gateway/core/rate_limit/decision.hpp"
#include "gateway/core/rate_limit/keyed_store.hpp"
#include "gateway/core/rate_limit/limit_spec.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::ratelimit {

class Limiter {
 public:
  virtual ~Limiter() = default;
  Limiter() = default;
  Limiter(const Limiter&) = delete;
  Limiter& operator=(const Limiter&) = delete;

  /// Decide for a request of `cost` units from `key` at `now`, and charge it as the decision
  /// says (admitted requests always; rejected ones only where the algorithm counts them).
  /// Precondition: 1 <= cost. Not thread-safe.
  virtual Decision acquire(const Hash128& key, TimePoint now, std::uint64_t cost) = 0;

  /// The decision acquire() would return, with no state change (a never-seen key is not
  /// inserted). Used to check every limit of a policy before charging any of them.
  [[nodiscard]] virtual Decision peek(const Hash128& key, TimePoint now, std::uint64_t cost) = 0;

  [[nodiscard]] virtual const LimitSpec& spec() const noexcept = 0;
  [[nodiscard]] virtual StoreStats stats() const noexcept = 0;
  /// Bytes of one key's entry in the store (hash, LRU links, algorithm state; heap excluded).
  [[nodiscard]] virtual std::size_t entryBytes() const noexcept = 0;

  /// Takes over `from`'s per-key state (a config reload keeps the counts of a limit that did not
  /// change). Only between limiters of the same kind and equal spec and key bound; returns false
  /// (and changes nothing) otherwise. `from` is left empty. Not thread-safe.
  virtual bool adoptState(Limiter& from) = 0;
};

/// Why `spec` cannot be built, or nullopt when it can. `cost` is the policy's per-request cost.
/// The config layer reports these messages at the offending field.
std::optional<std::string> validateLimitSpec(const LimitSpec& spec, std::uint64_t cost);

/// A local (in-process) limiter. Precondition: validateLimitSpec(spec, cost) == nullopt and
/// 1 <= maxKeys < 2^31.
std::unique_ptr<Limiter> makeLocalLimiter(const LimitSpec& spec, std::uint64_t maxKeys);

}  // namespace gatelab::core::ratelimit
