// Scenario files: every field reads into the expected Scenario; defaults; each class of mistake is
// a diagnostic with file:line:col, YAML path, rule and what is allowed; backend precedence; paths
// with environment variables.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/config/diagnostics.hpp"
#include "sim/scenario/scenario.hpp"
#include "tests/sim/scenario/test_support.hpp"

namespace gatelab::sim::scenario {
namespace {

using namespace std::chrono_literals;
using test::posOf;
using test::ScenarioDir;

constexpr std::string_view kFull = R"(version: 1
name: limiter-comparison
description: every key once
seed: 42
gateway: gateway.yaml
trace:
  file: trace.log
  format: combined
  client: header:X-Api-Key
  speedup: 2.5
  spread: even
  reorder_window: 2s
  reorder_records: 1000
  late: drop
  max_line_length: 4096
  start: "2024-03-05T14:00:00Z"
  duration: 5m
  host: api.example.com
  headers: {X-Api-Key: k1, X-Env: prod}
backends:
  default: {servers: 16, queue: 256, service_time: {distribution: lognormal, median: 20ms, p99: 120ms}, errors: 0.1%, error_status: 502}
  api:
    servers: 4
    queue: unbounded
    ok_status: 204
    refusal_latency: 1ms
    on_abandon: drop_queued
    targets:
      "http://10.0.0.12:8080": {service_time: {distribution: constant, value: 5ms}}
      0: {servers: 2}
failures:
  - service: api
    target: "http://10.0.0.12:8080"
    at: 2m
    for: 30s
    effect: error_burst
    rate: 50%
    status: 503
  - {service: api, at: 1m, for: 10s, effect: down, reset_in_flight: false, recovery: {ramp: 30s, capacity: 10%, latency_multiplier: 3}}
  - {service: api, target: 1, at: 0s, for: 1m, effect: latency, multiplier: 5, add: 200ms}
  - {service: static, at: 3m, for: 1m, effect: flapping, period: 10s, down: 25%}
  - {service: static, at: 5m, for: 1m, effect: black_hole}
  - {service: static, at: 6m, for: 30s, effect: slow_recovery, capacity: 20%, latency_multiplier: 4}
variants:
  - name: token-bucket
    description: as configured
  - name: sliding-counter
    set:
      "routes[api].policies[0].rate_limit.algorithm": sliding_window_counter
    unset: ["routes[api].policies[0].rate_limit.burst"]
timeline: {bucket: 500ms}
expect:
  - "p99_latency < 300ms"
  - "error_rate{route=api} < 1%"
  - check: "false_block_share <= 0.1%"
    during: [2m, 3m]
    variant: sliding-counter
)";

// A scenario using every key reads back field by field.
TEST(ScenarioLoad, FullScenarioRoundTrip) {
  ScenarioDir dir;
  const ScenarioLoadResult r = dir.load(kFull);
  ASSERT_TRUE(r.ok()) << r.errorText();
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.version, 1);
  EXPECT_EQ(s.name, "limiter-comparison");
  EXPECT_EQ(s.description, "every key once");
  EXPECT_EQ(s.seed, 42U);
  EXPECT_EQ(s.sourcePath, "s.yaml");
  EXPECT_EQ(s.baseDir, dir.dir());
  EXPECT_FALSE(s.gateway.isInline());
  EXPECT_EQ(s.gateway.written, "gateway.yaml");
  EXPECT_EQ(s.gateway.file, dir.path("gateway.yaml"));

  const TraceSettings& t = s.trace;
  EXPECT_EQ(t.file, dir.path("trace.log"));
  EXPECT_EQ(t.written, "trace.log");
  EXPECT_EQ(t.format.name, "combined");
  EXPECT_EQ(t.replay.client.describe(), "header:X-Api-Key");
  EXPECT_DOUBLE_EQ(t.replay.speedup.factor(), 2.5);
  EXPECT_EQ(t.replay.spread, trace::SpreadMode::kEven);
  EXPECT_EQ(t.replay.reorder.window, 2s);
  EXPECT_EQ(t.replay.reorder.maxRecords, 1000U);
  EXPECT_EQ(t.replay.reorder.late, trace::LatePolicy::kDrop);
  EXPECT_EQ(t.reader.maxLineLength, 4096U);
  ASSERT_TRUE(t.replay.start.has_value());
  EXPECT_EQ(trace::formatTraceTime(*t.replay.start), "2024-03-05T14:00:00Z");
  EXPECT_EQ(t.replay.duration, std::optional<core::Duration>(5min));
  EXPECT_FALSE(t.replay.end.has_value());
  EXPECT_FALSE(t.replay.skip.has_value());
  EXPECT_EQ(t.host, "api.example.com");
  const std::vector<std::pair<std::string, std::string>> headers{{"X-Api-Key", "k1"}, {"X-Env", "prod"}};
  EXPECT_EQ(t.headers, headers);

