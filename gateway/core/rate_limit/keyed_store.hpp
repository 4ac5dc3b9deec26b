#pragma once
// KeyedStore<State>: bounded per-key state for one limit.
//
// Open-addressing hash index (linear probing, load <= 1/2) over a dense array of entries.
// Keys are identified by their 128-bit hash (see gateway/core/hash.hpp).
//
// Bounding, in the spirit of nginx's limit_req zone, with CLOCK (second chance) standing in for
// an exact LRU list: a hit only sets the entry's "referenced" bit, so it touches no other entry
// (an exact LRU costs two more cache misses per request on large tables). New keys start
// unreferenced, so keys seen once (scans, one-off clients) are evicted before returning ones.
// Before a new key is inserted, up to two entries under the clock hand are dropped if they are idle (their state is
// equivalent to a fresh one, so dropping them changes no decision). If the store still holds
// `maxKeys` keys, the clock hand evicts the first entry not referenced since its last pass (its
// state is forgotten; counted in stats().evictedForced).
//
// Not thread-safe: one store belongs to one limiter, which belongs to one thread or is guarded by
// its owner. References returned by find()/upsert() stay valid until the next upsert().

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "gateway/core/hash.hpp"

namespace gatelab::core::ratelimit {

struct StoreStats {
  std::uint64_t keys = 0;            ///< keys tracked now
  std::uint64_t maxKeys = 0;         ///< configured bound
  std::uint64_t evictedIdle = 0;     ///< idle keys dropped (no effect on decisions)
  std::uint64_t evictedForced = 0;   ///< non-idle keys evicted because the store was full
  std::uint64_t bytes = 0;           ///< bytes held by the entry array and the index
};

template <class State>
class KeyedStore {
 public:
  static constexpr std::uint32_t kNil = UINT32_MAX;

  /// Precondition: 1 <= maxKeys < 2^31.
  explicit KeyedStore(std::uint64_t maxKeys) : maxKeys_(maxKeys) {}

  /// The state of `key`, or nullptr. Does not mark the key as used. O(1) expected.
  [[nodiscard]] State* find(const Hash128& key) noexcept {
    const std::uint32_t e = lookup(key);
    return e == kNil ? nullptr : &entries_[e].state;
  }

  /// The state of `key`, inserting `fresh` if absent; the key is marked as used.
  /// `isIdle(const State&)` says whether a tracked state may be dropped without changing any
  /// decision. Sets `inserted`. O(1) expected, amortized over index growth.
  template <class IdleFn>
  State& upsert(const Hash128& key, const State& fresh, IdleFn&& isIdle, bool& inserted) {
    std::uint32_t e = lookup(key);
    if (e != kNil) {
      entries_[e].referenced = true;
      inserted = false;
      return entries_[e].state;
    }
    inserted = true;
    // Drop up to two idle entries under the hand, stopping at the first busy one.
    for (int i = 0; i < 2 && size_ > 0; ++i) {
      const std::uint32_t h = liveAtHand();
      if (!isIdle(std::as_const(entries_[h].state))) break;
      remove(h);
      ++evictedIdle_;
    }
    if (size_ >= maxKeys_) {
      remove(clockVictim());
      ++evictedForced_;
    }
    e = allocate();
    Entry& entry = entries_[e];
    entry.key = key;
    entry.state = fresh;
    entry.live = true;
    entry.referenced = false;  // earned on the next use: one-off keys (scans) go first
    insertIndex(e);
    ++size_;
    return entry.state;
  }

  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint64_t maxKeys() const noexcept { return maxKeys_; }

  [[nodiscard]] StoreStats stats() const noexcept {
    return StoreStats{size_, maxKeys_, evictedIdle_, evictedForced_,
                      entries_.capacity() * sizeof(Entry) + index_.capacity() * sizeof(std::uint32_t)};
  }

  /// Bytes of one entry (hash, flags, algorithm state) excluding the index.
  static constexpr std::size_t entryBytes() noexcept { return sizeof(Entry); }

