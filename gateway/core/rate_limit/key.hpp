#pragma once
// Rate-limit keys: which bucket a request is charged to.

#include <span>
#include <string>
#include <string_view>

#include "gateway/core/rate_limit/policy_spec.hpp"
#include "gateway/core/request.hpp"

namespace gatelab::core::ratelimit {

/// What the router knows about the request that the key may use.
struct KeyContext {
  std::string_view route;
  std::string_view service;
};

/// Writes the key of `req` into `out` (cleared first) as an unambiguous byte string: each
/// component is a tag byte, a 4-byte length and the value, so ("a", "bc") and ("ab", "c") differ.
/// An empty header, claim, consumer or client address counts as missing. Returns false when a
/// component is missing and `onMissing` is kSkip (the policy does not apply).
/// No allocation once `out` has grown to the key size. O(key length + headers scanned).
bool buildKey(std::span<const KeyComponent> components, MissingKey onMissing, const RequestView& req,
              const KeyContext& ctx, std::string& out);

}  // namespace gatelab::core::ratelimit
