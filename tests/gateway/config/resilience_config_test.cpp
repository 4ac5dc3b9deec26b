// The services' resilience keys (timeout/timeouts, retries, circuit_breaker, outlier_detection,
// load_balancer, health_checks): every key valid and invalid, every cross-field rule with its exact
// path, line and column, did-you-mean for typos, and the example's values.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/loader.hpp"
#include "tests/gateway/config/config_test_support.hpp"

namespace gatelab::config {
namespace {

using namespace std::chrono_literals;
using core::resilience::BreakerConfig;
using core::resilience::LbAlgorithm;
using core::resilience::OutlierConfig;
using core::resilience::Percent;
using core::resilience::RetryOn;
using core::resilience::StatusSet;
using core::resilience::Timeouts;
using core::resilience::WindowKind;
using test::dump;
using test::ErrorCase;
using test::expectError;
using test::findByPath;
using test::kFile;
using ::testing::HasSubstr;

// One service "s" with two equal targets (or `targets`), followed by `lines` (each indented by four
// spaces and ending in a newline).
std::string svc(std::string_view lines, std::string_view targets = "[http://h:1, http://h:2]") {
  return "version: 1\nservices:\n  - name: s\n    targets: " + std::string(targets) + "\n" + std::string(lines);
}

// The single service of `yaml`, which must load.
ServiceConfig loadService(const std::string& yaml) {
  const LoadResult r = loadConfigString(yaml, kFile);
  EXPECT_TRUE(r.ok()) << dump(r);
  if (!r.ok() || r.config->services.empty()) return ServiceConfig{};
  return r.config->services.front();
}

constexpr Timeouts timeouts(core::Duration connect, core::Duration perTry, core::Duration overall) {
  return Timeouts{connect, perTry, overall};
}

// ---- defaults ---------------------------------------------------------------------------------

TEST(ResilienceConfig, ServiceWithoutResilienceKeysGetsTheDocumentedDefaults) {
  // No key: 60s connect and per-try, no overall limit, no retries/breaker/ejection/health checks,
  // the weighted balancer (equal weights: plain round robin) and Envoy's 50% panic threshold.
  const ServiceConfig s = loadService(svc(""));
  EXPECT_EQ(s.timeouts, timeouts(60s, 60s, 0s));
  EXPECT_FALSE(s.retries);
  EXPECT_FALSE(s.circuitBreaker);
  EXPECT_FALSE(s.outlierDetection);
  EXPECT_FALSE(s.healthChecks);
  EXPECT_EQ(s.loadBalancer.lb.algorithm, LbAlgorithm::kWeightedRoundRobin);
  EXPECT_EQ(s.loadBalancer.lb.ringReplicas, 160U);
  EXPECT_EQ(s.loadBalancer.panicThreshold, Percent::of(50));
  EXPECT_EQ(s.loadBalancer.hashOn, HashOn{});
  ASSERT_EQ(s.targetSpecs().size(), 2U);
  EXPECT_EQ(s.targetSpecs()[1].name, "http://h:2");
}

// ---- valid values -----------------------------------------------------------------------------

struct ValidCase {
  std::string_view what;  // the property checked
  std::string yaml;
  std::function<void(const ServiceConfig&)> check;
};

TEST(ResilienceConfig, ValidSettingsBuildTheCoreStructs) {
  const std::vector<ValidCase> cases = {
      // timeout is shorthand for timeouts.per_try; connect shrinks to fit the try
      {"timeout shorthand", svc("    timeout: 2s\n"),
       [](const ServiceConfig& s) { EXPECT_EQ(s.timeouts, timeouts(2s, 2s, 0s)); }},
      // all three timeouts as written
      {"full timeouts", svc("    timeouts: {connect: 250ms, per_try: 1500ms, overall: 4s}\n"),
       [](const ServiceConfig& s) { EXPECT_EQ(s.timeouts, timeouts(250ms, 1500ms, 4s)); }},
      // an overall below 60s caps the defaulted per_try and connect (Envoy: per-try defaults to the route timeout)
      {"overall caps defaults", svc("    timeouts: {overall: 5s}\n"),
       [](const ServiceConfig& s) { EXPECT_EQ(s.timeouts, timeouts(5s, 5s, 5s)); }},
      // per_try 0s is allowed when overall bounds the request
      {"per_try 0s with overall", svc("    timeouts: {per_try: 0s, overall: 30s}\n"),
       [](const ServiceConfig& s) { EXPECT_EQ(s.timeouts, timeouts(30s, 0s, 30s)); }},
      // retries: every key, exactly
      {"full retries",
       svc("    timeouts: {per_try: 1s, overall: 5s}\n"
           "    retries: {attempts: 3, on: [connect-failure, gateway-error, timeout, reset, 429, 409], backoff: {base: "
           "10ms, max: 80ms}, non_idempotent: true, honor_retry_after: true, max_retry_after: 2s, budget: {percent: "
           "12.5%, min_concurrency: 1}}\n"),
       [](const ServiceConfig& s) {
         ASSERT_TRUE(s.retries);
         const auto& p = s.retries->policy;
         EXPECT_EQ(p.maxRetries, 3U);
         EXPECT_EQ(p.on, (RetryOn{true, true, false, true, true, StatusSet{429, 409}}));
         EXPECT_EQ(p.backoff.base, 10ms);
         EXPECT_EQ(p.backoff.max, 80ms);
         EXPECT_TRUE(p.retryNonIdempotent);
         EXPECT_TRUE(p.honorRetryAfter);
         EXPECT_EQ(p.maxRetryAfter, 2s);
         EXPECT_EQ(s.retries->budget.percent, Percent{12'500});
         EXPECT_EQ(s.retries->budget.minConcurrency, 1U);
       }},
      // retries defaults: the core's retry_on (connect-failure, gateway-error), Envoy's back-off and budget
      {"retries defaults", svc("    retries: {attempts: 1}\n"),
       [](const ServiceConfig& s) {
         ASSERT_TRUE(s.retries);
         EXPECT_EQ(s.retries->policy.on, RetryOn{});
         EXPECT_EQ(s.retries->policy.backoff.base, 25ms);
         EXPECT_EQ(s.retries->policy.backoff.max, 250ms);
         EXPECT_FALSE(s.retries->policy.retryNonIdempotent);
         EXPECT_EQ(s.retries->policy.maxRetryAfter, 300s);
         EXPECT_EQ(s.retries->budget.percent, Percent::of(20));
         EXPECT_EQ(s.retries->budget.minConcurrency, 3U);
       }},
      // a back-off base alone gets max = 10 x base (Envoy's max_interval default)
      {"backoff max defaults to 10x base", svc("    retries: {attempts: 1, backoff: {base: 100ms}}\n"),
       [](const ServiceConfig& s) { EXPECT_EQ(s.retries->policy.backoff.max, 1s); }},
      // base 0s: no back-off at all
      {"backoff base 0", svc("    retries: {attempts: 1, backoff: {base: 0s}}\n"),
       [](const ServiceConfig& s) { EXPECT_EQ(s.retries->policy.backoff.base, 0s); }},
      // 5xx alone; attempts 0 keeps the settings but never retries
      {"retries 5xx, attempts 0", svc("    retries: {attempts: 0, on: [5xx]}\n"),
       [](const ServiceConfig& s) {
         EXPECT_EQ(s.retries->policy.maxRetries, 0U);
         EXPECT_EQ(s.retries->policy.on, (RetryOn{false, false, true, false, false, {}}));
       }},
      // count window: minimum_calls defaults to min(100, window), as resilience4j caps it
      {"count window", svc("    circuit_breaker: {failure_rate: 50%, window: 20}\n"),
       [](const ServiceConfig& s) {
         ASSERT_TRUE(s.circuitBreaker);
         const BreakerConfig& b = s.circuitBreaker->breaker;
         EXPECT_EQ(b.failureRate, Percent::of(50));
         EXPECT_FALSE(b.slowCallRate);
         EXPECT_EQ(b.consecutiveFailures, 0U);
         EXPECT_EQ(b.window, WindowKind::kCount);
         EXPECT_EQ(b.windowSize, 20U);
         EXPECT_EQ(b.minimumCalls, 20U);
         EXPECT_EQ(s.circuitBreaker->mode, BreakerMode::kEnforce);
         EXPECT_FALSE(b.dryRun);
         EXPECT_FALSE(s.circuitBreaker->perTarget);
       }},
      // time window with its bucket
      {"time window", svc("    circuit_breaker: {failure_rate: 25%, window: 1m, window_bucket: 5s, minimum_calls: 7}\n"),
       [](const ServiceConfig& s) {
         const BreakerConfig& b = s.circuitBreaker->breaker;
         EXPECT_EQ(b.window, WindowKind::kTime);
         EXPECT_EQ(b.windowDuration, 1min);
         EXPECT_EQ(b.bucketWidth, 5s);
         EXPECT_EQ(b.minimumCalls, 7U);
       }},
      // consecutive failures alone: no rate is implied (failure_rate stays off)
      {"consecutive only", svc("    circuit_breaker: {consecutive_failures: 3}\n"),
       [](const ServiceConfig& s) {
         const BreakerConfig& b = s.circuitBreaker->breaker;
         EXPECT_EQ(b.consecutiveFailures, 3U);
         EXPECT_FALSE(b.failureRate);
         EXPECT_FALSE(b.slowCallRate);
       }},
      // every other breaker key
      {"full breaker",
       svc("    timeout: 5s\n"
           "    circuit_breaker: {slow_call_rate: 80%, slow_call_duration: 2s, open_for: 2s, open_for_multiplier: 2, "
           "max_open_for: 1m, half_open_calls: 3, half_open_successes: 2, half_open_max_wait: 10s, failure_on: "
           "[gateway-error, connect-failure, 429], mode: dry_run, per_target: true, fallback: {status: 429, headers: "
           "{Content-Type: application/json, X-Reason: breaker}, body: '{\"error\":\"busy\"}'}}\n"),
       [](const ServiceConfig& s) {
         const BreakerConfig& b = s.circuitBreaker->breaker;
         EXPECT_EQ(b.slowCallRate, Percent::of(80));
         EXPECT_EQ(b.slowCallDuration, 2s);
         EXPECT_EQ(b.openFor, 2s);
         EXPECT_EQ(b.openForMultiplier, 2U);
         EXPECT_EQ(b.maxOpenFor, 1min);
         EXPECT_EQ(b.halfOpenProbes, 3U);
         EXPECT_EQ(b.halfOpenSuccesses, 2U);
         EXPECT_EQ(b.halfOpenMaxWait, 10s);
         EXPECT_FALSE(b.classifier.serverErrors);
         EXPECT_EQ(b.classifier.statuses, (StatusSet{502, 503, 504, 429}));
         EXPECT_TRUE(b.classifier.connectFailure);
         EXPECT_FALSE(b.classifier.timeout);
         EXPECT_FALSE(b.classifier.reset);
         EXPECT_EQ(s.circuitBreaker->mode, BreakerMode::kDryRun);
         EXPECT_TRUE(b.dryRun);
         EXPECT_TRUE(s.circuitBreaker->perTarget);
         EXPECT_EQ(b.fallback.status, 429);
         ASSERT_EQ(b.fallback.headers.size(), 2U);
         EXPECT_EQ(b.fallback.headers[0].name, "Content-Type");
         EXPECT_EQ(b.fallback.headers[1].value, "breaker");
         EXPECT_EQ(b.fallback.body, "{\"error\":\"busy\"}");
       }},
      // breaker defaults: resilience4j's open_for, half-open calls; M = K; the default classifier
      {"breaker defaults", svc("    circuit_breaker: {failure_rate: 50%, mode: forced_open}\n"),
       [](const ServiceConfig& s) {
         const BreakerConfig& b = s.circuitBreaker->breaker;
         EXPECT_EQ(b.windowSize, 100U);
         EXPECT_EQ(b.minimumCalls, 100U);
         EXPECT_EQ(b.openFor, 60s);
         EXPECT_EQ(b.openForMultiplier, 1U);
         EXPECT_EQ(b.halfOpenProbes, 10U);
         EXPECT_EQ(b.halfOpenSuccesses, 10U);
         EXPECT_TRUE(b.classifier.serverErrors);
         EXPECT_TRUE(b.classifier.timeout);
         EXPECT_EQ(b.fallback, core::resilience::FallbackResponse{});
         EXPECT_EQ(s.circuitBreaker->mode, BreakerMode::kForcedOpen);
       }},
      // percentages are exact to 0.001%
      {"exact percent", svc("    circuit_breaker: {failure_rate: 0.125%}\n"),
       [](const ServiceConfig& s) { EXPECT_EQ(s.circuitBreaker->breaker.failureRate, Percent{125}); }},
      // outlier detection: every key
      {"full outlier detection",
       svc("    outlier_detection: {consecutive_5xx: 0, consecutive_gateway_failure: 3, base_ejection_time: 10s, "
           "max_ejection_time: 1m, max_ejection_percent: 50%, always_eject_one: false, interval: 0s}\n"),
       [](const ServiceConfig& s) {
         ASSERT_TRUE(s.outlierDetection);
         const OutlierConfig& o = *s.outlierDetection;
         EXPECT_EQ(o.consecutive5xx, 0U);
         EXPECT_EQ(o.consecutiveGatewayFailure, 3U);
         EXPECT_EQ(o.baseEjectionTime, 10s);
         EXPECT_EQ(o.maxEjectionTime, 1min);
         EXPECT_EQ(o.maxEjectionPercent, Percent::of(50));
         EXPECT_FALSE(o.alwaysEjectOne);
         EXPECT_EQ(o.interval, 0s);
       }},
      // outlier detection defaults are Envoy's (always_eject_one on)
      {"outlier defaults", svc("    outlier_detection: {}\n"),
       [](const ServiceConfig& s) {
         ASSERT_TRUE(s.outlierDetection);
         EXPECT_EQ(s.outlierDetection->consecutive5xx, 5U);
         EXPECT_EQ(s.outlierDetection->baseEjectionTime, 30s);
         EXPECT_EQ(s.outlierDetection->maxEjectionTime, 300s);
         EXPECT_EQ(s.outlierDetection->maxEjectionPercent, Percent::of(10));
         EXPECT_TRUE(s.outlierDetection->alwaysEjectOne);
       }},
      // one target with panic disabled: an ejection does take effect (503 instead of panic)
      {"outlier on one target without panic",
       svc("    outlier_detection: {}\n    load_balancer: {panic_threshold: 0%}\n", "[http://h:1]"),
       [](const ServiceConfig& s) { EXPECT_EQ(s.loadBalancer.panicThreshold, Percent{0}); }},
      // the scalar form names the algorithm
      {"lb scalar", svc("    load_balancer: least_request\n"),
       [](const ServiceConfig& s) { EXPECT_EQ(s.loadBalancer.lb.algorithm, LbAlgorithm::kLeastRequest); }},
      // consistent_hash on a header, with weights (the ring honours them)
      {"lb consistent hash",
       svc("    load_balancer: {algorithm: consistent_hash, hash_on: header:X-User, ring_replicas: 40, panic_threshold: "
           "0.001%}\n",
           "[{url: http://h:1, weight: 3}, http://h:2]"),
       [](const ServiceConfig& s) {
         EXPECT_EQ(s.loadBalancer.lb.algorithm, LbAlgorithm::kConsistentHash);
         EXPECT_EQ(s.loadBalancer.lb.ringReplicas, 40U);
         EXPECT_EQ(s.loadBalancer.hashOn, (HashOn{HashOn::Kind::kHeader, "X-User"}));
         EXPECT_EQ(s.loadBalancer.panicThreshold, Percent{1});
       }},
      // weighted_random honours weights
      {"lb weighted random", svc("    load_balancer: weighted_random\n", "[{url: http://h:1, weight: 3}, http://h:2]"),
       [](const ServiceConfig& s) { EXPECT_EQ(s.loadBalancer.lb.algorithm, LbAlgorithm::kWeightedRandom); }},
      // health checks: every key, and the defaults
      {"health checks",
       svc("    health_checks: {path: /healthz, interval: 2s, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: "
           "5}\n"),
       [](const ServiceConfig& s) {
         ASSERT_TRUE(s.healthChecks);
         EXPECT_EQ(s.healthChecks->path, "/healthz");
         EXPECT_EQ(s.healthChecks->interval, 2s);
         EXPECT_EQ(s.healthChecks->timeout, 500ms);
         EXPECT_EQ(s.healthChecks->healthyThreshold, 1U);
         EXPECT_EQ(s.healthChecks->unhealthyThreshold, 5U);
       }},
      {"health check defaults", svc("    health_checks: {}\n"),
       [](const ServiceConfig& s) {
         ASSERT_TRUE(s.healthChecks);
         EXPECT_EQ(s.healthChecks->path, "/");
         EXPECT_EQ(s.healthChecks->interval, 10s);
         EXPECT_EQ(s.healthChecks->timeout, 1s);
         EXPECT_EQ(s.healthChecks->healthyThreshold, 2U);
         EXPECT_EQ(s.healthChecks->unhealthyThreshold, 3U);
       }},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(std::string(c.what));
    c.check(loadService(c.yaml));
  }
}

// ---- errors: one per key and per rule ---------------------------------------------------------

TEST(ResilienceConfig, TimeoutErrors) {
  const std::string both = svc("    timeout: 2s\n    timeouts: {per_try: 1s}\n");
  const std::vector<ErrorCase> cases = {
      // the shorthand and the mapping are exclusive; the error sits on the timeouts key
      {"timeout and timeouts", both, "services[0].timeouts", "timeouts:", false,
       "timeout and timeouts cannot be combined: timeout is shorthand for timeouts.per_try"},
      // unknown key with a suggestion
      {"pertry typo", svc("    timeouts: {pertry: 1s}\n"), "services[0].timeouts.pertry", "pertry", false,
       "unknown key \"pertry\" (did you mean 'per_try'?)"},
      // timeouts must be a mapping
      {"timeouts scalar", svc("    timeouts: 5s\n"), "services[0].timeouts", "5s", false,
       "expected the timeouts as a mapping, got a string \"5s\""},
      // negative durations
      {"negative connect", svc("    timeouts: {connect: -1s}\n"), "services[0].timeouts.connect", "-1s", false,
       "negative"},
      // bare numbers need a unit
      {"overall bare number", svc("    timeouts: {overall: 30}\n"), "services[0].timeouts.overall", "30", false,
       "add a unit"},
      // a connect timeout longer than the try never fires
      {"connect over per_try", svc("    timeouts: {connect: 5s, per_try: 2s}\n"), "services[0].timeouts.connect", "5s",
       false, "connect 5s can never fire: timeouts.per_try 2s (at 5:38) ends every try first"},
      // ... nor one longer than the overall timeout when there is no per-try limit
      {"connect over overall", svc("    timeouts: {connect: 5s, per_try: 0s, overall: 3s}\n"),
       "services[0].timeouts.connect", "5s", false, "timeouts.overall 3s (at 5:51) ends every request first"},
      // per_try above overall: the overall deadline always ends the try
      {"per_try over overall", svc("    timeouts: {per_try: 10s, overall: 5s}\n"), "services[0].timeouts.per_try",
       "10s", false, "per_try 10s exceeds overall 5s (at 5:39)"},
      // no limit at all is an error
      {"no limit", svc("    timeouts: {per_try: 0s}\n"), "services[0].timeouts.per_try", "0s", false,
       "per_try 0s and overall 0s (the default) both mean no limit"},
      // the shorthand keeps its positive-duration rule
      {"timeout zero", svc("    timeout: 0s\n"), "services[0].timeout", "0s", false, "must be longer than zero"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(ResilienceConfig, RetryErrors) {
  const std::vector<ErrorCase> cases = {
      // attempts is required (no gateway agrees on a default)
      {"missing attempts", svc("    retries: {on: [5xx]}\n"), "services[0].retries.attempts", "{on:", false,
       "missing required key \"attempts\""},
      // a misspelled attempts is reported once, as unknown
      {"attempt typo", svc("    retries: {attempt: 2}\n"), "services[0].retries.attempt", "attempt", false,
       "unknown key \"attempt\" (did you mean 'attempts'?)"},
      // range of attempts
      {"attempts range", svc("    retries: {attempts: 101}\n"), "services[0].retries.attempts", "101", false,
       "101 is out of range"},
      // outcome names get suggestions
      {"connect_failure typo", svc("    retries: {attempts: 1, on: [connect_failure]}\n"), "services[0].retries.on[0]",
       "connect_failure", false, "unknown outcome \"connect_failure\" (did you mean 'connect-failure'?)"},
      // statuses must be error statuses
      {"status 200", svc("    retries: {attempts: 1, on: [200]}\n"), "services[0].retries.on[0]", "200", false,
       "status 200 is not an error status"},
      // duplicates
      {"duplicate outcome", svc("    retries: {attempts: 1, on: [reset, reset]}\n"), "services[0].retries.on[1]",
       "reset]", false, "duplicate \"reset\"; first listed at 5:33"},
      // a status a class already covers
      {"503 with gateway-error", svc("    retries: {attempts: 1, on: [gateway-error, 503]}\n"),
       "services[0].retries.on[1]", "503", false, "503 is already included in gateway-error (at 5:33)"},
      {"502 with 5xx", svc("    retries: {attempts: 1, on: [5xx, 502]}\n"), "services[0].retries.on[1]", "502", false,
       "502 is already included in 5xx (at 5:33)"},
      {"gateway-error with 5xx", svc("    retries: {attempts: 1, on: [gateway-error, 5xx]}\n"),
       "services[0].retries.on[0]", "gateway-error", false, "gateway-error (502, 503, 504) is already included in 5xx"},
      // an empty list would retry nothing
      {"empty on", svc("    retries: {attempts: 1, on: []}\n"), "services[0].retries.on", "[]", false,
       "the list must not be empty"},
      // back-off: max below base, written or defaulted
      {"max below base", svc("    retries: {attempts: 1, backoff: {base: 1s, max: 100ms}}\n"),
       "services[0].retries.backoff.max", "100ms", false, "max 100ms is below base 1s (at 5:44)"},
      {"max below default base", svc("    retries: {attempts: 1, backoff: {max: 10ms}}\n"),
       "services[0].retries.backoff.max", "10ms", false, "max 10ms is below base 25ms (the default)"},
      // max without a back-off does nothing
      {"max with base 0", svc("    retries: {attempts: 1, backoff: {base: 0s, max: 1s}}\n"),
       "services[0].retries.backoff.max", "max:", false, "max has no effect without a back-off"},
      // bounds of the back-off
      {"base too long", svc("    retries: {attempts: 1, backoff: {base: 2h}}\n"), "services[0].retries.backoff.base",
       "2h", false, "2h is too long; at most 1h"},
      {"backoff key typo", svc("    retries: {attempts: 1, backoff: {bse: 1s}}\n"), "services[0].retries.backoff.bse",
       "bse", false, "did you mean 'base'?"},
      // booleans are strict
      {"non_idempotent yes", svc("    retries: {attempts: 1, non_idempotent: yes}\n"),
       "services[0].retries.non_idempotent", "yes", false, "YAML 1.1 spellings are not accepted"},
      // max_retry_after needs honor_retry_after
      {"max_retry_after unused", svc("    retries: {attempts: 1, honor_retry_after: false, max_retry_after: 5s}\n"),
       "services[0].retries.max_retry_after", "max_retry_after", false,
       "max_retry_after has no effect with honor_retry_after: false"},
      // budget values
      {"budget percent range", svc("    retries: {attempts: 1, budget: {percent: 120%}}\n"),
       "services[0].retries.budget.percent", "120%", false, "above 100%"},
      {"budget never allows", svc("    retries: {attempts: 1, budget: {percent: 0%, min_concurrency: 0}}\n"),
       "services[0].retries.budget", "{percent", false, "a budget of 0% with min_concurrency 0 never allows a retry"},
      {"budget key typo", svc("    retries: {attempts: 1, budget: {min_concurency: 2}}\n"),
       "services[0].retries.budget.min_concurency", "min_concurency", false, "did you mean 'min_concurrency'?"},
      // retrying timeouts needs a per-try timeout shorter than the overall one
      {"timeout retry, per_try = overall",
       svc("    timeouts: {per_try: 5s, overall: 5s}\n    retries: {attempts: 1, on: [timeout]}\n"),
       "services[0].retries.on[0]", "timeout]", false,
       "a retry after a timeout can never start: timeouts.per_try 5s (at 5:25) is not shorter than timeouts.overall "
       "5s (at 5:38)"},
      {"timeout retry, per_try 0s",
       svc("    timeouts: {per_try: 0s, overall: 5s}\n    retries: {attempts: 1, on: [timeout]}\n"),
       "services[0].retries.on[0]", "timeout]", false, "with timeouts.per_try 0s a try only times out at timeouts.overall"},
      {"timeout retry, capped default per_try",
       svc("    timeouts: {overall: 5s}\n    retries: {attempts: 1, on: [timeout]}\n"), "services[0].retries.on[0]",
       "timeout]", false, "timeouts.per_try 5s (the default, capped at overall) is not shorter"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(ResilienceConfig, CircuitBreakerErrors) {
  const std::string cb = "    circuit_breaker: ";
  const std::vector<ErrorCase> cases = {
      // a breaker with no trip condition can never open
      {"no trip condition", svc(cb + "{open_for: 10s}\n"), "services[0].circuit_breaker", "{open_for", false,
       "the breaker can never trip: no trip condition"},
      {"empty breaker", svc(cb + "{}\n"), "services[0].circuit_breaker", "{}", false, "the breaker can never trip"},
      // ranges and forms of the trip conditions
      {"consecutive 0", svc(cb + "{consecutive_failures: 0}\n"), "services[0].circuit_breaker.consecutive_failures",
       "0}", false, "0 is out of range"},
      {"failure_rate 0%", svc(cb + "{failure_rate: 0%}\n"), "services[0].circuit_breaker.failure_rate", "0%", false,
       "failure_rate 0% would be reached by any call"},
      {"failure_rate over 100", svc(cb + "{failure_rate: 150%}\n"), "services[0].circuit_breaker.failure_rate", "150%",
       false, "above 100%"},
      {"failure_rate without %", svc(cb + "{failure_rate: 50}\n"), "services[0].circuit_breaker.failure_rate", "50}",
       false, "add a % sign"},
      {"failure_rate 4 decimals", svc(cb + "{failure_rate: 12.3456%}\n"), "services[0].circuit_breaker.failure_rate",
       "12.3456%", false, "more than 3 decimals"},
      // slow calls need both keys
      {"slow rate without duration", svc(cb + "{slow_call_rate: 50%}\n"),
       "services[0].circuit_breaker.slow_call_duration", "{slow_call_rate", false,
       "missing slow_call_duration: slow_call_rate (at 5:23) needs the latency above which a call is slow"},
      {"slow duration without rate", svc(cb + "{failure_rate: 50%, slow_call_duration: 1s}\n"),
       "services[0].circuit_breaker.slow_call_duration", "slow_call_duration", false,
       "slow_call_duration is only used with slow_call_rate"},
      // a call can never be slower than the try's timeout
      {"slow duration over per_try", svc("    timeout: 2s\n" + cb + "{slow_call_rate: 50%, slow_call_duration: 2s}\n"),
       "services[0].circuit_breaker.slow_call_duration", "2s}", false,
       "no call can be slower than slow_call_duration 2s: timeout 2s (at 5:14) ends every try first"},
      // window keys need a rate
      {"window without rate", svc(cb + "{consecutive_failures: 5, window: 20}\n"), "services[0].circuit_breaker.window",
       "window", false, "window is only used by failure_rate and slow_call_rate"},
      {"minimum_calls without rate", svc(cb + "{consecutive_failures: 5, minimum_calls: 5}\n"),
       "services[0].circuit_breaker.minimum_calls", "minimum_calls", false,
       "minimum_calls is only used by failure_rate and slow_call_rate"},
      // window forms
      {"window text", svc(cb + "{failure_rate: 50%, window: lots}\n"), "services[0].circuit_breaker.window", "lots",
       false, "invalid window \"lots\": expected a number of calls (count window) or a duration (time window)"},
      {"window 0 calls", svc(cb + "{failure_rate: 50%, window: 0}\n"), "services[0].circuit_breaker.window", "0}",
       false, "0 is out of range"},
      {"window 0s", svc(cb + "{failure_rate: 50%, window: 0s}\n"), "services[0].circuit_breaker.window", "0s", false,
       "a time window must be longer than zero"},
      {"window list", svc(cb + "{failure_rate: 50%, window: [20]}\n"), "services[0].circuit_breaker.window", "[20]",
       false, "expected a number of calls or a duration, got a list"},
      // buckets only for time windows, dividing the window, at most 3600
      {"bucket with count window", svc(cb + "{failure_rate: 50%, window: 20, window_bucket: 1s}\n"),
       "services[0].circuit_breaker.window_bucket", "window_bucket", false,
       "window_bucket is only used by a time window; window 20 (at 5:50) counts calls"},
      {"bucket with default window", svc(cb + "{failure_rate: 50%, window_bucket: 1s}\n"),
       "services[0].circuit_breaker.window_bucket", "window_bucket", false, "window 100 (the default) counts calls"},
      {"window not whole buckets", svc(cb + "{failure_rate: 50%, window: 1500ms}\n"),
       "services[0].circuit_breaker.window", "1500ms", false,
       "window 1500ms is not a whole number of buckets of 1s (the default)"},
      {"too many buckets", svc(cb + "{failure_rate: 50%, window: 2h, window_bucket: 1s}\n"),
       "services[0].circuit_breaker.window_bucket", "1s}", false, "window 2h (at 5:50) holds 7200 buckets of 1s; at most 3600"},
      // minimum_calls within a count window
      {"minimum over window", svc(cb + "{failure_rate: 50%, window: 20, minimum_calls: 30}\n"),
       "services[0].circuit_breaker.minimum_calls", "30", false,
       "minimum_calls 30 exceeds the window of 20 calls (at 5:50); the rates would never be evaluated"},
      {"minimum over default window", svc(cb + "{failure_rate: 50%, minimum_calls: 150}\n"),
       "services[0].circuit_breaker.minimum_calls", "150", false, "exceeds the window of 100 calls (the default)"},
      // open period
      {"open_for 0s", svc(cb + "{failure_rate: 50%, open_for: 0s}\n"), "services[0].circuit_breaker.open_for", "0s",
       false, "must be longer than zero"},
      {"open_for too long", svc(cb + "{failure_rate: 50%, open_for: 400d}\n"), "services[0].circuit_breaker.open_for",
       "400d", false, "400d is too long; at most 8760h"},
      {"multiplier 0", svc(cb + "{failure_rate: 50%, open_for_multiplier: 0}\n"),
       "services[0].circuit_breaker.open_for_multiplier", "0}", false, "0 is out of range"},
      {"max_open_for without growth", svc(cb + "{failure_rate: 50%, max_open_for: 5m}\n"),
       "services[0].circuit_breaker.max_open_for", "max_open_for", false,
       "max_open_for caps a growing open period; it is only used with open_for_multiplier above 1"},
      {"max_open_for below open_for",
       svc(cb + "{failure_rate: 50%, open_for: 2m, open_for_multiplier: 2, max_open_for: 1m}\n"),
       "services[0].circuit_breaker.max_open_for", "1m}", false,
       "max_open_for 1m is shorter than open_for 2m (at 5:52)"},
      {"open_for over default max", svc(cb + "{failure_rate: 50%, open_for: 10m, open_for_multiplier: 2}\n"),
       "services[0].circuit_breaker.open_for", "10m", false, "open_for 10m exceeds max_open_for 5m (the default)"},
      // half-open: M <= K
      {"successes over calls", svc(cb + "{failure_rate: 50%, half_open_calls: 2, half_open_successes: 3}\n"),
       "services[0].circuit_breaker.half_open_successes", "3}", false,
       "half_open_successes 3 exceeds half_open_calls 2 (at 5:59): only 2 probes are admitted per half-open period, "
       "so the breaker could never close"},
      {"successes over default calls", svc(cb + "{failure_rate: 50%, half_open_successes: 11}\n"),
       "services[0].circuit_breaker.half_open_successes", "11", false, "exceeds half_open_calls 10 (the default)"},
      {"half_open_calls 0", svc(cb + "{failure_rate: 50%, half_open_calls: 0}\n"),
       "services[0].circuit_breaker.half_open_calls", "0}", false, "0 is out of range"},
      {"half_open_max_wait negative", svc(cb + "{failure_rate: 50%, half_open_max_wait: -1s}\n"),
       "services[0].circuit_breaker.half_open_max_wait", "-1s", false, "negative"},
      // failure_on
      {"failure_on case", svc(cb + "{failure_rate: 50%, failure_on: [5XX]}\n"),
       "services[0].circuit_breaker.failure_on[0]", "5XX", false, "unknown outcome \"5XX\" (did you mean '5xx'?)"},
      {"failure_on covered", svc(cb + "{failure_rate: 50%, failure_on: [5xx, 503]}\n"),
       "services[0].circuit_breaker.failure_on[1]", "503", false, "503 is already included in 5xx"},
      {"failure_on scalar", svc(cb + "{failure_rate: 50%, failure_on: 5xx}\n"),
       "services[0].circuit_breaker.failure_on", "5xx}", false, "expected a list, got a string \"5xx\""},
      // mode
      {"mode typo", svc(cb + "{failure_rate: 50%, mode: dryrun}\n"), "services[0].circuit_breaker.mode", "dryrun", false,
       "unknown value \"dryrun\" (did you mean 'dry_run'?)"},
      // fallback
      {"fallback status", svc(cb + "{failure_rate: 50%, fallback: {status: 700}}\n"),
       "services[0].circuit_breaker.fallback.status", "700", false, "700 is out of range"},
      {"fallback key typo", svc(cb + "{failure_rate: 50%, fallback: {staus: 500}}\n"),
       "services[0].circuit_breaker.fallback.staus", "staus", false, "did you mean 'status'?"},
      {"fallback headers list", svc(cb + "{failure_rate: 50%, fallback: {headers: [a]}}\n"),
       "services[0].circuit_breaker.fallback.headers", "[a]", false, "expected a mapping, got a list"},
      {"fallback header name", svc(cb + "{failure_rate: 50%, fallback: {headers: {'X A': b}}}\n"),
       "services[0].circuit_breaker.fallback.headers.X A", "'X A'", false, "invalid header name \"X A\""},
      {"fallback framing header", svc(cb + "{failure_rate: 50%, fallback: {headers: {Content-Length: 5}}}\n"),
       "services[0].circuit_breaker.fallback.headers.Content-Length", "Content-Length", false,
       "Content-Length is set by the gateway"},
      {"fallback duplicate header", svc(cb + "{failure_rate: 50%, fallback: {headers: {X-A: a, x-a: b}}}\n"),
       "services[0].circuit_breaker.fallback.headers.x-a", "x-a", false,
       "duplicate header \"x-a\" (names are case-insensitive); first at 5:63"},
      {"fallback header line break", svc(cb + "{failure_rate: 50%, fallback: {headers: {X-A: \"a\\nb\"}}}\n"),
       "services[0].circuit_breaker.fallback.headers.X-A", "\"a", false, "cannot contain line breaks"},
      {"fallback body size", svc(cb + "{failure_rate: 50%, fallback: {body: " + std::string(70'000, 'x') + "}}\n"),
       "services[0].circuit_breaker.fallback.body", "xxx", false, "the body is 70000 bytes; at most 65536"},
      // per_target is a boolean
      {"per_target type", svc(cb + "{failure_rate: 50%, per_target: 1}\n"), "services[0].circuit_breaker.per_target",
       "1}", false, "expected true or false"},
      // the whole section must be a mapping
      {"breaker scalar", svc(cb + "on\n"), "services[0].circuit_breaker", "on\n", false,
       "expected a circuit_breaker as a mapping"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(ResilienceConfig, OutlierDetectionErrors) {
  const std::string od = "    outlier_detection: ";
  const std::vector<ErrorCase> cases = {
      // both conditions off: nothing could ever be ejected
      {"never ejects", svc(od + "{consecutive_5xx: 0}\n"), "services[0].outlier_detection", "{consecutive", false,
       "outlier detection can never eject: consecutive_5xx and consecutive_gateway_failure are both 0"},
      // Envoy's name is singular; the plural is a typo with a suggestion
      {"plural typo", svc(od + "{consecutive_gateway_failures: 3}\n"),
       "services[0].outlier_detection.consecutive_gateway_failures", "consecutive_gateway_failures", false,
       "did you mean 'consecutive_gateway_failure'?"},
      {"threshold range", svc(od + "{consecutive_5xx: 2000000}\n"), "services[0].outlier_detection.consecutive_5xx",
       "2000000", false, "2000000 is out of range"},
      // ejection times: max >= base, written or defaulted
      {"max below base", svc(od + "{base_ejection_time: 2m, max_ejection_time: 1m}\n"),
       "services[0].outlier_detection.max_ejection_time", "1m}", false,
       "max_ejection_time 1m is shorter than base_ejection_time 2m (at 5:45)"},
      {"base over default max", svc(od + "{base_ejection_time: 10m}\n"),
       "services[0].outlier_detection.base_ejection_time", "10m", false,
       "base_ejection_time 10m exceeds max_ejection_time 5m (the default)"},
      {"base 0s", svc(od + "{base_ejection_time: 0s}\n"), "services[0].outlier_detection.base_ejection_time", "0s",
       false, "must be longer than zero"},
      // 0% without always_eject_one ejects nothing
      {"zero share", svc(od + "{max_ejection_percent: 0%, always_eject_one: false}\n"),
       "services[0].outlier_detection.max_ejection_percent", "0%", false,
       "max_ejection_percent 0% with always_eject_one: false (at 5:69) never lets a target be ejected"},
      {"interval negative", svc(od + "{interval: -5s}\n"), "services[0].outlier_detection.interval", "-5s", false,
       "negative"},
      // one target: an ejection always means panic, so it would never change anything
      {"single target panics", svc(od + "{}\n", "[http://h:1]"), "services[0].outlier_detection", "{}", false,
       "outlier detection can never take effect: ejecting 1 of 1 target leaves 0% available, below "
       "load_balancer.panic_threshold 50% (the default)"},
      // three targets at a 70% threshold: 2 of 3 left is below it
      {"panic threshold too high", svc(od + "{}\n    load_balancer: {panic_threshold: 70%}\n", "[http://h:1, http://h:2, http://h:3]"),
       "services[0].outlier_detection", "{}", false, "leaves 66.6% available, below load_balancer.panic_threshold 70% (at 6:38)"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(ResilienceConfig, LoadBalancerErrors) {
  const std::string weighted = "[{url: http://h:1, weight: 3}, http://h:2]";
  const std::vector<ErrorCase> cases = {
      // algorithm names get suggestions, in both forms
      {"algorithm typo", svc("    load_balancer: least_requests\n"), "services[0].load_balancer", "least_requests",
       false, "unknown value \"least_requests\" (did you mean 'least_request'?)"},
      {"mapping algorithm typo", svc("    load_balancer: {algorithm: roundrobin}\n"),
       "services[0].load_balancer.algorithm", "roundrobin", false, "did you mean 'round_robin'?"},
      {"mapping key typo", svc("    load_balancer: {algoritm: weighted}\n"), "services[0].load_balancer.algoritm",
       "algoritm", false, "did you mean 'algorithm'?"},
      {"lb list", svc("    load_balancer: [weighted]\n"), "services[0].load_balancer", "[weighted]", false,
       "expected an algorithm name or a mapping, got a list"},
      // weights that the algorithm would ignore
      {"round robin ignores weights", svc("    load_balancer: round_robin\n", weighted), "services[0].load_balancer",
       "round_robin", false, "round_robin ignores target weights, but the targets have weights 3 and 1"},
      {"least request ignores weights", svc("    load_balancer: {algorithm: least_request}\n", weighted),
       "services[0].load_balancer.algorithm", "least_request", false, "least_request ignores target weights"},
      // hash keys only for consistent_hash
      {"hash_on without hashing", svc("    load_balancer: {algorithm: weighted, hash_on: ip}\n"),
       "services[0].load_balancer.hash_on", "hash_on", false,
       "hash_on is only used by consistent_hash; algorithm is weighted (at 5:32)"},
      {"hash_on with default", svc("    load_balancer: {hash_on: ip}\n"), "services[0].load_balancer.hash_on", "hash_on",
       false, "algorithm is weighted (the default)"},
      {"ring_replicas without hashing", svc("    load_balancer: {algorithm: round_robin, ring_replicas: 10}\n"),
       "services[0].load_balancer.ring_replicas", "ring_replicas", false, "ring_replicas is only used by consistent_hash"},
      {"hash_on unknown", svc("    load_balancer: {algorithm: consistent_hash, hash_on: 'heder:X'}\n"),
       "services[0].load_balancer.hash_on", "'heder", false, "unknown hash key \"heder:X\" (did you mean 'header:NAME'?)"},
      {"hash_on empty header", svc("    load_balancer: {algorithm: consistent_hash, hash_on: 'header:'}\n"),
       "services[0].load_balancer.hash_on", "'header:'", false, "header needs a field name"},
      {"ring replicas range", svc("    load_balancer: {algorithm: consistent_hash, ring_replicas: 0}\n"),
       "services[0].load_balancer.ring_replicas", "0}", false, "0 is out of range"},
      {"panic over 100", svc("    load_balancer: {panic_threshold: 101%}\n"), "services[0].load_balancer.panic_threshold",
       "101%", false, "above 100%"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(ResilienceConfig, HealthCheckErrors) {
  const std::string hc = "    health_checks: ";
  const std::vector<ErrorCase> cases = {
      {"relative path", svc(hc + "{path: healthz}\n"), "services[0].health_checks.path", "healthz", false,
       "must be absolute"},
      // a check must end before the next one starts
      {"timeout not below interval", svc(hc + "{interval: 5s, timeout: 5s}\n"), "services[0].health_checks.timeout",
       "5s}", false, "timeout 5s is not shorter than interval 5s (at 5:31)"},
      {"interval below default timeout", svc(hc + "{interval: 500ms}\n"), "services[0].health_checks.interval", "500ms",
       false, "interval 500ms is not longer than timeout 1s (the default)"},
      {"threshold 0", svc(hc + "{healthy_threshold: 0}\n"), "services[0].health_checks.healthy_threshold", "0}", false,
       "0 is out of range"},
      {"threshold typo", svc(hc + "{unhealthy_treshold: 2}\n"), "services[0].health_checks.unhealthy_treshold",
       "unhealthy_treshold", false, "did you mean 'unhealthy_threshold'?"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

// ---- exact messages ---------------------------------------------------------------------------

TEST(ResilienceConfig, TyposAreReportedOnceWithExactPositionAndSuggestion) {
  // circuit_braker at the service level; consecutive_failure inside the breaker: each is one
  // diagnostic (no "never trips" on top of the typo), with file:line:col, path, suggestion, keys.
  const std::string yaml = svc("    circuit_braker: {failure_rate: 50%}\n") +
                           "  - name: t\n    targets: [http://h:3]\n    circuit_breaker: {consecutive_failure: 5}\n";
  const LoadResult r = loadConfigString(yaml, kFile);
  ASSERT_EQ(r.diagnostics.size(), 2U) << dump(r);
  EXPECT_EQ(formatDiagnostic(r.diagnostics[0]),
            "test.yaml:5:5: services[0].circuit_braker: unknown key \"circuit_braker\" (did you mean "
            "'circuit_breaker'?); allowed: keys name, targets, timeout, timeouts, retries, circuit_breaker, "
            "outlier_detection, load_balancer, health_checks, tls");
  EXPECT_EQ(formatDiagnostic(r.diagnostics[1]),
            "test.yaml:8:23: services[1].circuit_breaker.consecutive_failure: unknown key \"consecutive_failure\" (did "
            "you mean 'consecutive_failures'?); allowed: keys consecutive_failures, failure_rate, slow_call_rate, "
            "slow_call_duration, window, window_bucket, minimum_calls, open_for, open_for_multiplier, max_open_for, "
            "half_open_calls, half_open_successes, half_open_max_wait, failure_on, mode, fallback, per_target");
}

TEST(ResilienceConfig, ReportsEveryResilienceErrorInOneFile) {
  // tests/gateway/config/data/resilience_errors.yaml: settings that parse but cannot work. Every
  // one is reported, in file order, at the setting to change. (docs/config-reference.md quotes them.)
  const std::string path = std::string(GATELAB_SOURCE_DIR) + "/tests/gateway/config/data/resilience_errors.yaml";
  const LoadResult r = loadConfigFile(path);
  struct Want {
    int line;
    int column;
    std::string_view path;
    std::string_view message;
  };
  const std::vector<Want> want = {
      {8, 51, "services[0].retries.on[1]",
       "a retry after a timeout can never start: timeouts.per_try 2s (at 7:42) is not shorter than timeouts.overall "
       "2s (at 7:55), so a timed-out try has used the whole request's time"},
      {9, 5, "services[0].circuit_braker", "unknown key \"circuit_braker\" (did you mean 'circuit_breaker'?)"},
      {14, 20, "services[1].load_balancer", "round_robin ignores target weights, but the targets have weights 90 and 10"},
      {17, 27, "services[1].retries.on[1]", "503 is already included in gateway-error (at 17:12)"},
      {18, 36, "services[1].retries.backoff.max",
       "max 100ms is below base 500ms (at 18:24); every back-off would be cut to max"},
      {20, 7, "services[1].circuit_breaker.consecutive_failure",
       "unknown key \"consecutive_failure\" (did you mean 'consecutive_failures'?)"},
      {23, 22, "services[1].circuit_breaker.minimum_calls",
       "minimum_calls 50 exceeds the window of 20 calls (at 22:15); the rates would never be evaluated"},
      {25, 28, "services[1].circuit_breaker.half_open_successes",
       "half_open_successes 3 exceeds half_open_calls 2 (at 24:24): only 2 probes are admitted per half-open period, "
       "so the breaker could never close"},
      {29, 24, "services[2].outlier_detection",
       "outlier detection can never take effect: ejecting 1 of 1 target leaves 0% available, below "
       "load_balancer.panic_threshold 50% (the default), so the balancer would ignore the ejection (panic mode)"},
      {30, 65, "services[2].circuit_breaker.slow_call_duration",
       "no call can be slower than slow_call_duration 2s: timeout 2s (at 28:14) ends every try first"},
      {33, 26, "services[3].timeouts.connect",
       "connect 5s can never fire: timeouts.per_try 2s (at 33:39) ends every try first"},
      {34, 51, "services[3].circuit_breaker.window", "window 90s is not a whole number of buckets of 7s (at 34:71)"},
      {34, 85, "services[3].circuit_breaker.open_for",
       "open_for 10m exceeds max_open_for 5m (the default), the cap of the growing open period"},
      {35, 45, "services[3].health_checks.timeout",
       "timeout 5s is not shorter than interval 5s (at 35:32): a check could still be running when the next one "
       "starts"},
  };
  ASSERT_EQ(r.diagnostics.size(), want.size()) << dump(r);
  for (std::size_t i = 0; i < want.size(); ++i) {
    const Diagnostic& d = r.diagnostics[i];
    SCOPED_TRACE(formatDiagnostic(d));
    EXPECT_EQ(d.file, path);
    EXPECT_EQ(d.line, want[i].line);
    EXPECT_EQ(d.column, want[i].column);
    EXPECT_EQ(d.path, want[i].path);
    EXPECT_EQ(d.message, want[i].message);
    EXPECT_FALSE(d.allowed.empty());
  }
}

// ---- the example ------------------------------------------------------------------------------

TEST(ResilienceConfig, ExampleGatewayYamlResilienceValues) {
  // examples/gateway.yaml shows every resilience key once; each comes out as written.
  const LoadResult r = loadConfigFile(std::string(GATELAB_SOURCE_DIR) + "/examples/gateway.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const GatewayConfig& c = *r.config;
  ASSERT_EQ(c.services.size(), 4U);

  const ServiceConfig& users = *c.findService("users");
  EXPECT_EQ(users.timeouts, timeouts(2s, 2s, 0s));
  EXPECT_EQ(users.loadBalancer.lb.algorithm, LbAlgorithm::kConsistentHash);
  EXPECT_EQ(users.loadBalancer.lb.ringReplicas, 160U);
  EXPECT_EQ(users.loadBalancer.hashOn, (HashOn{HashOn::Kind::kHeader, "X-Tenant-Id"}));
  EXPECT_EQ(users.loadBalancer.panicThreshold, Percent::of(50));
  ASSERT_TRUE(users.retries);
  EXPECT_EQ(users.retries->policy.maxRetries, 1U);
  EXPECT_EQ(users.retries->policy.on, (RetryOn{true, false, false, false, false, {}}));
  EXPECT_FALSE(users.circuitBreaker);

  const ServiceConfig& orders = *c.findService("orders");
  EXPECT_EQ(orders.timeouts, timeouts(250ms, 1500ms, 4s));
  ASSERT_TRUE(orders.retries);
  const auto& rp = orders.retries->policy;
  EXPECT_EQ(rp.maxRetries, 2U);
  EXPECT_EQ(rp.on, (RetryOn{true, true, false, true, false, StatusSet{429}}));
  EXPECT_EQ(rp.backoff.base, 25ms);
  EXPECT_EQ(rp.backoff.max, 250ms);
  EXPECT_FALSE(rp.retryNonIdempotent);
  EXPECT_TRUE(rp.honorRetryAfter);
  EXPECT_EQ(rp.maxRetryAfter, 2s);
  EXPECT_EQ(orders.retries->budget.percent, Percent::of(20));
  EXPECT_EQ(orders.retries->budget.minConcurrency, 3U);
  ASSERT_TRUE(orders.circuitBreaker);
  const BreakerConfig& ob = orders.circuitBreaker->breaker;
  EXPECT_EQ(ob.failureRate, Percent::of(50));
  EXPECT_EQ(ob.slowCallRate, Percent::of(80));
  EXPECT_EQ(ob.slowCallDuration, 1s);
  EXPECT_EQ(ob.window, WindowKind::kCount);
  EXPECT_EQ(ob.windowSize, 20U);
  EXPECT_EQ(ob.minimumCalls, 10U);
  EXPECT_EQ(ob.openFor, 30s);
  EXPECT_EQ(ob.halfOpenProbes, 3U);
  EXPECT_EQ(ob.halfOpenSuccesses, 2U);
  EXPECT_TRUE(ob.classifier.serverErrors);
  EXPECT_EQ(ob.classifier.statuses, StatusSet{429});
  EXPECT_TRUE(ob.classifier.connectFailure && ob.classifier.timeout && ob.classifier.reset);
  EXPECT_EQ(ob.fallback.status, 503);
  ASSERT_EQ(ob.fallback.headers.size(), 2U);
  EXPECT_EQ(ob.fallback.headers[1].name, "Cache-Control");
  EXPECT_EQ(ob.fallback.body, "{\"error\":\"orders is temporarily unavailable\"}");
  EXPECT_EQ(orders.circuitBreaker->mode, BreakerMode::kEnforce);

  const ServiceConfig& v2 = *c.findService("orders-v2");
  EXPECT_EQ(v2.timeouts, kDefaultTimeouts);
  EXPECT_EQ(v2.loadBalancer.lb.algorithm, LbAlgorithm::kWeightedRoundRobin);

  const ServiceConfig& search = *c.findService("search");
  ASSERT_EQ(search.targets.size(), 3U);
  EXPECT_EQ(search.loadBalancer.lb.algorithm, LbAlgorithm::kLeastRequest);
  ASSERT_TRUE(search.outlierDetection);
  const OutlierConfig& o = *search.outlierDetection;
  EXPECT_EQ(o.consecutive5xx, 5U);
  EXPECT_EQ(o.consecutiveGatewayFailure, 3U);
  EXPECT_EQ(o.baseEjectionTime, 30s);
  EXPECT_EQ(o.maxEjectionTime, 5min);
  EXPECT_EQ(o.maxEjectionPercent, Percent::of(34));
  EXPECT_TRUE(o.alwaysEjectOne);
  EXPECT_EQ(o.interval, 10s);
  ASSERT_TRUE(search.healthChecks);
  EXPECT_EQ(search.healthChecks->path, "/_cluster/health");
  EXPECT_EQ(search.healthChecks->interval, 5s);
  EXPECT_EQ(search.healthChecks->timeout, 1s);
  EXPECT_EQ(search.healthChecks->healthyThreshold, 2U);
  EXPECT_EQ(search.healthChecks->unhealthyThreshold, 3U);
  ASSERT_TRUE(search.circuitBreaker);
  const BreakerConfig& sb = search.circuitBreaker->breaker;
  EXPECT_EQ(sb.consecutiveFailures, 5U);
  EXPECT_EQ(sb.failureRate, Percent::of(50));
  EXPECT_EQ(sb.window, WindowKind::kTime);
  EXPECT_EQ(sb.windowDuration, 1min);
  EXPECT_EQ(sb.bucketWidth, 5s);
  EXPECT_EQ(sb.minimumCalls, 20U);
  EXPECT_EQ(sb.openFor, 2s);
  EXPECT_EQ(sb.openForMultiplier, 2U);
  EXPECT_EQ(sb.maxOpenFor, 5min);
  EXPECT_EQ(sb.halfOpenProbes, 1U);
  EXPECT_EQ(sb.halfOpenSuccesses, 1U);
  EXPECT_EQ(sb.halfOpenMaxWait, 10s);
  EXPECT_TRUE(sb.dryRun);
  EXPECT_EQ(search.circuitBreaker->mode, BreakerMode::kDryRun);
  EXPECT_TRUE(search.circuitBreaker->perTarget);
  EXPECT_EQ(c.findRoute("search")->spec.services.at(0).service, "search");
}

}  // namespace
}  // namespace gatelab::config
