#include "gateway/core/auth/token_source.hpp"

namespace gatelab::core::auth {

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// RFC 9110 token characters: what a field name (and a cookie name, RFC 6265) may contain.
bool isTokenChar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  for (char t : std::string_view("!#$%&'*+-.^_`|~")) {
    if (c == t) return true;
  }
  return false;
}

int hexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Percent-decodes `s`; nullopt on an invalid escape.
std::optional<std::string> percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hexValue(s[i + 1]);
    const int lo = hexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<std::string> fromCookies(const RequestView& request, std::string_view name) {
  for (const Header& h : request.headers) {
    if (!equalsIgnoreCase(h.name, "Cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const std::size_t semi = rest.find(';');
      const std::string_view pair = trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      const std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) continue;
      std::string_view value = trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      return std::string(value);
    }
  }
  return std::nullopt;
}

std::optional<std::string> fromQuery(std::string_view query, std::string_view name) {
  std::string_view rest = query;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::optional<std::string> decodedKey = percentDecode(key);
    if (!decodedKey || *decodedKey != name) continue;
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (std::optional<std::string> decoded = percentDecode(value)) return decoded;
    return std::string(value);
  }
  return std::nullopt;
}

}  // namespace

const char* toString(TokenSourceKind k) noexcept {
  switch (k) {
    case TokenSourceKind::kHeader: return "header";
    case TokenSourceKind::kCookie: return "cookie";
    case TokenSourceKind::kQuery: return "query";
  }
  return "unknown";
}

std::vector<TokenSource> defaultTokenSources() { return {TokenSource{TokenSourceKind::kHeader, "Authorization"}}; }

std::optional<std::string> validateTokenSources(std::span<const TokenSource> sources) {
  if (sources.empty()) return "at least one token source is needed";
  for (const TokenSource& s : sources) {
    if (s.name.empty()) return std::string("a ") + toString(s.kind) + " source needs a name";
    if (s.kind != TokenSourceKind::kQuery) {
      for (char c : s.name) {
        if (!isTokenChar(c)) return std::string(toString(s.kind)) + " name \"" + s.name + "\" has a character not allowed in a " + toString(s.kind) + " name";
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> bearerToken(std::string_view fieldValue) noexcept {
  const std::string_view v = trim(fieldValue);
  constexpr std::string_view kScheme = "bearer";
  if (v.size() < kScheme.size() || !equalsIgnoreCase(v.substr(0, kScheme.size()), kScheme)) return std::nullopt;
  std::string_view rest = v.substr(kScheme.size());
  if (rest.empty()) return rest;                 // "Bearer" alone: found, empty
  if (rest.front() != ' ') return std::nullopt;  // "Bearerx ...": another scheme
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return rest;
}

std::optional<FoundToken> findToken(const RequestView& request, std::span<const TokenSource> sources) {
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const TokenSource& s = sources[i];
    switch (s.kind) {
      case TokenSourceKind::kHeader:
        for (const Header& h : request.headers) {
          if (!equalsIgnoreCase(h.name, s.name)) continue;
          if (const auto t = bearerToken(h.value)) return FoundToken{std::string(*t), s.kind, i};
        }
        break;
      case TokenSourceKind::kCookie:
        if (auto t = fromCookies(request, s.name)) return FoundToken{std::move(*t), s.kind, i};
        break;
      case TokenSourceKind::kQuery:
        if (auto t = fromQuery(request.query, s.name)) return FoundToken{std::move(*t), s.kind, i};
        break;
    }
  }
  return std::nullopt;
}

}  // namespace gatelab::core::auth
