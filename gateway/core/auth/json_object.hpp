#pragma once
// A strict, small JSON reader for the two JSON texts of a JWS: the protected header and the
// claims set. Both must be one JSON object (RFC 7519 §7.2 steps 3-4 and 10).
//
// Why not nlohmann-json here: it is the repo's JSON library (and parses JWKS documents in
// jwk.cpp, at config load), but on the request path its SAX parser alone costs about as much as
// the whole HS256 budget. This reader only builds what verification needs: the top-level members
// with scalar values as text. The fuzz target tests/fuzz/fuzz_jwt.cpp checks it against
// nlohmann-json, input for input.
//
// Accepted grammar: RFC 8259, strictly. UTF-8 only, ill-formed UTF-8 rejected (overlong forms,
// surrogates, > U+10FFFF); \u escapes decoded, a lone or misordered surrogate escape rejected;
// numbers as the RFC writes them (no leading '+', no leading zeros, no "NaN"); only space, tab,
// CR and LF as whitespace; nothing after the closing brace but whitespace. Beyond RFC 8259:
// duplicate member names at the top level are rejected (RFC 7515 §5.2 lets a parser do so, and
// it removes any doubt about which "alg" or "exp" counts), nesting deeper than kMaxJsonDepth is
// rejected (bounded work, no deep recursion), and so are objects with more than kMaxJsonMembers
// top-level members.
//
// Thread safety: free function without state. Complexity: O(n + m log m) for n bytes and m
// members; allocates the members' names and texts.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gatelab::core::auth {

inline constexpr std::size_t kMaxJsonDepth = 32;
inline constexpr std::size_t kMaxJsonMembers = 256;

enum class JsonType : std::uint8_t { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };

/// One top-level member of a JSON object.
struct JsonMember {
  std::string name;                  ///< decoded member name
  JsonType type = JsonType::kNull;
  /// kString: the decoded string; kNumber: the number exactly as written; kTrue/kFalse: "true" /
  /// "false"; kArray whose items are all strings: the items joined by one space; else empty.
  std::string text;
  std::vector<std::string> strings;  ///< kArray whose items are all strings: the items
  bool stringArray = false;          ///< kArray and every item a string (true for [])
};

/// Parses `in` as one JSON object, replacing `members` with its top-level members in document
/// order. On failure returns false and sets `error` to a short reason with the byte offset
/// ("invalid escape at byte 17"); `members` is then unspecified.
[[nodiscard]] bool parseJsonObject(std::string_view in, std::vector<JsonMember>& members, std::string& error);

}  // namespace gatelab::core::auth
