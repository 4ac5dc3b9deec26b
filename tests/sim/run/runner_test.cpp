// runSimulation end to end on small traces written by the tests: what is submitted is what the
// config decides (rate limits, routing), failures land in their windows (and only when injected),
// extra headers reach the policy core, events from the runtime's construction are not lost, the
// timeline covers the run, the same plan gives the same results, and bad plans fail with a reason.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/config/loader.hpp"
#include "sim/metrics/metrics_json.hpp"
#include "sim/run/runner.hpp"

namespace gatelab::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string tempFile(const std::string& name, const std::string& text) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "gatelab-runner";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

/// `count` combined-log lines for `client` and `path`, spread over seconds [first, first + spanSeconds).
std::string lines(const std::string& client, const std::string& path, int count, int first = 0, int spanSeconds = 1,
                  const std::string& extra = "") {
  std::string out;
  for (int i = 0; i < count; ++i) {
    const int s = first + (i * spanSeconds) / count;
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "[05/Mar/2024:14:%02d:%02d +0000]", s / 60, s % 60);
    out += client + " - - " + stamp + " \"GET " + path + " HTTP/1.1\" 200 10 \"-\" \"curl\"" + extra + "\n";
  }
  return out;
}

std::shared_ptr<const config::GatewayConfig> configOf(const std::string& yaml) {
  auto r = config::loadConfigString(yaml, "test.yaml");
  EXPECT_TRUE(r.ok()) << r.errorText();
  return r.config;
}

constexpr const char* kLimited = R"(version: 1
services:
  - name: api
    targets: [http://10.0.0.1:80]
routes:
  - name: api
    match: { path_prefix: /api }
    service: api
    policies:
      - rate_limit: { name: per-client, algorithm: token_bucket, limit: 10/s, burst: 10, key: ip }
  - name: site
    match: { path_prefix: /site }
    service: api
)";

RunPlan planFor(std::shared_ptr<const config::GatewayConfig> config, const std::string& trace) {
  RunPlan plan;
  plan.label = "test";
  plan.config = std::move(config);
  plan.seed = RunSeed{5, 0};
  plan.traceFile = trace;
  plan.traceFormat = trace::parseTraceFormat("combined").value();
  plan.backendFor = [](const std::string&, const std::string&, std::size_t) {
    BackendConfig b;
    b.servers = 64;
    b.serviceTime = ServiceTime::constant(milliseconds(5));
    return b;
  };
  return plan;
}

double q(const RunResult& r, Metric m, std::string route = {}) {
  MetricRef ref;
  ref.metric = m;
  ref.route = std::move(route);
  return r.metrics().query(ref).value_or(-1.0);
}

// 30 requests from one client in one second through 10/s burst 10: exactly 10 pass (no refill
// happens before the 10th, since all 30 arrive at the same second without spreading); other
// clients and unlimited routes are untouched; unmatched paths are 404 and counted as unrouted.
TEST(Runner, RateLimitDecisionsAndRouting) {
  const std::string trace = tempFile("limit.log", lines("10.0.0.1", "/api/x", 30) + lines("10.0.0.2", "/api/y", 5) +
                                                      lines("10.0.0.1", "/site/z", 7) + lines("10.0.0.3", "/other", 2));
  const RunResult r = runSimulation(planFor(configOf(kLimited), trace));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.submitted, 44U);
  EXPECT_EQ(r.reader.records, 44U);
  const MetricsResults m = r.metrics().results();
  EXPECT_EQ(m.overall.requests, 44U);
  ASSERT_EQ(m.policies.size(), 1U);
  EXPECT_EQ(m.policies[0].decisions, 35U);
  EXPECT_EQ(m.policies[0].allowed, 15U);  // 10 of client .1, all 5 of client .2
  EXPECT_EQ(m.policies[0].rejected, 20U);
  EXPECT_EQ(m.overall.statusClasses[3], 22U);  // 20 x 429 + 2 x 404
  EXPECT_EQ(m.unroutedRequests, 2U);
  EXPECT_EQ(q(r, Metric::kRequests, "site"), 7.0);
  EXPECT_EQ(q(r, Metric::kRejectedShare, "api"), 20.0 / 35.0);
  // Every accepted request took the backend's constant 5ms (nothing queued with 64 servers).
  EXPECT_EQ(q(r, Metric::kMaxLatency, "site"), 0.005);
}

