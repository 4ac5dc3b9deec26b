// The engine: time and same-time FIFO order, cancellation (never runs, no-op after run, while
// running, stale ids), runUntil boundaries, step, stop, the clock never going back (and aborting
// when asked to), compaction of cancelled entries, SmallFunction storage, independence of two
// simulations.

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "sim/engine/simulation.hpp"
#include "sim/engine/small_function.hpp"
#include "tests/sim/engine/test_support.hpp"

namespace gatelab::sim {
namespace {

using namespace testing;

TEST(Simulation, StartsAtTheEpochWithNothingToDo) {
  Simulation sim;
  EXPECT_EQ(sim.now(), at(0ns));
  EXPECT_FALSE(sim.step());
  EXPECT_EQ(sim.pendingEvents(), 0U);
  sim.run();
  EXPECT_EQ(sim.now(), at(0ns));
}

// Events run in time order; the clock jumps to each event's time.
TEST(Simulation, RunsEventsInTimeOrder) {
  Simulation sim;
  std::vector<std::pair<int, TimePoint>> ran;
  for (int i : {3, 1, 2}) sim.schedule(at(i * 10ms), [&, i] { ran.emplace_back(i, sim.now()); });
  sim.run();
  ASSERT_EQ(ran.size(), 3U);
  EXPECT_EQ(ran[0], std::make_pair(1, at(10ms)));
  EXPECT_EQ(ran[1], std::make_pair(2, at(20ms)));
  EXPECT_EQ(ran[2], std::make_pair(3, at(30ms)));
  EXPECT_EQ(sim.now(), at(30ms));
}

// Same-time events run in the order they were scheduled, also when scheduled from an event at
// that very time (they go after everything already scheduled for it).
TEST(Simulation, SameTimeEventsRunFirstInFirstOut) {
  Simulation sim;
  std::vector<int> ran;
  for (int i = 0; i < 5; ++i)
    sim.schedule(at(1s), [&, i] {
      ran.push_back(i);
      if (i == 0) sim.schedule(at(1s), [&] { ran.push_back(100); });
      if (i == 1) sim.schedule(0ns, [&] { ran.push_back(101); });
    });
  sim.schedule(at(1s), [&] { ran.push_back(5); });
  sim.run();
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4, 5, 100, 101}));
}

// A relative delay counts from now(); a delay reaching past TimePoint::max() saturates.
TEST(Simulation, DelaysCountFromNowAndSaturate) {
  Simulation sim;
  TimePoint fired{};
  sim.schedule(at(5ms), [&] { sim.schedule(7ms, [&] { fired = sim.now(); }); });
  sim.run();
  EXPECT_EQ(fired, at(12ms));
  const EventId far = sim.schedule(Duration::max(), [] {});
  EXPECT_TRUE(sim.isPending(far));
  ASSERT_TRUE(sim.nextEventTime().has_value());
  EXPECT_EQ(*sim.nextEventTime(), TimePoint::max());
}

// Cancelled events never run; cancel is false after the run, twice, for default ids.
TEST(Simulation, CancelledEventsNeverRun) {
  Simulation sim;
  int ran = 0;
  const EventId a = sim.schedule(at(1ms), [&] { ran += 1; });
  const EventId b = sim.schedule(at(2ms), [&] { ran += 10; });
  const EventId c = sim.schedule(at(3ms), [&] { ran += 100; });
  EXPECT_TRUE(sim.isPending(b));
  EXPECT_TRUE(sim.cancel(b));
  EXPECT_FALSE(sim.isPending(b));
  EXPECT_FALSE(sim.cancel(b)) << "second cancel is a no-op";
  EXPECT_FALSE(sim.cancel(EventId{})) << "default id refers to nothing";
  EXPECT_EQ(sim.pendingEvents(), 2U);
  sim.run();
  EXPECT_EQ(ran, 101);
  EXPECT_FALSE(sim.cancel(a)) << "cancel after run is a no-op";
  EXPECT_FALSE(sim.cancel(c));
  EXPECT_EQ(sim.stats().executed, 2U);
  EXPECT_EQ(sim.stats().cancelled, 1U);
  EXPECT_EQ(sim.stats().scheduled, 3U);
}

