// JSON lines: one JSON object per line, fields picked by (dotted) member paths.
//
// A hand-written scanner rather than a DOM parser: it validates the whole line as JSON (RFC 8259
// grammar; nesting depth limited to kMaxDepth) but keeps only the mapped scalars, as views into
// the line. Strings with escapes are decoded into one scratch buffer reserved to the line's size
// before scanning (decoding never grows a string), so the views stay valid and nothing allocates
// per line. Byte sequences inside strings are not checked for UTF-8 validity.
#include <array>
#include <cstring>
#include <utility>

#include "sim/trace/detail/fields.hpp"
#include "sim/trace/detail/parsers.hpp"

namespace gatelab::sim::trace::detail {
namespace {

constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxPathDepth = 16;

struct Mapping {
  FieldKind field;
  std::string header;
  std::string source;               // as written, for messages: "req.status"
  std::vector<std::string> path;    // components
  std::string display;              // "member \"req.status\""
};

struct Captured {
  std::string_view value;
  bool present = false;
  bool isNumber = false;
};

constexpr bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool isSpace(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Bytes that end the fast scan of a string body: the closing quote, an escape, a control character.
constexpr auto kStringSpecial = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = true;
  t['"'] = true;
  t['\\'] = true;
  return t;
}();

int hexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class JsonLinesParser final : public LineParser {
 public:
  JsonLinesParser(std::vector<Mapping> mappings, TimeParser time, bool keepExtras)
      : mappings_(std::move(mappings)), time_(std::move(time)), keepExtras_(keepExtras), captured_(mappings_.size()) {
    nodes_.emplace_back();  // the root: the line's object
    for (std::size_t i = 0; i < mappings_.size(); ++i) {
      if (mappings_[i].field == FieldKind::kTime) timeIndex_ = i;
      if (mappings_[i].field == FieldKind::kHeader) ++headerCount_;
      std::uint32_t node = 0;
      for (const std::string& component : mappings_[i].path) {
        std::uint32_t next = findChild(node, component);
        if (next == kNoNode) {
          next = static_cast<std::uint32_t>(nodes_.size());
          nodes_[node].children.push_back({component, next});
          nodes_.emplace_back();
        }
        node = next;
      }
      nodes_[node].mappings.push_back(static_cast<std::uint32_t>(i));
    }
    headers_.reserve(headerCount_);
  }

  LineResult parse(std::string_view line, TraceRecord& out) override {
    clearRecord(out);
    headers_.clear();
    extras_.clear();
    for (Captured& c : captured_) c.present = false;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return {LineStatus::kSkip, {}, {}};
    if (scratch_.capacity() < line.size()) scratch_.reserve(line.size());
    scratch_.clear();
    s_ = line;
    pos_ = 0;
    depth_ = 0;
    error_ = {};
    node_ = 0;
    memberDepth_ = 0;
    skipSpace();
    if (pos_ >= s_.size() || s_[pos_] != '{') return malformed("not a JSON object");
    if (!object()) return malformed(error_.empty() ? std::string_view("invalid JSON") : error_);
    skipSpace();
    if (pos_ != s_.size()) return malformed("text after the JSON object");
    for (std::size_t i = 0; i < mappings_.size(); ++i) {
      const Captured& c = captured_[i];
      const Mapping& m = mappings_[i];
      if (!c.present) continue;
      if (m.field == FieldKind::kHeader) {
        if (!c.value.empty() && !isDash(c.value)) headers_.push_back({m.header, c.value});
        continue;
      }
      const std::string_view err = applyField(m.field, c.value, time_, out, c.isNumber);
      if (!err.empty()) return {LineStatus::kMalformed, m.display, err};
    }
    if (!captured_[timeIndex_].present) return {LineStatus::kMalformed, mappings_[timeIndex_].display, "missing"};
    out.headers = headers_;
    out.extras = extras_;
    return {LineStatus::kRecord, {}, {}};
  }

  std::size_t scratchCapacity() const noexcept override {
    return scratch_.capacity() + headers_.capacity() * sizeof(Field) + extras_.capacity() * sizeof(Field) +
           captured_.capacity() * sizeof(Captured);
  }

 private:
  LineResult malformed(std::string_view what) const { return {LineStatus::kMalformed, "line", what}; }

  void skipSpace() noexcept {
    while (pos_ < s_.size() && isSpace(s_[pos_])) ++pos_;
  }

  bool fail(std::string_view why) noexcept {
    if (error_.empty()) error_ = why;
    return false;
  }

  // At '"'. Returns the content (decoded into scratch_ when it has escapes).
  bool string(std::string_view& out) noexcept {
    ++pos_;
    const std::size_t start = pos_;
    bool escaped = false;
    while (true) {
      skipPlainStringBytes();
      if (pos_ >= s_.size()) return fail("unterminated string");
      const char c = s_[pos_];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
      if (c == '\\') {
        escaped = true;
        if (pos_ + 1 >= s_.size()) return fail("unterminated string");
        const char e = s_[pos_ + 1];
        if (e == 'u') {
          for (std::size_t k = 2; k < 6; ++k) {
            if (pos_ + k >= s_.size() || hexValue(s_[pos_ + k]) < 0) return fail("bad \\u escape");
          }
          pos_ += 6;
          continue;
        }
        if (std::strchr("\"\\/bfnrt", e) == nullptr || e == '\0') return fail("bad escape in a string");
        pos_ += 2;
        continue;
      }
      ++pos_;
    }
    const std::string_view raw = s_.substr(start, pos_ - start);
    ++pos_;  // closing quote
    out = escaped ? decode(raw) : raw;
    return true;
  }

  // Advances pos_ to the next '"', '\\' or control byte (or the end). Eight bytes at a time while
  // none of them is special (SWAR: exact "has a byte < n / equal to b" tests on a 64-bit word),
  // then byte by byte.
  void skipPlainStringBytes() noexcept {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    const auto hasZeroByte = [](std::uint64_t x) { return ((x - kOnes) & ~x & kHigh) != 0; };
    while (pos_ + 8 <= s_.size()) {
      std::uint64_t x = 0;
      std::memcpy(&x, s_.data() + pos_, 8);
      const bool control = ((x - kOnes * 0x20) & ~x & kHigh) != 0;
      if (control || hasZeroByte(x ^ (kOnes * '"')) || hasZeroByte(x ^ (kOnes * '\\'))) break;
      pos_ += 8;
    }
    while (pos_ < s_.size() && !kStringSpecial[static_cast<unsigned char>(s_[pos_])]) ++pos_;
  }

  // Decodes a validated string body into scratch_ (capacity reserved: never reallocates).
  std::string_view decode(std::string_view raw) noexcept {
    const std::size_t begin = scratch_.size();
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const char c = raw[i];
      if (c != '\\') {
        scratch_.push_back(c);
        continue;
      }
      const char e = raw[++i];
      switch (e) {
        case 'b': scratch_.push_back('\b'); break;
        case 'f': scratch_.push_back('\f'); break;
        case 'n': scratch_.push_back('\n'); break;
        case 'r': scratch_.push_back('\r'); break;
        case 't': scratch_.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = 0;
          for (std::size_t k = 1; k <= 4; ++k) cp = cp * 16 + static_cast<std::uint32_t>(hexValue(raw[i + k]));
          i += 4;
          if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < raw.size() && raw[i + 1] == '\\' && raw[i + 2] == 'u') {
            std::uint32_t lo = 0;
            for (std::size_t k = 3; k <= 6; ++k) lo = lo * 16 + static_cast<std::uint32_t>(hexValue(raw[i + k]));
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              i += 6;
            }
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // lone surrogate
          appendUtf8(cp);
          break;
        }
        default: scratch_.push_back(e); break;  // '"', '\\', '/'
      }
    }
    return std::string_view(scratch_.data() + begin, scratch_.size() - begin);
  }

  void appendUtf8(std::uint32_t cp) noexcept {
    if (cp < 0x80) {
      scratch_.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      scratch_.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      scratch_.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      scratch_.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      scratch_.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      scratch_.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      scratch_.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      scratch_.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      scratch_.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      scratch_.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool number(std::string_view& out) noexcept {
    const std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size() || !isDigit(s_[pos_])) return fail("bad number");
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < s_.size() && isDigit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (pos_ >= s_.size() || !isDigit(s_[pos_])) return fail("bad number");
      while (pos_ < s_.size() && isDigit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size() || !isDigit(s_[pos_])) return fail("bad number");
      while (pos_ < s_.size() && isDigit(s_[pos_])) ++pos_;
    }
    out = s_.substr(start, pos_ - start);
    return true;
  }

  bool literal(std::string_view word) noexcept {
    if (s_.substr(pos_, word.size()) != word) return fail("invalid JSON value");
    pos_ += word.size();
    return true;
  }

  // The child of trie node `node` named `key`, or kNoNode.
  std::uint32_t findChild(std::uint32_t node, std::string_view key) const noexcept {
    for (const Child& c : nodes_[node].children) {
      if (c.key.size() != key.size()) continue;
      std::size_t i = 0;
      while (i < key.size() && c.key[i] == key[i]) ++i;
      if (i == key.size()) return c.node;
    }
    return kNoNode;
  }

  // A scalar at the current member path: capture it if mapped, or keep it as an extra.
  void scalar(std::string_view value, bool isNumber) {
    if (node_ != kNoNode && !nodes_[node_].mappings.empty()) {
      for (const std::uint32_t m : nodes_[node_].mappings) {
        Captured& c = captured_[m];
        c.value = value;
        c.present = true;
        c.isNumber = isNumber;
      }
      return;
    }
    if (keepExtras_ && memberDepth_ == 1) extras_.push_back({topKey_, value});
  }

  bool value() {
    if (pos_ >= s_.size()) return fail("truncated JSON");
    const char c = s_[pos_];
    switch (c) {
      case '{': return object();
      case '[': return array();
      case '"': {
        std::string_view v;
        if (!string(v)) return false;
        scalar(v, false);
        return true;
      }
      case 't':
        if (!literal("true")) return false;
        scalar("true", false);
        return true;
      case 'f':
        if (!literal("false")) return false;
        scalar("false", false);
        return true;
      case 'n': return literal("null");  // null: the field is absent
      default: {
        std::string_view v;
        if (!number(v)) return false;
        scalar(v, true);
        return true;
      }
    }
  }

  bool object() {
    if (++depth_ > kMaxDepth) return fail("nested too deeply");
    ++pos_;  // '{'
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      --depth_;
      return true;
    }
    while (true) {
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a member name");
      std::string_view key;
      if (!string(key)) return false;
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':' after a member name");
      ++pos_;
      skipSpace();
      // Walk the mapping trie alongside the document: node_ is the trie node of the value being
      // read (kNoNode once the path leaves every mapping).
      const std::uint32_t parent = node_;
      node_ = parent == kNoNode ? kNoNode : findChild(parent, key);
      ++memberDepth_;
      if (memberDepth_ == 1) topKey_ = key;
      const bool ok = value();
      --memberDepth_;
      node_ = parent;
      if (!ok) return false;
      skipSpace();
      if (pos_ >= s_.size()) return fail("unterminated object");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        --depth_;
        return true;
      }
      return fail("expected ',' or '}' in an object");
    }
  }

  bool array() {
    if (++depth_ > kMaxDepth) return fail("nested too deeply");
    ++pos_;  // '['
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      --depth_;
      return true;
    }
    // Array elements have no member path: neither mapped nor extras.
    const std::uint32_t savedNode = node_;
    const std::size_t savedDepth = memberDepth_;
    node_ = kNoNode;
    memberDepth_ = kMaxPathDepth + 1;
    while (true) {
      skipSpace();
      if (!value()) return false;
      skipSpace();
      if (pos_ >= s_.size()) return fail("unterminated array");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        --depth_;
        node_ = savedNode;
        memberDepth_ = savedDepth;
        return true;
      }
      return fail("expected ',' or ']' in an array");
    }
  }

  std::vector<Mapping> mappings_;
  TimeMemo time_;
  bool keepExtras_;
  std::vector<Captured> captured_;
  std::size_t timeIndex_ = 0;
  std::size_t headerCount_ = 0;
  std::vector<Field> headers_;
  std::vector<Field> extras_;
  std::string scratch_;
  // Scan state.
  std::string_view s_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::string_view error_;
  std::uint32_t node_ = 0;
  std::size_t memberDepth_ = 0;
  std::string_view topKey_;
  // The mapping paths as a trie over member names.
  struct Child {
    std::string key;
    std::uint32_t node;
  };
  struct Node {
    std::vector<Child> children;
    std::vector<std::uint32_t> mappings;
  };
  static constexpr std::uint32_t kNoNode = 0xFFFFFFFFu;
  std::vector<Node> nodes_;
};

}  // namespace

