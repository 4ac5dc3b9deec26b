#pragma once
// HTTP field syntax checks (RFC 9110 §5) and an owning header list for the policies that edit
// header fields (identity headers, header transforms, CORS): both hosts can use it, the proxy by
// copying a Beast request's fields in and out, the simulator directly.
//
// Thread safety: free functions without state; a HeaderList is a plain value.
// Complexity: every function is O(size of its input).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatelab::core {

/// `s` without the optional whitespace (SP, HTAB) at either end. Inline: it runs for every field
/// value the proxy reads.
[[nodiscard]] inline std::string_view trimOws(std::string_view s) noexcept {
  auto ows = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && ows(s.back())) s.remove_suffix(1);
  return s;
}

/// True for an RFC 9110 §5.6.2 tchar: ALPHA DIGIT and !#$%&'*+-.^_`|~.
[[nodiscard]] constexpr bool isTchar(unsigned char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

/// True when `s` is a non-empty RFC 9110 §5.6.2 token (tchars only): the syntax of field names
/// and methods.
[[nodiscard]] bool isToken(std::string_view s) noexcept;

/// Position of the first byte that may not appear in a field value, or nullopt when `value` is
/// field-content (RFC 9110 §5.5): VCHAR, obs-text (bytes >= 0x80), SP and HTAB only. Refused:
/// NUL, CR, LF (the bytes RFC 9110 §5.5 singles out: CR/LF would start a new field or message,
/// NUL truncates it in C-string based servers) and the other controls 0x01-0x1F and 0x7F.
[[nodiscard]] std::optional<std::size_t> findUnsafeFieldByte(std::string_view value) noexcept;

/// findUnsafeFieldByte(value) == nullopt.
[[nodiscard]] inline bool isSafeFieldValue(std::string_view value) noexcept {
  return !findUnsafeFieldByte(value).has_value();
}

/// "CR", "LF", "NUL" or "control byte 0x07" for an unsafe byte, for messages.
[[nodiscard]] std::string describeUnsafeByte(char c);

/// One field line. Names keep the case they were given; every lookup is case-insensitive.
struct HeaderField {
  std::string name{};
  std::string value{};
  friend bool operator==(const HeaderField&, const HeaderField&) = default;
};

/// Field lines in message order. Several lines may share a name (RFC 9110 §5.3).
using HeaderList = std::vector<HeaderField>;

/// Index of the first line named `name` (case-insensitive), or nullopt.
[[nodiscard]] std::optional<std::size_t> findField(const HeaderList& fields, std::string_view name) noexcept;

/// Number of lines named `name` (case-insensitive).
[[nodiscard]] std::size_t countFields(const HeaderList& fields, std::string_view name) noexcept;

/// Removes every line named `name` (case-insensitive), keeping the order of the others.
/// Returns how many were removed.
std::size_t removeFields(HeaderList& fields, std::string_view name);

/// True when the comma-separated list `value` holds `member` (ASCII case-insensitive, optional
/// whitespace around members), e.g. hasListMember("Accept, Origin", "origin").
[[nodiscard]] bool hasListMember(std::string_view value, std::string_view member) noexcept;

}  // namespace gatelab::core
