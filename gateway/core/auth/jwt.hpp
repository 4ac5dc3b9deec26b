#pragma once
// JwtVerifier: checks a compact-serialized JWS (RFC 7515) carrying JWT claims (RFC 7519) and
// returns a value: the verified claims, or a stable reason code with messages. Nothing on this
// path throws. Full semantics, with the choices made where the RFCs leave room:
// docs/security.md, "JWT".
//
// Order of checks (the first failure decides):
//   1. size (<= maxTokenBytes) and shape: three base64url segments "header.payload.signature",
//      header and payload not empty (a JWE's five segments are rejected);   -> malformed
//   2. header: a JSON object with a string "alg", optional string "kid", no "crit";
//                                                                           -> malformed
//   3. "alg" one of HS256/384/512, RS256/384/512, ES256/384, EdDSA;         -> unsupported_alg
//   4. key selection (KeySet::find): kid known?                             -> unknown_kid
//      the kid's key (or, without kid, any key) bound to this alg?          -> alg_mismatch
//   5. signature over "header.payload" with that key;                       -> bad_signature
//   6. claims: a JSON object; exp/nbf/iat numbers; iss / aud types when checked;
//                                                                           -> malformed
//   7. required claims present (not null), then iss in `issuers`, then aud (a string or an
//      array of strings) sharing a value with `audiences`;                  -> missing_claim,
//                                                                    issuer_mismatch, audience_mismatch
//   8. time, against `now` (whole seconds, floored) with `leeway`:
//      exp: now < exp + leeway, else                                        -> expired
//      nbf: now >= nbf - leeway, iat: iat <= now + leeway, else             -> not_yet_valid
//      maxExpiresIn (Kong's maximum_expiration): exp - now <= max, and maxLifetime: exp - iat <= max,
//      else                                                                 -> lifetime_exceeded
// With a VerifiedTokenCache, a token seen before (same text, same verifier) skips 1-7 and only
// step 8 runs; a token not seen before has its HMAC checked on the cache's reusable contexts
// (HmacScratch), which saves a copy of the key's context.
//
// Time: `now` is the core's TimePoint; NumericDates are compared with it as seconds since the
// epoch of its timeline. The proxy's timeline reads Unix time (gateway/proxy/server.cpp,
// monotonicNow); a simulator host must place its virtual timeline on the Unix scale (or issue
// tokens on its own scale) for exp/nbf/iat to mean what they say.
//
// Thread safety: a JwtVerifier is immutable; verify(token, now) may run on any number of threads
// at once. The cache overload mutates the cache: one cache per thread.
// Cost: dominated by the signature (bench/jwt_bench.cpp); a cache hit costs a hash, a compare
// of the token text and the time checks. Allocates the parsed JSON and the claims.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/auth/jwk.hpp"
#include "gateway/core/auth/token_cache.hpp"
#include "gateway/core/auth/verified_token.hpp"
#include "gateway/core/hash.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::auth {

/// Why a token was refused. Stable: the names (toString) are metric labels and log fields.
enum class JwtReason : std::uint8_t {
  kOk,                ///< "ok"
  kMissingToken,      ///< "missing_token": no token in any configured source (token_source.hpp)
  kMalformed,         ///< "malformed": not a well-formed JWS/JWT of acceptable size
  kUnsupportedAlg,    ///< "unsupported_alg": header alg not verified by gatelab ("none" included)
  kAlgMismatch,       ///< "alg_mismatch": no key bound to the header's alg (for its kid)
  kUnknownKid,        ///< "unknown_kid": kid names no key, or no kid and several candidate keys
  kBadSignature,      ///< "bad_signature"
  kExpired,           ///< "expired"
  kNotYetValid,       ///< "not_yet_valid": before nbf, or iat in the future
  kIssuerMismatch,    ///< "issuer_mismatch"
  kAudienceMismatch,  ///< "audience_mismatch"
  kLifetimeExceeded,  ///< "lifetime_exceeded"
  kMissingClaim,      ///< "missing_claim"
};

inline constexpr std::size_t kJwtReasonCount = 13;

/// snake_case name of `r` ("bad_signature").
const char* toString(JwtReason r) noexcept;

