#pragma once
// INTERNAL to gateway/config: builders for each section of the config file. Each reads one part
// of the YAML tree, reports every problem it finds to the Sink, and returns a draft holding the
// typed values plus the positions the cross-field checks (loader.cpp) need.

#include <cstddef>
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
};

/// Reads `routes:`; one draft per list item that is a mapping.
[[nodiscard]] std::vector<RouteDraft> readRoutes(Sink& sink, const Node& list);

// ---- policies ---------------------------------------------------------------------------------

/// What a policy builder knows about where the policy sits.
struct PolicyContext {
  std::string routeName;  ///< empty when the route's name is missing or invalid
  std::size_t kindIndex;  ///< index among the route's policies of the same kind
  std::size_t kindCount;  ///< number of the route's policies of the same kind
};

struct BuiltPolicy {
  std::optional<PolicySpec> spec;  ///< set when the policy is valid
  std::optional<Located> name;     ///< its name (explicit or default), when known
  std::optional<Located> redisStore;  ///< where it says `store: redis` (needs a top-level redis section)
};

/// Builds one policy of a kind from its body (the mapping under the kind's key).
using PolicyBuilder = BuiltPolicy (*)(Sink& sink, const Node& body, const PolicyContext& context);

struct PolicyKind {
  std::string_view name;  ///< the key in `policies: - KIND: {...}`
  PolicyBuilder build;
};

/// Every policy kind the config understands. New kinds register here.
[[nodiscard]] std::span<const PolicyKind> policyKinds() noexcept;

/// The `rate_limit` builder (rate_limit_policy.cpp).
[[nodiscard]] BuiltPolicy buildRateLimitPolicy(Sink& sink, const Node& body, const PolicyContext& context);

}  // namespace gatelab::config::detail
