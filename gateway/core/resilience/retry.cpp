#include "gateway/core/resilience/retry.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "gateway/core/int128.hpp"
#include "gateway/core/resilience/time_math.hpp"

namespace gatelab::core::resilience {

namespace {

constexpr std::uint32_t kMaxRetries = 100;
constexpr Duration kMaxBackoff = std::chrono::hours{1};

// Maps a uniform 64-bit draw onto [0, bound): the high half of draw x bound.
constexpr std::uint64_t uniformBelow(std::uint64_t draw, std::uint64_t bound) noexcept {
  return static_cast<std::uint64_t>((static_cast<U128>(draw) * bound) >> 64);
}

}  // namespace

Duration backoffRange(const Backoff& b, std::uint32_t retry) noexcept {
  if (b.base <= Duration{0} || retry == 0) return Duration{0};
  if (retry >= 63) return Duration::max();
  const std::uint64_t multiplier = (std::uint64_t{1} << retry) - 1;
  return mulSaturating(b.base, multiplier);
}

Duration backoffDelay(const Backoff& b, std::uint32_t retry, std::uint64_t draw) noexcept {
  const Duration range = backoffRange(b, retry);
  if (range <= Duration{0}) return Duration{0};
  const auto drawn = static_cast<std::int64_t>(uniformBelow(draw, static_cast<std::uint64_t>(range.count())));
  return std::min(Duration{drawn}, b.max);
}

std::optional<std::string> validateRetryConfig(const RetryConfig& c) {
  if (c.maxRetries > kMaxRetries) return "retries.attempts: at most 100 retries";
  if (c.backoff.base < Duration{0}) return "retries.backoff.base: must not be negative";
  if (c.backoff.base > Duration{0} && (c.backoff.max < c.backoff.base || c.backoff.max > kMaxBackoff))
    return "retries.backoff.max: must be at least backoff.base and at most 1h";
  if (c.maxRetryAfter < Duration{0}) return "retries.max_retry_after: must not be negative";
  return std::nullopt;
}

std::optional<std::string> validateRetryBudgetConfig(const RetryBudgetConfig& c) {
  if (c.percent.milli > Percent::kHundred) return "retries.budget.percent: must be at most 100%";
  return std::nullopt;
}

bool isIdempotentMethod(std::string_view m) noexcept {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
}

RetryPolicy::RetryPolicy(RetryConfig config) : config_(std::move(config)) {}

bool RetryPolicy::retryable(const CallOutcome& o) const noexcept {
  const RetryOn& on = config_.on;
  switch (o.kind) {
    case OutcomeKind::kConnectFailure: return on.connectFailure;
    case OutcomeKind::kTimeout: return on.timeout;
    case OutcomeKind::kReset: return on.reset;
    case OutcomeKind::kResponse:
      return (on.gatewayErrors && (o.status == 502 || o.status == 503 || o.status == 504)) ||
             (on.serverErrors && o.status >= 500 && o.status <= 599) || on.statuses.contains(o.status);
  }
  return false;
}

RetryDecision RetryPolicy::decide(const RetryQuery& q, RetryBudget* budget) const noexcept {
  RetryDecision d;
  auto giveUp = [&](GiveUpReason r) {
    d = RetryDecision{};
    d.reason = r;
    return d;
  };
  if (!retryable(q.outcome)) return giveUp(GiveUpReason::kNotRetryable);
  // A connect failure means the request never left the gateway, so it is safe for any method.
  if (!config_.retryNonIdempotent && q.outcome.kind != OutcomeKind::kConnectFailure &&
      !isIdempotentMethod(q.method))
    return giveUp(GiveUpReason::kNonIdempotent);
  if (q.retriesDone >= config_.maxRetries) return giveUp(GiveUpReason::kAttemptsExhausted);

  d.retryNumber = q.retriesDone + 1;
  const bool throttled = q.outcome.kind == OutcomeKind::kResponse &&
                         (q.outcome.status == 429 || q.outcome.status == 503);
  if (config_.honorRetryAfter && throttled && q.outcome.retryAfter && *q.outcome.retryAfter >= Duration{0}) {
    d.delay = std::min(*q.outcome.retryAfter, config_.maxRetryAfter);
    d.fromRetryAfter = true;
  } else {
    d.delay = backoffDelay(config_.backoff, d.retryNumber, q.draw);
  }
  if (q.deadline != kNoDeadline && addSaturating(q.now, d.delay) >= q.deadline)
    return giveUp(GiveUpReason::kDeadlineExceeded);
  if (budget != nullptr) {
    if (!budget->tryStartRetry()) return giveUp(GiveUpReason::kBudgetExceeded);
    d.budgetHeld = true;
  }
  d.verdict = d.delay > Duration{0} ? RetryVerdict::kRetryAfter : RetryVerdict::kRetryNow;
  return d;
}

std::uint64_t RetryBudget::limit() const noexcept {
  return std::max<std::uint64_t>(config_.minConcurrency, config_.percent.floorOf(activeRequests_));
}

bool RetryBudget::tryStartRetry() noexcept {
  if (activeRetries_ >= limit()) {
    ++stats_.denied;
    return false;
  }
  ++activeRetries_;
  ++stats_.allowed;
  return true;
}

}  // namespace gatelab::core::resilience
