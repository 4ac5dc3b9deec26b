#pragma once
// INTERNAL to gateway/config: builders for each section of the config file. Each reads one part
// of the YAML tree, reports every problem it finds to the Sink, and returns a draft holding the
// typed values plus the positions the cross-field checks (loader.cpp) need.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/detail/yaml_reader.hpp"
#include "gateway/config/model.hpp"

namespace gatelab::config::detail {

/// A value together with where it was written.
struct Located {
  std::string value;
  Mark mark;
  std::string path;
};

struct ServiceDraft {
  ServiceConfig config;
  std::optional<Located> name;  ///< set when the name itself is valid
};

/// Reads a service's resilience keys (timeout, timeouts, retries, circuit_breaker,
/// outlier_detection, load_balancer, health_checks) into `config`, checks the rules between them
/// and with `config.targets`, and last runs the core's validate functions (service_resilience.cpp).
/// `targetsValid`: the service's targets were read without errors (else rules on them are skipped).
void readServiceResilience(Sink& sink, const Mapping& service, ServiceConfig& config, bool targetsValid);

/// Reads the top-level `tls:` (the TLS listener) into `config.tls` when it is valid (tls.cpp).
/// Call after `listen` and `admin` are read (they must differ from tls.listen).
void readTls(Sink& sink, const Mapping& top, GatewayConfig& config);

/// Reads a service's `tls:` (TLS to its https:// targets) (tls.cpp).
[[nodiscard]] std::optional<UpstreamTlsConfig> readUpstreamTls(Sink& sink, const Node& node);

/// Reads `services:`; one draft per list item that is a mapping.
[[nodiscard]] std::vector<ServiceDraft> readServices(Sink& sink, const Node& list);

struct RouteDraft {
  RouteConfig config;
  std::optional<Located> name;   ///< set when the name itself is valid
  bool matchComplete = false;    ///< every match condition parsed (for the duplicate-match check)
  Mark matchMark;
  std::string matchPath;
  std::vector<Located> serviceRefs;  ///< service names the route forwards to
  std::vector<Located> policyNames;  ///< names of its policies (explicit or defaulted)
  std::vector<Located> redisStores;  ///< its policies' `store: redis` keys
  std::vector<Located> consumerUsers;  ///< its key_auth policies (they need top-level consumers)
  std::vector<Located> consumerRefs;   ///< consumer ids its policies name (key_auth anonymous)
};

/// Reads `routes:`; one draft per list item that is a mapping.
[[nodiscard]] std::vector<RouteDraft> readRoutes(Sink& sink, const Node& list);

// ---- policies ---------------------------------------------------------------------------------

/// What a policy builder knows about where the policy sits.
struct PolicyContext {
  std::string routeName;  ///< empty when the route's name is missing or invalid
  std::size_t kindIndex;  ///< index among the route's policies of the same kind
  std::size_t kindCount;  ///< number of the route's policies of the same kind
  std::string routeService{};  ///< the route's (first) service; empty when not known
};

struct BuiltPolicy {
  std::optional<PolicySpec> spec;  ///< set when the policy is valid
  std::optional<Located> name;     ///< its name (explicit or default), when known
  std::optional<Located> redisStore;  ///< where it says `store: redis` (needs a top-level redis section)
  /// Where the policy reads what authentication established (a rate-limit key `consumer` or
  /// `jwt:CLAIM`, a `$(consumer)` / `$(jwt.CLAIM)` template); value: what it reads, for messages.
  /// Such a policy must come after the route's jwt / key_auth policies.
  std::optional<Located> readsIdentity;
  /// Where the policy reads verified JWT claims (acl scopes, group_claim): the route needs a jwt
  /// policy. value: the key, for messages.
  std::optional<Located> readsClaims;
  std::optional<Located> usesConsumers;  ///< a key_auth policy: needs top-level consumers
  std::optional<Located> consumerRef;    ///< a consumer id it names (key_auth anonymous)
  std::vector<Located> serviceRefs;      ///< services it calls (aggregate parts)
};

/// Builds one policy of a kind from its body (the node under the kind's key).
using PolicyBuilder = BuiltPolicy (*)(Sink& sink, const Node& body, const PolicyContext& context);

/// Where a kind of policy may stand in a route's list, which is the order the policies run in.
enum class PolicyPlacement : std::uint8_t {
  kAnywhere,
  kAuthentication,        ///< jwt, key_auth: establish who is asking
  kBeforeAuthentication,  ///< cors: answers preflights, which browsers send without credentials
  kAfterAuthentication,   ///< acl: judges what authentication established; needs one on the route
  /// cache: answers without the upstream, so it must stand after every access check (jwt,
  /// key_auth, acl) the route has; needs none.
  kAfterAccessChecks,
};

struct PolicyKind {
  std::string_view name;  ///< the key in `policies: - KIND: {...}`
  PolicyBuilder build;
  bool oncePerRoute = false;  ///< a second one on a route is an error
  PolicyPlacement placement = PolicyPlacement::kAnywhere;
};

/// Every policy kind the config understands. New kinds register here.
[[nodiscard]] std::span<const PolicyKind> policyKinds() noexcept;

/// The builders, one file each: rate_limit_policy.cpp, jwt_policy.cpp, key_auth_policy.cpp,
/// acl_policy.cpp, cors_policy.cpp, header_transform_policy.cpp (request_headers and
/// response_headers), cache_policy.cpp, aggregate_policy.cpp.
[[nodiscard]] BuiltPolicy buildRateLimitPolicy(Sink& sink, const Node& body, const PolicyContext& context);
[[nodiscard]] BuiltPolicy buildJwtPolicy(Sink& sink, const Node& body, const PolicyContext& context);
[[nodiscard]] BuiltPolicy buildKeyAuthPolicy(Sink& sink, const Node& body, const PolicyContext& context);
[[nodiscard]] BuiltPolicy buildAclPolicy(Sink& sink, const Node& body, const PolicyContext& context);
[[nodiscard]] BuiltPolicy buildCorsPolicy(Sink& sink, const Node& body, const PolicyContext& context);
[[nodiscard]] BuiltPolicy buildRequestHeadersPolicy(Sink& sink, const Node& body, const PolicyContext& context);
[[nodiscard]] BuiltPolicy buildResponseHeadersPolicy(Sink& sink, const Node& body, const PolicyContext& context);
[[nodiscard]] BuiltPolicy buildCachePolicy(Sink& sink, const Node& body, const PolicyContext& context);
[[nodiscard]] BuiltPolicy buildAggregatePolicy(Sink& sink, const Node& body, const PolicyContext& context);
/// `response_projection` (projection_policy.cpp).
[[nodiscard]] BuiltPolicy buildResponseProjectionPolicy(Sink& sink, const Node& body, const PolicyContext& context);

// ---- access: consumers and identity headers --------------------------------------------------------

/// `consumers:` as read: the configs of the valid consumers and where each id was written.
struct ConsumersDraft {
  std::vector<ConsumerConfig> consumers;
  std::vector<Located> ids;  ///< every well-formed id, in file order (for references and suggestions)
};

/// Reads the top-level `consumers:` (consumers.cpp): ids unique, groups and keys checked by the
/// core (ConsumerRegistry, ApiKeyAuth), a key used twice reported with both places. Plain keys
/// are kept only as their SHA-256 digest.
[[nodiscard]] ConsumersDraft readConsumers(Sink& sink, const Node& list);

/// Reads the top-level `identity_headers:` into `spec` (identity_headers.cpp).
void readIdentityHeaders(Sink& sink, const Node& node, core::auth::IdentitySpec& spec);

/// "is the method upper case" check shared by the acl and cors builders: "" when `method` is a
/// token and not a lower-case spelling of a standard method ("get"), else the reason.
[[nodiscard]] std::string checkMethodName(const std::string& method);

}  // namespace gatelab::config::detail
