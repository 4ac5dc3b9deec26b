#include "gateway/core/shaping/json_projection.hpp"

#include <algorithm>
#include <array>

namespace gatelab::core::shaping {

namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool isPrefix(const std::vector<ProjectionStep>& a, const std::vector<ProjectionStep>& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}
bool isProperPrefix(const std::vector<ProjectionStep>& a, const std::vector<ProjectionStep>& b) {
  return a.size() < b.size() && isPrefix(a, b);
}

// Bytes a string scan must stop at: '"', '\', control characters and non-ASCII (UTF-8 check).
constexpr std::array<bool, 256> kStringStop = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 0x80; c < 0x100; ++c) t[static_cast<std::size_t>(c)] = true;
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

void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::uint32_t hex4(const char* p) noexcept {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v * 16 + static_cast<std::uint32_t>(hexValue(p[i]));
  return v;
}

// Decodes the raw text of an already validated JSON string (no quotes) into UTF-8. A lone
// surrogate becomes U+FFFD: it can never equal a configured key (config text is valid UTF-8).
void unescapeInto(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out += raw[i];
      continue;
    }
    const char e = raw[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        std::uint32_t cp = hex4(raw.data() + i + 1);
        i += 4;
        // The text was validated: an escape that follows has its four hex digits.
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 2 < raw.size() && raw[i + 1] == '\\' && raw[i + 2] == 'u') {
          const std::uint32_t lo = hex4(raw.data() + i + 3);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        appendUtf8(out, cp);
        break;
      }
      default: out += e; break;  // '"', '\', '/'
    }
  }
}

}  // namespace

const char* toString(ProjectionStatus s) noexcept {
  switch (s) {
    case ProjectionStatus::kApplied: return "applied";
    case ProjectionStatus::kNotJson: return "not_json";
    case ProjectionStatus::kTooDeep: return "too_deep";
    case ProjectionStatus::kTooLarge: return "too_large";
  }
  return "?";
}

ParsedPath parseProjectionPath(std::string_view path, bool allowRoot) {
  ParsedPath r;
  if (path.empty()) {
    r.error = "a path must not be empty";
    return r;
  }
  if (path.size() > kMaxProjectionPathBytes) {
    r.error = "a path is at most " + std::to_string(kMaxProjectionPathBytes) + " bytes long";
    return r;
  }
  if (allowRoot && path == "$") return r;
  std::size_t i = 0;
  bool needKey = false;  // after a '.': a key must follow
  while (i < path.size()) {
    if (path[i] == '[') {
      if (needKey) {
        r.error = "\"[]\" follows its key directly: write \"a[]\", not \"a.[]\"";
        return r;
      }
      if (i + 1 >= path.size() || path[i + 1] != ']') {
        r.error = "only \"[]\" (each element) may follow a key; array indexes and other brackets are not supported"
                  " (write \\[ for a '[' in a key)";
        return r;
      }
      r.steps.push_back({true, {}});
      i += 2;
    } else if (path[i] == '.') {
      r.error = "empty key: a path cannot start with '.' or hold \"..\"";
      return r;
    } else if (path[i] == ']') {
      r.error = "unmatched ']' (write \\] for a ']' in a key)";
      return r;
    } else {
      std::string key;
      while (i < path.size() && path[i] != '.' && path[i] != '[') {
        if (path[i] == ']') {
          r.error = "unmatched ']' (write \\] for a ']' in a key)";
          return r;
        }
        if (path[i] == '\\') {
          if (i + 1 >= path.size()) {
            r.error = "a '\\' at the end of a path escapes nothing";
            return r;
          }
          ++i;
        }
        key += path[i++];
      }
      if (!r.steps.empty() && !needKey) {
        // A key right after "[]" without a dot ("a[]b").
        r.error = "a key after \"[]\" needs a '.': write \"a[].b\"";
        return r;
      }
      r.steps.push_back({false, std::move(key)});
    }
    needKey = false;
    if (i < path.size() && path[i] == '.') {
      ++i;
      needKey = true;
      if (i == path.size()) {
        r.error = "a path cannot end with '.'";
        return r;
      }
    }
  }
  return r;
}