// An event cannot cancel itself while running; it can cancel a later one at the same time.
TEST(Simulation, CancelWhileRunning) {
  Simulation sim;
  EventId self;
  EventId later;
  bool selfCancel = true;
  bool laterRan = false;
  self = sim.schedule(at(1ms), [&] {
    selfCancel = sim.cancel(self);
    EXPECT_TRUE(sim.cancel(later));
  });
  later = sim.schedule(at(1ms), [&] { laterRan = true; });
  sim.run();
  EXPECT_FALSE(selfCancel);
  EXPECT_FALSE(laterRan);
}

// A stale id (its slot reused by a later event) cancels nothing.
TEST(Simulation, StaleIdsDoNotCancelTheSlotsNextEvent) {
  Simulation sim;
  const EventId first = sim.schedule(at(1ms), [] {});
  sim.run();
  bool ran = false;
  const EventId second = sim.schedule(at(2ms), [&] { ran = true; });
  EXPECT_NE(first, second);
  EXPECT_FALSE(sim.cancel(first));
  sim.run();
  EXPECT_TRUE(ran);
}

// Cancelling releases the callback's captures at once.
TEST(Simulation, CancelDestroysTheCallbackAtOnce) {
  Simulation sim;
  auto token = std::make_shared<int>(1);
  const EventId id = sim.schedule(at(1s), [token] { (void)token; });
  EXPECT_EQ(token.use_count(), 2);
  sim.cancel(id);
  EXPECT_EQ(token.use_count(), 1);
}

// runUntil(t) runs events at exactly t, not at t + 1ns, and leaves now() at t.
TEST(Simulation, RunUntilIncludesItsBoundary) {
  Simulation sim;
  std::vector<int> ran;
  sim.schedule(at(10ms - 1ns), [&] { ran.push_back(1); });
  sim.schedule(at(10ms), [&] {
    ran.push_back(2);
    sim.schedule(0ns, [&] { ran.push_back(3); });  // scheduled at t from t: also runs
  });
  sim.schedule(at(10ms + 1ns), [&] { ran.push_back(4); });
  sim.runUntil(at(10ms));
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(sim.now(), at(10ms));
  sim.runUntil(at(10ms));  // runUntil(now) is allowed and does nothing new
  EXPECT_EQ(ran.size(), 3U);
  sim.runUntil(at(1s));
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(sim.now(), at(1s)) << "the clock advances to t even past the last event";
}

// step() runs exactly one event (skipping cancelled ones).
TEST(Simulation, StepRunsOneEvent) {
  Simulation sim;
  int ran = 0;
  const EventId first = sim.schedule(at(1ms), [&] { ++ran; });
  sim.schedule(at(2ms), [&] { ++ran; });
  sim.cancel(first);
  EXPECT_TRUE(sim.step());
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(sim.now(), at(2ms));
  EXPECT_FALSE(sim.step());
  EXPECT_EQ(sim.now(), at(2ms));
}

// stop() ends run() and runUntil() after the running event; now() stays at that event.
TEST(Simulation, StopEndsTheRunAfterTheCurrentEvent) {
  Simulation sim;
  int ran = 0;
  sim.schedule(at(1ms), [&] { ++ran; });
  sim.schedule(at(2ms), [&] {
    ++ran;
    sim.stop();
  });
  sim.schedule(at(3ms), [&] { ++ran; });
  sim.runUntil(at(1s));
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(sim.now(), at(2ms));
  sim.run();
  EXPECT_EQ(ran, 3);
}

