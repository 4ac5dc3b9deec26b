// Tests for Router: matching rules, priority order, strip_path, weighted split, build errors, and
// the equivalence of the indexed lookup with a brute-force scan of every route.

#include "gateway/core/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace gatelab::core {
namespace {

// ---- helpers ----------------------------------------------------------------------------------

RouteSpec route(std::string name, PathMatch kind, std::string path) {
  RouteSpec r;
  r.services = {{name + "-svc", 1}};
  r.name = std::move(name);
  r.pathKind = kind;
  r.path = std::move(path);
  return r;
}
RouteSpec prefix(std::string name, std::string path) {
  return route(std::move(name), PathMatch::kPrefix, std::move(path));
}
RouteSpec exact(std::string name, std::string path) {
  return route(std::move(name), PathMatch::kExact, std::move(path));
}
RouteSpec regex(std::string name, std::string path) {
  return route(std::move(name), PathMatch::kRegex, std::move(path));
}
RouteSpec withHosts(RouteSpec r, std::vector<std::string> hosts) {
  r.hosts = std::move(hosts);
  return r;
}
RouteSpec withMethods(RouteSpec r, std::vector<std::string> methods) {
  r.methods = std::move(methods);
  return r;
}
RouteSpec withPriority(RouteSpec r, std::int32_t priority) {
  r.priority = priority;
  return r;
}
RouteSpec withHeader(RouteSpec r, HeaderPredicate predicate) {
  r.headers.push_back(std::move(predicate));
  return r;
}
RouteSpec stripped(RouteSpec r) {
  r.stripPath = true;
  return r;
}
HeaderPredicate header(std::string name, HeaderPredicate::Kind kind,
                       std::vector<std::string> values = {}, std::string re = {}) {
  HeaderPredicate p;
  p.name = std::move(name);
  p.kind = kind;
  p.values = std::move(values);
  p.regex = std::move(re);
  return p;
}

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const std::string& e : errors) out += e + "\n";
  return out;
}

Router mustBuild(std::vector<RouteSpec> routes) {
  RouterBuild built = Router::build(std::move(routes));
  EXPECT_TRUE(built.ok()) << joined(built.errors);
  return built.ok() ? *built.router : Router();
}

// A request with owned storage; view() points into it.
struct Req {
  std::string method = "GET";
  std::string path = "/";
  std::string host;
  std::vector<std::pair<std::string, std::string>> headerStore;
  std::vector<Header> headers;

  Req(std::string m, std::string p, std::string h = {},
      std::vector<std::pair<std::string, std::string>> hs = {})
      : method(std::move(m)), path(std::move(p)), host(std::move(h)), headerStore(std::move(hs)) {}

  RequestView view() {
    headers.clear();
    for (const auto& [name, value] : headerStore) headers.push_back(Header{name, value});
    RequestView v;
    v.method = method;
    v.path = path;
    v.host = host;
    v.headers = headers;
    return v;
  }
};

// Name of the matched route, or "404" / "400".
std::string outcome(const Router& router, Req request) {
  std::string scratch;
  const RouteMatch m = router.match(request.view(), scratch);
  switch (m.status) {
    case MatchStatus::kMatched: return m.route->name;
    case MatchStatus::kNotFound: return "404";
    case MatchStatus::kBadPath: return "400";
  }
  return "?";
}

// ---- matching rules ----------------------------------------------------------------------------

struct MatchCase {
  const char* property;
  Req request;
  const char* expected;  // route name, "404" or "400"
};

void expectCases(const Router& router, const std::vector<MatchCase>& cases) {
  for (const MatchCase& c : cases) {
    EXPECT_EQ(outcome(router, c.request), c.expected)
        << c.property << " (" << c.request.method << " " << c.request.host << c.request.path << ")";
  }
}

TEST(RouterPath, PrefixMatchesOnSegmentBoundaries) {
  const Router router = mustBuild({prefix("api", "/api"), prefix("api-slash", "/x/"),
                                   exact("exact", "/e"), regex("re", "/r/[0-9]+")});
  expectCases(router, {
      {"prefix matches itself", {"GET", "/api"}, "api"},
      {"prefix matches with trailing slash", {"GET", "/api/"}, "api"},
      {"prefix matches a sub-path", {"GET", "/api/users/1"}, "api"},
      {"prefix does not match a longer segment", {"GET", "/apix"}, "404"},
      {"prefix is case-sensitive", {"GET", "/API"}, "404"},
      {"slash-terminated prefix needs the slash", {"GET", "/x"}, "404"},
      {"slash-terminated prefix matches the slash", {"GET", "/x/"}, "api-slash"},
      {"slash-terminated prefix matches below", {"GET", "/x/y"}, "api-slash"},
      {"exact matches only itself", {"GET", "/e"}, "exact"},
      {"exact does not match a sub-path", {"GET", "/e/f"}, "404"},
      {"exact does not match a trailing slash", {"GET", "/e/"}, "404"},
      {"regex must match the whole path", {"GET", "/r/123"}, "re"},
      {"regex is not a search", {"GET", "/r/123/x"}, "404"},
      {"regex sees the normalized path", {"GET", "/r/./%31%32"}, "re"},
  });
}

