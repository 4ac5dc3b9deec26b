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

std::optional<Hash128> RateLimitPolicy::keyOf(const RequestView& req, const KeyContext& ctx,
                                              std::string& scratch) const {
  if (!buildKey(spec_.key, spec_.onMissingKey, req, ctx, scratch)) return std::nullopt;
  return hash128(scratch);
}

PolicyDecision RateLimitPolicy::evaluate(const RequestView& req, const KeyContext& ctx, TimePoint now,
                                         std::string& scratch) {
  const std::optional<Hash128> key = keyOf(req, ctx, scratch);
  return key ? evaluateKey(*key, now) : PolicyDecision{};
}

namespace {
// a/b < c/d for quotas, without division; a limit of 0 never happens (validated).
bool lessRemainingShare(const Decision& a, const Decision& b) noexcept {
  const U128 lhs = static_cast<U128>(a.remaining) * b.limit;
  const U128 rhs = static_cast<U128>(b.remaining) * a.limit;
  return lhs < rhs;
}

// combineDecisions' rule, applied to the first n (1..kMaxLimitsPerPolicy) entries of out.limits,
// which hold the evaluated limits; out.key is set by the caller.
void combineInPlace(const RateLimitPolicySpec& spec, std::size_t n, PolicyDecision& out) noexcept {
  out.applied = true;
  out.limitCount = static_cast<std::uint8_t>(n);
  if (n == 0) return;
  if (out.limits[n - 1].verdict == Verdict::kReject) {
    out.binding = static_cast<std::uint8_t>(n - 1);
    out.wouldBe = Verdict::kReject;
    out.status = spec.rejectStatus;
    out.verdict = spec.shadow ? Verdict::kAllow : Verdict::kReject;
    return;
  }
  Duration delay{0};
  for (std::size_t i = 0; i < n; ++i) {
    delay = std::max(delay, out.limits[i].delay);
    if (i > 0 && lessRemainingShare(out.limits[i], out.limits[out.binding])) out.binding = static_cast<std::uint8_t>(i);
  }
  out.delay = delay;
  out.wouldBe = delay.count() > 0 ? Verdict::kDelay : Verdict::kAllow;
  out.verdict = spec.shadow ? Verdict::kAllow : out.wouldBe;
}
}  // namespace

bool RateLimitPolicy::adoptStateFrom(RateLimitPolicy& old) {
  const RateLimitPolicySpec& a = spec_;
  const RateLimitPolicySpec& b = old.spec_;
  if (&old == this || a.name != b.name || !(a.key == b.key) || a.onMissingKey != b.onMissingKey || !(a.limits == b.limits) ||
      a.cost != b.cost || a.maxKeys != b.maxKeys || a.store != b.store || limiters_.size() != old.limiters_.size())
    return false;
  for (std::size_t i = 0; i < limiters_.size(); ++i) {
    if (!limiters_[i]->adoptState(*old.limiters_[i])) return false;  // equal specs: cannot happen
  }
  return true;
}

PolicyDecision RateLimitPolicy::evaluateKey(const Hash128& key, TimePoint now) {
  const std::size_t n = limiters_.size();
  const std::uint64_t cost = spec_.cost;
  // The limits' decisions go straight into the returned value (one initialisation of its eight
  // slots, no intermediate array to copy from): this runs for every request of every policy.
  PolicyDecision out;
  out.key = key;

  if (n > 1) {
    // Check all limits first; charge none if one rejects (except that one's own penalty).
    for (std::size_t i = 0; i < n; ++i) {
      if (limiters_[i]->peek(key, now, cost).verdict == Verdict::kReject) {
        out.limits[i] = limiters_[i]->acquire(key, now, cost);
        combineInPlace(spec_, i + 1, out);
        return out;
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    out.limits[i] = limiters_[i]->acquire(key, now, cost);
    if (out.limits[i].verdict == Verdict::kReject) {  // only reachable with one limit
      combineInPlace(spec_, i + 1, out);
      return out;
    }
  }
  combineInPlace(spec_, n, out);
  return out;
}

PolicyDecision combineDecisions(const RateLimitPolicySpec& spec, const Hash128& key,
                                std::span<const Decision> evaluated) noexcept {
  PolicyDecision out;
  out.key = key;
  const std::size_t n = std::min(evaluated.size(), kMaxLimitsPerPolicy);
  std::copy_n(evaluated.begin(), n, out.limits.begin());
  combineInPlace(spec, n, out);
  return out;
}

}  // namespace gatelab::core::ratelimit