std::uint32_t JsonProjection::insert(const std::vector<ProjectionStep>& steps) {
  std::uint32_t node = 0;
  for (const ProjectionStep& step : steps) {
    if (step.element) {
      if (nodes_[node].element == kNone) {
        nodes_[node].element = static_cast<std::uint32_t>(nodes_.size());
        nodes_.emplace_back();
      }
      node = nodes_[node].element;
      continue;
    }
    auto& children = nodes_[node].children;
    auto it = std::lower_bound(children.begin(), children.end(), step.key,
                               [](const auto& c, const std::string& k) { return c.first < k; });
    if (it != children.end() && it->first == step.key) {
      node = it->second;
      continue;
    }
    const auto next = static_cast<std::uint32_t>(nodes_.size());
    children.insert(it, {step.key, next});
    nodes_.emplace_back();
    node = next;
  }
  return node;
}

std::uint32_t JsonProjection::child(std::uint32_t node, std::string_view key) const noexcept {
  const auto& children = nodes_[node].children;
  if (children.size() <= 8) {
    for (const auto& c : children) {
      if (c.first == key) return c.second;
    }
    return kNone;
  }
  auto it = std::lower_bound(children.begin(), children.end(), key,
                             [](const auto& c, std::string_view k) { return std::string_view(c.first) < k; });
  return it != children.end() && it->first == key ? it->second : kNone;
}

