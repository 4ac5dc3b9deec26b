// The `cache` policy in the config: a valid policy builds the CacheSpec it says (units, key
// forms, defaults), the built spec is accepted by the core, and every kind of mistake is
// reported at its exact path, line and column with what is allowed; placement after access checks.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "gateway/core/cache/response_cache.hpp"
#include "tests/gateway/config/config_test_support.hpp"

namespace gatelab::config {
namespace {

using namespace std::chrono_literals;
using core::cache::CacheSpec;
using core::cache::QueryKey;
using test::dump;
using test::ErrorCase;
using test::expectError;
using test::kFile;
using ::testing::HasSubstr;

// A config with one service "s" and one route "r" whose policy list is `policies` (lines
// indented by 6 spaces); `top` goes before the services.
std::string withPolicies(std::string_view policies, std::string_view top = {}) {
  return "version: 1\n" + std::string(top) +
         "services:\n  - name: s\n    targets: [http://127.0.0.1:3001]\n"
         "routes:\n  - name: r\n    match: {path_prefix: /a}\n    service: s\n    policies:\n" +
         std::string(policies);
}

// The cache spec of the route's policy `index`, after a load that must succeed.
CacheSpec loadSpec(const std::string& yaml, std::size_t index = 0) {
  const LoadResult r = loadConfigString(yaml, kFile);
  EXPECT_TRUE(r.ok()) << dump(r);
  if (!r.ok()) return {};
  const auto& policies = r.config->routes[0].policies;
  EXPECT_GT(policies.size(), index);
  const auto* c = std::get_if<CachePolicyConfig>(&policies[index]);
  EXPECT_NE(c, nullptr);
  return c != nullptr ? c->spec : CacheSpec{};
}

TEST(CacheConfig, FullPolicyBuildsTheSpec) {
  const CacheSpec s = loadSpec(withPolicies(
      "      - cache:\n"
      "          ttl: 5m\n"
      "          statuses: [200, 301, 404]\n"
      "          content_types: [application/json, text/*]\n"
      "          methods: [GET, HEAD]\n"
      "          key: {query: [page, sort], headers: [Accept-Language], cookies: [session_lang]}\n"
      "          max_memory: 64MiB\n"
      "          max_entry_size: 512KiB\n"
      "          stale_if_error: 1m\n"
      "          respect_cache_control: false\n"));
  EXPECT_EQ(s.ttl, 5min);
  EXPECT_EQ(s.statuses, (std::vector<std::uint16_t>{200, 301, 404}));
  EXPECT_EQ(s.contentTypes, (std::vector<std::string>{"application/json", "text/*"}));
  EXPECT_EQ(s.methods, (std::vector<std::string>{"GET", "HEAD"}));
  EXPECT_EQ(s.key.query, QueryKey::kListed);
  EXPECT_EQ(s.key.queryArgs, (std::vector<std::string>{"page", "sort"}));
  EXPECT_EQ(s.key.headers, (std::vector<std::string>{"Accept-Language"}));
  EXPECT_EQ(s.key.cookies, (std::vector<std::string>{"session_lang"}));
  EXPECT_EQ(s.maxMemory, 64u << 20);
  EXPECT_EQ(s.maxEntryBytes, 512u << 10);
  EXPECT_EQ(s.staleIfError, 1min);
  EXPECT_FALSE(s.respectCacheControl);
}

TEST(CacheConfig, EmptyPolicyTakesTheDefaults) {
  for (std::string_view body : {"      - cache: {}\n", "      - cache:\n"}) {
    SCOPED_TRACE(std::string(body));
    const CacheSpec s = loadSpec(withPolicies(body));
    const CacheSpec d;
    EXPECT_EQ(s.ttl, d.ttl);
    EXPECT_EQ(s.statuses, d.statuses);
    EXPECT_EQ(s.contentTypes, d.contentTypes);
    EXPECT_EQ(s.maxMemory, d.maxMemory);
    EXPECT_EQ(s.key.query, QueryKey::kAll);
    EXPECT_TRUE(s.respectCacheControl);
  }
}

TEST(CacheConfig, QueryForms) {
  EXPECT_EQ(loadSpec(withPolicies("      - cache: {key: {query: none}}\n")).key.query, QueryKey::kNone);
  EXPECT_EQ(loadSpec(withPolicies("      - cache: {key: {query: all}}\n")).key.query, QueryKey::kAll);
}

TEST(CacheConfig, SizeUnits) {
  struct Case {
    std::string_view text;
    std::uint64_t bytes;
  };
  for (const Case& c : std::vector<Case>{{"65536", 65536},
                                         {"65536B", 65536},
                                         {"100KiB", 100 * 1024},
                                         {"3MiB", 3u << 20},
                                         {"1GiB", 1u << 30},
                                         {"128k", 128 * 1024},
                                         {"2m", 2u << 20},
                                         {"1g", 1u << 30}}) {
    SCOPED_TRACE(std::string(c.text));
    EXPECT_EQ(loadSpec(withPolicies("      - cache: {max_memory: " + std::string(c.text) + ", max_entry_size: 1KiB}\n"))
                  .maxMemory,
              c.bytes);
  }
}

TEST(CacheConfig, BuiltSpecIsAcceptedByTheRuntime) {
  const LoadResult r = loadConfigString(withPolicies("      - cache: {ttl: 30s, key: {headers: [X-Tenant]}}\n"), kFile);
  ASSERT_TRUE(r.ok()) << dump(r);
  const BuildResult b = buildRuntime(r.config);
  EXPECT_TRUE(b.ok()) << formatDiagnostics(b.diagnostics);
  EXPECT_EQ(policyKind(r.config->routes[0].policies[0]), "cache");
}

TEST(CacheConfig, AfterAccessChecks) {
  // Property: a cache after jwt / key_auth / acl is accepted; rate_limit and header policies may
  // stand on either side.
  const std::string consumers = "consumers:\n  - id: alice\n    groups: [staff]\n    keys: [alice-key-7Qm2Xv9Lp4Rt8Kw3Hs6D]\n";
  const LoadResult r = loadConfigString(withPolicies("      - key_auth: {}\n"
                                                     "      - acl: {allow: [staff]}\n"
                                                     "      - cache: {}\n"
                                                     "      - rate_limit: {algorithm: gcra, limit: 10/s}\n",
                                                     consumers),
                                        kFile);
  EXPECT_TRUE(r.ok()) << dump(r);
  const LoadResult before = loadConfigString(withPolicies("      - rate_limit: {algorithm: gcra, limit: 10/s}\n"
                                                          "      - cache: {}\n"),
                                             kFile);
  EXPECT_TRUE(before.ok()) << dump(before);
}

TEST(CacheConfig, Errors) {
  const std::string consumers = "consumers:\n  - id: alice\n    groups: [staff]\n    keys: [alice-key-7Qm2Xv9Lp4Rt8Kw3Hs6D]\n";
  const std::vector<ErrorCase> cases = {
      {"not a mapping", withPolicies("      - cache: [ttl]\n"), "routes[0].policies[0].cache", "[ttl]", false,
       "expected a cache policy as a mapping"},
      {"unknown key", withPolicies("      - cache: {tll: 5m}\n"), "routes[0].policies[0].cache.tll", "tll", false,
       "did you mean 'ttl'?"},
      {"zero ttl", withPolicies("      - cache: {ttl: 0s}\n"), "routes[0].policies[0].cache.ttl", "0s", false, "longer than zero"},
      {"ttl without unit", withPolicies("      - cache: {ttl: 300}\n"), "routes[0].policies[0].cache.ttl", "300}", false,
       "add a unit"},
      {"status not a number", withPolicies("      - cache: {statuses: [200, ok]}\n"),
       "routes[0].policies[0].cache.statuses[1]", "ok]", false, "expected an integer"},
      {"status out of range", withPolicies("      - cache: {statuses: [200, 700]}\n"),
       "routes[0].policies[0].cache.statuses[1]", "700", false, "not a final status"},
      {"status 206", withPolicies("      - cache: {statuses: [200, 206]}\n"), "routes[0].policies[0].cache.statuses[1]",
       "206", false, "partial response"},
      {"status 1xx", withPolicies("      - cache: {statuses: [101]}\n"), "routes[0].policies[0].cache.statuses[0]", "101",
       false, "not a final status"},
      {"duplicate status", withPolicies("      - cache: {statuses: [200, 404, 200]}\n"),
       "routes[0].policies[0].cache.statuses[2]", "200]", false, "duplicate status 200"},
      {"empty statuses", withPolicies("      - cache: {statuses: []}\n"), "routes[0].policies[0].cache.statuses", "[]",
       false, "empty"},
      {"media type with parameters", withPolicies("      - cache: {content_types: ['text/html; charset=utf-8']}\n"),
       "routes[0].policies[0].cache.content_types[0]", "'text/html", false, "without parameters"},
      {"media type upper case", withPolicies("      - cache: {content_types: [application/json, Text/HTML]}\n"),
       "routes[0].policies[0].cache.content_types[1]", "Text/HTML", false, "lower case"},
      {"duplicate media type", withPolicies("      - cache: {content_types: [text/*, TEXT/*]}\n"),
       "routes[0].policies[0].cache.content_types[1]", "TEXT/*", false, "duplicate media type"},
      {"POST", withPolicies("      - cache: {methods: [GET, POST]}\n"), "routes[0].policies[0].cache.methods[1]", "POST",
       false, "only GET and HEAD"},
      {"lower-case method", withPolicies("      - cache: {methods: [get]}\n"), "routes[0].policies[0].cache.methods[0]",
       "get]", false, "did you mean 'GET'?"},
      {"query word", withPolicies("      - cache: {key: {query: some}}\n"), "routes[0].policies[0].cache.key.query", "some",
       false, "unknown value \"some\""},
      {"empty query list", withPolicies("      - cache: {key: {query: []}}\n"), "routes[0].policies[0].cache.key.query",
       "[]", false, "empty"},
      {"bad query arg", withPolicies("      - cache: {key: {query: [page, 'a=b']}}\n"),
       "routes[0].policies[0].cache.key.query[1]", "'a=b'", false, "'='"},
      {"unknown key key", withPolicies("      - cache: {key: {header: [a]}}\n"), "routes[0].policies[0].cache.key.header",
       "header:", false, "did you mean 'headers'?"},
      {"bad key header", withPolicies("      - cache: {key: {headers: ['X A']}}\n"),
       "routes[0].policies[0].cache.key.headers[0]", "'X A'", false, "invalid header name"},
      {"Cookie as key header", withPolicies("      - cache: {key: {headers: [Cookie]}}\n"),
       "routes[0].policies[0].cache.key.headers[0]", "Cookie]", false, "key.cookies"},
      {"duplicate key header", withPolicies("      - cache: {key: {headers: [X-A, x-a]}}\n"),
       "routes[0].policies[0].cache.key.headers[1]", "x-a]", false, "duplicate header"},
      {"bad cookie", withPolicies("      - cache: {key: {cookies: ['a b']}}\n"),
       "routes[0].policies[0].cache.key.cookies[0]", "'a b'", false, "cookie name"},
      {"decimal unit", withPolicies("      - cache: {max_memory: 64MB}\n"), "routes[0].policies[0].cache.max_memory",
       "64MB", false, "did you mean 'MiB'?"},
      {"unknown unit", withPolicies("      - cache: {max_memory: 64 bytes}\n"), "routes[0].policies[0].cache.max_memory",
       "64 bytes", false, "unknown size unit"},
      {"no number", withPolicies("      - cache: {max_memory: lots}\n"), "routes[0].policies[0].cache.max_memory", "lots",
       false, "not a size"},
      {"memory too small", withPolicies("      - cache: {max_memory: 1KiB, max_entry_size: 1KiB}\n"),
       "routes[0].policies[0].cache.max_memory", "1KiB", false, "between 64 KiB and 64 GiB"},
      {"entry above memory", withPolicies("      - cache: {max_memory: 1MiB, max_entry_size: 2MiB}\n"),
       "routes[0].policies[0].cache.max_entry_size", "2MiB", false, "must not exceed max_memory"},
      {"stale not a duration", withPolicies("      - cache: {stale_if_error: soon}\n"),
       "routes[0].policies[0].cache.stale_if_error", "soon", false, "soon"},
      {"respect not a bool", withPolicies("      - cache: {respect_cache_control: yes}\n"),
       "routes[0].policies[0].cache.respect_cache_control", "yes", false, "yes"},
      {"consumer not a bool", withPolicies("      - cache: {key: {consumer: yes}}\n"),
       "routes[0].policies[0].cache.key.consumer", "yes}", false, "yes"},
      {"twice on a route", withPolicies("      - cache: {}\n      - cache: {ttl: 1m}\n"),
       "routes[0].policies[1].cache", "cache: {ttl", false, "a route has at most one cache policy"},
      {"before key_auth", withPolicies("      - cache: {}\n      - key_auth: {}\n", consumers),
       "routes[0].policies[0].cache", "cache: {}", false,
       "cache must come after key_auth (routes[0].policies[1].key_auth at test.yaml:"},
      {"before acl", withPolicies("      - key_auth: {}\n      - cache: {}\n      - acl: {allow: [staff]}\n", consumers),
       "routes[0].policies[1].cache", "cache: {}", false, "acl would never check it"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(CacheConfig, ConsumerKeyAfterAuthentication) {
  const std::string consumers = "consumers:\n  - id: alice\n    groups: [staff]\n    keys: [alice-key-7Qm2Xv9Lp4Rt8Kw3Hs6D]\n";
  EXPECT_TRUE(loadSpec(withPolicies("      - key_auth: {}\n      - cache: {key: {consumer: true}}\n", consumers), 1).key.consumer);
}

TEST(CacheConfig, AllErrorsOfOnePolicyAreReported) {
  const LoadResult r = loadConfigString(
      withPolicies("      - cache: {ttl: 0s, statuses: [ok], max_memory: 1MB, respect_cache_control: yes}\n"), kFile);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics.size(), 4u) << dump(r);
}

}  // namespace
}  // namespace gatelab::config