TEST(RouterPath, RootPrefixMatchesEverything) {
  const Router router = mustBuild({prefix("all", "/")});
  expectCases(router, {
      {"root", {"GET", "/"}, "all"},
      {"deep path", {"GET", "/a/b/c/"}, "all"},
      {"encoded slash", {"GET", "/a%2fb"}, "all"},
  });
}

// The motivating security property: a policy attached to the /admin route sees every request
// that reaches /admin, however the path is spelled.
TEST(RouterPath, AdminRouteCannotBeBypassed) {
  const Router router = mustBuild({prefix("admin", "/admin"), prefix("api", "/api"),
                                   prefix("public", "/")});
  expectCases(router, {
      {"plain", {"GET", "/admin"}, "admin"},
      {"dot-dot through another route", {"GET", "/api/../admin"}, "admin"},
      {"double slash", {"GET", "//admin"}, "admin"},
      {"encoded letter", {"GET", "/%61dmin"}, "admin"},
      {"encoded upper-case letters", {"GET", "/%61%64%6D%69%6E/users"}, "admin"},
      {"trailing dot segment", {"GET", "/admin/."}, "admin"},
      {"dot segment and slash", {"GET", "/admin/./"}, "admin"},
      {"leading dot segment", {"GET", "/./admin"}, "admin"},
      {"mixed-case encoded dots", {"GET", "/api/%2E%2e/admin"}, "admin"},
      {"encoded climb above root is a 400", {"GET", "/%2e%2e/admin"}, "400"},
      {"climb above root is a 400", {"GET", "/../admin"}, "400"},
      {"deep climb above root is a 400", {"GET", "/a/../../admin"}, "400"},
      {"bad escape is a 400", {"GET", "/admin%zz"}, "400"},
      {"encoded NUL is a 400", {"GET", "/admin%00"}, "400"},
      {"encoded slash is not a separator", {"GET", "/admin%2fx"}, "public"},
  });
}

TEST(RouterPath, RoutePathsAreNormalizedAtBuild) {
  const Router router = mustBuild({prefix("users", "//api/./v1/%75sers"), exact("e", "/%41")});
  EXPECT_EQ(router.routes()[0].path, "/api/v1/users");
  EXPECT_EQ(router.routes()[1].path, "/A");
  expectCases(router, {
      {"normalized prefix matches", {"GET", "/api/v1/users/7"}, "users"},
      {"normalized exact matches", {"GET", "/A"}, "e"},
  });
}

TEST(RouterMethods, ExactAndCaseSensitive) {
  const Router router = mustBuild({withMethods(prefix("read", "/r"), {"GET"}),
                                   withMethods(prefix("both", "/b"), {"GET", "HEAD"}),
                                   prefix("any", "/a")});
  expectCases(router, {
      {"listed method matches", {"GET", "/r"}, "read"},
      {"HEAD does not imply GET", {"HEAD", "/r"}, "404"},
      {"methods are case-sensitive", {"get", "/r"}, "404"},
      {"unlisted method does not match", {"POST", "/r"}, "404"},
      {"HEAD matches when listed", {"HEAD", "/b"}, "both"},
      {"no methods means any method", {"PURGE", "/a"}, "any"},
  });
}

TEST(RouterHosts, CaseInsensitivePortlessAndWildcards) {
  const Router router = mustBuild({
      withHosts(prefix("exact", "/"), {"API.example.com"}),
      withHosts(prefix("wild", "/"), {"*.example.com"}),
      withHosts(prefix("v6", "/"), {"[::1]"}),
      withHosts(prefix("v4", "/"), {"127.0.0.1"}),
  });
  expectCases(router, {
      {"exact host", {"GET", "/", "api.example.com"}, "exact"},
      {"host is case-insensitive", {"GET", "/", "Api.EXAMPLE.com"}, "exact"},
      {"port is ignored", {"GET", "/", "api.example.com:8443"}, "exact"},
      {"trailing dot is ignored", {"GET", "/", "api.example.com."}, "exact"},
      {"wildcard matches one label", {"GET", "/", "a.example.com"}, "wild"},
      {"wildcard matches several labels", {"GET", "/", "a.b.example.com:80"}, "wild"},
      {"wildcard does not match the bare domain", {"GET", "/", "example.com"}, "404"},
      {"wildcard needs a label boundary", {"GET", "/", "badexample.com"}, "404"},
      {"wildcard does not match an empty label", {"GET", "/", ".example.com"}, "404"},
      {"bracketed IPv6 with port", {"GET", "/", "[::1]:8080"}, "v6"},
      {"bracketed IPv6 without port", {"GET", "/", "[::1]"}, "v6"},
      {"unbracketed IPv6 kept whole", {"GET", "/", "::1"}, "v6"},
      {"IPv4 with port", {"GET", "/", "127.0.0.1:80"}, "v4"},
      {"missing host matches no hosts route", {"GET", "/", ""}, "404"},
      {"unterminated bracket matches nothing", {"GET", "/", "[::1"}, "404"},
      {"other host", {"GET", "/", "example.org"}, "404"},
      {"over-long host matches no hosts route",
       {"GET", "/", std::string(300, 'a') + ".example.com"}, "404"},
  });
}

