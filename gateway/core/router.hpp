#pragma once
// Router: picks the route for a request, compiled once from validated RouteSpecs.
//
// Matching (docs/routing.md has the full rules and how they compare with nginx, Kong and Envoy):
//  - the request path is normalized first (path.hpp); a path that does not normalize is a 400;
//  - a route matches when its path (exact / prefix on a segment boundary / RE2 full match), its
//    methods (exact, case-sensitive), its hosts (case-insensitive, port ignored, "*.example.com"
//    wildcards) and all its header predicates hold;
//  - among matching routes the winner is the greatest by, in order: explicit priority; path kind
//    (exact > regex > prefix); prefix length; number of conditions; host specificity (exact host >
//    longer wildcard > shorter wildcard); and finally the earliest in config order. The result is
//    the same as scanning every route with that order; the router only avoids looking at routes
//    that cannot win (hash tables for hosts, a segment trie for exact and prefix paths, one RE2
//    set pass to skip regex routes when none can match).
//
// Thread-safety: a Router is immutable after build(); `match` and `pickService` may be called
// concurrently from any number of threads. Copies share the compiled tables (cheap to copy); a
// moved-from Router may only be assigned to or destroyed.
// No exceptions on the request path, no clock, no RNG: weighted choices take a caller's draw.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/path.hpp"
#include "gateway/core/request.hpp"
#include "gateway/core/route_spec.hpp"

namespace gatelab::core {

/// Index value meaning "no route".
inline constexpr std::uint32_t kNoRoute = 0xFFFFFFFFu;

/// Longest Host (after removing the port) that can satisfy a route's `hosts` condition; DNS names
/// are at most 253 bytes. A longer Host only matches routes without `hosts`.
inline constexpr std::size_t kMaxHostLength = 255;

/// Most header predicates one route may have (keeps the priority key exact).
inline constexpr std::size_t kMaxHeaderPredicates = 1024;

enum class MatchStatus : std::uint8_t {
  kMatched,   ///< forward to the route's service
  kNotFound,  ///< no route matches: the host answers 404 (Kong and Envoy do the same)
  kBadPath,   ///< the path does not normalize (see RouteMatch::pathStatus): the host answers 400
};

/// Stable lower-case identifier: "matched", "not_found", "bad_path".
const char* toString(MatchStatus status) noexcept;

/// The router's decision for one request. The string views point into the request's path (when it
/// was normal already), the caller's scratch string or a static "/", so they live as long as the
/// request's path and that scratch are left untouched.
struct RouteMatch {
  MatchStatus status = MatchStatus::kNotFound;
  PathStatus pathStatus = PathStatus::kOk;  ///< why the path was rejected when kBadPath
  std::uint32_t routeIndex = kNoRoute;      ///< index into Router::routes() when kMatched
  const RouteSpec* route = nullptr;         ///< the matched route (owned by the Router)
  std::string_view normalizedPath;          ///< empty when kBadPath
  /// The path to send upstream (query not included): the normalized path, minus the matched
  /// prefix when the route is a prefix route with stripPath (never empty: at least "/"). Exact and
  /// regex routes never strip. Empty unless kMatched.
  std::string_view upstreamPath;

  [[nodiscard]] bool matched() const noexcept { return status == MatchStatus::kMatched; }
};

struct RouterBuild;

class Router {
 public:
  /// An empty router: every well-formed request is kNotFound.
  Router();

  /// Compiles `routes` (in config order: the order is the final tie-break). Never throws on bad
  /// input (only std::bad_alloc): every problem found is reported, prefixed with the route's
  /// position and name, and then no router is returned. Checked: empty or duplicate names, paths
  /// that do not normalize, regexes RE2 rejects, empty methods, malformed hosts (ports, misplaced
  /// '*'), empty header names, `in` predicates without values, no services or zero total weight.
  /// Exact and prefix paths are stored normalized. Complexity: O(total size of the specs) plus
  /// regex compilation.
  static RouterBuild build(std::vector<RouteSpec> routes);

  /// Normalizes `request.path` into `pathScratch` (unless it is normal already: isNormalPath) and
  /// finds the winning route; RouteMatch::normalizedPath then views `request.path` or
  /// `pathScratch`. `pathScratch` may be overwritten; reuse one per thread/session to avoid
  /// allocation (none once it is warm).
  /// Cost: O(path length + Host length) hashing, one table probe per path segment (per matching
  /// host group), one RE2 set pass if there are regex routes, and individual RE2 matches only when
  /// that pass says some regex matches; otherwise largely independent of the number of routes
  /// (~0.2 us for 1,000 routes, see docs/routing.md).
  [[nodiscard]] RouteMatch match(const RequestView& request,
                                 std::string& pathScratch) const noexcept;

  /// As match(), for a path the caller has already normalized with normalizePath (precondition;
  /// a path not starting with '/' gives kBadPath). `request.path` is ignored.
  [[nodiscard]] RouteMatch matchNormalized(const RequestView& request,
                                           std::string_view normalizedPath) const noexcept;

  /// Picks one of route `routeIndex`'s services, in proportion to the weights, from `draw`, a
  /// uniformly distributed 64-bit value supplied by the caller (the simulator's seeded RNG, the
  /// proxy's per-thread generator). Returns nullptr if `routeIndex` is not a valid index.
  /// O(log number of services).
  [[nodiscard]] const WeightedService* pickService(std::uint32_t routeIndex,
                                                   std::uint64_t draw) const noexcept;

  /// The compiled routes, in config order (paths of exact/prefix routes normalized).
  [[nodiscard]] std::span<const RouteSpec> routes() const noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return routes().size(); }

 private:
  struct Impl;
  explicit Router(std::shared_ptr<const Impl> impl) noexcept;
  std::shared_ptr<const Impl> impl_;
};

/// Result of Router::build: a router, or every error found.
struct RouterBuild {
  std::optional<Router> router;     ///< set exactly when `errors` is empty
  std::vector<std::string> errors;  ///< e.g. "route #3 'users': invalid path regex: missing )"

  [[nodiscard]] bool ok() const noexcept { return router.has_value(); }
};

/// Index of the service `draw` selects among `services`, in proportion to their weights: the
/// draw is mapped onto [0, total weight) by a 64x64->128-bit multiply (no modulo bias worth
/// speaking of) and the first service whose cumulative weight exceeds it wins; zero-weight
/// services are never chosen. Returns services.size() when the total weight is 0. O(n).
std::size_t pickWeighted(std::span<const WeightedService> services, std::uint64_t draw) noexcept;

}  // namespace gatelab::core
