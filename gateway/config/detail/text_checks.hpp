#pragma once
// INTERNAL to gateway/config: checks on the text of names, HTTP tokens, paths and host patterns.
// Each returns an empty string when the text is fine, otherwise the reason (one line).

#include <string>
#include <string_view>

namespace gatelab::config::detail {

inline constexpr std::size_t kMaxNameLength = 128;
inline constexpr std::string_view kNameAllowed = "1-128 characters from A-Z a-z 0-9 _ . -";
inline constexpr std::string_view kPathAllowed =
    "an absolute, normalized path: starts with '/', no '//', no '.' or '..' segments, no "
    "percent-encoded unreserved characters (such as %2e), no query or fragment; e.g. /api/v1/users";
inline constexpr std::string_view kTokenAllowed =
    "an HTTP token: letters, digits and !#$%&'*+-.^_`|~ (RFC 9110 section 5.6.2)";
inline constexpr std::string_view kHostPatternAllowed =
    "a host name such as api.example.com, *.example.com (a wildcard only as the whole leftmost label), or an IP "
    "address";

/// Service, route and policy names: [A-Za-z0-9_.-]{1,128}.
[[nodiscard]] std::string checkName(std::string_view name);
/// RFC 9110 token (methods, header field names).
[[nodiscard]] bool isToken(std::string_view s) noexcept;
/// Route paths: absolute and already normalized, so they compare equal to normalized requests.
[[nodiscard]] std::string checkNormalizedPath(std::string_view path);
/// Route hosts: a host name, "*." followed by a host name, or an IPv6 literal (with or without
/// brackets), as the router accepts them.
[[nodiscard]] std::string checkHostPattern(std::string_view host);
/// ASCII lower-case copy.
[[nodiscard]] std::string toLowerAscii(std::string_view s);
/// ASCII upper-case copy.
[[nodiscard]] std::string toUpperAscii(std::string_view s);

}  // namespace gatelab::config::detail
