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

/// Appends the fields for `d`, made by the policy described by `spec`, to `out`.
void appendRateLimitHeaders(const PolicyDecision& d, const RateLimitPolicySpec& spec, std::vector<HeaderField>& out);

/// Whole seconds, rounded up (0 stays 0).
std::int64_t ceilSeconds(Duration d) noexcept;

}  // namespace gatelab::core::ratelimit
