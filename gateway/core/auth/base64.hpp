#pragma once
// Strict base64 (RFC 4648) for JWTs and key material.
//
// - base64url (RFC 4648 §5) as JWS uses it (RFC 7515 §2): alphabet A-Z a-z 0-9 '-' '_', no '='
//   padding, no whitespace. A length of 4k+1 characters is rejected, and so are non-zero bits
//   in the last character's unused low bits: every byte string has exactly one accepted
//   encoding, so a token cannot be re-spelled without changing its text.
// - base64 (RFC 4648 §4), used for HMAC secrets written in config: alphabet A-Z a-z 0-9 '+' '/',
//   '=' padding required (length a multiple of 4), the same canonical-bits rule.
//
// Decoders append to `out` (so a caller can reuse a buffer) and leave `out` unspecified when
// they return false. Pure, no allocation beyond `out`'s growth.
// Thread safety: free functions without state. Complexity: O(n).

#include <string>
#include <string_view>

namespace gatelab::core::auth {

/// Decodes unpadded base64url `in`, appending the bytes to `out`. False on any character outside
/// the alphabet (including '='), a 4k+1 length, or non-zero unused bits.
[[nodiscard]] bool decodeBase64Url(std::string_view in, std::string& out);

/// Decodes padded standard base64 `in`, appending the bytes to `out`. False on a length that is
/// not a multiple of 4, a character outside the alphabet, misplaced or excess '=', or non-zero
/// unused bits.
[[nodiscard]] bool decodeBase64(std::string_view in, std::string& out);

/// Unpadded base64url encoding of `bytes` (the only form decodeBase64Url accepts).
[[nodiscard]] std::string encodeBase64Url(std::string_view bytes);

/// Padded standard base64 encoding of `bytes`.
[[nodiscard]] std::string encodeBase64(std::string_view bytes);

}  // namespace gatelab::core::auth
