#pragma once
// Timeouts: connect, per-try and overall request deadlines, computed so that the overall
// timeout covers every retry and back-off (Envoy's route timeout "includes all retries"; nginx's
// proxy_next_upstream_timeout bounds the whole sequence of tries).
//
//   overall deadline   = request start + overall
//   try deadline       = min(try start + per_try, overall deadline)
//   connect deadline   = min(try start + connect, try deadline)
//
// A zero Duration means "no limit" for that stage; an absent limit is kNoDeadline
// (TimePoint::max()). All sums saturate, so huge configured values cannot wrap.
// Thread safety: value type and pure functions. Complexity: O(1).

#include "gateway/core/time.hpp"

namespace gatelab::core::resilience {

/// The deadline that never comes.
inline constexpr TimePoint kNoDeadline = TimePoint::max();

struct Timeouts {
  Duration connect{0};  ///< establishing the upstream connection (0: no separate limit)
  Duration perTry{0};   ///< one try, from its start to the response headers (0: no limit)
  Duration overall{0};  ///< the whole request: every try and back-off (0: no limit)
  friend bool operator==(const Timeouts&, const Timeouts&) = default;
};

/// Why `t` is not usable (negative values, per-try above overall), or nullptr.
/// The message names the proposed YAML field (timeouts.connect / per_try / overall).
[[nodiscard]] const char* validateTimeouts(const Timeouts& t) noexcept;

/// requestStart + overall, or kNoDeadline.
[[nodiscard]] TimePoint overallDeadline(const Timeouts& t, TimePoint requestStart) noexcept;

/// The deadline of a try starting at `tryStart`: min(tryStart + perTry, requestStart + overall).
/// A try starting at or after the overall deadline gets a deadline <= tryStart (already due):
/// the host must not start it (RetryPolicy gives up before that happens).
[[nodiscard]] TimePoint tryDeadline(const Timeouts& t, TimePoint requestStart, TimePoint tryStart) noexcept;

/// The connect deadline of a try starting at `tryStart`: min(tryStart + connect, tryDeadline).
[[nodiscard]] TimePoint connectDeadline(const Timeouts& t, TimePoint requestStart, TimePoint tryStart) noexcept;

/// Time left until `deadline` at `now` (0 when due, Duration::max() for kNoDeadline).
[[nodiscard]] Duration remaining(TimePoint deadline, TimePoint now) noexcept;

}  // namespace gatelab::core::resilience
