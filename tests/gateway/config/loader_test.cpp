// The loader: every kind of error with its exact path, line, column and message; several errors at
// once; the example configs load with the right values.
//
// Expected positions are computed from the YAML text itself (the line and column of an anchor
// substring), so each case states precisely which node the diagnostic must point at.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/loader.hpp"
#include "tests/gateway/config/config_test_support.hpp"

namespace gatelab::config {
namespace {

using namespace std::chrono_literals;
using core::HeaderPredicate;
using core::PathMatch;
using core::Rate;
using core::ratelimit::Algorithm;
using core::ratelimit::HeaderStyle;
using core::ratelimit::KeyComponent;
using core::ratelimit::KeyPart;
using core::ratelimit::LimitSpec;
using core::ratelimit::MissingKey;
using core::ratelimit::RateLimitPolicySpec;
using core::ratelimit::WindowAlign;
using ::testing::HasSubstr;

using test::dump;
using test::ErrorCase;
using test::expectError;
using test::findByPath;
using test::kFile;
using test::Pos;
using test::posOf;

// ---- fixtures: a valid skeleton the cases vary -------------------------------------------------

const std::string kServices =
    "version: 1\n"
    "services:\n"
    "  - name: users\n"
    "    targets: [http://127.0.0.1:3001]\n"
    "  - name: orders\n"
    "    targets: [http://127.0.0.1:3002]\n";

// A config with one route whose only policy is `- rate_limit: {BODY}`.
std::string withRateLimit(std::string_view body) {
  return kServices +
         "routes:\n"
         "  - name: r\n"
         "    match: {path_prefix: /a}\n"
         "    service: users\n"
         "    policies:\n"
         "      - rate_limit: {" +
         std::string(body) + "}\n";
}

// A config with one route made of the given lines (each indented under "  - ").
std::string withRoute(std::string_view routeBody) { return kServices + "routes:\n  - " + std::string(routeBody); }

constexpr std::string_view kRl = "routes[0].policies[0].rate_limit";

TEST(ConfigLoader, MinimalConfigLoads) {
  // A valid skeleton with a policy loads and has the documented defaults.
  const LoadResult r = loadConfigString(withRateLimit("algorithm: token_bucket, limit: 10/s"), kFile);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.diagnostics.empty());
  const GatewayConfig& c = *r.config;
  EXPECT_EQ(c.version, 1);
  EXPECT_EQ(c.listen, (HostPort{"127.0.0.1", 8080}));
  EXPECT_EQ(c.admin, (HostPort{"127.0.0.1", 9901}));
  EXPECT_EQ(c.source, kFile);
  ASSERT_EQ(c.services.size(), 2U);
  EXPECT_EQ(c.services[0].timeouts, kDefaultTimeouts);  // connect 60s, per_try 60s, no overall limit
  EXPECT_EQ(c.services[0].targets[0].weight, 1U);
  ASSERT_EQ(c.routes.size(), 1U);
  ASSERT_EQ(c.routes[0].policies.size(), 1U);
  const auto& p = std::get<RateLimitPolicySpec>(c.routes[0].policies[0]);
  EXPECT_EQ(p.name, "r.rate_limit");
  ASSERT_EQ(p.key.size(), 1U);
  EXPECT_EQ(p.key[0].part, KeyPart::kClientIp);
  EXPECT_EQ(p.onMissingKey, MissingKey::kClientIp);
  EXPECT_EQ(p.cost, 1U);
  EXPECT_EQ(p.rejectStatus, 429);
  EXPECT_FALSE(p.shadow);
  EXPECT_EQ(p.maxKeys, 100'000U);
  EXPECT_EQ(p.headers, HeaderStyle::kBoth);
  ASSERT_EQ(p.limits.size(), 1U);
  EXPECT_EQ(p.limits[0].algorithm, Algorithm::kTokenBucket);
  EXPECT_EQ(p.limits[0].rate, (Rate{10, 1s}));
  EXPECT_EQ(p.limits[0].burst, 10U);  // capacity defaults to the rate's count
}

// ---- rate_limit errors ------------------------------------------------------------------------

TEST(ConfigLoader, RateLimitErrors) {
  const std::vector<ErrorCase> cases = {
      // unknown period names the period and the allowed spellings
      {"unknown period", withRateLimit("algorithm: token_bucket, limit: 100/minute"), "routes[0].policies[0].rate_limit.limit",
       "100/minute", false, "invalid rate \"100/minute\": unknown period \"minute\""},
      // a missing required key points at the mapping itself
      {"missing algorithm", withRateLimit("limit: 10/s"), "routes[0].policies[0].rate_limit.algorithm",
       "{limit: 10/s", false, "missing required key \"algorithm\""},
      // a typo in a key is unknown, with a suggestion, and does not also report the key as missing
      {"did-you-mean algorithm", withRateLimit("algoritm: gcra, limit: 10/s"),
       "routes[0].policies[0].rate_limit.algoritm", "algoritm", false,
       "unknown key \"algoritm\" (did you mean 'algorithm'?)"},
      // a misspelled limits key is reported once, as unknown (regression: no "missing limit" too)
      {"did-you-mean limits", withRateLimit("algorithm: gcra, limts: [1/s]"), "routes[0].policies[0].rate_limit.limts",
       "limts", false, "unknown key \"limts\" (did you mean 'limits'?)"},
      // enum values get suggestions too
      {"unknown algorithm value", withRateLimit("algorithm: token-bucket, limit: 10/s"),
       "routes[0].policies[0].rate_limit.algorithm", "token-bucket", false,
       "unknown value \"token-bucket\" (did you mean 'token_bucket'?)"},
      // windows take no burst
      {"burst on a window", withRateLimit("algorithm: fixed_window, limit: 10/s, burst: 5"),
       "routes[0].policies[0].rate_limit.burst", "burst", false, "burst is not used by fixed_window"},
      // burst on sliding windows too
      {"burst on sliding log", withRateLimit("algorithm: sliding_window_log, limit: 10/s, burst: 5"),
       "routes[0].policies[0].rate_limit.burst", "burst", false, "burst is not used by sliding_window_log"},
      // limit and limits are exclusive
      {"limit and limits", withRateLimit("algorithm: gcra, limit: 10/s, limits: [10/s]"),
       "routes[0].policies[0].rate_limit.limits", "limits", false, "limit and limits cannot be combined"},
      // one of limit/limits is required
      {"no limit", withRateLimit("algorithm: gcra"), "routes[0].policies[0].rate_limit.limit", "{algorithm: gcra}", false,
       "missing required key \"limit\""},
      // two limits with the same period, spelled differently
      {"same period", withRateLimit("algorithm: token_bucket, limits: [100/min, 50/1m]"),
       "routes[0].policies[0].rate_limit.limits[1]", "50/1m", false, "two limits with the same period 1m"},
      // a shorter limit that a longer, stricter one makes unreachable
      {"never binds", withRateLimit("algorithm: token_bucket, limits: [10/s, 5/min]"),
       "routes[0].policies[0].rate_limit.limits[0]", "10/s", false,
       "limit 10/s can never be reached: limit 5/min"},
      // a longer limit above all the shorter one lets through in its period (1 + 1*61 < 100)
      {"longer never binds", withRateLimit("algorithm: token_bucket, limits: [1/s, 100/min]"),
       "routes[0].policies[0].rate_limit.limits[1]", "100/min", false,
       "limit 100/min can never be reached: limit 1/s"},
      // cost above a token bucket's capacity
      {"cost over capacity", withRateLimit("algorithm: token_bucket, limit: 10/s, burst: 3, cost: 5"),
       "routes[0].policies[0].rate_limit.cost", "cost: ", true, "cost 5 exceeds 3"},
      // cost above a window's limit
      {"cost over window", withRateLimit("algorithm: fixed_window, limit: 3/s, cost: 5"),
       "routes[0].policies[0].rate_limit.cost", "cost: ", true, "could never pass"},
      // cost above a leaky bucket's burst + 1
      {"cost over leaky", withRateLimit("algorithm: leaky_bucket, limit: 3r/s, burst: 1, cost: 3"),
       "routes[0].policies[0].rate_limit.cost", "cost: ", true, "exceeds 2"},
      // nodelay and delay are exclusive
      {"nodelay with delay", withRateLimit("algorithm: leaky_bucket, limit: 1r/s, burst: 5, nodelay: true, delay: 2"),
       "routes[0].policies[0].rate_limit.delay", "delay: 2", false, "delay and nodelay cannot be combined"},
      // delay is bounded by burst
      {"delay over burst", withRateLimit("algorithm: leaky_bucket, limit: 1r/s, burst: 2, delay: 3"),
       "routes[0].policies[0].rate_limit.delay", "delay: ", true, "delay 3 exceeds burst 2"},
      // nginx's milli-request resolution
      {"leaky rate too low", withRateLimit("algorithm: leaky_bucket, limit: 1/day"),
       "routes[0].policies[0].rate_limit.limit", "1/day", false, "too low for nginx leaky bucket semantics"},
      // algorithm-only keys elsewhere
      {"nodelay on token bucket", withRateLimit("algorithm: token_bucket, limit: 1/s, nodelay: true"),
       "routes[0].policies[0].rate_limit.nodelay", "nodelay", false, "nodelay is not used by token_bucket"},
      {"align on gcra", withRateLimit("algorithm: gcra, limit: 1/s, align: clock"),
       "routes[0].policies[0].rate_limit.align", "align", false, "align is not used by gcra"},
      {"count_rejected on fixed window", withRateLimit("algorithm: fixed_window, limit: 1/s, count_rejected: true"),
       "routes[0].policies[0].rate_limit.count_rejected", "count_rejected", false, "not used by fixed_window"},
      {"refill on leaky", withRateLimit("algorithm: leaky_bucket, limit: 1r/s, refill: discrete"),
       "routes[0].policies[0].rate_limit.refill", "refill", false, "refill is not used by leaky_bucket"},
      // capacity 0 admits nothing
      {"zero capacity", withRateLimit("algorithm: gcra, limit: 1/s, burst: 0"),
       "routes[0].policies[0].rate_limit.burst", "burst: ", true, "a capacity of 0 admits nothing"},
      // key components
      {"global combined", withRateLimit("algorithm: gcra, limit: 1/s, key: [global, ip]"),
       "routes[0].policies[0].rate_limit.key[0]", "global", false, "global cannot be combined"},
      {"duplicate key component", withRateLimit("algorithm: gcra, limit: 1/s, key: [header:X-A, header:x-a]"),
       "routes[0].policies[0].rate_limit.key[1]", "header:x-a", false, "duplicate key component"},
      {"unknown key component", withRateLimit("algorithm: gcra, limit: 1/s, key: heder:X-Tenant"),
       "routes[0].policies[0].rate_limit.key", "heder", false, "did you mean 'header:NAME'?"},
      {"header without name", withRateLimit("algorithm: gcra, limit: 1/s, key: [ip, 'header:']"),
       "routes[0].policies[0].rate_limit.key[1]", "'header:'", false, "header needs a field name"},
      // enums and ranges
      {"on_missing_key value", withRateLimit("algorithm: gcra, limit: 1/s, on_missing_key: drop"),
       "routes[0].policies[0].rate_limit.on_missing_key", "drop", false, "unknown value \"drop\""},
      {"status range", withRateLimit("algorithm: gcra, limit: 1/s, status: 200"),
       "routes[0].policies[0].rate_limit.status", "200", false, "200 is out of range"},
      {"max_keys range", withRateLimit("algorithm: gcra, limit: 1/s, max_keys: 0"),
       "routes[0].policies[0].rate_limit.max_keys", "max_keys: ", true, "0 is out of range"},
      {"cost range", withRateLimit("algorithm: gcra, limit: 1/s, cost: 0"),
       "routes[0].policies[0].rate_limit.cost", "cost: ", true, "0 is out of range"},
      {"headers value", withRateLimit("algorithm: gcra, limit: 1/s, headers: all"),
       "routes[0].policies[0].rate_limit.headers", "all", false, "unknown value \"all\""},
      {"yes is not a boolean", withRateLimit("algorithm: gcra, limit: 1/s, shadow: yes"),
       "routes[0].policies[0].rate_limit.shadow", "yes", false, "YAML 1.1 spellings are not accepted"},
      {"wrong type for limits", withRateLimit("algorithm: gcra, limits: 10/s"),
       "routes[0].policies[0].rate_limit.limits", "10/s", false, "expected a list, got a string \"10/s\""},
      {"empty limits", withRateLimit("algorithm: gcra, limits: []"), "routes[0].policies[0].rate_limit.limits", "[]",
       false, "must not be empty"},
      {"bad name", withRateLimit("algorithm: gcra, limit: 1/s, name: 'a b'"), "routes[0].policies[0].rate_limit.name",
       "'a b'", false, "a name cannot contain ' '"},
      // a policy holds at most kMaxLimitsPerPolicy limits
      {"too many limits",
       withRateLimit("algorithm: gcra, limits: [1/s, 2/2s, 3/3s, 4/4s, 5/5s, 6/6s, 7/7s, 8/8s, 9/9s]"),
       "routes[0].policies[0].rate_limit.limits", "[1/s", false, "9 limits; a policy has at most 8"},
      // the core's exact-arithmetic bound is reported at the limit, so a loadable config builds
      {"core arithmetic bound", withRateLimit("algorithm: gcra, limit: 1/day, burst: 1000000000"),
       "routes[0].policies[0].rate_limit.limit", "1/day", false, "exceeds exact 62-bit arithmetic"},
      // duplicate keys in one mapping are errors (yaml-cpp would silently keep one)
      {"duplicate key", withRateLimit("algorithm: gcra, limit: 1/s, limit: 2/s"),
       "routes[0].policies[0].rate_limit.limit", "limit: 2/s", false, "duplicate key \"limit\"; first defined at 12:"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(ConfigLoader, UnknownKeyListsTheAllowedKeys) {
  // The unknown-key error names every allowed key of that mapping.
  const LoadResult r = loadConfigString(withRateLimit("algorithm: gcra, limit: 1/s, burts: 3"), kFile);
  const Diagnostic* d = findByPath(r, std::string(kRl) + ".burts");
  ASSERT_NE(d, nullptr) << dump(r);
  EXPECT_EQ(d->message, "unknown key \"burts\" (did you mean 'burst'?)");
  EXPECT_EQ(d->allowed,
            "keys name, algorithm, refill, limit, limits, burst, nodelay, delay, align, count_rejected, key, "
            "on_missing_key, cost, status, shadow, max_keys, headers, store, on_store_error");
}

// ---- routes -----------------------------------------------------------------------------------

TEST(ConfigLoader, RouteErrors) {
  const std::vector<ErrorCase> cases = {
      // a reference to an undefined service suggests the nearest name
      {"unknown service", withRoute("name: r\n    match: {path: /a}\n    service: user\n"), "routes[0].service", "user\n",
       false, "unknown service \"user\" (did you mean 'users'?)"},
      {"unknown weighted service", withRoute("name: r\n    match: {path: /a}\n    services: [{name: order}]\n"),
       "routes[0].services[0].name", "order}", false, "unknown service \"order\" (did you mean 'orders'?)"},
      // exactly one destination
      {"service and services", withRoute("name: r\n    match: {path: /a}\n    service: users\n    services: [users]\n"),
       "routes[0].services", "services: [users]", false, "service and services cannot be combined"},
      {"no destination", withRoute("name: r\n    match: {path: /a}\n"), "routes[0].service", "name: r", false,
       "missing destination"},
      {"weight range", withRoute("name: r\n    match: {path: /a}\n    services: [{name: users, weight: 0}]\n"),
       "routes[0].services[0].weight", "weight: ", true, "0 is out of range"},
      {"service listed twice", withRoute("name: r\n    match: {path: /a}\n    services: [users, users]\n"),
       "routes[0].services[1]", "users]", false, "listed twice"},
      // match: exactly one path condition
      {"no path condition", withRoute("name: r\n    match: {methods: [GET]}\n    service: users\n"), "routes[0].match",
       "{methods", false, "missing path condition"},
      {"two path conditions", withRoute("name: r\n    match: {path: /a, path_prefix: /b}\n    service: users\n"),
       "routes[0].match.path_prefix", "path_prefix", false, "path and path_prefix cannot be combined"},
      {"did-you-mean path_prefix", withRoute("name: r\n    match: {path_prefx: /a}\n    service: users\n"),
       "routes[0].match.path_prefx", "path_prefx", false, "did you mean 'path_prefix'?"},
      // paths must be absolute and normalized
      {"relative path", withRoute("name: r\n    match: {path_prefix: api}\n    service: users\n"),
       "routes[0].match.path_prefix", "api}", false, "must be absolute"},
      {"dot-dot path", withRoute("name: r\n    match: {path: /a/../b}\n    service: users\n"), "routes[0].match.path",
       "/a/../b", false, "not normalized: it contains a '..' segment"},
      {"double slash", withRoute("name: r\n    match: {path_prefix: /a//b}\n    service: users\n"),
       "routes[0].match.path_prefix", "/a//b", false, "contains '//'"},
      {"encoded dot", withRoute("name: r\n    match: {path_prefix: /a/%2e%2e/b}\n    service: users\n"),
       "routes[0].match.path_prefix", "/a/%2e", false, "%2e encodes '.'"},
      {"lower-case encoding", withRoute("name: r\n    match: {path_prefix: /a%2fb}\n    service: users\n"),
       "routes[0].match.path_prefix", "/a%2fb", false, "write %2F instead of %2f"},
      {"query in path", withRoute("name: r\n    match: {path: '/a?b=1'}\n    service: users\n"), "routes[0].match.path",
       "'/a?b", false, "no query or fragment"},
      {"raw bracket in path", withRoute("name: r\n    match: {path: '/a[1]'}\n    service: users\n"),
       "routes[0].match.path", "'/a[1]'", false, "not normalized; write /a%5B1%5D"},
      {"empty regex", withRoute("name: r\n    match: {path_regex: ''}\n    service: users\n"),
       "routes[0].match.path_regex", "''", false, "must not be empty"},
      // methods
      {"lower-case method", withRoute("name: r\n    match: {path: /a, methods: [GET, post]}\n    service: users\n"),
       "routes[0].match.methods[1]", "post", false, "did you mean 'POST'?"},
      {"method not a token", withRoute("name: r\n    match: {path: /a, methods: ['GE T']}\n    service: users\n"),
       "routes[0].match.methods[0]", "'GE T'", false, "not an HTTP method"},
      {"methods not a list", withRoute("name: r\n    match: {path: /a, methods: GET}\n    service: users\n"),
       "routes[0].match.methods", "GET}", false, "expected a list, got a string \"GET\""},
      {"duplicate method", withRoute("name: r\n    match: {path: /a, methods: [GET, GET]}\n    service: users\n"),
       "routes[0].match.methods[1]", "GET]", false, "duplicate method"},
      // hosts
      {"inner wildcard", withRoute("name: r\n    match: {path: /a, hosts: [api.*.com]}\n    service: users\n"),
       "routes[0].match.hosts[0]", "api.*", false, "wildcard is allowed only as the whole leftmost label"},
      {"bad ipv6 host", withRoute("name: r\n    match: {path: /a, hosts: ['1::2::3']}\n    service: users\n"),
       "routes[0].match.hosts[0]", "'1::2::3'", false, "not a valid host name or IPv6 address"},
      {"host with port", withRoute("name: r\n    match: {path: /a, hosts: ['a.com:80']}\n    service: users\n"),
       "routes[0].match.hosts[0]", "'a.com", false, "without the port"},
      // header conditions
      {"header needs a test", withRoute("name: r\n    match: {path: /a, headers: [{name: X}]}\n    service: users\n"),
       "routes[0].match.headers[0]", "{name: X}", false, "needs one of present, in, regex"},
      {"header two tests",
       withRoute("name: r\n    match: {path: /a, headers: [{name: X, present: true, regex: a}]}\n    service: users\n"),
       "routes[0].match.headers[0].regex", "regex", false, "present and regex cannot be combined"},
      {"header empty in",
       withRoute("name: r\n    match: {path: /a, headers: [{name: X, in: []}]}\n    service: users\n"),
       "routes[0].match.headers[0].in", "[]", false, "must not be empty"},
      {"header missing name", withRoute("name: r\n    match: {path: /a, headers: [{present: true}]}\n    service: users\n"),
       "routes[0].match.headers[0].name", "{present", false, "missing required key \"name\""},
      // strip_path only with path_prefix
      {"strip_path with exact path", withRoute("name: r\n    match: {path: /a}\n    strip_path: true\n    service: users\n"),
       "routes[0].strip_path", "true", false, "strip_path only works with match.path_prefix"},
      {"priority type", withRoute("name: r\n    match: {path: /a}\n    priority: high\n    service: users\n"),
       "routes[0].priority", "high", false, "expected an integer, got a string \"high\""},
      {"missing route name", withRoute("match: {path: /a}\n    service: users\n"), "routes[0].name", "match:", false,
       "missing required key \"name\""},
      // policies
      {"unknown policy kind",
       withRoute("name: r\n    match: {path: /a}\n    service: users\n    policies:\n      - rate_limt: {}\n"),
       "routes[0].policies[0].rate_limt", "rate_limt", false,
       "unknown policy kind \"rate_limt\" (did you mean 'rate_limit'?)"},
      {"policy with two kinds",
       withRoute("name: r\n    match: {path: /a}\n    service: users\n    policies:\n"
                 "      - {rate_limit: {algorithm: gcra, limit: 1/s}, jwt: {}}\n"),
       "routes[0].policies[0].jwt", "jwt", false, "a policy has exactly one key"},
      {"policy not a mapping",
       withRoute("name: r\n    match: {path: /a}\n    service: users\n    policies: [rate_limit]\n"),
       "routes[0].policies[0]", "rate_limit]", false, "expected a policy as a mapping"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(ConfigLoader, UnknownPolicyKindListsKnownKinds) {
  // The allowed part names the known policy kinds.
  const LoadResult r =
      loadConfigString(withRoute("name: r\n    match: {path: /a}\n    service: users\n    policies: [{compress: {}}]\n"), kFile);
  const Diagnostic* d = findByPath(r, "routes[0].policies[0].compress");
  ASSERT_NE(d, nullptr) << dump(r);
  EXPECT_EQ(d->allowed,
            "known kinds: rate_limit, jwt, key_auth, acl, cors, request_headers, response_headers, cache, aggregate, "
            "response_projection");
}

// ---- services and top level -------------------------------------------------------------------

const std::string kRoute =
    "routes:\n"
    "  - name: r\n"
    "    match: {path: /a}\n"
    "    service: s\n";

TEST(ConfigLoader, ServiceAndTopLevelErrors) {
  const std::vector<ErrorCase> cases = {
      {"missing version", "services: []\n", "version", "services", false, "missing required key \"version\""},
      {"unsupported version", "version: 2\n", "version", "2", false, "unsupported config version \"2\""},
      {"unknown top-level key", "version: 1\nroute: []\n", "route", "route", false, "did you mean 'routes'?"},
      {"services not a list", "version: 1\nservices: users\n", "services", "users", false,
       "expected a list, got a string \"users\""},
      {"listen port range", "version: 1\nlisten: 127.0.0.1:70000\n", "listen", "127.0.0.1:70000", false,
       "port 70000 is out of range 0-65535"},
      {"listen IPv6 without brackets", "version: 1\nlisten: ::1:8080\n", "listen", "::1", false,
       "IPv6 addresses need brackets"},
      {"admin equals listen", "version: 1\nlisten: 127.0.0.1:9000\nadmin: 127.0.0.1:9000\n", "admin", "admin", false,
       "admin and listen are the same address"},
      {"service name missing", "version: 1\nservices:\n  - targets: [http://h:1]\n", "services[0].name", "targets",
       false, "missing required key \"name\""},
      {"service name charset", "version: 1\nservices:\n  - name: 'my service'\n    targets: [http://h:1]\n",
       "services[0].name", "'my", false, "a name cannot contain ' '"},
      {"no targets", "version: 1\nservices:\n  - name: s\n    targets: []\n", "services[0].targets", "[]", false,
       "must not be empty"},
      {"target scheme", "version: 1\nservices:\n  - name: s\n    targets: [ftp://h:1]\n", "services[0].targets[0]",
       "ftp", false, "unsupported scheme \"ftp\""},
      {"target weight", "version: 1\nservices:\n  - name: s\n    targets: [{url: http://h:1, weight: 1001}]\n",
       "services[0].targets[0].weight", "1001", false, "1001 is out of range"},
      {"target url missing", "version: 1\nservices:\n  - name: s\n    targets: [{weight: 2}]\n",
       "services[0].targets[0].url", "{weight", false, "missing required key \"url\""},
      {"duplicate target", "version: 1\nservices:\n  - name: s\n    targets: [http://h:1, 'http://h:1/']\n",
       "services[0].targets[1]", "'http://h:1/'", false, "duplicate target http://h:1"},
      {"timeout bare number", "version: 1\nservices:\n  - name: s\n    targets: [http://h:1]\n    timeout: 30\n",
       "services[0].timeout", "30", false, "invalid duration \"30\": add a unit: ms, s, m, h"},
      {"timeout zero", "version: 1\nservices:\n  - name: s\n    targets: [http://h:1]\n    timeout: 0s\n",
       "services[0].timeout", "0s", false, "must be longer than zero"},
      {"timeout null", "version: 1\nservices:\n  - name: s\n    targets: [http://h:1]\n    timeout:\n",
       "services[0].timeout", "timeout", false, "expected a duration, got null"},
      {"merge keys", "version: 1\n<<: {listen: 127.0.0.1:1}\n", "<<", "<<", false, "merge keys (<<) are not supported"},
      {"listen list with a repeat", "version: 1\nlisten: [127.0.0.1:80, '127.0.0.1:80']\n", "listen[1]",
       "'127.0.0.1:80'", false, "listen address 127.0.0.1:80 is listed twice"},
      {"listen list empty", "version: 1\nlisten: []\n", "listen", "[]", false, "must not be empty"},
      {"listen list with an unquoted IPv6 address", "version: 1\nlisten: [0.0.0.0:80, [::]:80]\n", "listen[1]",
       "[::]", false, "quote IPv6 addresses"},
      {"admin on a listen address", "version: 1\nlisten: [127.0.0.1:80, 127.0.0.1:9000]\nadmin: 127.0.0.1:9000\n",
       "listen", "listen", false, "admin and listen share the address 127.0.0.1:9000"},
      {"threads zero", "version: 1\nthreads: 0\n", "threads", "0", false, "out of range"},
      {"threads not a number", "version: 1\nthreads: many\n", "threads", "many", false, "expected an integer"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

// `listen` as a list: the first address is `listen`, the others alsoListen; `threads` is kept.
TEST(ConfigLoader, ListenListAndThreads) {
  const auto loaded =
      loadConfigString("version: 1\nlisten: [0.0.0.0:8080, '[::]:8080', localhost:8081]\nthreads: 4\n", kFile);
  ASSERT_TRUE(loaded.ok()) << loaded.errorText();
  EXPECT_EQ(loaded.config->listen, (HostPort{"0.0.0.0", 8080}));
  ASSERT_EQ(loaded.config->alsoListen.size(), 2u);
  EXPECT_EQ(loaded.config->alsoListen[0], (HostPort{"::", 8080}));
  EXPECT_EQ(loaded.config->alsoListen[1], (HostPort{"localhost", 8081}));
  EXPECT_EQ(loaded.config->threads, 4u);
  const auto single = loadConfigString("version: 1\nlisten: 127.0.0.1:9\n", kFile);
  ASSERT_TRUE(single.ok());
  EXPECT_TRUE(single.config->alsoListen.empty());
  EXPECT_EQ(single.config->threads, 0u);
}

TEST(ConfigLoader, DuplicateNamesNameBothLocations) {
  // Duplicate service, route and policy names: the error sits on the second and names the first.
  const std::string yaml =
      "version: 1\n"
      "services:\n"
      "  - name: s\n"
      "    targets: [http://h:1]\n"
      "  - name: s\n"
      "    targets: [http://h:2]\n"
      "routes:\n"
      "  - name: a\n"
      "    match: {path: /a}\n"
      "    service: s\n"
      "    policies: [{rate_limit: {algorithm: gcra, limit: 1/s}}]\n"
      "  - name: a\n"
      "    match: {path: /b}\n"
      "    service: s\n"
      "    policies: [{rate_limit: {name: a.rate_limit, algorithm: gcra, limit: 1/s}}]\n";
  const LoadResult r = loadConfigString(yaml, kFile);
  ASSERT_FALSE(r.ok());
  const Diagnostic* svc = findByPath(r, "services[1].name");
  ASSERT_NE(svc, nullptr) << dump(r);
  EXPECT_EQ(svc->line, 5);
  EXPECT_EQ(svc->column, 11);  // "  - name: s": the value starts in column 11
  EXPECT_EQ(svc->message, "duplicate service name \"s\"; first defined at test.yaml:3:11 (services[0].name)");
  const Diagnostic* route = findByPath(r, "routes[1].name");
  ASSERT_NE(route, nullptr) << dump(r);
  EXPECT_EQ(route->line, 12);
  EXPECT_EQ(route->message, "duplicate route name \"a\"; first defined at test.yaml:8:11 (routes[0].name)");
  // The explicit name collides with the first route's default name "a.rate_limit".
  const Diagnostic* policy = findByPath(r, "routes[1].policies[0].rate_limit.name");
  ASSERT_NE(policy, nullptr) << dump(r);
  const Pos second = posOf(yaml, "a.rate_limit");        // the explicit name
  const Pos first = posOf(yaml, "{algorithm: gcra");     // the first route's rate_limit mapping
  EXPECT_EQ(policy->line, second.line);
  EXPECT_EQ(policy->column, second.column);
  EXPECT_THAT(policy->message, HasSubstr("duplicate policy name \"a.rate_limit\"; first defined at test.yaml:" +
                                         std::to_string(first.line) + ":" + std::to_string(first.column) +
                                         " (routes[0].policies[0].rate_limit)"));
}

TEST(ConfigLoader, IdenticalMatchesNeedAPriority) {
  // Same conditions in a different order, no priority: ambiguous.
  const std::string yaml = kServices +
                           "routes:\n"
                           "  - name: a\n"
                           "    match: {path_prefix: /x, methods: [GET, POST], hosts: [A.com, b.com]}\n"
                           "    service: users\n"
                           "  - name: b\n"
                           "    match: {hosts: [b.com, a.com], methods: [POST, GET], path_prefix: /x}\n"
                           "    service: orders\n";
  const LoadResult r = loadConfigString(yaml, kFile);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1U) << dump(r);
  const Diagnostic& d = r.diagnostics[0];
  EXPECT_EQ(d.path, "routes[1].match");
  EXPECT_EQ(d.line, 12);
  EXPECT_EQ(d.column, 12);
  EXPECT_THAT(d.message, HasSubstr("same match conditions as route \"a\" (at test.yaml:9:12)"));

  // A priority on one of them resolves it.
  std::string withPriority = yaml + "    priority: 5\n";
  EXPECT_TRUE(loadConfigString(withPriority, kFile).ok()) << dump(loadConfigString(withPriority, kFile));
  // Different methods are different conditions.
  std::string different = yaml;
  different.replace(different.find("[POST, GET]"), 11, "[PUT]");
  EXPECT_TRUE(loadConfigString(different, kFile).ok());
}

TEST(ConfigLoader, YamlSyntaxErrorGivesParserPosition) {
  // An unclosed flow sequence: the parser's own position, no YAML path.
  const LoadResult r = loadConfigString("version: 1\nservices: [a, b\nroutes: []\n", kFile);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1U);
  const Diagnostic& d = r.diagnostics[0];
  EXPECT_EQ(d.path, "");
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.column, 7);
  EXPECT_THAT(d.message, HasSubstr("YAML syntax error: "));
  EXPECT_THAT(formatDiagnostic(d), ::testing::StartsWith("test.yaml:3:7: YAML syntax error: "));
}

TEST(ConfigLoader, DocumentShapeErrors) {
  // Empty input, a non-mapping root and several documents are errors, not crashes.
  EXPECT_THAT(loadConfigString("", kFile).errorText(), HasSubstr("the config is empty"));
  EXPECT_THAT(loadConfigString("# only a comment\n", kFile).errorText(), HasSubstr("the config is empty"));
  EXPECT_THAT(loadConfigString("- a\n- b\n", kFile).errorText(), HasSubstr("expected the config as a mapping, got a list"));
  EXPECT_THAT(loadConfigString("version: 1\n---\nversion: 1\n", kFile).errorText(),
              HasSubstr("a config file holds one YAML document; found 2"));
}

TEST(ConfigLoader, StrayCommaIsASyntaxErrorNotAnEndlessLoop) {
  // yaml-cpp 0.7's LoadAll loops without end on a top-level ',' (jbeder/yaml-cpp#1040), eating
  // memory; the loader counts documents itself and reports where the parser got stuck.
  for (const char* yaml : {",", ", b\n", "# comment\n         , 300 per minute\n", "version: 1\n---\n, x\n"}) {
    const LoadResult r = loadConfigString(yaml, kFile);
    ASSERT_FALSE(r.ok()) << yaml;
    ASSERT_EQ(r.diagnostics.size(), 1U) << dump(r);
    EXPECT_THAT(r.diagnostics[0].message, HasSubstr("YAML syntax error: unexpected \",\"")) << dump(r);
  }
  const LoadResult r = loadConfigString("# comment\n         , 300 per minute\n", kFile);
  EXPECT_EQ(r.diagnostics[0].line, 2);
  EXPECT_EQ(r.diagnostics[0].column, 10);
}

TEST(ConfigLoader, FileErrors) {
  // A missing file is one diagnostic without a position.
  const LoadResult r = loadConfigFile("/nonexistent/gatelab.yaml");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1U);
  EXPECT_EQ(r.diagnostics[0].line, 0);
  EXPECT_EQ(formatDiagnostic(r.diagnostics[0]), "/nonexistent/gatelab.yaml: cannot read config file: no such file");
  // A directory is not a config.
  EXPECT_THAT(loadConfigFile(GATELAB_SOURCE_DIR).errorText(), HasSubstr("it is a directory"));
  // Oversized input is refused before parsing.
  EXPECT_THAT(loadConfigString(std::string(kMaxConfigBytes + 1, '#'), kFile).errorText(), HasSubstr("the limit is"));
}

TEST(ConfigLoader, ReportsEveryErrorInOneFile) {
  // tests/gateway/config/data/many_errors.yaml holds independent mistakes; all are reported, in
  // file order, each exactly where it is.
  const std::string path = std::string(GATELAB_SOURCE_DIR) + "/tests/gateway/config/data/many_errors.yaml";
  const LoadResult r = loadConfigFile(path);
  ASSERT_FALSE(r.ok());
  struct Want {
    int line;
    int column;
    std::string_view path;
    std::string_view phrase;
  };
  const std::vector<Want> want = {
      {3, 9, "listen", "port 80800 is out of range"},
      {7, 47, "services[0].targets[0].weight", "0 is out of range"},
      {8, 14, "services[0].timeout", "add a unit"},
      {9, 11, "services[1].name", "duplicate service name \"users\""},
      {10, 14, "services[1].targets", "expected a list, got a string"},
      {13, 14, "routes[0].match.path_prefx", "did you mean 'path_prefix'?"},
      {13, 48, "routes[0].match.methods[0]", "did you mean 'GET'?"},
      {14, 14, "routes[0].service", "unknown service \"user\" (did you mean 'users'?)"},
      {16, 23, "routes[0].policies[0].rate_limit.algoritm", "did you mean 'algorithm'?"},
      {18, 20, "routes[1].match.path", "'..' segment"},
      {21, 55, "routes[1].policies[0].rate_limit.limit", "unknown period \"minute\""},
      {21, 67, "routes[1].policies[0].rate_limit.burst", "burst is not used by fixed_window"},
      {22, 9, "routes[1].policies[1].rate_limt", "did you mean 'rate_limit'?"},
  };
  ASSERT_EQ(r.diagnostics.size(), want.size()) << dump(r);
  for (std::size_t i = 0; i < want.size(); ++i) {
    const Diagnostic& d = r.diagnostics[i];
    SCOPED_TRACE(formatDiagnostic(d));
    EXPECT_EQ(d.file, path);
    EXPECT_EQ(d.line, want[i].line);
    EXPECT_EQ(d.column, want[i].column);
    EXPECT_EQ(d.path, want[i].path);
    EXPECT_THAT(d.message, HasSubstr(std::string(want[i].phrase)));
  }
}

TEST(ConfigLoader, ReportsEveryCrossFieldRateLimitError) {
  // tests/gateway/config/data/rate_limit_errors.yaml: combinations that parse but cannot work.
  const std::string path = std::string(GATELAB_SOURCE_DIR) + "/tests/gateway/config/data/rate_limit_errors.yaml";
  const LoadResult r = loadConfigFile(path);
  ASSERT_FALSE(r.ok());
  struct Want {
    int line;
    int column;
    std::string_view path;
    std::string message;  // "PATH" stands for the file name
  };
  const std::vector<Want> want = {
      {13, 20, "routes[0].policies[0].rate_limit.limits[0]",
       "limit 10/s can never be reached: limit 5/min (at 13:26) admits at most 5 requests per 1m, so never 10 in 1s"},
      {18, 17, "routes[0].policies[1].rate_limit.cost",
       "cost 5 exceeds 3, the capacity (burst) of limit 10/s; such a request could never pass"},
      {24, 11, "routes[0].policies[2].rate_limit.delay",
       "delay and nodelay cannot be combined: nodelay already passes every request within burst undelayed"},
      {27, 29, "routes[0].policies[3].rate_limit.limits[1]",
       "two limits with the same period 1m: 100/min (at 27:20) and 50/1m; keep the stricter one"},
      {28, 17, "routes[0].policies[3].rate_limit.key[0]",
       "global cannot be combined with other key components (it means one bucket for everyone)"},
      {33, 12, "routes[2].match",
       "same match conditions as route \"login\" (at PATH:30:12) and no priority to choose between them"},
  };
  ASSERT_EQ(r.diagnostics.size(), want.size()) << dump(r);
  for (std::size_t i = 0; i < want.size(); ++i) {
    const Diagnostic& d = r.diagnostics[i];
    SCOPED_TRACE(formatDiagnostic(d));
    EXPECT_EQ(d.line, want[i].line);
    EXPECT_EQ(d.column, want[i].column);
    EXPECT_EQ(d.path, want[i].path);
    std::string message = want[i].message;
    if (const std::size_t at = message.find("PATH"); at != std::string::npos) message.replace(at, 4, path);
    EXPECT_EQ(d.message, message);
  }
}

// ---- successful loads -------------------------------------------------------------------------

TEST(ConfigLoader, RateLimitVariantsBuildTheRightSpecs) {
  // Discrete refill maps to the Envoy-style algorithm; tokens_per_fill/fill_interval are the rate.
  {
    const LoadResult r =
        loadConfigString(withRateLimit("algorithm: token_bucket, refill: discrete, limit: 5/30s, burst: 8"), kFile);
    ASSERT_TRUE(r.ok()) << dump(r);
    const auto& p = std::get<RateLimitPolicySpec>(r.config->routes[0].policies[0]);
    EXPECT_EQ(p.limits[0].algorithm, Algorithm::kTokenBucketDiscrete);
    EXPECT_EQ(p.limits[0].rate, (Rate{5, 30s}));
    EXPECT_EQ(p.limits[0].burst, 8U);
  }
  // Leaky bucket: nodelay is the "infinite" delay; burst defaults to 0.
  {
    const LoadResult r = loadConfigString(withRateLimit("algorithm: leaky_bucket, limit: 60r/m, nodelay: true"), kFile);
    ASSERT_TRUE(r.ok()) << dump(r);
    const auto& l = std::get<RateLimitPolicySpec>(r.config->routes[0].policies[0]).limits[0];
    EXPECT_EQ(l.algorithm, Algorithm::kLeakyBucket);
    EXPECT_EQ(l.rate, (Rate{60, 1min}));
    EXPECT_EQ(l.burst, 0U);
    EXPECT_EQ(l.delay, LimitSpec::kNoDelay);
  }
  // Several limits share the other knobs; each token bucket's capacity defaults to its count.
  {
    const LoadResult r = loadConfigString(withRateLimit("algorithm: gcra, limits: [10/s, 300/min], key: [ip, "
                                                        "jwt:sub, header:X-Tenant], status: 503, cost: 2"),
                                          kFile);
    ASSERT_TRUE(r.ok()) << dump(r);
    const auto& p = std::get<RateLimitPolicySpec>(r.config->routes[0].policies[0]);
    ASSERT_EQ(p.limits.size(), 2U);
    EXPECT_EQ(p.limits[0].burst, 10U);
    EXPECT_EQ(p.limits[1].burst, 300U);
    EXPECT_EQ(p.limits[1].algorithm, Algorithm::kGcra);
    EXPECT_EQ(p.key, (std::vector<KeyComponent>{{KeyPart::kClientIp, ""},
                                                {KeyPart::kJwtClaim, "sub"},
                                                {KeyPart::kHeader, "X-Tenant"}}));
    EXPECT_EQ(p.rejectStatus, 503);
    EXPECT_EQ(p.cost, 2U);
  }
  // Several rate_limit policies on one route get indexed default names.
  {
    std::string yaml = withRateLimit("algorithm: gcra, limit: 1/s");
    yaml += "      - rate_limit: {algorithm: gcra, limit: 10/min}\n";
    const LoadResult r = loadConfigString(yaml, kFile);
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(std::get<RateLimitPolicySpec>(r.config->routes[0].policies[0]).name, "r.rate_limit[0]");
    EXPECT_EQ(std::get<RateLimitPolicySpec>(r.config->routes[0].policies[1]).name, "r.rate_limit[1]");
  }
}

TEST(ConfigLoader, ExampleGatewayYamlLoadsWithTheRightValues) {
  // examples/gateway.yaml is the reference config: it loads and every value comes out as written.
  const LoadResult r = loadConfigFile(std::string(GATELAB_SOURCE_DIR) + "/examples/gateway.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const GatewayConfig& c = *r.config;
  EXPECT_EQ(c.listen, (HostPort{"0.0.0.0", 8080}));
  EXPECT_EQ(c.admin, (HostPort{"127.0.0.1", 9901}));

  ASSERT_EQ(c.services.size(), 4U);  // resilience values: resilience_config_test.cpp
  const ServiceConfig* users = c.findService("users");
  ASSERT_NE(users, nullptr);
  ASSERT_EQ(users->targets.size(), 2U);
  EXPECT_EQ(users->targets[0].url.toString(), "http://127.0.0.1:3001");
  EXPECT_EQ(users->targets[0].weight, 90U);
  EXPECT_EQ(users->targets[1].weight, 10U);
  EXPECT_EQ(users->timeouts.perTry, 2s);
  EXPECT_EQ(c.findService("orders")->timeouts.perTry, 1500ms);
  const ServiceConfig* v2 = c.findService("orders-v2");
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->targets[0].url, (TargetUrl{"https", "orders-v2.internal", 8443}));
  EXPECT_EQ(v2->timeouts.perTry, 60s);

  ASSERT_EQ(c.routes.size(), 6U);
  const RouteConfig* usersRoute = c.findRoute("users");
  ASSERT_NE(usersRoute, nullptr);
  EXPECT_EQ(usersRoute->spec.pathKind, PathMatch::kPrefix);
  EXPECT_EQ(usersRoute->spec.path, "/api/v1/users");
  EXPECT_EQ(usersRoute->spec.methods, (std::vector<std::string>{"GET", "POST"}));
  EXPECT_TRUE(usersRoute->spec.stripPath);
  const auto& usersRl = std::get<RateLimitPolicySpec>(usersRoute->policies.at(0));
  EXPECT_EQ(usersRl.name, "users.rate_limit");
  EXPECT_EQ(usersRl.limits.at(0).algorithm, Algorithm::kSlidingWindowCounter);
  EXPECT_EQ(usersRl.limits[0].rate, (Rate{100, 1min}));
  EXPECT_TRUE(usersRl.limits[0].countRejected);
  EXPECT_EQ(usersRl.key, (std::vector<KeyComponent>{{KeyPart::kHeader, "X-Tenant-Id"}}));

  const RouteConfig* orders = c.findRoute("orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->spec.hosts, (std::vector<std::string>{"shop.example.com", "*.shop.example.com"}));
  ASSERT_EQ(orders->spec.services.size(), 2U);
  EXPECT_EQ(orders->spec.services[1].service, "orders-v2");
  EXPECT_EQ(orders->spec.services[1].weight, 10U);
  ASSERT_EQ(orders->policies.size(), 2U);
  const auto& perConsumer = std::get<RateLimitPolicySpec>(orders->policies[0]);
  EXPECT_EQ(perConsumer.name, "orders-per-consumer");
  ASSERT_EQ(perConsumer.limits.size(), 2U);
  EXPECT_EQ(perConsumer.limits[1].rate, (Rate{300, 1min}));
  EXPECT_EQ(perConsumer.limits[1].burst, 20U);
  EXPECT_EQ(perConsumer.onMissingKey, MissingKey::kShared);
  EXPECT_EQ(perConsumer.headers, HeaderStyle::kIetf);
  EXPECT_EQ(std::get<RateLimitPolicySpec>(orders->policies[1]).key[0].part, KeyPart::kGlobal);

  const auto& login = std::get<RateLimitPolicySpec>(c.findRoute("login")->policies.at(0));
  EXPECT_EQ(c.findRoute("login")->spec.pathKind, PathMatch::kExact);
  EXPECT_EQ(login.limits[0].algorithm, Algorithm::kLeakyBucket);
  EXPECT_EQ(login.limits[0].rate, (Rate{5, 1s}));
  EXPECT_EQ(login.limits[0].burst, 10U);
  EXPECT_EQ(login.limits[0].delay, 5U);
  EXPECT_EQ(login.rejectStatus, 503);

  const RouteConfig* search = c.findRoute("search");
  ASSERT_NE(search, nullptr);
  EXPECT_EQ(search->spec.pathKind, PathMatch::kRegex);
  EXPECT_EQ(search->spec.path, "^/api/v1/search/[a-z]+$");
  ASSERT_EQ(search->spec.headers.size(), 1U);
  EXPECT_EQ(search->spec.headers[0].kind, HeaderPredicate::Kind::kAbsent);
  const auto& searchRl = std::get<RateLimitPolicySpec>(search->policies.at(0));
  EXPECT_EQ(searchRl.limits[0].align, WindowAlign::kFirstRequest);
  EXPECT_EQ(searchRl.cost, 2U);
  EXPECT_TRUE(searchRl.shadow);
  EXPECT_EQ(searchRl.maxKeys, 50000U);
  EXPECT_EQ(searchRl.headers, HeaderStyle::kLegacy);

  const RouteConfig* admin = c.findRoute("admin");
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->spec.priority, 10);
  ASSERT_EQ(admin->spec.headers.size(), 2U);
  EXPECT_EQ(admin->spec.headers[0].kind, HeaderPredicate::Kind::kIn);
  EXPECT_EQ(admin->spec.headers[0].values, (std::vector<std::string>{"staging", "prod"}));
  EXPECT_EQ(admin->spec.headers[1].kind, HeaderPredicate::Kind::kRegex);
  const auto& adminRl = std::get<RateLimitPolicySpec>(admin->policies.at(0));
  EXPECT_EQ(adminRl.name, "admin.rate_limit[0]");
  EXPECT_EQ(adminRl.limits[0].algorithm, Algorithm::kTokenBucketDiscrete);
  EXPECT_EQ(adminRl.limits[0].rate, (Rate{100, 10s}));
  EXPECT_EQ(adminRl.onMissingKey, MissingKey::kSkip);
  EXPECT_EQ(std::get<RateLimitPolicySpec>(admin->policies.at(1)).limits[0].algorithm, Algorithm::kSlidingWindowLog);

  const RouteConfig* health = c.findRoute("health");
  ASSERT_NE(health, nullptr);
  EXPECT_TRUE(health->policies.empty());
  EXPECT_EQ(c.rateLimitPolicies().size(), 7U);
  EXPECT_EQ(c.routeSpecs().size(), 6U);
}

TEST(ConfigLoader, EveryExampleLoads) {
  // Every file in examples/ is a valid config.
  for (const char* name : {"gateway.yaml", "minimal.yaml", "nginx_limit_req.yaml", "multi_limit.yaml", "auth.yaml"}) {
    const LoadResult r = loadConfigFile(std::string(GATELAB_SOURCE_DIR) + "/examples/" + name);
    EXPECT_TRUE(r.ok()) << name << "\n" << dump(r);
  }
}

TEST(ConfigLoader, RouteHostsAcceptIpLiterals) {
  // Route hosts take IPv4 and IPv6 literals (bracketed or not), as the router does; names are lower-cased.
  const LoadResult r = loadConfigString(
      withRoute("name: r\n    match: {path: /a, hosts: ['[::1]', '2001:db8::1', 10.0.0.1, API.Example.com]}\n"
                "    service: users\n"),
      kFile);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->routes[0].spec.hosts,
            (std::vector<std::string>{"[::1]", "2001:db8::1", "10.0.0.1", "api.example.com"}));
}

TEST(ConfigLoader, Ipv6ListenAddress) {
  // IPv6 literals in brackets are accepted and kept without the brackets.
  const LoadResult r = loadConfigString("version: 1\nlisten: '[::1]:8080'\nadmin: '[::1]:9901'\n", kFile);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->listen.host, "::1");
  EXPECT_EQ(r.config->listen.toString(), "[::1]:8080");
}

}  // namespace
}  // namespace gatelab::config

namespace gatelab::config {
namespace {

using test::ErrorCase;
using test::expectError;
using test::kFile;

const std::string kCompressionBase =
    "version: 1\nservices:\n  - name: s\n    targets: [http://a:1]\nroutes:\n  - name: r\n    match: { path_prefix: / }\n"
    "    service: s\n";

TEST(ConfigLoader, CompressionSectionIsOptionalAndChecked) {
  // Absent: no compression. Present: defaults for what is not written; media types lower-cased.
  const LoadResult none = loadConfigString(kCompressionBase, kFile);
  ASSERT_TRUE(none.ok()) << none.errorText();
  EXPECT_FALSE(none.config->compression.has_value());
  const LoadResult some =
      loadConfigString("compression: { types: [Application/JSON, text/csv], level: 9 }\n" + kCompressionBase, kFile);
  ASSERT_TRUE(some.ok()) << some.errorText();
  ASSERT_TRUE(some.config->compression.has_value());
  EXPECT_EQ(some.config->compression->types, (std::vector<std::string>{"application/json", "text/csv"}));
  EXPECT_EQ(some.config->compression->level, 9);
  EXPECT_EQ(some.config->compression->minSize, 1024u);
  const LoadResult defaults = loadConfigString("compression: {}\n" + kCompressionBase, kFile);
  ASSERT_TRUE(defaults.ok()) << defaults.errorText();
  EXPECT_NE(std::find(defaults.config->compression->types.begin(), defaults.config->compression->types.end(),
                      "application/json"),
            defaults.config->compression->types.end());

  const std::vector<ErrorCase> cases = {
      {"level out of range", "compression: { level: 0 }\n" + kCompressionBase, "compression.level", "0 }", false, "0"},
      {"media type without subtype", "compression: { types: [json] }\n" + kCompressionBase, "compression.types[0]",
       "json]", false, "invalid media type \"json\""},
      {"media type with parameters", "compression: { types: ['text/html; charset=utf-8'] }\n" + kCompressionBase,
       "compression.types[0]", "'text/html", false, "invalid media type"},
      {"negative size", "compression: { min_size: -1 }\n" + kCompressionBase, "compression.min_size", "-1", false, "-1"},
      {"unknown key", "compression: { gzip_level: 5 }\n" + kCompressionBase, "compression.gzip_level", "gzip_level", false,
       "unknown key"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

const std::string kStoreBase =
    "version: 1\nservices:\n  - name: s\n    targets: [http://a:1]\nroutes:\n  - name: r\n    match: { path_prefix: / }\n"
    "    service: s\n    policies:\n";

TEST(ConfigLoader, RedisSectionAndStoreKeysAreCheckedTogether) {
  const LoadResult ok = loadConfigString(
      "redis: { address: 'redis.internal:6380', password: s3cret, database: 2, timeout: 20ms, key_prefix: 'gw:eu' }\n" +
          kStoreBase +
          "      - rate_limit: { algorithm: fixed_window, limit: 10/s, store: redis, on_store_error: reject }\n"
          "      - rate_limit: { name: here, algorithm: fixed_window, limit: 100/min }\n",
      kFile);
  ASSERT_TRUE(ok.ok()) << ok.errorText();
  ASSERT_TRUE(ok.config->redis.has_value());
  EXPECT_EQ(ok.config->redis->address.host, "redis.internal");
  EXPECT_EQ(ok.config->redis->address.port, 6380);
  EXPECT_EQ(ok.config->redis->password, "s3cret");
  EXPECT_EQ(ok.config->redis->database, 2);
  EXPECT_EQ(ok.config->redis->timeout, std::chrono::milliseconds(20));
  EXPECT_EQ(ok.config->redis->connectTimeout, std::chrono::seconds(1));
  EXPECT_EQ(ok.config->redis->keyPrefix, "gw:eu");
  const auto policies = ok.config->rateLimitPolicies();
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(policies[0]->store, core::ratelimit::StoreKind::kRedis);
  EXPECT_EQ(policies[0]->onStoreError, core::ratelimit::StoreFailure::kReject);
  EXPECT_EQ(policies[1]->store, core::ratelimit::StoreKind::kLocal);
  // Fail open is the default, as Kong's fault_tolerant.
  const LoadResult open = loadConfigString("redis: { address: 127.0.0.1:6379 }\n" + kStoreBase +
                                               "      - rate_limit: { algorithm: fixed_window, limit: 10/s, store: redis }\n",
                                           kFile);
  ASSERT_TRUE(open.ok()) << open.errorText();
  EXPECT_EQ(open.config->rateLimitPolicies()[0]->onStoreError, core::ratelimit::StoreFailure::kAllow);

  const std::vector<ErrorCase> cases = {
      {"store: redis without a redis section", kStoreBase + "      - rate_limit: { algorithm: fixed_window, limit: 10/s, store: redis }\n",
       "routes[0].policies[0].rate_limit.store", "redis }", false, "needs a top-level redis section"},
      {"unknown store", "redis: { address: 127.0.0.1:6379 }\n" + kStoreBase + "      - rate_limit: { algorithm: fixed_window, limit: 10/s, store: memcached }\n",
       "routes[0].policies[0].rate_limit.store", "memcached", false, "memcached"},
      {"on_store_error on a local policy", kStoreBase + "      - rate_limit: { algorithm: fixed_window, limit: 10/s, on_store_error: reject }\n",
       "routes[0].policies[0].rate_limit.on_store_error", "reject }", false, "only to a policy with store: redis"},
      {"bad failure mode", "redis: { address: 127.0.0.1:6379 }\n" + kStoreBase +
                               "      - rate_limit: { algorithm: fixed_window, limit: 10/s, store: redis, on_store_error: maybe }\n",
       "routes[0].policies[0].rate_limit.on_store_error", "maybe", false, "maybe"},
      {"redis without address", "redis: { timeout: 10ms }\n" + kStoreBase + "      - rate_limit: { algorithm: fixed_window, limit: 10/s }\n",
       "redis.address", "{ timeout", false, "address"},
      {"redis port 0", "redis: { address: 127.0.0.1:0 }\n" + kStoreBase + "      - rate_limit: { algorithm: fixed_window, limit: 10/s }\n",
       "redis.address", "127.0.0.1:0", false, "port 0"},
      {"redis timeout too long", "redis: { address: 127.0.0.1:6379, timeout: 1h }\n" + kStoreBase +
                                     "      - rate_limit: { algorithm: fixed_window, limit: 10/s }\n",
       "redis.timeout", "1h", false, "too long"},
      {"username without password", "redis: { address: 127.0.0.1:6379, username: app }\n" + kStoreBase +
                                        "      - rate_limit: { algorithm: fixed_window, limit: 10/s }\n",
       "redis.username", "app", false, "needs a password"},
      {"bad key prefix", "redis: { address: 127.0.0.1:6379, key_prefix: 'a b' }\n" + kStoreBase +
                             "      - rate_limit: { algorithm: fixed_window, limit: 10/s }\n",
       "redis.key_prefix", "'a b'", false, "invalid key_prefix"},
      {"unknown redis key", "redis: { address: 127.0.0.1:6379, host: x }\n" + kStoreBase + "      - rate_limit: { algorithm: fixed_window, limit: 10/s }\n",
       "redis.host", "host", false, "unknown key"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

}  // namespace
}  // namespace gatelab::config
