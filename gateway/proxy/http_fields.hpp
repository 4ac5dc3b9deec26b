#pragma once
// Header-field rules of the proxy, as plain functions over strings (no Beast types), so they are
// tested on their own: hop-by-hop fields, request ids, W3C trace context, X-Forwarded-*.

#include <array>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gatelab::proxy {

/// Appends the field line "name: value\r\n" to `out`: one size change and three copies, where
/// four appends would each check and grow the string (the proxy writes a few dozen per request).
inline void appendFieldLine(std::string& out, std::string_view name, std::string_view value) {
  const std::size_t at = out.size();
  out.resize(at + name.size() + value.size() + 4);
  char* p = out.data() + at;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  p[0] = ':';
  p[1] = ' ';
  p += 2;
  std::memcpy(p, value.data(), value.size());
  p += value.size();
  p[0] = '\r';
  p[1] = '\n';
}

/// True for the fields a proxy must not forward (RFC 9110 7.6.1): Connection, Keep-Alive,
/// Proxy-Connection, Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding,
/// Upgrade. Case-insensitive.
[[nodiscard]] bool isHopByHop(std::string_view name) noexcept;

/// Whether a Connection field value lists `name` ("close, X-Foo" lists "x-foo"; case-insensitive,
/// items trimmed): a listed field is hop-by-hop for that message too (RFC 9110 7.6.1). Does not
/// allocate (asked for every field of every message).
[[nodiscard]] bool listedInConnection(std::string_view connectionValue, std::string_view name) noexcept;

/// A Connection field value split into its members once, so that asking about each field of a
/// message (listedInConnection's question) is a few length compares, not a split of the value.
class ConnectionOptions {
 public:
  explicit ConnectionOptions(std::string_view value) noexcept;
  /// listedInConnection(value, name).
  [[nodiscard]] bool lists(std::string_view name) const noexcept;

 private:
  std::array<std::string_view, 8> members_{};
  std::size_t count_ = 0;
  std::string_view rest_;  ///< members beyond the eighth, asked the slow way
};

/// A W3C trace context `traceparent` value: "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>".
struct TraceParent {
  std::string traceId;   ///< 32 lower-case hex digits, not all zero
  std::string parentId;  ///< 16 lower-case hex digits, not all zero
  std::uint8_t flags = 0;
};
/// Parses a traceparent field (version 00, or a higher version read as 00's fields); nullopt when
/// invalid (then the proxy starts a new trace, as the W3C spec says).
[[nodiscard]] std::optional<TraceParent> parseTraceParent(std::string_view value);
[[nodiscard]] std::string formatTraceParent(const TraceParent& t);

/// Appends `bytes` random bytes as lower-case hex (2 * bytes characters) to `out`, from `draw`
/// (64 random bits per call).
template <class Draw>
void appendRandomHex(std::string& out, std::size_t bytes, Draw&& draw) {
  // Two digits per byte, low byte first, high nibble first (this runs two or three times per
  // request): eight bytes at a time with SSE2 (nibbles to ASCII in a register, then the high and
  // low digits interleaved), else and for a tail from a table of digit pairs.
  static constexpr auto kPairs = [] {
    constexpr char kDigits[] = "0123456789abcdef";
    std::array<char, 512> t{};
    for (std::size_t b = 0; b < 256; ++b) {
      t[2 * b] = kDigits[b >> 4];
      t[2 * b + 1] = kDigits[b & 0xF];
    }
    return t;
  }();
  const std::size_t at = out.size();
  out.resize(at + bytes * 2);
  char* p = out.data() + at;
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 8 <= bytes; i += 8) {
    const std::uint64_t bits = draw();
    auto ascii = [](std::uint64_t nibbles) {  // each byte 0-15 -> '0'-'9', 'a'-'f'
      const std::uint64_t letter = ((nibbles + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
      return nibbles + 0x3030303030303030ull + letter * ('a' - '0' - 10);
    };
    const std::uint64_t high = ascii((bits >> 4) & 0x0F0F0F0F0F0F0F0Full);
    const std::uint64_t low = ascii(bits & 0x0F0F0F0F0F0F0F0Full);
    const __m128i pairs = _mm_unpacklo_epi8(_mm_cvtsi64_si128(static_cast<long long>(high)),
                                            _mm_cvtsi64_si128(static_cast<long long>(low)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), pairs);
    p += 16;
  }
#endif
  std::uint64_t bits = 0;
  for (std::size_t k = 0; i < bytes; ++i, ++k) {
    if (k % 8 == 0) bits = draw();
    const std::size_t b = static_cast<std::size_t>(bits & 0xFF);
    bits >>= 8;
    std::memcpy(p, &kPairs[2 * b], 2);
    p += 2;
  }
}

template <class Draw>
std::string randomHex(std::size_t bytes, Draw&& draw) {
  std::string out;
  appendRandomHex(out, bytes, std::forward<Draw>(draw));
  return out;
}

/// X-Forwarded-For to send: the client's value (if any) with the peer address appended.
[[nodiscard]] std::string appendForwardedFor(std::string_view existing, std::string_view peer);

/// A request id a client may pass through: 1-200 visible ASCII characters. Others are replaced.
[[nodiscard]] bool acceptableRequestId(std::string_view id) noexcept;

/// Whether an Accept-Encoding value accepts `coding` ("gzip"): listed (or `*`) with a q-value
/// above 0 (RFC 9110 12.5.3). Case-insensitive.
[[nodiscard]] bool acceptsEncoding(std::string_view acceptEncoding, std::string_view coding) noexcept;

/// The media type of a Content-Type value, lower case, without parameters ("text/html").
[[nodiscard]] std::string mediaType(std::string_view contentType);

/// True for application/json and the structured-syntax `+json` types (application/problem+json,
/// application/vnd.api+json), parameters ignored, any case (RFC 6839 §3.1).
[[nodiscard]] bool isJsonMediaType(std::string_view contentType);

/// `data` gzip-compressed at zlib `level` (1-9); nullopt when zlib fails.
[[nodiscard]] std::optional<std::string> gzipCompress(std::string_view data, int level);

/// gzip for a body that arrives in blocks (a streamed answer): each block's output is flushed
/// (Z_SYNC_FLUSH), so what the upstream sent reaches the client without waiting for more, at a
/// small cost in ratio. One stream per body; not thread-safe.
class GzipStream {
 public:
  /// `level`: zlib level 1-9. ok() is false when zlib could not start.
  explicit GzipStream(int level);
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  /// Compresses `data` and appends the output to `out`; `last`: the body ends here (the gzip
  /// trailer follows). False when zlib fails (the body cannot be completed).
  bool write(std::string_view data, bool last, std::string& out);

 private:
  struct State;
  std::unique_ptr<State> state_;
  bool ok_ = false;
};

/// Splits a request-target into path and query. Origin form ("/a?b") as is; absolute form
/// ("http://h/a?b") keeps the path and query; "*" and anything else give path "" (not routable).
void splitTarget(std::string_view target, std::string_view& path, std::string_view& query) noexcept;

}  // namespace gatelab::proxy
