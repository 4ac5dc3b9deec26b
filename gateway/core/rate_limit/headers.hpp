#pragma once
// Response header fields for a rate-limit decision.
//
// - legacy: X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset (delta seconds, as Kong
//   and Traefik send it), for the binding limit;
// - ietf: draft-ietf-httpapi-ratelimit-headers-10 structured fields:
//     RateLimit-Policy: "<policy>";q=<quota>;w=<window s>   (one item per evaluated limit)
//     RateLimit: "<policy>";r=<remaining>;t=<reset s>       (the binding limit)
// - Retry-After: <delta seconds> on a rejection, whatever the style (RFC 9110 §10.2.3).
// Seconds are rounded up, never down, so a client that waits that long is not rejected for
// waiting too little. Shadow policies and skipped requests produce no fields: a dry run is
// invisible to clients.

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/core/rate_limit/policy.hpp"

namespace gatelab::core::ratelimit {

struct HeaderField {
  std::string_view name;  ///< a static literal ("X-RateLimit-Limit", "RateLimit"...)
  std::string value;
  friend bool operator==(const HeaderField&, const HeaderField&) = default;
};

/// Receives a decision's fields one by one (visitRateLimitHeaders).
class HeaderSink {
 public:
  virtual void field(std::string_view name, std::string_view value) = 0;

 protected:
  ~HeaderSink() = default;
};

/// Where visitRateLimitHeaders formats values; reuse one per thread or session. It also keeps the
/// last RateLimit-Policy value and binding-limit name it made, with everything they were made
/// from (compared by value on the next call, never by address), so answers for the same policy
/// format only their numbers.
class HeaderScratch {
 public:
  HeaderScratch() = default;

 private:
  friend void visitRateLimitHeaders(const PolicyDecision&, const RateLimitPolicySpec&, HeaderScratch&, HeaderSink&);
  std::string text_;
  // The policy the two values below were made for: its name and its spec's limit count.
  std::string specName_;
  std::size_t specLimits_ = 0;
  // RateLimit-Policy as last made, and from what besides the policy: the decision's limit count,
  // each limit's quota and window (whole seconds).
  std::string policyValue_;
  std::size_t policyLimits_ = 0;
  std::array<std::pair<std::uint64_t, std::int64_t>, kMaxLimitsPerPolicy> policyTerms_{};
  // The binding limit's name as a structured-field string, and which limit it names.
  std::string bindingValue_;
  std::size_t bindingIndex_ = 0;
};

/// Gives the fields for `d`, made by the policy described by `spec`, to `sink` one by one, values
/// formatted in `scratch` or on the stack (valid during the call only): no allocation once
/// `scratch` has grown. A host that writes them as it gets them copies nothing twice.
void visitRateLimitHeaders(const PolicyDecision& d, const RateLimitPolicySpec& spec, HeaderScratch& scratch,
                           HeaderSink& sink);

/// Appends the fields for `d`, made by the policy described by `spec`, to `out` (the same fields
/// as visitRateLimitHeaders, in the same order).
void appendRateLimitHeaders(const PolicyDecision& d, const RateLimitPolicySpec& spec, std::vector<HeaderField>& out);

/// Whole seconds, rounded up (0 stays 0).
std::int64_t ceilSeconds(Duration d) noexcept;

}  // namespace gatelab::core::ratelimit
