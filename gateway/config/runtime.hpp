#pragma once
// GatewayRuntime: the core objects built from a validated config, shared by both hosts (the
// simulator and the live proxy build exactly this, so they decide exactly alike).
//
// Stage 3 of parse -> validate -> build: the loader has checked the config; building compiles
// the router, creates each route's policies (rate limiters, JWT verifier, API-key table, ACL,
// CORS, header transforms), the consumer registry and identity-header policy shared by all routes,
// and each service's resilience objects (targets, load balancer, circuit breakers, outlier
// detector, retry policy and budget). Building can still fail
// on what only the core can check (a regex RE2 rejects, arithmetic bounds of a limit); those
// failures come back as diagnostics naming the route, policy or service.
//
// Events: every resilience object reports to one core::EventSink. The caller passes it (the
// composition root owns it: a simulator timeline, the proxy's metrics) and it must outlive the
// runtime; the overload without a sink gives the runtime a NullEventSink of its own.
//
// Thread safety: a runtime holds mutable policy state; one runtime per host thread (or guarded
// by its owner). Objects never move after construction (the outlier detector and the balancers
// refer to their TargetSet), so pointers to them stay valid for the runtime's lifetime.

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "gateway/config/diagnostics.hpp"
#include "gateway/config/model.hpp"
#include "gateway/core/auth/acl.hpp"
#include "gateway/core/auth/api_key.hpp"
#include "gateway/core/auth/consumer.hpp"
#include "gateway/core/auth/identity.hpp"
#include "gateway/core/auth/jwt.hpp"
#include "gateway/core/auth/token_cache.hpp"
#include "gateway/core/cache/response_cache.hpp"
#include "gateway/core/events.hpp"
#include "gateway/core/rate_limit/policy.hpp"
#include "gateway/core/resilience/circuit_breaker.hpp"
#include "gateway/core/resilience/load_balancer.hpp"
#include "gateway/core/resilience/outlier_detection.hpp"
#include "gateway/core/resilience/retry.hpp"
#include "gateway/core/resilience/target_set.hpp"
#include "gateway/core/router.hpp"
#include "gateway/core/shaping/cors.hpp"
#include "gateway/core/shaping/header_transform.hpp"
#include "gateway/core/shaping/json_projection.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::config {

/// One route's runtime policies. Rate limits are in the order the config lists them; each other
/// kind appears at most once per route and is empty (null / nullopt) when the route has none. The
/// config's list order is the order they run in (docs/config-reference.md#policies): cors before
/// jwt / key_auth, acl after them, which the loader enforces; RequestFlow (gateway/flow) runs the
/// deciding ones in that order, interleaved with the rate limits.
/// Config pointers point into GatewayRuntime::config, which the runtime keeps alive.
struct RouteRuntime {
  std::vector<std::unique_ptr<core::ratelimit::RateLimitPolicy>> rateLimits;

  /// `jwt`: the verifier (immutable, shareable between threads); null without a jwt policy.
  std::shared_ptr<const core::auth::JwtVerifier> jwt;
  /// The jwt policy's host-side settings: tokenSources (findToken), realm (bearerChallenge),
  /// consumerClaim (the claim that becomes RequestView::consumer), skippedJwks (to log). Null
  /// without a jwt policy.
  const JwtPolicyConfig* jwtPolicy = nullptr;
  /// The jwt policy's verified-token cache (`cache: {max_entries}`); null without one. Mutable
  /// state, like the rate limiters: guarded by the runtime's owner.
  std::unique_ptr<core::auth::VerifiedTokenCache> jwtCache;

  /// `key_auth`: the key table over GatewayRuntime::consumers; nullopt without a key_auth policy.
  std::optional<core::auth::ApiKeyAuth> keyAuth;
  /// The key_auth policy's realm (apiKeyChallenge); null without a key_auth policy.
  const KeyAuthPolicyConfig* keyAuthPolicy = nullptr;

  /// `acl`; nullopt without one. Groups of a consumer come from GatewayRuntime::consumers.
  std::optional<core::auth::AccessControl> acl;

  /// GatewayRuntime::identity on routes with jwt or key_auth (strip the identity fields from
  /// every request, then add the gateway's), null on other routes.
  const core::auth::IdentityPolicy* identity = nullptr;

  std::optional<core::shaping::CorsPolicy> cors;                 ///< `cors`
  std::optional<core::shaping::HeaderTransform> requestHeaders;   ///< `request_headers`
  std::optional<core::shaping::HeaderTransform> responseHeaders;  ///< `response_headers`
  /// `cache`: the route's response cache; null without one. Mutable state, like the rate limiters:
  /// guarded by the runtime's owner.
  std::unique_ptr<core::cache::ResponseCache> cache;
  /// `aggregate`: the parts the route calls instead of one upstream (points into the config);
  /// null without one.
  const core::shaping::AggregateSpec* aggregate = nullptr;
  /// `response_projection`: applied by the proxy to 2xx JSON response bodies (the host contract
  /// is in json_projection.hpp); immutable, shareable between threads. nullopt without one.
  std::optional<core::shaping::JsonProjection> projection;

