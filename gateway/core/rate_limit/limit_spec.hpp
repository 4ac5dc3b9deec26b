#pragma once
// LimitSpec: one validated limit, as the config layer hands it to the limiter factory.
// Every field is typed; the config layer has already checked ranges and cross-field rules.

#include <cstdint>

#include "gateway/core/rate.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::ratelimit {

enum class Algorithm : std::uint8_t {
  kTokenBucket,           ///< continuous refill (Kong/Traefik-style bucket)
  kTokenBucketDiscrete,   ///< Envoy local_rate_limit: tokens_per_fill every fill_interval
  kLeakyBucket,           ///< nginx limit_req, exact integer arithmetic
  kFixedWindow,           ///< counter per window, aligned to the clock or to the key's first request
  kSlidingWindowLog,      ///< exact: every admitted request's time is kept for one window
  kSlidingWindowCounter,  ///< weighted previous window (Cloudflare / Kong advanced / APISIX)
  kGcra,                  ///< generic cell rate algorithm (theoretical arrival time)
};

const char* toString(Algorithm a) noexcept;

enum class WindowAlign : std::uint8_t {
  kClock,         ///< windows start at multiples of the window length on the host timeline (Kong)
  kFirstRequest,  ///< a key's windows start at its first request
};

struct LimitSpec {
  Algorithm algorithm = Algorithm::kTokenBucket;
  /// The limit. Token buckets: refill rate (discrete: tokens_per_fill per fill_interval). Leaky
  /// bucket: nginx `rate` (converted to milli-requests/s with nginx's truncation). Windows:
  /// `rate.count` requests per `rate.period` window. GCRA: emission interval = period / count.
  Rate rate{};
  /// Token buckets and GCRA: capacity, the most requests admitted at once (default rate.count).
  /// Leaky bucket: nginx `burst` (default 0).
  std::uint64_t burst = 0;
  /// Leaky bucket only: nginx `delay=N`; requests with excess above N are delayed. `nodelay`
  /// sets it to "infinite" (kNoDelay).
  std::uint64_t delay = 0;
  /// Fixed window only.
  WindowAlign align = WindowAlign::kClock;
  /// Sliding window counter only: whether rejected requests are counted in the current window
  /// (true: Kong rate-limiting-advanced "penalty"; false: APISIX / Cloudflare style).
  bool countRejected = false;

  static constexpr std::uint64_t kNoDelay = UINT64_MAX;

  friend bool operator==(const LimitSpec&, const LimitSpec&) = default;
};

}  // namespace gatelab::core::ratelimit
