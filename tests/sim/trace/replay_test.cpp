// Replay helpers: reorder window (stable, late records clamped or dropped, bounded), time window,
// sub-second spreading (even exact, jitter deterministic per seed), time scaling, client identity.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <utility>
#include <string>
#include <vector>

#include "sim/trace/replay.hpp"
#include "tests/sim/trace/test_support.hpp"

namespace gatelab::sim::trace {
namespace {

using namespace std::chrono_literals;
using testing::epochSeconds;
using testing::format;

// "<epoch seconds[.frac]> <client> <path> <tenant header> <tag extra>" per line.
const TraceFormat& simpleFormat() {
  static const TraceFormat f = format("nginx:$msec $remote_addr $request_uri $http_x_tenant_id $tag");
  return f;
}

std::string lines(const std::vector<std::string>& times) {
  std::string s;
  for (std::size_t i = 0; i < times.size(); ++i) {
    s += times[i] + " 10.0.0." + std::to_string(i % 3) + " /p" + std::to_string(i + 1) + " t" + std::to_string(i % 2) +
         " tag" + std::to_string(i) + "\n";
  }
  return s;
}

struct Out {
  std::int64_t nanos;   // trace time after reorder/spread, ns since epoch
  std::int64_t atNanos; // host timeline
  std::uint64_t line;
  std::string client;
};

struct Replayed {
  std::vector<Out> items;
  ReplayStats stats;
};

Replayed replay(const std::string& data, ReplayOptions options, std::function<std::uint64_t()> random = {}) {
  Made<TraceReader> reader = openTraceMemory(data, simpleFormat());
  EXPECT_TRUE(reader.ok()) << reader.error.message;
  ReplayStream stream(*reader.ptr, std::move(options), std::move(random));
  Replayed run;
  ReplayItem item;
  while (stream.next(item)) {
    run.items.push_back({item.time.time_since_epoch().count(), core::toNanos(item.at), item.record->line, std::string(item.client)});
  }
  run.stats = stream.stats();
  return run;
}

std::vector<std::uint64_t> linesOf(const Replayed& r) {
  std::vector<std::uint64_t> out;
  for (const Out& o : r.items) out.push_back(o.line);
  return out;
}

constexpr std::int64_t kS = 1'000'000'000;

TEST(Reorder, RecordsWithinTheWindowAreSortedStably) {
  ReplayOptions o;
  o.reorder.window = 5s;
  const Replayed r = replay(lines({"10", "12", "11", "11", "15", "14"}), o);
  // Sorted by time; the two 11s keep their file order (lines 3, 4).
  EXPECT_EQ(linesOf(r), (std::vector<std::uint64_t>{1, 3, 4, 2, 6, 5}));
  EXPECT_EQ(r.stats.late, 0u);
  EXPECT_EQ(r.stats.records, 6u);
}

// Mostly sorted input with random inversions, all within the window: the output is exactly the
// stable sort by time (in-order records take the FIFO path, inversions the heap; the merge of the
// two must keep (time, file order)).
TEST(Reorder, MixedInOrderAndInvertedRecordsComeOutStablySorted) {
  std::mt19937_64 rng(7);
  std::vector<std::string> times;
  std::vector<std::pair<int, std::uint64_t>> expected;  // (time, line)
  int t = 100;
  for (std::uint64_t line = 1; line <= 2000; ++line) {
    int v = t;
    if (rng() % 4 == 0) v = t - static_cast<int>(rng() % 5);  // an inversion of up to 4s
    else if (rng() % 3 == 0) ++t;                            // time moves on
    times.push_back(std::to_string(v));
    expected.emplace_back(v, line);
  }
  std::stable_sort(expected.begin(), expected.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  ReplayOptions o;
  o.reorder.window = 10s;
  const Replayed r = replay(lines(times), o);
  ASSERT_EQ(r.items.size(), expected.size());
  EXPECT_EQ(r.stats.late, 0u);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(r.items[i].line, expected[i].second) << "at " << i;
    ASSERT_EQ(r.items[i].nanos, expected[i].first * kS) << "at " << i;
  }
}

TEST(Reorder, LateRecordsAreClampedByDefaultAndCounted) {
  ReplayOptions o;
  o.reorder.window = 2s;
  // 15 arrives after 20 was released (30 pushed it out of the window): 5 s late.
  const Replayed r = replay(lines({"10", "20", "30", "15"}), o);
  ASSERT_EQ(r.items.size(), 4u);
  EXPECT_EQ(linesOf(r), (std::vector<std::uint64_t>{1, 2, 4, 3}));
  EXPECT_EQ(r.items[2].nanos, 20 * kS);  // clamped to the released time
  EXPECT_EQ(r.stats.late, 1u);
  EXPECT_EQ(r.stats.lateClamped, 1u);
  EXPECT_EQ(r.stats.maxLateness, 5s);
}

TEST(Reorder, LateRecordsCanBeDropped) {
  ReplayOptions o;
  o.reorder.window = 2s;
  o.reorder.late = LatePolicy::kDrop;
  const Replayed r = replay(lines({"10", "20", "30", "15"}), o);
  EXPECT_EQ(linesOf(r), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(r.stats.lateDropped, 1u);
}

TEST(Reorder, ARecordCapBoundsMemoryAndOutputStaysInOrder) {
  ReplayOptions o;
  o.reorder.window = 100s;
  o.reorder.maxRecords = 2;
  const Replayed r = replay(lines({"5", "4", "3", "2", "1", "6"}), o);
  ASSERT_EQ(r.items.size(), 6u);
  for (std::size_t i = 1; i < r.items.size(); ++i) EXPECT_LE(r.items[i - 1].nanos, r.items[i].nanos) << i;
  EXPECT_GT(r.stats.reorderOverflows, 0u);
  EXPECT_EQ(r.stats.late, 2u);                  // 2 and 1 arrive after 3 was forced out
  EXPECT_LE(r.stats.maxBuffered, 2u + 2u);      // cap + the one being read + the one handed out
}

TEST(Reorder, ZeroWindowPassesThroughAndClampsEveryInversion) {
  ReplayOptions o;
  o.reorder.window = 0s;
  const Replayed r = replay(lines({"10", "9", "11"}), o);
  EXPECT_EQ(linesOf(r), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(r.items[1].nanos, 10 * kS);
  EXPECT_EQ(r.stats.late, 1u);
}

TEST(Reorder, ZeroWindowDropsLateRecordsWhenAsked) {
  ReplayOptions o;
  o.reorder.window = 0s;
  o.reorder.late = LatePolicy::kDrop;
  const Replayed r = replay(lines({"10", "9", "11", "11", "10.5"}), o);
  EXPECT_EQ(linesOf(r), (std::vector<std::uint64_t>{1, 3, 4}));
  EXPECT_EQ(r.stats.late, 2u);
  EXPECT_EQ(r.stats.lateDropped, 2u);
  EXPECT_EQ(r.stats.maxLateness.count(), kS);
}

TEST(Reorder, ZeroWindowItemsMatchTheWindowedPath) {
  // Without a window records are handed out without being copied; every field must read the same
  // as through the reorder buffer (a window longer than the trace releases in the same order).
  const std::string data = lines({"1", "2", "2.5", "3", "7"});
  auto collect = [&](core::Duration window) {
    ReplayOptions o;
    o.reorder.window = window;
    o.client = ClientSelector::parse("header:x-tenant-id").value();
    Made<TraceReader> reader = openTraceMemory(data, simpleFormat());
    EXPECT_TRUE(reader.ok());
    ReplayStream stream(*reader.ptr, o);
    std::vector<std::string> out;
    ReplayItem item;
    while (stream.next(item)) {
      const TraceRecord& rec = *item.record;
      out.push_back(std::string(rec.client) + " " + std::string(rec.path) + " " + std::string(item.client) + " " +
                    std::string(rec.extra("tag").value_or("?")) + " " + std::to_string(core::toNanos(item.at)));
    }
    return out;
  };
  const auto direct = collect(0s);
  EXPECT_EQ(direct.size(), 5u);
  EXPECT_EQ(direct, collect(100s));
  EXPECT_EQ(direct[2], "10.0.0.2 /p3 t0 tag2 1500000000");
}

TEST(Spread, EvenSpacingIsExact) {
  ReplayOptions o;
  o.spread = SpreadMode::kEven;
  const Replayed r = replay(lines({"100", "100", "100", "101", "102", "102"}), o);
  const std::vector<std::int64_t> expected = {100 * kS, 100 * kS + 333'333'333, 100 * kS + 666'666'666,
                                              101 * kS, 102 * kS, 102 * kS + 500'000'000};
  ASSERT_EQ(r.items.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.items[i].nanos, expected[i]) << i;                     // k-th of n at k/n s
    EXPECT_EQ(r.items[i].atNanos, expected[i] - 100 * kS) << i;         // timeline starts at the first second
  }
  EXPECT_EQ(linesOf(r), (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}));  // file order kept
}

TEST(Spread, EvenSpacingReplacesSubSecondParts) {
  ReplayOptions o;
  o.spread = SpreadMode::kEven;
  const Replayed r = replay(lines({"100.900", "100.100"}), o);
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_EQ(r.items[0].nanos, 100 * kS);  // the reordered first (100.100) goes to k=0
  EXPECT_EQ(r.items[0].line, 2u);
  EXPECT_EQ(r.items[1].nanos, 100 * kS + 500'000'000);
}

TEST(Spread, JitterIsDeterministicPerSeedAndStaysInItsSecond) {
  std::vector<std::string> times;
  for (int s = 0; s < 50; ++s) {
    for (int k = 0; k <= s % 7; ++k) times.push_back(std::to_string(1000 + s));
  }
  const std::string data = lines(times);
  const auto run = [&](std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    ReplayOptions o;
    o.spread = SpreadMode::kJitter;
    return replay(data, o, [&rng] { return rng(); });
  };
  const Replayed a = run(42), b = run(42), c = run(43);
  ASSERT_EQ(a.items.size(), times.size());
  bool anyDifferent = false;
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    EXPECT_EQ(a.items[i].nanos, b.items[i].nanos) << "same seed, same times: " << i;
    anyDifferent = anyDifferent || a.items[i].nanos != c.items[i].nanos;
    const std::int64_t second = std::stoll(times[a.items[i].line - 1]);
    EXPECT_GE(a.items[i].nanos, second * kS) << i;            // within its own second
    EXPECT_LT(a.items[i].nanos, (second + 1) * kS) << i;
    if (i > 0) {
      EXPECT_LE(a.items[i - 1].nanos, a.items[i].nanos) << i;  // still in time order
      EXPECT_LT(a.items[i - 1].line, a.items[i].line) << i;    // and in file order
    }
  }
  EXPECT_TRUE(anyDifferent) << "another seed gives other times";
}

TEST(Scale, SpeedupDividesOffsetsFromTheOrigin) {
  ReplayOptions o;
  o.speedup = TimeScale::parse("2.5").value();
  o.timelineStart = core::atOffset(1s);
  const Replayed r = replay(lines({"100", "101", "110"}), o);
  ASSERT_EQ(r.items.size(), 3u);
  EXPECT_EQ(r.items[0].atNanos, 1 * kS);
  EXPECT_EQ(r.items[1].atNanos, 1 * kS + 400'000'000);  // 1 s / 2.5
  EXPECT_EQ(r.items[2].atNanos, 1 * kS + 4 * kS);       // 10 s / 2.5
  EXPECT_EQ(r.items[2].nanos, 110 * kS);                // trace time is not scaled
}

TEST(Scale, ParsingIsExact) {
  EXPECT_EQ(TimeScale::parse("3").value().scale(1s), core::Duration{333'333'333});  // rounded down
  EXPECT_EQ(TimeScale::parse("10x").value().scale(1s), 100ms);
  EXPECT_EQ(TimeScale::parse("0.5").value().scale(1s), 2s);
  EXPECT_EQ(TimeScale::parse("1.000001").value().scale(1'000'001us), 1s);
  for (const char* bad : {"0", "0.0", "-1", "abc", "1.1234567", "", "x", "2e3", "2000000000"}) {
    EXPECT_FALSE(TimeScale::parse(bad).ok()) << bad;
  }
}

TEST(Window, AbsoluteAndRelativeBounds) {
  const std::string data = lines({"100", "101", "102", "103", "104", "105"});
  {
    ReplayOptions o;  // absolute [101, 104)
    o.start = epochSeconds(101);
    o.end = epochSeconds(104);
    const Replayed r = replay(data, o);
    EXPECT_EQ(linesOf(r), (std::vector<std::uint64_t>{2, 3, 4}));
    EXPECT_EQ(r.items[0].atNanos, 0);  // the window start is the origin
    EXPECT_EQ(r.stats.beforeWindow, 1u);
    EXPECT_TRUE(r.stats.endedByWindow);
  }
  {
    ReplayOptions o;  // relative: skip 2 s after the first record, then 2 s
    o.skip = 2s;
    o.duration = 2s;
    const Replayed r = replay(data, o);
    EXPECT_EQ(linesOf(r), (std::vector<std::uint64_t>{3, 4}));
  }
}

TEST(Client, SelectorsPickIpHeaderOrAnyField) {
  const std::string data = lines({"100", "101", "102"});
  const struct {
    const char* spec;
    std::vector<std::string> expected;
  } cases[] = {
      {"ip", {"10.0.0.0", "10.0.0.1", "10.0.0.2"}},   // $remote_addr
      {"header:X-Tenant-Id", {"t0", "t1", "t0"}},     // a header, any case
      {"field:tag", {"tag0", "tag1", "tag2"}},        // an extra field
      {"host", {"", "", ""}},                         // not in this trace: empty, counted
  };
  for (const auto& c : cases) {
    ReplayOptions o;
    auto sel = ClientSelector::parse(c.spec);
    ASSERT_TRUE(sel.ok()) << c.spec;
    o.client = sel.value();
    EXPECT_EQ(o.client.describe(), std::string(c.spec) == "ip" ? "ip" : c.spec);
    const Replayed r = replay(data, o);
    ASSERT_EQ(r.items.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(r.items[i].client, c.expected[i]) << c.spec;
    EXPECT_EQ(r.stats.missingClient, c.expected[0].empty() ? 3u : 0u) << c.spec;
  }
  EXPECT_FALSE(ClientSelector::parse("header:").ok());
  EXPECT_FALSE(ClientSelector::parse("cookie").ok());
}

TEST(ReplayStreamMemory, BufferedRecordsAreBoundedByTheWindowNotTheTrace) {
  std::vector<std::string> times;
  for (int i = 0; i < 20000; ++i) times.push_back(std::to_string(1000 + i / 4));  // 4 per second
  ReplayOptions o;
  o.reorder.window = 2s;
  o.spread = SpreadMode::kEven;
  const Replayed r = replay(lines(times), o);
  EXPECT_EQ(r.items.size(), 20000u);
  // 2 s of records in the reorder buffer, one second being spread, one looked ahead, one out.
  EXPECT_LE(r.stats.maxBuffered, 4u * 3u + 4u + 2u);
}

}  // namespace
}  // namespace gatelab::sim::trace
