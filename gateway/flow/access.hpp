#pragma once
// AccessState: what a route's access policies (cors, jwt, key_auth, acl) decided and established
// for one request, as RequestFlow::start fills it. Semantics: docs/security.md, "Access and
// shaping: how the pieces fit".
//
// The host owns one per request in flight and keeps it (with the request's bytes) until the
// answer is sent: the proxy needs it to build the forwarded request (identity headers, hidden
// credentials, request header templates) and the answer (WWW-Authenticate, CORS fields); the
// simulator only counts what it says. It is reset by RequestFlow::start and reuses its capacity,
// so a recycled state allocates nothing for requests without credentials.
//
// Views (consumer id, credential, user id, scopes, CORS fields) point into the runtime's policies,
// the verified token this state holds, or the request's bytes: valid while all three live.
//
// Thread safety: a plain value; one request's.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/auth/acl.hpp"
#include "gateway/core/auth/api_key.hpp"
#include "gateway/core/auth/consumer.hpp"
#include "gateway/core/auth/identity.hpp"
#include "gateway/core/auth/jwt.hpp"
#include "gateway/core/auth/verified_token.hpp"
#include "gateway/core/cache/response_cache.hpp"
#include "gateway/core/request.hpp"
#include "gateway/core/shaping/cors.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::flow {

/// Which kind of access policy answered a request on its own (Outcome kUnauthorized, kForbidden,
/// kPreflight).
enum class AccessPolicy : std::uint8_t { kNone, kCors, kJwt, kKeyAuth, kAcl };

/// "none", "cors", "jwt", "key_auth", "acl" (the config's policy kind names).
const char* toString(AccessPolicy p) noexcept;

struct AccessState {
  // ---- input, set by the host before RequestFlow::start ------------------------------------
  /// Time on the Unix-epoch timeline, for JWT exp / nbf / iat: the proxy's wall clock, the
  /// simulator's trace time of the request. (The flow's `now` is a steady or virtual clock.)
  core::TimePoint unixNow{};

  // ---- what the stages found ----------------------------------------------------------------
  bool authRan = false;        ///< the route authenticates (jwt / key_auth) and that stage ran
  bool authenticated = false;  ///< a credential was verified (not the anonymous fallback)
  bool anonymous = false;      ///< admitted as key_auth's anonymous consumer
  AccessPolicy authenticatedBy = AccessPolicy::kNone;  ///< kJwt or kKeyAuth when authenticated
  /// The consumer in the registry (key_auth's, or a JWT consumer_claim naming one), else nullptr.
  const core::auth::Consumer* consumer = nullptr;
  /// The request's consumer: the registry consumer's id, or the consumer_claim's value (a claim
  /// naming no configured consumer still identifies the caller, without groups). Empty: none.
  std::string_view consumerId{};
  std::string_view credential{};  ///< the API key's id (ApiKeySpec::id); empty for a JWT
  std::string_view userId{};      ///< the JWT's `sub`
  std::string_view scopes{};      ///< the JWT's `scope` (else `scp`), space-separated
  std::shared_ptr<const core::auth::VerifiedToken> token;  ///< the verified JWT, if any
  std::vector<core::Header> claims;  ///< views into *token (RequestView::claims)
  /// key_auth with hide_credentials: the key's header fields / query parameters to strip.
  std::vector<core::auth::HiddenCredential> hide;
  /// Reason of each authentication policy that ran (for metrics and logs).
  std::optional<core::auth::JwtReason> jwtReason;
  std::optional<core::auth::ApiKeyReason> keyReason;
  std::optional<core::auth::AclReason> aclReason;
  bool jwtCacheHit = false;  ///< the JWT's signature check was skipped (verified-token cache)

  /// The route's CORS decision (set when the route has a cors policy). Preflights were answered
  /// with it (Outcome::kPreflight); for other requests the host puts its fields on the answer
  /// (core::shaping::applyCors), whatever the answer is.
  std::optional<core::shaping::CorsDecision> cors;

  /// The route's cache lookup (set when the route has a cache policy and its stage ran): a hit
  /// was answered with it (Outcome::kCacheHit); otherwise the host gives the answer to
  /// RequestFlow::cacheStore / cacheStale (docs/caching.md, "Hosts").
  std::optional<core::cache::CacheLookup> cache;

  // ---- a refusal (Outcome kUnauthorized / kForbidden / kPreflight) ---------------------------
  AccessPolicy refusedBy = AccessPolicy::kNone;
  std::string_view reason{};  ///< the deciding reason code ("expired", "missing_key", "group_denied", ...)
  /// WWW-Authenticate values for a 401 (one per refusing authentication policy, in route order),
  /// or a 403 for a missing scope of a bearer token (RFC 6750 insufficient_scope).
  std::vector<std::string> challenges;
  std::string detail;  ///< operator detail for logs (JwtResult::detail); never secret text

  /// Clears the results (keeps unixNow and capacity).
  void reset() noexcept;

  /// `request` as the policies after authentication see it: consumer and claims from
  /// authentication when the route authenticates, else as the host gave them (a trace's user).
  [[nodiscard]] core::RequestView view(const core::RequestView& request) const noexcept {
    if (!authRan) return request;
    core::RequestView v = request;
    v.consumer = consumerId;
    v.claims = claims;
    return v;
  }

  /// What the identity headers tell the upstream.
  [[nodiscard]] core::auth::Identity identity() const noexcept;
};

}  // namespace gatelab::flow
