#pragma once
// OutlierDetector: Envoy-style passive health checking for one service's targets. It watches
// every try's outcome per target and ejects a target from load balancing after
//
//   - `consecutive5xx` consecutive 5xx responses or local-origin errors (connect failure,
//     timeout, reset), or
//   - `consecutiveGatewayFailure` consecutive 502/503/504 responses or local-origin errors;
//
// any other outcome resets the corresponding run. An ejection lasts
// min(base x multiplier, max): the multiplier grows by one with every ejection (Envoy stops
// growing it once base x multiplier >= max + base) and shrinks by one for every full `interval`
// the target then spends back in service. The target returns automatically when its ejection
// time has elapsed: lazily, computed from `now` (TargetSet sees it at once; the OutlierReturned
// event is reported at the next call or advance(), stamped with the exact end time).
//
// At most `maxEjectionPercent` of the service's targets are ejected at once: a target that meets
// a condition while ejecting it would exceed the share stays in, and an OutlierEjectionSkipped
// event says so. With `alwaysEjectOne`, one target may be ejected even when the share rounds
// down to zero (3 targets at 10%); this is Envoy's always_eject_one_host, on by default here
// because gatelab services are small.
//
// Outcomes reported for a target while it is ejected (possible only in panic mode) are ignored.
// The detector writes ejections into the TargetSet it was built with; the host keeps both alive
// together (the set must outlive the detector and must not move).
// Thread safety: not thread-safe. Complexity: onResult O(1) (O(targets) when an ejection ends or
// a target is about to be ejected); advance O(1) unless an ejection ended.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/events.hpp"
#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/resilience/percent.hpp"
#include "gateway/core/resilience/target_set.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::resilience {

/// Defaults are Envoy's, except consecutive gateway failures, which Envoy detects but does not
/// enforce by default (enforcing_consecutive_gateway_failure: 0%); here 0 means off.
struct OutlierConfig {
  std::uint32_t consecutive5xx = 5;              ///< 0: off
  std::uint32_t consecutiveGatewayFailure = 0;   ///< 0: off
  Duration baseEjectionTime{std::chrono::seconds{30}};
  Duration maxEjectionTime{std::chrono::seconds{300}};
  Percent maxEjectionPercent = Percent::of(10);
  bool alwaysEjectOne = true;
  Duration interval{std::chrono::seconds{10}};   ///< multiplier decay period; 0: never decays
};

/// Why `c` cannot be used (naming the proposed YAML field), or nullopt.
std::optional<std::string> validateOutlierConfig(const OutlierConfig& c);

enum class OutlierAction : std::uint8_t {
  kNone,     ///< nothing happened
  kEjected,  ///< the target was ejected by this outcome
  kSkipped,  ///< a condition fired but the maximum ejected share kept the target in
};

const char* toString(OutlierAction a) noexcept;

struct OutlierStats {
  std::uint64_t ejections = 0;
  std::uint64_t skipped = 0;   ///< ejections prevented by maxEjectionPercent (Envoy ejections_overflow)
  std::uint64_t returns = 0;
  std::uint64_t ignoredWhileEjected = 0;
};

class OutlierDetector {
 public:
  /// Preconditions: validateOutlierConfig(config) == nullopt; `targets` and `sink` outlive the
  /// detector and `targets` is not moved.
  OutlierDetector(OutlierConfig config, TargetSet& targets, EventSink& sink);

  /// Records how a try to `target` ended at `now`. Precondition: target < targets.size().
  OutlierAction onResult(std::size_t target, const CallOutcome& outcome, TimePoint now);

  /// Reports the returns due at `now` (events in time order). Optional: hosts call it at
  /// nextReturnAt() to get OutlierReturned events on time.
  void advance(TimePoint now);

  /// The earliest end of a current ejection, if any target is ejected.
  [[nodiscard]] std::optional<TimePoint> nextReturnAt() const noexcept;
  [[nodiscard]] bool ejected(std::size_t target, TimePoint now) const noexcept {
    return now < targets_->ejectedUntil(target);
  }
  /// The stored ejection-time multiplier (before decay for time spent in service).
  [[nodiscard]] std::uint32_t multiplier(std::size_t target) const noexcept { return state_[target].multiplier; }
  [[nodiscard]] std::uint32_t consecutive5xx(std::size_t target) const noexcept { return state_[target].run5xx; }
  [[nodiscard]] std::uint32_t consecutiveGatewayFailures(std::size_t target) const noexcept {
    return state_[target].runGateway;
  }
  [[nodiscard]] const OutlierStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const OutlierConfig& config() const noexcept { return config_; }

 private:
  struct TargetState {
    std::uint32_t run5xx = 0;
    std::uint32_t runGateway = 0;
    std::uint32_t multiplier = 0;
    bool ejected = false;  ///< ejected and its return not yet reported
    std::optional<TimePoint> lastReturn;
  };
  OutlierAction tryEject(std::size_t target, EjectionCause cause, std::uint32_t run, std::uint32_t threshold,
                         TimePoint now);

  OutlierConfig config_;
  TargetSet* targets_;
  EventSink* sink_;
  std::vector<TargetState> state_;
  std::uint32_t ejectedCount_ = 0;  ///< targets with `ejected` set
  TimePoint nextReturn_ = TimePoint::max();
  OutlierStats stats_;
};

}  // namespace gatelab::core::resilience
