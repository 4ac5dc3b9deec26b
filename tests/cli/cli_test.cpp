// End-to-end: the real `gatelab` binary, its exit codes (0 ok, 1 invalid input, 2 usage) and
// what it prints.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

struct CommandResult {
  int status;
  std::string out;  // stdout and stderr together
};

/// Runs gatelab with `args`; `merge`: stderr joins stdout, else stderr is discarded (for --json).
CommandResult run(const std::string& args, bool merge = true) {
  const std::string cmd = std::string(GATELAB_BIN) + " " + args + (merge ? " 2>&1" : " 2>/dev/null");
  CommandResult r{-1, {}};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p)) r.out += buf.data();
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

CommandResult runOut(const std::string& args) { return run(args, false); }

std::string source(const std::string& rel) { return std::string(GATELAB_SOURCE_DIR) + "/" + rel; }

std::string writeTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(CliValidate, ValidExampleConfigPrintsASummaryAndExitsZero) {
  const CommandResult r = run("validate " + source("examples/gateway.yaml"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(": ok: version 1,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rate-limit policies"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("access policies"), std::string::npos) << r.out;  // none in this config
  // The access policies and consumers of a config that has them, counted by kind.
  const CommandResult a = run("validate " + source("examples/auth.yaml"));
  EXPECT_EQ(a.status, 0) << a.out;
  EXPECT_NE(a.out.find("access policies: 2 acl, 1 cors, 1 jwt, 1 key_auth, 1 request_headers, 1 response_headers; "
                       "3 consumers"),
            std::string::npos)
      << a.out;
}

TEST(CliValidate, EveryBundledExampleIsValid) {
  for (const char* f : {"examples/gateway.yaml", "examples/minimal.yaml", "examples/multi_limit.yaml",
                        "examples/nginx_limit_req.yaml", "examples/auth.yaml", "examples/bff.yaml"}) {
    const CommandResult r = run("validate --quiet " + source(f));
    EXPECT_EQ(r.status, 0) << f << "\n" << r.out;
  }
}

TEST(CliValidate, InvalidConfigPrintsEveryErrorWithItsLocationAndExitsOne) {
  const std::string bad = writeTemp("bad.yaml",
                                    "version: 1\n"
                                    "services:\n"
                                    "  - name: users\n"
                                    "    targets: [http://127.0.0.1:3001]\n"
                                    "routes:\n"
                                    "  - name: users\n"
                                    "    match: { path_prefx: /api }\n"
                                    "    service: user\n");
  const CommandResult r = run("validate " + bad);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("bad.yaml:7:"), std::string::npos) << "line of the typo\n" << r.out;
  EXPECT_NE(r.out.find("path_prefix"), std::string::npos) << "did-you-mean\n" << r.out;
  EXPECT_NE(r.out.find("bad.yaml:8:"), std::string::npos) << "unknown service reported too\n" << r.out;
  EXPECT_NE(r.out.find("invalid ("), std::string::npos) << r.out;
}

TEST(CliValidate, OneInvalidFileAmongValidOnesStillExitsOne) {
  const std::string bad = writeTemp("bad2.yaml", "version: 2\n");
  const CommandResult r = run("validate " + source("examples/minimal.yaml") + " " + bad);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("minimal.yaml: ok"), std::string::npos) << r.out;
}

TEST(CliValidate, MissingFileIsAnInputErrorNotACrash) {
  const CommandResult r = run("validate /nonexistent/gatelab.yaml");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/gatelab.yaml"), std::string::npos) << r.out;
}

TEST(CliUsage, UsageErrorsExitTwo) {
  EXPECT_EQ(run("").status, 2) << "no subcommand";
  EXPECT_EQ(run("validate").status, 2) << "no file";
  EXPECT_EQ(run("frobnicate").status, 2) << "unknown subcommand";
  EXPECT_EQ(run("--help").status, 0);
}

