#pragma once
// EventQueue: the pluggable priority queue behind Simulation. It orders small fixed-size records
// (time, sequence, slot); the callbacks themselves stay in the simulation's slot table, so a queue
// only ever moves 24-byte values.
//
// Contract (tests/sim/engine/event_queue_test.cpp runs one suite against every implementation):
//   - top() is the entry with the smallest (at, seq); seq values are unique, so the order is total
//     and an implementation has no tie to break;
//   - retainIf() keeps exactly the entries the predicate accepts (used to drop cancelled entries
//     in bulk); the predicate is called once per entry, in an unspecified order;
//   - erase(slot) removes the entry holding `slot` at once when the implementation can find it
//     (the order of the others is unchanged), or returns false and changes nothing; the caller
//     then leaves the entry to be skipped when it surfaces. The simulation never has two entries
//     with the same slot in a queue, which is what lets an implementation find one by its slot.
// Implementations: DaryHeapQueue<2> (binary heap, the default), DaryHeapQueue<4> (shallower,
// fewer cache misses on large queues). A calendar queue can implement the same interface.
//
// Thread safety: none (one simulation is single-threaded). Complexity: per implementation.

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "gateway/core/time.hpp"

namespace gatelab::sim {

/// One scheduled event as the queue sees it.
struct QueuedEvent {
  core::TimePoint at;      ///< when it runs
  std::uint64_t seq = 0;   ///< insertion sequence: breaks ties between equal times (FIFO)
  std::uint32_t slot = 0;  ///< the simulation's slot holding the callback (opaque to the queue)

  friend constexpr bool operator==(const QueuedEvent&, const QueuedEvent&) = default;
};

/// Strict weak order of the engine: earlier time first, then earlier insertion.
constexpr bool runsBefore(const QueuedEvent& a, const QueuedEvent& b) noexcept {
  return a.at < b.at || (a.at == b.at && a.seq < b.seq);
}

class EventQueue {
 public:
  virtual ~EventQueue() = default;
  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  virtual void push(const QueuedEvent& e) = 0;
  /// The first entry by runsBefore. Precondition: !empty().
  [[nodiscard]] virtual const QueuedEvent& top() const = 0;
  /// Removes top(). Precondition: !empty().
  virtual void pop() = 0;
  [[nodiscard]] virtual bool empty() const noexcept = 0;
  [[nodiscard]] virtual std::size_t size() const noexcept = 0;
  /// Keeps the entries for which keep(e) is true, drops the others.
  virtual void retainIf(const std::function<bool(const QueuedEvent&)>& keep) = 0;
  /// Removes the entry holding `slot`, if the implementation can find it (see the contract above).
  /// Precondition: no two entries in the queue hold the same slot.
  [[nodiscard]] virtual bool erase(std::uint32_t /*slot*/) { return false; }
  /// For reports and benchmarks: "binary-heap", "4-ary-heap", ...
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
};

/// An implicit d-ary min-heap in one vector. push/pop/erase O(log_d n) moves of 24-byte entries;
/// retainIf O(n) (filter, then heapify bottom-up).
///
/// It keeps each entry's heap position by slot, so erase() removes a cancelled event at once. A
/// cancelled event that stays in the heap until it surfaces costs every push and pop a level or
/// more: a run whose requests each schedule a timeout that is almost always cancelled (a 60 s
/// try deadline against 5 ms answers) would otherwise hold thousands of dead entries above a few
/// dozen live ones. One extra 4-byte store per moved entry pays for it.
template <unsigned Arity>
class DaryHeapQueue final : public EventQueue {
  static_assert(Arity >= 2);

 public:
  DaryHeapQueue() = default;
  explicit DaryHeapQueue(std::size_t reserve) { heap_.reserve(reserve); }

  void push(const QueuedEvent& e) override {
    if (e.slot >= where_.size()) where_.resize(std::max<std::size_t>(std::size_t{e.slot} + 1, where_.size() * 2), kAbsent);
    heap_.push_back(e);
    siftUp(heap_.size() - 1, e);
  }

  [[nodiscard]] const QueuedEvent& top() const override {
    assert(!heap_.empty());
    return heap_.front();
  }

  void pop() override {
    assert(!heap_.empty());
    where_[heap_.front().slot] = kAbsent;
    const QueuedEvent last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) siftDown(0, last);
  }

  [[nodiscard]] bool erase(std::uint32_t slot) override {
    if (slot >= where_.size() || where_[slot] == kAbsent) return false;
    const std::size_t hole = where_[slot];
    where_[slot] = kAbsent;
    const QueuedEvent last = heap_.back();
    heap_.pop_back();
    if (hole == heap_.size()) return true;  // it was the last entry
    // The last entry fills the hole and moves up or down from there.
    if (hole > 0 && runsBefore(last, heap_[(hole - 1) / Arity]))
      siftUp(hole, last);
    else
      siftDown(hole, last);
    return true;
  }

  [[nodiscard]] bool empty() const noexcept override { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept override { return heap_.size(); }

  void retainIf(const std::function<bool(const QueuedEvent&)>& keep) override {
    std::size_t out = 0;
    for (std::size_t i = 0; i < heap_.size(); ++i)
      if (keep(heap_[i])) heap_[out++] = heap_[i];
    heap_.resize(out);
    if (heap_.size() >= 2) {
      for (std::size_t i = (heap_.size() - 2) / Arity + 1; i-- > 0;) siftDown(i, heap_[i]);
    }
    std::fill(where_.begin(), where_.end(), kAbsent);
    for (std::size_t i = 0; i < heap_.size(); ++i) where_[heap_[i].slot] = static_cast<std::uint32_t>(i);
  }

  [[nodiscard]] std::string_view name() const noexcept override {
    if constexpr (Arity == 2) return "binary-heap";
    else if constexpr (Arity == 4) return "4-ary-heap";
    else return "d-ary-heap";
  }

 private:
  static constexpr std::uint32_t kAbsent = 0xFFFFFFFFu;

  void place(std::size_t at, const QueuedEvent& e) noexcept {
    heap_[at] = e;
    where_[e.slot] = static_cast<std::uint32_t>(at);
  }

  // Hole technique: move parents down into the hole, write `e` once at its final place.
  void siftUp(std::size_t hole, const QueuedEvent e) noexcept {
    while (hole > 0) {
      const std::size_t parent = (hole - 1) / Arity;
      if (!runsBefore(e, heap_[parent])) break;
      place(hole, heap_[parent]);
      hole = parent;
    }
    place(hole, e);
  }

  void siftDown(std::size_t hole, const QueuedEvent e) noexcept {
    const std::size_t n = heap_.size();
    for (;;) {
      const std::size_t first = hole * Arity + 1;
      if (first >= n) break;
      std::size_t best = first;
      const std::size_t end = first + Arity < n ? first + Arity : n;
      for (std::size_t c = first + 1; c < end; ++c)
        if (runsBefore(heap_[c], heap_[best])) best = c;
      if (!runsBefore(heap_[best], e)) break;
      place(hole, heap_[best]);
      hole = best;
    }
    place(hole, e);
  }

  std::vector<QueuedEvent> heap_;
  std::vector<std::uint32_t> where_;  // by slot: the entry's index in heap_, or kAbsent
};

using BinaryHeapQueue = DaryHeapQueue<2>;
using QuaternaryHeapQueue = DaryHeapQueue<4>;

/// The default queue of a Simulation (a binary heap).
std::unique_ptr<EventQueue> makeDefaultEventQueue();

}  // namespace gatelab::sim
