#pragma once
// Retries: whether and when to try a failed upstream call again.
//
//   RetryPolicy   per route/service configuration: how many retries, on which outcomes, with
//                 which back-off; decide() turns "this try ended like this" into a RetryDecision
//                 value: retry now / retry after D / give up with a reason.
//   RetryBudget   per service, shared by all its requests: caps concurrent retries at a share of
//                 concurrent requests (Envoy's retry_budget), so retries cannot multiply load in
//                 an outage.
//   backoffDelay  Envoy's fully jittered exponential back-off: the n-th retry waits a uniform
//                 draw from [0, (2^n - 1) x base), and never more than `max`.
//
// Randomness: only the caller's 64-bit `draw` (the simulator's seeded RNG, a per-thread
// generator in the proxy); the same draw gives the same delay.
// Semantics and the gateway equivalents: docs/resilience.md.
// Thread safety: RetryPolicy is immutable; RetryBudget is not thread-safe (one per service per
// event loop, or a mutex in the host). Complexity: O(1) everywhere.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/resilience/percent.hpp"
#include "gateway/core/resilience/timeouts.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::resilience {

/// Exponential back-off with full jitter. base == 0 disables back-off (retry at once, as nginx's
/// proxy_next_upstream does).
struct Backoff {
  Duration base{std::chrono::milliseconds{25}};  ///< Envoy's default base_interval
  Duration max{std::chrono::milliseconds{250}};  ///< Envoy's default: 10 x base
  friend bool operator==(const Backoff&, const Backoff&) = default;
};

/// (2^retry - 1) x base, saturating: the exclusive upper bound of retry `retry`'s draw.
/// retry is 1-based (the first retry is 1). O(1).
[[nodiscard]] Duration backoffRange(const Backoff& b, std::uint32_t retry) noexcept;

/// min(uniform draw from [0, backoffRange(b, retry)), b.max), where `draw` is a uniformly
/// distributed 64-bit value mapped onto the range by a 64x64->128-bit multiply (exact, no
/// modulo bias to speak of). Integer nanoseconds. retry >= 1. O(1).
[[nodiscard]] Duration backoffDelay(const Backoff& b, std::uint32_t retry, std::uint64_t draw) noexcept;

/// Which outcomes are retried (Envoy's retry_on, nginx's proxy_next_upstream).
struct RetryOn {
  bool connectFailure = true;  ///< connect-failure
  bool gatewayErrors = true;   ///< gateway-error: 502, 503, 504
  bool serverErrors = false;   ///< 5xx: any 5xx response
  bool timeout = false;        ///< the per-try timeout fired
  bool reset = false;          ///< the connection broke after the request was sent
  StatusSet statuses;          ///< retriable-status-codes, e.g. {429, 409}
  friend bool operator==(const RetryOn&, const RetryOn&) = default;
};

struct RetryConfig {
  std::uint32_t maxRetries = 1;    ///< retries after the first try (Envoy num_retries, default 1)
  RetryOn on;
  bool retryNonIdempotent = false; ///< retry POST/PATCH/... even when the request may have been
                                   ///< sent (a connect failure is always safe to retry)
  Backoff backoff;
  bool honorRetryAfter = true;     ///< a 429/503 with Retry-After waits that long instead
  Duration maxRetryAfter{std::chrono::seconds{300}};  ///< longer Retry-After values are capped
};

/// Why `c` cannot be used (naming the proposed YAML field), or nullopt.
std::optional<std::string> validateRetryConfig(const RetryConfig& c);

/// RFC 9110 section 9.2.2 idempotent methods: GET, HEAD, OPTIONS, TRACE, PUT, DELETE
/// (case-sensitive, as methods are). O(1).
[[nodiscard]] bool isIdempotentMethod(std::string_view method) noexcept;

enum class RetryVerdict : std::uint8_t {
  kRetryNow,    ///< start the next try at once
  kRetryAfter,  ///< start the next try after `delay`
  kGiveUp,      ///< return this try's outcome to the client
};

enum class GiveUpReason : std::uint8_t {
  kNone,               ///< not giving up
  kNotRetryable,       ///< the outcome is not in retry_on (a success, a 404...)
  kNonIdempotent,      ///< retryable outcome, but the method is not idempotent and the request may
                       ///< have reached the upstream
  kAttemptsExhausted,  ///< maxRetries retries already made
  kDeadlineExceeded,   ///< the retry could not start before the overall deadline
  kBudgetExceeded,     ///< the service's retry budget is spent
};

