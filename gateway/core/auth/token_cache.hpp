#pragma once
// VerifiedTokenCache: remembers tokens whose signature (and every check that does not depend on
// time) passed, so a client that sends the same token on every request pays for the signature
// check once. Used through JwtVerifier::verify(token, now, cache).
//
// - Keyed by the token's signature segment, mixed with the verifier's fingerprint (its keys and
//   claim rules, see JwtVerifier::fingerprint): a cache may serve several verifiers, and a
//   verifier rebuilt from a changed config never sees entries made under the old keys.
// - A hit requires the whole token text to be equal to the stored one, byte for byte: a forged
//   payload under a valid token's signature is a miss (and then fails the signature check).
// - Only successes are stored: invalid tokens cannot push valid ones out.
// - The host's time checks are not cached: exp, nbf, iat and the lifetime bounds are checked
//   against `now` on every hit. An entry stops being useful at the token's exp + leeway; from
//   then on it is the first to go when room is needed (tokens without exp only age out).
// - Bounded: at most `capacity` entries; CLOCK (second chance) eviction stands in for LRU, as
//   in the rate limiters' KeyedStore, which holds the entries.
//
// Memory: each entry holds a copy of the token text plus the shared VerifiedToken (claims),
// about 2 x token size; 10,000 entries of 1 KiB tokens is about 20 MiB.
// Thread safety: not thread-safe; one cache per I/O thread (or a lock in the host).
// Complexity: find and insert O(1) expected plus O(token length) for hashing and comparing.
// Pure: it never reads a clock; the verifier passes `now` in seconds.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/auth/json_object.hpp"
#include "gateway/core/auth/jwk.hpp"
#include "gateway/core/auth/verified_token.hpp"
#include "gateway/core/hash.hpp"
#include "gateway/core/rate_limit/keyed_store.hpp"

namespace gatelab::core::auth {

struct TokenCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t insertions = 0;
  std::uint64_t evictedExpired = 0;  ///< entries dropped after their token's exp + leeway
  std::uint64_t evictedForced = 0;   ///< entries evicted while still valid because the cache was full
  std::uint64_t size = 0;
  std::uint64_t capacity = 0;
};

class VerifiedTokenCache {
 public:
  static constexpr std::size_t kDefaultCapacity = 10'000;

  /// Precondition: 1 <= capacity < 2^31.
  explicit VerifiedTokenCache(std::size_t capacity = kDefaultCapacity);

  /// The stored verification of exactly `token` made by the verifier with fingerprint
  /// `verifier`, or null. `signature` is the token's third segment (a view into `token`).
  /// A hit marks the entry as used; an expired entry is still returned (the caller's time
  /// checks reject it without a signature check).
  [[nodiscard]] std::shared_ptr<const VerifiedToken> find(std::string_view token, std::string_view signature,
                                                          const Hash128& verifier);

  /// Stores `verified` for `token`. `usableUntil`: the first second (on the `now` timeline) at
  /// which the token can no longer pass (exp + leeway), nullopt when it has no exp. `nowSeconds`
  /// lets the store drop entries that are already past their usableUntil.
  void insert(std::string_view token, std::string_view signature, const Hash128& verifier,
              std::shared_ptr<const VerifiedToken> verified, std::optional<std::int64_t> usableUntil,
              std::int64_t nowSeconds);

  /// Forgets every entry (counters are kept).
  void clear();

  [[nodiscard]] TokenCacheStats stats() const noexcept;

  /// What the verifier that uses this cache reuses from one token it does not hold to the next,
  /// instead of making it again: the HMAC working contexts (jwk.hpp, HmacScratch) and the buffers
  /// the segments are decoded and parsed into. The same thread rule as the cache; not part of its
  /// entries or counters.
  struct Scratch {
    HmacScratch hmac;
    std::string header;   ///< the decoded header, then the decoded signature
    std::string payload;  ///< the decoded claims set
    std::vector<JsonMember> members;
  };
  [[nodiscard]] Scratch& scratch() noexcept { return scratch_; }

 private:
  struct Entry {
    std::string token;
    Hash128 verifier;
    std::shared_ptr<const VerifiedToken> verified;
    std::int64_t usableUntil = INT64_MAX;
  };

  static Hash128 keyOf(std::string_view signature, const Hash128& verifier) noexcept;

  std::size_t capacity_;
  ratelimit::KeyedStore<Entry> store_;
  Scratch scratch_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::uint64_t insertions_ = 0;
  std::uint64_t evictedExpiredBefore_ = 0;  ///< from stores replaced by clear()
  std::uint64_t evictedForcedBefore_ = 0;
};

}  // namespace gatelab::core::auth
