// One contract suite run against every EventQueue implementation: (time, seq) order including
// equal times, interleaved push/pop against a reference, retainIf, erase by slot.

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <set>
#include <tuple>
#include <vector>

#include "sim/engine/event_queue.hpp"
#include "sim/engine/random.hpp"

namespace gatelab::sim {
namespace {

template <typename Q>
class EventQueueContract : public ::testing::Test {
 protected:
  Q queue;
};

using Implementations = ::testing::Types<BinaryHeapQueue, QuaternaryHeapQueue, DaryHeapQueue<3>>;
TYPED_TEST_SUITE(EventQueueContract, Implementations);

QueuedEvent ev(std::int64_t ns, std::uint64_t seq) {
  return QueuedEvent{core::atOffset(core::Duration{ns}), seq, static_cast<std::uint32_t>(seq)};
}

// Equal times come out in sequence order whatever the push order.
TYPED_TEST(EventQueueContract, EqualTimesPopInSequenceOrder) {
  for (std::uint64_t seq : {5U, 1U, 4U, 2U, 3U, 0U}) this->queue.push(ev(100, seq));
  for (std::uint64_t expected = 0; expected < 6; ++expected) {
    ASSERT_FALSE(this->queue.empty());
    EXPECT_EQ(this->queue.top().seq, expected);
    this->queue.pop();
  }
  EXPECT_TRUE(this->queue.empty());
}

// Interleaved pushes and pops match an ordered reference set exactly.
TYPED_TEST(EventQueueContract, MatchesReferenceUnderRandomInterleaving) {
  Rng rng(7);
  std::set<std::tuple<std::int64_t, std::uint64_t>> reference;
  std::uint64_t seq = 0;
  for (int i = 0; i < 20000; ++i) {
    if (reference.empty() || rng.below(3) != 0) {
      const auto t = static_cast<std::int64_t>(rng.below(500));  // many equal times
      this->queue.push(ev(t, seq));
      reference.emplace(t, seq);
      ++seq;
    } else {
      const auto [t, s] = *reference.begin();
      reference.erase(reference.begin());
      ASSERT_EQ(core::toNanos(this->queue.top().at), t);
      ASSERT_EQ(this->queue.top().seq, s);
      this->queue.pop();
    }
    ASSERT_EQ(this->queue.size(), reference.size());
  }
}

// retainIf keeps exactly the accepted entries and the heap order survives.
TYPED_TEST(EventQueueContract, RetainIfKeepsAcceptedEntriesInOrder) {
  Rng rng(11);
  for (std::uint64_t seq = 0; seq < 1000; ++seq) this->queue.push(ev(static_cast<std::int64_t>(rng.below(100)), seq));
  this->queue.retainIf([](const QueuedEvent& e) { return e.seq % 3 == 0; });
  EXPECT_EQ(this->queue.size(), 334U);
  QueuedEvent prev = this->queue.top();
  while (!this->queue.empty()) {
    const QueuedEvent e = this->queue.top();
    this->queue.pop();
    EXPECT_EQ(e.seq % 3, 0U);
    EXPECT_FALSE(runsBefore(e, prev)) << "order broken after retainIf";
    prev = e;
  }
  this->queue.retainIf([](const QueuedEvent&) { return false; });
  EXPECT_TRUE(this->queue.empty());
}

// erase removes exactly the entry holding a slot, wherever it sits, and the order of the rest
// survives, interleaved with pushes and pops; a slot not in the queue is refused.
TYPED_TEST(EventQueueContract, EraseRemovesOneEntryAndKeepsTheOrder) {
  Rng rng(13);
  std::set<std::tuple<std::int64_t, std::uint64_t>> reference;
  std::vector<std::int64_t> timeOf;  // by seq (= slot)
  std::uint64_t seq = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto op = rng.below(4);
    if (reference.empty() || op <= 1) {
      const auto t = static_cast<std::int64_t>(rng.below(500));
      this->queue.push(ev(t, seq));
      reference.emplace(t, seq);
      timeOf.push_back(t);
      ++seq;
    } else if (op == 2) {
      const auto [t, s] = *reference.begin();
      reference.erase(reference.begin());
      ASSERT_EQ(this->queue.top().seq, s);
      this->queue.pop();
      EXPECT_FALSE(this->queue.erase(static_cast<std::uint32_t>(s)));  // popped: no longer there
    } else {
      const std::uint64_t victim = rng.below(seq);
      const bool present = reference.erase({timeOf[victim], victim}) == 1;
      ASSERT_EQ(this->queue.erase(static_cast<std::uint32_t>(victim)), present);
    }
    ASSERT_EQ(this->queue.size(), reference.size());
  }
  // After a retainIf the positions are still right.
  this->queue.retainIf([](const QueuedEvent& e) { return e.seq % 2 == 0; });
  for (auto it = reference.begin(); it != reference.end();) it = std::get<1>(*it) % 2 == 0 ? std::next(it) : reference.erase(it);
  for (const auto& [t, s] : std::vector(reference.begin(), reference.end())) {
    if (s % 3 == 0) {
      EXPECT_TRUE(this->queue.erase(static_cast<std::uint32_t>(s)));
      reference.erase({t, s});
    }
  }
  while (!reference.empty()) {
    ASSERT_EQ(this->queue.top().seq, std::get<1>(*reference.begin()));
    reference.erase(reference.begin());
    this->queue.pop();
  }
  EXPECT_TRUE(this->queue.empty());
}

TEST(EventQueue, DefaultIsABinaryHeap) { EXPECT_EQ(makeDefaultEventQueue()->name(), "binary-heap"); }

}  // namespace
}  // namespace gatelab::sim