  EXPECT_EQ(s.backends.defaults.servers, std::optional<std::uint32_t>(16));
  EXPECT_EQ(s.backends.defaults.queueCapacity, std::optional<std::uint32_t>(256));
  EXPECT_EQ(s.backends.defaults.serviceTime->kind(), ServiceTimeKind::kLogNormal);
  EXPECT_DOUBLE_EQ(*s.backends.defaults.errorProbability, 0.001);
  EXPECT_EQ(s.backends.defaults.errorStatus, std::optional<std::uint16_t>(502));
  ASSERT_EQ(s.backends.services.size(), 1U);
  const ServiceBackend& api = s.backends.services[0];
  EXPECT_EQ(api.service, "api");
  EXPECT_EQ(api.settings.queueCapacity, std::optional<std::uint32_t>(kUnboundedQueue));
  EXPECT_EQ(api.settings.okStatus, std::optional<std::uint16_t>(204));
  EXPECT_EQ(api.settings.refusalLatency, std::optional<core::Duration>(1ms));
  EXPECT_EQ(api.settings.onAbandon, std::optional<AbandonPolicy>(AbandonPolicy::kDropQueued));
  ASSERT_EQ(api.targets.size(), 2U);
  EXPECT_EQ(api.targets[0].target, "http://10.0.0.12:8080");
  EXPECT_EQ(api.targets[1].index, std::optional<std::size_t>(0));
  EXPECT_EQ(api.at.line, posOf(kFull, "  api:\n").line);

  ASSERT_EQ(s.failures.size(), 6U);
  const FailureTemplate& f0 = s.failures[0];
  EXPECT_EQ(f0.service, "api");
  EXPECT_EQ(f0.target, "http://10.0.0.12:8080");
  EXPECT_EQ(f0.at, 2min);
  EXPECT_EQ(f0.duration, 30s);
  EXPECT_EQ(std::get<ErrorBurst>(f0.effect), (ErrorBurst{0.5, 503}));
  EXPECT_EQ(f0.source.path, "failures[0]");
  EXPECT_EQ(std::get<Down>(s.failures[1].effect), Down{false});
  ASSERT_TRUE(s.failures[1].recovery.has_value());
  EXPECT_EQ(*s.failures[1].recovery, (RecoveryRamp{30s, SlowRecovery{0.1, 3.0}}));
  EXPECT_EQ(s.failures[2].targetIndex, std::optional<std::size_t>(1));
  EXPECT_EQ(std::get<LatencySpike>(s.failures[2].effect), (LatencySpike{5.0, 200ms}));
  EXPECT_EQ(std::get<Flapping>(s.failures[3].effect), (Flapping{10s, 0.25, true}));
  EXPECT_TRUE(std::holds_alternative<BlackHole>(s.failures[4].effect));
  EXPECT_EQ(std::get<SlowRecovery>(s.failures[5].effect), (SlowRecovery{0.2, 4.0}));

  ASSERT_EQ(s.variants.size(), 2U);
  EXPECT_EQ(s.variants[0].name, "token-bucket");
  EXPECT_EQ(s.variants[0].description, "as configured");
  EXPECT_TRUE(s.variants[0].overrides.empty());
  const Variant& v1 = s.variants[1];
  EXPECT_EQ(v1.index, std::optional<std::size_t>(1));
  ASSERT_EQ(v1.overrides.size(), 2U);
  EXPECT_EQ(v1.overrides[0].path, "routes[api].policies[0].rate_limit.algorithm");
  EXPECT_EQ(v1.overrides[0].valueText, "sliding_window_counter");
  EXPECT_FALSE(v1.overrides[0].remove);
  EXPECT_EQ(v1.overrides[0].at.line, posOf(kFull, "\"routes[api].policies[0].rate_limit.algorithm\"").line);
  EXPECT_TRUE(v1.overrides[1].remove);
  EXPECT_EQ(v1.overrides[1].path, "routes[api].policies[0].rate_limit.burst");

