#include "gateway/core/rate_limit/headers.hpp"

#include <array>

#include "gateway/core/decimal.hpp"

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
  bool plain = true;  // the usual name: nothing to escape or drop, appended whole
  for (const char c : name) plain = plain && c != '"' && c != '\\' && c >= 0x20 && c < 0x7f;
  if (plain) {
    out += name;
  } else {
    for (const char c : name) {
      if (c == '"' || c == '\\') out.push_back('\\');
      if (c >= 0x20 && c < 0x7f) out.push_back(c);
    }
  }
  if (count > 1) {
    out.push_back('.');
    appendDecimal(out, index);
  }
  out.push_back('"');
}

}  // namespace

void visitRateLimitHeaders(const PolicyDecision& d, const RateLimitPolicySpec& spec, HeaderScratch& scratch,
                           HeaderSink& sink) {
  if (!d.applied || spec.shadow || d.limitCount == 0) return;
  const Decision& b = d.bindingDecision();
  const bool legacy = spec.headers == HeaderStyle::kLegacy || spec.headers == HeaderStyle::kBoth;
  const bool ietf = spec.headers == HeaderStyle::kIetf || spec.headers == HeaderStyle::kBoth;
  std::array<char, kMaxDecimalDigits> digits;
  auto number = [&digits](auto n) { return toDecimal(digits, n); };
  if (legacy) {
    sink.field("X-RateLimit-Limit", number(b.limit));
    sink.field("X-RateLimit-Remaining", number(b.remaining));
    sink.field("X-RateLimit-Reset", number(ceilSeconds(b.reset)));
  }
  if (ietf) {
    // RateLimit-Policy depends on the policy and the limits' quotas and windows alone, the binding
    // limit's name on the policy and the binding index: each made again only when what it was
    // made from differs from the last call's.
    if (scratch.specLimits_ != spec.limits.size() || scratch.specName_ != spec.name) {
      scratch.specName_ = spec.name;
      scratch.specLimits_ = spec.limits.size();
      scratch.policyValue_.clear();
      scratch.bindingValue_.clear();
    }
    std::array<std::pair<std::uint64_t, std::int64_t>, kMaxLimitsPerPolicy> terms;
    bool samePolicy = !scratch.policyValue_.empty() && scratch.policyLimits_ == d.limitCount;
    for (std::size_t i = 0; i < d.limitCount; ++i) {
      terms[i] = {d.limits[i].limit, ceilSeconds(d.limits[i].window)};
      samePolicy = samePolicy && scratch.policyTerms_[i] == terms[i];
    }
    if (!samePolicy) {
      std::string& v = scratch.policyValue_;
      v.clear();
      for (std::size_t i = 0; i < d.limitCount; ++i) {
        if (!v.empty()) v += ", ";
        appendSfString(v, spec.name, i, spec.limits.size());
        v += ";q=";
        appendDecimal(v, terms[i].first);
        v += ";w=";
        appendDecimal(v, terms[i].second);
        scratch.policyTerms_[i] = terms[i];
      }
      scratch.policyLimits_ = d.limitCount;
    }
    sink.field("RateLimit-Policy", scratch.policyValue_);
    if (scratch.bindingValue_.empty() || scratch.bindingIndex_ != d.binding) {
      scratch.bindingValue_.clear();
      appendSfString(scratch.bindingValue_, spec.name, d.binding, spec.limits.size());
      scratch.bindingIndex_ = d.binding;
    }
    std::string& v = scratch.text_;
    v.assign(scratch.bindingValue_);
    v += ";r=";
    appendDecimal(v, b.remaining);
    v += ";t=";
    appendDecimal(v, ceilSeconds(b.reset));
    sink.field("RateLimit", v);
  }
  if (d.verdict == Verdict::kReject) {
    const std::int64_t s = ceilSeconds(b.retryAfter);
    sink.field("Retry-After", number(s < 1 ? 1 : s));
  }
}

void appendRateLimitHeaders(const PolicyDecision& d, const RateLimitPolicySpec& spec, std::vector<HeaderField>& out) {
  struct ToList final : HeaderSink {
    std::vector<HeaderField>& list;
    explicit ToList(std::vector<HeaderField>& l) : list(l) {}
    void field(std::string_view name, std::string_view value) override {
      list.push_back(HeaderField{name, std::string(value)});
    }
  } sink(out);
  HeaderScratch scratch;
  visitRateLimitHeaders(d, spec, scratch, sink);
}

}  // namespace gatelab::core::ratelimit
