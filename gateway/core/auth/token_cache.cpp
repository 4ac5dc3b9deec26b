#include "gateway/core/auth/token_cache.hpp"

#include <cassert>
#include <utility>

namespace gatelab::core::auth {

VerifiedTokenCache::VerifiedTokenCache(std::size_t capacity) : capacity_(capacity), store_(capacity) {
  assert(capacity >= 1 && capacity < (std::size_t{1} << 31));
}

Hash128 VerifiedTokenCache::keyOf(std::string_view signature, const Hash128& verifier) noexcept {
  Hash128 h = hash128(signature);
  h.lo ^= verifier.lo;
  h.hi ^= verifier.hi;
  return h;
}

std::shared_ptr<const VerifiedToken> VerifiedTokenCache::find(std::string_view token, std::string_view signature,
                                                              const Hash128& verifier) {
  const Hash128 key = keyOf(signature, verifier);
  const Entry* e = store_.find(key);
  if (e == nullptr || e->verifier != verifier || e->token != token) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  std::shared_ptr<const VerifiedToken> verified = e->verified;
  // Mark the entry as used (the second-chance bit); it is present, so nothing is inserted.
  bool inserted = false;
  (void)store_.upsert(key, Entry{}, [](const Entry&) { return false; }, inserted);
  return verified;
}

void VerifiedTokenCache::insert(std::string_view token, std::string_view signature, const Hash128& verifier,
                                std::shared_ptr<const VerifiedToken> verified, std::optional<std::int64_t> usableUntil,
                                std::int64_t nowSeconds) {
  const Hash128 key = keyOf(signature, verifier);
  bool inserted = false;
  Entry& e = store_.upsert(key, Entry{}, [nowSeconds](const Entry& old) { return old.usableUntil <= nowSeconds; }, inserted);
  e.token.assign(token);
  e.verifier = verifier;
  e.verified = std::move(verified);
  e.usableUntil = usableUntil.value_or(INT64_MAX);
  ++insertions_;
}

void VerifiedTokenCache::clear() {
  const ratelimit::StoreStats s = store_.stats();
  evictedExpiredBefore_ += s.evictedIdle;
  evictedForcedBefore_ += s.evictedForced;
  store_ = ratelimit::KeyedStore<Entry>(capacity_);
}

TokenCacheStats VerifiedTokenCache::stats() const noexcept {
  const ratelimit::StoreStats s = store_.stats();
  return TokenCacheStats{hits_,          misses_, insertions_, evictedExpiredBefore_ + s.evictedIdle,
                         evictedForcedBefore_ + s.evictedForced, s.keys, s.maxKeys};
}

}  // namespace gatelab::core::auth