  EXPECT_EQ(s.bucket, 500ms);
  ASSERT_EQ(s.expectations.size(), 3U);
  EXPECT_EQ(s.expectations[0].ref.metric, Metric::kP99Latency);
  EXPECT_DOUBLE_EQ(s.expectations[0].threshold, 0.3);
  EXPECT_EQ(s.expectations[0].line, posOf(kFull, "p99_latency").line);
  EXPECT_EQ(s.expectations[1].ref.route, "api");
  EXPECT_DOUBLE_EQ(s.expectations[1].threshold, 0.01);
  const Expectation& e2 = s.expectations[2];
  EXPECT_EQ(e2.op, Comparison::kLessEqual);
  EXPECT_EQ(e2.variant, "sliding-counter");
  EXPECT_EQ(e2.ref.window, (std::optional<MetricWindow>(MetricWindow{2min, 3min})));
  EXPECT_EQ(e2.text, "false_block_share <= 0.1%");
  EXPECT_EQ(s.windows(), std::vector<MetricWindow>{(MetricWindow{2min, 3min})});
  EXPECT_EQ(s.expectationsFor("token-bucket").size(), 2U);
  EXPECT_EQ(s.expectationsFor("sliding-counter").size(), 3U);
}

// Only the required keys: the documented defaults.
TEST(ScenarioLoad, Defaults) {
  ScenarioDir dir;
  const ScenarioLoadResult r =
      loadScenarioString("version: 1\ngateway: gateway.yaml\ntrace: {file: trace.log}\n", "dir/my-test.yaml", dir.dir(), test::kNoEnv);
  ASSERT_TRUE(r.ok()) << r.errorText();
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.name, "my-test");
  EXPECT_EQ(s.seed, 1U);
  EXPECT_EQ(s.description, "");
  EXPECT_EQ(s.trace.format.name, "combined");
  EXPECT_EQ(s.trace.replay.client.describe(), "ip");
  EXPECT_DOUBLE_EQ(s.trace.replay.speedup.factor(), 1.0);
  EXPECT_EQ(s.trace.replay.spread, trace::SpreadMode::kNone);
  EXPECT_EQ(s.trace.replay.reorder.window, 10s);
  EXPECT_EQ(s.trace.host, "");
  EXPECT_TRUE(s.backends.services.empty());
  EXPECT_TRUE(s.failures.empty());
  ASSERT_EQ(s.variants.size(), 1U);
  EXPECT_EQ(s.variants[0].name, "baseline");
  EXPECT_FALSE(s.variants[0].index.has_value());
  EXPECT_EQ(s.bucket, 1s);
  EXPECT_TRUE(s.expectations.empty());
  // With no backends section a backend is BackendConfig's default.
  const BackendConfig b = s.backends.backendFor("api", "http://10.0.0.11:8080", 0);
  EXPECT_EQ(b.servers, BackendConfig{}.servers);
  EXPECT_EQ(b.queueCapacity, kUnboundedQueue);
  EXPECT_EQ(b.service, "api");
  EXPECT_EQ(b.target, "http://10.0.0.11:8080");
}

// default -> service -> target (by URL over by index); unlisted services get the default.
TEST(ScenarioLoad, BackendForPrecedence) {
  ScenarioDir dir;
  const ScenarioLoadResult r = dir.load(R"(version: 1
gateway: gateway.yaml
trace: {file: trace.log}
backends:
  default: {servers: 16, queue: 256, errors: 1%, error_status: 500}
  api:
    servers: 4
    targets:
      "http://10.0.0.12:8080": {servers: 1, errors: 50%}
      1: {servers: 2, queue: 0}
      0: {queue: 8}
)");
  ASSERT_TRUE(r.ok()) << r.errorText();
  const Backends& b = r.scenario->backends;
  const BackendConfig other = b.backendFor("static", "http://10.0.0.21:8080", 0);
  EXPECT_EQ(other.servers, 16U);
  EXPECT_EQ(other.queueCapacity, 256U);
  EXPECT_DOUBLE_EQ(other.errorProbability, 0.01);
  const BackendConfig api0 = b.backendFor("api", "http://10.0.0.11:8080", 0);
  EXPECT_EQ(api0.servers, 4U);      // service over default
  EXPECT_EQ(api0.queueCapacity, 8U);  // index key
  EXPECT_DOUBLE_EQ(api0.errorProbability, 0.01);
  const BackendConfig api1 = b.backendFor("api", "http://10.0.0.12:8080", 1);
  EXPECT_EQ(api1.servers, 1U);  // the URL key wins over the index key
  EXPECT_EQ(api1.queueCapacity, 256U);
  EXPECT_DOUBLE_EQ(api1.errorProbability, 0.5);
  EXPECT_EQ(api1.errorStatus, 500);
}