TEST(RouterHeaders, Predicates) {
  using Kind = HeaderPredicate::Kind;
  const Router router = mustBuild({
      withHeader(prefix("present", "/p"), header("X-Canary", Kind::kPresent)),
      withHeader(prefix("absent", "/a"), header("x-canary", Kind::kAbsent)),
      withHeader(prefix("in", "/i"), header("X-Tenant", Kind::kIn, {"t1", "t2"})),
      withHeader(prefix("re", "/r"), header("X-Version", Kind::kRegex, {}, "v[0-9]+")),
      withHeader(withHeader(prefix("all", "/all"), header("A", Kind::kPresent)),
                 header("B", Kind::kPresent)),
  });
  expectCases(router, {
      {"present holds", {"GET", "/p", "", {{"x-canary", ""}}}, "present"},
      {"present fails without header", {"GET", "/p"}, "404"},
      {"absent holds without header", {"GET", "/a"}, "absent"},
      {"absent fails with header (any case)", {"GET", "/a", "", {{"X-CANARY", "1"}}}, "404"},
      {"in holds for a listed value", {"GET", "/i", "", {{"x-tenant", "t2"}}}, "in"},
      {"in is case-sensitive on values", {"GET", "/i", "", {{"x-tenant", "T1"}}}, "404"},
      {"in holds if any repeated header matches",
       {"GET", "/i", "", {{"X-Tenant", "t9"}, {"X-Tenant", "t1"}}}, "in"},
      {"in fails without header", {"GET", "/i"}, "404"},
      {"regex full match holds", {"GET", "/r", "", {{"x-version", "v12"}}}, "re"},
      {"regex must match the whole value", {"GET", "/r", "", {{"x-version", "v12-beta"}}}, "404"},
      {"all predicates must hold", {"GET", "/all", "", {{"a", "1"}}}, "404"},
      {"all predicates hold", {"GET", "/all", "", {{"a", "1"}, {"b", "2"}}}, "all"},
  });
}

// ---- priority ----------------------------------------------------------------------------------

struct PriorityCase {
  const char* property;
  std::vector<RouteSpec> routes;
  Req request;
  const char* expected;
};

TEST(RouterPriority, OrderIsDeterministic) {
  const std::vector<PriorityCase> cases = {
      {"explicit priority beats an exact path",
       {exact("exact", "/a/b"), withPriority(prefix("prio", "/"), 1)}, {"GET", "/a/b"}, "prio"},
      {"negative priority loses to the default",
       {withPriority(exact("neg", "/a"), -1), prefix("root", "/")}, {"GET", "/a"}, "root"},
      {"exact beats regex", {regex("re", "/a/.*"), exact("exact", "/a/b")}, {"GET", "/a/b"},
       "exact"},
      {"regex beats a longer prefix", {prefix("long", "/a/b/c"), regex("re", "/a/.*")},
       {"GET", "/a/b/c/d"}, "re"},
      {"longest prefix wins", {prefix("short", "/a"), prefix("long", "/a/b")}, {"GET", "/a/b/c"},
       "long"},
      {"slash-terminated prefix is longer", {prefix("bare", "/a"), prefix("slash", "/a/")},
       {"GET", "/a/x"}, "slash"},
      {"more conditions beat fewer",
       {withHosts(prefix("host", "/a"), {"h.com"}),
        withMethods(withHosts(prefix("host+method", "/a"), {"h.com"}), {"GET"})},
       {"GET", "/a", "h.com"}, "host+method"},
      {"prefix length beats conditions",
       {withMethods(withHosts(prefix("short+conds", "/a"), {"h.com"}), {"GET"}),
        prefix("long", "/a/b")},
       {"GET", "/a/b", "h.com"}, "long"},
      {"each header predicate counts as a condition",
       {withHosts(prefix("host", "/"), {"h.com"}),
        withHeader(withHeader(prefix("two-headers", "/"),
                              header("a", HeaderPredicate::Kind::kPresent)),
                   header("b", HeaderPredicate::Kind::kAbsent))},
       {"GET", "/", "h.com", {{"a", "1"}}}, "two-headers"},
      {"exact host beats wildcard host",
       {withHosts(prefix("wild", "/"), {"*.example.com"}),
        withHosts(prefix("exact", "/"), {"a.example.com"})},
       {"GET", "/", "a.example.com"}, "exact"},
      {"longer wildcard beats shorter wildcard",
       {withHosts(prefix("short", "/"), {"*.com"}), withHosts(prefix("long", "/"), {"*.b.com"})},
       {"GET", "/", "a.b.com"}, "long"},
      {"a route's best host counts",
       {withHosts(prefix("exact-other", "/"), {"x.com", "*.a.com"}),
        withHosts(prefix("both", "/"), {"q.a.com", "*.a.com"})},
       {"GET", "/", "q.a.com"}, "both"},
      {"config order breaks ties", {prefix("first", "/a"), prefix("second", "/a")},
       {"GET", "/a"}, "first"},
      {"config order among regexes", {regex("first", "/a.*"), regex("second", "/.*")},
       {"GET", "/ab"}, "first"},
      {"a better route that does not hold is skipped",
       {withMethods(exact("post-only", "/a"), {"POST"}), prefix("fallback", "/")},
       {"GET", "/a"}, "fallback"},
  };
  for (const PriorityCase& c : cases) {
    const Router router = mustBuild(c.routes);
    EXPECT_EQ(outcome(router, c.request), c.expected) << c.property;
  }
}

