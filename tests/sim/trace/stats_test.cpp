// Trace statistics: the definitions on small exact inputs, then the two shared real traces, whose
// figures must equal the ones published in ../shared/traces/README.md.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "sim/trace/stats.hpp"
#include "tests/sim/trace/test_support.hpp"

namespace gatelab::sim::trace {
namespace {

using namespace std::chrono_literals;
using testing::epochSeconds;
using testing::format;
using testing::sharedTrace;
using testing::utc;

TraceTime at(double seconds) {
  return TraceTime{std::chrono::nanoseconds{static_cast<std::int64_t>(std::llround(seconds * 1e9))}};
}

TEST(TraceStatsDefinitions, PeaksPerSecondAndFixedMinute) {
  TraceStatsCollector c;
  // a: 3 in second 0, then 2 in second 59, then 4 in second 60 (a new fixed minute).
  for (double t : {0.0, 0.1, 0.9, 59.0, 59.5, 60.0, 60.1, 60.2, 60.3}) c.add(at(t), "a", 200, "GET");
  // b: two times earlier than a's last one: counted as out of order and treated as 60.3.
  for (double t : {10.0, 10.5}) c.add(at(t), "b", 404, "POST");
  const TraceStats s = c.finish();
  EXPECT_EQ(s.requests, 11u);
  EXPECT_EQ(s.outOfOrder, 2u);
  EXPECT_EQ(s.distinctClients, 2u);
  EXPECT_EQ(s.clientPerSecond.count, 4u);  // a in second 60
  EXPECT_EQ(s.clientPerSecond.client, "a");
  EXPECT_EQ(s.clientFixedMinute.count, 5u);  // a: 0, 0.1, 0.9, 59, 59.5 in minute 0
  EXPECT_EQ(s.clientFixedMinute.at, epochSeconds(0));
}

TEST(TraceStatsDefinitions, SlidingWindowIsHalfOpenSixtySeconds) {
  TraceStatsCollector c;
  // [t, t + 60 s): 0 and 59.999 are in one window; 0 and 60 are not.
  for (double t : {0.0, 30.0, 59.999, 60.0, 61.0}) c.add(at(t), "a", 200, "GET");
  const TraceStats s = c.finish();
  EXPECT_EQ(s.clientSliding60s.count, 4u);  // 30, 59.999, 60, 61 within [30, 90)
  EXPECT_EQ(s.clientSliding60s.at, at(30.0));
  EXPECT_EQ(s.clientFixedMinute.count, 3u);  // minute 0: 0, 30, 59.999
}

TEST(TraceStatsDefinitions, OverallPeakSameSecondRepeatsAndTopPercent) {
  TraceStatsCollector c(3);
  // 201 clients: "big" sends 100 requests over 100 s, 200 others one each at second 50.
  for (int i = 0; i < 100; ++i) c.add(epochSeconds(i), "big", 200, "GET");
  const TraceStats partial = c.finish();
  EXPECT_EQ(partial.peakPerSecond, 1u);
  TraceStatsCollector d(3);
  for (int i = 0; i < 100; ++i) {
    d.add(epochSeconds(i), "big", 200, "GET");
    if (i == 50) {
      for (int k = 0; k < 200; ++k) d.add(epochSeconds(50), "c" + std::to_string(k), 200, "GET");
    }
  }
  const TraceStats s = d.finish();
  EXPECT_EQ(s.requests, 300u);
  EXPECT_EQ(s.peakPerSecond, 201u);
  EXPECT_EQ(s.peakSecond, epochSeconds(50));
  EXPECT_EQ(s.distinctClients, 201u);
  EXPECT_EQ(s.topPercentClients, 3u);  // ceil(2.01)
  EXPECT_EQ(s.topPercentRequests, 102u);
  ASSERT_EQ(s.topClients.size(), 3u);
  EXPECT_EQ(s.topClients[0], (ClientCount{"big", 100}));
  EXPECT_EQ(s.topClients[1], (ClientCount{"c0", 1}));  // ties by name
  EXPECT_EQ(s.sameSecondRepeats, 0u);
  EXPECT_EQ(s.medianPerClient, 1.0);
  EXPECT_EQ(s.span(), 99s);
}

TEST(TraceStatsDefinitions, MissingClientsAndMethodOverflow) {
  TraceStatsCollector c;
  c.add(epochSeconds(1), "", 0, "");
  for (std::size_t i = 0; i < TraceStatsCollector::kMaxMethods + 5; ++i) c.add(epochSeconds(2), "x", 200, "M" + std::to_string(i));
  const TraceStats s = c.finish();
  EXPECT_EQ(s.missingClient, 1u);
  EXPECT_EQ(s.distinctClients, 1u);
  EXPECT_EQ(s.sameSecondRepeats, TraceStatsCollector::kMaxMethods + 4);
  bool other = false;
  // "" and M0..M30 fill the 32 named slots; M31..M36 are "(other)".
  for (const auto& [m, n] : s.methods) other = other || (m == "(other)" && n == 6);
  EXPECT_TRUE(other);
  EXPECT_EQ(s.statuses.front(), (std::pair<int, std::uint64_t>{200, TraceStatsCollector::kMaxMethods + 5}));
}

// ---- the shared real traces ------------------------------------------------------------------------

struct Published {
  const char* file;
  const char* format;
  std::uint64_t requests;
  const char* first;
  const char* last;
  std::uint64_t clients;
  std::uint64_t peakPerSecond;
  std::uint64_t perClientFixedMinute;
  std::uint64_t perClientSliding60s;
  std::uint64_t perClientPerSecond;
  double topPercentShare;  // percent, one decimal
  std::uint64_t topPercentClients;
  double sameSecondRepeatShare;  // percent, one decimal
  std::uint64_t distinctStatuses;
};

// The table in ../shared/traces/README.md (times converted to UTC).
const Published kPublished[] = {
    {testing::kNasa, "nasa-tsv", 30969, "1995-08-01T06:00:00Z", "1995-08-01T18:52:01Z", 2365, 17, 27, 29, 11, 11.1, 24, 18.0, 4},
    {testing::kEpa, "epa", 47748, "1995-08-30T03:53:25Z", "1995-08-31T03:53:07Z", 2333, 13, 30, 35, 7, 8.8, 24, 13.6, 8},
};

TraceStatsReport statsOf(const std::string& path, const TraceFormat& f) {
  Made<TraceReader> reader = openTraceFile(path, f);
  EXPECT_TRUE(reader.ok()) << reader.error.message;
  if (!reader.ok()) return {};
  return collectTraceStats(*reader.ptr, ReplayOptions{});
}

double percent1(std::uint64_t part, std::uint64_t whole) {
  return std::round(1000.0 * static_cast<double>(part) / static_cast<double>(whole)) / 10.0;
}

TEST(RealTraces, FiguresEqualThePublishedOnes) {
  GATELAB_REQUIRE_SHARED_TRACES();
  for (const Published& p : kPublished) {
    SCOPED_TRACE(p.file);
    const TraceStatsReport r = statsOf(sharedTrace(p.file), format(p.format));
    const TraceStats& s = r.stats;
    EXPECT_EQ(r.reader.malformed, 0u);
    EXPECT_TRUE(r.reader.error.empty()) << r.reader.error;
    EXPECT_TRUE(r.reader.compressed);
    EXPECT_EQ(r.replay.late, 0u) << "the default 10 s reorder window absorbs every inversion";
    EXPECT_EQ(s.requests, p.requests);
    ASSERT_TRUE(s.first.has_value());
    EXPECT_EQ(*s.first, utc(p.first));
    EXPECT_EQ(*s.last, utc(p.last));
    EXPECT_EQ(s.distinctClients, p.clients);
    EXPECT_EQ(s.peakPerSecond, p.peakPerSecond);
    EXPECT_EQ(s.clientFixedMinute.count, p.perClientFixedMinute);
    EXPECT_EQ(s.clientSliding60s.count, p.perClientSliding60s);
    EXPECT_EQ(s.clientPerSecond.count, p.perClientPerSecond);
    EXPECT_EQ(s.topPercentClients, p.topPercentClients);
    EXPECT_DOUBLE_EQ(percent1(s.topPercentRequests, s.requests), p.topPercentShare);
    EXPECT_DOUBLE_EQ(percent1(s.sameSecondRepeats, s.requests), p.sameSecondRepeatShare);
    EXPECT_EQ(s.statuses.size(), p.distinctStatuses);
  }
}

TEST(RealTraces, StatusAndMethodCountsEqualThePublishedOnes) {
  GATELAB_REQUIRE_SHARED_TRACES();
  const TraceStats nasa = statsOf(sharedTrace(testing::kNasa), format("nasa-tsv")).stats;
  using SC = std::vector<std::pair<int, std::uint64_t>>;
  using MC = std::vector<std::pair<std::string, std::uint64_t>>;
  EXPECT_EQ(nasa.statuses, (SC{{200, 27972}, {304, 2421}, {302, 355}, {404, 221}}));
  EXPECT_EQ(nasa.methods, (MC{{"GET", 30873}, {"HEAD", 95}, {"POST", 1}}));
  const TraceStats epa = statsOf(sharedTrace(testing::kEpa), format("epa")).stats;
  EXPECT_EQ(epa.statuses, (SC{{200, 36712}, {304, 5300}, {302, 4506}, {404, 611}, {403, 272}, {501, 272}, {500, 69}, {400, 6}}));
  EXPECT_EQ(epa.methods, (MC{{"GET", 46020}, {"POST", 1622}, {"HEAD", 106}}));
  EXPECT_EQ(nasa.medianPerClient, 8.0);
  EXPECT_EQ(epa.medianPerClient, 11.0);
  EXPECT_EQ(epa.topClients.front().client, "sandy.rtptok1.epa.gov");  // "the busiest host"
}

}  // namespace
}  // namespace gatelab::sim::trace