const char* toString(RetryVerdict v) noexcept;
const char* toString(GiveUpReason r) noexcept;

struct RetryDecision {
  RetryVerdict verdict = RetryVerdict::kGiveUp;
  GiveUpReason reason = GiveUpReason::kNone;
  Duration delay{0};            ///< kRetryAfter: wait before the next try (> 0)
  std::uint32_t retryNumber = 0;  ///< retrying: the retry about to be made (1-based)
  bool fromRetryAfter = false;  ///< the delay is the upstream's (capped) Retry-After
  bool budgetHeld = false;      ///< a RetryBudget slot was taken: call onRetryEnd() when the retry
                                ///< try finishes (or is abandoned)

  [[nodiscard]] bool retry() const noexcept { return verdict != RetryVerdict::kGiveUp; }
};

/// The question asked after each finished try.
struct RetryQuery {
  CallOutcome outcome;             ///< how the try ended
  std::uint32_t retriesDone = 0;   ///< retries already made (0 after the first try)
  std::string_view method;         ///< request method, for the idempotency rule
  TimePoint now;                   ///< when the try ended
  TimePoint deadline = kNoDeadline;  ///< the request's overall deadline (overallDeadline())
  std::uint64_t draw = 0;          ///< uniform 64-bit value for the back-off jitter
};

class RetryBudget;

class RetryPolicy {
 public:
  /// Precondition: validateRetryConfig(config) == nullopt.
  explicit RetryPolicy(RetryConfig config);

  /// Checks, in order: retryable outcome, idempotency, attempts left, delay (Retry-After or
  /// back-off), overall deadline (now + delay must be before it), and last the budget, which is
  /// charged only when every other check passed. `budget` may be null (no budget). O(1).
  [[nodiscard]] RetryDecision decide(const RetryQuery& q, RetryBudget* budget) const noexcept;

  /// Is this outcome one the policy retries (ignoring attempts, deadline and budget)?
  [[nodiscard]] bool retryable(const CallOutcome& o) const noexcept;

  [[nodiscard]] const RetryConfig& config() const noexcept { return config_; }

 private:
  RetryConfig config_;
};

/// Envoy's retry_budget: at most max(minConcurrency, floor(percent x active requests)) retries in
/// flight. Defaults are Envoy's (20%, 3).
struct RetryBudgetConfig {
  Percent percent = Percent::of(20);
  std::uint32_t minConcurrency = 3;
};

std::optional<std::string> validateRetryBudgetConfig(const RetryBudgetConfig& c);

struct RetryBudgetStats {
  std::uint64_t allowed = 0;  ///< retries admitted
  std::uint64_t denied = 0;   ///< retries refused (GiveUpReason::kBudgetExceeded)
};

class RetryBudget {
 public:
  explicit RetryBudget(RetryBudgetConfig config) noexcept : config_(config) {}

  /// A client request to the service started / finished (from its first try until the final
  /// answer, retries and back-off included).
  void onRequestStart() noexcept { ++activeRequests_; }
  void onRequestEnd() noexcept {
    if (activeRequests_ > 0) --activeRequests_;
  }
  /// Takes a retry slot if activeRetries < limit(); RetryPolicy::decide calls it.
  [[nodiscard]] bool tryStartRetry() noexcept;
  /// A retry that held a slot finished (whatever its outcome) or was abandoned.
  void onRetryEnd() noexcept {
    if (activeRetries_ > 0) --activeRetries_;
  }

  /// max(minConcurrency, floor(percent x activeRequests)).
  [[nodiscard]] std::uint64_t limit() const noexcept;
  [[nodiscard]] std::uint64_t activeRequests() const noexcept { return activeRequests_; }
  [[nodiscard]] std::uint64_t activeRetries() const noexcept { return activeRetries_; }
  [[nodiscard]] const RetryBudgetStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const RetryBudgetConfig& config() const noexcept { return config_; }

 private:
  RetryBudgetConfig config_;
  std::uint64_t activeRequests_ = 0;
  std::uint64_t activeRetries_ = 0;
  RetryBudgetStats stats_;
};

}  // namespace gatelab::core::resilience
