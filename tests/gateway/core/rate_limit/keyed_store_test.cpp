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

TEST(KeyedStore, NeverHoldsMoreThanMaxKeysAndEvictsTheLeastRecentlyUsed) {
  KeyedStore<Counter> store(3);
  bool ins = false;
  auto busy = [](const Counter&) { return false; };
  store.upsert(key(1), {}, busy, ins);
  store.upsert(key(2), {}, busy, ins);
  store.upsert(key(3), {}, busy, ins);
  store.upsert(key(1), {}, busy, ins);  // 1 becomes most recent; 2 is now the LRU
  store.upsert(key(4), {}, busy, ins);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.find(key(2)), nullptr) << "LRU evicted";
  EXPECT_NE(store.find(key(1)), nullptr);
  EXPECT_NE(store.find(key(4)), nullptr);
  EXPECT_EQ(store.stats().evictedForced, 1u);
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

TEST(KeyedStore, RandomOperationsMatchAReferenceModel) {
  // Against an LRU model: same membership after every operation, through many index deletions.
  constexpr std::uint64_t kMax = 64;
  KeyedStore<Counter> store(kMax);
  std::vector<int> lru;  // front = most recent
  std::mt19937 rng(42);
  bool ins = false;
  for (int step = 0; step < 20000; ++step) {
    const int k = static_cast<int>(rng() % 200);
    store.upsert(key(k), Counter{k}, [](const Counter&) { return false; }, ins);
    auto it = std::find(lru.begin(), lru.end(), k);
    if (it != lru.end()) {
      lru.erase(it);
    } else if (lru.size() == kMax) {
      lru.pop_back();
    }
    lru.insert(lru.begin(), k);
    ASSERT_EQ(store.size(), lru.size());
    if (step % 97 == 0) {
      for (int j = 0; j < 200; ++j) {
        const bool inModel = std::find(lru.begin(), lru.end(), j) != lru.end();
        const Counter* c = store.find(key(j));
        ASSERT_EQ(c != nullptr, inModel) << "key " << j << " at step " << step;
        if (c) ASSERT_EQ(c->value, j);
      }
    }
  }
}

TEST(KeyedStore, ForEachVisitsMostRecentFirst) {
  KeyedStore<Counter> store(10);
  bool ins = false;
  for (int i = 0; i < 3; ++i) store.upsert(key(i), Counter{i}, [](const Counter&) { return false; }, ins);
  std::vector<int> order;
  store.forEach([&](const Hash128&, const Counter& c) { order.push_back(c.value); });
  EXPECT_EQ(order, (std::vector<int>{2, 1, 0}));
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
