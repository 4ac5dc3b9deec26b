#pragma once
// The value every rate limiter returns. Nothing on the request path throws: a decision is data.

#include <cstdint>

#include "gateway/core/time.hpp"

namespace gatelab::core::ratelimit {

enum class Verdict : std::uint8_t {
  kAllow,   ///< forward now
  kDelay,   ///< forward after `delay` (nginx limit_req without nodelay); already charged
  kReject,  ///< answer with the policy's reject status; not charged unless the algorithm says so
};

const char* toString(Verdict v) noexcept;

/// One limit's decision. All durations are relative to the `now` the decision was made at.
struct Decision {
  Verdict verdict = Verdict::kAllow;
  Duration delay{0};            ///< kDelay: how long the host holds the request before forwarding
  std::uint64_t limit = 0;      ///< quota of the limit (X-RateLimit-Limit, RateLimit-Policy q=)
  std::uint64_t remaining = 0;  ///< quota left after this decision (X-RateLimit-Remaining)
  Duration window{0};           ///< the time window the quota refers to (RateLimit-Policy w=)
  Duration reset{0};            ///< time until the full quota is available again (RateLimit t=)
  Duration retryAfter{0};       ///< kReject: earliest time the same request could be admitted

  [[nodiscard]] bool admitted() const noexcept { return verdict != Verdict::kReject; }
};

}  // namespace gatelab::core::ratelimit
