#pragma once
// TargetSet: one service's upstream targets and everything that decides whether a target may
// receive traffic right now. It is the table the load balancers read and the other resilience
// policies write:
//
//   healthy        up/down flag from the host's active health checks (setHealthy);
//   ejectedUntil   written by OutlierDetector (passive health: Envoy outlier detection);
//   blockedUntil   the target's circuit breaker, mirrored by the host after each breaker call
//                  (setBlockedUntil(i, breaker.blockedUntil())) when it keeps one per target;
//   outstanding    requests in flight to the target (least-request balancing).
//
// A target is *available* at `now` iff healthy && now >= ejectedUntil && now >= blockedUntil.
// Availability changes with time (an ejection or open period ends) without any call: view(now)
// recomputes lazily when a flag changed or `now` reached the earliest pending end, so a pick
// costs O(1) between changes and O(targets) right after one.
//
// Panic (Envoy's healthy_panic_threshold): when fewer than `panicThreshold` of the targets are
// available, the view offers *all* targets, ignoring health, ejection and breakers, on the
// reasoning that a partial outage is better served by everyone than by a few overloaded
// survivors. The default is Envoy's 50%; 0% disables panic, so an all-unavailable service has no
// candidates and the host answers 503.
//
// Thread safety: not thread-safe (one per service per event loop, or a mutex in the host).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/resilience/percent.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::resilience {

struct TargetSpec {
  std::string name;           ///< stable identity (URL or host:port): events, hash-ring points
  std::uint32_t weight = 1;   ///< relative weight, 1..1'000'000 (weighted and hash balancers)
  friend bool operator==(const TargetSpec&, const TargetSpec&) = default;
};

/// Why these targets cannot form a set (empty, duplicate names, weights out of range), or nullopt.
std::optional<std::string> validateTargets(std::span<const TargetSpec> targets);

/// What a balancer may choose from at one instant. Valid until the next non-const call on the set.
struct TargetView {
  std::span<const std::uint32_t> candidates;  ///< target indices, ascending: the available ones,
                                              ///< or every target in panic
  std::span<const std::uint8_t> eligible;     ///< per target index: 1 iff in `candidates`
  std::uint32_t availableCount = 0;           ///< available targets (before any panic widening)
  bool panic = false;
  std::uint64_t version = 0;                  ///< changes whenever `candidates` changes
};

class TargetSet {
 public:
  /// Precondition: validateTargets(targets) == nullopt, panicThreshold <= 100%.
  /// Every target starts healthy, not ejected, not blocked.
  TargetSet(std::string service, std::vector<TargetSpec> targets, Percent panicThreshold = Percent::of(50));
  // The cached view points into the set's own vectors: moving keeps them valid, copying would not.
  TargetSet(const TargetSet&) = delete;
  TargetSet& operator=(const TargetSet&) = delete;
  TargetSet(TargetSet&&) noexcept = default;
  TargetSet& operator=(TargetSet&&) noexcept = default;
  ~TargetSet() = default;

  [[nodiscard]] std::size_t size() const noexcept { return specs_.size(); }
  [[nodiscard]] const std::string& service() const noexcept { return service_; }
  [[nodiscard]] const TargetSpec& target(std::size_t i) const noexcept { return specs_[i]; }
  [[nodiscard]] std::span<const TargetSpec> targets() const noexcept { return specs_; }
  [[nodiscard]] std::optional<std::uint32_t> indexOf(std::string_view name) const noexcept;  ///< O(n)
  [[nodiscard]] Percent panicThreshold() const noexcept { return panicThreshold_; }

  // Writers. Each is O(1); a change marks the view for recomputation. Precondition: i < size().
  void setHealthy(std::size_t i, bool up) noexcept;
  void setEjectedUntil(std::size_t i, TimePoint until) noexcept;  ///< TimePoint::min(): not ejected
  void setBlockedUntil(std::size_t i, TimePoint until) noexcept;  ///< TimePoint::min(): not blocked
  void onRequestStart(std::size_t i) noexcept { ++state_[i].outstanding; }
  void onRequestEnd(std::size_t i) noexcept {
    if (state_[i].outstanding > 0) --state_[i].outstanding;
  }

  [[nodiscard]] bool healthy(std::size_t i) const noexcept { return state_[i].healthy; }
  [[nodiscard]] TimePoint ejectedUntil(std::size_t i) const noexcept { return state_[i].ejectedUntil; }
  [[nodiscard]] TimePoint blockedUntil(std::size_t i) const noexcept { return state_[i].blockedUntil; }
  [[nodiscard]] std::uint32_t outstanding(std::size_t i) const noexcept { return state_[i].outstanding; }
  /// Is target i available at `now`? O(1).
  [[nodiscard]] bool available(std::size_t i, TimePoint now) const noexcept;
  /// How many targets are ejected at `now`. O(n).
  [[nodiscard]] std::uint32_t ejectedCount(TimePoint now) const noexcept;

  /// The candidates at `now`. Amortized O(1); O(n) after a change. `now` must not go backwards
  /// by more than the host's clock does (a view computed for an earlier `now` is recomputed).
  const TargetView& view(TimePoint now) noexcept;

 private:
  struct State {
    TimePoint ejectedUntil = TimePoint::min();
    TimePoint blockedUntil = TimePoint::min();
    std::uint32_t outstanding = 0;
    bool healthy = true;
  };
  void recompute(TimePoint now) noexcept;

  std::string service_;
  std::vector<TargetSpec> specs_;
  std::vector<State> state_;
  Percent panicThreshold_;

  // The cached view.
  std::vector<std::uint32_t> candidates_;
  std::vector<std::uint32_t> scratch_;
  std::vector<std::uint8_t> eligible_;
  TargetView view_;
  bool dirty_ = true;
  TimePoint computedAt_ = TimePoint::min();
  TimePoint validUntil_ = TimePoint::min();  ///< earliest future ejection/block end
};

}  // namespace gatelab::core::resilience
