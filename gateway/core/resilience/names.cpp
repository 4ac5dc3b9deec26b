// Display names of the resilience enumerations (events, logs, reports). The LbAlgorithm and
// WindowKind names are also the spellings proposed for the YAML config.

#include "gateway/core/resilience/circuit_breaker.hpp"
#include "gateway/core/resilience/load_balancer.hpp"
#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/resilience/outlier_detection.hpp"
#include "gateway/core/resilience/retry.hpp"
#include "gateway/core/resilience/states.hpp"

namespace gatelab::core::resilience {

const char* toString(OutcomeKind k) noexcept {
  switch (k) {
    case OutcomeKind::kResponse: return "response";
    case OutcomeKind::kConnectFailure: return "connect-failure";
    case OutcomeKind::kTimeout: return "timeout";
    case OutcomeKind::kReset: return "reset";
  }
  return "?";
}

const char* toString(BreakerState s) noexcept {
  switch (s) {
    case BreakerState::kClosed: return "closed";
    case BreakerState::kOpen: return "open";
    case BreakerState::kHalfOpen: return "half-open";
    case BreakerState::kForcedOpen: return "forced-open";
    case BreakerState::kDisabled: return "disabled";
  }
  return "?";
}

const char* toString(EjectionCause c) noexcept {
  switch (c) {
    case EjectionCause::kConsecutive5xx: return "consecutive-5xx";
    case EjectionCause::kConsecutiveGatewayFailure: return "consecutive-gateway-failure";
  }
  return "?";
}

const char* toString(WindowKind k) noexcept {
  switch (k) {
    case WindowKind::kCount: return "count";
    case WindowKind::kTime: return "time";
  }
  return "?";
}

const char* toString(PermitKind k) noexcept {
  switch (k) {
    case PermitKind::kNone: return "none";
    case PermitKind::kTracked: return "tracked";
    case PermitKind::kProbe: return "probe";
    case PermitKind::kUntracked: return "untracked";
  }
  return "?";
}

const char* toString(BreakerVerdict v) noexcept {
  switch (v) {
    case BreakerVerdict::kAdmit: return "admit";
    case BreakerVerdict::kFailFast: return "fail-fast";
  }
  return "?";
}

const char* toString(RetryVerdict v) noexcept {
  switch (v) {
    case RetryVerdict::kRetryNow: return "retry-now";
    case RetryVerdict::kRetryAfter: return "retry-after";
    case RetryVerdict::kGiveUp: return "give-up";
  }
  return "?";
}

const char* toString(GiveUpReason r) noexcept {
  switch (r) {
    case GiveUpReason::kNone: return "none";
    case GiveUpReason::kNotRetryable: return "not-retryable";
    case GiveUpReason::kNonIdempotent: return "non-idempotent";
    case GiveUpReason::kAttemptsExhausted: return "attempts-exhausted";
    case GiveUpReason::kDeadlineExceeded: return "deadline-exceeded";
    case GiveUpReason::kBudgetExceeded: return "budget-exceeded";
  }
  return "?";
}

const char* toString(OutlierAction a) noexcept {
  switch (a) {
    case OutlierAction::kNone: return "none";
    case OutlierAction::kEjected: return "ejected";
    case OutlierAction::kSkipped: return "skipped";
  }
  return "?";
}

const char* toString(LbAlgorithm a) noexcept {
  switch (a) {
    case LbAlgorithm::kRoundRobin: return "round_robin";
    case LbAlgorithm::kWeightedRoundRobin: return "weighted";
    case LbAlgorithm::kWeightedRandom: return "weighted_random";
    case LbAlgorithm::kLeastRequest: return "least_request";
    case LbAlgorithm::kConsistentHash: return "consistent_hash";
  }
  return "?";
}

}  // namespace gatelab::core::resilience
