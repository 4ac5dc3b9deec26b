#pragma once
// GatewayConfig: the validated, typed, immutable form of a gateway config file.
//
// Built only by the loader (loader.hpp), which has checked every range and cross-field rule, and
// handed out as std::shared_ptr<const GatewayConfig>: share it freely between threads (it is never
// mutated), keep the old one alive while a reload validates the new one.
//
// Route and policy values are the core's spec types (core::RouteSpec,
// core::ratelimit::RateLimitPolicySpec, core::auth::AclSpec, core::shaping::CorsSpec...), and a
// service's resilience settings are the core's config structs (core::resilience::Timeouts,
// RetryConfig, BreakerConfig, OutlierConfig, LbConfig), so the router, limiter, resilience and
// access factories consume them directly (runtime.hpp). Secrets are kept only in the form the core
// needs: API keys as SHA-256 digests, JWT keys as loaded verification keys (no secret text).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/config/address.hpp"
#include "gateway/core/auth/acl.hpp"
#include "gateway/core/auth/api_key.hpp"
#include "gateway/core/auth/identity.hpp"
#include "gateway/core/auth/jwk.hpp"
#include "gateway/core/auth/jwt.hpp"
#include "gateway/core/auth/token_source.hpp"
#include "gateway/core/cache/response_cache.hpp"
#include "gateway/core/rate_limit/policy_spec.hpp"
#include "gateway/core/resilience/circuit_breaker.hpp"
#include "gateway/core/resilience/load_balancer.hpp"
#include "gateway/core/resilience/outlier_detection.hpp"
#include "gateway/core/resilience/percent.hpp"
#include "gateway/core/resilience/retry.hpp"
#include "gateway/core/resilience/target_set.hpp"
#include "gateway/core/resilience/timeouts.hpp"
#include "gateway/core/route_spec.hpp"
#include "gateway/core/shaping/aggregate.hpp"
#include "gateway/core/shaping/cors.hpp"
#include "gateway/core/shaping/header_transform.hpp"
#include "gateway/core/shaping/json_projection.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::config {

/// The config format versions this build reads.
inline constexpr int kSupportedVersion = 1;

/// One upstream server of a service.
struct Target {
  TargetUrl url;
  std::uint32_t weight = 1;  ///< 1..1000, relative share of the service's traffic
};

/// The timeouts a service gets when its config names none: connect and per try 60s (nginx
/// proxy_connect_timeout / proxy_read_timeout, Kong connect_timeout / read_timeout), no overall
/// limit (nginx proxy_next_upstream_timeout 0). Zero means "no limit" (core::resilience::Timeouts).
inline constexpr core::resilience::Timeouts kDefaultTimeouts{std::chrono::seconds{60}, std::chrono::seconds{60},
                                                             core::Duration{0}};

/// `retries:` — the retry policy and the service's retry budget.
struct RetriesConfig {
  core::resilience::RetryConfig policy;       ///< attempts, on, backoff, idempotency, Retry-After
  core::resilience::RetryBudgetConfig budget;  ///< Envoy's retry_budget (20%, min 3 by default)
};

/// `circuit_breaker.mode`: how the breaker starts. kDryRun is the core's BreakerConfig::dryRun;
/// kForcedOpen and kDisabled are the operator states the runtime applies when it is built.
enum class BreakerMode : std::uint8_t {
  kEnforce,     ///< a live breaker (default)
  kDryRun,      ///< transitions computed and reported, every call admitted (metrics only)
  kForcedOpen,  ///< every call fails fast until an operator resets it (resilience4j FORCED_OPEN)
  kDisabled,    ///< every call admitted, nothing recorded (resilience4j DISABLED)
};

/// `circuit_breaker:` — one breaker for the service, or one per target.
struct CircuitBreakerConfig {
  core::resilience::BreakerConfig breaker;  ///< breaker.dryRun == (mode == kDryRun)
  BreakerMode mode = BreakerMode::kEnforce;
  bool perTarget = false;  ///< one breaker per target, mirrored into the TargetSet (blockedUntil)
};

