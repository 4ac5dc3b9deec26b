#pragma once
// Integers written in decimal (std::to_chars) into a buffer or a string, without a temporary
// string: for the values formatted on every request (rate-limit fields, Redis arguments) and every
// generated trace line.

#include <array>
#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

namespace gatelab::core {

/// Room for any 64-bit integer in decimal, sign included (-9223372036854775808: 20 characters).
inline constexpr std::size_t kMaxDecimalDigits = 20;

/// Writes `n` at `out`, which has room for kMaxDecimalDigits characters; returns the end.
template <class Integer>
char* writeDecimal(char* out, Integer n) noexcept {
  static_assert(std::is_integral_v<Integer> && sizeof(Integer) <= 8);
  return std::to_chars(out, out + kMaxDecimalDigits, n).ptr;
}

/// `n` in decimal, in `buf`.
template <class Integer>
std::string_view toDecimal(std::array<char, kMaxDecimalDigits>& buf, Integer n) noexcept {
  return std::string_view(buf.data(), static_cast<std::size_t>(writeDecimal(buf.data(), n) - buf.data()));
}

/// Appends `n` in decimal to `out`.
template <class Integer>
void appendDecimal(std::string& out, Integer n) {
  std::array<char, kMaxDecimalDigits> buf;
  out += toDecimal(buf, n);
}

/// `out` becomes `n` in decimal (its memory kept).
template <class Integer>
void assignDecimal(std::string& out, Integer n) {
  std::array<char, kMaxDecimalDigits> buf;
  out.assign(toDecimal(buf, n));
}

}  // namespace gatelab::core
