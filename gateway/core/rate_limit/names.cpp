// Stable names for the rate-limit enums: used in events, metrics labels, reports and messages.
#include "gateway/core/rate_limit/decision.hpp"
#include "gateway/core/rate_limit/limit_spec.hpp"
#include "gateway/core/rate_limit/policy_spec.hpp"

namespace gatelab::core::ratelimit {

const char* toString(Verdict v) noexcept {
  switch (v) {
    case Verdict::kAllow: return "allowed";
    case Verdict::kDelay: return "delayed";
    case Verdict::kReject: return "rejected";
  }
  return "unknown";
}

const char* toString(Algorithm a) noexcept {
  switch (a) {
    case Algorithm::kTokenBucket: return "token_bucket";
    case Algorithm::kTokenBucketDiscrete: return "token_bucket_discrete";
    case Algorithm::kLeakyBucket: return "leaky_bucket";
    case Algorithm::kFixedWindow: return "fixed_window";
    case Algorithm::kSlidingWindowLog: return "sliding_window_log";
    case Algorithm::kSlidingWindowCounter: return "sliding_window_counter";
    case Algorithm::kGcra: return "gcra";
  }
  return "unknown";
}

const char* toString(KeyPart p) noexcept {
  switch (p) {
    case KeyPart::kClientIp: return "ip";
    case KeyPart::kHeader: return "header";
    case KeyPart::kConsumer: return "consumer";
    case KeyPart::kJwtClaim: return "jwt";
    case KeyPart::kRoute: return "route";
    case KeyPart::kService: return "service";
    case KeyPart::kGlobal: return "global";
  }
  return "unknown";
}

const char* toString(MissingKey m) noexcept {
  switch (m) {
    case MissingKey::kSkip: return "skip";
    case MissingKey::kShared: return "shared";
    case MissingKey::kClientIp: return "ip";
  }
  return "unknown";
}

const char* toString(StoreKind s) noexcept {
  switch (s) {
    case StoreKind::kLocal: return "local";
    case StoreKind::kRedis: return "redis";
  }
  return "unknown";
}

const char* toString(StoreFailure f) noexcept {
  switch (f) {
    case StoreFailure::kAllow: return "allow";
    case StoreFailure::kReject: return "reject";
  }
  return "unknown";
}

}  // namespace gatelab::core::ratelimit
