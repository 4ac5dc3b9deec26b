// Workload spec YAML: a full spec reads into the expected WorkloadSpec; every kind of mistake is a
// diagnostic with file:line:col, the YAML path, the rule and what is allowed (like the gateway
// config loader); all problems are collected; and no input, however broken, crashes the reader.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "gateway/config/diagnostics.hpp"
#include "sim/engine/random.hpp"
#include "sim/workload/generator.hpp"
#include "sim/workload/spec_yaml.hpp"
#include "tests/sim/workload/test_support.hpp"

namespace gatelab::sim::workload {
namespace {

constexpr const char* kFullSpec = R"(version: 1
description: every key once
seed: 42
start: "2024-05-06T08:00:00+02:00"
time_zone: "+02:00"
duration: 10m
count: 100000
content:
  methods: {GET: 90, POST: 10}
  paths:
    - /health
    - {path: "/api/users/{id}", weight: 5, methods: {GET: 1}, statuses: {200: 9, 404: 1}}
    - {path: "/static/{word}.png", weight: 2, bytes: {median: 20KB, p99: 200KB, per_path: true}, request_time: {median: 2ms, p99: 20ms}}
  statuses: {200: 95, 500: 5}
  bytes: {median: 1500, p99: 40KB}
  request_time: {median: 25ms, p99: 400ms}
  user_agents: [curl/8.0, {value: Mozilla/5.0, weight: 3}]
  referers: ["-"]
  protocols: [HTTP/1.1, HTTP/2.0]
  headers: {api_key: X-Api-Key, tenant: X-Tenant-Id, tenants: 5}
  ids: 1000
groups:
  - name: web
    clients: 200
    zipf: 1.1
    arrivals: {process: poisson, rate: 30/s}
  - name: bursty
    clients: 50
    zipf: 0
    arrivals: {process: mmpp, rate: 20/s, burst_factor: 6, burst_length: 15s, burst_gap: 2m}
  - name: chain
    clients: 10
    arrivals:
      process: mmpp
      states: [{rate: 5/s, sojourn: 30s}, {rate: 50/s, sojourn: 5s}]
      initial_state: 1
  - name: generator
    clients: 10
    arrivals:
      process: mmpp
      states: [{rate: 1/s}, {rate: 10/s}]
      generator: [[-0.1, 0.1], [0.5, -0.5]]
  - name: daily
    clients: 100
    arrivals: {process: diurnal, rate: 10/s, peak_hour: 14, peak_ratio: 3}
  - name: profile
    clients: 100
    arrivals:
      process: diurnal
      profile: [{at: "00:00", rate: 0}, {at: "08:00", rate: 20/s}, {at: "18:00", rate: 5/s}]
    content:
      paths: [/api/search]
abusive:
  - name: scraper
    description: a script in a loop
    count: 2
    rate: 25/s
    pattern: constant
    on: 20s
    off: 40s
    from: 1m
    until: 9m
  - {name: flood, rate: 100/s, pattern: poisson}
)";

SpecLoadResult parse(const std::string& yaml) { return parseWorkloadSpec(yaml, "spec.yaml"); }

std::string all(const std::vector<config::Diagnostic>& d) { return config::formatDiagnostics(d); }

// Property: every documented key is read into the spec, and the result generates.
TEST(WorkloadSpecYaml, FullSpecReads) {
  const SpecLoadResult r = parse(kFullSpec);
  ASSERT_TRUE(r.spec.has_value()) << all(r.diagnostics);
  ASSERT_TRUE(r.diagnostics.empty());
  const WorkloadSpec& s = *r.spec;
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.zone, trace::ZoneOffset{120});
  trace::TraceTime start{};
  ASSERT_TRUE(trace::parseRfc3339("2024-05-06T06:00:00Z", trace::ZoneOffset{0}, start));
  EXPECT_EQ(s.start, start);
  EXPECT_EQ(s.duration, std::chrono::minutes(10));
  EXPECT_EQ(s.count, 100000u);
  ASSERT_EQ(s.content.paths.size(), 3u);
  EXPECT_EQ(s.content.paths[1].pattern, "/api/users/{id}");
  EXPECT_DOUBLE_EQ(s.content.paths[1].weight, 5.0);
  ASSERT_TRUE(s.content.paths[2].bytes.has_value());
  EXPECT_EQ(s.content.paths[2].bytes->p99, 200'000u);
  EXPECT_TRUE(s.content.paths[2].bytes->perPath);
  EXPECT_EQ(s.content.bytes.p99, 40'000u);
  EXPECT_EQ(s.content.tenants, 5u);
  EXPECT_EQ(s.content.ids, 1000u);
  EXPECT_EQ(s.content.apiKeyHeader, "X-Api-Key");
  ASSERT_EQ(s.groups.size(), 6u);
  EXPECT_EQ(s.groups[0].name, "web");
  EXPECT_EQ(s.groups[0].clients, 200u);
  EXPECT_DOUBLE_EQ(s.groups[0].zipf, 1.1);
  EXPECT_EQ(s.groups[1].arrivals.kind, ArrivalKind::kMmpp);
  EXPECT_DOUBLE_EQ(s.groups[1].arrivals.burstFactor, 6.0);
  EXPECT_EQ(s.groups[1].arrivals.burstGap, std::chrono::minutes(2));
  EXPECT_EQ(s.groups[2].arrivals.states.size(), 2u);
  EXPECT_EQ(s.groups[2].arrivals.initialState, 1u);
  EXPECT_EQ(s.groups[3].arrivals.generator.size(), 2u);
  EXPECT_EQ(s.groups[4].arrivals.kind, ArrivalKind::kDiurnal);
  EXPECT_EQ(s.groups[5].arrivals.profile.size(), 3u);
  EXPECT_EQ(s.groups[5].content.paths.size(), 1u) << "a group's content replaces keys of the workload's";
  EXPECT_EQ(s.groups[5].content.statuses, s.content.statuses) << "...and inherits the others";
  ASSERT_EQ(s.abusive.size(), 2u);
  EXPECT_EQ(s.abusive[0].count, 2u);
  EXPECT_EQ(s.abusive[0].on, std::chrono::seconds(20));
  EXPECT_EQ(s.abusive[0].from, std::chrono::minutes(1));
  EXPECT_EQ(s.abusive[0].until, std::chrono::minutes(9));
  EXPECT_EQ(s.abusive[1].pattern, AbusePattern::kPoisson);
  EXPECT_TRUE(WorkloadGenerator::make(s).ok());
}

// Property: a minimal spec takes the documented defaults.
TEST(WorkloadSpecYaml, MinimalSpecDefaults) {
  const SpecLoadResult r = parse("version: 1\nduration: 1m\ngroups: [{clients: 10, arrivals: {process: poisson, rate: 5/s}}]\n");
  ASSERT_TRUE(r.spec.has_value()) << all(r.diagnostics);
  EXPECT_EQ(r.spec->seed, 1u);
  EXPECT_EQ(r.spec->start, WorkloadSpec::defaultStart());
  EXPECT_DOUBLE_EQ(r.spec->groups[0].zipf, 1.0);
  EXPECT_EQ(r.spec->content, defaultContent());
  EXPECT_EQ(r.spec->groups[0].name, "group0");
}

struct BadCase {
  const char* property;
  const char* yaml;
  int line;             // expected position of the (first) diagnostic
  int column;
  const char* path;     // expected YAML path ("" for syntax errors)
  const char* message;  // a substring of the message (or allowed text)
};

const char* const kHead = "version: 1\nduration: 1m\n";  // two lines

// Property: each mistake gives a diagnostic at the offending node, with its YAML path.
TEST(WorkloadSpecYaml, DiagnosticsCarryPathLineColumn) {
  const BadCase cases[] = {
      {"unknown top-level key (typo)", "durration: 5m\ngroups: [{clients: 1, arrivals: {process: poisson, rate: 1/s}}]\n", 3, 1,
       "durration", "did you mean 'duration'"},
      {"unknown group key", "groups:\n  - clients: 3\n    zipff: 1\n    arrivals: {process: poisson, rate: 1/s}\n", 5, 5,
       "groups[0].zipff", "zipf"},
      {"wrong type for clients", "groups:\n  - clients: many\n    arrivals: {process: poisson, rate: 1/s}\n", 4, 14,
       "groups[0].clients", "many"},
      {"bad rate unit", "groups:\n  - clients: 3\n    arrivals: {process: poisson, rate: 100/fortnight}\n", 5, 40,
       "groups[0].arrivals.rate", "fortnight"},
      {"unknown process", "groups:\n  - clients: 3\n    arrivals: {process: hawkes, rate: 1/s}\n", 5, 25,
       "groups[0].arrivals.process", "hawkes"},
      {"key that does not apply to the process",
       "groups:\n  - clients: 3\n    arrivals: {process: poisson, rate: 1/s, burst_factor: 3}\n", 5, 0,
       "groups[0].arrivals.burst_factor", "burst_factor"},
      {"semantic: negative zipf, placed at its node",
       "groups:\n  - clients: 3\n    zipf: -2\n    arrivals: {process: poisson, rate: 1/s}\n", 5, 11, "groups[0].zipf", ""},
      {"bad path template", "content:\n  paths: [\"/a/{bogus}\"]\ngroups: [{clients: 1, arrivals: {process: poisson, rate: 1/s}}]\n",
       4, 0, "content.paths[0]", "bogus"},
      {"bad duration", "groups: [{clients: 1, arrivals: {process: poisson, rate: 1/s}}]\nabusive: [{rate: 5/s, on: soon, off: 1s}]\n",
       4, 0, "abusive[0].on", "soon"},
      {"bad time zone", "time_zone: Europe/Paris\ngroups: [{clients: 1, arrivals: {process: poisson, rate: 1/s}}]\n", 3, 12,
       "time_zone", "Europe/Paris"},
      {"MMPP generator rows must sum to 0",
       "groups:\n  - clients: 3\n    arrivals:\n      process: mmpp\n      states: [{rate: 1/s}, {rate: 2/s}]\n"
       "      generator: [[-1, 2], [1, -1]]\n",
       8, 0, "groups[0].arrivals", ""},
      {"profile times must increase",
       "groups:\n  - clients: 3\n    arrivals:\n      process: diurnal\n      profile: [{at: \"10:00\", rate: 1/s}, {at: \"09:00\", rate: 2/s}]\n",
       7, 0, "groups[0].arrivals.profile[1].at", ""},
      {"YAML syntax error", "groups: [\n", 4, 0, "", "YAML"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.property);
    const SpecLoadResult r = parse(std::string(kHead) + c.yaml);
    ASSERT_FALSE(r.spec.has_value());
    ASSERT_FALSE(r.diagnostics.empty());
    const config::Diagnostic& d = r.diagnostics.front();
    EXPECT_EQ(d.file, "spec.yaml");
    EXPECT_EQ(d.line, c.line) << all(r.diagnostics);
    if (c.column != 0) {
      EXPECT_EQ(d.column, c.column) << all(r.diagnostics);
    }
    EXPECT_GT(d.column, 0) << all(r.diagnostics);
    EXPECT_TRUE(d.path.starts_with(c.path)) << all(r.diagnostics);
    EXPECT_FALSE(d.message.empty());
    EXPECT_NE((d.message + " " + d.allowed).find(c.message), std::string::npos) << all(r.diagnostics);
    // The one-line form the CLI prints: FILE:LINE:COL: PATH: MESSAGE[; allowed: ...].
    const std::string line = config::formatDiagnostic(d);
    EXPECT_TRUE(line.starts_with("spec.yaml:" + std::to_string(d.line) + ":" + std::to_string(d.column) + ": ")) << line;
  }
}

// Property: all problems are collected (not just the first), sorted by position.
TEST(WorkloadSpecYaml, CollectsEveryProblem) {
  const SpecLoadResult r = parse(
      "version: 1\n"
      "duration: forever\n"
      "groups:\n"
      "  - clients: 0\n"
      "    zipf: x\n"
      "    arrivals: {process: poisson, rate: 1/s}\n"
      "abusive:\n"
      "  - {rate: 5/s, patern: constant}\n");
  ASSERT_FALSE(r.spec.has_value());
  ASSERT_GE(r.diagnostics.size(), 4u) << all(r.diagnostics);
  for (std::size_t i = 1; i < r.diagnostics.size(); ++i) {
    EXPECT_LE(r.diagnostics[i - 1].line, r.diagnostics[i].line) << all(r.diagnostics);
  }
  const std::string text = all(r.diagnostics);
  for (const char* path : {"duration", "groups[0].clients", "groups[0].zipf", "abusive[0].patern"}) {
    EXPECT_NE(text.find(std::string(": ") + path + ": "), std::string::npos) << path << " in\n" << text;
  }
}

// Property: version is required and must be 1; the document must be a mapping; one document only.
TEST(WorkloadSpecYaml, DocumentShape) {
  for (const char* yaml : {"", "duration: 1m\ngroups: [{clients: 1, arrivals: {process: poisson, rate: 1/s}}]\n",
                           "version: 2\nduration: 1m\n", "- 1\n- 2\n", "just text", "version: 1\n---\nversion: 1\n"}) {
    const SpecLoadResult r = parse(yaml);
    EXPECT_FALSE(r.spec.has_value()) << yaml;
    EXPECT_FALSE(r.diagnostics.empty()) << yaml;
  }
}

// Property: a missing file is one diagnostic naming it, without a position; a file on disk loads.
TEST(WorkloadSpecYaml, LoadFromFile) {
  const testing::TempDir dir;
  const SpecLoadResult missing = loadWorkloadSpec(dir.file("absent.yaml"));
  ASSERT_EQ(missing.diagnostics.size(), 1u);
  EXPECT_EQ(missing.diagnostics[0].line, 0);
  EXPECT_NE(config::formatDiagnostic(missing.diagnostics[0]).find("absent.yaml"), std::string::npos);
  const std::string path = dir.file("spec.yaml");
  std::ofstream(path) << kFullSpec;
  const SpecLoadResult ok = loadWorkloadSpec(path);
  EXPECT_TRUE(ok.spec.has_value()) << all(ok.diagnostics);
  EXPECT_EQ(loadWorkloadSpec(dir.path().string()).spec.has_value(), false) << "a directory is not a spec";
}

// Property: hostile or mangled input never crashes or throws: the result is either a spec or at
// least one diagnostic with a message (a deterministic mutation fuzz of the full spec, plus a few
// classic YAML traps).
TEST(WorkloadSpecYaml, NeverCrashesOnMangledInput) {
  const std::vector<std::string> traps = {
      std::string("version: 1\0\x01\x02", 14),
      "version: 1\nduration: 1m\ngroups: &a [*a]\n",
      "version: 1\nduration: 1m\ngroups: " + std::string(500, '[') + std::string(500, ']') + "\n",
      "version: 1\nduration: 1m\nseed: 99999999999999999999999999\n",
      "version: 1\nduration: 1m\ngroups: [{clients: 1e300, arrivals: {process: poisson, rate: 1e300/s}}]\n",
      "version: 1\nduration: 1m\ngroups: [{clients: 1, zipf: .nan, arrivals: {process: mmpp, states: [], generator: [[]]}}]\n",
      "version: 1\nduration: 1m\ngroups: [{clients: 1, arrivals: {process: diurnal, profile: [{at: \"25:61\", rate: -1/s}]}}]\n",
      "\t\tversion: 1\n",
      "version: 1\nduration: 1m\ncontent: {paths: [{path: 7}], methods: [GET], statuses: {abc: 1}, bytes: {median: -1}}\n",
  };
  const auto check = [](const std::string& yaml) {
    SpecLoadResult r;
    EXPECT_NO_THROW(r = parseWorkloadSpec(yaml, "fuzz.yaml"));
    EXPECT_EQ(r.spec.has_value(), r.diagnostics.empty());
    for (const config::Diagnostic& d : r.diagnostics) {
      EXPECT_FALSE(d.message.empty());
      EXPECT_GE(d.line, 0);
    }
    if (r.spec) {
      EXPECT_TRUE(checkWorkloadSpec(*r.spec).empty()) << "a spec that read cleanly is valid";
    }
  };
  for (const std::string& t : traps) check(t);
  const std::string base = kFullSpec;
  Rng rng(12345);
  constexpr std::string_view kAlphabet = "{}[]:,-'\"#&*!|>%@` \n\t0123456789abc/.";
  for (int i = 0; i < 600; ++i) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const std::size_t at = static_cast<std::size_t>(rng() % s.size());
      switch (rng() % 3) {
        case 0: s.erase(at, 1 + rng() % 8); break;
        case 1: s.insert(at, 1, kAlphabet[rng() % kAlphabet.size()]); break;
        default: s[at] = kAlphabet[rng() % kAlphabet.size()]; break;
      }
    }
    check(s);
  }
}

}  // namespace
}  // namespace gatelab::sim::workload