std::optional<JsonProjection> JsonProjection::create(ProjectionSpec spec, SpecErrors& errors) {
  const std::size_t before = errors.size();
  const std::size_t total = spec.keep.size() + spec.drop.size() + spec.arrayLimits.size();
  if (total > kMaxProjectionPaths) {
    errors.push_back({"", "at most " + std::to_string(kMaxProjectionPaths) + " paths (keep, drop and array limits together) "
                          "are allowed, got " + std::to_string(total)});
  }
  if (spec.keep.empty() && spec.drop.empty() && !spec.maxArrayItems && spec.arrayLimits.empty()) {
    errors.push_back({"", "a projection needs at least one of keep, drop, maxArrayItems, arrayLimits"});
  }
  if (spec.maxArrayItems && *spec.maxArrayItems > kMaxProjectionArrayItems) {
    errors.push_back({"maxArrayItems", "must be between 0 and " + std::to_string(kMaxProjectionArrayItems) + ", got " +
                                           std::to_string(*spec.maxArrayItems)});
  }
  if (spec.maxDepth < 1 || spec.maxDepth > kMaxProjectionDepth) {
    errors.push_back({"maxDepth", "must be between 1 and " + std::to_string(kMaxProjectionDepth) + ", got " +
                                      std::to_string(spec.maxDepth)});
  }
  if (spec.maxBodyBytes == 0) errors.push_back({"maxBodyBytes", "must be greater than 0"});

  struct Parsed {
    std::string field;
    std::string text;
    std::vector<ProjectionStep> steps;
    bool ok;
  };
  auto parseList = [&](const std::vector<std::string>& list, const std::string& name) {
    std::vector<Parsed> out;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string field = name + "[" + std::to_string(i) + "]";
      ParsedPath p = parseProjectionPath(list[i]);
      bool ok = p.error.empty();
      if (!ok) {
        errors.push_back({field, quoted(list[i]) + ": " + p.error});
      } else if (p.steps.back().element) {
        errors.push_back({field, quoted(list[i]) + " ends with \"[]\"; name the array itself (" +
                                     quoted(list[i].substr(0, list[i].size() - 2)) + ") to " + name + " all of it"});
        ok = false;
      }
      for (std::size_t j = 0; ok && j < out.size(); ++j) {
        if (out[j].ok && out[j].steps == p.steps) {
          errors.push_back({field, quoted(list[i]) + " is listed twice in " + name + " (also " + out[j].field + ")"});
          ok = false;
        }
      }
      out.push_back({field, list[i], std::move(p.steps), ok});
    }
    return out;
  };
  const std::vector<Parsed> keep = parseList(spec.keep, "keep");
  const std::vector<Parsed> drop = parseList(spec.drop, "drop");
  std::vector<Parsed> limits;
  for (std::size_t i = 0; i < spec.arrayLimits.size(); ++i) {
    const ArrayLimitSpec& l = spec.arrayLimits[i];
    const std::string field = "arrayLimits[" + std::to_string(i) + "]";
    ParsedPath p = parseProjectionPath(l.path, /*allowRoot=*/true);
    bool ok = p.error.empty();
    if (!ok) errors.push_back({field + ".path", quoted(l.path) + ": " + p.error});
    if (l.maxItems > kMaxProjectionArrayItems) {
      errors.push_back({field + ".maxItems", "must be between 0 and " + std::to_string(kMaxProjectionArrayItems) +
                                                 ", got " + std::to_string(l.maxItems)});
    }
    for (std::size_t j = 0; ok && j < limits.size(); ++j) {
      if (limits[j].ok && limits[j].steps == p.steps) {
        errors.push_back({field + ".path", quoted(l.path) + " has two limits (also " + limits[j].field + ")"});
        ok = false;
      }
    }
    limits.push_back({field + ".path", l.path, std::move(p.steps), ok});
  }

  // Rules between the lists.
  for (const Parsed& k : keep) {
    for (const Parsed& other : keep) {
      if (k.ok && other.ok && isProperPrefix(other.steps, k.steps)) {
        errors.push_back({k.field, quoted(k.text) + " is inside " + quoted(other.text) + " (" + other.field +
                                       "), which keeps all of it; list only one of them (use drop to remove parts)"});
        break;
      }
    }
  }
  for (const Parsed& d : drop) {
    if (!d.ok) continue;
    bool reported = false;
    for (const Parsed& k : keep) {
      if (!k.ok) continue;
      if (k.steps == d.steps) {
        errors.push_back({d.field, quoted(d.text) + " is both kept (" + k.field + ") and dropped"});
        reported = true;
        break;
      }
      if (isProperPrefix(d.steps, k.steps)) {
        errors.push_back({d.field, "dropping " + quoted(d.text) + " would remove the kept " + quoted(k.text) + " (" +
                                       k.field + ")"});
        reported = true;
        break;
      }
    }
    for (const Parsed& other : drop) {
      if (reported || !other.ok) break;
      if (isProperPrefix(other.steps, d.steps)) {
        errors.push_back({d.field, quoted(d.text) + " is already removed with " + quoted(other.text) + " (" +
                                       other.field + ")"});
        reported = true;
      }
    }
    if (!reported && !keep.empty()) {
      const bool insideKept =
          std::any_of(keep.begin(), keep.end(), [&](const Parsed& k) { return k.ok && isProperPrefix(k.steps, d.steps); });
      const bool keepOk = std::all_of(keep.begin(), keep.end(), [](const Parsed& k) { return k.ok; });
      if (!insideKept && keepOk) {
        errors.push_back({d.field, quoted(d.text) + " is not inside any kept path, so keep already removes it; "
                                   "drop only parts of kept values"});
      }
    }
  }
  const bool keepOk = std::all_of(keep.begin(), keep.end(), [](const Parsed& k) { return k.ok; });
  for (const Parsed& l : limits) {
    if (!l.ok) continue;
    bool reported = false;
    for (const Parsed& d : drop) {
      if (d.ok && isPrefix(d.steps, l.steps)) {
        errors.push_back({l.field, "the array " + quoted(l.text) + " is removed by drop " + quoted(d.text) + " (" +
                                       d.field + "); a limit on it does nothing"});
        reported = true;
        break;
      }
    }
    if (!reported && !keep.empty() && keepOk) {
      const bool reached = std::any_of(keep.begin(), keep.end(), [&](const Parsed& k) {
        return isPrefix(k.steps, l.steps) || isProperPrefix(l.steps, k.steps);
      });
      if (!reached) {
        errors.push_back({l.field, "the array " + quoted(l.text) + " is not kept (keep lists neither it, nor a value "
                                   "holding it, nor a path inside it); a limit on it does nothing"});
      }
    }
  }
  if (errors.size() != before) return std::nullopt;

  JsonProjection p;
  p.nodes_.emplace_back();
  p.filtering_ = !keep.empty();
  if (p.filtering_) p.nodes_[0].keep = Keep::kAncestor;
  p.globalLimit_ = spec.maxArrayItems.value_or(kNoLimit);
  for (const Parsed& k : keep) {
    // Mark the ancestors, then the leaf.
    std::uint32_t node = 0;
    for (std::size_t s = 0; s < k.steps.size(); ++s) {
      node = p.insert(std::vector<ProjectionStep>(k.steps.begin(), k.steps.begin() + static_cast<std::ptrdiff_t>(s + 1)));
      if (p.nodes_[node].keep == Keep::kNo) p.nodes_[node].keep = Keep::kAncestor;
    }
    p.nodes_[node].keep = Keep::kAll;
  }
  for (const Parsed& d : drop) p.nodes_[p.insert(d.steps)].drop = true;
  for (std::size_t i = 0; i < limits.size(); ++i) p.nodes_[p.insert(limits[i].steps)].limit = spec.arrayLimits[i].maxItems;
  for (TrieNode& n : p.nodes_) {
    n.hasKeyedKeep = std::any_of(n.children.begin(), n.children.end(),
                                 [&](const auto& c) { return p.nodes_[c.second].keep != Keep::kNo; });
  }
  p.spec_ = std::move(spec);
  return p;
}

