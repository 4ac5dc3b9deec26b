#include "sim/engine/simulation.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "sim/engine/check.hpp"

namespace gatelab::sim {

namespace detail {
void fatal(const char* what) noexcept {
  std::fprintf(stderr, "gatelab sim: %s\n", what);
  std::abort();
}
}  // namespace detail

std::unique_ptr<EventQueue> makeDefaultEventQueue() { return std::make_unique<BinaryHeapQueue>(); }

Simulation::Simulation(RunSeed seed) : Simulation(SimulationOptions{seed, nullptr, true}) {}

Simulation::Simulation(SimulationOptions options)
    : queue_(options.queue ? std::move(options.queue) : makeDefaultEventQueue()),
      digestEnabled_(options.traceDigest),
      random_(options.seed) {}

Simulation::~Simulation() = default;

std::uint32_t Simulation::allocateSlot() {
  if (!freeSlots_.empty()) {
    const std::uint32_t i = freeSlots_.back();
    freeSlots_.pop_back();
    return i;
  }
  detail::check(slotCount_ < std::numeric_limits<std::uint32_t>::max(), "too many pending events");
  if ((slotCount_ & (kChunkSize - 1)) == 0) chunks_.push_back(std::make_unique<Slot[]>(kChunkSize));
  return slotCount_++;
}

void Simulation::releaseSlot(std::uint32_t i) noexcept {
  Slot& s = slot(i);
  s.fn.reset();
  s.state = SlotState::kFree;
  // Generation 0 is reserved for "no event"; wrapping after 2^32 reuses of one slot is harmless
  // unless a caller keeps an EventId that long.
  if (++s.generation == 0) s.generation = 1;
  freeSlots_.push_back(i);
}

EventId Simulation::schedule(core::TimePoint at, EventCallback fn, EventKind kind) {
  detail::check(at >= now_, "event scheduled in the past");
  const std::uint32_t i = allocateSlot();
  Slot& s = slot(i);
  s.fn = std::move(fn);
  s.kind = kind;
  s.state = SlotState::kPending;
  queue_->push(QueuedEvent{at, nextSeq_++, i});
  ++stats_.scheduled;
  if (queue_->size() > stats_.peakQueue) stats_.peakQueue = queue_->size();
  return EventId{i, s.generation};
}

EventId Simulation::schedule(core::Duration delay, EventCallback fn, EventKind kind) {
  detail::check(delay >= core::Duration{0}, "negative delay");
  const std::int64_t base = core::toNanos(now_);
  const std::int64_t d = delay.count();
  const core::TimePoint at =
      d > std::numeric_limits<std::int64_t>::max() - base ? core::TimePoint::max() : core::TimePoint{core::Duration{base + d}};
  return schedule(at, std::move(fn), kind);
}

bool Simulation::cancel(EventId id) noexcept {
  if (!id.valid() || id.slot_ >= slotCount_) return false;
  Slot& s = slot(id.slot_);
  if (s.generation != id.generation_ || s.state != SlotState::kPending) return false;
  s.state = SlotState::kCancelled;
  s.fn.reset();
  ++stats_.cancelled;
  if (queue_->erase(id.slot_)) {  // gone from the queue at once: the slot is free again
    releaseSlot(id.slot_);
    return true;
  }
  ++cancelledInQueue_;
  if (cancelledInQueue_ >= kCompactMin && cancelledInQueue_ * 2 > queue_->size()) compact();
  return true;
}

bool Simulation::isPending(EventId id) const noexcept {
  if (!id.valid() || id.slot_ >= slotCount_) return false;
  const Slot& s = slot(id.slot_);
  return s.generation == id.generation_ && s.state == SlotState::kPending;
}

void Simulation::compact() {
  queue_->retainIf([this](const QueuedEvent& e) {
    if (slot(e.slot).state != SlotState::kCancelled) return true;
    releaseSlot(e.slot);
    return false;
  });
  cancelledInQueue_ = 0;
  ++stats_.compactions;
}

bool Simulation::skipCancelled() {
  while (!queue_->empty()) {
    const std::uint32_t i = queue_->top().slot;
    if (slot(i).state != SlotState::kCancelled) return true;
    queue_->pop();
    --cancelledInQueue_;
    releaseSlot(i);
  }
  return false;
}

std::optional<core::TimePoint> Simulation::nextEventTime() {
  if (!skipCancelled()) return std::nullopt;
  return queue_->top().at;
}

void Simulation::runTop() {
  const QueuedEvent e = queue_->top();
  queue_->pop();
  detail::check(e.at >= now_, "event queue returned an event earlier than now (time went backwards)");
  now_ = e.at;
  Slot& s = slot(e.slot);
  s.state = SlotState::kRunning;
  if (digestEnabled_)
    digest_ = mix64(digest_ ^ static_cast<std::uint64_t>(core::toNanos(e.at))) ^ (s.kind * 0x9E3779B97F4A7C15ULL);
  if (observer_) observer_(e.at, s.kind);
  ++stats_.executed;
  s.fn();  // may schedule and cancel; the slot does not move (chunked storage)
  releaseSlot(e.slot);
}

bool Simulation::step() {
  if (!skipCancelled()) return false;
  runTop();
  return true;
}

void Simulation::run() {
  stopRequested_ = false;
  while (!stopRequested_ && skipCancelled()) runTop();
}

void Simulation::runUntil(core::TimePoint t) {
  detail::check(t >= now_, "runUntil into the past");
  stopRequested_ = false;
  while (!stopRequested_ && skipCancelled() && queue_->top().at <= t) runTop();
  if (!stopRequested_) now_ = t;
}

}  // namespace gatelab::sim