// ---- results: strip_path, 404, 400 -------------------------------------------------------------

TEST(RouterResult, StripPath) {
  const Router router = mustBuild({
      stripped(prefix("svc", "/service")),
      stripped(prefix("slash", "/slash/")),
      stripped(prefix("root", "/")),
      stripped(exact("exact", "/service/exact")),
      stripped(regex("re", "/re/[a-z]+")),
      prefix("keep", "/keep"),
  });
  struct StripCase {
    const char* property;
    const char* path;
    const char* upstream;
  };
  const StripCase cases[] = {
      {"prefix removed", "/service/path/to/resource", "/path/to/resource"},
      {"bare prefix leaves root", "/service", "/"},
      {"prefix with trailing slash leaves root", "/service/", "/"},
      {"slash-terminated prefix keeps a leading slash", "/slash/x/y", "/x/y"},
      {"slash-terminated prefix on itself leaves root", "/slash/", "/"},
      {"root prefix strips nothing visible", "/other/x", "/other/x"},
      {"exact routes never strip", "/service/exact", "/service/exact"},
      {"regex routes never strip", "/re/abc", "/re/abc"},
      {"strip_path off keeps the path", "/keep/x", "/keep/x"},
      {"upstream path is normalized", "/service//a/./b/../c", "/a/c"},
      {"prefix stripped only once", "/service/service/x", "/service/x"},
  };
  std::string scratch;
  for (const StripCase& c : cases) {
    Req req("GET", c.path);
    const RouteMatch m = router.match(req.view(), scratch);
    ASSERT_TRUE(m.matched()) << c.property;
    EXPECT_EQ(m.upstreamPath, c.upstream) << c.property;
  }
}

TEST(RouterResult, NotFoundAndBadPathAreValues) {
  const Router router = mustBuild({exact("only", "/only")});
  std::string scratch;

  Req missing("GET", "/x/../nope");
  const RouteMatch notFound = router.match(missing.view(), scratch);
  EXPECT_EQ(notFound.status, MatchStatus::kNotFound);
  EXPECT_EQ(notFound.routeIndex, kNoRoute);
  EXPECT_EQ(notFound.route, nullptr);
  EXPECT_EQ(notFound.normalizedPath, "/nope");  // still useful for access logs
  EXPECT_TRUE(notFound.upstreamPath.empty());

  Req bad("GET", "/..");
  const RouteMatch badPath = router.match(bad.view(), scratch);
  EXPECT_EQ(badPath.status, MatchStatus::kBadPath);
  EXPECT_EQ(badPath.pathStatus, PathStatus::kAboveRoot);
  EXPECT_EQ(badPath.route, nullptr);

  Req ok("GET", "/only");
  const RouteMatch matched = router.match(ok.view(), scratch);
  EXPECT_EQ(matched.status, MatchStatus::kMatched);
  EXPECT_EQ(matched.routeIndex, 0U);
  EXPECT_EQ(matched.route, &router.routes()[0]);

  EXPECT_STREQ(toString(MatchStatus::kMatched), "matched");
  EXPECT_STREQ(toString(MatchStatus::kNotFound), "not_found");
  EXPECT_STREQ(toString(MatchStatus::kBadPath), "bad_path");
}

TEST(RouterResult, MatchNormalizedSkipsNormalization) {
  const Router router = mustBuild({stripped(prefix("api", "/api"))});
  Req req("GET", "ignored");
  const RouteMatch m = router.matchNormalized(req.view(), "/api/v1");
  ASSERT_TRUE(m.matched());
  EXPECT_EQ(m.upstreamPath, "/v1");
  EXPECT_EQ(router.matchNormalized(req.view(), "").status, MatchStatus::kBadPath);
  EXPECT_EQ(router.matchNormalized(req.view(), "api").status, MatchStatus::kBadPath);
}