// ${VAR} and ${VAR:-default} in paths; an unset variable without default is an error at the node.
TEST(ScenarioLoad, EnvironmentExpansion) {
  ScenarioDir dir;
  const EnvLookup env = [&dir](std::string_view name) -> std::optional<std::string> {
    if (name == "SCN_DIR") return dir.dir();
    return std::nullopt;
  };
  const ScenarioLoadResult r =
      dir.load("version: 1\ngateway: ${SCN_DIR}/gateway.yaml\ntrace: {file: \"${NOPE:-trace.log}\"}\n", env);
  ASSERT_TRUE(r.ok()) << r.errorText();
  EXPECT_EQ(r.scenario->gateway.file, dir.path("gateway.yaml"));
  EXPECT_EQ(r.scenario->gateway.written, "${SCN_DIR}/gateway.yaml");
  EXPECT_EQ(r.scenario->trace.file, dir.path("trace.log"));

  const std::string bad = "version: 1\ngateway: gateway.yaml\ntrace: {file: \"${GATELAB_NOPE}/x.log\"}\n";
  const ScenarioLoadResult e = dir.load(bad, env);
  ASSERT_EQ(e.diagnostics.size(), 1U) << e.errorText();
  EXPECT_EQ(config::formatDiagnostic(e.diagnostics[0]),
            "s.yaml:3:15: trace.file: environment variable GATELAB_NOPE is not set; allowed: set it, or give a "
            "default as ${GATELAB_NOPE:-default}");
}

// The shared real traces are reachable through GATELAB_SHARED-style paths (skipped without them).
TEST(ScenarioLoad, ScenarioFileRelativePaths) {
  ScenarioDir dir;
  dir.write("sub.yaml", "version: 1\ngateway: gateway.yaml\ntrace: {file: trace.log}\n");
  const ScenarioLoadResult r = loadScenarioFile(dir.path("sub.yaml"), test::kNoEnv);
  ASSERT_TRUE(r.ok()) << r.errorText();
  EXPECT_EQ(r.scenario->name, "sub");
  EXPECT_EQ(r.scenario->trace.file, dir.path("trace.log"));
  const ScenarioLoadResult missing = loadScenarioFile(dir.path("none.yaml"));
  ASSERT_EQ(missing.diagnostics.size(), 1U);
  EXPECT_EQ(missing.diagnostics[0].message, "cannot read scenario file: no such file");
}

struct ErrorCase {
  std::string_view what;     // the property checked
  std::string yaml;          // the whole scenario
  std::string_view anchor;   // the node the first diagnostic points at (first occurrence)
  std::string_view expected; // the whole first diagnostic after "s.yaml:L:C: "
};

std::string withBase(std::string_view rest) {
  return "version: 1\ngateway: gateway.yaml\ntrace: {file: trace.log}\n" + std::string(rest);
}

