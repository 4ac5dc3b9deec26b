#include "gateway/core/auth/base64.hpp"

#include <array>
#include <cstdint>

namespace gatelab::core::auth {

namespace {

constexpr std::uint8_t kInvalid = 0xFF;

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::uint8_t, 256> reverseTable(const char (&alphabet)[65]) {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (std::uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
  return t;
}

constexpr auto kUrlReverse = reverseTable(kUrlAlphabet);
constexpr auto kStdReverse = reverseTable(kStdAlphabet);

/// Decodes unpadded text with `table`. The canonical-bits check makes every byte string's
/// encoding unique, which is what lets a token's text stand for its bytes (the cache relies on it).
bool decodeUnpadded(std::string_view in, const std::array<std::uint8_t, 256>& table, std::string& out) {
  const std::size_t rem = in.size() % 4;
  if (rem == 1) return false;
  const std::size_t start = out.size();
  out.resize(start + in.size() / 4 * 3 + (rem == 0 ? 0 : rem - 1));
  char* o = out.data() + start;
  const auto at = [&](std::size_t k) { return table[static_cast<unsigned char>(in[k])]; };
  std::size_t i = 0;
  const std::size_t full = in.size() - rem;
  for (; i < full; i += 4) {
    const std::uint8_t a = at(i), b = at(i + 1), c = at(i + 2), d = at(i + 3);
    if ((a | b | c | d) & 0xC0) return false;  // kInvalid has the top bits set; digits never do
    const std::uint32_t v = (std::uint32_t{a} << 18) | (std::uint32_t{b} << 12) | (std::uint32_t{c} << 6) | d;
    *o++ = static_cast<char>(v >> 16);
    *o++ = static_cast<char>((v >> 8) & 0xFF);
    *o++ = static_cast<char>(v & 0xFF);
  }
  if (rem == 2) {
    const std::uint8_t a = at(i), b = at(i + 1);
    if ((a | b) & 0xC0) return false;
    if ((b & 0x0F) != 0) return false;  // 4 unused bits must be zero
    *o++ = static_cast<char>((a << 2) | (b >> 4));
  } else if (rem == 3) {
    const std::uint8_t a = at(i), b = at(i + 1), c = at(i + 2);
    if ((a | b | c) & 0xC0) return false;
    if ((c & 0x03) != 0) return false;  // 2 unused bits must be zero
    *o++ = static_cast<char>((a << 2) | (b >> 4));
    *o++ = static_cast<char>(((b & 0x0F) << 4) | (c >> 2));
  }
  return true;
}

std::string encode(std::string_view bytes, const char (&alphabet)[65], bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto byteAt = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (byteAt(i) << 16) | (byteAt(i + 1) << 8) | byteAt(i + 2);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = byteAt(i) << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    const std::uint32_t v = (byteAt(i) << 16) | (byteAt(i + 1) << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

}  // namespace

bool decodeBase64Url(std::string_view in, std::string& out) { return decodeUnpadded(in, kUrlReverse, out); }

bool decodeBase64(std::string_view in, std::string& out) {
  if (in.size() % 4 != 0) return false;
  std::size_t pad = 0;
  if (!in.empty() && in.back() == '=') pad = (in.size() >= 2 && in[in.size() - 2] == '=') ? 2 : 1;
  // Any '=' left after stripping the padding is outside the alphabet and fails below.
  return decodeUnpadded(in.substr(0, in.size() - pad), kStdReverse, out);
}

std::string encodeBase64Url(std::string_view bytes) { return encode(bytes, kUrlAlphabet, false); }

std::string encodeBase64(std::string_view bytes) { return encode(bytes, kStdAlphabet, true); }

}  // namespace gatelab::core::auth