Made<LineParser> makeJsonLinesParser(const TraceFormat& format) {
  auto time = TimeParser::make(format.time);
  if (!time) return time.error();
  const std::vector<FieldMapping> fields = effectiveFieldMappings(format);
  std::vector<Mapping> mappings;
  bool hasTime = false;
  for (const FieldMapping& f : fields) {
    Mapping m;
    m.field = f.field;
    m.header = f.header;
    m.source = f.source;
    m.display = "member \"" + f.source + "\"";
    std::string_view rest = f.source;
    while (true) {
      const std::size_t dot = rest.find('.');
      m.path.emplace_back(rest.substr(0, dot));
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
    for (const std::string& c : m.path) {
      if (c.empty()) {
        return config::UnitError{"invalid JSON member path \"" + f.source + "\": empty component",
                                 "member names joined by '.', e.g. request.headers.host"};
      }
    }
    if (m.path.size() > kMaxPathDepth) {
      return config::UnitError{"invalid JSON member path \"" + f.source + "\": deeper than 16 levels",
                               "member names joined by '.', at most 16"};
    }
    if (f.field == FieldKind::kTime) hasTime = true;
    mappings.push_back(std::move(m));
  }
  if (!hasTime) {
    return config::UnitError{"JSON lines mapping has no time field",
                             "map time=MEMBER (e.g. --time-field ts), with --time-format epoch_s|epoch_ms|rfc3339|..."};
  }
  return std::make_unique<JsonLinesParser>(std::move(mappings), time.value(), format.keepExtras);
}

}  // namespace gatelab::sim::trace::detail
