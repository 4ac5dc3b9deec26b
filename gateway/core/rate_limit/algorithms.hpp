#pragma once
// The rate-limiting algorithms as pure state machines over one key's state.
//
// Each algorithm class holds only its validated parameters and exposes:
//   State                         the per-key state (small, fixed size except the sliding log);
//                                 a value-initialized State is the state of a never-seen key
//   decide(state, now, cost, commit)  the decision for a request of `cost` units at `now`;
//                                 with commit=false nothing is written (a "peek"), with
//                                 commit=true the state moves on exactly as the decision says
//   idle(state, now)              true when the state is equivalent to a never-seen key's, so
//                                 the store may drop it without changing any later decision
//                                 (the leaky bucket uses nginx's own expiry rule instead)
//
// All arithmetic is integer and exact: times are int64 nanoseconds, fractional refill is carried
// in scaled units, so tests can probe "1 ns before / at / 1 ns after" a boundary. Exact
// semantics, and which gateway each one reproduces, are in docs/rate-limiting.md.
// Preconditions for every constructor: validateLimitSpec() (limiter.hpp) accepted the spec.
// Thread safety: the classes are immutable; states are owned by the caller.

#include <cstdint>
#include <limits>
#include <vector>

#include "gateway/core/rate_limit/decision.hpp"
#include "gateway/core/rate_limit/limit_spec.hpp"

namespace gatelab::core::ratelimit {

/// Sentinel time meaning "no request seen yet".
inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();

/// Continuous-refill token bucket: capacity `burst`, refilled at `rate`. A request of cost k
/// passes iff at least k tokens are present. Equivalent to GCRA with the same rate and burst.
class TokenBucket {
 public:
  struct State {
    std::int64_t level = 0;      ///< tokens x unitsPerToken_
    std::int64_t last = kNever;  ///< time of the level; kNever: a full bucket
  };
  explicit TokenBucket(const LimitSpec& spec);
  Decision decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const noexcept;
  bool idle(const State& s, std::int64_t now) const noexcept;

 private:
  std::int64_t levelAt(const State& s, std::int64_t now) const noexcept;
  std::int64_t unitsPerToken_;  ///< p: one token is p units
  std::int64_t unitsPerNs_;     ///< c: refill in units per nanosecond (rate = c/p tokens/ns)
  std::int64_t capacityUnits_;  ///< burst x p
  std::uint64_t capacity_;
};

/// Envoy local_rate_limit's bucket: `burst` max tokens, `rate.count` tokens added every
/// `rate.period` at fixed fill times (multiples of the period on the host timeline).
class DiscreteTokenBucket {
 public:
  struct State {
    std::int64_t tokens = 0;
    std::int64_t fill = kNever;  ///< index of the last fill applied; kNever: a full bucket
  };
  explicit DiscreteTokenBucket(const LimitSpec& spec);
  Decision decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const noexcept;
  bool idle(const State& s, std::int64_t now) const noexcept;

 private:
  std::int64_t tokensAt(const State& s, std::int64_t fillIndex) const noexcept;
  std::int64_t interval_;
  std::int64_t perFill_;
  std::int64_t capacity_;
};

/// nginx limit_req, exactly: rate in milli-requests/s truncated as nginx does, millisecond time,
/// `burst`, `delay=N` / `nodelay`, first request of a new key not counted, rejections not charged.
class LeakyBucket {
 public:
  struct State {
    std::int64_t excess = 0;       ///< milli-requests above the rate
    std::int64_t lastMs = kNever;  ///< millisecond of the last accounted request
  };
  explicit LeakyBucket(const LimitSpec& spec);
  Decision decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const noexcept;
  /// nginx's expiry rule: untouched for 60 s and fully drained.
  bool idle(const State& s, std::int64_t now) const noexcept;
  /// The rate nginx would store for this spec, in milli-requests per second.
  std::int64_t rateMilli() const noexcept { return rateMilli_; }

 private:
  std::int64_t drained(std::int64_t ms) const noexcept;
  std::int64_t rateMilli_;
  std::int64_t burstMilli_;
  std::int64_t delayMilli_;
  std::uint64_t burst_;
};

/// Fixed window counter: at most `rate.count` units per window of `rate.period`.
class FixedWindow {
 public:
  struct State {
    std::int64_t start = kNever;
    std::uint64_t count = 0;
  };
  explicit FixedWindow(const LimitSpec& spec);
  Decision decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const noexcept;
  bool idle(const State& s, std::int64_t now) const noexcept;

 private:
  std::int64_t window_;
  std::uint64_t limit_;
  bool alignToClock_;
};

/// Exact sliding window: a request passes iff the admitted units in (now - window, now] plus its
/// cost stay within the limit. Keeps one (time, cost) record per admitted request in the window.
class SlidingWindowLog {
 public:
  struct Record {
    std::int64_t at;
    std::uint64_t cost;
  };
  struct State {
    std::vector<Record> ring;  ///< circular buffer, capacity grows up to the limit
    std::uint32_t head = 0;
    std::uint32_t size = 0;
    std::uint64_t total = 0;   ///< units in the ring
  };
  explicit SlidingWindowLog(const LimitSpec& spec);
  Decision decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const;
  bool idle(const State& s, std::int64_t now) const noexcept;

 private:
  std::int64_t window_;
  std::uint64_t limit_;
};

/// Sliding window counter: estimate = prev x (window - elapsed) / window + current; a request
/// passes iff estimate + cost <= limit. Rejected requests count when countRejected is set.
class SlidingWindowCounter {
 public:
  struct State {
    std::int64_t start = kNever;  ///< start of the current (clock-aligned) window
    std::uint64_t prev = 0;
    std::uint64_t curr = 0;
  };
  explicit SlidingWindowCounter(const LimitSpec& spec);
  Decision decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const noexcept;
  bool idle(const State& s, std::int64_t now) const noexcept;

 private:
  std::int64_t window_;
  std::uint64_t limit_;
  bool countRejected_;
};

/// GCRA (virtual scheduling): emission interval T = period / count, tolerance (burst - 1) x T.
/// State is the theoretical arrival time, carried exactly as nanoseconds + a remainder.
class Gcra {
 public:
  struct State {
    std::int64_t tat = kNever;  ///< whole nanoseconds of the theoretical arrival time
    std::int64_t frac = 0;      ///< remainder in 1/c ns, 0 <= frac < c
  };
  explicit Gcra(const LimitSpec& spec);
  Decision decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const noexcept;
  bool idle(const State& s, std::int64_t now) const noexcept;

 private:
  std::int64_t unitsPerEmission_;  ///< p: T = p / c nanoseconds
  std::int64_t unitsPerNs_;        ///< c
  std::int64_t limitUnits_;        ///< burst x p: how far ahead of now the TAT may run
  std::uint64_t burst_;
};

}  // namespace gatelab::core::ratelimit