// Each class of mistake: exact position, path, message and allowed list.
TEST(ScenarioLoad, ErrorsAreExact) {
  const std::vector<ErrorCase> cases{
      {"unknown top-level key with a suggestion", withBase("backend: {}\n"), "backend",
       "backend: unknown key \"backend\" (did you mean 'backends'?); allowed: keys version, name, description, seed, "
       "gateway, trace, backends, failures, variants, timeline, expect"},
      {"missing version", "gateway: gateway.yaml\ntrace: {file: trace.log}\n", "gateway",
       "version: missing required key \"version\"; allowed: supported versions: 1"},
      {"missing gateway file", "version: 1\ngateway: nope.yaml\ntrace: {file: trace.log}\n", "nope.yaml",
       ""},
      {"trace key typo", "version: 1\ngateway: gateway.yaml\ntrace: {file: trace.log, speedupp: 2}\n", "speedupp",
       ""},
      {"bad format", "version: 1\ngateway: gateway.yaml\ntrace: {file: trace.log, format: apache}\n", "apache", ""},
      {"bad spread", "version: 1\ngateway: gateway.yaml\ntrace: {file: trace.log, spread: evne}\n", "evne",
       "trace.spread: unknown value \"evne\" (did you mean 'even'?); allowed: none, even, jitter"},
      {"skip with start", withBase("").replace(withBase("").find("{file: trace.log}"), 17,
                                               "{file: trace.log, start: \"2024-03-05T14:00:00Z\", skip: 1m}"),
       "skip", "trace.skip: skip and start both set the window start; allowed: one of start, skip"},
      {"backend key typo", withBase("backends:\n  api: {servres: 2}\n"), "servres",
       "backends.api.servres: unknown key \"servres\" (did you mean 'servers'?); allowed: keys servers, queue, "
       "service_time, errors, error_status, ok_status, refusal_latency, on_abandon, targets"},
      {"service time key of another distribution",
       withBase("backends:\n  default: {service_time: {distribution: constant, mean: 5ms}}\n"), "mean",
       "backends.default.service_time.mean: key \"mean\" does not apply to distribution constant; allowed: "
       "distribution, value"},
      {"lognormal p99 below median",
       withBase("backends:\n  default: {service_time: {distribution: lognormal, median: 20ms, p99: 10ms}}\n"),
       "{distribution: lognormal", ""},
      {"errors not a percentage", withBase("backends:\n  default: {errors: 0.5}\n"), "0.5", ""},
      {"failure effect alias", withBase("failures:\n  - {service: api, at: 1m, for: 1s, effect: error}\n"), "error}",
       "failures[0].effect: unknown value \"error\" (did you mean 'error_burst'?); allowed: down, error_burst, latency, "
       "black_hole, flapping, slow_recovery"},
      {"failure key that does not apply",
       withBase("failures:\n  - {service: api, at: 1m, for: 1s, effect: down, rate: 5%}\n"), "rate",
       "failures[0].rate: key \"rate\" does not apply to effect down; allowed: service, target, at, for, effect, "
       "reset_in_flight, recovery"},
      {"failure missing for", withBase("failures:\n  - {service: api, at: 1m, effect: down}\n"), "{service",
       "failures[0].for: missing required key \"for\"; allowed: a duration, e.g. 30s"},
      {"flapping without period", withBase("failures:\n  - {service: api, at: 1m, for: 1m, effect: flapping}\n"),
       "{service", "failures[0].period: missing required key \"period\"; allowed: a duration, e.g. 10s"},
      {"duplicate variant", withBase("variants:\n  - name: a\n  - {name: a}\n"), "a}",
       ""},
      {"bad override path", withBase("variants:\n  - name: a\n    set: {\"routes[api.x\": 1}\n"), "\"routes[api.x\"",
       "variants[0].set.routes[api.x: invalid config path \"routes[api.x\": missing ']' after '[' at offset 6; allowed: "
       "a config path: keys joined by '.', list items by [INDEX] or [NAME], e.g. "
       "routes[api].policies[0].rate_limit.algorithm"},
      {"expectation for an unknown variant", withBase("variants:\n  - name: fast\nexpect:\n  - {check: \"requests > 0\", variant: fats}\n"),
       "fats", "expect[0].variant: unknown variant \"fats\" (did you mean 'fast'?); allowed: a variant of this scenario: fast"},
      {"expectation with a wrong unit", withBase("expect:\n  - p99_latency < 5%\n"), "5%",
       "expect[0]: p99_latency is a latency: \"5%\" is not a duration; allowed: a duration for p99_latency (a number "
       "with a unit: ns, us, ms, s, m (minute), h, d; units combine as in 1h30m; fractions as in 1.5s)"},
      {"expectation unknown metric", withBase("expect:\n  - \"p99_latncy < 5ms\"\n"), "p99_latncy", ""},
      {"empty window", withBase("expect:\n  - {check: \"requests > 0\", during: [3m, 2m]}\n"), "[3m",
       "expect[0].during: the window is empty: from 3m is not before to 2m; allowed: [FROM, TO]: two offsets from the "
       "run start, FROM < TO, e.g. [2m, 3m]"},
      {"window in text and in during", withBase("expect:\n  - {check: \"requests[1m,2m) > 0\", during: [3m, 4m]}\n"),
       "[3m", ""},
      {"bucket zero", withBase("timeline: {bucket: 0s}\n"), "0s",
       "timeline.bucket: must be longer than zero; allowed: a positive duration, e.g. 250ms, 2s, 1m"},
      {"unsupported version", "version: 2\ngateway: gateway.yaml\ntrace: {file: trace.log}\n", "2",
       "version: unsupported scenario version \"2\"; allowed: supported versions: 1"},
  };
  for (const ErrorCase& c : cases) {
    ScenarioDir dir;
    const ScenarioLoadResult r = dir.load(c.yaml);
    ASSERT_FALSE(r.ok()) << c.what;
    ASSERT_FALSE(r.diagnostics.empty()) << c.what;
    const config::Diagnostic& d = r.diagnostics[0];
    const test::Pos p = posOf(c.yaml, c.anchor);
    EXPECT_EQ(d.file, "s.yaml") << c.what;
    EXPECT_EQ(d.line, p.line) << c.what << "\n" << r.errorText();
    EXPECT_EQ(d.column, p.column) << c.what << "\n" << r.errorText();
    if (!c.expected.empty()) {
      const std::string text = config::formatDiagnostic(d);
      EXPECT_EQ(text.substr(text.find(": ") + 2), c.expected) << c.what;
    }
  }
}

