#pragma once
// Where a request carries its bearer token, and finding it there.
//
// Sources are tried in the configured order; the first one that holds a token wins (later
// sources are not looked at, so a request with a token in two places is judged by the first).
// - kHeader (default: Authorization): a field "Bearer <token>" (RFC 6750 §2.1). The scheme is
//   case-insensitive (RFC 9110 §11.1), one or more spaces follow it. A field with another scheme
//   ("Basic ...") is not a token: the search goes on. With several fields of that name, the
//   first Bearer one counts.
// - kCookie: the cookie of that name (case-sensitive) in any Cookie field; a value in double
//   quotes is unquoted.
// - kQuery: the query parameter of that name (RFC 6750 §2.3); the value is percent-decoded
//   (an invalid escape leaves the value as it is, and the verifier then calls it malformed).
// The token text is not checked here: an empty "Bearer " still counts as found, and the
// verifier reports it as malformed.
//
// Thread safety: free functions without state. Complexity: O(size of the inspected fields).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gateway/core/request.hpp"

namespace gatelab::core::auth {

enum class TokenSourceKind : std::uint8_t { kHeader, kCookie, kQuery };

/// "header", "cookie", "query".
const char* toString(TokenSourceKind k) noexcept;

struct TokenSource {
  TokenSourceKind kind = TokenSourceKind::kHeader;
  std::string name = "Authorization";  ///< field, cookie or parameter name
  friend bool operator==(const TokenSource&, const TokenSource&) = default;
};

/// The default: the Authorization field only.
std::vector<TokenSource> defaultTokenSources();

/// nullopt when `sources` is usable (not empty, every name non-empty and a valid token for its
/// kind), else what is wrong.
std::optional<std::string> validateTokenSources(std::span<const TokenSource> sources);

struct FoundToken {
  std::string token;       ///< the token text (decoded for kQuery)
  TokenSourceKind from = TokenSourceKind::kHeader;
  std::size_t sourceIndex = 0;  ///< position of the source in the list
};

/// The token of the first source in `sources` that holds one; nullopt when none does (the host
/// answers 401 with bearerChallenge(jwtFailure(JwtReason::kMissingToken))).
std::optional<FoundToken> findToken(const RequestView& request, std::span<const TokenSource> sources);

/// The token of an Authorization-style field value: "Bearer <token>" with any case of
/// "Bearer"; nullopt for another scheme.
std::optional<std::string_view> bearerToken(std::string_view fieldValue) noexcept;

}  // namespace gatelab::core::auth
