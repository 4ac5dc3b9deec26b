#pragma once
// VerifiedToken: what a JWT that passed every check says, in the form the rest of the core uses
// (RequestView::claims is a list of (name, text) pairs).
//
// Claims as text (docs/security.md, "JWT"): every top-level claim whose value is a string (the
// string itself), a number (exactly as written in the token, "1700000000" or "2.5"), true /
// false ("true" / "false"), or an array of strings (the items joined by one space, so that
// `scope`-style arrays read like the space-separated OAuth scope string; aud ["a", "b"] becomes
// "a b"). Claims that are null, objects, or arrays with a non-string item are not exposed.
// Text may hold any Unicode character, control characters included: a host copying claims into
// header fields must encode them.
//
// Thread safety: immutable once made; shared read-only between the verifier's result and the
// verified-token cache.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/auth/jwk.hpp"
#include "gateway/core/request.hpp"

namespace gatelab::core::auth {

struct Claim {
  std::string name;
  std::string value;
  friend bool operator==(const Claim&, const Claim&) = default;
};

struct VerifiedToken {
  Algorithm algorithm = Algorithm::kHs256;  ///< from the header; the key's algorithm
  std::string kid;                          ///< the verifying key's kid ("" if it has none)
  /// NumericDates as whole seconds since the epoch of the `now` timeline (the proxy's reads Unix
  /// time). Fractional values are rounded towards rejection: exp down, nbf up; iat down.
  std::optional<std::int64_t> exp;
  std::optional<std::int64_t> nbf;
  std::optional<std::int64_t> iat;
  std::vector<Claim> claims;  ///< exposed claims, in token order

  /// The text of claim `name` (case-sensitive), if exposed. O(number of claims).
  [[nodiscard]] std::optional<std::string_view> claim(std::string_view name) const noexcept {
    for (const Claim& c : claims) {
      if (c.name == name) return std::string_view(c.value);
    }
    return std::nullopt;
  }

  /// (name, value) views for RequestView::claims. They point into `claims`: valid while this
  /// object lives unchanged (hold the result's shared_ptr for the request). O(number of claims).
  [[nodiscard]] std::vector<Header> claimViews() const {
    std::vector<Header> out;
    out.reserve(claims.size());
    for (const Claim& c : claims) out.push_back(Header{c.name, c.value});
    return out;
  }
};

}  // namespace gatelab::core::auth
