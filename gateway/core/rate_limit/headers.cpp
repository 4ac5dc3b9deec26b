#include "gateway/core/rate_limit/headers.hpp"

namespace gatelab::core::ratelimit {

std::int64_t ceilSeconds(Duration d) noexcept {
  const std::int64_t ns = d.count();
  if (ns <= 0) return 0;
  return (ns + 999'999'999) / 1'000'000'000;
}

namespace {

// Appends the policy's name as a structured-field string ("name", or "name.i" for one of several
// limits), escaped.
void appendSfString(std::string& out, const std::string& name, std::size_t index, std::size_t count) {
  out.push_back('"');
  for (char c : name) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c >= 0x20 && c < 0x7f) out.push_back(c);
  }
  if (count > 1) out.append(".").append(std::to_string(index));
  out.push_back('"');
}

}  // namespace

void appendRateLimitHeaders(const PolicyDecision& d, const RateLimitPolicySpec& spec, std::vector<HeaderField>& out) {
  if (!d.applied || spec.shadow || d.limitCount == 0) return;
  const Decision& b = d.bindingDecision();
  const bool legacy = spec.headers == HeaderStyle::kLegacy || spec.headers == HeaderStyle::kBoth;
  const bool ietf = spec.headers == HeaderStyle::kIetf || spec.headers == HeaderStyle::kBoth;
  if (legacy) {
    out.push_back({"X-RateLimit-Limit", std::to_string(b.limit)});
    out.push_back({"X-RateLimit-Remaining", std::to_string(b.remaining)});
    out.push_back({"X-RateLimit-Reset", std::to_string(ceilSeconds(b.reset))});
  }
  if (ietf) {
    std::string policy;
    policy.reserve((spec.name.size() + 48) * d.limitCount);
    for (std::size_t i = 0; i < d.limitCount; ++i) {
      if (!policy.empty()) policy += ", ";
      appendSfString(policy, spec.name, i, spec.limits.size());
      policy.append(";q=").append(std::to_string(d.limits[i].limit));
      policy.append(";w=").append(std::to_string(ceilSeconds(d.limits[i].window)));
    }
    out.push_back({"RateLimit-Policy", std::move(policy)});
    std::string current;
    current.reserve(spec.name.size() + 48);
    appendSfString(current, spec.name, d.binding, spec.limits.size());
    current.append(";r=").append(std::to_string(b.remaining));
    current.append(";t=").append(std::to_string(ceilSeconds(b.reset)));
    out.push_back({"RateLimit", std::move(current)});
  }
  if (d.verdict == Verdict::kReject) {
    const std::int64_t s = ceilSeconds(b.retryAfter);
    out.push_back({"Retry-After", std::to_string(s < 1 ? 1 : s)});
  }
}

}  // namespace gatelab::core::ratelimit