// One apply(): a recursive-descent validator that copies the tokens it keeps. Members and
// elements are judged before their value is read (the key and the value's first byte are
// enough), so nothing is ever written and then taken back; a value that is not kept is still
// read in full, because a body that turns out not to be JSON must go out unchanged.
class ProjectionWalker {
 public:
  using Node = std::uint32_t;
  static constexpr Node kNone = JsonProjection::kNone;

  ProjectionWalker(const JsonProjection& p, std::string_view body, std::string& out)
      : p_(p), begin_(body.data()), cur_(body.data()), end_(body.data() + body.size()), out_(out) {}

  ProjectionStatus run() {
    skipWs();
    if (!value(0, p_.filtering_, true)) return status_;
    skipWs();
    if (cur_ != end_) return ProjectionStatus::kNotJson;
    return ProjectionStatus::kApplied;
  }
  [[nodiscard]] std::size_t offset() const noexcept { return static_cast<std::size_t>(cur_ - begin_); }

 private:
  using Keep = JsonProjection::Keep;

  bool fail(ProjectionStatus s = ProjectionStatus::kNotJson) {
    status_ = s;
    return false;
  }

  void skipWs() noexcept {
    while (cur_ != end_ && (*cur_ == ' ' || *cur_ == '\n' || *cur_ == '\r' || *cur_ == '\t')) ++cur_;
  }

  [[nodiscard]] const JsonProjection::TrieNode* at(Node n) const noexcept {
    return n == kNone ? nullptr : &p_.nodes_[n];
  }

  // With keep active, a value at an ancestor position (a node that is on the way to kept paths)
  // survives when it is a scalar, or a container the paths go into; a container of the other
  // kind is removed (fail closed). `c` is the value's first byte.
  static bool ancestorKeeps(const JsonProjection& p, Node n, char c) noexcept {
    const auto& node = p.nodes_[n];
    if (c == '{') return node.hasKeyedKeep;
    if (c == '[') return node.element != kNone && p.nodes_[node.element].keep != Keep::kNo;
    return true;
  }

  bool value(Node node, bool filtering, bool emit) {
    if (cur_ == end_) return fail();
    switch (*cur_) {
      case '{': return object(node, filtering, emit);
      case '[': return array(node, filtering, emit);
      case '"': return string(emit);
      case 't': return literal("true", emit);
      case 'f': return literal("false", emit);
      case 'n': return literal("null", emit);
      default: return number(emit);
    }
  }

  bool literal(std::string_view word, bool emit) {
    if (static_cast<std::size_t>(end_ - cur_) < word.size() || std::string_view(cur_, word.size()) != word) return fail();
    if (emit) out_.append(word);
    cur_ += word.size();
    return true;
  }

  bool number(bool emit) {
    const char* start = cur_;
    if (cur_ != end_ && *cur_ == '-') ++cur_;
    if (cur_ == end_) return fail();
    if (*cur_ == '0') {
      ++cur_;
    } else if (*cur_ >= '1' && *cur_ <= '9') {
      while (cur_ != end_ && *cur_ >= '0' && *cur_ <= '9') ++cur_;
    } else {
      return fail();
    }
    if (cur_ != end_ && *cur_ == '.') {
      ++cur_;
      if (cur_ == end_ || *cur_ < '0' || *cur_ > '9') return fail();
      while (cur_ != end_ && *cur_ >= '0' && *cur_ <= '9') ++cur_;
    }
    if (cur_ != end_ && (*cur_ == 'e' || *cur_ == 'E')) {
      ++cur_;
      if (cur_ != end_ && (*cur_ == '+' || *cur_ == '-')) ++cur_;
      if (cur_ == end_ || *cur_ < '0' || *cur_ > '9') return fail();
      while (cur_ != end_ && *cur_ >= '0' && *cur_ <= '9') ++cur_;
    }
    if (emit) out_.append(start, static_cast<std::size_t>(cur_ - start));
    return true;
  }