// Several problems are all reported, in file order.
TEST(ScenarioLoad, AllProblemsCollected) {
  ScenarioDir dir;
  const ScenarioLoadResult r = dir.load(withBase("seed: -1\nbackends:\n  default: {servers: 0}\nexpect: [\"bogus > 1\"]\n"));
  ASSERT_EQ(r.diagnostics.size(), 3U) << r.errorText();
  EXPECT_EQ(r.diagnostics[0].path, "seed");
  EXPECT_EQ(r.diagnostics[1].path, "backends.default.servers");
  EXPECT_EQ(r.diagnostics[2].path, "expect[0]");
}

// Files that are not scenarios at all.
TEST(ScenarioLoad, NotAScenario) {
  ScenarioDir dir;
  EXPECT_EQ(config::formatDiagnostics(dir.load("").diagnostics),
            "s.yaml:1:1: the scenario is empty; allowed: a mapping with keys version, name, description, seed, gateway, "
            "trace, backends, failures, variants, timeline, expect\n");
  EXPECT_EQ(dir.load("a: [1\n").diagnostics.size(), 1U);
  EXPECT_EQ(dir.load("version: 1\n---\nversion: 1\n").diagnostics[0].message,
            "a scenario file holds one YAML document; found 2");
}

// The fuzz corpus's valid seeds are valid (so the fuzzer starts deep in the loader), and the
// inline configs load under every variant.
TEST(ScenarioLoad, FuzzCorpusSeedsAreValid) {
  for (const char* name : {"inline_full.yaml", "minimal.yaml", "csv_trace.yaml", "flow.yaml"}) {
    const std::string path = std::string(GATELAB_SOURCE_DIR) + "/tests/fuzz/corpus/scenario/" + name;
    const ScenarioLoadResult r = loadScenarioFile(path, test::kNoEnv);
    ASSERT_TRUE(r.ok()) << name << "\n" << r.errorText();
    const ScenarioConfigs c = loadScenarioConfigs(*r.scenario);
    EXPECT_TRUE(c.ok()) << name << "\n" << c.errorText();
  }
  // The example config and the demo trace, by a path relative to the scenario file.
  const ScenarioLoadResult r =
      loadScenarioFile(std::string(GATELAB_SOURCE_DIR) + "/tests/fuzz/corpus/scenario/file_gateway.yaml", test::kNoEnv);
  ASSERT_FALSE(r.ok());  // relative to tests/fuzz/corpus/scenario, ../examples does not exist
  EXPECT_NE(r.errorText().find("no such gateway config file"), std::string::npos) << r.errorText();
}

// yaml-cpp 0.7's LoadAll loops without end on a top-level ',' (jbeder/yaml-cpp#1040); the
// scenario loader counts documents itself and reports where the parser got stuck.
TEST(ScenarioLoader, StrayCommaIsASyntaxErrorNotAnEndlessLoop) {
  for (const char* yaml : {",", ", b\n", "# comment\n         , 300 per minute\n"}) {
    const ScenarioLoadResult r = loadScenarioString(yaml, "s.yaml", ".", test::kNoEnv);
    ASSERT_EQ(r.diagnostics.size(), 1U) << yaml;
    EXPECT_NE(r.diagnostics[0].message.find("YAML syntax error: unexpected \",\""), std::string::npos)
        << r.diagnostics[0].message;
  }
}

}  // namespace
}  // namespace gatelab::sim::scenario
