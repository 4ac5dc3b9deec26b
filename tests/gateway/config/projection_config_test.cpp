// The `response_projection` policy in the config: a valid policy builds the ProjectionSpec it
// says and the runtime holds a working JsonProjection; every kind of mistake is reported at its
// exact path, line and column with what is allowed; once per route.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "gateway/core/shaping/json_projection.hpp"
#include "tests/gateway/config/config_test_support.hpp"

namespace gatelab::config {
namespace {

using core::shaping::ArrayLimitSpec;
using core::shaping::ProjectionSpec;
using core::shaping::ProjectionStatus;
using test::dump;
using test::ErrorCase;
using test::expectError;
using test::kFile;
using ::testing::HasSubstr;

// A config with one service "s" and one route "r" whose policy list is `policies` (lines
// indented by 6 spaces).
std::string withPolicies(std::string_view policies) {
  return "version: 1\n"
         "services:\n  - name: s\n    targets: [http://127.0.0.1:3001]\n"
         "routes:\n  - name: r\n    match: {path_prefix: /a}\n    service: s\n    policies:\n" +
         std::string(policies);
}

ProjectionSpec loadSpec(const std::string& yaml) {
  const LoadResult r = loadConfigString(yaml, kFile);
  EXPECT_TRUE(r.ok()) << dump(r);
  if (!r.ok()) return {};
  const auto& policies = r.config->routes[0].policies;
  EXPECT_EQ(policies.size(), 1u);
  const auto* c = std::get_if<ResponseProjectionConfig>(&policies[0]);
  EXPECT_NE(c, nullptr);
  EXPECT_EQ(policyKind(policies[0]), "response_projection");
  return c != nullptr ? c->spec : ProjectionSpec{};
}

TEST(ProjectionConfig, FullPolicyBuildsTheSpecAndTheRuntime) {
  const std::string yaml = withPolicies(
      "      - response_projection:\n"
      "          keep: [id, name, items, owner]\n"
      "          drop:\n"
      "            - owner.email\n"
      "            - items[].debug\n"
      "          max_array_items: 20\n"
      "          array_limits: {items: 5, owner.repos: 3}\n");
  const ProjectionSpec s = loadSpec(yaml);
  EXPECT_EQ(s.keep, (std::vector<std::string>{"id", "name", "items", "owner"}));
  EXPECT_EQ(s.drop, (std::vector<std::string>{"owner.email", "items[].debug"}));
  EXPECT_EQ(s.maxArrayItems, 20u);
  EXPECT_EQ(s.arrayLimits, (std::vector<ArrayLimitSpec>{{"items", 5}, {"owner.repos", 3}}));

  const LoadResult r = loadConfigString(yaml, kFile);
  ASSERT_TRUE(r.ok()) << dump(r);
  const BuildResult b = buildRuntime(r.config);
  ASSERT_TRUE(b.ok()) << formatDiagnostics(b.diagnostics);
  ASSERT_TRUE(b.runtime->routes[0].projection.has_value());
  std::string out;
  const auto result = b.runtime->routes[0].projection->apply(
      R"({"id":1,"name":"n","secret":"x","owner":{"login":"ada","email":"e","repos":[1,2,3,4]},)"
      R"("items":[{"id":1,"price":1.10,"debug":0},{"id":2,"price":2},{"id":3},{"id":4},{"id":5},{"id":6}]})",
      out);
  EXPECT_EQ(result.status, ProjectionStatus::kApplied);
  EXPECT_EQ(out, R"({"id":1,"name":"n","owner":{"login":"ada","repos":[1,2,3]},)"
                 R"("items":[{"id":1,"price":1.10},{"id":2,"price":2},{"id":3},{"id":4},{"id":5}]})");
}

TEST(ProjectionConfig, EachSettingAlone) {
  EXPECT_EQ(loadSpec(withPolicies("      - response_projection: {keep: [id]}\n")).keep, (std::vector<std::string>{"id"}));
  EXPECT_EQ(loadSpec(withPolicies("      - response_projection: {drop: [internal]}\n")).drop,
            (std::vector<std::string>{"internal"}));
  EXPECT_EQ(loadSpec(withPolicies("      - response_projection: {max_array_items: 0}\n")).maxArrayItems, 0u);
  EXPECT_EQ(loadSpec(withPolicies("      - response_projection: {array_limits: {$: 10, \"[].tags\": 2}}\n")).arrayLimits,
            (std::vector<ArrayLimitSpec>{{"$", 10}, {"[].tags", 2}}));
  // Keys with dots or brackets are escaped with '\' (a plain YAML scalar keeps it as is).
  EXPECT_EQ(loadSpec(withPolicies("      - response_projection:\n          keep:\n            - a\\.b\n")).keep,
            (std::vector<std::string>{"a\\.b"}));
  // A route without the policy has no projection.
  const LoadResult r = loadConfigString(withPolicies("      - response_headers: [{remove: X-A}]\n"), kFile);
  ASSERT_TRUE(r.ok()) << dump(r);
  const BuildResult b = buildRuntime(r.config);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b.runtime->routes[0].projection.has_value());
}

TEST(ProjectionConfig, ErrorsPointAtTheirNode) {
  // Table: one mistake -> the diagnostic's path, position, a phrase; each has an allowed text.
  const std::string p = "routes[0].policies[0].response_projection";
  struct Case {  // ErrorCase with an owned path
    std::string_view what;
    std::string yaml;
    std::string path;
    std::string_view anchor;
    bool after;
    std::string_view phrase;
  };
  const std::vector<Case> cases = {
      {"empty body", withPolicies("      - response_projection:\n"), p, "response_projection:", false,
       "needs at least one of keep, drop, max_array_items, array_limits"},
      {"empty mapping", withPolicies("      - response_projection: {}\n"), p, "{}", false,
       "needs at least one of keep, drop, max_array_items, array_limits"},
      {"not a mapping", withPolicies("      - response_projection: [id]\n"), p, "[id]", false, "as a mapping"},
      {"unknown key", withPolicies("      - response_projection: {keeps: [id]}\n"), p + ".keeps", "keeps", false,
       "did you mean 'keep'"},
      {"empty keep", withPolicies("      - response_projection: {keep: []}\n"), p + ".keep", "[]", false, "empty"},
      {"keep not a list", withPolicies("      - response_projection: {keep: id}\n"), p + ".keep", "id}", false, "list"},
      {"malformed path", withPolicies("      - response_projection: {keep: [id, a..b]}\n"), p + ".keep[1]", "a..b", false,
       "empty key"},
      {"index in path", withPolicies("      - response_projection: {drop: [\"a[0]\"]}\n"), p + ".drop[0]", "\"a[0]\"", false,
       "array indexes"},
      {"a list as a path", withPolicies("      - response_projection: {keep: [a, [b]]}\n"), p + ".keep[1]", "[b]", false,
       "got a list"},
      {"duplicate path", withPolicies("      - response_projection: {keep: [id, name, id]}\n"), p + ".keep[2]", "id]", false,
       "duplicate path \"id\""},
      {"keep inside keep", withPolicies("      - response_projection: {keep: [owner, owner.login]}\n"), p + ".keep[1]",
       "owner.login", false, "is inside \"owner\""},
      {"kept and dropped", withPolicies("      - response_projection: {keep: [a, b], drop: [b]}\n"), p + ".drop[0]", "b]}",
       false, "both kept (keep[1]) and dropped"},
      {"drop above keep", withPolicies("      - response_projection: {keep: [a.b], drop: [a]}\n"), p + ".drop[0]", "a]}",
       false, "would remove the kept \"a.b\""},
      {"drop outside keep", withPolicies("      - response_projection: {keep: [a], drop: [b]}\n"), p + ".drop[0]", "b]}",
       false, "not inside any kept path"},
      {"drop ends with []", withPolicies("      - response_projection: {drop: [\"items[]\"]}\n"), p + ".drop[0]",
       "\"items[]\"", false, "name the array itself (\"items\")"},
      {"max_array_items too large", withPolicies("      - response_projection: {max_array_items: 1000001}\n"),
       p + ".max_array_items", "1000001", false, "out of range"},
      {"max_array_items negative", withPolicies("      - response_projection: {max_array_items: -1}\n"),
       p + ".max_array_items", "-1", false, ""},
      {"max_array_items not a number", withPolicies("      - response_projection: {max_array_items: all}\n"),
       p + ".max_array_items", "all", false, ""},
      {"array_limits not a mapping", withPolicies("      - response_projection: {array_limits: [items]}\n"),
       p + ".array_limits", "[items]", false, "as a mapping"},
      {"array_limits empty", withPolicies("      - response_projection: {array_limits: {}}\n"), p + ".array_limits",
       "{}}", false, "empty"},
      {"limit path malformed", withPolicies("      - response_projection: {array_limits: {a..b: 3}}\n"),
       p + ".array_limits.a..b", "a..b", false, "empty key"},
      {"limit value too large", withPolicies("      - response_projection: {array_limits: {items: 2000000}}\n"),
       p + ".array_limits.items", "2000000", false, "out of range"},
      {"limit on dropped array", withPolicies("      - response_projection: {drop: [items], array_limits: {items: 3}}\n"),
       p + ".array_limits.items", "items: 3", false, "removed by drop \"items\""},
      {"limit on an array never sent", withPolicies("      - response_projection: {keep: [id], array_limits: {tags: 3}}\n"),
       p + ".array_limits.tags", "tags: 3", false, "is not kept"},
      // "\\a" in YAML is the path \a, the key "a" again.
      {"same array twice", withPolicies("      - response_projection: {array_limits: {a: 1, \"\\\\a\": 2}}\n"),
       p + ".array_limits.\\a", "\"\\\\a\"", false, "has two limits (also array_limits.a at 10:46)"},
  };
  for (const Case& c : cases) expectError(ErrorCase{c.what, c.yaml, c.path, c.anchor, c.after, c.phrase});
}

TEST(ProjectionConfig, DocumentedExamplesLoad) {
  // The two examples of docs/config-reference.md#response_projection, indented as policies.
  const ProjectionSpec a = loadSpec(withPolicies(
      "      - response_projection:\n"
      "          keep: [id, name, full_name, owner, \"items[].id\", \"items[].price\"]\n"
      "          drop: [owner.email]            # applied after keep: the owner without its e-mail\n"
      "          max_array_items: 20\n"
      "          array_limits: {items: 5, owner.repos: 3}\n"));
  EXPECT_EQ(a.keep.size(), 6u);
  const ProjectionSpec b = loadSpec(withPolicies(
      "      - response_projection:             # a deny-list alone\n"
      "          drop:\n"
      "            - internal\n"
      "            - items[].debug              # block lists need no quotes\n"));
  EXPECT_EQ(b.drop, (std::vector<std::string>{"internal", "items[].debug"}));
}

TEST(ProjectionConfig, OncePerRoute) {
  const std::string yaml = withPolicies(
      "      - response_projection: {keep: [id]}\n"
      "      - response_projection: {drop: [x]}\n");
  const LoadResult r = loadConfigString(yaml, kFile);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.errorText(), HasSubstr("response_projection"));
}

TEST(ProjectionConfig, EveryProblemIsReported) {
  const LoadResult r = loadConfigString(
      withPolicies("      - response_projection: {keep: [a..b, \"c[1]\"], max_array_items: x, array_limits: {\"]\": 1}}\n"),
      kFile);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics.size(), 4u) << dump(r);
}

}  // namespace
}  // namespace gatelab::config