  // Reads a string token at cur_ (on '"'); on success [rawBegin, rawEnd) is its content without
  // the quotes and `escaped` says whether it holds a '\'.
  bool scanString(const char*& rawBegin, const char*& rawEnd, bool& escaped) {
    ++cur_;
    rawBegin = cur_;
    escaped = false;
    for (;;) {
      while (cur_ != end_ && !kStringStop[static_cast<unsigned char>(*cur_)]) ++cur_;
      if (cur_ == end_) return fail();
      const auto c = static_cast<unsigned char>(*cur_);
      if (c == '"') break;
      if (c == '\\') {
        escaped = true;
        if (end_ - cur_ < 2) return fail();
        const char e = cur_[1];
        if (e == 'u') {
          if (end_ - cur_ < 6) return fail();
          for (int i = 2; i < 6; ++i) {
            if (hexValue(cur_[i]) < 0) return fail();
          }
          // Surrogate escapes come in pairs (a high one, then a low one): a lone one is no
          // character at all, and strict parsers (nlohmann::json, RFC 8259 section 8.2) refuse it.
          const std::uint32_t unit = hex4(cur_ + 2);
          cur_ += 6;
          if (unit >= 0xDC00 && unit <= 0xDFFF) return fail();
          if (unit >= 0xD800 && unit <= 0xDBFF) {
            if (end_ - cur_ < 6 || cur_[0] != '\\' || cur_[1] != 'u') return fail();
            for (int i = 2; i < 6; ++i) {
              if (hexValue(cur_[i]) < 0) return fail();
            }
            const std::uint32_t low = hex4(cur_ + 2);
            if (low < 0xDC00 || low > 0xDFFF) return fail();
            cur_ += 6;
          }
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
          cur_ += 2;
        } else {
          return fail();
        }
      } else if (c < 0x20) {
        return fail();
      } else if (!utf8()) {
        return fail();
      }
    }
    rawEnd = cur_;
    ++cur_;
    return true;
  }

  // One UTF-8 sequence starting at cur_ (a byte >= 0x80), RFC 3629: no overlong forms, no
  // surrogates, nothing above U+10FFFF.
  bool utf8() noexcept {
    const auto b0 = static_cast<unsigned char>(cur_[0]);
    int len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (end_ - cur_ < len) return false;
    const auto b1 = static_cast<unsigned char>(cur_[1]);
    if (b1 < lo || b1 > hi) return false;
    for (int i = 2; i < len; ++i) {
      const auto b = static_cast<unsigned char>(cur_[i]);
      if (b < 0x80 || b > 0xBF) return false;
    }
    cur_ += len;
    return true;
  }

  bool string(bool emit) {
    const char* start = cur_;
    const char* rb = nullptr;
    const char* re = nullptr;
    bool escaped = false;
    if (!scanString(rb, re, escaped)) return false;
    if (emit) out_.append(start, static_cast<std::size_t>(cur_ - start));
    return true;
  }

  // After a member or element: a ',' (consumed, with the space after it: another item follows),
  // the container's `close` (consumed), or anything else (malformed).
  enum class Next : std::uint8_t { kMore, kClosed, kBad };
  Next afterItem(char close) noexcept {
    skipWs();
    if (cur_ == end_) return Next::kBad;
    if (*cur_ == ',') {
      ++cur_;
      skipWs();
      return Next::kMore;
    }
    if (*cur_ != close) return Next::kBad;
    ++cur_;
    return Next::kClosed;
  }

  bool enter() {
    if (++depth_ > p_.spec_.maxDepth) return fail(ProjectionStatus::kTooDeep);
    ++cur_;
    skipWs();
    return true;
  }