/// What a consistent_hash balancer hashes: the client address or one request header.
struct HashOn {
  enum class Kind : std::uint8_t { kClientIp, kHeader };
  Kind kind = Kind::kClientIp;
  std::string header;  ///< kHeader: the header field name as written (compare case-insensitively)
  friend bool operator==(const HashOn&, const HashOn&) = default;
};

/// `load_balancer:` — the algorithm, its key, and the TargetSet's panic threshold.
struct LoadBalancerConfig {
  /// Default `weighted` (nginx's smooth weighted round robin): equal weights make it plain round
  /// robin, and unequal target weights are honoured without further config.
  core::resilience::LbConfig lb{core::resilience::LbAlgorithm::kWeightedRoundRobin, 160};
  HashOn hashOn;  ///< consistent_hash only
  core::resilience::Percent panicThreshold = core::resilience::Percent::of(50);  ///< Envoy's default
};

/// `health_checks:` — active health checking. The config only describes it: the live proxy sends
/// the probes and reports up/down per target into the TargetSet (setHealthy); the simulator
/// scripts target health instead.
struct HealthCheckConfig {
  std::string path = "/";                         ///< GET this path on every target
  core::Duration interval{std::chrono::seconds{10}};  ///< between two checks of one target
  core::Duration timeout{std::chrono::seconds{1}};    ///< one check; < interval
  std::uint32_t healthyThreshold = 2;    ///< consecutive successes that mark a down target up
  std::uint32_t unhealthyThreshold = 3;  ///< consecutive failures that mark an up target down
};

/// `tls:` of a service: how the proxy talks TLS to its https:// targets.
struct UpstreamTlsConfig {
  bool verify = true;      ///< check the target's certificate chain and name
  std::string caFile;      ///< PEM bundle of trusted CAs; empty: the system's default store
  std::string serverName;  ///< SNI and the name verified; empty: each target's host
};

/// An upstream service: a named group of targets and how calls to them are protected.
struct ServiceConfig {
  std::string name;             ///< unique, [A-Za-z0-9_.-]+
  std::vector<Target> targets;  ///< at least one, no duplicate URLs
  /// connect / per-try / overall timeouts (`timeout: D` is shorthand for per_try: D).
  core::resilience::Timeouts timeouts = kDefaultTimeouts;
  std::optional<RetriesConfig> retries;                            ///< absent: no retries
  std::optional<CircuitBreakerConfig> circuitBreaker;              ///< absent: no breaker
  std::optional<core::resilience::OutlierConfig> outlierDetection;  ///< absent: no ejection
  LoadBalancerConfig loadBalancer;
  std::optional<HealthCheckConfig> healthChecks;  ///< absent: every target counts as healthy
  /// TLS settings for https:// targets (defaults when the service has https targets and no `tls`).
  std::optional<UpstreamTlsConfig> tls;

  /// The targets as the core's TargetSet takes them: name = the URL (http://host:port), weight.
  [[nodiscard]] std::vector<core::resilience::TargetSpec> targetSpecs() const;
};

/// The realm of a WWW-Authenticate challenge when a jwt or key_auth policy names none.
inline constexpr std::string_view kDefaultRealm = "gatelab";

/// `- jwt:` — verify a bearer JWT (docs/security.md, "JWT"). The keys are loaded when the config
/// is loaded (inline values and files alike), so a loaded config holds usable keys and no secret
/// text.
struct JwtPolicyConfig {
  core::auth::KeySet keys;     ///< inline `keys` in order, then those of `jwks_file`; never empty
  core::auth::JwtConfig rules;  ///< leeway, issuers, audiences, required claims, lifetime bounds, size
  std::vector<core::auth::TokenSource> tokenSources = core::auth::defaultTokenSources();  ///< tried in order
  std::string realm{kDefaultRealm};  ///< for bearerChallenge()
  /// Entries of the route's verified-token cache (runtime.hpp: RouteRuntime::jwtCache); absent:
  /// every token is verified in full.
  std::optional<std::size_t> cacheEntries;
  /// The claim whose value becomes RequestView::consumer (e.g. "sub"); empty: none.
  std::string consumerClaim;
  std::string jwksFile;  ///< as written (relative to the working directory); empty: none
  /// JWKS keys left out on purpose (JwksResult::skipped: `use: enc`, unsupported algorithms...),
  /// one line each, for the host to log at start and reload. Not errors.
  std::vector<std::string> skippedJwks;
};