  /// Visits every tracked (key hash, state), in no particular order.
  template <class Fn>
  void forEach(Fn&& fn) const {
    for (const Entry& en : entries_) {
      if (en.live) fn(en.key, en.state);
    }
  }

 private:
  struct Entry {
    Hash128 key;
    State state{};
    bool live = false;
    bool referenced = false;
  };

  [[nodiscard]] std::size_t home(const Hash128& key) const noexcept {
    return static_cast<std::size_t>(key.lo) & mask_;
  }

  [[nodiscard]] std::uint32_t lookup(const Hash128& key) const noexcept {
    if (index_.empty()) return kNil;
    for (std::size_t slot = home(key);; slot = (slot + 1) & mask_) {
      const std::uint32_t e = index_[slot];
      if (e == kNil || entries_[e].key == key) return e;
    }
  }

  /// The live entry under the clock hand (advancing over free slots). Precondition: size_ > 0.
  std::uint32_t liveAtHand() noexcept {
    while (true) {
      if (hand_ >= entries_.size()) hand_ = 0;
      if (entries_[hand_].live) return static_cast<std::uint32_t>(hand_);
      ++hand_;
    }
  }

  /// Second chance: clear referenced bits until an unreferenced live entry is under the hand.
  std::uint32_t clockVictim() noexcept {
    while (true) {
      const std::uint32_t h = liveAtHand();
      ++hand_;
      if (!entries_[h].referenced) return h;
      entries_[h].referenced = false;
    }
  }

  std::uint32_t allocate() {
    if (freeHead_ != kNil) {
      const std::uint32_t e = freeHead_;
      freeHead_ = static_cast<std::uint32_t>(entries_[e].key.lo);
      return e;
    }
    if ((entries_.size() + 1) * 2 > index_.size()) growIndex();
    if (entries_.size() == entries_.capacity()) {
      // Double, but never past the bound: a full store holds exactly maxKeys entries.
      std::size_t want = entries_.empty() ? 16 : entries_.capacity() * 2;
      if (want > maxKeys_) want = static_cast<std::size_t>(maxKeys_);
      if (want > entries_.capacity()) entries_.reserve(want);
    }
    entries_.emplace_back();
    return static_cast<std::uint32_t>(entries_.size() - 1);
  }

  void growIndex() {
    std::size_t n = index_.empty() ? 32 : index_.size() * 2;
    while (n < (entries_.size() + 1) * 2) n *= 2;
    index_.assign(n, kNil);
    mask_ = n - 1;
    for (std::size_t e = 0; e < entries_.size(); ++e) {
      if (entries_[e].live) insertIndex(static_cast<std::uint32_t>(e));
    }
  }

  void insertIndex(std::uint32_t e) noexcept {
    std::size_t slot = home(entries_[e].key);
    while (index_[slot] != kNil) slot = (slot + 1) & mask_;
    index_[slot] = e;
  }

  void remove(std::uint32_t e) noexcept {
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    std::size_t i = home(entries_[e].key);
    while (index_[i] != e) i = (i + 1) & mask_;
    for (std::size_t j = (i + 1) & mask_; index_[j] != kNil; j = (j + 1) & mask_) {
      const std::size_t k = home(entries_[index_[j]].key);
      const bool stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
      if (stays) continue;
      index_[i] = index_[j];
      i = j;
    }
    index_[i] = kNil;
    Entry& en = entries_[e];
    en.state = State{};  // release anything the state owns
    en.live = false;
    en.referenced = false;
    en.key = Hash128{freeHead_, 0};  // a free entry's key field links the free list
    freeHead_ = e;
    --size_;
  }

  std::vector<Entry> entries_;
  std::vector<std::uint32_t> index_;
  std::size_t mask_ = 0;
  std::size_t hand_ = 0;
  std::uint32_t freeHead_ = kNil;
  std::uint64_t size_ = 0;
  std::uint64_t maxKeys_;
  std::uint64_t evictedIdle_ = 0;
  std::uint64_t evictedForced_ = 0;
};

}  // namespace gatelab::core::ratelimit
