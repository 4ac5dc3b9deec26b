#pragma once
// Arrival processes: when requests arrive, as offsets from the workload's start.
//
//   PoissonProcess(rate)        inter-arrival times i.i.d. exponential: -ln(U) / rate, U uniform
//                               on (0, 1] (Rng::exponential).
//   MmppProcess(model)          Markov-modulated Poisson (see mmpp.hpp). Simulated exactly: in state
//                               i, draw the next arrival -ln(U)/lambda_i after now; if it falls after
//                               the state's end, move to that end instead, jump (j with probability
//                               q_ij / -q_ii) and draw a new sojourn -ln(U)/-q_jj. Memorylessness
//                               makes discarding the overshooting draw exact. The first state is
//                               drawn from the stationary distribution (or given), so counts are
//                               stationary from t = 0.
//   DiurnalProcess(profile)     non-homogeneous Poisson with a rate that depends on the local time
//                               of day (RateProfile), by thinning (Lewis & Shedler 1979): candidates
//                               from a Poisson process at the profile's peak rate, each kept with
//                               probability rate(t) / peak.
//   OnOffProcess                an abusive client: a constant rate (evenly spaced, random phase) or
//                               Poisson, optionally only during "on" periods of a fixed on/off cycle
//                               (random position in the cycle), within a [from, until) window.
//
// Contract: next(rng) returns arrival offsets in non-decreasing order, kNever when there are no
// more; it draws only from the Rng passed in (one stream per process). Internally times are
// double seconds (no drift: each arrival is computed from the exact previous time), rounded to
// whole nanoseconds on output.
//
// Floating point: ln, exp, cos are glibc's (identical on x86-64 and aarch64, see random.hpp).
// Not thread-safe (state advances); one process per stream. next(): O(1) expected (MMPP: plus one
// step per state change; diurnal: 1 / acceptance-rate candidates, at most peak/mean).

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/core/time.hpp"
#include "sim/engine/random.hpp"
#include "sim/workload/mmpp.hpp"

namespace gatelab::sim::workload {

/// "No more arrivals".
inline constexpr core::Duration kNever = core::Duration::max();

/// Seconds -> whole nanoseconds (rounded to nearest); kNever for +inf or beyond ~292 years.
[[nodiscard]] core::Duration secondsToDuration(double seconds) noexcept;

class ArrivalProcess {
 public:
  ArrivalProcess() = default;
  ArrivalProcess(const ArrivalProcess&) = delete;
  ArrivalProcess& operator=(const ArrivalProcess&) = delete;
  virtual ~ArrivalProcess() = default;

  /// The next arrival's offset from the start; non-decreasing; kNever when none is left.
  [[nodiscard]] virtual core::Duration next(Rng& rng) noexcept = 0;
  /// Long-run arrivals per second (diurnal: the mean over a day; on-off: over the cycle, ignoring
  /// the window).
  [[nodiscard]] virtual double meanRate() const noexcept = 0;
  /// One line for summaries: "poisson(200/s)".
  [[nodiscard]] virtual std::string describe() const = 0;
};

class PoissonProcess final : public ArrivalProcess {
 public:
  /// Precondition: ratePerSecond > 0 and finite.
  explicit PoissonProcess(double ratePerSecond) noexcept : rate_(ratePerSecond) {}
  [[nodiscard]] core::Duration next(Rng& rng) noexcept override;
  [[nodiscard]] double meanRate() const noexcept override { return rate_; }
  [[nodiscard]] std::string describe() const override;

 private:
  double rate_;
  double now_ = 0.0;
};

class MmppProcess final : public ArrivalProcess {
 public:
  /// `initialState`: the state at t = 0; nullopt draws it from the stationary distribution.
  explicit MmppProcess(MmppModel model, std::optional<std::size_t> initialState = std::nullopt);
  [[nodiscard]] core::Duration next(Rng& rng) noexcept override;
  [[nodiscard]] double meanRate() const noexcept override { return model_.meanRate(); }
  [[nodiscard]] std::string describe() const override { return model_.describe(); }
  [[nodiscard]] const MmppModel& model() const noexcept { return model_; }
  /// The current state (after the last next()); for tests.
  [[nodiscard]] std::size_t state() const noexcept { return state_; }

 private:
  void enter(std::size_t state, Rng& rng) noexcept;

