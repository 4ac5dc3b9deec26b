#include "gateway/config/detail/text_checks.hpp"

#include "gateway/config/address.hpp"
#include "gateway/core/path.hpp"

namespace gatelab::config::detail {
namespace {

bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }
bool isAlpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isUpperHex(char c) noexcept { return isDigit(c) || (c >= 'A' && c <= 'F'); }
bool isHex(char c) noexcept { return isUpperHex(c) || (c >= 'a' && c <= 'f'); }
bool isUnreserved(char c) noexcept { return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

int hexValue(char c) noexcept {
  if (isDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

std::string printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u >= 0x7f) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xF];
  }
  return std::string("'") + c + "'";
}

}  // namespace

std::string toLowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string toUpperAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string checkName(std::string_view name) {
  if (name.empty()) return "a name must not be empty";
  if (name.size() > kMaxNameLength) return "a name is at most " + std::to_string(kMaxNameLength) + " characters";
  for (char c : name) {
    if (!isAlpha(c) && !isDigit(c) && c != '_' && c != '.' && c != '-') {
      return "a name cannot contain " + printable(c);
    }
  }
  return {};
}

bool isToken(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (isAlpha(c) || isDigit(c)) continue;
    switch (c) {
      case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
      case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        continue;
      default:
        return false;
    }
  }
  return true;
}

std::string checkNormalizedPath(std::string_view path) {
  if (path.empty()) return "the path is empty";
  if (path.front() != '/') return "the path must be absolute (start with '/')";
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return "the path contains " + printable(c) + "; percent-encode it";
    if (c == '?' || c == '#') return "a path has no query or fragment ('" + std::string(1, c) + "')";
    if (c == '\\') return "the path contains '\\'; use '/'";
    if (c == '%') {
      if (i + 2 >= path.size() || !isHex(path[i + 1]) || !isHex(path[i + 2])) {
        return "'%' must start a percent-encoding such as %20";
      }
      const char decoded = static_cast<char>(hexValue(path[i + 1]) * 16 + hexValue(path[i + 2]));
      const std::string enc(path.substr(i, 3));
      if (isUnreserved(decoded)) {
        return "the path is not normalized: " + enc + " encodes '" + std::string(1, decoded) + "'; write '" +
               std::string(1, decoded) + "' (requests are matched after decoding)";
      }
      if (!isUpperHex(path[i + 1]) || !isUpperHex(path[i + 2])) {
        return "the path is not normalized: write " + toUpperAscii(enc) + " instead of " + enc;
      }
    }
  }
  // Segment checks: "//", "." and "..".
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    const std::string_view segment = path.substr(start, end - start);
    if (segment.empty() && slash != std::string_view::npos) {
      return "the path is not normalized: it contains '//'";
    }
    if (segment == "." || segment == "..") {
      return "the path is not normalized: it contains a '" + std::string(segment) + "' segment";
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  // Last, the router's own normalizer must leave the path unchanged: the config and the request
  // path are then compared in the same canonical form.
  std::string normalized;
  const core::PathStatus status = core::normalizePath(path, normalized);
  if (status != core::PathStatus::kOk) return std::string("the path is not valid (") + core::toString(status) + ")";
  if (normalized != path) return "the path is not normalized; write " + normalized;
  return {};
}

std::string checkHostPattern(std::string_view host) {
  if (host.empty()) return "the host is empty";
  if (host.front() == '[') {
    if (host.size() > 2 && host.back() == ']' && isValidIpv6(host.substr(1, host.size() - 2))) return {};
    return "an IPv6 literal is written in brackets, as in [2001:db8::1]";
  }
  std::string_view rest = host;
  if (rest.substr(0, 2) == "*.") rest.remove_prefix(2);
  if (rest.find('*') != std::string_view::npos) {
    return "a wildcard is allowed only as the whole leftmost label, as in *.example.com";
  }
  if (const std::size_t colon = rest.find(':'); colon != std::string_view::npos) {
    if (rest.find(':', colon + 1) != std::string_view::npos) {  // an IPv6 literal, as the router reads it
      if (rest.size() == host.size() && isValidIpv6(rest)) return {};
      return "not a valid host name or IPv6 address";
    }
    return "hosts are matched without the port; remove ':PORT'";
  }
  if (!isValidHostName(rest)) return "not a valid host name";
  return {};
}

}  // namespace gatelab::config::detail