// A service down from 2s to 4s: the requests arriving in the window fail (502: connection
// refused), the others succeed; without injection nothing fails.
TEST(Runner, FailuresLandInTheirWindowOnlyWhenInjected) {
  const std::string trace = tempFile("failure.log", lines("10.0.0.9", "/site/a", 60, 0, 6));
  RunPlan plan = planFor(configOf(kLimited), trace);
  PlannedFailure down;
  down.at = seconds(2);
  down.spec.service = "api";
  down.spec.duration = seconds(2);
  down.spec.effect = Down{};
  plan.failures.push_back(down);

  const RunResult with = runSimulation(plan);
  ASSERT_TRUE(with.ok) << with.error;
  EXPECT_EQ(with.metrics().results().overall.statusClasses[4], 20U);  // seconds 2 and 3, 10 each
  ASSERT_EQ(with.failureWindows.size(), 1U);
  EXPECT_EQ(with.failureWindows[0].start - core::TimePoint{}, seconds(2));

  MetricRef during{Metric::kErrorRate, {}, {}, {}, MetricWindow{seconds(2), seconds(4)}};
  MetricRef after{Metric::kErrorRate, {}, {}, {}, MetricWindow{seconds(4), seconds(6)}};
  plan.windows = {*during.window, *after.window};
  const RunResult windowed = runSimulation(plan);
  ASSERT_TRUE(windowed.ok) << windowed.error;
  EXPECT_EQ(windowed.metrics().query(during), 1.0);
  EXPECT_EQ(windowed.metrics().query(after), 0.0);

  plan.injectFailures = false;
  const RunResult without = runSimulation(plan);
  ASSERT_TRUE(without.ok) << without.error;
  EXPECT_EQ(without.metrics().results().overall.statusClasses[4], 0U);
  EXPECT_TRUE(without.failureWindows.empty());
}

// RunPlan::headers reach the policy core: keyed by an API key header that the trace lacks, every
// request is one key (limited together); without the header they all lack the key.
TEST(Runner, ExtraHeadersReachThePolicies) {
  const std::string yaml = R"(version: 1
services:
  - name: api
    targets: [http://10.0.0.1:80]
routes:
  - name: api
    match: { path_prefix: / }
    service: api
    policies:
      - rate_limit: { name: per-key, algorithm: fixed_window, limit: 5/s, key: "header:X-Api-Key", on_missing_key: skip }
)";
  std::string text;
  for (int c = 0; c < 10; ++c) text += lines("10.0.1." + std::to_string(c), "/a", 1);
  const std::string trace = tempFile("headers.log", text);
  RunPlan plan = planFor(configOf(yaml), trace);
  plan.headers = {{"X-Api-Key", "demo"}};
  const RunResult keyed = runSimulation(plan);
  ASSERT_TRUE(keyed.ok) << keyed.error;
  EXPECT_EQ(keyed.metrics().results().policies.at(0).rejected, 5U);

  plan.headers.clear();
  const RunResult unkeyed = runSimulation(plan);
  ASSERT_TRUE(unkeyed.ok) << unkeyed.error;
  EXPECT_EQ(unkeyed.metrics().results().overall.statusClasses[3], 0U);
}

