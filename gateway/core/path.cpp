#include "gateway/core/path.hpp"

#include <algorithm>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>

#include "gateway/core/sse2.hpp"

namespace gatelab::core {

namespace {

// How a raw byte of the input is treated.
enum class ByteClass : std::uint8_t {
  kKeep,     // unreserved, sub-delims, ':' and '@': allowed raw in a path segment (RFC 3986 pchar)
  kSlash,    // segment separator
  kPercent,  // starts an escape
  kEncode,   // not allowed raw in a path: written as %XX so equal paths have equal bytes
  kNul,
  kControl,
};

constexpr bool isUnreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

constexpr std::array<ByteClass, 256> makeByteClasses() noexcept {
  std::array<ByteClass, 256> table{};
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto c = static_cast<unsigned char>(i);
    if (c == 0) {
      table[i] = ByteClass::kNul;
    } else if (c < 0x20 || c == 0x7F) {
      table[i] = ByteClass::kControl;
    } else if (c == '/') {
      table[i] = ByteClass::kSlash;
    } else if (c == '%') {
      table[i] = ByteClass::kPercent;
    } else if (isUnreserved(c)) {
      table[i] = ByteClass::kKeep;
    } else {
      switch (c) {
        case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
        case ',': case ';': case '=': case ':': case '@':
          table[i] = ByteClass::kKeep;
          break;
        default:
          table[i] = ByteClass::kEncode;
          break;
      }
    }
  }
  return table;
}

constexpr std::array<ByteClass, 256> kByteClasses = makeByteClasses();
constexpr std::string_view kUpperHex = "0123456789ABCDEF";

constexpr int hexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void appendEscape(std::string& out, unsigned char byte) {
  out.push_back('%');
  out.push_back(kUpperHex[static_cast<std::size_t>(byte >> 4)]);
  out.push_back(kUpperHex[static_cast<std::size_t>(byte & 0x0F)]);
}

// True when `raw` (which starts with '/') is already in canonical form: only bytes allowed raw,
// no escapes, no empty segment except a final one (trailing slash), no "." or ".." segment. Most
// request paths are; checking is cheaper than rebuilding them byte by byte.
bool isCanonicalScalar(std::string_view raw) noexcept {
  const std::size_t n = raw.size();
  std::size_t segmentStart = 1;
  for (std::size_t i = 1; i <= n; ++i) {
    if (i == n || raw[i] == '/') {
      const std::size_t length = i - segmentStart;
      if (length == 0 && i != n) return false;  // "//"
      if (length != 0 && length <= 2 && raw[segmentStart] == '.' && raw[i - 1] == '.') {
        return false;  // "." or ".."
      }
      segmentStart = i + 1;
    } else if (kByteClasses[static_cast<unsigned char>(raw[i])] != ByteClass::kKeep) {
      return false;
    }
  }
  return true;
}

#if defined(__SSE2__)
// The same answer, sixteen bytes at a time (the last block copied into a zero-padded buffer, so
// nothing past the path is read). A block is refused at once for any byte that is neither kKeep
// nor '/', and for "//" anywhere (across a block boundary too); a '.' that starts a segment sends
// the path to the scalar check, which tells "/.well-known" from "/./" (rare in real paths). The
// refused bytes are written out here: tests tie them to kByteClasses through normalizePath.
bool isCanonical(std::string_view raw) noexcept {
  const std::size_t n = raw.size();
  using sse2::inRange;
  bool previousSlash = false;  // the block before ended in '/'
  for (std::size_t at = 0; at < n; at += 16) {
    __m128i x;
    const std::size_t valid = std::min<std::size_t>(16, n - at);
    if (valid == 16) {
      x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(raw.data() + at));
    } else {
      alignas(16) char tail[16] = {};
      std::memcpy(tail, raw.data() + at, valid);
      x = _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
    }
    // Bytes 0x20-0x7E that kByteClasses does not keep (besides '/'): what the compares below find.
    const __m128i outside = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x21)), _mm_cmpgt_epi8(x, _mm_set1_epi8(0x7E)));
    __m128i refused = _mm_or_si128(outside, inRange(x, '"', '#'));
    refused = _mm_or_si128(refused, _mm_cmpeq_epi8(x, _mm_set1_epi8('%')));
    refused = _mm_or_si128(refused, _mm_cmpeq_epi8(x, _mm_set1_epi8('<')));
    refused = _mm_or_si128(refused, inRange(x, '>', '?'));
    refused = _mm_or_si128(refused, inRange(x, '[', '^'));
    refused = _mm_or_si128(refused, _mm_cmpeq_epi8(x, _mm_set1_epi8('`')));
    refused = _mm_or_si128(refused, inRange(x, '{', '}'));
    const unsigned mask = valid == 16 ? 0xFFFFu : (1u << valid) - 1;
    if ((static_cast<unsigned>(_mm_movemask_epi8(refused)) & mask) != 0) return false;
    const auto slashes = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')))) & mask;
    const auto dots = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')))) & mask;
    const unsigned after = (slashes << 1) | (previousSlash ? 1u : 0u);  // bit i: byte i - 1 is '/'
    if ((slashes & after) != 0) return false;                          // "//"
    if ((dots & after) != 0) return isCanonicalScalar(raw);            // a segment starting with '.'
    previousSlash = valid == 16 && (slashes & 0x8000u) != 0;
  }
  return true;
}
#else
bool isCanonical(std::string_view raw) noexcept { return isCanonicalScalar(raw); }
#endif

