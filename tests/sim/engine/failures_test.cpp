// Failure injection: every kind at its window boundaries (just before / at / just after start and
// end), independent of the order of same-time events; flapping duty cycle; black hole never
// answering; latency multiplier; slow-recovery ramps; one replica of several; windows and the
// listener; validation.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "sim/engine/failures.hpp"
#include "tests/sim/engine/test_support.hpp"

namespace gatelab::sim {
namespace {

using namespace testing;

BackendConfig backendConfig(std::string target, std::uint32_t servers, Duration service) {
  BackendConfig c;
  c.service = "users";
  c.target = std::move(target);
  c.servers = servers;
  c.serviceTime = ServiceTime::constant(service);
  return c;
}

// Probe times around the window [100ms, 200ms).
constexpr Duration kStart = 100ms;
constexpr Duration kEnd = 200ms;
struct Probe {
  int tag;
  Duration t;
};
const std::vector<Probe> kProbes = {
    {1, kStart - 1ns}, {2, kStart}, {3, kStart + 1ns}, {4, kEnd - 1ns}, {5, kEnd}, {6, kEnd + 1ns}};

// Runs the probes against one 10-server backend with a 1ms constant service time (unless told
// otherwise) and `effect`
// over [100ms, 200ms). `injectFirst` decides whether the failure's events are scheduled before
// or after the probes' (results must not depend on it).
std::vector<Delivered> probe(const FailureEffect& effect, bool injectFirst, std::vector<Probe> probes = kProbes,
                             std::uint32_t servers = 10, Duration service = 1ms) {
  Simulation sim;
  MockBackend backend(sim, backendConfig("0", servers, service));
  FailureInjector failures(sim);
  failures.addBackend(backend);
  Recorder rec(sim);
  auto inject = [&] {
    EXPECT_EQ(failures.inject({"users", "", at(kStart), kEnd - kStart, effect, std::nullopt}), std::nullopt);
  };
  if (injectFirst) inject();
  for (const Probe& p : probes) rec.callAt(backend, at(p.t), p.tag);
  if (!injectFirst) inject();
  sim.run();
  return rec.got;
}

const Delivered& get(const std::vector<Delivered>& got, int tag) {
  for (const Delivered& d : got)
    if (d.tag == tag) return d;
  ADD_FAILURE() << "no outcome for tag " << tag;
  static const Delivered kNone{};
  return kNone;
}

TEST(Failures, DownRefusesInsideTheWindowAndResetsCallsInFlight) {
  for (bool injectFirst : {true, false}) {
    SCOPED_TRACE(injectFirst ? "failure scheduled first" : "probes scheduled first");
    std::vector<Probe> probes = kProbes;
    probes.push_back({7, kStart - 1ms});  // its service ends exactly at the window start
    const auto got = probe(Down{}, injectFirst, probes);
    EXPECT_EQ(get(got, 1).outcome, CallOutcome::reset(1ns)) << "in service at the start: reset then";
    EXPECT_EQ(get(got, 1).at, at(kStart));
    EXPECT_EQ(get(got, 7).outcome, CallOutcome::reset(1ms)) << "a response due at the start is not delivered";
    EXPECT_EQ(get(got, 2).outcome, CallOutcome::connectFailure());
    EXPECT_EQ(get(got, 3).outcome, CallOutcome::connectFailure());
    EXPECT_EQ(get(got, 4).outcome, CallOutcome::connectFailure());
    EXPECT_EQ(get(got, 5).outcome, CallOutcome::response(200, 1ms)) << "the end is exclusive";
    EXPECT_EQ(get(got, 6).outcome, CallOutcome::response(200, 1ms));
  }
}

TEST(Failures, DrainingDownLetsAcceptedCallsFinish) {
  const auto got = probe(Down{false}, true);
  EXPECT_EQ(get(got, 1).outcome, CallOutcome::response(200, 1ms));
  EXPECT_EQ(get(got, 2).outcome, CallOutcome::connectFailure());
  EXPECT_EQ(get(got, 5).outcome, CallOutcome::response(200, 1ms));
}

TEST(Failures, ErrorBurstAppliesToServicesStartingInTheWindow) {
  for (bool injectFirst : {true, false}) {
    const auto got = probe(ErrorBurst{1.0, 503}, injectFirst);
    EXPECT_EQ(get(got, 1).outcome.status, 200);
    EXPECT_EQ(get(got, 2).outcome.status, 503);
    EXPECT_EQ(get(got, 3).outcome.status, 503);
    EXPECT_EQ(get(got, 4).outcome.status, 503);
    EXPECT_EQ(get(got, 5).outcome.status, 200);
    EXPECT_EQ(get(got, 6).outcome.status, 200);
    EXPECT_EQ(get(got, 2).outcome.latency, 1ms) << "an error still takes the service time";
  }
}

TEST(Failures, PartialErrorBurstWithinBinomialBounds) {
  std::vector<Probe> probes;
  for (int i = 0; i < 10000; ++i) probes.push_back({i, kStart + i * 10us});
  const auto got = probe(ErrorBurst{0.3, 502}, true, probes, 1000);  // no queueing: starts = arrivals
  int errors = 0;
  for (const Delivered& d : got) errors += d.outcome.status == 502 ? 1 : 0;
  EXPECT_NEAR(errors, 3000, 5 * std::sqrt(10000 * 0.3 * 0.7));
}

TEST(Failures, LatencyMultiplierAndAddedLatency) {
  for (bool injectFirst : {true, false}) {
    const auto got = probe(LatencySpike{10.0, 5ms}, injectFirst);
    EXPECT_EQ(get(got, 1).outcome.latency, 1ms);
    EXPECT_EQ(get(got, 2).outcome.latency, 15ms) << "1ms x 10 + 5ms";
    EXPECT_EQ(get(got, 4).outcome.latency, 15ms);
    EXPECT_EQ(get(got, 5).outcome.latency, 1ms);
  }
}

TEST(Failures, BlackHoleNeverAnswers) {
  for (bool injectFirst : {true, false}) {
    std::vector<Probe> probes = kProbes;
    probes.push_back({7, kStart - 1ms});          // response due exactly at the start: lost
    probes.push_back({8, kStart - 1ms - 1ns});    // response due just before: delivered
    const auto got = probe(BlackHole{}, injectFirst, probes);
    std::vector<int> answered;
    for (const Delivered& d : got) answered.push_back(d.tag);
    std::sort(answered.begin(), answered.end());
    EXPECT_EQ(answered, (std::vector<int>{5, 6, 8}));
  }
}

// A call accepted before the window whose response falls due at its end (exclusive) or later is
// answered; one due just before the end is lost.
TEST(Failures, BlackHoleLosesOnlyResponsesDueInsideTheWindow) {
  const std::vector<Probe> probes = {{1, 50ms - 1ns}, {2, 50ms}, {3, 60ms}};
  const auto got = probe(BlackHole{}, true, probes, 10, 150ms);
  std::vector<int> answered;
  for (const Delivered& d : got) answered.push_back(d.tag);
  EXPECT_EQ(answered, (std::vector<int>{2, 3}));
  EXPECT_EQ(get(got, 2).at, at(kEnd));
}

// Swallowed calls are only ended by the caller (its timeout): cancel() succeeds on them.
TEST(Failures, BlackHoledCallsEndOnlyByCancel) {
  Simulation sim;
  MockBackend backend(sim, backendConfig("0", 1, 1ms));
  FailureInjector failures(sim);
  failures.addBackend(backend);
  ASSERT_EQ(failures.inject({"users", "0", at(0ms), 1s, BlackHole{}, std::nullopt}), std::nullopt);
  Recorder rec(sim);
  CallHandle h;
  sim.schedule(at(10ms), [&] { h = rec.call(backend, 1); });
  sim.runUntil(at(1h));
  EXPECT_TRUE(rec.got.empty());
  EXPECT_EQ(backend.stats().swallowed, 1U);
  EXPECT_EQ(backend.busyServers(), 0U) << "a swallowed call holds no server";
  EXPECT_TRUE(backend.cancel(h));
  EXPECT_FALSE(backend.cancel(h));
}

// Flapping: down for round(period x fraction) at the start of each period; the duty cycle is
// exact, and the last period is cut at the window end.
TEST(Failures, FlappingFollowsItsDutyCycle) {
  Simulation sim;
  MockBackend backend(sim, backendConfig("0", 10, 100us));
  FailureInjector failures(sim);
  failures.addBackend(backend);
  ASSERT_EQ(failures.inject({"users", "", at(0ms), 950ms, Flapping{100ms, 0.25, true}, std::nullopt}), std::nullopt);
  ASSERT_EQ(failures.windows().size(), 10U);
  EXPECT_EQ(failures.windows()[3].start, at(300ms));
  EXPECT_EQ(failures.windows()[3].end, at(325ms));
  EXPECT_EQ(failures.windows()[3].kind, FailureKind::kFlapping);
  EXPECT_EQ(failures.windows()[3].description, "flapping period 100ms down 25%: down phase 4/10");
  Recorder rec(sim);
  for (int ms = 0; ms < 1000; ++ms) rec.callAt(backend, at(ms * 1ms), ms);
  rec.callAt(backend, at(325ms - 1ns), 10000);
  sim.run();
  int refused = 0;
  for (const Delivered& d : rec.got)
    if (d.tag < 1000 && d.outcome.kind == OutcomeKind::kConnectFailure) ++refused;
  EXPECT_EQ(refused, 250);
  EXPECT_EQ(rec.find(25)->outcome.kind, OutcomeKind::kResponse) << "phase end is exclusive";
  EXPECT_EQ(rec.find(24)->outcome.kind, OutcomeKind::kConnectFailure);
  EXPECT_EQ(rec.find(100)->outcome.kind, OutcomeKind::kConnectFailure) << "next phase starts down";
  EXPECT_EQ(rec.find(10000)->outcome.kind, OutcomeKind::kConnectFailure);
}

TEST(Failures, FlappingLastPeriodIsCutAtTheEnd) {
  Simulation sim;
  MockBackend backend(sim, backendConfig("0", 1, 1ms));
  FailureInjector failures(sim);
  failures.addBackend(backend);
  ASSERT_EQ(failures.inject({"users", "", at(0ms), 250ms, Flapping{100ms, 0.6, true}, std::nullopt}), std::nullopt);
  ASSERT_EQ(failures.windows().size(), 3U);
  EXPECT_EQ(failures.windows()[2].start, at(200ms));
  EXPECT_EQ(failures.windows()[2].end, at(250ms));
}

// Capacity ramp from 0 over 400ms with 4 servers: servers become usable at 200, 300, 400ms
// (at least one is always usable); queued calls start the moment a server becomes usable.
TEST(Failures, SlowRecoveryRampsCapacity) {
  Simulation sim;
  MockBackend backend(sim, backendConfig("0", 4, 1s));
  FailureInjector failures(sim);
  failures.addBackend(backend);
  ASSERT_EQ(failures.inject({"users", "", at(0ms), 400ms, SlowRecovery{0.0, 1.0}, std::nullopt}), std::nullopt);
  Recorder rec(sim);
  for (int tag = 1; tag <= 6; ++tag) rec.callAt(backend, at(0ms), tag);
  std::vector<std::uint32_t> usable;
  for (Duration t : {99ms, 100ms, 199ms, 200ms, 299ms, 300ms, 399ms, 400ms}) {
    sim.runUntil(at(t));
    usable.push_back(backend.usableServers());
  }
  EXPECT_EQ(usable, (std::vector<std::uint32_t>{1, 1, 1, 2, 2, 3, 3, 4}));
  sim.run();
  EXPECT_EQ(rec.find(1)->at, at(1s));
  EXPECT_EQ(rec.find(2)->at, at(1200ms));
  EXPECT_EQ(rec.find(3)->at, at(1300ms));
  EXPECT_EQ(rec.find(4)->at, at(1400ms));
  EXPECT_EQ(rec.find(5)->at, at(2s)) << "started when call 1 freed its server at 1s";
  EXPECT_EQ(rec.find(6)->at, at(2200ms));
}

// Latency ramp: factor 5 at the start, 1 at the end, linear in between.
TEST(Failures, SlowRecoveryRampsLatency) {
  std::vector<Probe> probes = {{1, 0ms}, {2, 50ms}, {3, 75ms}, {4, 100ms - 1ns}, {5, 100ms}};
  Simulation sim;
  MockBackend backend(sim, backendConfig("0", 10, 1ms));
  FailureInjector failures(sim);
  failures.addBackend(backend);
  ASSERT_EQ(failures.inject({"users", "", at(0ms), 100ms, SlowRecovery{1.0, 5.0}, std::nullopt}), std::nullopt);
  Recorder rec(sim);
  for (const Probe& p : probes) rec.callAt(backend, at(p.t), p.tag);
  sim.run();
  EXPECT_EQ(rec.find(1)->outcome.latency, 5ms);
  EXPECT_EQ(rec.find(2)->outcome.latency, 3ms);
  EXPECT_EQ(rec.find(3)->outcome.latency, 2ms);
  EXPECT_EQ(rec.find(4)->outcome.latency, 1ms);  // 1 + 4 x 1e-8 of a ms rounds to 1ms
  EXPECT_EQ(rec.find(5)->outcome.latency, 1ms);
}

// A failure's `recovery` appends a slow-recovery window at its end.
TEST(Failures, RecoveryFollowsTheFailure) {
  Simulation sim;
  MockBackend backend(sim, backendConfig("0", 2, 1ms));
  FailureInjector failures(sim);
  failures.addBackend(backend);
  ASSERT_EQ(failures.inject({"users", "0", at(100ms), 100ms, Down{}, RecoveryRamp{100ms, SlowRecovery{0.5, 3.0}}}),
            std::nullopt);
  ASSERT_EQ(failures.windows().size(), 2U);
  EXPECT_EQ(failures.windows()[1].kind, FailureKind::kSlowRecovery);
  EXPECT_EQ(failures.windows()[1].start, at(200ms));
  EXPECT_EQ(failures.windows()[1].end, at(300ms));
  EXPECT_EQ(failures.windows()[1].description, "slow_recovery capacity 50%->100% latency x3->x1 over 100ms");
  Recorder rec(sim);
  rec.callAt(backend, at(200ms), 1);
  rec.callAt(backend, at(250ms), 2);
  sim.runUntil(at(250ms));
  EXPECT_EQ(backend.usableServers(), 1U);
  sim.run();
  EXPECT_EQ(backend.usableServers(), 2U);
  EXPECT_EQ(rec.find(1)->outcome, CallOutcome::response(200, 3ms));
  EXPECT_EQ(rec.find(2)->outcome, CallOutcome::response(200, 2ms));
}

// One replica of several failing: a target name narrows the failure; no target means all.
TEST(Failures, TargetsOneReplicaOrTheWholeService) {
  Simulation sim;
  MockBackend b0(sim, backendConfig("0", 1, 1ms));
  MockBackend b1(sim, backendConfig("1", 1, 1ms));
  MockBackend b2(sim, backendConfig("2", 1, 1ms));
  FailureInjector failures(sim);
  for (MockBackend* b : {&b0, &b1, &b2}) failures.addBackend(*b);
  ASSERT_EQ(failures.inject({"users", "1", at(10ms), 10ms, Down{}, std::nullopt}), std::nullopt);
  ASSERT_EQ(failures.inject({"users", "", at(30ms), 10ms, ErrorBurst{1.0, 503}, std::nullopt}), std::nullopt);
  Recorder rec(sim);
  rec.callAt(b0, at(15ms), 0);
  rec.callAt(b1, at(15ms), 1);
  rec.callAt(b2, at(15ms), 2);
  rec.callAt(b0, at(35ms), 10);
  rec.callAt(b1, at(35ms), 11);
  rec.callAt(b2, at(35ms), 12);
  sim.run();
  EXPECT_EQ(rec.find(0)->outcome.status, 200);
  EXPECT_EQ(rec.find(1)->outcome.kind, OutcomeKind::kConnectFailure);
  EXPECT_EQ(rec.find(2)->outcome.status, 200);
  for (int tag : {10, 11, 12}) EXPECT_EQ(rec.find(tag)->outcome.status, 503) << tag;
}

// The listener hears each window start and end at the exact time; windows() lists them.
TEST(Failures, ListenerAndWindows) {
  Simulation sim;
  MockBackend backend(sim, backendConfig("0", 1, 1ms));
  FailureInjector failures(sim);
  failures.addBackend(backend);
  std::vector<std::string> heard;
  failures.setListener([&](const FailureWindow& w, bool started) {
    heard.push_back(core::formatDuration(sim.now().time_since_epoch()) + (started ? " start " : " end ") + w.description);
  });
  ASSERT_EQ(failures.inject({"users", "", at(1s), 2s, LatencySpike{10.0, 0ns}, std::nullopt}), std::nullopt);
  ASSERT_EQ(failures.inject({"users", "0", at(2s), 500ms, ErrorBurst{0.5, 503}, std::nullopt}), std::nullopt);
  sim.run();
  EXPECT_EQ(heard, (std::vector<std::string>{"1s start latency x10", "2s start error_burst 50% -> 503",
                                             "2s500ms end error_burst 50% -> 503", "3s end latency x10"}));
  ASSERT_EQ(failures.windows().size(), 2U);
  EXPECT_EQ(failures.windows()[1],
            (FailureWindow{1, FailureKind::kErrorBurst, "users", "0", at(2s), at(2500ms), "error_burst 50% -> 503"}));
}

TEST(Failures, InvalidSpecsAreRefusedWithReasons) {
  Simulation sim;
  MockBackend backend(sim, backendConfig("0", 1, 1ms));
  FailureInjector failures(sim);
  failures.addBackend(backend);
  EXPECT_EQ(failures.inject({"orders", "", at(0ms), 1s, Down{}, std::nullopt}).value_or(""),
            "no backend matches orders (known: users/0)");
  EXPECT_EQ(failures.inject({"users", "7", at(0ms), 1s, Down{}, std::nullopt}).value_or(""),
            "no backend matches users/7 (known: users/0)");
  EXPECT_EQ(failures.inject({"users", "", at(0ms), 0s, Down{}, std::nullopt}).value_or(""), "duration: must be > 0, got 0s");
  EXPECT_EQ(failures.inject({"users", "", at(0ms), 1s, ErrorBurst{1.5, 503}, std::nullopt}).value_or(""),
            "error_burst.probability: must be in [0, 1], got 1.5");
  EXPECT_EQ(failures.inject({"users", "", at(0ms), 1s, Flapping{0ms, 0.5, true}, std::nullopt}).value_or(""),
            "flapping.period: must be > 0, got 0s");
  EXPECT_EQ(failures.inject({"users", "", at(0ms), 1s, Down{}, RecoveryRamp{0ms, {}}}).value_or(""),
            "recovery.ramp: must be > 0, got 0s");
  sim.runUntil(at(5s));
  EXPECT_EQ(failures.inject({"users", "", at(1s), 1s, Down{}, std::nullopt}).value_or(""),
            "start: 1s is before the simulation's now (5s)");
  EXPECT_TRUE(failures.windows().empty());
}

}  // namespace
}  // namespace gatelab::sim