inline constexpr std::size_t kDefaultMaxTokenBytes = 8192;
inline constexpr Duration kMaxLeeway = std::chrono::hours(24);
inline constexpr Duration kMaxLifetimeBound = std::chrono::hours(24 * 365);  ///< as Kong's maximum_expiration

/// What a verifier checks besides the signature. Validated by validateJwtConfig().
struct JwtConfig {
  /// Clock-skew allowance for exp, nbf and iat. Whole seconds (a sub-second part is ignored);
  /// 0 <= leeway <= kMaxLeeway.
  Duration leeway{0};
  /// Accepted "iss" values, compared exactly. Empty: iss is not checked.
  std::vector<std::string> issuers;
  /// Accepted "aud" values, compared exactly; the token passes when any of its audiences is
  /// here. Empty: aud is not checked.
  std::vector<std::string> audiences;
  /// Claims that must be present and not null. Default: exp (a token without exp never expires).
  std::vector<std::string> requiredClaims{"exp"};
  /// Kong's maximum_expiration: exp may lie at most this far after `now`. Needs exp.
  std::optional<Duration> maxExpiresIn;
  /// exp - iat may be at most this. Needs exp and iat.
  std::optional<Duration> maxLifetime;
  /// Longer tokens are rejected as malformed before any decoding. 64 B .. 1 MiB.
  std::size_t maxTokenBytes = kDefaultMaxTokenBytes;
};

/// nullopt when `config` is valid, else what is wrong and what is allowed.
std::optional<std::string> validateJwtConfig(const JwtConfig& config);

/// The outcome of one verification.
struct JwtResult {
  JwtReason reason = JwtReason::kOk;
  /// Client-safe sentence for error_description (RFC 6750): fixed text per reason, plus config
  /// values at most (a required claim's name); never text from the token. Empty when ok.
  std::string description;
  /// Operator detail for logs: the numbers and names involved (token-supplied text is truncated
  /// and reduced to printable ASCII). Empty when ok.
  std::string detail;
  /// The verified token; set iff ok(). Shared with the cache; keep it for as long as claim views
  /// (VerifiedToken::claimViews) are in use.
  std::shared_ptr<const VerifiedToken> token;
  bool cacheHit = false;  ///< the signature check was skipped: the cache knew this token

  [[nodiscard]] bool ok() const noexcept { return reason == JwtReason::kOk; }
};

/// A result for `reason` with its standard description (for reasons decided outside the
/// verifier, e.g. kMissingToken by the host).
JwtResult jwtFailure(JwtReason reason, std::string detail = {});

class JwtVerifier {
 public:
  /// Preconditions: validateJwtConfig(config) == nullopt; `keys` not empty.
  JwtVerifier(KeySet keys, JwtConfig config);

  /// Verifies `token` (the compact serialization, without "Bearer ") at `now`.
  [[nodiscard]] JwtResult verify(std::string_view token, TimePoint now) const;

  /// Same, consulting and filling `cache` (see token_cache.hpp): a token the cache knows only
  /// goes through the time checks.
  [[nodiscard]] JwtResult verify(std::string_view token, TimePoint now, VerifiedTokenCache& cache) const;

  [[nodiscard]] const KeySet& keys() const noexcept { return keys_; }
  [[nodiscard]] const JwtConfig& config() const noexcept { return config_; }
  /// Identifies the keys and the claim rules; equal fingerprints verify identically.
  [[nodiscard]] const Hash128& fingerprint() const noexcept { return fingerprint_; }

 private:
  JwtResult run(std::string_view token, TimePoint now, VerifiedTokenCache* cache) const;

  KeySet keys_;
  JwtConfig config_;
  std::int64_t leewaySeconds_;
  Hash128 fingerprint_;
};

/// The WWW-Authenticate field value for a refused request (RFC 6750 §3):
///   kMissingToken: Bearer realm="api"   (no error code when no credentials were sent, §3.1)
///   otherwise:     Bearer realm="api", error="invalid_token", error_description="The access token expired"
/// realm is left out when empty. Characters RFC 6750 does not allow in these quoted strings
/// ('"', '\\', controls, non-ASCII) are replaced with '?'. The status to send is 401.
std::string bearerChallenge(const JwtResult& result, std::string_view realm = {});

}  // namespace gatelab::core::auth
