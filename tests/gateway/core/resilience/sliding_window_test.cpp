// Sliding windows: count-based eviction and time-based bucket expiry at exact boundaries,
// checked against a brute-force list of (time, outcome) records.

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "gateway/core/resilience/sliding_window.hpp"
#include "tests/gateway/core/resilience/test_support.hpp"

namespace gatelab::core::resilience {
namespace {

using namespace testing;

TEST(CountWindow, KeepsTheLastNCalls) {
  CountWindow w(3);
  w.record(true, false);
  w.record(true, true);
  EXPECT_EQ(w.totals(), (WindowTotals{2, 2, 1})) << "filling";
  w.record(false, false);
  w.record(false, false);
  EXPECT_EQ(w.totals(), (WindowTotals{3, 1, 1})) << "the first call was evicted";
  w.record(false, false);
  EXPECT_EQ(w.totals(), (WindowTotals{3, 0, 0})) << "the second too";
  w.clear();
  EXPECT_EQ(w.totals(), WindowTotals{});
}

TEST(TimeWindow, BucketBoundariesAreExact) {
  TimeWindow w(10s, 1s);
  w.record(at(500ms), true, false);
  w.record(at(1s), false, true);  // bucket 1
  struct Probe {
    Duration t;
    WindowTotals expect;
    const char* property;
  };
  const std::vector<Probe> probes = {
      {10s - 1ns, {2, 1, 1}, "1 ns before bucket 0 expires: both calls"},
      {10s, {1, 0, 1}, "at 10s bucket 0 is gone"},
      {11s - 1ns, {1, 0, 1}, "bucket 1 still in"},
      {11s, {0, 0, 0}, "at 11s bucket 1 is gone"},
  };
  for (const Probe& p : probes) EXPECT_EQ(w.totals(at(p.t)), p.expect) << p.property;
}

TEST(TimeWindow, LongIdleClearsEverything) {
  TimeWindow w(5s, 1s);
  for (int i = 0; i < 5; ++i) w.record(at(Duration{std::chrono::seconds{i}}), true, false);
  EXPECT_EQ(w.totals(at(4s)).calls, 5u);
  EXPECT_EQ(w.totals(at(1h)).calls, 0u);
  w.record(at(1h), true, false);
  EXPECT_EQ(w.totals(at(1h)), (WindowTotals{1, 1, 0}));
}

TEST(TimeWindow, LateRecordsWithinTheWindowCountAndOlderOnesAreDropped) {
  TimeWindow w(5s, 1s);
  w.record(at(10s), false, false);
  w.record(at(7s), true, false);  // 3s late, still in (buckets 6..10)
  w.record(at(5s), true, false);  // bucket 5 is outside
  EXPECT_EQ(w.totals(at(10s)), (WindowTotals{2, 1, 0}));
}

TEST(TimeWindow, MatchesBruteForceOnARandomStream) {
  // Property: at every step the totals equal a recount of the records whose bucket index is
  // within the last window/bucket indices.
  std::mt19937_64 rng(42);
  TimeWindow w(3s, 250ms);
  struct Rec {
    std::int64_t bucket;
    bool failure;
    bool slow;
  };
  std::vector<Rec> recs;
  std::int64_t t = 0;
  for (int i = 0; i < 5000; ++i) {
    t += static_cast<std::int64_t>(rng() % 400'000'000);  // up to 0.4 s apart
    const bool f = rng() % 3 == 0;
    const bool s = rng() % 5 == 0;
    w.record(atOffset(Duration{t}), f, s);
    const std::int64_t b = t / 250'000'000;
    recs.push_back({b, f, s});
    WindowTotals expect;
    for (const Rec& r : recs) {
      if (r.bucket > b - 12) {
        ++expect.calls;
        expect.failures += r.failure ? 1u : 0u;
        expect.slowCalls += r.slow ? 1u : 0u;
      }
    }
    ASSERT_EQ(w.totals(atOffset(Duration{t})), expect) << "step " << i;
  }
}

}  // namespace
}  // namespace gatelab::core::resilience
