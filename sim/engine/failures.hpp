#pragma once
// Failure injection on a schedule: a FailureSpec says what happens to which backends when;
// FailureInjector validates it, expands it into windows, applies them to the matching
// MockBackends and emits each window's start and end as events, so a report or dashboard can
// shade them.
//
//   FailureInjector failures(sim);
//   failures.addBackend(users0);   failures.addBackend(users1);
//   failures.inject({.service = "users", .target = "1", .start = atOffset(10min), .duration = 2min,
//                    .effect = Down{}, .recovery = RecoveryRamp{1min, SlowRecovery{0.1, 3.0}}});
//
// Targeting: `target` empty applies the failure to every backend of the service; a target name
// applies it to that replica only ("one replica of several failing").
// Windows: [start, start + duration) is in force for anything happening at start <= t < end
// (see MockBackend). Flapping is expanded into its down phases; `recovery` appends a
// SlowRecovery window [end, end + ramp). windows() lists every window with a description.
//
// Thread safety: none (belongs to one Simulation). Complexity: inject O(windows x backends).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/time.hpp"
#include "sim/engine/backend.hpp"
#include "sim/engine/failure_effect.hpp"
#include "sim/engine/simulation.hpp"

namespace gatelab::sim {

/// Event kinds scheduled by FailureInjector (listener notifications).
inline constexpr EventKind kFailureWindowStart = 0x0201;
inline constexpr EventKind kFailureWindowEnd = 0x0202;

/// After a failure ends, capacity and/or latency come back over `ramp` (a SlowRecovery window).
struct RecoveryRamp {
  core::Duration ramp{0};  ///< > 0
  SlowRecovery shape;
  friend bool operator==(const RecoveryRamp&, const RecoveryRamp&) = default;
};

struct FailureSpec {
  std::string service;          ///< required
  std::string target;           ///< empty: every target of the service
  core::TimePoint start;        ///< >= sim.now() when injected
  core::Duration duration{0};   ///< > 0 (for SlowRecovery: the ramp)
  FailureEffect effect;
  std::optional<RecoveryRamp> recovery;
};

/// nullopt when valid, else every problem, one per line, naming the field ("duration: must be
/// > 0, got 0s"). Does not check that backends match (inject() does).
std::optional<std::string> validateFailureSpec(const FailureSpec& spec);

/// One shaded interval: a failure in force on a service (target empty) or one target.
struct FailureWindow {
  std::size_t spec = 0;        ///< index of the spec, in inject() order
  FailureKind kind = FailureKind::kDown;  ///< kFlapping for a flapping spec's down phases
  std::string service;
  std::string target;
  core::TimePoint start;
  core::TimePoint end;
  std::string description;     ///< e.g. "down", "flapping: down phase 3/10", "latency x10 +50ms"
  friend bool operator==(const FailureWindow&, const FailureWindow&) = default;
};

class FailureInjector {
 public:
  /// Keeps a reference to `sim`, which must outlive it (and the backends it is given).
  explicit FailureInjector(Simulation& sim) : sim_(sim) {}
  /// Cancels the pending window notifications (the backends keep their failures).
  ~FailureInjector();
  FailureInjector(const FailureInjector&) = delete;
  FailureInjector& operator=(const FailureInjector&) = delete;

  /// Makes `backend` a candidate for failures (matched by its service and target names).
  void addBackend(MockBackend& backend) { backends_.push_back(&backend); }

  /// Validates `spec`, then applies its windows to every matching backend and schedules the
  /// window start/end notifications. On error nothing is applied and the message says why
  /// (including "no backend matches users/3").
  std::optional<std::string> inject(const FailureSpec& spec);

  /// Every window so far, in inject() order, each spec's windows in time order.
  [[nodiscard]] const std::vector<FailureWindow>& windows() const noexcept { return windows_; }

  /// Called at each window's start (started = true) and end, from an event at that time.
  using Listener = std::function<void(const FailureWindow& window, bool started)>;
  void setListener(Listener listener) { listener_ = std::move(listener); }

 private:
  void notify(std::size_t window, bool started);

  Simulation& sim_;
  std::vector<MockBackend*> backends_;
  std::vector<FailureWindow> windows_;
  std::vector<EventId> notifications_;
  std::size_t specs_ = 0;
  Listener listener_;
};

}  // namespace gatelab::sim
