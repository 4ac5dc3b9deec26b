#pragma once
// Simulation: the discrete-event engine. A virtual clock, an event queue ordered by
// (time, insertion sequence), cheap cancellation, and the run's randomness.
//
//   Simulation sim(RunSeed{42, 0});
//   EventId timeout = sim.schedule(2s, [&] { onTimeout(); }, kMyTimeoutKind);
//   sim.schedule(core::atOffset(150ms), [&] { onResponse(); sim.cancel(timeout); });
//   sim.runUntil(core::atOffset(10min));
//
// Ordering: events run in increasing time; events with the same time run in the order they were
// scheduled (FIFO), whatever the queue implementation. now() never decreases: scheduling in the
// past, or a queue returning an entry earlier than now(), aborts (a programming error, not input).
// Cancellation: cancel() destroys the event's callback at once and removes its queue entry when
// the queue can find it by slot (EventQueue::erase, O(log n) in the default heap), so
// mostly-cancelled timeouts do not deepen the queue. With a queue that cannot, the slot is marked
// (O(1)) and the entry skipped when it surfaces; when such cancelled entries outnumber live ones
// the queue is compacted in one O(n) pass, so they cannot grow it without bound.
// An EventId carries a generation: cancelling an event that already ran, was already cancelled,
// or is running now is a no-op returning false.
// Callbacks: SmallFunction<void()> with 40 bytes inline (a lambda capturing `this` and a few ids
// never allocates). A callback may schedule and cancel events, and stop() the run.
// Determinism: nothing here reads a clock, starts a thread or touches global state; two
// Simulation objects are independent. The trace digest (on by default) folds the (time, kind) of
// every executed event into 64 bits, so two runs can be compared cheaply.
//
// Thread safety: none; one simulation is driven by one thread (different simulations may run on
// different threads). Complexity: schedule O(log n), cancel O(log n) (O(1) amortised with a queue
// that cannot erase), step O(log n).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "gateway/core/time.hpp"
#include "sim/engine/event_queue.hpp"
#include "sim/engine/random.hpp"
#include "sim/engine/small_function.hpp"

namespace gatelab::sim {

/// What an event is, for traces and the digest. Components own ranges: 0x0000-0x00FF free for
/// users and tests, 0x0100-0x01FF mock backends, 0x0200-0x02FF failure injection.
using EventKind = std::uint32_t;

using EventCallback = SmallFunction<void(), 40>;

/// Identifies a scheduled event. Default-constructed: refers to nothing (cancel is a no-op).
class EventId {
 public:
  constexpr EventId() noexcept = default;
  [[nodiscard]] constexpr bool valid() const noexcept { return generation_ != 0; }
  friend constexpr bool operator==(const EventId&, const EventId&) = default;

 private:
  friend class Simulation;
  constexpr EventId(std::uint32_t slot, std::uint32_t generation) noexcept : slot_(slot), generation_(generation) {}
  std::uint32_t slot_ = 0;
  std::uint32_t generation_ = 0;
};

/// Engine counters (what tests and benchmarks assert on).
struct EngineStats {
  std::uint64_t scheduled = 0;   ///< schedule() calls
  std::uint64_t executed = 0;    ///< callbacks run
  std::uint64_t cancelled = 0;   ///< successful cancel() calls
  std::uint64_t compactions = 0; ///< bulk removals of cancelled queue entries
  std::size_t peakQueue = 0;     ///< largest queue size seen (cancelled entries included)
};

struct SimulationOptions {
  RunSeed seed;
  /// nullptr: makeDefaultEventQueue() (a binary heap).
  std::unique_ptr<EventQueue> queue;
  /// Fold (time, kind) of every executed event into traceDigest().
  bool traceDigest = true;
};

class Simulation {
 public:
  explicit Simulation(RunSeed seed = {});
  explicit Simulation(SimulationOptions options);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  /// The virtual clock: the time of the event running now, or where run()/runUntil() left it.
  /// Starts at the epoch (core::atOffset(0)).
  [[nodiscard]] core::TimePoint now() const noexcept { return now_; }