TEST(RouterResult, EmptyRouterFindsNothing) {
  const Router empty;
  EXPECT_EQ(empty.size(), 0U);
  EXPECT_EQ(outcome(empty, {"GET", "/"}), "404");
  EXPECT_EQ(outcome(empty, {"GET", "/%zz"}), "400");
  EXPECT_EQ(empty.pickService(0, 0), nullptr);
}

TEST(RouterResult, MatchReusesScratchCapacity) {
  const Router router = mustBuild({prefix("api", "/api")});
  std::string scratch;
  scratch.reserve(128);
  const char* before = scratch.data();
  Req req("GET", "/api/v1/users/42");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(router.match(req.view(), scratch).matched());
  EXPECT_EQ(scratch.data(), before);
}

// ---- build errors ------------------------------------------------------------------------------

struct BuildErrorCase {
  const char* property;
  RouteSpec route;
  const char* messagePart;
};

TEST(RouterBuildErrors, BadInputIsReportedNotFatal) {
  using Kind = HeaderPredicate::Kind;
  RouteSpec noServices = prefix("no-services", "/");
  noServices.services.clear();
  RouteSpec zeroWeights = prefix("zero", "/");
  zeroWeights.services = {{"a", 0}, {"b", 0}};
  RouteSpec emptyName = prefix("", "/");
  emptyName.services = {{"s", 1}};

  const std::vector<BuildErrorCase> cases = {
      {"invalid regex", regex("re", "/a/(unclosed"), "invalid path regex"},
      {"empty regex", regex("re", ""), "must not be empty"},
      {"path above root", prefix("p", "/../x"), "above_root"},
      {"relative path", exact("p", "relative"), "not_absolute"},
      {"empty name", emptyName, "name must not be empty"},
      {"empty method", withMethods(prefix("m", "/"), {""}), "empty method"},
      {"host with port", withHosts(prefix("h", "/"), {"example.com:8080"}), "port"},
      {"wildcard with port", withHosts(prefix("h", "/"), {"*.example.com:80"}), "port"},
      {"misplaced star", withHosts(prefix("h", "/"), {"a.*.com"}), "leftmost label"},
      {"lone star", withHosts(prefix("h", "/"), {"*"}), "leftmost label"},
      {"empty host", withHosts(prefix("h", "/"), {""}), "empty host"},
      {"wildcard without domain", withHosts(prefix("h", "/"), {"*."}), "empty host"},
      {"unterminated IPv6", withHosts(prefix("h", "/"), {"[::1"}), "IPv6"},
      {"empty header name", withHeader(prefix("h", "/"), header("", Kind::kPresent)),
       "empty name"},
      {"in without values", withHeader(prefix("h", "/"), header("x", Kind::kIn)),
       "at least one value"},
      {"bad header regex", withHeader(prefix("h", "/"), header("x", Kind::kRegex, {}, "(")),
       "invalid regex"},
      {"no services", noServices, "no services"},
      {"zero total weight", zeroWeights, "sum to 0"},
  };
  for (const BuildErrorCase& c : cases) {
    const RouterBuild built = Router::build({c.route});
    EXPECT_FALSE(built.ok()) << c.property;
    ASSERT_EQ(built.errors.size(), 1U) << c.property << "\n" << joined(built.errors);
    EXPECT_NE(built.errors[0].find(c.messagePart), std::string::npos)
        << c.property << ": " << built.errors[0];
    EXPECT_EQ(built.errors[0].rfind("routes[0]", 0), 0U) << built.errors[0];
  }
}

TEST(RouterBuildErrors, AllErrorsAreCollected) {
  const RouterBuild built = Router::build({
      prefix("dup", "/a"),
      prefix("dup", "/b"),
      regex("bad", "("),
      withHosts(prefix("host", "/"), {"x:1"}),
  });
  ASSERT_FALSE(built.ok());
  ASSERT_EQ(built.errors.size(), 3U) << joined(built.errors);
  EXPECT_NE(built.errors[0].find("routes[1] 'dup': duplicate route name (first used by routes[0])"),
            std::string::npos)
      << built.errors[0];
  EXPECT_NE(built.errors[1].find("routes[2] 'bad'"), std::string::npos);
  EXPECT_NE(built.errors[2].find("routes[3] 'host'"), std::string::npos);
}

TEST(RouterBuildErrors, EmptyTableIsValid) {
  const RouterBuild built = Router::build({});
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built.router->size(), 0U);
}

// ---- weighted services -------------------------------------------------------------------------

