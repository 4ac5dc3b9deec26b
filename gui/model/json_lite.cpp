#include "gui/model/json_lite.hpp"

#include <cctype>
#include <charconv>

namespace gatelab::gui::jsonlite {
namespace {
constexpr int kMaxDepth = 64;  // gatelab's shapes nest 3 deep; deeper input is refused, not recursed into
constexpr std::uint32_t kInvalid = 0xffffffffu;
}  // namespace

const char* typeName(Type t) {
  switch (t) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "a boolean";
    case Type::kNumber:
      return "a number";
    case Type::kString:
      return "a string";
    case Type::kArray:
      return "an array";
    case Type::kObject:
      return "an object";
  }
  return "nothing";
}

bool Document::fail(const char* message) {
  if (!error_) error_ = message;
  return false;
}

void Document::skipSpace() {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
    ++pos_;
  }
}

bool Document::parse(std::string_view text, std::size_t& errorOffset, const char*& errorMessage) {
  nodes_.clear();
  text_ = text;
  pos_ = 0;
  error_ = nullptr;
  skipSpace();
  const std::uint32_t root = value(0);
  skipSpace();
  if (root != kInvalid && pos_ != text_.size()) fail("garbage after the JSON value");
  if (error_ || root == kInvalid) {
    errorOffset = pos_;
    errorMessage = error_ ? error_ : "invalid JSON";
    return false;
  }
  return true;
}

bool Document::parseString(std::string_view& out, bool& escaped) {
  // At the opening quote.
  const std::size_t start = ++pos_;
  escaped = false;
  while (pos_ < text_.size()) {
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (c == '"') {
      out = text_.substr(start, pos_ - start);
      ++pos_;
      return true;
    }
    if (c < 0x20) return fail("control character in a string");
    if (c == '\\') {
      escaped = true;
      if (++pos_ >= text_.size()) break;
      const char e = text_[pos_];
      if (e == 'u') {
        for (int i = 1; i <= 4; ++i) {
          if (pos_ + static_cast<std::size_t>(i) >= text_.size() ||
              !std::isxdigit(static_cast<unsigned char>(text_[pos_ + static_cast<std::size_t>(i)])))
            return fail("invalid \\u escape");
        }
        pos_ += 4;
      } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
        return fail("invalid escape");
      }
    }
    ++pos_;
  }
  return fail("unterminated string");
}

std::uint32_t Document::value(int depth) {
  if (depth > kMaxDepth) return fail("nested too deeply"), kInvalid;
  if (pos_ >= text_.size()) return fail("unexpected end of input"), kInvalid;
  const auto index = static_cast<std::uint32_t>(nodes_.size());
  nodes_.emplace_back();
  const char c = text_[pos_];
  if (c == '{' || c == '[') {
    const bool object = c == '{';
    const char close = object ? '}' : ']';
    nodes_[index].type = object ? Type::kObject : Type::kArray;
    ++pos_;
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == close) {
      ++pos_;
      return index;
    }
    std::uint32_t previous = 0;
    std::uint32_t count = 0;
    while (true) {
      std::string_view key;
      if (object) {
        bool keyEscaped = false;
        if (pos_ >= text_.size() || text_[pos_] != '"') return fail("expected a member name"), kInvalid;
        if (!parseString(key, keyEscaped)) return kInvalid;
        skipSpace();
        if (pos_ >= text_.size() || text_[pos_] != ':') return fail("expected ':'"), kInvalid;
        ++pos_;
        skipSpace();
      }
      const std::uint32_t child = value(depth + 1);
      if (child == kInvalid) return kInvalid;
      nodes_[child].key = key;
      if (count == 0)
        nodes_[index].first = child;
      else
        nodes_[previous].next = child;
      previous = child;
      ++count;
      skipSpace();
      if (pos_ >= text_.size()) return fail("unexpected end of input"), kInvalid;
      if (text_[pos_] == ',') {
        ++pos_;
        skipSpace();
        continue;
      }
      if (text_[pos_] == close) {
        ++pos_;
        nodes_[index].count = count;
        return index;
      }
      return fail(object ? "expected ',' or '}'" : "expected ',' or ']'"), kInvalid;
    }
  }
  if (c == '"') {
    std::string_view s;
    bool escaped = false;
    if (!parseString(s, escaped)) return kInvalid;
    nodes_[index].type = Type::kString;
    nodes_[index].text = s;
    nodes_[index].escaped = escaped;
    return index;
  }
  const auto literal = [&](std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  };
  if (c == 't' || c == 'f' || c == 'n') {
    if (literal("true")) {
      nodes_[index].type = Type::kBool;
      nodes_[index].boolean = true;
    } else if (literal("false")) {
      nodes_[index].type = Type::kBool;
    } else if (!literal("null")) {
      return fail("invalid literal"), kInvalid;
    }
    return index;
  }
  // A number, checked against the JSON grammar (from_chars alone would take "01", "1.", "inf").
  const std::size_t start = pos_;
  if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
  const auto digits = [&] {
    const std::size_t from = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    return pos_ - from;
  };
  const std::size_t intStart = pos_;
  const std::size_t intDigits = digits();
  if (intDigits == 0) return fail("invalid value"), kInvalid;
  if (intDigits > 1 && text_[intStart] == '0') return fail("leading zero in a number"), kInvalid;
  if (pos_ < text_.size() && text_[pos_] == '.') {
    ++pos_;
    if (digits() == 0) return fail("digits expected after '.'"), kInvalid;
  }
  if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
    if (digits() == 0) return fail("digits expected in the exponent"), kInvalid;
  }
  double v = 0;
  const auto [ptr, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, v);
  if (ec != std::errc() || ptr != text_.data() + pos_) return fail("number out of range"), kInvalid;
  nodes_[index].type = Type::kNumber;
  nodes_[index].number = v;
  return index;
}

const Node* Document::find(const Node& object, std::string_view key) const {
  if (object.type != Type::kObject) return nullptr;
  for (std::uint32_t i = object.first, n = 0; n < object.count; i = nodes_[i].next, ++n)
    if (nodes_[i].key == key) return &nodes_[i];
  return nullptr;
}

QString Document::string(const Node& node) {
  if (!node.escaped) return QString::fromUtf8(node.text.data(), static_cast<qsizetype>(node.text.size()));
  // Escapes: decode into UTF-16 (\uXXXX may be a surrogate half; they pair up in the QString).
  QString out;
  out.reserve(static_cast<qsizetype>(node.text.size()));
  std::string_view t = node.text;
  std::size_t plain = 0;
  const auto flush = [&](std::size_t upTo) {
    if (upTo > plain) out += QString::fromUtf8(t.data() + plain, static_cast<qsizetype>(upTo - plain));
  };
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '\\') continue;
    flush(i);
    const char e = t[++i];
    switch (e) {
      case 'b':
        out += QChar(u'\b');
        break;
      case 'f':
        out += QChar(u'\f');
        break;
      case 'n':
        out += QChar(u'\n');
        break;
      case 'r':
        out += QChar(u'\r');
        break;
      case 't':
        out += QChar(u'\t');
        break;
      case 'u': {
        unsigned code = 0;
        std::from_chars(t.data() + i + 1, t.data() + i + 5, code, 16);
        out += QChar(static_cast<char16_t>(code));
        i += 4;
        break;
      }
      default:
        out += QChar(static_cast<char16_t>(static_cast<unsigned char>(e)));
        break;  // " \ /
    }
    plain = i + 1;
  }
  flush(t.size());
  return out;
}

}  // namespace gatelab::gui::jsonlite