/// `- key_auth:` — API keys of the top-level consumers (docs/security.md, "API keys"). The keys
/// themselves are GatewayConfig::consumers'; the runtime builds one core::auth::ApiKeyAuth per
/// policy from this and them.
struct KeyAuthPolicyConfig {
  std::vector<core::auth::KeySource> sources{core::auth::KeySource{}};  ///< default: header apikey
  bool hideCredentials = false;
  std::string anonymous;  ///< id of a consumer admitted without a valid key; empty: refuse (401)
  std::string realm{kDefaultRealm};  ///< for apiKeyChallenge()
};

/// `- request_headers:` — edits to the request's header fields before it is forwarded.
struct RequestHeadersConfig {
  core::shaping::HeaderTransformSpec transform;
};

/// `- response_headers:` — edits to the upstream's response header fields.
struct ResponseHeadersConfig {
  core::shaping::HeaderTransformSpec transform;
};

/// `- cache:` — the route's response cache (docs/caching.md). The runtime builds one
/// core::cache::ResponseCache per route from `spec` (ResponseCache::create accepts it: the loader
/// ran it already).
struct CachePolicyConfig {
  core::cache::CacheSpec spec;
};

/// `- response_projection:` — keep / drop fields of the route's JSON responses and cap arrays
/// (docs/security.md, "Response projection"). The runtime builds one
/// core::shaping::JsonProjection per route from `spec` (JsonProjection::create accepts it: the
/// loader ran it already).
struct ResponseProjectionConfig {
  core::shaping::ProjectionSpec spec;
};

/// A policy attached to a route. One alternative per policy kind (policyKind() names it):
/// rate_limit, jwt, key_auth, acl, cors, request_headers, response_headers, cache, aggregate,
/// response_projection. Code interested
/// in one kind uses std::get_if and skips the others.
using PolicySpec =
    std::variant<core::ratelimit::RateLimitPolicySpec, JwtPolicyConfig, KeyAuthPolicyConfig, core::auth::AclSpec,
                 core::shaping::CorsSpec, RequestHeadersConfig, ResponseHeadersConfig, CachePolicyConfig,
                 core::shaping::AggregateSpec, ResponseProjectionConfig>;

/// The YAML name of the policy's kind: "rate_limit", "jwt", "key_auth", "acl", "cors",
/// "request_headers", "response_headers", "cache", "aggregate", "response_projection".
[[nodiscard]] std::string_view policyKind(const PolicySpec& policy) noexcept;

/// One API key of a consumer: only its digest is kept (a key written in plain text is hashed when
/// the config is loaded).
struct ConsumerKey {
  std::string id;      ///< credential name for logs and X-Credential-Identifier; may be empty
  std::string digest;  ///< "sha256:" + 64 lower-case hex digits (core::auth::hashApiKey form)
  friend bool operator==(const ConsumerKey&, const ConsumerKey&) = default;
};

/// `consumers:` — an identity authentication resolves to (Kong's consumer).
struct ConsumerConfig {
  std::string id;                   ///< unique
  std::vector<std::string> groups;  ///< for ACLs and X-Consumer-Groups
  std::vector<ConsumerKey> keys;    ///< API keys (key_auth)
  friend bool operator==(const ConsumerConfig&, const ConsumerConfig&) = default;
};

/// A route: what it matches and where it sends traffic (the core's RouteSpec), plus its policies
/// in the order they were written (the order they run).
struct RouteConfig {
  core::RouteSpec spec;
  std::vector<PolicySpec> policies;

  [[nodiscard]] const std::string& name() const noexcept { return spec.name; }
};

/// Response compression by the live proxy (nginx `gzip`, Kong/Envoy compressor): gzip when the
/// client accepts it, for the listed content types, from `minSize` bytes, never twice.
struct CompressionConfig {
  std::vector<std::string> types = {"text/html", "text/plain", "text/css", "text/javascript",
                                    "application/javascript", "application/json", "application/xml",
                                    "image/svg+xml"};  ///< media types (lower case, no parameters)
  std::uint64_t minSize = 1024;  ///< bytes; smaller bodies are sent as they are
  int level = 6;                 ///< zlib level 1 (fastest) .. 9 (smallest)
};