// now() never decreases across a random workload that schedules from callbacks.
TEST(Simulation, ClockNeverGoesBack) {
  Simulation sim;
  Rng rng(3);
  TimePoint last{};
  int remaining = 20000;
  std::function<void()> tick = [&] {
    EXPECT_GE(sim.now(), last);
    last = sim.now();
    if (remaining-- > 0) {
      sim.schedule(Duration{static_cast<std::int64_t>(rng.below(1000))}, [&] { tick(); });
      if (rng.below(2) == 0) sim.cancel(sim.schedule(Duration{static_cast<std::int64_t>(rng.below(1000))}, [] {}));
    }
  };
  sim.schedule(at(0ns), [&] { tick(); });
  sim.run();
  EXPECT_GT(sim.stats().executed, 20000U);
}

TEST(SimulationDeathTest, SchedulingInThePastAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Simulation sim;
        sim.runUntil(at(10ms));
        sim.schedule(at(5ms), [] {});
      },
      "event scheduled in the past");
  EXPECT_DEATH(
      {
        Simulation sim;
        sim.runUntil(at(10ms));
        sim.runUntil(at(9ms));
      },
      "runUntil into the past");
}

// A queue that hands out an entry earlier than now() is caught (time never goes backwards).
class BrokenQueue final : public EventQueue {
 public:
  void push(const QueuedEvent& e) override { entries_.push_back(e); }
  const QueuedEvent& top() const override { return entries_.back(); }  // LIFO: wrong order
  void pop() override { entries_.pop_back(); }
  bool empty() const noexcept override { return entries_.empty(); }
  std::size_t size() const noexcept override { return entries_.size(); }
  void retainIf(const std::function<bool(const QueuedEvent&)>&) override {}
  std::string_view name() const noexcept override { return "broken"; }

 private:
  std::vector<QueuedEvent> entries_;
};

TEST(SimulationDeathTest, AQueueReturningAnEarlierEventAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Simulation sim(SimulationOptions{RunSeed{}, std::make_unique<BrokenQueue>(), true});
        sim.schedule(at(1ms), [] {});
        sim.schedule(at(2ms), [] {});
        sim.run();
      },
      "time went backwards");
}

// A binary heap that cannot erase (EventQueue's default erase): cancelled entries stay until they
// surface or are compacted.
class LazyQueue final : public EventQueue {
 public:
  void push(const QueuedEvent& e) override { heap_.push(e); }
  const QueuedEvent& top() const override { return heap_.top(); }
  void pop() override { heap_.pop(); }
  bool empty() const noexcept override { return heap_.empty(); }
  std::size_t size() const noexcept override { return heap_.size(); }
  void retainIf(const std::function<bool(const QueuedEvent&)>& keep) override { heap_.retainIf(keep); }
  std::string_view name() const noexcept override { return "lazy"; }

 private:
  BinaryHeapQueue heap_;
};

// Mostly-cancelled timeouts do not pile up, with either kind of queue: the default heap removes
// them at once, a queue that cannot erase is compacted; the survivors run in order either way.
TEST(Simulation, CancelledEntriesDoNotPileUp) {
  for (const bool lazy : {false, true}) {
    Simulation sim(SimulationOptions{RunSeed{}, lazy ? std::make_unique<LazyQueue>() : nullptr, true});
    std::vector<EventId> ids;
    std::vector<int> ran;
    for (int i = 0; i < 20000; ++i) ids.push_back(sim.schedule(at(1s + i * 1us), [&ran, i] { ran.push_back(i); }));
    for (int i = 0; i < 20000; ++i) {
      if (i % 10 != 0) {
        EXPECT_TRUE(sim.cancel(ids[static_cast<std::size_t>(i)]));
      }
    }
    if (lazy) {
      EXPECT_GE(sim.stats().compactions, 1U);
      EXPECT_LT(sim.queue().size(), 12000U);
    } else {
      EXPECT_EQ(sim.stats().compactions, 0U);
      EXPECT_EQ(sim.queue().size(), 2000U);
    }
    EXPECT_EQ(sim.stats().cancelled, 18000U);
    EXPECT_EQ(sim.pendingEvents(), 2000U);
    EXPECT_FALSE(sim.cancel(ids[1]));  // already cancelled
    EXPECT_FALSE(sim.isPending(ids[1]));
    sim.run();
    ASSERT_EQ(ran.size(), 2000U) << (lazy ? "lazy" : "erasing");
    for (std::size_t k = 0; k < ran.size(); ++k) EXPECT_EQ(ran[k], static_cast<int>(k * 10));
  }
}

