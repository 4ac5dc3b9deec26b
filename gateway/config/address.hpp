#pragma once
// Network addresses in configs: listen addresses ("127.0.0.1:8080", "[::1]:8080") and upstream
// target URLs ("http://10.0.0.5:3000"). Parsing is pure and thread-safe; errors are values.

#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/config/units.hpp"

namespace gatelab::config {

/// A validated "host:port". `host` is a DNS name, an IPv4 address or an IPv6 address (stored
/// without brackets; it then contains ':').
struct HostPort {
  std::string host;
  std::uint16_t port = 0;

  /// "127.0.0.1:8080", "[::1]:8080".
  [[nodiscard]] std::string toString() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

/// A validated upstream URL: scheme, host and port only (no path, query or userinfo).
struct TargetUrl {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< as HostPort::host
  std::uint16_t port = 0;  ///< explicit, or the scheme's default (80, 443); never 0

  /// Canonical text: "http://10.0.0.5:3000", "https://[2001:db8::1]:443" (port always shown).
  [[nodiscard]] std::string toString() const;
  friend bool operator==(const TargetUrl&, const TargetUrl&) = default;
};

inline constexpr std::string_view kHostPortAllowed =
    "HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8080, 0.0.0.0:80, [::1]:8080";
inline constexpr std::string_view kTargetUrlAllowed =
    "http://HOST[:PORT] or https://HOST[:PORT], e.g. http://127.0.0.1:3001 (no path)";

/// Parses "host:port" (IPv6 in brackets). Port 0 is accepted ("any free port", for tests).
[[nodiscard]] UnitResult<HostPort> parseHostPort(std::string_view text);

/// Parses "http(s)://host[:port]" with an optional trailing "/". Port 1-65535, default 80/443.
[[nodiscard]] UnitResult<TargetUrl> parseTargetUrl(std::string_view text);

/// True for a DNS name (labels of letters, digits, '-' and '_', at most 63 bytes each, 253 in
/// all) or a dotted-quad IPv4 address. All-numeric names must be valid IPv4 addresses.
[[nodiscard]] bool isValidHostName(std::string_view host) noexcept;

/// True for an IPv6 literal without brackets (hex groups, "::", optional embedded IPv4).
[[nodiscard]] bool isValidIpv6(std::string_view text) noexcept;

}  // namespace gatelab::config