TEST(CliLimiters, ComparesEveryAlgorithmOnTheSameTraffic) {
  const CommandResult r = run("limiters");
  EXPECT_EQ(r.status, 0) << r.out;
  for (const char* name : {"token_bucket", "gcra", "leaky_bucket (nginx)", "fixed_window", "sliding_window_log",
                           "sliding_window_counter"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  }
}

TEST(CliLimiters, JsonOutputCountsEveryRequestOnce) {
  const CommandResult r = run("limiters --json");
  ASSERT_EQ(r.status, 0) << r.out;
  // allowed + delayed + rejected == requests for every variant (checked in the text, no parser
  // dependency in this test): the first variant's numbers appear in order.
  EXPECT_NE(r.out.find("\"requests\": 225"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"variants\""), std::string::npos);
}

// ---- Scenarios: sim, compare, rehearse, demo --------------------------------------------------

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

TEST(CliScenario, EveryBundledGatewayConfigIsValid) {
  for (const char* f : {"outage", "retries", "canary", "shop"}) {
    const CommandResult r = run("validate --quiet " + source(std::string("scenarios/gateways/") + f + ".yaml"));
    EXPECT_EQ(r.status, 0) << f << "\n" << r.out;
  }
}

TEST(CliScenario, EveryBundledScenarioCompares) {
  for (const char* f : {"compare-limiters", "backend-outage", "retry-storm", "canary-ejection", "nasa-limiters", "nasa-cache"}) {
    const CommandResult r = run("compare --quiet " + source(std::string("scenarios/") + f + ".yaml"));
    EXPECT_EQ(r.status, 0) << f << "\n" << r.out;
    EXPECT_NE(r.out.find("p99 latency"), std::string::npos) << f << "\n" << r.out;
  }
}

// The response cache on the NASA trace: hits grow with the TTL, every hit is a backend call
// saved, and only the stale-if-error variant answers during the outage from expired entries.
TEST(CliScenario, CacheScenarioShowsTheLoadSavedAndTheStaleAnswers) {
  const CommandResult r = runOut("compare --json " + source("scenarios/nasa-cache.yaml"));
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  std::map<std::string, nlohmann::json> f;
  for (const auto& v : j["variants"]) f[v["variant"].get<std::string>()] = v["figures"];
  ASSERT_EQ(f.size(), 5U);
  const std::uint64_t requests = f["no-cache"]["requests"].get<std::uint64_t>();
  EXPECT_EQ(requests, 30969U);
  EXPECT_EQ(f["no-cache"]["cache_hits"], 0);
  EXPECT_EQ(f["no-cache"]["backend_tries"], requests) << "no retries configured: one try per request";
  for (const char* name : {"ttl-1m", "ttl-5m", "ttl-1h"}) {
    const auto hits = f[name]["cache_hits"].get<std::uint64_t>();
    EXPECT_GT(hits, 0U) << name;
    EXPECT_EQ(hits + f[name]["backend_tries"].get<std::uint64_t>(), requests) << name << ": a hit is a try saved";
    EXPECT_EQ(f[name]["cache_stale"], 0) << name;
  }
  EXPECT_LT(f["ttl-1m"]["cache_hits"].get<std::uint64_t>(), f["ttl-5m"]["cache_hits"].get<std::uint64_t>());
  EXPECT_LT(f["ttl-5m"]["cache_hits"].get<std::uint64_t>(), f["ttl-1h"]["cache_hits"].get<std::uint64_t>());
  EXPECT_EQ(f["stale-1h"]["cache_hits"], f["ttl-5m"]["cache_hits"]) << "stale_if_error does not change what is fresh";
  EXPECT_GT(f["stale-1h"]["cache_stale"].get<std::uint64_t>(), 0U);
  EXPECT_LT(f["stale-1h"]["error_rate"].get<double>(), f["ttl-5m"]["error_rate"].get<double>());
  // rehearse gates on the outage check: only stale-1h passes it.
  const CommandResult gate = run("rehearse " + source("scenarios/nasa-cache.yaml"));
  EXPECT_EQ(gate.status, 1) << gate.out;
  EXPECT_NE(gate.out.find("variant ttl-1h: breached error_rate"), std::string::npos) << gate.out;
  EXPECT_EQ(gate.out.find("variant stale-1h: breached"), std::string::npos) << gate.out;
}

// The demo compares every algorithm; the exact sliding log is the reference, so it scores 0.
TEST(CliScenario, DemoComparesTheLimitersAgainstTheGroundTruth) {
  const CommandResult r = runOut("demo --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["variants"].size(), 7U);
  bool sawLog = false;
  for (const auto& v : j["variants"]) {
    EXPECT_EQ(v["figures"]["requests"], 36755) << v.dump();
    if (v["variant"] == "sliding-log") {
      sawLog = true;
      EXPECT_EQ(v["figures"]["false_allows"], 0);
      EXPECT_EQ(v["figures"]["false_blocks"], 0);
      EXPECT_LE(v["figures"]["worst_overshoot"].get<double>(), 1.0);
    }
    if (v["variant"] == "token-bucket") {
      // burst 20 + 10/s refill: up to 3x the nominal 10 per second, by design.
      EXPECT_GT(v["figures"]["worst_overshoot"].get<double>(), 1.5);
    }
  }
  EXPECT_TRUE(sawLog);
}

// rehearse: the no-breaker variant breaches the outage SLO; the message names the file and line
// of the check and the measured value; exit 1. The breaker variant alone passes: exit 0.
TEST(CliScenario, RehearseGatesOnTheChecks) {
  const std::string scenario = source("scenarios/backend-outage.yaml");
  const CommandResult bad = run("rehearse --quiet " + scenario);
  EXPECT_EQ(bad.status, 1) << bad.out;
  EXPECT_NE(bad.out.find("backend-outage.yaml:"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("variant no-breaker: breached p99_latency[2m10s,3m) < 250ms (measured 1s)"), std::string::npos)
      << bad.out;
  // When: the timeline buckets that breach, inside the check's window.
  EXPECT_NE(bad.out.find("first breached in [130s, 131s)"), std::string::npos) << bad.out;
  EXPECT_EQ(bad.out.find("variant breaker: breached"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find(": FAIL"), std::string::npos) << bad.out;

  const CommandResult good = run("rehearse --quiet --variant breaker " + scenario);
  EXPECT_EQ(good.status, 0) << good.out;
  EXPECT_NE(good.out.find(": PASS"), std::string::npos) << good.out;
}

// --no-failures: without the outage nothing is breached, for either variant... except the check
// that the breaker opened at least once, which then has nothing to open on.
TEST(CliScenario, NoFailuresTurnsTheInjectionOff) {
  const CommandResult r = runOut("rehearse --json --no-failures " + source("scenarios/backend-outage.yaml"));
  EXPECT_EQ(r.status, 1) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["failures_injected"], false);
  for (const auto& v : j["variants"]) {
    for (const auto& c : v["checks"]) {
      const bool opened = c["check"].get<std::string>().rfind("breaker_opens", 0) == 0;
      EXPECT_EQ(c["passed"].get<bool>(), !opened) << c.dump();
    }
  }
}

// sim --out writes the report, the timeline (one line per bucket, covering the run) and the
// summary; the report's totals match the timeline's.
TEST(CliScenario, SimWritesReportTimelineAndSummary) {
  const std::filesystem::path out = std::filesystem::path(::testing::TempDir()) / "gatelab-cli-sim";
  std::filesystem::remove_all(out);
  const CommandResult r =
      run("sim --quiet --variant breaker " + source("scenarios/backend-outage.yaml") + " --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("variant breaker"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("resilience events"), std::string::npos) << r.out;
  const auto report = nlohmann::json::parse(slurp(out / "breaker" / "report.json"));
  EXPECT_EQ(report["variant"], "breaker");
  EXPECT_EQ(report["seed"], 7);
  EXPECT_EQ(report["trace"]["records"], 36755);
  EXPECT_GE(report["metrics"]["breaker_opens"].get<int>(), 1);
  ASSERT_EQ(report["failure_windows"].size(), 2U);  // the black hole, then its recovery ramp

  std::istringstream timeline(slurp(out / "breaker" / "timeline.ndjson"));
  std::string line;
  std::uint64_t requests = 0, lines = 0;
  double lastEnd = 0;
  while (std::getline(timeline, line)) {
    const auto b = nlohmann::json::parse(line);
    EXPECT_EQ(b["index"], lines);
    EXPECT_EQ(b["start_ms"].get<double>(), lastEnd);
    lastEnd = b["end_ms"].get<double>();
    requests += b["requests"].get<std::uint64_t>();
    ++lines;
  }
  EXPECT_EQ(requests, report["metrics"]["overall"]["requests"].get<std::uint64_t>());
  EXPECT_EQ(lastEnd, report["simulated_ms"].get<double>());
  EXPECT_GE(lines, 600U);

  const std::string csv = slurp(out / "summary.csv");
  EXPECT_EQ(csv.rfind("variant,requests,", 0), 0U) << csv;
  EXPECT_NE(csv.find("\nbreaker,36755,"), std::string::npos) << csv;
}

TEST(CliScenario, BadInputIsReportedNotCrashed) {
  const std::string outage = source("scenarios/backend-outage.yaml");
  CommandResult r = run("compare --quiet --variant nope " + outage);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("no variant named 'nope'; allowed: breaker, no-breaker"), std::string::npos) << r.out;

  r = run("compare --quiet --seed 12x " + outage);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--seed"), std::string::npos) << r.out;

  r = run("sim --quiet --variant breaker --variant no-breaker " + outage);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("gatelab compare"), std::string::npos) << r.out;

  r = run("rehearse --quiet " + source("scenarios/compare-limiters.yaml"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("no `expect:` checks"), std::string::npos) << r.out;

  const std::string bad = writeTemp("bad-scenario.yaml", "version: 1\ngateway: nowhere.yaml\ntrace: {file: x.log}\nseeds: 3\n");
  r = run("sim " + bad);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("bad-scenario.yaml:4:1: seeds: unknown key"), std::string::npos) << r.out;

  r = run("sim " + ::testing::TempDir() + "no-such-scenario.yaml");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("no-such-scenario.yaml"), std::string::npos) << r.out;

  r = run("sim");
  EXPECT_EQ(r.status, 2) << r.out;
}

}  // namespace
