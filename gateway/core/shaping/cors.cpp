#include "gateway/core/shaping/cors.hpp"

#include <algorithm>
#include <cstdint>

namespace gatelab::core::shaping {

namespace {

constexpr std::string_view kAllowOrigin = "Access-Control-Allow-Origin";
constexpr std::string_view kAllowCredentials = "Access-Control-Allow-Credentials";
constexpr std::string_view kAllowMethods = "Access-Control-Allow-Methods";
constexpr std::string_view kAllowHeaders = "Access-Control-Allow-Headers";
constexpr std::string_view kExposeHeaders = "Access-Control-Expose-Headers";
constexpr std::string_view kMaxAge = "Access-Control-Max-Age";

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr bool isAlpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool isUpper(char c) noexcept { return c >= 'A' && c <= 'Z'; }

std::string_view trimOws(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// An Origin value split into parts. `port` is 0 for none or the scheme's default.
struct ParsedOrigin {
  std::string_view scheme;
  std::string_view host;
  std::uint32_t port = 0;
  bool canonical = true;  // the text is already lower-case with no default or zero-padded port
};

bool validHost(std::string_view host, bool& upper) noexcept {
  if (host.empty()) return false;
  if (host.front() == '[') {  // IPv6 literal
    if (host.size() < 3 || host.back() != ']') return false;
    for (char c : host.substr(1, host.size() - 2)) {
      if (!(isDigit(c) || (lower(c) >= 'a' && lower(c) <= 'f') || c == ':' || c == '.')) return false;
      upper = upper || isUpper(c);
    }
    return true;
  }
  if (host.front() == '.' || host.back() == '.' || host.find("..") != std::string_view::npos) return false;
  for (char c : host) {
    if (!(isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_')) return false;
    upper = upper || isUpper(c);
  }
  return true;
}

std::optional<ParsedOrigin> parseOrigin(std::string_view s) noexcept {
  ParsedOrigin o;
  const std::size_t sep = s.find("://");
  if (sep == std::string_view::npos || sep == 0 || !isAlpha(s[0])) return std::nullopt;
  o.scheme = s.substr(0, sep);
  for (char c : o.scheme) {
    if (!(isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.')) return std::nullopt;
    if (isUpper(c)) o.canonical = false;
  }
  std::string_view rest = s.substr(sep + 3);
  std::size_t hostEnd;
  if (!rest.empty() && rest.front() == '[') {
    hostEnd = rest.find(']');
    if (hostEnd == std::string_view::npos) return std::nullopt;
    ++hostEnd;
  } else {
    hostEnd = std::min(rest.find(':'), rest.size());
  }
  o.host = rest.substr(0, hostEnd);
  bool upper = false;
  if (!validHost(o.host, upper)) return std::nullopt;
  if (upper) o.canonical = false;
  rest.remove_prefix(hostEnd);
  if (!rest.empty()) {
    if (rest.front() != ':') return std::nullopt;
    rest.remove_prefix(1);
    if (rest.empty() || rest.size() > 5) return std::nullopt;
    std::uint32_t port = 0;
    for (char c : rest) {
      if (!isDigit(c)) return std::nullopt;
      port = port * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (port == 0 || port > 65535) return std::nullopt;
    if (rest.front() == '0') o.canonical = false;
    const bool http = o.scheme.size() == 4 && equalsIgnoreCase(o.scheme, "http");
    const bool https = o.scheme.size() == 5 && equalsIgnoreCase(o.scheme, "https");
    if ((http && port == 80) || (https && port == 443)) {
      o.canonical = false;
      port = 0;
    }
    o.port = port;
  }
  return o;
}

std::string canonicalOrigin(const ParsedOrigin& o) {
  std::string out;
  for (char c : o.scheme) out.push_back(lower(c));
  out += "://";
  for (char c : o.host) out.push_back(lower(c));
  if (o.port != 0) out += ":" + std::to_string(o.port);
  return out;
}

bool endsWithIgnoreCase(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && equalsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

bool containsIgnoreCase(const std::vector<std::string>& list, std::string_view v) noexcept {
  return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return equalsIgnoreCase(s, v); });
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

/// Checks a list of tokens that may instead be "*" alone; returns true for the "*" form.
bool checkTokenList(const std::vector<std::string>& list, const std::string& field, SpecErrors& errors) {
  const bool star = std::find(list.begin(), list.end(), "*") != list.end();
  if (star && list.size() > 1) {
    errors.push_back({field, "\"*\" must be the only entry when present"});
    return true;
  }
  if (star) return true;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!isToken(list[i])) {
      errors.push_back({field + "[" + std::to_string(i) + "]", "must be an RFC 9110 token, got \"" + list[i] + "\""});
    }
  }
  return false;
}

bool isSafelistedMethod(std::string_view m) noexcept { return m == "GET" || m == "HEAD" || m == "POST"; }

}  // namespace

const char* toString(CorsRequestKind k) noexcept {
  switch (k) {
    case CorsRequestKind::kNone: return "none";
    case CorsRequestKind::kPreflight: return "preflight";
    case CorsRequestKind::kActual: return "actual";
  }
  return "?";
}

const char* toString(CorsReason r) noexcept {
  switch (r) {
    case CorsReason::kOk: return "ok";
    case CorsReason::kNoOrigin: return "no_origin";
    case CorsReason::kOriginNotAllowed: return "origin_not_allowed";
    case CorsReason::kMethodNotAllowed: return "method_not_allowed";
    case CorsReason::kHeaderNotAllowed: return "header_not_allowed";
  }
  return "?";
}

std::optional<CorsPolicy> CorsPolicy::create(CorsSpec spec, SpecErrors& errors) {
  const std::size_t before = errors.size();
  CorsPolicy p;
  p.credentials_ = spec.credentials;

  if (spec.origins.empty()) errors.push_back({"origins", "list at least one origin, or \"*\" for any"});
  const bool starOrigin = std::find(spec.origins.begin(), spec.origins.end(), "*") != spec.origins.end();
  if (starOrigin && spec.origins.size() > 1) {
    errors.push_back({"origins", "\"*\" must be the only entry when present"});
  } else if (starOrigin) {
    p.anyOrigin_ = true;
    if (spec.credentials) {
      errors.push_back({"credentials", "credentials cannot be allowed for origins \"*\": browsers refuse "
                                       "Access-Control-Allow-Origin: * with credentials, and echoing every origin would let "
                                       "any site read responses made with the user's cookies; list the origins"});
    }
  } else {
    for (std::size_t i = 0; i < spec.origins.size(); ++i) {
      const std::string& text = spec.origins[i];
      const std::string field = "origins[" + std::to_string(i) + "]";
      if (text == "null") {
        errors.push_back({field, "\"null\" is refused: sandboxed iframes, file: pages and redirects all send it, so it "
                                 "would admit any of them"});
        continue;
      }
      const std::size_t sep = text.find("://");
      const bool pattern = sep != std::string::npos && std::string_view(text).substr(sep + 3).starts_with("*.");
      std::string parseText = text;
      if (pattern) parseText.replace(sep + 3, 1, "x");  // parse "*.d" as a host "x.d", then keep ".d"
      const std::optional<ParsedOrigin> o = parseOrigin(parseText);
      if (!o) {
        errors.push_back({field, "\"" + text + "\" is not an origin: write scheme://host[:port] with no path or trailing "
                                 "'/' (e.g. https://app.example.com), or a pattern https://*.example.com"});
        continue;
      }
      if (pattern) {
        std::string suffix;
        for (char c : o->host.substr(1)) suffix.push_back(lower(c));
        if (suffix.find('.', 1) == std::string::npos) {
          errors.push_back({field, "\"" + text + "\" matches every site of a top-level domain; name a domain with at "
                                   "least two labels (https://*.example.com)"});
          continue;
        }
        std::string scheme;
        for (char c : o->scheme) scheme.push_back(lower(c));
        p.patterns_.push_back({std::move(scheme), std::move(suffix), o->port});
      } else {
        p.exact_.push_back(canonicalOrigin(*o));
      }
    }
  }
  std::sort(p.exact_.begin(), p.exact_.end());
  p.exact_.erase(std::unique(p.exact_.begin(), p.exact_.end()), p.exact_.end());

  p.anyMethod_ = checkTokenList(spec.methods, "methods", errors);
  p.anyHeader_ = checkTokenList(spec.allowHeaders, "allowHeaders", errors);
  const bool anyExpose = checkTokenList(spec.exposeHeaders, "exposeHeaders", errors);
  if (anyExpose && spec.credentials) {
    errors.push_back({"exposeHeaders", "\"*\" exposes every field only without credentials (with credentials browsers read "
                                       "it as a field named \"*\"); list the fields"});
  }
  if (spec.maxAge) {
    const Duration d = *spec.maxAge;
    if (d < Duration::zero() || d > kMaxCorsMaxAge) {
      errors.push_back({"maxAge", "must be between 0s and 24h, got " + formatDuration(d)});
    } else if (d % std::chrono::seconds(1) != Duration::zero()) {
      errors.push_back({"maxAge", "is sent in whole seconds, got " + formatDuration(d)});
    } else {
      p.maxAgeValue_ = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count());
    }
  }
  if (errors.size() != before) return std::nullopt;

  p.varies_ = !p.anyOrigin_;
  if (!p.anyMethod_) {
    p.methods_ = spec.methods;
    p.methodsValue_ = join(spec.methods);
  }
  if (!p.anyHeader_) {
    p.allowHeaders_ = spec.allowHeaders;
    p.allowHeadersValue_ = join(spec.allowHeaders);
  }
  p.exposeValue_ = join(spec.exposeHeaders);
  return p;
}

bool CorsPolicy::originAllowed(std::string_view origin) const {
  if (anyOrigin_) return true;
  const std::optional<ParsedOrigin> o = parseOrigin(origin);
  if (!o) return false;
  if (!exact_.empty()) {
    std::string canonical;
    std::string_view key = origin;
    if (!o->canonical) {
      canonical = canonicalOrigin(*o);
      key = canonical;
    }
    if (std::binary_search(exact_.begin(), exact_.end(), key,
                           [](std::string_view a, std::string_view b) { return a < b; })) {
      return true;
    }
  }
  for (const Pattern& p : patterns_) {
    if (!equalsIgnoreCase(o->scheme, p.scheme)) continue;
    if (o->port != p.port) continue;
    if (o->host.size() > p.suffix.size() && endsWithIgnoreCase(o->host, p.suffix)) return true;
  }
  return false;
}

CorsDecision CorsPolicy::evaluate(const RequestView& request) const noexcept {
  CorsDecision d;
  d.varyOrigin = varies_;
  const std::optional<std::string_view> origin = request.header("Origin");
  if (!origin || origin->empty()) return d;  // kNone, kNoOrigin

  const std::optional<std::string_view> acrm = request.header("Access-Control-Request-Method");
  const bool preflight = request.method == "OPTIONS" && acrm.has_value();
  d.kind = preflight ? CorsRequestKind::kPreflight : CorsRequestKind::kActual;

  bool allowed = false;
  try {
    allowed = originAllowed(*origin);
  } catch (...) {  // std::bad_alloc canonicalizing an odd origin: refuse rather than throw
    allowed = false;
  }
  auto push = [&](std::string_view name, std::string_view value) { d.fields[d.fieldCount++] = Header{name, value}; };

  if (!preflight) {
    if (!allowed) {
      d.reason = CorsReason::kOriginNotAllowed;
      return d;
    }
    d.reason = CorsReason::kOk;
    push(kAllowOrigin, anyOrigin_ ? std::string_view("*") : *origin);
    if (credentials_) push(kAllowCredentials, "true");
    if (!exposeValue_.empty()) push(kExposeHeaders, exposeValue_);
    return d;
  }

  d.status = kPreflightRefusedStatus;
  if (!allowed) {
    d.reason = CorsReason::kOriginNotAllowed;
    return d;
  }
  const std::string_view method = trimOws(*acrm);
  if (!isToken(method) ||
      !(anyMethod_ || isSafelistedMethod(method) ||
        std::find(methods_.begin(), methods_.end(), method) != methods_.end())) {
    d.reason = CorsReason::kMethodNotAllowed;
    d.refused = method;
    return d;
  }
  const std::string_view requested = trimOws(request.header("Access-Control-Request-Headers").value_or(std::string_view{}));
  for (std::string_view rest = requested; !rest.empty();) {
    const std::size_t comma = rest.find(',');
    const std::string_view name = trimOws(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (name.empty()) continue;
    if (!isToken(name) || !(anyHeader_ || containsIgnoreCase(allowHeaders_, name))) {
      d.reason = CorsReason::kHeaderNotAllowed;
      d.refused = name;
      return d;
    }
  }

  d.status = kPreflightAllowedStatus;
  d.reason = CorsReason::kOk;
  push(kAllowOrigin, anyOrigin_ ? std::string_view("*") : *origin);
  if (credentials_) push(kAllowCredentials, "true");
  push(kAllowMethods, anyMethod_ ? method : std::string_view(methodsValue_));
  if (anyHeader_) {
    if (!requested.empty()) push(kAllowHeaders, requested);
  } else if (!allowHeadersValue_.empty()) {
    push(kAllowHeaders, allowHeadersValue_);
  }
  if (!maxAgeValue_.empty()) push(kMaxAge, maxAgeValue_);
  return d;
}

void applyCors(const CorsDecision& decision, HeaderList& response) {
  for (std::string_view name : {kAllowOrigin, kAllowCredentials, kAllowMethods, kAllowHeaders, kExposeHeaders, kMaxAge}) {
    removeFields(response, name);
  }
  for (const Header& h : decision.headers()) response.push_back({std::string(h.name), std::string(h.value)});
  if (!decision.varyOrigin) return;
  std::optional<std::size_t> last;
  for (std::size_t i = 0; i < response.size(); ++i) {
    if (!equalsIgnoreCase(response[i].name, "Vary")) continue;
    if (hasListMember(response[i].value, "Origin") || hasListMember(response[i].value, "*")) return;
    last = i;
  }
  if (!last) {
    response.push_back({"Vary", "Origin"});
  } else if (trimOws(response[*last].value).empty()) {
    response[*last].value = "Origin";
  } else {
    response[*last].value += ", Origin";
  }
}

}  // namespace gatelab::core::shaping