TEST(RouterWeights, SplitConvergesToWeights) {
  RouteSpec canary = prefix("users", "/users");
  canary.services = {{"stable", 90}, {"canary", 10}};
  RouteSpec spread = prefix("spread", "/spread");
  spread.services = {{"a", 1}, {"b", 2}, {"drained", 0}, {"c", 3}, {"d", 4}};
  const Router router = mustBuild({canary, spread});

  std::mt19937_64 rng(42);  // fixed seed: deterministic
  constexpr int kDraws = 100000;
  for (std::uint32_t routeIndex = 0; routeIndex < 2; ++routeIndex) {
    const std::vector<WeightedService>& services = router.routes()[routeIndex].services;
    std::vector<int> counts(services.size(), 0);
    double total = 0;
    for (const WeightedService& s : services) total += s.weight;
    for (int i = 0; i < kDraws; ++i) {
      const std::uint64_t draw = rng();
      const WeightedService* picked = router.pickService(routeIndex, draw);
      ASSERT_NE(picked, nullptr);
      const auto index = static_cast<std::size_t>(picked - services.data());
      ASSERT_LT(index, services.size());
      ASSERT_EQ(pickWeighted(services, draw), index);  // free function agrees
      ++counts[index];
    }
    for (std::size_t s = 0; s < services.size(); ++s) {
      const double observed = static_cast<double>(counts[s]) / kDraws;
      const double expected = services[s].weight / total;
      EXPECT_NEAR(observed, expected, 0.01) << services[s].service;
    }
  }
}

TEST(RouterWeights, DrawBoundsAndInvalidIndex) {
  RouteSpec r = prefix("r", "/");
  r.services = {{"low", 1}, {"zero", 0}, {"high", 1}};
  const Router router = mustBuild({r});
  EXPECT_EQ(router.pickService(0, 0)->service, "low");
  EXPECT_EQ(router.pickService(0, ~std::uint64_t{0})->service, "high");
  EXPECT_EQ(router.pickService(0, std::uint64_t{1} << 63)->service, "high");  // exactly half
  EXPECT_EQ(router.pickService(1, 0), nullptr);
  EXPECT_EQ(router.pickService(kNoRoute, 0), nullptr);

  const std::vector<WeightedService> none = {{"x", 0}};
  EXPECT_EQ(pickWeighted(none, 123), none.size());
  EXPECT_EQ(pickWeighted({}, 123), 0U);
}

// ---- the index is exactly a full scan ----------------------------------------------------------

// A reference router written straight from docs/routing.md: scan every route, keep the best by
// (priority, path kind, path length, conditions, host rank), earliest in config order on ties.
class ReferenceRouter {
 public:
  explicit ReferenceRouter(std::vector<RouteSpec> routes) : routes_(std::move(routes)) {
    std::string normalized;
    for (RouteSpec& r : routes_) {
      if (r.pathKind == PathMatch::kRegex) {
        regexes_.emplace_back(std::regex(r.path));
      } else {
        EXPECT_EQ(normalizePath(r.path, normalized), PathStatus::kOk);
        r.path = normalized;
        regexes_.emplace_back(std::nullopt);
      }
    }
  }

  // Returns (route index or kNoRoute, upstream path).
  std::pair<std::uint32_t, std::string> match(const RequestView& request) const {
    std::string path;
    if (normalizePath(request.path, path) != PathStatus::kOk) return {kNoRoute, "400"};
    const std::string host = canonicalHost(request.host);
    using Key = std::tuple<std::int32_t, int, std::size_t, std::size_t, std::uint64_t>;
    std::optional<Key> bestKey;
    std::uint32_t best = kNoRoute;
    for (std::uint32_t i = 0; i < routes_.size(); ++i) {
      const RouteSpec& r = routes_[i];
      if (!pathMatches(i, path)) continue;
      if (!r.methods.empty() &&
          std::find(r.methods.begin(), r.methods.end(), request.method) == r.methods.end()) {
        continue;
      }
      const std::optional<std::uint64_t> hostRank = hostMatches(r, host);
      if (!hostRank) continue;
      if (!headersMatch(r, request)) continue;
      const int kind = r.pathKind == PathMatch::kExact ? 2 : r.pathKind == PathMatch::kRegex ? 1 : 0;
      const std::size_t length = r.pathKind == PathMatch::kRegex ? 0 : r.path.size();
      const std::size_t conditions =
          (r.hosts.empty() ? 0U : 1U) + (r.methods.empty() ? 0U : 1U) + r.headers.size();
      const Key key{r.priority.value_or(0), kind, length, conditions, *hostRank};
      if (!bestKey || key > *bestKey) {  // strictly greater: earlier routes win ties
        bestKey = key;
        best = i;
      }
    }
    if (best == kNoRoute) return {kNoRoute, "404"};
    const RouteSpec& r = routes_[best];
    std::string upstream = path;
    if (r.stripPath && r.pathKind == PathMatch::kPrefix) {
      upstream = path.substr(r.path.size());
      if (upstream.empty() || upstream.front() != '/') upstream = "/" + upstream;
    }
    return {best, upstream};
  }