  /// Runs `fn` at `at`. Precondition: at >= now() (aborts otherwise).
  EventId schedule(core::TimePoint at, EventCallback fn, EventKind kind = 0);
  /// Runs `fn` after `delay` (>= 0) from now(); now() + delay saturates at TimePoint::max().
  EventId schedule(core::Duration delay, EventCallback fn, EventKind kind = 0);

  /// Cancels a pending event: its callback is destroyed and will never run. Returns false (and
  /// does nothing) if the event already ran, is running, or was cancelled. O(log n) (O(1)
  /// amortised with a queue that cannot erase).
  bool cancel(EventId id) noexcept;
  /// True while the event is scheduled and not cancelled.
  [[nodiscard]] bool isPending(EventId id) const noexcept;

  /// Runs the next pending event. Returns false when there is none (now() is unchanged).
  bool step();
  /// Runs events until none is left or stop() is called.
  void run();
  /// Runs every event with time <= t (including events that those schedule at or before t),
  /// then sets now() to t, unless stop() was called (now() then stays at the stopping event's
  /// time). Precondition: t >= now().
  void runUntil(core::TimePoint t);
  /// Makes the current run()/runUntil() return after the running event.
  void stop() noexcept { stopRequested_ = true; }

  /// Events scheduled and not cancelled.
  [[nodiscard]] std::size_t pendingEvents() const noexcept { return queue_->size() - cancelledInQueue_; }
  /// Time of the next pending event, if any (skips cancelled entries; may compact them away).
  [[nodiscard]] std::optional<core::TimePoint> nextEventTime();

  [[nodiscard]] const EngineStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const RunSeed& runSeed() const noexcept { return random_.runSeed(); }
  [[nodiscard]] const RandomStreams& random() const noexcept { return random_; }
  /// Digest of the (time, kind) sequence of executed events (0 when disabled).
  [[nodiscard]] std::uint64_t traceDigest() const noexcept { return digest_; }
  [[nodiscard]] const EventQueue& queue() const noexcept { return *queue_; }

  /// Called before each event runs, with its time and kind (tracing, tests). Not on the hot path
  /// when unset.
  using TraceObserver = std::function<void(core::TimePoint at, EventKind kind)>;
  void setTraceObserver(TraceObserver observer) { observer_ = std::move(observer); }

 private:
  enum class SlotState : std::uint8_t { kFree, kPending, kCancelled, kRunning };

  struct Slot {
    EventCallback fn;
    std::uint32_t generation = 1;  // 0 is never used, so EventId{} matches no slot
    EventKind kind = 0;
    SlotState state = SlotState::kFree;
  };

  // Slots live in fixed-size chunks so a running callback's slot never moves while the callback
  // schedules (and so grows the table).
  static constexpr std::uint32_t kChunkBits = 12;
  static constexpr std::uint32_t kChunkSize = 1U << kChunkBits;
  // Compact when cancelled entries exceed both this and the live entries.
  static constexpr std::size_t kCompactMin = 4096;

  Slot& slot(std::uint32_t i) noexcept { return chunks_[i >> kChunkBits][i & (kChunkSize - 1)]; }
  const Slot& slot(std::uint32_t i) const noexcept { return chunks_[i >> kChunkBits][i & (kChunkSize - 1)]; }
  std::uint32_t allocateSlot();
  void releaseSlot(std::uint32_t i) noexcept;
  // Pops cancelled entries off the top; returns false if the queue is then empty.
  bool skipCancelled();
  void compact();
  void runTop();

  core::TimePoint now_{};
  std::unique_ptr<EventQueue> queue_;
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::vector<std::uint32_t> freeSlots_;
  std::uint32_t slotCount_ = 0;
  std::size_t cancelledInQueue_ = 0;
  std::uint64_t nextSeq_ = 0;
  bool stopRequested_ = false;
  bool digestEnabled_ = true;
  std::uint64_t digest_ = 0;
  EngineStats stats_;
  RandomStreams random_;
  TraceObserver observer_;
};

}  // namespace gatelab::sim
