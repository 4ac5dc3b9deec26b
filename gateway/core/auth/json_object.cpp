#include "gateway/core/auth/json_object.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace gatelab::core::auth {

namespace {

/// Bytes a string copies as they are: everything but '"', '\\', controls and non-ASCII (which
/// need a check). One table load per byte instead of four comparisons.
constexpr auto kPlainStringByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

class Reader {
 public:
  Reader(std::string_view in, std::string& error) : in_(in), error_(error) {}

  bool object(std::vector<JsonMember>& members) {
    members.clear();
    members.reserve(16);  // a typical header or claims set: no regrowth
    skipSpace();
    if (!consume('{')) return fail("expected a JSON object");
    skipSpace();
    if (consume('}')) return end();
    while (true) {
      skipSpace();
      if (members.size() == kMaxJsonMembers) return fail("more than 256 members");
      JsonMember& m = members.emplace_back();
      if (peek() != '"') return fail("expected a member name");
      if (!string(&m.name)) return false;
      skipSpace();
      if (!consume(':')) return fail("expected ':'");
      skipSpace();
      if (!value(1, &m)) return false;
      skipSpace();
      if (consume(',')) continue;
      if (consume('}')) break;
      return fail("expected ',' or '}'");
    }
    if (!end()) return false;
    return uniqueNames(members);
  }

 private:
  [[nodiscard]] bool atEnd() const noexcept { return pos_ >= in_.size(); }
  [[nodiscard]] char peek() const noexcept { return atEnd() ? '\0' : in_[pos_]; }
  bool consume(char c) noexcept {
    if (atEnd() || in_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  void skipSpace() noexcept {
    while (!atEnd()) {
      const char c = in_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }
  bool fail(std::string_view what) {
    error_.assign(what);
    error_ += " at byte ";
    error_ += std::to_string(pos_);
    return false;
  }
  bool end() {
    skipSpace();
    return atEnd() || fail("unexpected text after the object");
  }

  bool uniqueNames(const std::vector<JsonMember>& members) {
    if (members.size() <= 16) {
      // Pairwise, cheapest test first: most pairs differ in length or first byte.
      for (std::size_t i = 1; i < members.size(); ++i) {
        const std::string& a = members[i].name;
        for (std::size_t j = 0; j < i; ++j) {
          const std::string& b = members[j].name;
          if (a.size() == b.size() && (a.empty() || a[0] == b[0]) && a == b) return duplicate(a);
        }
      }
      return true;
    }
    std::vector<std::string_view> names;
    names.reserve(members.size());
    for (const JsonMember& m : members) names.emplace_back(m.name);
    std::sort(names.begin(), names.end());
    const auto dup = std::adjacent_find(names.begin(), names.end());
    return dup == names.end() || duplicate(*dup);
  }
  bool duplicate(std::string_view name) {
    // The name is the sender's text: say which member without echoing arbitrary bytes.
    error_ = "duplicate member name";
    if (name.size() <= 16 && std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x21 && c <= 0x7E && c != '"' && c != '\\'; })) {
      error_ += " '";
      error_.append(name);
      error_ += "'";
    }
    return false;
  }

  /// A value at nesting `depth` (the top-level object's members are at depth 1). `m` is the
  /// member to fill for a top-level value, null for nested values (validated, not kept).
  bool value(std::size_t depth, JsonMember* m) {
    switch (peek()) {
      case '"':
        if (m != nullptr) m->type = JsonType::kString;
        return string(m != nullptr ? &m->text : nullptr);
      case '{':
        if (m != nullptr) m->type = JsonType::kObject;
        return nestedObject(depth + 1);
      case '[':
        if (m != nullptr) m->type = JsonType::kArray;
        return array(depth + 1, m);
      case 't':
        if (m != nullptr) { m->type = JsonType::kTrue; m->text = "true"; }
        return literal("true");
      case 'f':
        if (m != nullptr) { m->type = JsonType::kFalse; m->text = "false"; }
        return literal("false");
      case 'n':
        if (m != nullptr) m->type = JsonType::kNull;
        return literal("null");
      default:
        if (m != nullptr) m->type = JsonType::kNumber;
        return number(m != nullptr ? &m->text : nullptr);
    }
  }

  bool literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool nestedObject(std::size_t depth) {
    if (depth > kMaxJsonDepth) return fail("nesting deeper than 32");
    ++pos_;  // '{'
    skipSpace();
    if (consume('}')) return true;
    while (true) {
      skipSpace();
      if (peek() != '"') return fail("expected a member name");
      if (!string(nullptr)) return false;
      skipSpace();
      if (!consume(':')) return fail("expected ':'");
      skipSpace();
      if (!value(depth, nullptr)) return false;
      skipSpace();
      if (consume(',')) continue;
      if (consume('}')) return true;
      return fail("expected ',' or '}'");
    }
  }

  bool array(std::size_t depth, JsonMember* m) {
    if (depth > kMaxJsonDepth) return fail("nesting deeper than 32");
    ++pos_;  // '['
    if (m != nullptr) m->stringArray = true;
    skipSpace();
    if (consume(']')) return true;
    while (true) {
      skipSpace();
      if (m != nullptr && m->stringArray && peek() == '"') {
        if (!string(&m->strings.emplace_back())) return false;
      } else {
        if (m != nullptr && m->stringArray) {
          m->stringArray = false;
          m->strings.clear();
        }
        if (!value(depth, nullptr)) return false;
      }
      skipSpace();
      if (consume(',')) continue;
      if (consume(']')) break;
      return fail("expected ',' or ']'");
    }
    if (m != nullptr && m->stringArray) {
      for (std::size_t i = 0; i < m->strings.size(); ++i) {
        if (i != 0) m->text.push_back(' ');
        m->text += m->strings[i];
      }
    }
    return true;
  }

  bool number(std::string* out) {
    const std::size_t start = pos_;
    consume('-');
    if (consume('0')) {
      // no leading zeros
    } else if (isDigit(peek())) {
      while (isDigit(peek())) ++pos_;
    } else {
      return fail("invalid value");
    }
    if (consume('.')) {
      if (!isDigit(peek())) return fail("invalid number");
      while (isDigit(peek())) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (!consume('+')) consume('-');
      if (!isDigit(peek())) return fail("invalid number");
      while (isDigit(peek())) ++pos_;
    }
    if (out != nullptr) out->assign(in_.substr(start, pos_ - start));
    return true;
  }

  static bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }

  static int hexValue(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex4(std::uint32_t& v) {
    if (in_.size() - pos_ < 4) return fail("invalid \\u escape");
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hexValue(in_[pos_ + static_cast<std::size_t>(i)]);
      if (h < 0) return fail("invalid \\u escape");
      v = (v << 4) | static_cast<std::uint32_t>(h);
    }
    pos_ += 4;
    return true;
  }

  static void appendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  /// Length of the well-formed UTF-8 sequence starting at pos_ (its lead byte >= 0x80), or 0
  /// (Unicode 15, table 3-7).
  [[nodiscard]] std::size_t utf8Length() const noexcept {
    const auto byte = [&](std::size_t k) -> unsigned {
      return pos_ + k < in_.size() ? static_cast<unsigned char>(in_[pos_ + k]) : 0u;
    };
    const auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
      const unsigned b = byte(k);
      return b >= lo && b <= hi;
    };
    const unsigned b0 = byte(0);
    if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
    if (b0 == 0xE0) return cont(1, 0xA0, 0xBF) && cont(2) ? 3 : 0;
    if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (b0 == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
    if (b0 == 0xF0) return cont(1, 0x90, 0xBF) && cont(2) && cont(3) ? 4 : 0;
    if (b0 >= 0xF1 && b0 <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (b0 == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
  }

  /// A string starting at the opening quote; decoded into `out` unless it is null.
  bool string(std::string* out) {
    ++pos_;  // '"'
    if (out != nullptr) out->clear();
    while (true) {
      // Copy the run of bytes that need no attention in one go.
      const std::size_t runStart = pos_;
      while (pos_ < in_.size() && kPlainStringByte[static_cast<unsigned char>(in_[pos_])]) ++pos_;
      if (out != nullptr) out->append(in_.substr(runStart, pos_ - runStart));
      if (atEnd()) return fail("unterminated string");
      const auto c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail("control character in string");
      if (c >= 0x80) {
        const std::size_t n = utf8Length();
        if (n == 0) return fail("invalid UTF-8");
        if (out != nullptr) out->append(in_.substr(pos_, n));
        pos_ += n;
        continue;
      }
      // Backslash.
      ++pos_;
      if (atEnd()) return fail("unterminated string");
      const char e = in_[pos_++];
      char decoded = 0;
      switch (e) {
        case '"': decoded = '"'; break;
        case '\\': decoded = '\\'; break;
        case '/': decoded = '/'; break;
        case 'b': decoded = '\b'; break;
        case 'f': decoded = '\f'; break;
        case 'n': decoded = '\n'; break;
        case 'r': decoded = '\r'; break;
        case 't': decoded = '\t'; break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("unpaired surrogate escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t low = 0;
            if (!consume('\\') || !consume('u')) return fail("unpaired surrogate escape");
            if (!hex4(low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) return fail("unpaired surrogate escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          if (out != nullptr) appendUtf8(*out, cp);
          continue;
        }
        default: --pos_; return fail("invalid escape");
      }
      if (out != nullptr) out->push_back(decoded);
    }
  }

  std::string_view in_;
  std::string& error_;
  std::size_t pos_ = 0;
};

}  // namespace

bool parseJsonObject(std::string_view in, std::vector<JsonMember>& members, std::string& error) {
  return Reader(in, error).object(members);
}

}  // namespace gatelab::core::auth