 private:
  bool pathMatches(std::uint32_t i, const std::string& path) const {
    const RouteSpec& r = routes_[i];
    switch (r.pathKind) {
      case PathMatch::kExact:
        return path == r.path;
      case PathMatch::kPrefix:
        return path == r.path || (path.starts_with(r.path) &&
                                  (r.path.back() == '/' || path[r.path.size()] == '/'));
      case PathMatch::kRegex:
        return std::regex_match(path, *regexes_[i]);
    }
    return false;
  }

  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  static std::string canonicalHost(std::string_view raw) {
    std::string h(raw);
    if (!h.empty() && h[0] == '[') {
      const std::size_t close = h.find(']');
      if (close == std::string::npos) return {};
      h = h.substr(1, close - 1);
    } else if (std::count(h.begin(), h.end(), ':') == 1) {
      h = h.substr(0, h.find(':'));
    }
    if (!h.empty() && h.back() == '.') h.pop_back();
    if (h.size() > kMaxHostLength) return {};
    return lower(h);
  }

  // nullopt: the route's hosts condition fails; otherwise the host rank of the best entry.
  static std::optional<std::uint64_t> hostMatches(const RouteSpec& r, const std::string& host) {
    if (r.hosts.empty()) return 0;
    if (host.empty()) return std::nullopt;
    std::optional<std::uint64_t> rank;
    for (const std::string& raw : r.hosts) {
      std::string pattern = lower(raw);
      if (pattern.front() == '[') pattern = pattern.substr(1, pattern.size() - 2);
      std::uint64_t candidate = 0;
      if (pattern.starts_with("*.")) {
        const std::string suffix = pattern.substr(1);
        if (host.size() <= suffix.size() || !host.ends_with(suffix)) continue;
        candidate = 1 + suffix.size();
      } else {
        if (pattern != host) continue;
        candidate = 0xFFFFFFFFu;
      }
      rank = std::max(rank.value_or(0), candidate);
    }
    return rank;
  }

  static bool headersMatch(const RouteSpec& r, const RequestView& request) {
    for (const HeaderPredicate& p : r.headers) {
      std::vector<std::string_view> values;
      for (const Header& h : request.headers) {
        if (lower(std::string(h.name)) == lower(p.name)) values.push_back(h.value);
      }
      bool holds = false;
      switch (p.kind) {
        case HeaderPredicate::Kind::kPresent: holds = !values.empty(); break;
        case HeaderPredicate::Kind::kAbsent: holds = values.empty(); break;
        case HeaderPredicate::Kind::kIn:
          for (std::string_view v : values) {
            holds = holds || std::find(p.values.begin(), p.values.end(), v) != p.values.end();
          }
          break;
        case HeaderPredicate::Kind::kRegex:
          for (std::string_view v : values) {
            holds = holds || std::regex_match(std::string(v), std::regex(p.regex));
          }
          break;
      }
      if (!holds) return false;
    }
    return true;
  }

  std::vector<RouteSpec> routes_;
  std::vector<std::optional<std::regex>> regexes_;
};

template <class T>
const T& pickOne(std::mt19937_64& rng, const std::vector<T>& from) {
  return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
}

bool chance(std::mt19937_64& rng, double p) {
  return std::uniform_real_distribution<double>(0, 1)(rng) < p;
}

// Small vocabularies so that generated routes overlap a lot: that is where priority matters.
const std::vector<std::string> kSegments = {"api", "v1", "users", "admin", "a", "img.png"};
const std::vector<std::string> kRegexes = {"/api/v[0-9]+/.*", "/(a|admin)/.*", "/users/[0-9]+",
                                           ".*\\.png", "/a.*", "/.*"};
const std::vector<std::string> kRouteHosts = {"a.example.com", "*.example.com",
                                              "*.a.example.com", "example.com", "[::1]",
                                              "other.org", "*.org"};
const std::vector<std::string> kRequestHosts = {
    "a.example.com", "A.Example.COM:8080", "b.a.example.com", "example.com", "other.org",
    "[::1]:8080",    "::1",               "",                "x.a.example.com.", "b.example.com"};
const std::vector<std::string> kMethods = {"GET", "POST", "HEAD"};

