// Steady-state reading allocates nothing per line: once buffers have grown to the largest line
// seen, the readers (every parser family) and the replay pipeline run without a single heap
// allocation. Counted with a replaced global operator new (this test binary only).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "sim/trace/replay.hpp"
#include "tests/sim/trace/test_support.hpp"

namespace {
std::atomic<std::uint64_t> gAllocations{0};

// Out of line so that GCC, inlining a std::allocator's delete, does not see malloc/free paired
// with new/delete (-Wmismatched-new-delete).
[[gnu::noinline]] void* acquire(std::size_t n) {
  gAllocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void release(void* p) noexcept { std::free(p); }
}  // namespace

void* operator new(std::size_t n) { return acquire(n); }
void* operator new[](std::size_t n) { return acquire(n); }
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }

namespace gatelab::sim::trace {
namespace {

using testing::format;

std::string combined(int n) {
  std::string s;
  char time[32];
  for (int i = 0; i < n; ++i) {
    const int sec = i / 4;  // four requests per second, in order
    std::snprintf(time, sizeof time, "%02d:%02d:%02d", 10 + sec / 3600, (sec / 60) % 60, sec % 60);
    s += "10.0." + std::to_string(i % 9) + "." + std::to_string(i % 97) + " - - [10/Oct/2000:" + time + " -0700] \"GET /p/" +
         std::to_string(i % 1000) + "?q=" + std::to_string(i % 7) + " HTTP/1.1\" 200 " + std::to_string(i % 5000) +
         " \"-\" \"agent/" + std::to_string(i % 3) + "\"\n";
  }
  return s;
}

std::string jsonl(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += "{\"ts\":" + std::to_string(971211336 + i / 4) + ",\"client\":{\"ip\":\"10.0.0." + std::to_string(i % 50) +
         "\"},\"method\":\"GET\",\"url\":\"/p/" + std::to_string(i % 1000) + "\",\"status\":200,\"ua\":\"a\\\"b" +
         std::to_string(i % 3) + "\",\"tenant\":\"t" + std::to_string(i % 5) + "\"}\n";
  }
  return s;
}

std::string tsv(int n) {
  std::string s = "host\tlogname\ttime\tmethod\turl\tresponse\tbytes\treferer\tuseragent\n";
  for (int i = 0; i < n; ++i) {
    s += "h" + std::to_string(i % 300) + ".example.com\t-\t" + std::to_string(807256800 + i / 3) + "\tGET\t/p/" +
         std::to_string(i % 1000) + "\t200\t" + std::to_string(i % 5000) + "\t\t\n";
  }
  return s;
}

struct Case {
  const char* name;
  std::string data;
  TraceFormat format;
};

std::vector<Case> cases() {
  return {
      {"combined", combined(40000), format("combined")},
      {"jsonl", jsonl(40000), format("jsonl", {{"map", "time=ts,client=client.ip,user_agent=ua"}})},
      {"tsv", tsv(40000), format("nasa-tsv")},
      {"csv", "time,client,status\n" + [] {
         std::string s;
         for (int i = 0; i < 40000; ++i) s += std::to_string(971211336 + i) + ",\"c" + std::to_string(i % 40) + "\"\"x\"," + "200\n";
         return s;
       }(),
       format("csv")},
  };
}

TEST(Allocation, ReadersDoNotAllocatePerLineOnceWarm) {
  for (const Case& c : cases()) {
    Made<TraceReader> reader = openTraceMemory(c.data, c.format);
    ASSERT_TRUE(reader.ok()) << c.name;
    TraceRecord r;
    for (int i = 0; i < 5000; ++i) ASSERT_TRUE(reader.ptr->next(r)) << c.name;  // warm-up
    const std::uint64_t before = gAllocations.load();
    std::uint64_t n = 0;
    while (reader.ptr->next(r)) ++n;
    const std::uint64_t allocations = gAllocations.load() - before;
    EXPECT_EQ(n, 35000u) << c.name;
    EXPECT_EQ(allocations, 0u) << c.name << ": heap allocations while reading 35,000 lines";
    EXPECT_EQ(reader.ptr->stats().malformed, 0u) << c.name;
  }
}

TEST(Allocation, ReplayStreamDoesNotAllocatePerRecordOnceWarm) {
  for (const Case& c : cases()) {
    Made<TraceReader> reader = openTraceMemory(c.data, c.format);
    ASSERT_TRUE(reader.ok()) << c.name;
    ReplayOptions o;
    o.spread = SpreadMode::kEven;
    o.speedup = TimeScale::parse("10").value();
    ReplayStream stream(*reader.ptr, o);
    ReplayItem item;
    for (int i = 0; i < 5000; ++i) ASSERT_TRUE(stream.next(item)) << c.name;
    const std::uint64_t before = gAllocations.load();
    std::uint64_t n = 0;
    while (stream.next(item)) ++n;
    const std::uint64_t allocations = gAllocations.load() - before;
    EXPECT_EQ(n, 35000u) << c.name;
    EXPECT_EQ(allocations, 0u) << c.name << ": heap allocations while replaying 35,000 records; buffered at most "
                               << stream.stats().maxBuffered;
  }
}

}  // namespace
}  // namespace gatelab::sim::trace
