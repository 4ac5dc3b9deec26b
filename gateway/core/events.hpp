#pragma once
// The core's observability vocabulary: every state change a policy makes is reported as an
// Event value to an EventSink the caller supplies. The simulator's timeline, the proxy's
// Prometheus counters and access log, and the dashboard all consume these same shapes.
//
// Rules for producers (policies):
//   - a policy takes an EventSink& from its creator and never owns or looks up a global sink;
//   - events are emitted synchronously, inside the call that caused them, in causal order;
//   - `at` is the time the change took effect. Lazily computed transitions (open -> half-open
//     once open_for has elapsed, an ejected target returning) carry their exact effective time,
//     which can be earlier than the `now` of the call that noticed them. Consumers that need
//     arrival order number the events themselves;
//   - `reason` is a human-readable sentence with the numbers that fired, e.g.
//     "failure rate 62.5% (25/40) >= 50% over the last 40 calls". Machine-readable numbers are
//     in the typed fields next to it; tests assert on those, dashboards show the sentence.
//
// Extending: add a struct here and append it to the Event variant (rate-limit and auth events
// will join later). Sinks that switch over the variant with std::visit and an overload set keep
// compiling only if they handle the new alternative, which is the point.
//
// Thread safety: the structs are values. A sink is called from the thread that calls the policy;
// an implementation shared between threads must synchronise itself.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "gateway/core/resilience/percent.hpp"
#include "gateway/core/resilience/states.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core {

/// What an event is about: a service, and one of its targets when the policy is per target
/// (empty when it concerns the whole service).
struct EventSubject {
  std::string service;
  std::string target;
  friend bool operator==(const EventSubject&, const EventSubject&) = default;
};

/// The counters a breaker had when it changed state.
struct BreakerCounters {
  std::uint64_t windowCalls = 0;          ///< calls in the sliding window
  std::uint64_t windowFailures = 0;       ///< failed calls in the window
  std::uint64_t windowSlowCalls = 0;      ///< slow calls in the window
  std::uint32_t consecutiveFailures = 0;  ///< current run of failures while closed
  std::uint32_t probeSuccesses = 0;       ///< successful probes in the current half-open period
  std::uint32_t trips = 0;                ///< consecutive trips without a successful close
  friend bool operator==(const BreakerCounters&, const BreakerCounters&) = default;
};

/// A circuit breaker changed state.
struct BreakerStateChanged {
  TimePoint at;
  EventSubject subject;
  resilience::BreakerState from = resilience::BreakerState::kClosed;
  resilience::BreakerState to = resilience::BreakerState::kClosed;
  std::string reason;
  BreakerCounters counters;
  Duration openFor{0};  ///< to == kOpen: how long it stays open (grows with repeated trips)
  bool dryRun = false;  ///< the breaker only computes transitions; it admitted every call
};

/// Outlier detection ejected a target from load balancing.
struct OutlierEjected {
  TimePoint at;
  EventSubject subject;
  resilience::EjectionCause cause = resilience::EjectionCause::kConsecutive5xx;
  std::string reason;                ///< e.g. "5 consecutive 5xx >= 5"
  Duration ejectedFor{0};            ///< base x multiplier, capped at the maximum
  std::uint32_t multiplier = 0;      ///< the ejection-time multiplier applied (1 on a first ejection)
  std::uint32_t ejectedTargets = 0;  ///< targets of the service ejected, this one included
  std::uint32_t totalTargets = 0;
};

/// An ejected target's ejection time elapsed; it is back in load balancing.
struct OutlierReturned {
  TimePoint at;  ///< the exact end of the ejection
  EventSubject subject;
  std::string reason;  ///< e.g. "ejection of 30s elapsed"
};

/// A target met an ejection condition but stayed in because ejecting it would have put the
/// service above its maximum ejected share.
struct OutlierEjectionSkipped {
  TimePoint at;
  EventSubject subject;
  resilience::EjectionCause cause = resilience::EjectionCause::kConsecutive5xx;
  std::string reason;  ///< e.g. "5 consecutive 5xx >= 5, but 1 of 10 targets already ejected (max 10%)"
  std::uint32_t ejectedTargets = 0;  ///< targets ejected at the time (this one excluded)
  std::uint32_t totalTargets = 0;
  resilience::Percent maxEjectionPercent;
};

using Event = std::variant<BreakerStateChanged, OutlierEjected, OutlierReturned, OutlierEjectionSkipped>;

/// The effective time of any event.
inline TimePoint eventTime(const Event& e) noexcept {
  return std::visit([](const auto& v) { return v.at; }, e);
}

/// Receives events. Implementations must not call back into the policy that emitted the event.
class EventSink {
 public:
  virtual ~EventSink() = default;
  EventSink() = default;
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;

  virtual void onEvent(const Event& event) = 0;
};

/// Discards every event.
class NullEventSink final : public EventSink {
 public:
  void onEvent(const Event&) override {}
};

/// Keeps every event in arrival order (tests, small simulations). Unbounded.
class VectorEventSink final : public EventSink {
 public:
  void onEvent(const Event& event) override { events_.push_back(event); }

  [[nodiscard]] const std::vector<Event>& events() const noexcept { return events_; }
  [[nodiscard]] std::size_t size() const noexcept { return events_.size(); }
  void clear() noexcept { events_.clear(); }

  /// Every event of type T, in arrival order.
  template <typename T>
  [[nodiscard]] std::vector<T> all() const {
    std::vector<T> out;
    for (const Event& e : events_)
      if (const T* v = std::get_if<T>(&e)) out.push_back(*v);
    return out;
  }

 private:
  std::vector<Event> events_;
};

}  // namespace gatelab::core