  bool object(Node node, bool filtering, bool emit) {
    if (!enter()) return false;
    if (emit) out_ += '{';
    bool first = true;
    if (cur_ != end_ && *cur_ == '}') {
      ++cur_;
    } else {
      for (;;) {
        if (cur_ == end_ || *cur_ != '"') return fail();
        const char* keyStart = cur_;
        const char* rb = nullptr;
        const char* re = nullptr;
        bool escaped = false;
        if (!scanString(rb, re, escaped)) return false;
        const char* keyEnd = cur_;
        skipWs();
        if (cur_ == end_ || *cur_ != ':') return fail();
        ++cur_;
        skipWs();
        if (cur_ == end_) return fail();

        Node childNode = kNone;
        if (emit && node != kNone && !p_.nodes_[node].children.empty()) {
          std::string_view key(rb, static_cast<std::size_t>(re - rb));
          if (escaped) {
            unescapeInto(key, scratch_);
            key = scratch_;
          }
          childNode = p_.child(node, key);
        }
        bool emitMember = emit;
        bool childFiltering = filtering;
        if (emit) {
          const auto* c = at(childNode);
          if (c != nullptr && c->drop) {
            emitMember = false;
          } else if (filtering) {
            if (c == nullptr || c->keep == Keep::kNo) {
              emitMember = false;
            } else if (c->keep == Keep::kAll) {
              childFiltering = false;
            } else {
              emitMember = ancestorKeeps(p_, childNode, *cur_);
            }
          }
        }
        if (emitMember) {
          if (!first) out_ += ',';
          first = false;
          out_.append(keyStart, static_cast<std::size_t>(keyEnd - keyStart));
          out_ += ':';
        }
        if (!value(childNode, childFiltering, emitMember)) return false;
        const Next next = afterItem('}');
        if (next == Next::kBad) return fail();
        if (next == Next::kClosed) break;
      }
    }
    if (emit) out_ += '}';
    --depth_;
    return true;
  }

  bool array(Node node, bool filtering, bool emit) {
    if (!enter()) return false;
    if (emit) out_ += '[';
    const auto* n = at(node);
    const Node elem = n != nullptr ? n->element : kNone;
    const std::uint32_t limit = n != nullptr && n->limit != JsonProjection::kNoLimit ? n->limit : p_.globalLimit_;
    bool elemFiltering = filtering;
    bool emitElems = emit;
    bool judgeEach = false;  // elements at an ancestor position: judged one by one
    if (emit && filtering) {
      const auto* e = at(elem);
      if (e == nullptr || e->keep == Keep::kNo) {
        emitElems = false;  // only reached for the top-level value: it becomes []
      } else if (e->keep == Keep::kAll) {
        elemFiltering = false;
      } else {
        judgeEach = true;
      }
    }
    std::uint32_t count = 0;
    bool first = true;
    if (cur_ != end_ && *cur_ == ']') {
      ++cur_;
    } else {
      for (;;) {
        if (cur_ == end_) return fail();
        bool emitThis = emitElems && count < limit;
        if (emitThis && judgeEach) emitThis = ancestorKeeps(p_, elem, *cur_);
        if (count != 0xFFFFFFFFu) ++count;
        if (emitThis) {
          if (!first) out_ += ',';
          first = false;
        }
        if (!value(elem, elemFiltering, emitThis)) return false;
        const Next next = afterItem(']');
        if (next == Next::kBad) return fail();
        if (next == Next::kClosed) break;
      }
    }
    if (emit) out_ += ']';
    --depth_;
    return true;
  }

  const JsonProjection& p_;
  const char* begin_;
  const char* cur_;
  const char* end_;
  std::string& out_;
  std::uint32_t depth_ = 0;
  ProjectionStatus status_ = ProjectionStatus::kNotJson;
  std::string scratch_;
};

ProjectionResult JsonProjection::apply(std::string_view body, std::string& out) const {
  out.clear();
  ProjectionResult r;
  r.bytesIn = body.size();
  r.bytesOut = body.size();
  if (body.size() > spec_.maxBodyBytes) {
    r.status = ProjectionStatus::kTooLarge;
    return r;
  }
  out.reserve(body.size());
  ProjectionWalker walker(*this, body, out);
  r.status = walker.run();
  if (r.status != ProjectionStatus::kApplied) {
    r.errorOffset = walker.offset();
    out.clear();
    return r;
  }
  r.bytesOut = out.size();
  return r;
}

}  // namespace gatelab::core::shaping
