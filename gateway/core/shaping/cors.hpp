#pragma once
// CORS (the Fetch standard's CORS protocol, https://fetch.spec.whatwg.org/#http-cors-protocol)
// decided at the gateway: preflight requests answered without the upstream, the
// Access-Control-* fields of actual responses. Semantics: docs/security.md, "CORS".
//
// Request kinds:
//   preflight  OPTIONS with Origin and Access-Control-Request-Method. The gateway answers it:
//              204 with the Access-Control-Allow-* fields when the origin, the method and every
//              requested header are allowed; otherwise 403 with no CORS fields (reason code
//              says which check failed). Never forwarded.
//   actual     any other request with Origin: forwarded; when the origin is allowed, the
//              response gets Access-Control-Allow-Origin (and -Credentials, -Expose-Headers);
//              when not, the response gets no CORS fields (the browser then withholds it).
//   none       no Origin: not a CORS request; forwarded untouched (but see Vary).
// Vary: whenever the answer depends on Origin (any configuration but `*` without credentials),
// every response of the route carries "Vary: Origin", CORS request or not, allowed or not, so
// a shared cache never serves one origin's answer to another (Fetch §3.2.5).
//
// Origins: "*" (any; only without credentials), exact serialized origins
// ("https://app.example.com", "http://localhost:8080"), and wildcard patterns whose host starts
// with "*." ("https://*.example.com": one or more labels before example.com, same scheme and
// port, not example.com itself). Schemes and hosts compare case-insensitively, default ports
// (http 80, https 443) are ignored. The allowed origin is echoed in Access-Control-Allow-Origin;
// "*" is sent only in the `*` configuration, which forbids credentials.
//
// Thread safety: a CorsPolicy is immutable; evaluate() may run on any number of threads.
// Complexity: O(log origins + patterns + requested headers * allowed headers); no allocation
// for origins already in canonical form (what browsers send).

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/http_field.hpp"
#include "gateway/core/request.hpp"
#include "gateway/core/spec_error.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::shaping {

/// Largest Access-Control-Max-Age accepted (Firefox caps at 24 h, Chromium at 2 h).
inline constexpr Duration kMaxCorsMaxAge = std::chrono::hours(24);

struct CorsSpec {
  /// Allowed origins: "*" alone, or exact origins and "scheme://*.domain[:port]" patterns. Not
  /// empty. "null" is refused (sandboxed documents and file: pages all send it).
  std::vector<std::string> origins{};
  /// Methods a preflight may ask for, besides GET, HEAD and POST (which the Fetch standard
  /// never preflights for their method). "*" alone: any method (the requested one is echoed).
  std::vector<std::string> methods{"GET", "HEAD", "POST"};
  /// Request fields a preflight may ask for (case-insensitive). "*" alone: any (the requested
  /// list is echoed, which also covers Authorization, unlike a literal "*"). Empty: none.
  std::vector<std::string> allowHeaders{};
  /// Response fields a page may read beyond the CORS-safelisted ones. "*" alone: all (only
  /// without credentials: with credentials "*" is a literal name, Fetch §3.3.4).
  std::vector<std::string> exposeHeaders{};
  /// Access-Control-Allow-Credentials: true (cookies, HTTP auth). Requires listed origins.
  bool credentials = false;
  /// Access-Control-Max-Age for preflight answers, whole seconds, 0..kMaxCorsMaxAge. Unset: not
  /// sent (browsers then cache for 5 s).
  std::optional<Duration> maxAge{};
};

enum class CorsRequestKind : std::uint8_t { kNone, kPreflight, kActual };

/// "none", "preflight", "actual".
const char* toString(CorsRequestKind k) noexcept;

/// Stable reason codes (toString) for metrics and logs.
enum class CorsReason : std::uint8_t {
  kOk,                ///< "ok"
  kNoOrigin,          ///< "no_origin": not a CORS request
  kOriginNotAllowed,  ///< "origin_not_allowed" (also a malformed Origin)
  kMethodNotAllowed,  ///< "method_not_allowed": preflight asked for a method not allowed
  kHeaderNotAllowed,  ///< "header_not_allowed": preflight asked for a field not allowed
};

inline constexpr std::size_t kCorsReasonCount = 5;

const char* toString(CorsReason r) noexcept;

inline constexpr std::uint16_t kPreflightAllowedStatus = 204;
inline constexpr std::uint16_t kPreflightRefusedStatus = 403;

struct CorsDecision {
  CorsRequestKind kind = CorsRequestKind::kNone;
  CorsReason reason = CorsReason::kNoOrigin;
  /// Preflight: the gateway answers now with this status (204 or 403) and the fields below,
  /// without forwarding. 0 for other kinds: forward, then add the fields to the response.
  std::uint16_t status = 0;
  /// Add "Origin" to the response's Vary (merge with what is there; see applyCors).
  bool varyOrigin = false;
  /// Access-Control-* fields to set on the response. Views into the policy and the request:
  /// valid while both live.
  std::array<Header, 5> fields{};
  std::uint8_t fieldCount = 0;
  /// The requested field that was not allowed (kHeaderNotAllowed), or the method
  /// (kMethodNotAllowed); a view into the request.
  std::string_view refused{};

  [[nodiscard]] std::span<const Header> headers() const noexcept { return {fields.data(), fieldCount}; }
  [[nodiscard]] bool respondNow() const noexcept { return kind == CorsRequestKind::kPreflight; }
};

class CorsPolicy {
 public:
  /// Builds the policy, or nullopt after appending every problem to `errors` (fields
  /// "origins[i]", "methods[i]", "allowHeaders[i]", "exposeHeaders[i]", "maxAge",
  /// "credentials"). Rules: see CorsSpec; "*" must be alone in its list; an origin is
  /// scheme "://" host [":" port] with no path, query, userinfo or trailing '/'; a pattern's
  /// domain has at least two labels ("https://*.com" is refused).
  static std::optional<CorsPolicy> create(CorsSpec spec, SpecErrors& errors);

  /// Decides for `request` (reads Origin, the method, Access-Control-Request-Method and
  /// Access-Control-Request-Headers).
  [[nodiscard]] CorsDecision evaluate(const RequestView& request) const noexcept;

  /// True when `origin` (an Origin field value) is allowed.
  [[nodiscard]] bool originAllowed(std::string_view origin) const;

 private:
  struct Pattern {
    std::string scheme;
    std::string suffix;  // ".example.com"
    std::uint32_t port;  // 0 for the scheme's default port
  };

  CorsPolicy() = default;

  bool anyOrigin_ = false;
  bool credentials_ = false;
  bool anyMethod_ = false;
  bool anyHeader_ = false;
  bool varies_ = false;
  std::vector<std::string> exact_;  // canonical, sorted
  std::vector<Pattern> patterns_;
  std::vector<std::string> methods_;
  std::vector<std::string> allowHeaders_;
  std::string methodsValue_;
  std::string allowHeadersValue_;
  std::string exposeValue_;
  std::string maxAgeValue_;
};

/// Puts `decision` on a response's fields: removes any Access-Control-Allow-Origin,
/// -Allow-Credentials, -Allow-Methods, -Allow-Headers, -Expose-Headers and -Max-Age the upstream
/// sent (the policy owns them, as Kong's cors plugin does), sets the decision's fields, and
/// adds "Origin" to Vary when asked (appended to an existing Vary unless it already lists Origin
/// or is "*").
void applyCors(const CorsDecision& decision, HeaderList& response);

}  // namespace gatelab::core::shaping
