#pragma once
// Request-path normalization: the one canonical form every path-based decision (routing, ACLs,
// rate-limit keys) is made on, so that `/api/../admin`, `//admin`, `/%61dmin` and `/admin` cannot
// be told apart by one policy and confused by another. See docs/routing.md for the rules and the
// bypass examples they defeat.
//
// Pure: no I/O, no allocation once the output string is warm, no exceptions other than
// std::bad_alloc from growing the output.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gatelab::core {

/// Longest path (in bytes, before and after normalization) normalizePath accepts. Longer request
/// paths are rejected with PathStatus::kTooLong (nginx's default large_client_header_buffers is
/// 8k for the whole request line, so legitimate paths stay far below this).
inline constexpr std::size_t kMaxPathLength = 8192;

/// Outcome of normalizePath. Everything but kOk means "answer 400, do not route".
enum class PathStatus : std::uint8_t {
  kOk,
  kNotAbsolute,         ///< empty, or does not start with '/' (e.g. "*", "a/b")
  kBadPercentEncoding,  ///< '%' not followed by two hex digits ("%zz", truncated "%4")
  kNulByte,             ///< a raw NUL byte or the escape %00
  kControlCharacter,    ///< a raw byte 0x01-0x1F or 0x7F
  kAboveRoot,           ///< a ".." segment would climb above "/" ("/..", "/a/../../b")
  kTooLong,             ///< input or result longer than kMaxPathLength
};

/// Stable lower-case identifier, e.g. "bad_percent_encoding" (for events, logs, counters).
const char* toString(PathStatus status) noexcept;

/// Normalizes the path part of a request target (no query string, no fragment) into `out`.
///
/// Steps, in this order (RFC 3986 §6.2.2 and §5.2.4):
///  1. percent-escapes of unreserved characters (ALPHA DIGIT - . _ ~) are decoded; every other
///     escape is kept with its hex digits upper-cased ("%2f" -> "%2F": an encoded slash is data,
///     never a separator); %00 and malformed escapes are errors;
///  2. bytes that may not appear raw in a path (space, '"', '<', '>', '\\', '^', '`', '{', '|',
///     '}', '[', ']', '?', '#', bytes >= 0x80) are percent-encoded, so that equal paths have equal
///     bytes; control bytes are errors;
///  3. runs of '/' collapse to one;
///  4. "." and ".." segments are removed after decoding (so "%2e%2E" is ".."); a ".." that would
///     leave the root is an error, not clamped.
/// A trailing slash is kept ("/a/" stays "/a/"), and a path ending in a dot segment ends in a
/// slash ("/a/." and "/a/b/.." both give "/a/").
///
/// The result always starts with '/', contains no empty, "." or ".." segment, and is a fixed
/// point: normalizePath(out) == out.
///
/// `out` is overwritten (its capacity is reused: no allocation once it has grown to the longest
/// path seen). On error `out` is left empty.
/// Complexity: O(raw.size()). Thread-safety: reentrant; `out` must not be shared between threads.
PathStatus normalizePath(std::string_view raw, std::string& out);

/// normalizePath without copying a path that is normal already (isNormalPath): `out` is then
/// `raw` itself, else the normalized path in `scratch` (overwritten); empty on error. What the
/// router uses.
PathStatus normalizePathView(std::string_view raw, std::string& scratch, std::string_view& out);

/// True when `raw` needs no normalizing: absolute, at most kMaxPathLength bytes, only bytes
/// allowed raw in a segment (no escapes), no empty segment but a final one, no "." or ".."
/// segment. normalizePath(raw) then gives `raw` itself, so a caller may use `raw` as the
/// normalized path without copying it. (False for some paths that normalize to themselves: those
/// with escapes.) Most request paths are like this; the check reads sixteen bytes at a time where
/// SSE2 is available (x86-64), byte by byte elsewhere.
[[nodiscard]] bool isNormalPath(std::string_view raw) noexcept;

}  // namespace gatelab::core
