#pragma once
// Cache-Control (RFC 9111 §5.2) and HTTP-date (RFC 9110 §5.6.7) parsing for the response cache.
// Semantics of the cache itself: docs/caching.md.
//
// parseCacheControl reads every Cache-Control field line of a request or a response (several
// lines are one comma-separated list, RFC 9110 §5.3). Rules:
//   - directive names are case-insensitive; unknown directives are ignored (RFC 9111 §5.2.3);
//   - values may be tokens or quoted strings (`max-age="60"` is accepted, as RFC 9111 §5.2
//     asks of recipients); a quoted string may contain commas;
//   - delta-seconds larger than 2^31 are read as 2^31 (RFC 9111 §1.2.2);
//   - a delta-seconds directive without a valid value (`max-age`, `max-age=abc`, `max-age=-1`)
//     sets `invalidFreshness`: the response is then treated as already stale (RFC 9111 §4.2.1
//     encourages exactly that), and a request's directive is ignored;
//   - when a directive appears twice the first occurrence wins (RFC 9111 §4.2.1);
//   - `no-cache` and `private` with a field-name list ("no-cache=\"Set-Cookie\"") are the
//     qualified forms: the named fields must not be reused, the rest of the response may be.
//
// Thread safety: pure functions. Complexity: O(total length of the field values); allocates only
// for qualified field lists.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/http_field.hpp"
#include "gateway/core/request.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::cache {

/// The largest delta-seconds value kept (RFC 9111 §1.2.2): 2^31 seconds.
inline constexpr std::int64_t kMaxDeltaSeconds = 2147483648;

struct CacheControl {
  bool noStore = false;
  bool noCache = false;          ///< unqualified no-cache (the whole response must be revalidated)
  bool isPrivate = false;        ///< unqualified private
  bool isPublic = false;
  bool mustRevalidate = false;
  bool proxyRevalidate = false;
  bool onlyIfCached = false;     ///< request directive
  bool noTransform = false;
  bool maxStaleAny = false;      ///< request `max-stale` without a value
  bool invalidFreshness = false; ///< a delta-seconds directive had no valid value (see above)
  std::optional<Duration> maxAge{};
  std::optional<Duration> sMaxAge{};
  std::optional<Duration> staleWhileRevalidate{};  ///< RFC 5861
  std::optional<Duration> staleIfError{};          ///< RFC 5861
  std::optional<Duration> minFresh{};              ///< request directive
  std::optional<Duration> maxStale{};              ///< request directive with a value
  std::vector<std::string> noCacheFields{};        ///< qualified no-cache="A, B" (lower case)
  std::vector<std::string> privateFields{};        ///< qualified private="A, B" (lower case)
};

/// Parses the values of every `Cache-Control` line in `fields` (a response's header list).
[[nodiscard]] CacheControl parseCacheControl(const HeaderList& fields);
/// Same over a request's header views.
[[nodiscard]] CacheControl parseCacheControl(std::span<const Header> fields);
/// Parses one field value (or several joined with ',').
void parseCacheControlValue(std::string_view value, CacheControl& out);

/// Seconds since the Unix epoch of an HTTP-date: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
/// and the obsolete RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6
/// 08:49:37 1994") forms every recipient must accept (RFC 9110 §5.6.7). Two-digit years are in
/// 1970..2069. nullopt when `text` is none of these (Expires: 0 is the usual case).
[[nodiscard]] std::optional<std::int64_t> parseHttpDate(std::string_view text) noexcept;

}  // namespace gatelab::core::cache
