// VerifiedTokenCache through JwtVerifier: a hit skips the signature but never the time checks;
// only the exact token text hits; verifiers with other keys or rules do not share entries;
// the bound holds, and expired entries go first.

#include <gtest/gtest.h>

#include <string>

#include "gateway/core/auth/base64.hpp"
#include "gateway/core/auth/jwt.hpp"
#include "gateway/core/auth/token_cache.hpp"
#include "tests/gateway/core/auth/test_support.hpp"

namespace gatelab::core::auth {
namespace {

using namespace std::chrono_literals;
using test::at;
using test::fixtures;

JwtVerifier verifier(JwtConfig config = test::standardConfig()) { return JwtVerifier(test::standardKeys(), std::move(config)); }

TEST(TokenCache, HitSkipsSignatureButStillEnforcesExp) {
  const JwtVerifier v = verifier();
  VerifiedTokenCache cache(16);
  const std::string token = fixtures().token("rs256");  // exp NOW + 3600

  const JwtResult first = v.verify(token, at(), cache);
  ASSERT_TRUE(first.ok()) << first.detail;
  EXPECT_FALSE(first.cacheHit);
  const JwtResult second = v.verify(token, at(10), cache);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second.cacheHit);
  EXPECT_EQ(second.token, first.token) << "the same verified claims, shared";

  // Just before, at and after exp: the hit is refused on time like a fresh verification.
  EXPECT_TRUE(v.verify(token, at(3599), cache).ok());
  const JwtResult atExp = v.verify(token, at(3600), cache);
  EXPECT_EQ(atExp.reason, JwtReason::kExpired);
  EXPECT_TRUE(atExp.cacheHit);
  EXPECT_EQ(v.verify(token, at(3601), cache).reason, JwtReason::kExpired);
  // And before nbf (NOW - 60).
  EXPECT_EQ(v.verify(token, at(-61), cache).reason, JwtReason::kNotYetValid);

  const TokenCacheStats s = cache.stats();
  EXPECT_EQ(s.insertions, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 5u);
}

TEST(TokenCache, MaxExpiresInIsCheckedOnEveryHit) {
  JwtConfig c = test::standardConfig();
  c.maxExpiresIn = 24h;
  const JwtVerifier v = verifier(c);
  VerifiedTokenCache cache(16);
  const std::string token = fixtures().token("long_lived");  // exp NOW + 2 days
  ASSERT_TRUE(v.verify(token, at(86400), cache).ok());
  EXPECT_EQ(v.verify(token, at(86400 - 1), cache).reason, JwtReason::kLifetimeExceeded) << "depends on now";
}

TEST(TokenCache, OnlyTheExactTokenHits) {
  const JwtVerifier v = verifier();
  VerifiedTokenCache cache(16);
  ASSERT_TRUE(v.verify(fixtures().token("hs256"), at(), cache).ok());
  // The same signature under a forged payload: found by signature, refused on text, then fails.
  const JwtResult forged = v.verify(fixtures().token("tampered_payload_hs256"), at(), cache);
  EXPECT_EQ(forged.reason, JwtReason::kBadSignature);
  EXPECT_FALSE(forged.cacheHit);
  EXPECT_EQ(cache.stats().insertions, 1u) << "failures are not stored";
  EXPECT_EQ(cache.stats().size, 1u);
}

TEST(TokenCache, VerifiersWithOtherRulesOrKeysDoNotShareEntries) {
  VerifiedTokenCache cache(16);
  const std::string token = fixtures().token("hs256");
  const JwtVerifier open = verifier();
  ASSERT_TRUE(open.verify(token, at(), cache).ok());

  JwtConfig strict = test::standardConfig();
  strict.audiences = {"billing"};
  const JwtVerifier other = verifier(strict);
  EXPECT_NE(other.fingerprint(), open.fingerprint());
  const JwtResult r = other.verify(token, at(), cache);
  EXPECT_EQ(r.reason, JwtReason::kAudienceMismatch) << "not served from the other verifier's entry";
  EXPECT_FALSE(r.cacheHit);

  // A verifier rebuilt from the same keys and rules is the same verifier.
  EXPECT_EQ(verifier().fingerprint(), open.fingerprint());
  EXPECT_TRUE(verifier().verify(token, at(), cache).cacheHit);
}

TEST(TokenCache, BoundedAndExpiredEntriesGoFirst) {
  const JwtVerifier v = verifier(JwtConfig{});
  VerifiedTokenCache cache(2);
  // exp_at_now (exp NOW) is usable until NOW; hs256 and rs256 are valid for an hour.
  ASSERT_TRUE(v.verify(fixtures().token("exp_at_now"), at(-5), cache).ok());
  ASSERT_TRUE(v.verify(fixtures().token("hs256"), at(-5), cache).ok());
  ASSERT_EQ(cache.stats().size, 2u);
  // At NOW + 1 the first entry is past its exp: inserting a third token drops it, not hs256.
  ASSERT_TRUE(v.verify(fixtures().token("rs256"), at(1), cache).ok());
  TokenCacheStats s = cache.stats();
  EXPECT_EQ(s.size, 2u);
  EXPECT_LE(s.size, s.capacity);
  EXPECT_EQ(s.evictedExpired, 1u);
  EXPECT_EQ(s.evictedForced, 0u);
  EXPECT_TRUE(v.verify(fixtures().token("hs256"), at(2), cache).cacheHit);
  EXPECT_TRUE(v.verify(fixtures().token("rs256"), at(2), cache).cacheHit);

  // Full of valid entries: a fourth token forces one out; the size stays at the bound.
  ASSERT_TRUE(v.verify(fixtures().token("es256"), at(3), cache).ok());
  s = cache.stats();
  EXPECT_EQ(s.size, 2u);
  EXPECT_EQ(s.evictedForced, 1u);

  cache.clear();
  EXPECT_EQ(cache.stats().size, 0u);
  EXPECT_EQ(cache.stats().evictedForced, 1u) << "counters survive clear()";
  EXPECT_FALSE(v.verify(fixtures().token("hs256"), at(4), cache).cacheHit);
}

}  // namespace
}  // namespace gatelab::core::auth
