#include "gateway/proxy/response_head.hpp"

#include <array>
#include <bit>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "gateway/core/http_field.hpp"
#include "gateway/core/sse2.hpp"


namespace gatelab::proxy {
namespace {

// A field name's token characters (RFC 9110 5.6.2), as a table.
constexpr std::array<bool, 256> kToken = [] {
  std::array<bool, 256> t{};
  for (std::size_t c = 0; c < t.size(); ++c) t[c] = core::isTchar(static_cast<unsigned char>(c));
  return t;
}();

// The length of the run of token characters at the start of `s` (the field name before ':').
// Sixteen at a time where SSE2 is: a byte is refused for being outside '!'..'~' or one of the
// delimiters of RFC 9110 5.6.2 ("(),/:;<=>?@[\]{} and DQUOTE), which leaves exactly kToken.
std::size_t tokenRun(std::string_view s) noexcept {
  std::size_t i = 0;
#if defined(__SSE2__)
  using core::sse2::inRange;
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    __m128i refused = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8('!')), _mm_cmpgt_epi8(x, _mm_set1_epi8('~')));
    refused = _mm_or_si128(refused, _mm_cmpeq_epi8(x, _mm_set1_epi8('"')));
    refused = _mm_or_si128(refused, inRange(x, '(', ')'));
    refused = _mm_or_si128(refused, _mm_cmpeq_epi8(x, _mm_set1_epi8(',')));
    refused = _mm_or_si128(refused, _mm_cmpeq_epi8(x, _mm_set1_epi8('/')));
    refused = _mm_or_si128(refused, inRange(x, ':', '@'));
    refused = _mm_or_si128(refused, inRange(x, '[', ']'));
    refused = _mm_or_si128(refused, _mm_cmpeq_epi8(x, _mm_set1_epi8('{')));
    refused = _mm_or_si128(refused, _mm_cmpeq_epi8(x, _mm_set1_epi8('}')));
    if (const auto m = static_cast<unsigned>(_mm_movemask_epi8(refused)); m != 0) {
      return i + static_cast<std::size_t>(std::countr_zero(m));
    }
  }
#endif
  while (i < s.size() && kToken[static_cast<unsigned char>(s[i])]) ++i;
  return i;
}

// The position of the first control byte (below 0x20, or DEL) in `s` from `from`, or s.size().
// Eight bytes at a time: a word's lowest flagged byte is exact in both tests (the borrows that can
// flag bytes wrongly only run upwards), so the lower of the two is the first control byte.
std::size_t firstControl(std::string_view s, std::size_t from) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  std::size_t i = from;
#if defined(__SSE2__)
  // Sixteen at a time first: with the sign bit flipped, the bytes below 0x20 are the only ones
  // below 0xA0 as signed bytes (obs-text, 0x80 and up, is not a control byte).
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
  const __m128i space = _mm_set1_epi8(static_cast<char>(0x20 ^ 0x80));
  const __m128i delete7f = _mm_set1_epi8(0x7F);
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const __m128i hit = _mm_or_si128(_mm_cmplt_epi8(_mm_xor_si128(x, flip), space), _mm_cmpeq_epi8(x, delete7f));
    if (const auto m = static_cast<unsigned>(_mm_movemask_epi8(hit)); m != 0) {
      return i + static_cast<std::size_t>(std::countr_zero(m));
    }
  }
#endif
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    const std::uint64_t below = (x - kOnes * 0x20) & ~x & kHigh;
    const std::uint64_t y = x ^ (kOnes * 0x7F);
    const std::uint64_t del = (y - kOnes) & ~y & kHigh;
    if (const std::uint64_t m = below | del; m != 0) return i + static_cast<std::size_t>(std::countr_zero(m) >> 3);
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return i;
  }
  return s.size();
}

// Exact, case-insensitive comparison of a token with a lower-case ASCII `lower` made of letters and
// '-'. Eight bytes at a time: OR-ing 0x20 lowers a letter and leaves '-' as it is, and no other
// token character becomes a letter or '-' by it.
bool nameIs(std::string_view name, std::string_view lower) noexcept {
  const std::size_t n = name.size();
  if (n != lower.size()) return false;
  if (n < 8) {
    for (std::size_t i = 0; i < n; ++i) {
      if ((name[i] | 0x20) != lower[i]) return false;
    }
    return true;
  }
  constexpr std::uint64_t kLow = 0x2020202020202020ull;
  auto load = [](const char* p) {
    std::uint64_t x;
    std::memcpy(&x, p, 8);
    return x;
  };
  for (std::size_t i = 0; i + 8 < n; i += 8) {
    if ((load(name.data() + i) | kLow) != load(lower.data() + i)) return false;
  }
  return (load(name.data() + n - 8) | kLow) == load(lower.data() + n - 8);  // the last 8, overlapping
}