// Normalizes `raw` (absolute, at most kMaxPathLength, not canonical: the callers checked) into
// the empty `out`; the callers clear `out` on error.
//
// `out` is built as "/" followed by complete segments each terminated by '/', so removing the last
// segment for ".." is a truncation to the previous '/'. The final '/' is dropped at the end unless
// the path keeps a trailing slash.
PathStatus rebuildInto(std::string_view raw, std::string& out) {
  out.push_back('/');
  bool lastSegmentWasDot = false;  // the last non-empty segment was "." or ".."
  const std::size_t n = raw.size();
  std::size_t i = 1;
  while (i < n) {
    if (raw[i] == '/') {  // empty segment: collapses into the previous separator
      ++i;
      continue;
    }
    const std::size_t segmentStart = out.size();
    while (i < n && raw[i] != '/') {
      // Most bytes are kept as they are: copy such runs in one append.
      const std::size_t runStart = i;
      while (i < n && kByteClasses[static_cast<unsigned char>(raw[i])] == ByteClass::kKeep) ++i;
      if (i > runStart) out.append(raw.data() + runStart, i - runStart);
      if (i == n) break;
      const auto c = static_cast<unsigned char>(raw[i]);
      switch (kByteClasses[c]) {
        case ByteClass::kKeep:   // consumed by the run above
        case ByteClass::kSlash:  // ends the segment: the loop condition stops here
          break;
        case ByteClass::kPercent: {
          if (n - i < 3) return PathStatus::kBadPercentEncoding;
          const int hi = hexValue(raw[i + 1]);
          const int lo = hexValue(raw[i + 2]);
          if (hi < 0 || lo < 0) return PathStatus::kBadPercentEncoding;
          const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
          if (decoded == 0) return PathStatus::kNulByte;
          if (isUnreserved(decoded)) {
            out.push_back(static_cast<char>(decoded));
          } else {
            appendEscape(out, decoded);
          }
          i += 3;
          break;
        }
        case ByteClass::kEncode:
          appendEscape(out, c);
          ++i;
          break;
        case ByteClass::kNul:
          return PathStatus::kNulByte;
        case ByteClass::kControl:
          return PathStatus::kControlCharacter;
      }
    }
    const std::string_view segment(out.data() + segmentStart, out.size() - segmentStart);
    if (segment == ".") {
      out.resize(segmentStart);
      lastSegmentWasDot = true;
    } else if (segment == "..") {
      out.resize(segmentStart);  // out ends with '/', the root's or the previous segment's
      if (out.size() == 1) return PathStatus::kAboveRoot;
      out.resize(out.rfind('/', out.size() - 2) + 1);
      lastSegmentWasDot = true;
    } else {
      out.push_back('/');
      lastSegmentWasDot = false;
    }
    // Escaping can triple the size; stop early rather than build a huge string to reject.
    if (out.size() > kMaxPathLength + 1) return PathStatus::kTooLong;
  }

  const bool keepTrailingSlash = raw.back() == '/' || lastSegmentWasDot;
  if (!keepTrailingSlash && out.size() > 1) out.pop_back();
  if (out.size() > kMaxPathLength) return PathStatus::kTooLong;
  return PathStatus::kOk;
}

}  // namespace

const char* toString(PathStatus status) noexcept {
  switch (status) {
    case PathStatus::kOk: return "ok";
    case PathStatus::kNotAbsolute: return "not_absolute";
    case PathStatus::kBadPercentEncoding: return "bad_percent_encoding";
    case PathStatus::kNulByte: return "nul_byte";
    case PathStatus::kControlCharacter: return "control_character";
    case PathStatus::kAboveRoot: return "above_root";
    case PathStatus::kTooLong: return "too_long";
  }
  return "unknown";
}

bool isNormalPath(std::string_view raw) noexcept {
  return !raw.empty() && raw.front() == '/' && raw.size() <= kMaxPathLength && isCanonical(raw);
}

PathStatus normalizePathView(std::string_view raw, std::string& scratch, std::string_view& out) {
  out = {};
  if (raw.empty() || raw.front() != '/') return PathStatus::kNotAbsolute;
  if (raw.size() > kMaxPathLength) return PathStatus::kTooLong;
  if (isCanonical(raw)) {
    out = raw;
    return PathStatus::kOk;
  }
  scratch.clear();
  const PathStatus status = rebuildInto(raw, scratch);
  if (status != PathStatus::kOk) {
    scratch.clear();
    return status;
  }
  out = scratch;
  return PathStatus::kOk;
}

PathStatus normalizePath(std::string_view raw, std::string& out) {
  std::string_view normal;
  const PathStatus status = normalizePathView(raw, out, normal);
  if (status == PathStatus::kOk && normal.data() == raw.data()) out.assign(raw);  // normal already
  if (status != PathStatus::kOk) out.clear();
  return status;
}

}  // namespace gatelab::core
