#pragma once
// The head of an upstream's answer, read without Beast's parser when it has one of the common
// shapes: a 1.0 or 1.1 status line, well-formed fields ending in CRLF, at most one Content-Length
// and no Transfer-Encoding. Anything else — chunked or read-until-close bodies, interim 1xx
// answers, obsolete line folding, bare LF line ends, bytes a field may not hold, duplicate
// lengths, more fields than kMaxFields — is left to Beast (kOther), whose parser then reads it (or
// refuses it) exactly as before. So the fast path never accepts what Beast would refuse, and a test
// checks it against Beast on a corpus and on mutations of it.
//
// Plain functions over bytes (no Asio, no Beast): the proxy calls parseResponseHead on its read
// buffer each time more bytes arrive; the views point into those bytes.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace gatelab::proxy {

struct ResponseHead {
  static constexpr std::size_t kMaxFields = 48;  // more: kOther (Beast reads them)
  struct Field {
    std::string_view name;
    std::string_view value;  ///< without the whitespace around it
    std::string_view line;   ///< the whole line as it came, CRLF included
  };
  unsigned version = 11;  ///< 10 or 11
  unsigned status = 0;    ///< 100-999 (never 1xx: those are kOther)
  std::string_view reason;
  std::size_t size = 0;  ///< bytes of the head, the blank line included
  /// The Content-Length; empty when there is none (then the answer has no body: see bodyless).
  std::optional<std::uint64_t> contentLength;
  /// Whether the connection may carry another request after this answer, as Beast's
  /// message::keep_alive() says it: HTTP/1.1 unless the first Connection field lists "close";
  /// HTTP/1.0 only when it lists "keep-alive".
  bool keepAlive = true;
  /// The first Connection field's value (empty when there is none): the fields it lists are
  /// hop-by-hop for this answer.
  std::string_view connection;
  /// A Retry-After of delay-seconds (the first such field), as a duration; empty otherwise.
  std::optional<std::chrono::seconds> retryAfter;
  std::array<Field, kMaxFields> fields{};
  std::size_t fieldCount = 0;
};

/// The most bytes an upstream answer's head may have: Beast's default header limit, which the
/// parser of the other shapes keeps, so both paths refuse the same heads.
inline constexpr std::size_t kUpstreamHeadLimit = 8192;

enum class HeadParse : std::uint8_t {
  kParsed,      ///< a complete head of the common shape: `out` describes it
  kIncomplete,  ///< no blank line yet, and nothing seen so far that rules the fast path out
  kOther,       ///< not the common shape (or past `limit`): let Beast's parser read it
};

/// Reads the head at the start of `bytes` into `out`. `bodyless`: the request was HEAD, so no
/// body follows whatever the fields say (204 and 304 answers never have one either). An answer
/// that has a body must say its length (Content-Length) to be kParsed. `limit`: the most head bytes
/// accepted (Beast's header limit); a head not complete within it is kOther.
[[nodiscard]] HeadParse parseResponseHead(std::string_view bytes, bool bodyless, std::size_t limit,
                                          ResponseHead& out) noexcept;

/// A Retry-After value of delay-seconds (1-9 digits) as a duration; empty for an HTTP date or
/// anything else.
[[nodiscard]] std::optional<std::chrono::seconds> delaySeconds(std::string_view value) noexcept;

}  // namespace gatelab::proxy