// `v` as a decimal number of 1 to `maxDigits` digits (nothing else: no sign, no list).
std::optional<std::uint64_t> digits(std::string_view v, std::size_t maxDigits) noexcept {
  if (v.empty() || v.size() > maxDigits) return std::nullopt;
  std::uint64_t n = 0;
  for (const char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

// A comma-separated list whose members (OWS trimmed) are tokens or empty: what Beast's parser asks
// of a Connection field (it refuses the answer otherwise). Says whether "close" and "keep-alive"
// are members (case-insensitive).
bool tokenList(std::string_view v, bool& close, bool& keepAlive) noexcept {
  while (true) {
    const std::size_t comma = v.find(',');
    const std::string_view member = core::trimOws(v.substr(0, comma));
    // A line holds no control bytes, so a member nameIs() matches is the word itself in some case:
    // a token, not to be checked as one again.
    if (nameIs(member, "close")) {
      close = true;
    } else if (nameIs(member, "keep-alive")) {
      keepAlive = true;
    } else if (!member.empty() && !core::isToken(member)) {
      return false;
    }
    if (comma == std::string_view::npos) return true;
    v.remove_prefix(comma + 1);
  }
}

}  // namespace

HeadParse parseResponseHead(std::string_view bytes, bool bodyless, std::size_t limit, ResponseHead& out) noexcept {
  if (bytes.empty()) return HeadParse::kIncomplete;
  const std::string_view within = bytes.substr(0, limit);
  // The next line of `within` from `at`, without its CRLF, checked on the way: a line holds only
  // what a field value may (HTAB, SP, visible ASCII, obs-text). kParsed when it is complete; kOther
  // for any other control byte (a bare LF or CR included); kIncomplete when it does not end yet.
  std::size_t at = 0;
  auto nextLine = [&](std::string_view& line) {
    std::size_t pos = at;
    while (true) {
      pos = firstControl(within, pos);
      if (pos == within.size()) break;
      const char c = within[pos];
      if (c == '\t') {
        ++pos;
        continue;
      }
      if (c != '\r') return HeadParse::kOther;
      if (pos + 1 == within.size()) break;
      if (within[pos + 1] != '\n') return HeadParse::kOther;
      line = within.substr(at, pos - at);
      at = pos + 2;
      return HeadParse::kParsed;
    }
    return bytes.size() >= limit ? HeadParse::kOther : HeadParse::kIncomplete;  // past the limit: Beast's
  };

  // Status line: "HTTP/1.x SSS reason".
  std::string_view line;
  if (const HeadParse r = nextLine(line); r != HeadParse::kParsed) return r;
  if (line.size() < 13 || line.compare(0, 7, "HTTP/1.") != 0 || (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
      line[12] != ' ')
    return HeadParse::kOther;
  unsigned status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return HeadParse::kOther;
    status = status * 10 + static_cast<unsigned>(line[i] - '0');
  }
  if (status < 200) return HeadParse::kOther;  // interim answers, and what is not a status
  const std::string_view reason = line.substr(13);
  out.version = line[7] == '1' ? 11 : 10;
  out.status = status;
  out.reason = reason;
  out.contentLength.reset();
  out.retryAfter.reset();
  out.connection = {};
  out.fieldCount = 0;
  bool connectionSeen = false;
  bool close = false;
  bool keepAliveListed = false;
  bool retryAfterSeen = false;

  while (true) {
    if (const HeadParse r = nextLine(line); r != HeadParse::kParsed) return r;
    if (line.empty()) break;
    if (out.fieldCount == ResponseHead::kMaxFields) return HeadParse::kOther;
    // The name: token characters up to the colon (none, or anything else before it: Beast's to read;
    // an obs-fold line starts with SP).
    const std::size_t colon = tokenRun(line);
    if (colon == 0 || colon == line.size() || line[colon] != ':') return HeadParse::kOther;
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    value = core::trimOws(value);
    out.fields[out.fieldCount++] = ResponseHead::Field{name, value, std::string_view(line.data(), line.size() + 2)};
    switch (name.size()) {
      case 10:
        if (nameIs(name, "connection")) {
          bool c = false;
          bool k = false;
          if (!tokenList(value, c, k)) return HeadParse::kOther;
          if (!connectionSeen) {  // Beast's keep_alive() reads the first one
            connectionSeen = true;
            out.connection = value;
            close = c;
            keepAliveListed = k;
          }
        }
        break;
      case 11:
        if (!retryAfterSeen && nameIs(name, "retry-after")) {
          retryAfterSeen = true;  // the first one counts, as a lookup by name finds it
          out.retryAfter = delaySeconds(value);
        }
        break;
      case 14:
        if (nameIs(name, "content-length")) {
          if (out.contentLength) return HeadParse::kOther;  // a second one: Beast decides
          out.contentLength = digits(value, 19);  // (anything else: Beast decides)
          if (!out.contentLength) return HeadParse::kOther;
        }
        break;
      case 16:
        if (bool c = false, k = false; nameIs(name, "proxy-connection") && !tokenList(value, c, k))
          return HeadParse::kOther;
        break;
      case 17:
        if (nameIs(name, "transfer-encoding")) return HeadParse::kOther;
        break;
      default: break;
    }
  }
  if (!bodyless && status != 204 && status != 304 && !out.contentLength) return HeadParse::kOther;  // read to close
  out.keepAlive = out.version == 11 ? !close : keepAliveListed;
  out.size = at;
  return HeadParse::kParsed;
}

std::optional<std::chrono::seconds> delaySeconds(std::string_view value) noexcept {
  const auto n = digits(value, 9);
  if (!n) return std::nullopt;
  return std::chrono::seconds{static_cast<std::int64_t>(*n)};
}

}  // namespace gatelab::proxy