RouteSpec randomRoute(std::mt19937_64& rng, std::size_t i) {
  RouteSpec r;
  r.name = "r" + std::to_string(i);
  r.services = {{"svc", 1}};
  const double kind = std::uniform_real_distribution<double>(0, 1)(rng);
  if (kind < 0.15) {
    r.pathKind = PathMatch::kRegex;
    r.path = pickOne(rng, kRegexes);
  } else {
    r.pathKind = kind < 0.4 ? PathMatch::kExact : PathMatch::kPrefix;
    r.path = "/";
    const auto depth = std::uniform_int_distribution<int>(0, 3)(rng);
    for (int d = 0; d < depth; ++d) r.path += pickOne(rng, kSegments) + (d + 1 < depth ? "/" : "");
    if (depth > 0 && chance(rng, 0.2)) r.path += "/";
  }
  if (chance(rng, 0.4)) {
    const auto n = std::uniform_int_distribution<int>(1, 2)(rng);
    for (int k = 0; k < n; ++k) r.hosts.push_back(pickOne(rng, kRouteHosts));
  }
  if (chance(rng, 0.3)) r.methods = {pickOne(rng, kMethods)};
  if (chance(rng, 0.2)) r.methods.push_back(pickOne(rng, kMethods));
  if (chance(rng, 0.25)) {
    using Kind = HeaderPredicate::Kind;
    const Kind kinds[] = {Kind::kPresent, Kind::kAbsent, Kind::kIn, Kind::kRegex};
    r.headers.push_back(header("X-Tenant", kinds[std::uniform_int_distribution<int>(0, 3)(rng)],
                               {"t1", "t2"}, "t[0-9]"));
  }
  if (chance(rng, 0.15)) r.priority = std::uniform_int_distribution<std::int32_t>(-2, 2)(rng);
  r.stripPath = chance(rng, 0.5);
  return r;
}

Req randomRequest(std::mt19937_64& rng) {
  static const std::vector<std::string> kNoise = {"", "", "", "/.", "/..", "//", "/%2e", "/x/.."};
  std::string path;
  const auto depth = std::uniform_int_distribution<int>(0, 4)(rng);
  for (int d = 0; d < depth; ++d) {
    path += "/" + pickOne(rng, kSegments);
    if (chance(rng, 0.1)) path += pickOne(rng, kNoise);
    if (chance(rng, 0.05)) path += "/" + std::to_string(rng() % 100);
  }
  if (path.empty() || chance(rng, 0.2)) path += "/";
  Req req(pickOne(rng, kMethods), path, pickOne(rng, kRequestHosts));
  const auto tenants = std::uniform_int_distribution<int>(0, 2)(rng);
  for (int t = 0; t < tenants; ++t) {
    req.headerStore.emplace_back(chance(rng, 0.5) ? "x-tenant" : "X-TENANT",
                                 chance(rng, 0.5) ? "t1" : "tx");
  }
  return req;
}

TEST(RouterEquivalence, IndexedLookupEqualsFullScan) {
  std::mt19937_64 rng(7);  // fixed seed: deterministic
  std::string scratch;
  int matched = 0;
  int compared = 0;
  for (int table = 0; table < 300; ++table) {
    const auto size = std::uniform_int_distribution<std::size_t>(1, 40)(rng);
    std::vector<RouteSpec> routes;
    for (std::size_t i = 0; i < size; ++i) routes.push_back(randomRoute(rng, i));
    const Router router = mustBuild(routes);
    const ReferenceRouter reference(routes);
    for (int q = 0; q < 40; ++q) {
      Req req = randomRequest(rng);
      const RequestView view = req.view();
      const RouteMatch got = router.match(view, scratch);
      const auto [wantIndex, wantUpstream] = reference.match(view);
      ++compared;
      ASSERT_EQ(got.routeIndex, wantIndex)
          << "table " << table << " request " << req.method << " " << req.host << req.path;
      if (got.matched()) {
        ++matched;
        ASSERT_EQ(got.upstreamPath, wantUpstream) << req.path;
      } else {
        ASSERT_EQ(got.status == MatchStatus::kBadPath ? "400" : "404", wantUpstream) << req.path;
      }
    }
  }
  EXPECT_EQ(compared, 12000);
  EXPECT_GT(matched, 3000);  // the generator must produce plenty of hits, not only 404s
}

// ---- concurrency -------------------------------------------------------------------------------

// A router is shared read-only between threads (run under TSan to check for data races).
TEST(RouterConcurrency, ConcurrentMatchesAgreeWithSequential) {
  std::mt19937_64 rng(99);
  std::vector<RouteSpec> routes;
  for (std::size_t i = 0; i < 60; ++i) routes.push_back(randomRoute(rng, i));
  const Router router = mustBuild(routes);
  std::vector<Req> requests;
  for (int i = 0; i < 500; ++i) requests.push_back(randomRequest(rng));
  std::vector<std::uint32_t> expected;
  std::string scratch;
  for (Req& r : requests) expected.push_back(router.match(r.view(), scratch).routeIndex);

  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Req> mine = requests;  // each thread owns its request storage and scratch
      std::string local;
      for (int round = 0; round < 20; ++round) {
        for (std::size_t i = 0; i < mine.size(); ++i) {
          if (router.match(mine[i].view(), local).routeIndex != expected[i]) {
            ++mismatches[static_cast<std::size_t>(t)];
          }
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace gatelab::core
