// Determinism: the same seed gives a byte-identical event trace and summary; another seed or
// run number differs; two simulations interleaved in one process do not affect each other.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/sim/engine/scenario_support.hpp"

namespace gatelab::sim {
namespace {

using namespace testing;

constexpr std::uint64_t kArrivals = 10000;  // ~20s of simulated time: every failure window

struct Trace {
  std::vector<std::pair<std::int64_t, EventKind>> events;
  std::uint64_t digest = 0;
  std::string summary;
};

Trace runAlone(RunSeed seed) {
  MiniScenario s(seed, kArrivals);
  Trace t;
  s.sim.setTraceObserver([&t](TimePoint at, EventKind k) { t.events.emplace_back(core::toNanos(at), k); });
  s.sim.run();
  t.digest = s.sim.traceDigest();
  t.summary = s.summary();
  return t;
}

TEST(Determinism, SameSeedSameTrace) {
  const Trace a = runAlone(RunSeed{42, 0});
  const Trace b = runAlone(RunSeed{42, 0});
  ASSERT_GT(a.events.size(), 2 * kArrivals);  // arrival + service end (+ failure events)
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.digest, b.digest);
  EXPECT_EQ(a.summary, b.summary);
  // The scenario exercises what it should.
  EXPECT_NE(a.summary.find("seed=42 run=0"), std::string::npos);
  EXPECT_EQ(a.summary.find("timeouts=0 "), std::string::npos) << a.summary;
  EXPECT_EQ(a.summary.find("failed=0 "), std::string::npos) << a.summary;
}

TEST(Determinism, OtherSeedOrRunDiffers) {
  const Trace base = runAlone(RunSeed{42, 0});
  const Trace otherSeed = runAlone(RunSeed{43, 0});
  const Trace otherRun = runAlone(RunSeed{42, 1});
  EXPECT_NE(base.digest, otherSeed.digest);
  EXPECT_NE(base.digest, otherRun.digest);
  EXPECT_NE(base.summary, otherSeed.summary);
  EXPECT_NE(base.events, otherRun.events);
}

// Stepping two simulations alternately gives each exactly its stand-alone trace.
TEST(Determinism, InterleavedSimulationsDoNotAffectEachOther) {
  const Trace aloneA = runAlone(RunSeed{1, 0});
  const Trace aloneB = runAlone(RunSeed{2, 0});
  MiniScenario a(RunSeed{1, 0}, kArrivals);
  MiniScenario b(RunSeed{2, 0}, kArrivals);
  for (;;) {
    const bool ranA = a.sim.step();
    const bool ranB = b.sim.step() && b.sim.step();  // different pace on purpose
    if (!ranA && !ranB) break;
  }
  EXPECT_EQ(a.sim.traceDigest(), aloneA.digest);
  EXPECT_EQ(b.sim.traceDigest(), aloneB.digest);
  EXPECT_EQ(a.summary(), aloneA.summary);
  EXPECT_EQ(b.summary(), aloneB.summary);
}

// The queue implementation does not change the trace (order is (time, seq) by contract).
TEST(Determinism, QueueImplementationDoesNotChangeTheTrace) {
  const Trace binary = runAlone(RunSeed{9, 0});
  MiniScenario s(RunSeed{9, 0}, kArrivals, std::make_unique<QuaternaryHeapQueue>());
  EXPECT_EQ(s.sim.queue().name(), "4-ary-heap");
  s.sim.run();
  EXPECT_EQ(s.sim.traceDigest(), binary.digest);
  EXPECT_EQ(s.summary(), binary.summary);
}

}  // namespace
}  // namespace gatelab::sim