// Access policies run on the trace's own credentials: records logged with a valid API key reach
// the backend, the others are answered 401 by key_auth (or 403 by the acl) and never cost it
// anything; a JWT's exp is checked against the record's trace time, not the simulated clock.
TEST(Runner, AuthenticationRunsOnTheTracesCredentials) {
  const std::string fixtures = [] {
    std::ifstream in(std::string(GATELAB_SOURCE_DIR) + "/tests/gateway/core/auth/data/fixtures.json");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }();
  const nlohmann::json fx = nlohmann::json::parse(fixtures);
  const std::string yaml = R"yaml(version: 1
consumers:
  - id: alice
    groups: [staff]
    keys: [alice-key-0123456789abcdef]
  - id: mallory
    groups: [banned]
    keys: [mallory-key-0123456789abcdef]
services:
  - name: api
    targets: [http://10.0.0.1:80]
routes:
  - name: keys
    match: { path_prefix: /keys }
    service: api
    policies:
      - key_auth: {}
      - acl: { deny: [banned] }
  - name: tokens
    match: { path_prefix: /tokens }
    service: api
    policies:
      - jwt: { keys: [{kid: hs256, alg: HS256, secret: )yaml" +
                           fx["secrets"]["hs256_base64url"].get<std::string>() + R"yaml(, secret_encoding: base64url}] }
)yaml";
  // $time_local, the request line, the status, then the credentials the log recorded.
  const std::int64_t now = fx["now"].get<std::int64_t>();  // the fixtures' tokens expire at now + 3600
  const auto stamp = [](std::int64_t unix) {
    const std::time_t t = static_cast<std::time_t>(unix);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char out[64];
    std::strftime(out, sizeof out, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    return std::string(out);
  };
  const std::string token = fx["tokens"]["hs256"].get<std::string>();
  std::string text;
  const auto line = [&](std::int64_t at, const std::string& path, const std::string& key, const std::string& auth) {
    text += "10.0.0.1 [" + stamp(at) + "] \"GET " + path + " HTTP/1.1\" 200 \"" + key + "\" \"" + auth + "\"\n";
  };
  for (int i = 0; i < 6; ++i) line(now + i, "/keys/a", "alice-key-0123456789abcdef", "-");
  for (int i = 0; i < 3; ++i) line(now + 6 + i, "/keys/a", "-", "-");
  for (int i = 0; i < 2; ++i) line(now + 9 + i, "/keys/a", "mallory-key-0123456789abcdef", "-");
  line(now + 3599, "/tokens/1", "-", "Bearer " + token);  // valid at its trace time
  line(now + 3601, "/tokens/1", "-", "Bearer " + token);  // expired one second ago
  const std::string trace = tempFile("auth.log", text);

  RunPlan plan = planFor(configOf(yaml), trace);
  plan.traceFormat =
      trace::parseTraceFormat("nginx:$remote_addr [$time_local] \"$request\" $status \"$http_apikey\" \"$http_authorization\"")
          .value();
  const RunResult r = runSimulation(plan);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.reader.malformed, 0U);
  const MetricsResults m = r.metrics().results();
  const auto outcome = [&](flow::Outcome o) { return m.overall.outcomes[static_cast<std::size_t>(o)]; };
  EXPECT_EQ(outcome(flow::Outcome::kUpstream), 7U);      // alice's six, the token in time
  EXPECT_EQ(outcome(flow::Outcome::kUnauthorized), 4U);  // three without a key, the expired token
  EXPECT_EQ(outcome(flow::Outcome::kForbidden), 2U);     // mallory's group is denied
  EXPECT_EQ(q(r, Metric::kRequests, "keys"), 11.0);
  EXPECT_EQ(q(r, Metric::kAuthRejectedShare), 6.0 / 13.0);  // a scenario check can gate on it
  EXPECT_EQ(q(r, Metric::kAuthRejectedShare, "tokens"), 0.5);
  std::uint64_t backendCalls = 0;
  for (const auto& b : r.backends) backendCalls += b.stats.calls;
  EXPECT_EQ(backendCalls, 7U);  // refused requests never reach the backend
}

// An aggregate route: each page calls both parts in parallel, so its latency is the slowest
// part's (20ms, not 5 + 20); a part with on_failure: fail makes the page 502 while its service is
// down, one with null does not.
TEST(Runner, AggregatePagesTakeTheSlowestPartAndFollowTheFailurePolicies) {
  const auto yaml = [](const std::string& ordersFailure) {
    return R"yaml(version: 1
services:
  - name: users
    targets: [http://10.0.0.1:80]
  - name: orders
    targets: [http://10.0.1.1:80]
routes:
  - name: home
    match: { path_prefix: /home }
    service: users
    policies:
      - aggregate:
          parts:
            - { name: profile, path: /me }
            - { name: orders, service: orders, path: /orders, on_failure: )yaml" + ordersFailure + R"yaml( }
)yaml";
  };
  const std::string trace = tempFile("aggregate.log", lines("10.0.0.7", "/home", 40, 0, 4));
  RunPlan plan = planFor(configOf(yaml("null")), trace);
  plan.backendFor = [](const std::string& service, const std::string&, std::size_t) {
    BackendConfig b;
    b.servers = 64;
    b.serviceTime = ServiceTime::constant(service == "orders" ? milliseconds(20) : milliseconds(5));
    return b;
  };
  RunResult r = runSimulation(plan);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.metrics().results().overall.requests, 40U);
  EXPECT_EQ(r.metrics().results().overall.statusClasses[1], 40U);
  EXPECT_EQ(q(r, Metric::kMaxLatency, "home"), 0.020);
  std::uint64_t calls = 0;
  for (const auto& b : r.backends) calls += b.stats.calls;
  EXPECT_EQ(calls, 80U);  // two parts per page

  PlannedFailure down;
  down.at = seconds(2);
  down.spec.service = "orders";
  down.spec.duration = seconds(1);
  down.spec.effect = Down{};
  plan.failures.push_back(down);
  r = runSimulation(plan);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.metrics().results().overall.statusClasses[4], 0U);  // orders is null while down

  plan.config = configOf(yaml("fail"));
  r = runSimulation(plan);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.metrics().results().overall.statusClasses[4], 10U);  // the 10 pages of second 2
}

