#include "gateway/core/rate_limit/policy.hpp"

#include <algorithm>
#include <utility>
#include "gateway/core/int128.hpp"

namespace gatelab::core::ratelimit {

std::unique_ptr<RateLimitPolicy> RateLimitPolicy::create(RateLimitPolicySpec spec, std::string& error) {
  if (spec.limits.empty() || spec.limits.size() > kMaxLimitsPerPolicy) {
    error = "a rate_limit policy needs 1 to " + std::to_string(kMaxLimitsPerPolicy) + " limits";
    return nullptr;
  }
  if (spec.key.empty()) {
    error = "a rate_limit policy needs a key";
    return nullptr;
  }
  if (spec.maxKeys == 0 || spec.maxKeys >= (std::uint64_t{1} << 31)) {
    error = "max_keys must be between 1 and 2^31 - 1";
    return nullptr;
  }
  std::vector<std::unique_ptr<Limiter>> limiters;
  for (std::size_t i = 0; i < spec.limits.size(); ++i) {
    if (auto why = validateLimitSpec(spec.limits[i], spec.cost)) {
      error = "limit " + std::to_string(i) + ": " + *why;
      return nullptr;
    }
    limiters.push_back(makeLocalLimiter(spec.limits[i], spec.maxKeys));
  }
  return std::unique_ptr<RateLimitPolicy>(new RateLimitPolicy(std::move(spec), std::move(limiters)));
}

RateLimitPolicy::RateLimitPolicy(RateLimitPolicySpec spec, std::vector<std::unique_ptr<Limiter>> limiters)
    : spec_(std::move(spec)), limiters_(std::move(limiters)) {}

PolicyDecision RateLimitPolicy::evaluate(const RequestView& req, const KeyContext& ctx, TimePoint now,
                                         std::string& scratch) {
  if (!buildKey(spec_.key, spec_.onMissingKey, req, ctx, scratch)) return PolicyDecision{};
  return evaluateKey(hash128(scratch), now);
}

namespace {
// a/b < c/d for quotas, without division; a limit of 0 never happens (validated).
bool lessRemainingShare(const Decision& a, const Decision& b) noexcept {
  const U128 lhs = static_cast<U128>(a.remaining) * b.limit;
  const U128 rhs = static_cast<U128>(b.remaining) * a.limit;
  return lhs < rhs;
}
}  // namespace

bool RateLimitPolicy::adoptStateFrom(RateLimitPolicy& old) {
  const RateLimitPolicySpec& a = spec_;
  const RateLimitPolicySpec& b = old.spec_;
  if (&old == this || a.name != b.name || !(a.key == b.key) || a.onMissingKey != b.onMissingKey || !(a.limits == b.limits) ||
      a.cost != b.cost || a.maxKeys != b.maxKeys || limiters_.size() != old.limiters_.size())
    return false;
  for (std::size_t i = 0; i < limiters_.size(); ++i) {
    if (!limiters_[i]->adoptState(*old.limiters_[i])) return false;  // equal specs: cannot happen
  }
  return true;
}

PolicyDecision RateLimitPolicy::evaluateKey(const Hash128& key, TimePoint now) {
  PolicyDecision out;
  out.applied = true;
  out.key = key;
  const std::size_t n = limiters_.size();
  out.limitCount = static_cast<std::uint8_t>(n);
  const std::uint64_t cost = spec_.cost;

  if (n > 1) {
    // Check all limits first; charge none if one rejects (except that one's own penalty).
    for (std::size_t i = 0; i < n; ++i) {
      const Decision d = limiters_[i]->peek(key, now, cost);
      if (d.verdict == Verdict::kReject) {
        out.limits[i] = limiters_[i]->acquire(key, now, cost);
        out.limitCount = static_cast<std::uint8_t>(i + 1);
        out.binding = static_cast<std::uint8_t>(i);
        out.wouldBe = Verdict::kReject;
        out.status = spec_.rejectStatus;
        out.verdict = spec_.shadow ? Verdict::kAllow : Verdict::kReject;
        return out;
      }
    }
  }
  Duration delay{0};
  for (std::size_t i = 0; i < n; ++i) {
    const Decision d = limiters_[i]->acquire(key, now, cost);
    out.limits[i] = d;
    if (d.verdict == Verdict::kReject) {  // only reachable with one limit
      out.binding = static_cast<std::uint8_t>(i);
      out.wouldBe = Verdict::kReject;
      out.status = spec_.rejectStatus;
      out.verdict = spec_.shadow ? Verdict::kAllow : Verdict::kReject;
      return out;
    }
    delay = std::max(delay, d.delay);
    if (i > 0 && lessRemainingShare(d, out.limits[out.binding])) out.binding = static_cast<std::uint8_t>(i);
  }
  out.delay = delay;
  out.wouldBe = delay.count() > 0 ? Verdict::kDelay : Verdict::kAllow;
  out.verdict = spec_.shadow ? Verdict::kAllow : out.wouldBe;
  return out;
}

}  // namespace gatelab::core::ratelimit