  /// Whether this route's policies edit the fields of an answer to a request: response_headers
  /// always, cors for an actual CORS request (`actualCors`; it leaves other requests alone). Then
  /// a host gives them the answer's fields as a field set, the rate-limit fields included.
  [[nodiscard]] bool editsAnswerFields(bool actualCors) const noexcept {
    return responseHeaders.has_value() || (cors.has_value() && actualCors);
  }
  /// Whether this route's policies read an answer whole or edit its body (cache,
  /// response_projection). With neither this nor editsAnswerFields, a host may pass an upstream
  /// answer's fields on as they came. A policy added that touches answers must be listed in one of
  /// the two. (Compression is config-wide: the caller checks it.)
  [[nodiscard]] bool readsAnswerBodies() const noexcept { return cache != nullptr || projection.has_value(); }
};

/// One service's resilience objects (docs/resilience.md, "How a host uses them for one request").
/// Every object is behind a unique_ptr so it never moves; optional policies are null when the
/// service's config does not name them.
struct ServiceRuntime {
  const ServiceConfig* config = nullptr;  ///< points into GatewayRuntime::config, which it keeps alive
  core::resilience::Timeouts timeouts;    ///< copy of config->timeouts
  /// Targets in config order (name = URL, weight); panic threshold from load_balancer. Never null.
  std::unique_ptr<core::resilience::TargetSet> targets;
  /// Built for `targets` with load_balancer's algorithm. Never null.
  std::unique_ptr<core::resilience::LoadBalancer> loadBalancer;
  /// Empty without circuit_breaker; one breaker for the service; or, with per_target, one per
  /// target indexed like `targets` (subject {service, target URL}; mirror each into the set with
  /// targets->setBlockedUntil(i, breaker.blockedUntil()) after every call to it).
  std::vector<std::unique_ptr<core::resilience::CircuitBreaker>> breakers;
  std::unique_ptr<core::resilience::OutlierDetector> outlierDetector;  ///< null without outlier_detection
  std::unique_ptr<core::resilience::RetryPolicy> retryPolicy;          ///< null without retries
  std::unique_ptr<core::resilience::RetryBudget> retryBudget;          ///< null without retries

  /// The breaker that guards a call to `target`: the target's own (per_target), the service's, or
  /// nullptr when the service has none. Precondition: target < targets->size().
  [[nodiscard]] core::resilience::CircuitBreaker* breakerFor(std::size_t target) const noexcept;
};

/// Owns mutable limiter and resilience state: one runtime per host thread (or guarded by its owner).
struct GatewayRuntime {
  std::unique_ptr<core::NullEventSink> ownedEvents;  ///< set when built without a caller's sink
  core::EventSink* events = nullptr;                 ///< where every resilience event goes; never null
  std::shared_ptr<const GatewayConfig> config;
  core::Router router;
  std::vector<RouteRuntime> routes;      ///< indexed like config->routes and router.routes()
  std::vector<ServiceRuntime> services;  ///< indexed like config->services
  /// `consumers:` (an empty registry without them); shared with every route's keyAuth. Never null.
  std::shared_ptr<const core::auth::ConsumerRegistry> consumers;
  /// `identity_headers:` (Kong's names by default); set by every successful build. Routes with
  /// jwt or key_auth point at it (RouteRuntime::identity).
  std::optional<core::auth::IdentityPolicy> identity;

  /// The runtime of the service named `name`, or nullptr. O(number of services).
  [[nodiscard]] ServiceRuntime* findService(std::string_view name) noexcept;
  [[nodiscard]] const ServiceRuntime* findService(std::string_view name) const noexcept;
};

struct BuildResult {
  std::unique_ptr<GatewayRuntime> runtime;  ///< non-null iff `diagnostics` is empty
  std::vector<Diagnostic> diagnostics;
  [[nodiscard]] bool ok() const noexcept { return runtime != nullptr; }
};

/// Builds the runtime for a validated config, reporting resilience events to `events` (which
/// must outlive the runtime). `start` is when the runtime starts on the host's timeline: breakers
/// configured with mode forced_open or disabled enter that state then (and report it to
/// `events`). Precondition: `config` is non-null.
[[nodiscard]] BuildResult buildRuntime(std::shared_ptr<const GatewayConfig> config, core::EventSink& events,
                                       core::TimePoint start = core::TimePoint{});

/// As above, with events discarded by a NullEventSink the runtime owns, starting at TimePoint{}.
[[nodiscard]] BuildResult buildRuntime(std::shared_ptr<const GatewayConfig> config);

}  // namespace gatelab::config