// The response cache in simulation: the ten requests of second 0 arrive together (no spreading),
// all miss and reach the backend; the ten of second 1 are hits that cost the backend nothing.
// In seconds 2 and 3 the entry has expired (ttl 1.5s) and the backend is down: the calls are
// refused and the expired entry answers instead (stale_if_error).
TEST(Runner, TheResponseCacheSavesBackendCallsAndServesStale) {
  const std::string yaml = R"yaml(version: 1
services:
  - name: api
    targets: [http://10.0.0.1:80]
routes:
  - name: c
    match: { path_prefix: /c }
    service: api
    policies:
      - cache: { ttl: 1500ms, statuses: [200], content_types: [application/json], stale_if_error: 1m }
)yaml";
  const std::string trace = tempFile("cache.log", lines("10.0.0.8", "/c/x", 40, 0, 4));
  RunPlan plan = planFor(configOf(yaml), trace);
  PlannedFailure down;
  down.at = seconds(2);
  down.spec.service = "api";
  down.spec.duration = seconds(2);
  down.spec.effect = Down{};
  plan.failures.push_back(down);
  const RunResult r = runSimulation(plan);
  ASSERT_TRUE(r.ok) << r.error;
  const MetricsResults m = r.metrics().results();
  const auto outcome = [&](flow::Outcome o) { return m.overall.outcomes[static_cast<std::size_t>(o)]; };
  EXPECT_EQ(outcome(flow::Outcome::kUpstream), 10U);     // second 0
  EXPECT_EQ(outcome(flow::Outcome::kCacheHit), 10U);     // second 1
  EXPECT_EQ(outcome(flow::Outcome::kCacheStale), 20U);   // seconds 2 and 3: expired, backend down
  EXPECT_EQ(m.overall.statusClasses[1], 40U);
  EXPECT_EQ(q(r, Metric::kCacheHitShare), 0.25);
  std::uint64_t calls = 0;
  std::uint64_t refused = 0;
  for (const auto& b : r.backends) {
    calls += b.stats.calls;
    refused += b.stats.refusedDown;
  }
  EXPECT_EQ(calls, 30U);  // the hits of second 1 never reached it
  EXPECT_EQ(refused, 20U);
}

// A breaker configured forced_open reports its transition while the runtime is being built,
// before the collector exists; the event must still reach the results.
TEST(Runner, EventsFromRuntimeConstructionAreKept) {
  const std::string yaml = R"(version: 1
services:
  - name: api
    targets: [http://10.0.0.1:80]
    circuit_breaker: { consecutive_failures: 5, mode: forced_open }
routes:
  - name: api
    match: { path_prefix: / }
    service: api
)";
  const std::string trace = tempFile("forced.log", lines("10.0.0.1", "/a", 3));
  const RunResult r = runSimulation(planFor(configOf(yaml), trace));
  ASSERT_TRUE(r.ok) << r.error;
  const MetricsResults m = r.metrics().results();
  ASSERT_FALSE(m.events.empty());
  EXPECT_EQ(m.events[0].kind, ResilienceEventKind::kBreaker);
  EXPECT_EQ(m.events[0].to, "forced-open");
  EXPECT_EQ(m.overall.outcomes[static_cast<std::size_t>(RequestOutcome::kBreakerOpen)], 3U);
}

