#pragma once
// RequestView: what the policy core sees of a request. Non-owning: the proxy builds it over a
// Beast request, the simulator over a trace record; both keep the bytes alive for the call.

#include <optional>
#include <span>
#include <string_view>

namespace gatelab::core {

struct Header {
  std::string_view name;
  std::string_view value;
};

/// ASCII case-insensitive equality (HTTP field names, methods in lenient places, hosts).
bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept;

struct RequestView {
  std::string_view method;         ///< as received, e.g. "GET" (methods are case-sensitive, RFC 9110 9.1)
  std::string_view path;           ///< raw request-target path, without the query; not yet normalized
  std::string_view query;          ///< raw query string without '?', may be empty
  std::string_view host;           ///< Host / :authority, possibly with ":port"
  std::span<const Header> headers; ///< request header fields in arrival order
  std::string_view clientAddress;  ///< peer IP address as text ("203.0.113.7", "2001:db8::1")
  std::string_view consumer;       ///< authenticated consumer id; empty when not authenticated
  std::span<const Header> claims;  ///< verified JWT claims as (name, value) text; empty if none

  /// First header named `name` (case-insensitive), if any. O(number of headers).
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
  /// Verified claim `name` (case-sensitive, as JWT claim names are), if any.
  [[nodiscard]] std::optional<std::string_view> claim(std::string_view name) const noexcept;
};

}  // namespace gatelab::core
