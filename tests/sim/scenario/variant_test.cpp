// Variants and the gateway config: overrides change exactly the named values; bad paths point at
// the variant's entry with a did-you-mean; the config's own errors keep pointing at the config file
// (or at the scenario for replaced values); inline configs; cross-checks of names.
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "gateway/config/diagnostics.hpp"
#include "sim/scenario/scenario.hpp"
#include "tests/sim/scenario/test_support.hpp"

namespace gatelab::sim::scenario {
namespace {

using test::posOf;
using test::ScenarioDir;
namespace rl = core::ratelimit;

const rl::RateLimitPolicySpec& firstPolicy(const config::GatewayConfig& c) { return *c.rateLimitPolicies().at(0); }

std::string scenarioWith(std::string_view variants) {
  return "version: 1\ngateway: gateway.yaml\ntrace: {file: trace.log}\nvariants:\n" + std::string(variants);
}

// No overrides: the config exactly as loadConfigFile gives it.
TEST(VariantConfig, BaselineIsTheConfigFile) {
  ScenarioDir dir;
  const ScenarioLoadResult r = dir.load("version: 1\ngateway: gateway.yaml\ntrace: {file: trace.log}\n");
  ASSERT_TRUE(r.ok()) << r.errorText();
  const config::LoadResult c = loadVariantConfig(*r.scenario, &r.scenario->variants[0]);
  ASSERT_TRUE(c.ok()) << c.errorText();
  EXPECT_EQ(c.config->source, dir.path("gateway.yaml"));
  EXPECT_EQ(firstPolicy(*c.config).limits.at(0).algorithm, rl::Algorithm::kTokenBucket);
}

// Swapping the algorithm by route name, changing the limit by index, removing the burst.
TEST(VariantConfig, OverridesApplied) {
  ScenarioDir dir;
  const ScenarioLoadResult r = dir.load(scenarioWith(R"(  - name: counter
    set:
      "routes[api].policies[per-client].rate_limit.algorithm": sliding_window_counter
      "routes[0].policies[0].rate_limit.limit": 50/s
    unset: ["routes[api].policies[0].rate_limit.burst"]
  - name: shadow
    set: {"routes[api].policies[0].rate_limit.shadow": true}
)"));
  ASSERT_TRUE(r.ok()) << r.errorText();
  const config::LoadResult counter = loadVariantConfig(*r.scenario, r.scenario->findVariant("counter"));
  ASSERT_TRUE(counter.ok()) << counter.errorText();
  const rl::RateLimitPolicySpec& p = firstPolicy(*counter.config);
  EXPECT_EQ(p.limits.at(0).algorithm, rl::Algorithm::kSlidingWindowCounter);
  ASSERT_EQ(p.limits.size(), 1U);
  EXPECT_EQ(p.limits[0].rate, (core::Rate{50, std::chrono::seconds(1)}));
  EXPECT_EQ(p.name, "per-client");
  EXPECT_EQ(counter.config->source, dir.path("gateway.yaml"));

  const config::LoadResult shadow = loadVariantConfig(*r.scenario, r.scenario->findVariant("shadow"));
  ASSERT_TRUE(shadow.ok()) << shadow.errorText();
  EXPECT_TRUE(firstPolicy(*shadow.config).shadow);  // a key the config did not write is added
  EXPECT_EQ(firstPolicy(*shadow.config).limits.at(0).algorithm, rl::Algorithm::kTokenBucket);

  const ScenarioConfigs all = loadScenarioConfigs(*r.scenario);
  ASSERT_TRUE(all.ok()) << all.errorText();
  ASSERT_EQ(all.configs.size(), 2U);
  EXPECT_EQ(firstPolicy(*all.configs[0]).limits.at(0).algorithm, rl::Algorithm::kSlidingWindowCounter);
}

// A variant with only `unset:` (no `set:` key) removes the node and nothing else.
TEST(VariantConfig, UnsetOnlyVariant) {
  ScenarioDir dir;
  const ScenarioLoadResult r = dir.load(scenarioWith(R"(  - name: no-burst
    unset: ["routes[api].policies[0].rate_limit.burst"]
)"));
  ASSERT_TRUE(r.ok()) << r.errorText();
  const config::LoadResult c = loadVariantConfig(*r.scenario, r.scenario->findVariant("no-burst"));
  ASSERT_TRUE(c.ok()) << c.errorText();
  const rl::RateLimitPolicySpec& p = firstPolicy(*c.config);
  EXPECT_EQ(p.limits.at(0).algorithm, rl::Algorithm::kTokenBucket);
  // Without `burst`, a token bucket's capacity defaults to the rate's count.
  EXPECT_EQ(p.limits.at(0).burst, p.limits.at(0).rate.count);
}

// Paths that do not exist: at the set entry, with a did-you-mean and what exists there.
TEST(VariantConfig, BadPathsPointAtTheEntry) {
  struct Case {
    std::string_view what;
    std::string_view key;
    std::string_view expected;
  };
  const std::vector<Case> cases{
      {"unknown route name", "routes[apii].service",
       "variant \"v\": no item named \"apii\" in routes (did you mean 'api'?); allowed: an index from 0 to 1 or an "
       "item's name: api, site"},
      {"index out of range", "routes[5].service",
       "variant \"v\": index 5 is out of range: routes has 2 items; allowed: an index from 0 to 1 or an item's name: "
       "api, site"},
      {"unknown intermediate key", "routes[api].polices[0].rate_limit.limit",
       "variant \"v\": no key \"polices\" in routes[api] (did you mean 'policies'?); allowed: keys there: name, match, "
       "service, policies"},
      {"key on a list", "routes.name",
       "variant \"v\": routes is a list; select an item with [INDEX] or [NAME] before .name; allowed: an index from 0 "
       "to 1 or an item's name: api, site"},
      {"below a scalar", "routes[api].service.name",
       "variant \"v\": routes[api].service is a value \"api\", not a mapping or a list; cannot select \"name\"; "
       "allowed: a path to an existing node"},
  };
  for (const Case& c : cases) {
    ScenarioDir dir;
    const std::string yaml = scenarioWith("  - name: v\n    set:\n      \"" + std::string(c.key) + "\": x\n");
    const ScenarioLoadResult r = dir.load(yaml);
    ASSERT_TRUE(r.ok()) << c.what << r.errorText();
    const config::LoadResult l = loadVariantConfig(*r.scenario, &r.scenario->variants[0]);
    ASSERT_EQ(l.diagnostics.size(), 1U) << c.what << l.errorText();
    const config::Diagnostic& d = l.diagnostics[0];
    const test::Pos p = posOf(yaml, "\"" + std::string(c.key));
    EXPECT_EQ(d.file, "s.yaml") << c.what;
    EXPECT_EQ(d.line, p.line) << c.what;
    EXPECT_EQ(d.column, p.column) << c.what;
    EXPECT_EQ(d.path, "variants[0].set." + std::string(c.key)) << c.what;
    EXPECT_EQ(d.message + "; allowed: " + d.allowed, c.expected) << c.what;
  }
}

// A bad value from the variant is reported by the config loader at the scenario's set value; an
// untouched bad node stays at its place in the config file.
TEST(VariantConfig, ConfigErrorsKeepTheirPlace) {
  ScenarioDir dir;
  std::string gateway(test::kGatewayYaml);
  gateway.replace(gateway.find("key: ip"), 7, "key: ipp");
  dir.write("bad.yaml", gateway);
  const std::string yaml =
      "version: 1\ngateway: bad.yaml\ntrace: {file: trace.log}\nvariants:\n  - name: v\n    set:\n"
      "      \"routes[api].policies[0].rate_limit.algorithm\": token_buckett\n";
  const ScenarioLoadResult r = dir.load(yaml);
  ASSERT_TRUE(r.ok()) << r.errorText();
  const config::LoadResult l = loadVariantConfig(*r.scenario, &r.scenario->variants[0]);
  ASSERT_EQ(l.diagnostics.size(), 2U) << l.errorText();
  // The untouched node: in the config file, where the plain loader puts it.
  const config::LoadResult plain = config::loadConfigFile(dir.path("bad.yaml"));
  ASSERT_EQ(plain.diagnostics.size(), 1U) << plain.errorText();
  EXPECT_EQ(l.diagnostics[0], plain.diagnostics[0]);
  // The replaced value: at the scenario's set value, with the config path.
  const config::Diagnostic& d = l.diagnostics[1];
  const test::Pos p = posOf(yaml, "token_buckett");
  EXPECT_EQ(d.file, "s.yaml");
  EXPECT_EQ(d.line, p.line);
  EXPECT_EQ(d.column, p.column);
  EXPECT_EQ(d.path, "routes[0].policies[0].rate_limit.algorithm");
  EXPECT_NE(d.message.find("did you mean 'token_bucket'"), std::string::npos) << d.message;
}

// A config written inline: loaded from the scenario, errors point into it with "gateway." paths.
TEST(VariantConfig, InlineGateway) {
  ScenarioDir dir;
  const std::string yaml = R"(version: 1
trace: {file: trace.log}
gateway:
  version: 1
  services:
    - {name: api, targets: ["http://10.0.0.1:80"]}
  routes:
    - name: api
      match: {path_prefix: /}
      service: api
      policies:
        - rate_limit: {algorithm: gcra, limit: 5/s, burst: 3}
variants:
  - name: base
  - name: broken
    set: {"services[api].targets": []}
)";
  const ScenarioLoadResult r = dir.load(yaml);
  ASSERT_TRUE(r.ok()) << r.errorText();
  EXPECT_TRUE(r.scenario->gateway.isInline());
  const config::LoadResult base = loadVariantConfig(*r.scenario, r.scenario->findVariant("base"));
  ASSERT_TRUE(base.ok()) << base.errorText();
  EXPECT_EQ(firstPolicy(*base.config).limits.at(0).algorithm, rl::Algorithm::kGcra);
  const config::LoadResult broken = loadVariantConfig(*r.scenario, r.scenario->findVariant("broken"));
  ASSERT_FALSE(broken.ok());
  const config::Diagnostic& d = broken.diagnostics.at(0);
  EXPECT_EQ(d.file, "s.yaml");
  EXPECT_EQ(d.path, "gateway.services[0].targets");
  EXPECT_EQ(d.line, posOf(yaml, "[]}").line) << broken.errorText();

  const std::string bad = "version: 1\ntrace: {file: trace.log}\ngateway:\n  version: 1\n  servics: []\n";
  const ScenarioLoadResult rb = dir.load(bad);
  ASSERT_TRUE(rb.ok()) << rb.errorText();
  const config::LoadResult lb = loadVariantConfig(*rb.scenario, nullptr);
  ASSERT_EQ(lb.diagnostics.size(), 1U) << lb.errorText();
  EXPECT_EQ(config::formatDiagnostic(lb.diagnostics[0]),
            "s.yaml:5:3: gateway.servics: unknown key \"servics\" (did you mean 'services'?); allowed: keys version, "
            "listen, admin, threads, tls, compression, redis, consumers, identity_headers, services, routes");
}

// Names the scenario uses must exist in the config: services, targets, routes, policies.
TEST(VariantConfig, CrossChecks) {
  ScenarioDir dir;
  const std::string yaml = R"(version: 1
gateway: gateway.yaml
trace: {file: trace.log}
backends:
  apii: {servers: 2}
  api:
    targets:
      "http://10.0.0.13:8080": {servers: 1}
      7: {servers: 1}
failures:
  - {service: statik, at: 1m, for: 1s, effect: down}
  - {service: api, target: "http://10.0.0.11:8081", at: 1m, for: 1s, effect: down}
expect:
  - "error_rate{route=apu} < 1%"
  - "false_blocks{policy=per-clinet} == 0"
  - "breaker_opens{service=api} == 0"
)";
  const ScenarioLoadResult r = dir.load(yaml);
  ASSERT_TRUE(r.ok()) << r.errorText();
  const ScenarioConfigs c = loadScenarioConfigs(*r.scenario);
  ASSERT_EQ(c.configs.size(), 1U);
  EXPECT_EQ(c.errorText(),
            "s.yaml:5:3: backends.apii: unknown service \"apii\" (did you mean 'api'?); allowed: a service of the gateway "
            "config: api, static\n"
            "s.yaml:8:7: backends.api.targets.http://10.0.0.13:8080: service api has no target \"http://10.0.0.13:8080\" "
            "(did you mean 'http://10.0.0.11:8080'?); allowed: a target of service api: http://10.0.0.11:8080, "
            "http://10.0.0.12:8080 (or its index, 0 to 1)\n"
            "s.yaml:9:7: backends.api.targets.7: target index 7 is out of range: service api has 2 targets; allowed: a "
            "target of service api: http://10.0.0.11:8080, http://10.0.0.12:8080 (or its index, 0 to 1)\n"
            "s.yaml:11:5: failures[0].service: unknown service \"statik\" (did you mean 'static'?); allowed: a service of "
            "the gateway config: api, static\n"
            "s.yaml:12:5: failures[1].target: service api has no target \"http://10.0.0.11:8081\" (did you mean "
            "'http://10.0.0.11:8080'?); allowed: a target of service api: http://10.0.0.11:8080, http://10.0.0.12:8080 "
            "(or its index, 0 to 1)\n"
            "s.yaml:14:5: expect[0]: unknown route \"apu\" (did you mean 'api'?); allowed: a route of the gateway config: "
            "api, site\n"
            "s.yaml:15:5: expect[1]: unknown policy \"per-clinet\" (did you mean 'per-client'?); allowed: a policy of the "
            "gateway config: per-client\n");
}

// A failure's target by index becomes the target's URL.
TEST(VariantConfig, FailureTargetByIndex) {
  ScenarioDir dir;
  const ScenarioLoadResult r =
      dir.load("version: 1\ngateway: gateway.yaml\ntrace: {file: trace.log}\nfailures:\n"
               "  - {service: api, target: 1, at: 90s, for: 10s, effect: black_hole}\n");
  ASSERT_TRUE(r.ok()) << r.errorText();
  const config::LoadResult c = loadVariantConfig(*r.scenario, nullptr);
  ASSERT_TRUE(c.ok());
  const core::TimePoint start{std::chrono::seconds(1000)};
  const FailureSpec spec = r.scenario->failures[0].toFailureSpec(start, c.config.get());
  EXPECT_EQ(spec.target, "http://10.0.0.12:8080");
  EXPECT_EQ(spec.start, start + std::chrono::seconds(90));
  EXPECT_EQ(spec.duration, std::chrono::seconds(10));
}

// The simulator does not model access policies yet: a scenario whose gateway has one is refused
// at the gateway reference, naming the route and the policy.
TEST(VariantConfig, AccessPoliciesAreModelled) {
  ScenarioDir dir;
  const std::string yaml = R"(version: 1
trace: {file: trace.log}
gateway:
  version: 1
  services:
    - {name: api, targets: ["http://10.0.0.1:80"]}
  routes:
    - name: api
      match: {path_prefix: /}
      service: api
      policies:
        - cors: {origins: ["https://app.example"]}
)";
  const ScenarioLoadResult r = dir.load(yaml);
  ASSERT_TRUE(r.ok()) << r.errorText();
  const ScenarioConfigs c = loadScenarioConfigs(*r.scenario);
  EXPECT_TRUE(c.ok()) << c.errorText();
}

}  // namespace
}  // namespace gatelab::sim::scenario