// The timeline covers the run bucket by bucket, and its buckets add up to the run's totals.
TEST(Runner, TimelineBucketsCoverTheRun) {
  const std::string trace = tempFile("timeline.log", lines("10.0.0.1", "/site/a", 50, 0, 5));
  std::vector<TimelineBucket> buckets;
  RunHooks hooks;
  hooks.timeline = [&buckets](const TimelineBucket& b) { buckets.push_back(b); };
  const RunResult r = runSimulation(planFor(configOf(kLimited), trace), hooks);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_GE(buckets.size(), 5U);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    EXPECT_EQ(buckets[i].index, i);
    if (i > 0) {
      EXPECT_EQ(buckets[i].start, buckets[i - 1].end);
    }
    total += buckets[i].requests;
  }
  EXPECT_EQ(buckets.front().start, core::TimePoint{});
  EXPECT_EQ(buckets.back().end - core::TimePoint{}, r.simulated);
  EXPECT_EQ(total, 50U);
  EXPECT_EQ(buckets[0].requests, 10U);
}

// Same plan, same results, byte for byte; another seed draws other service times.
TEST(Runner, DeterministicForASeed) {
  const std::string trace = tempFile("random.log", lines("10.0.0.1", "/api/a", 200, 0, 20) +
                                                       lines("10.0.0.2", "/site/b", 200, 0, 20));
  RunPlan plan = planFor(configOf(kLimited), trace);
  plan.backendFor = [](const std::string&, const std::string&, std::size_t) {
    BackendConfig b;
    b.servers = 2;
    b.serviceTime = ServiceTime::exponential(milliseconds(40));
    b.errorProbability = 0.05;
    return b;
  };
  auto dump = [&plan] {
    std::string timeline;
    RunHooks hooks;
    hooks.timeline = [&timeline](const TimelineBucket& b) { timeline += timelineBucketLine(b, core::TimePoint{}); };
    const RunResult r = runSimulation(plan, hooks);
    EXPECT_TRUE(r.ok) << r.error;
    return metricsToJson(r.metrics().results()).dump() + timeline;
  };
  const std::string a = dump();
  EXPECT_EQ(a, dump());
  plan.seed = RunSeed{6, 0};
  EXPECT_NE(a, dump());
}

// Plans that cannot run fail with a reason instead of crashing.
TEST(Runner, BadPlansFailWithAReason) {
  const std::string trace = tempFile("ok.log", lines("10.0.0.1", "/api/a", 3));
  RunPlan missing = planFor(configOf(kLimited), (std::filesystem::path(::testing::TempDir()) / "no-such.log").string());
  RunResult r = runSimulation(missing);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("no-such.log"), std::string::npos) << r.error;

  RunPlan badBackend = planFor(configOf(kLimited), trace);
  badBackend.backendFor = [](const std::string&, const std::string&, std::size_t) {
    BackendConfig b;
    b.servers = 0;
    return b;
  };
  r = runSimulation(badBackend);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("servers"), std::string::npos) << r.error;

  RunPlan badFailure = planFor(configOf(kLimited), trace);
  PlannedFailure f;
  f.spec.service = "nope";
  f.spec.duration = seconds(1);
  badFailure.failures.push_back(f);
  r = runSimulation(badFailure);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("nope"), std::string::npos) << r.error;

  RunPlan noConfig = planFor(nullptr, trace);
  EXPECT_FALSE(runSimulation(noConfig).ok);

  // Malformed lines are counted and skipped, not fatal.
  const std::string mixed = tempFile("mixed.log", lines("10.0.0.1", "/api/a", 3) + "garbage line\n");
  r = runSimulation(planFor(configOf(kLimited), mixed));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.reader.malformed, 1U);
  EXPECT_EQ(r.submitted, 3U);
}

}  // namespace
}  // namespace gatelab::sim
