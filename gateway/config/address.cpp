#include "gateway/config/address.hpp"

#include <charconv>
#include <system_error>

namespace gatelab::config {
namespace {

std::string inQuotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }
bool isHex(char c) noexcept { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool isAlpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool allDigits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isDigit(c)) return false;
  }
  return true;
}

// Port text -> number; reason on failure.
std::optional<std::uint32_t> parsePort(std::string_view text, std::string& reason) {
  if (text.empty()) {
    reason = "missing port after ':'";
    return std::nullopt;
  }
  if (!allDigits(text)) {
    reason = "port " + inQuotes(text) + " is not a number";
    return std::nullopt;
  }
  std::uint32_t port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc{} || end != text.data() + text.size() || port > 65535) {
    reason = "port " + std::string(text) + " is out of range 0-65535";
    return std::nullopt;
  }
  return port;
}

bool isValidIpv4(std::string_view s) noexcept {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = s.find('.', start);
    const std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (part.empty() || part.size() > 3 || !allDigits(part)) return false;
    int value = 0;
    for (char c : part) value = value * 10 + (c - '0');
    if (value > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

// Splits "host:port" / "[v6]:port" into host and port text. Returns false with a reason.
bool splitHostPort(std::string_view text, std::string_view& host, std::string_view& port, bool& hasPort,
                   std::string& reason) {
  hasPort = false;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      reason = "missing ']' after the IPv6 address";
      return false;
    }
    host = text.substr(1, close - 1);
    if (!isValidIpv6(host)) {
      reason = "invalid IPv6 address " + inQuotes(host);
      return false;
    }
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') {
      reason = "expected ':PORT' after ']'";
      return false;
    }
    port = rest.substr(1);
    hasPort = true;
    return true;
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    host = text;
    return true;
  }
  host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos) {
    reason = "IPv6 addresses need brackets, e.g. [::1]:8080";
    return false;
  }
  port = text.substr(colon + 1);
  hasPort = true;
  return true;
}

}  // namespace

bool isValidIpv6(std::string_view text) noexcept {
  if (text.size() < 2 || text.size() > 45) return false;
  int groups = 0;
  bool doubleColon = false;
  std::size_t i = 0;
  if (text.substr(0, 2) == "::") {
    doubleColon = true;
    i = 2;
    if (i == text.size()) return true;  // "::"
  } else if (text.front() == ':') {
    return false;
  }
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && isHex(text[j])) ++j;
    if (j < text.size() && text[j] == '.') {
      // Embedded IPv4 in the last 32 bits.
      if (!isValidIpv4(text.substr(i))) return false;
      groups += 2;
      i = text.size();
      break;
    }
    if (j == i || j - i > 4) return false;
    ++groups;
    i = j;
    if (i == text.size()) break;
    if (text[i] != ':') return false;
    ++i;
    if (i < text.size() && text[i] == ':') {
      if (doubleColon) return false;
      doubleColon = true;
      ++i;
      if (i == text.size()) break;
    } else if (i == text.size()) {
      return false;  // trailing single ':'
    }
  }
  return doubleColon ? groups < 8 : groups == 8;
}

bool isValidHostName(std::string_view host) noexcept {
  if (host.empty() || host.size() > 253) return false;
  bool numeric = true;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = host.find('.', start);
    const std::string_view label = host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!isAlpha(c) && !isDigit(c) && c != '-' && c != '_') return false;
    }
    numeric = numeric && allDigits(label);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !numeric || isValidIpv4(host);
}

std::string HostPort::toString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string TargetUrl::toString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

UnitResult<HostPort> parseHostPort(std::string_view text) {
  auto fail = [&](const std::string& reason) {
    return UnitError{"invalid address " + inQuotes(text) + ": " + reason, std::string(kHostPortAllowed)};
  };
  if (text.empty()) return fail("empty address");
  if (text.find("://") != std::string_view::npos) return fail("write HOST:PORT without a scheme");
  std::string_view host;
  std::string_view portText;
  bool hasPort = false;
  std::string reason;
  if (!splitHostPort(text, host, portText, hasPort, reason)) return fail(reason);
  if (!hasPort) return fail("missing ':PORT'");
  if (host.empty()) return fail("missing host; write 0.0.0.0:PORT to listen on every interface");
  if (host.find(':') == std::string_view::npos && !isValidHostName(host)) {
    return fail("invalid host " + inQuotes(host));
  }
  const auto port = parsePort(portText, reason);
  if (!port) return fail(reason);
  return HostPort{std::string(host), static_cast<std::uint16_t>(*port)};
}

UnitResult<TargetUrl> parseTargetUrl(std::string_view text) {
  auto fail = [&](const std::string& reason) {
    return UnitError{"invalid target URL " + inQuotes(text) + ": " + reason, std::string(kTargetUrlAllowed)};
  };
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) return fail("missing scheme; start with http:// or https://");
  const std::string_view scheme = text.substr(0, sep);
  if (scheme != "http" && scheme != "https") {
    return fail("unsupported scheme " + inQuotes(scheme) + "; use http or https");
  }
  std::string_view authority = text.substr(sep + 3);
  if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
  if (authority.find_first_of("/?#") != std::string_view::npos) {
    return fail("a target has no path, query or fragment; the route's path is forwarded as is");
  }
  if (authority.find('@') != std::string_view::npos) return fail("user info (user@host) is not supported");
  std::string_view host;
  std::string_view portText;
  bool hasPort = false;
  std::string reason;
  if (!splitHostPort(authority, host, portText, hasPort, reason)) return fail(reason);
  if (host.empty()) return fail("missing host");
  if (host.find(':') == std::string_view::npos && !isValidHostName(host)) {
    return fail("invalid host " + inQuotes(host));
  }
  std::uint32_t port = scheme == "https" ? 443 : 80;
  if (hasPort) {
    const auto p = parsePort(portText, reason);
    if (!p) return fail(reason);
    if (*p == 0) return fail("port 0 cannot be connected to");
    port = *p;
  }
  return TargetUrl{std::string(scheme), std::string(host), static_cast<std::uint16_t>(port)};
}

}  // namespace gatelab::config