  MmppModel model_;
  std::optional<std::size_t> initial_;
  bool started_ = false;
  std::size_t state_ = 0;
  double now_ = 0.0;
  double stateEnd_ = 0.0;
  std::vector<std::vector<double>> jumpCdf_;  // per state: cumulative jump probabilities
  std::vector<double> piCdf_;
};

/// A rate that depends on the local time of day, repeating every 24 h.
///   sinusoid(mean, peakHour, ratio): rate(h) = mean * (1 + a cos(2 pi (h - peakHour) / 24)),
///       a = (ratio - 1) / (ratio + 1), so the peak is mean(1 + a) at peakHour, the trough mean(1 - a)
///       twelve hours away, peak / trough = ratio, and the daily mean is `mean`.
///   piecewise(points): (second of day, rate) points, linear in between, wrapping from the last
///       point to the first one of the next day; one point is a constant.
class RateProfile {
 public:
  struct Point {
    double secondOfDay = 0;  ///< [0, 86400)
    double rate = 0;         ///< per second, >= 0
  };
  /// Preconditions: mean > 0; ratio >= 1; peakHour in [0, 24).
  [[nodiscard]] static RateProfile sinusoid(double mean, double peakHour, double ratio);
  /// Preconditions: 1..1000 points, strictly increasing times in [0, 86400), rates >= 0, one > 0.
  [[nodiscard]] static RateProfile piecewise(std::vector<Point> points);

  /// Rate at `secondOfDay` (any real number: taken modulo a day).
  [[nodiscard]] double rateAt(double secondOfDay) const noexcept;
  [[nodiscard]] double maxRate() const noexcept { return max_; }
  /// Mean rate over a day.
  [[nodiscard]] double meanRate() const noexcept { return mean_; }
  /// Expected arrivals in [from, to), both in seconds since some local midnight (to >= from; may
  /// span days). Exact (closed form for both shapes).
  [[nodiscard]] double integral(double from, double to) const noexcept;
  [[nodiscard]] std::string describe() const;

 private:
  [[nodiscard]] double cumulativeInDay(double secondOfDay) const noexcept;  // integral over [0, s)

  bool sinusoid_ = true;
  double mean_ = 0;
  double amplitude_ = 0;  // a
  double peakSecond_ = 0;
  double ratio_ = 1;
  std::vector<Point> points_;
  std::vector<double> cumulative_;  // integral from 0 to points_[k].secondOfDay
  double max_ = 0;
};

class DiurnalProcess final : public ArrivalProcess {
 public:
  /// `startSecondOfDay`: the local time of day (seconds since midnight) at offset 0.
  DiurnalProcess(RateProfile profile, double startSecondOfDay) noexcept
      : profile_(std::move(profile)), start_(startSecondOfDay) {}
  [[nodiscard]] core::Duration next(Rng& rng) noexcept override;
  [[nodiscard]] double meanRate() const noexcept override { return profile_.meanRate(); }
  [[nodiscard]] std::string describe() const override { return profile_.describe(); }
  [[nodiscard]] const RateProfile& profile() const noexcept { return profile_; }

 private:
  RateProfile profile_;
  double start_;
  double now_ = 0.0;
};

enum class AbusePattern : std::uint8_t {
  kConstant,  ///< evenly spaced at the rate, random phase (a script in a loop)
  kPoisson,   ///< exponential gaps at the rate
};

struct OnOffOptions {
  double rate = 1.0;                                           ///< per second while on (> 0)
  AbusePattern pattern = AbusePattern::kConstant;
  double onSeconds = std::numeric_limits<double>::infinity();  ///< +inf: always on
  double offSeconds = 0.0;
  double fromSeconds = 0.0;                                    ///< first possible arrival
  double untilSeconds = std::numeric_limits<double>::infinity();  ///< no arrival at or after
};

class OnOffProcess final : public ArrivalProcess {
 public:
  /// Preconditions: rate > 0; on > 0 (or +inf); off >= 0; from >= 0; until >= from.
  explicit OnOffProcess(const OnOffOptions& options) noexcept : o_(options) {}
  [[nodiscard]] core::Duration next(Rng& rng) noexcept override;
  [[nodiscard]] double meanRate() const noexcept override;
  [[nodiscard]] std::string describe() const override;

 private:
  [[nodiscard]] double wallTime(double active) const noexcept;

  OnOffOptions o_;
  bool started_ = false;
  bool done_ = false;
  double phase_ = 0.0;         // constant pattern: on-time of the first arrival, in [0, 1 / rate)
  std::uint64_t sent_ = 0;     // constant pattern: arrivals so far
  double active_ = 0.0;        // Poisson pattern: on-time since `from` of the last arrival
  double activeBefore_ = 0.0;  // on-time of the cycle containing `from` already over at `from`
  double cycleStart_ = 0.0;    // wall time at which the cycle containing `from` began
};

}  // namespace gatelab::sim::workload
