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

#include <string>
#include <string_view>
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

/// Gives the fields for `d`, made by the policy described by `spec`, to `sink` one by one, values
/// formatted in `scratch` or on the stack (valid during the call only): no allocation once
/// `scratch` has grown. A host that writes them as it gets them copies nothing twice.
void visitRateLimitHeaders(const PolicyDecision& d, const RateLimitPolicySpec& spec, std::string& scratch,
                           HeaderSink& sink);

/// Appends the fields for `d`, made by the policy described by `spec`, to `out` (the same fields
/// as visitRateLimitHeaders, in the same order).
void appendRateLimitHeaders(const PolicyDecision& d, const RateLimitPolicySpec& spec, std::vector<HeaderField>& out);

/// Whole seconds, rounded up (0 stays 0).
std::int64_t ceilSeconds(Duration d) noexcept;

}  // namespace gatelab::core::ratelimit