// The trace observer sees every executed event with its time and kind; the digest changes with
// the kinds and times.
TEST(Simulation, TraceObserverAndDigest) {
  auto runWith = [](EventKind secondKind, Duration secondAt) {
    Simulation sim;
    std::vector<std::pair<TimePoint, EventKind>> seen;
    sim.setTraceObserver([&](TimePoint t, EventKind k) { seen.emplace_back(t, k); });
    sim.schedule(at(1ms), [] {}, 7);
    sim.schedule(at(secondAt), [] {}, secondKind);
    sim.run();
    EXPECT_EQ(seen.size(), 2U);
    EXPECT_EQ(seen[0], std::make_pair(at(1ms), EventKind{7}));
    return sim.traceDigest();
  };
  const std::uint64_t base = runWith(8, 2ms);
  EXPECT_NE(base, 0U);
  EXPECT_EQ(base, runWith(8, 2ms));
  EXPECT_NE(base, runWith(9, 2ms));
  EXPECT_NE(base, runWith(8, 3ms));
}

// Two simulations in one process share nothing: interleaving their steps changes neither.
TEST(Simulation, TwoSimulationsAreIndependent) {
  auto setup = [](Simulation& sim, std::vector<TimePoint>& log, int n) {
    for (int i = 0; i < n; ++i) sim.schedule(at(i * 3ms), [&sim, &log] { log.push_back(sim.now()); }, 1);
  };
  Simulation a(RunSeed{1, 0});
  Simulation b(RunSeed{1, 0});
  std::vector<TimePoint> logA;
  std::vector<TimePoint> logB;
  setup(a, logA, 50);
  setup(b, logB, 80);
  for (;;) {
    const bool ranA = a.step();
    const bool ranB = b.step();
    if (!ranA && !ranB) break;
  }
  EXPECT_EQ(logA.size(), 50U);
  EXPECT_EQ(logB.size(), 80U);
  EXPECT_EQ(a.now(), at(49 * 3ms));
  EXPECT_EQ(b.now(), at(79 * 3ms));
}

// Small callables are stored inline, big ones on the heap; move-only captures work.
TEST(SmallFunction, StoresSmallCallablesInline) {
  int hits = 0;
  SmallFunction<void(), 40> small([&hits, a = 1, b = 2L] { hits += a + static_cast<int>(b); });
  EXPECT_TRUE(small.isInline());
  small();
  EXPECT_EQ(hits, 3);

  std::array<char, 64> big{};
  big[0] = 5;
  SmallFunction<int(), 40> large([big] { return static_cast<int>(big[0]); });
  EXPECT_FALSE(large.isInline());
  EXPECT_EQ(large(), 5);

  auto owned = std::make_unique<int>(9);
  SmallFunction<int(int), 40> moveOnly([p = std::move(owned)](int x) { return *p + x; });
  SmallFunction<int(int), 40> moved = std::move(moveOnly);
  EXPECT_FALSE(static_cast<bool>(moveOnly));
  EXPECT_EQ(moved(1), 10);

  auto token = std::make_shared<int>(0);
  {
    SmallFunction<void(), 40> holder([token] {});
    EXPECT_EQ(token.use_count(), 2);
    SmallFunction<void(), 40> other = std::move(holder);
    EXPECT_EQ(token.use_count(), 2);
  }
  EXPECT_EQ(token.use_count(), 1) << "destroyed exactly once";
}

TEST(SmallFunction, EventCallbacksOfTheBackendFitInline) {
  struct Capture {
    void* self;
    std::uint32_t index;
    std::uint32_t generation;
  };
  EXPECT_TRUE(EventCallback::fitsInline<Capture>());
}

}  // namespace
}  // namespace gatelab::sim
