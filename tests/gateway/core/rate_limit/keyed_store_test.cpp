// KeyedStore: bounded, LRU-ordered per-key state; idle entries dropped first, then the least
// recently used one by force; index deletions keep every other key findable.

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <unordered_map>

#include "gateway/core/hash.hpp"
#include "gateway/core/rate_limit/keyed_store.hpp"

namespace gatelab::core::ratelimit {
namespace {

struct Counter {
  int value = 0;
};

Hash128 key(int i) { return hash128("key-" + std::to_string(i)); }

TEST(KeyedStore, InsertsFindsAndCountsKeys) {
  KeyedStore<Counter> store(100);
  bool inserted = false;
  store.upsert(key(1), Counter{5}, [](const Counter&) { return false; }, inserted);
  EXPECT_TRUE(inserted);
  Counter& again = store.upsert(key(1), Counter{9}, [](const Counter&) { return false; }, inserted);
  EXPECT_FALSE(inserted) << "existing keys keep their state";
  EXPECT_EQ(again.value, 5);
  ASSERT_NE(store.find(key(1)), nullptr);
  EXPECT_EQ(store.find(key(2)), nullptr);
  EXPECT_EQ(store.size(), 1u);
}

TEST(KeyedStore, WhenFullTheClockGivesUsedKeysASecondChance) {
  KeyedStore<Counter> store(3);
  bool ins = false;
  auto busy = [](const Counter&) { return false; };
  store.upsert(key(1), {}, busy, ins);
  store.upsert(key(2), {}, busy, ins);
  store.upsert(key(3), {}, busy, ins);
  store.upsert(key(4), {}, busy, ins);  // none used twice yet: the oldest goes
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.find(key(1)), nullptr);
  store.upsert(key(2), {}, busy, ins);  // 2 is used again, 3 is not
  store.upsert(key(5), {}, busy, ins);
  EXPECT_NE(store.find(key(2)), nullptr) << "used since the last sweep: second chance";
  EXPECT_EQ(store.find(key(3)), nullptr) << "not used since the sweep: evicted";
  EXPECT_EQ(store.stats().evictedForced, 2u);
}

TEST(KeyedStore, IdleEntriesAreDroppedBeforeAnyForcedEviction) {
  KeyedStore<Counter> store(10);
  bool ins = false;
  for (int i = 0; i < 5; ++i) store.upsert(key(i), Counter{i}, [](const Counter&) { return false; }, ins);
  // Entries with value < 2 are idle: the two coldest (0, 1) go when a new key arrives.
  store.upsert(key(100), {}, [](const Counter& c) { return c.value < 2; }, ins);
  EXPECT_EQ(store.find(key(0)), nullptr);
  EXPECT_EQ(store.find(key(1)), nullptr);
  EXPECT_NE(store.find(key(2)), nullptr) << "stops at the first busy entry";
  EXPECT_EQ(store.stats().evictedIdle, 2u);
  EXPECT_EQ(store.stats().evictedForced, 0u);
}

TEST(KeyedStore, RandomChurnKeepsTheBoundAndEveryKeysOwnState) {
  // Many inserts and evictions (index deletions with backward shifts): the bound holds, each
  // found key still has its own state, and a key used on every step is never evicted.
  constexpr std::uint64_t kMax = 64;
  KeyedStore<Counter> store(kMax);
  std::mt19937 rng(42);
  bool ins = false;
  auto busy = [](const Counter&) { return false; };
  for (int step = 0; step < 20000; ++step) {
    store.upsert(key(-1), Counter{-1}, busy, ins);  // the hot key
    const int k = static_cast<int>(rng() % 500);
    store.upsert(key(k), Counter{k}, busy, ins);
    ASSERT_LE(store.size(), kMax);
    ASSERT_NE(store.find(key(-1)), nullptr) << "hot key evicted at step " << step;
    if (step % 97 == 0) {
      std::uint64_t found = 0;
      for (int j = -1; j < 500; ++j) {
        if (const Counter* c = store.find(key(j))) {
          ASSERT_EQ(c->value, j) << "key " << j << " at step " << step;
          ++found;
        }
      }
      ASSERT_EQ(found, store.size());
    }
  }
  EXPECT_GT(store.stats().evictedForced, 10000u);
}

TEST(KeyedStore, ForEachVisitsEveryTrackedKey) {
  KeyedStore<Counter> store(10);
  bool ins = false;
  for (int i = 0; i < 3; ++i) store.upsert(key(i), Counter{i}, [](const Counter&) { return false; }, ins);
  std::multiset<int> seen;
  store.forEach([&](const Hash128&, const Counter& c) { seen.insert(c.value); });
  EXPECT_EQ(seen, (std::multiset<int>{0, 1, 2}));
}

TEST(Hash128, DistinctInputsGiveDistinctHashes) {
  std::set<std::pair<std::uint64_t, std::uint64_t>> seen;
  for (int i = 0; i < 200000; ++i) {
    const Hash128 h = hash128("198.51." + std::to_string(i / 256) + "." + std::to_string(i % 256));
    ASSERT_TRUE(seen.insert({h.lo, h.hi}).second) << i;
  }
  EXPECT_NE(hash128(""), hash128(std::string_view("\0", 1)));
  EXPECT_NE(hash128("abcdefgh"), hash128(std::string_view("abcdefgh\0", 9))) << "trailing NUL byte";
}

}  // namespace
}  // namespace gatelab::core::ratelimit