/// Where `store: redis` rate-limit policies keep their counters (Kong's redis_host/redis_port,
/// redis_timeout, redis_database; APISIX's limit-count redis_*).
struct RedisConfig {
  HostPort address{"127.0.0.1", 6379};
  std::string username;  ///< ACL user (AUTH username password); empty: AUTH password only
  std::string password;  ///< empty: no AUTH
  int database = 0;      ///< SELECT; 0..15 on a default Redis
  /// How long a request waits for its decision before the policy's on_store_error applies.
  core::Duration timeout = std::chrono::milliseconds(50);
  core::Duration connectTimeout = std::chrono::seconds(1);
  std::string keyPrefix = "gatelab";  ///< every key starts with it, then ":rl:"
};

/// One certificate of the TLS listener.
struct TlsCertificate {
  std::string certFile;  ///< PEM: the certificate, then its chain
  std::string keyFile;   ///< PEM private key
  /// Host names it serves (SNI), lower case; "*.example.com" matches one label. Empty: the names
  /// in the certificate (subject alternative names, else the common name).
  std::vector<std::string> serverNames;
};

enum class TlsVersion : std::uint8_t { kTls12, kTls13 };

/// The TLS listener (termination): `tls:` at the top level.
struct TlsConfig {
  HostPort listen{"127.0.0.1", 8443};
  std::vector<TlsCertificate> certificates;  ///< at least one; the first is the default
  TlsVersion minVersion = TlsVersion::kTls12;
  /// The plain `listen` listener answers every request with 308 to the same URL on https.
  bool redirectHttp = false;
};

struct GatewayConfig {
  int version = kSupportedVersion;
  HostPort listen{"127.0.0.1", 8080};  ///< where the proxy accepts client traffic
  /// Further addresses of the same plain listener (`listen` given as a list: the first is
  /// `listen`), e.g. an IPv6 one beside an IPv4 one.
  std::vector<HostPort> alsoListen;
  HostPort admin{"127.0.0.1", 9901};   ///< where the admin API (/metrics, /healthz, reload) listens
  unsigned threads = 0;  ///< the proxy's I/O threads; 0: one per core
  std::optional<CompressionConfig> compression;  ///< absent: the proxy never compresses
  std::optional<RedisConfig> redis;  ///< required when a rate-limit policy says store: redis
  std::optional<TlsConfig> tls;      ///< absent: no TLS listener
  std::vector<ConsumerConfig> consumers;  ///< in file order, ids unique, no key twice
  /// `identity_headers:` — the field names that tell the upstream who authenticated; applied on
  /// routes with a jwt or key_auth policy (Kong's names by default).
  core::auth::IdentitySpec identityHeaders;
  std::vector<ServiceConfig> services;  ///< in file order, names unique
  std::vector<RouteConfig> routes;      ///< in file order, names unique
  std::string source;                   ///< display name of the file it came from

  /// The service named `name`, or nullptr. O(number of services).
  [[nodiscard]] const ServiceConfig* findService(std::string_view name) const noexcept;
  /// The route named `name`, or nullptr. O(number of routes).
  [[nodiscard]] const RouteConfig* findRoute(std::string_view name) const noexcept;
  /// The routes' specs in file order, as the router compiler takes them.
  [[nodiscard]] std::vector<core::RouteSpec> routeSpecs() const;
  /// Every rate-limit policy of every route, in file order.
  [[nodiscard]] std::vector<const core::ratelimit::RateLimitPolicySpec*> rateLimitPolicies() const;
  /// Where a policy of a kind other than rate_limit sits (issue 6's access and shaping kinds).
  struct PolicyRef {
    std::size_t route = 0;   ///< index in routes
    std::size_t policy = 0;  ///< index in that route's policies
    std::string_view kind;   ///< policyKind()
  };
  /// Every access/shaping policy (not rate_limit) of every route, in file order.
  [[nodiscard]] std::vector<PolicyRef> accessPolicies() const;
};

}  // namespace gatelab::config
