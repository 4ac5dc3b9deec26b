#pragma once
// Helpers for the engine tests: explicit time points, a Poisson arrival source, a recorder of
// call outcomes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <vector>

#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/time.hpp"
#include "sim/engine/backend.hpp"
#include "sim/engine/random.hpp"
#include "sim/engine/simulation.hpp"

// CallOutcome has no equality in the core; tests compare and print whole outcomes.
namespace gatelab::core::resilience {
inline bool operator==(const CallOutcome& a, const CallOutcome& b) {
  return a.kind == b.kind && a.status == b.status && a.latency == b.latency && a.retryAfter == b.retryAfter;
}
inline void PrintTo(const CallOutcome& o, std::ostream* os) {
  *os << describe(o) << " after " << core::formatDuration(o.latency);
}
}  // namespace gatelab::core::resilience

namespace gatelab::sim::testing {

using namespace std::chrono_literals;
using core::Duration;
using core::TimePoint;
using core::resilience::CallOutcome;
using core::resilience::OutcomeKind;

inline TimePoint at(Duration d) { return core::atOffset(d); }

/// Poisson arrivals: `count` arrivals with exponential gaps of mean `meanGap`, each calling
/// `onArrival` from an event of kind 1.
class PoissonSource {
 public:
  PoissonSource(Simulation& sim, Rng rng, Duration meanGap, std::uint64_t count, std::function<void()> onArrival)
      : sim_(sim), rng_(rng), meanGapNs_(static_cast<double>(meanGap.count())), remaining_(count),
        onArrival_(std::move(onArrival)) {}

  void start() { scheduleNext(); }

 private:
  void scheduleNext() {
    if (remaining_ == 0) return;
    --remaining_;
    const auto gap = Duration{static_cast<std::int64_t>(rng_.exponential(meanGapNs_) + 0.5)};
    sim_.schedule(gap, [this] {
      onArrival_();
      scheduleNext();
    }, 1);
  }

  Simulation& sim_;
  Rng rng_;
  double meanGapNs_;
  std::uint64_t remaining_;
  std::function<void()> onArrival_;
};

/// One delivered outcome and when it arrived.
struct Delivered {
  TimePoint at;
  CallOutcome outcome;
  int tag = 0;
};

/// Collects outcomes; call(backend, tag) starts a call whose outcome is recorded with `tag`.
class Recorder {
 public:
  explicit Recorder(Simulation& sim) : sim_(sim) {}
  CallHandle call(MockBackend& backend, int tag = 0) {
    return backend.call([this, tag](const CallOutcome& o) { got.push_back({sim_.now(), o, tag}); });
  }
  /// Starts a call at time t (from an event).
  void callAt(MockBackend& backend, TimePoint t, int tag = 0) {
    sim_.schedule(t, [this, &backend, tag] { call(backend, tag); }, 2);
  }
  [[nodiscard]] const Delivered* find(int tag) const {
    for (const Delivered& d : got)
      if (d.tag == tag) return &d;
    return nullptr;
  }
  std::vector<Delivered> got;

 private:
  Simulation& sim_;
};

}  // namespace gatelab::sim::testing
