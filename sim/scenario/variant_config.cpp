// A variant's gateway config: the config's YAML tree with the variant's overrides applied, handed
// to the config loader as text.
//
// Why a text round trip: the loader reads text. To keep its diagnostics pointing at what the user
// wrote, the tree is copied into a small tree that remembers where each node came from (config
// file or scenario, line, column), overrides replace subtrees with nodes read from the scenario,
// the tree is written out as block YAML, and every position the loader reports in that text is
// mapped back through a table built by reading the written text again beside the tree.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <system_error>

#include "gateway/config/detail/yaml_reader.hpp"
#include "gateway/config/suggest.hpp"
#include "sim/scenario/config_path.hpp"
#include "sim/scenario/scenario.hpp"

namespace gatelab::sim::scenario {
namespace {

using config::Diagnostic;
using config::detail::Mark;
using config::detail::inQuotes;

constexpr std::size_t kMaxTreeNodes = 1'000'000;
constexpr int kMaxDepth = 200;

// Which file a node came from.
enum Source : std::uint8_t { kFromConfig = 0, kFromScenario = 1 };

struct Origin {
  Source source = kFromConfig;
  Mark mark;
};

struct TNode {
  enum class Kind : std::uint8_t { kNull, kScalar, kSeq, kMap };
  Kind kind = Kind::kNull;
  std::string scalar;
  std::string tag;  // "?" plain, "!" quoted, else an explicit tag
  Origin origin;
  std::vector<TNode> keys;    // kMap
  std::vector<TNode> values;  // kMap: values[i] belongs to keys[i]; kSeq: the items
};

class TooComplex : public std::exception {
 public:
  const char* what() const noexcept override { return "the YAML tree is too large or too deep"; }
};

void convert(const YAML::Node& in, Source source, Mark fallback, TNode& out, std::size_t& budget, int depth) {
  if (budget == 0 || depth > kMaxDepth) throw TooComplex{};
  --budget;
  out.origin = Origin{source, config::detail::markOf(in, fallback)};
  out.tag = in.Tag();
  switch (in.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: out.kind = TNode::Kind::kNull; return;
    case YAML::NodeType::Scalar:
      out.kind = TNode::Kind::kScalar;
      out.scalar = in.Scalar();
      return;
    case YAML::NodeType::Sequence:
      out.kind = TNode::Kind::kSeq;
      for (auto it = in.begin(); it != in.end(); ++it) {
        out.values.emplace_back();
        convert(*it, source, out.origin.mark, out.values.back(), budget, depth + 1);
      }
      return;
    case YAML::NodeType::Map:
      out.kind = TNode::Kind::kMap;
      for (auto it = in.begin(); it != in.end(); ++it) {
        out.keys.emplace_back();
        convert(it->first, source, out.origin.mark, out.keys.back(), budget, depth + 1);
        out.values.emplace_back();
        const Mark keyMark = out.keys.back().origin.mark;
        convert(it->second, source, keyMark, out.values.back(), budget, depth + 1);
        if (it->second.IsNull()) out.values.back().origin.mark = keyMark;
      }
      return;
  }
}

bool hasComplexKey(const TNode& n) {
  for (const TNode& k : n.keys) {
    if (k.kind == TNode::Kind::kSeq || k.kind == TNode::Kind::kMap) return true;
  }
  for (const TNode& v : n.values) {
    if (hasComplexKey(v)) return true;
  }
  return false;
}

// ---- writing ----------------------------------------------------------------------------------

bool safePlain(const std::string& s) {
  if (s.empty()) return false;
  const char c0 = s.front();
  if (std::string_view(",[]{}#&*!|>'\"%@`").find(c0) != std::string_view::npos) return false;
  if ((c0 == '-' || c0 == '?' || c0 == ':') && (s.size() == 1 || s[1] == ' ')) return false;
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return false;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  if (s == "~" || s == "null" || s == "Null" || s == "NULL") return false;  // would turn into null
  return true;
}

std::string doubleQuoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string scalarText(const TNode& n) {
  if (n.kind == TNode::Kind::kNull) return {};
  std::string prefix;
  if (!n.tag.empty() && n.tag != "?" && n.tag != "!") {
    // Keep explicit tags (e.g. !!str) so the loader sees the same node.
    bool ok = std::all_of(n.tag.begin(), n.tag.end(), [](char c) {
      return c > 0x20 && c != '>' && c != '<' && static_cast<unsigned char>(c) < 0x7f;
    });
    if (ok) prefix = "!<" + n.tag + "> ";
  }
  if (n.tag == "?" && safePlain(n.scalar)) return prefix + n.scalar;
  return prefix + doubleQuoted(n.scalar);
}

void writeNode(const TNode& n, int indent, std::string& out);

void writeValueAfterKey(const TNode& v, int indent, std::string& out) {
  if (v.kind == TNode::Kind::kMap && !v.keys.empty()) {
    out += '\n';
    writeNode(v, indent + 2, out);
  } else if (v.kind == TNode::Kind::kSeq && !v.values.empty()) {
    out += '\n';
    writeNode(v, indent + 2, out);
  } else if (v.kind == TNode::Kind::kMap) {
    out += " {}\n";
  } else if (v.kind == TNode::Kind::kSeq) {
    out += " []\n";
  } else if (v.kind == TNode::Kind::kNull) {
    out += '\n';
  } else {
    out += ' ';
    out += scalarText(v);
    out += '\n';
  }
}

void writeNode(const TNode& n, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  switch (n.kind) {
    case TNode::Kind::kMap:
      if (n.keys.empty()) {
        out += pad + "{}\n";
        return;
      }
      for (std::size_t i = 0; i < n.keys.size(); ++i) {
        out += pad;
        out += n.keys[i].kind == TNode::Kind::kNull ? std::string("\"\"") : scalarText(n.keys[i]);
        out += ':';
        writeValueAfterKey(n.values[i], indent, out);
      }
      return;
    case TNode::Kind::kSeq:
      if (n.values.empty()) {
        out += pad + "[]\n";
        return;
      }
      for (const TNode& item : n.values) {
        out += pad + "-";
        writeValueAfterKey(item, indent, out);
      }
      return;
    case TNode::Kind::kNull: out += pad + "~\n"; return;
    case TNode::Kind::kScalar: out += pad + scalarText(n) + "\n"; return;
  }
}

// Written-text position -> where the node came from, by walking the written text's tree beside the
// source tree (same shape by construction).
using MarkTable = std::map<std::pair<int, int>, Origin>;

void mapMarks(const YAML::Node& written, const TNode& source, MarkTable& table) {
  const Mark m = config::detail::markOf(written, Mark{});
  if (m.line > 0) table.emplace(std::make_pair(m.line, m.column), source.origin);
  if (written.IsMap() && source.kind == TNode::Kind::kMap) {
    std::size_t i = 0;
    for (auto it = written.begin(); it != written.end() && i < source.keys.size(); ++it, ++i) {
      const Mark km = config::detail::markOf(it->first, Mark{});
      if (km.line > 0) table.emplace(std::make_pair(km.line, km.column), source.keys[i].origin);
      mapMarks(it->second, source.values[i], table);
    }
  } else if (written.IsSequence() && source.kind == TNode::Kind::kSeq) {
    std::size_t i = 0;
    for (auto it = written.begin(); it != written.end() && i < source.values.size(); ++it, ++i) {
      mapMarks(*it, source.values[i], table);
    }
  }
}

// ---- overrides --------------------------------------------------------------------------------

std::string describeKind(const TNode& n) {
  switch (n.kind) {
    case TNode::Kind::kNull: return "null";
    case TNode::Kind::kScalar: return "a value " + inQuotes(n.scalar);
    case TNode::Kind::kSeq: return "a list";
    case TNode::Kind::kMap: return "a mapping";
  }
  return "?";
}

// The name a list item answers to in a [NAME] selector: the item itself (a scalar), its `name`
// or `url`, or the `name` inside its single key (policies: `- rate_limit: {name: x}`).
std::optional<std::string> itemName(const TNode& item) {
  if (item.kind == TNode::Kind::kScalar) return item.scalar;
  if (item.kind != TNode::Kind::kMap) return std::nullopt;
  for (std::string_view key : {"name", "url"}) {
    for (std::size_t i = 0; i < item.keys.size(); ++i) {
      if (item.keys[i].scalar == key && item.values[i].kind == TNode::Kind::kScalar) return item.values[i].scalar;
    }
  }
  if (item.keys.size() == 1 && item.values[0].kind == TNode::Kind::kMap) {
    const TNode& inner = item.values[0];
    for (std::size_t i = 0; i < inner.keys.size(); ++i) {
      if (inner.keys[i].scalar == "name" && inner.values[i].kind == TNode::Kind::kScalar) return inner.values[i].scalar;
    }
  }
  return std::nullopt;
}

struct OverrideError {
  std::string message;
  std::string allowed;
};

std::string pathText(const std::vector<detail::PathStep>& steps, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (steps[i].selector) {
      out += "[" + steps[i].text + "]";
    } else {
      if (!out.empty()) out += '.';
      out += steps[i].text;
    }
  }
  return out.empty() ? std::string("the config") : out;
}

// Finds the child of `parent` that step `s` names. On a missing key of a mapping, `missingKey`
// is set (the caller may add it when it is the last step).
TNode* child(TNode& parent, const detail::PathStep& s, const std::string& where, OverrideError& err, bool& missingKey) {
  missingKey = false;
  if (parent.kind == TNode::Kind::kMap) {
    for (std::size_t i = 0; i < parent.keys.size(); ++i) {
      if (parent.keys[i].kind == TNode::Kind::kScalar && parent.keys[i].scalar == s.text) return &parent.values[i];
    }
    std::vector<std::string> keys;
    for (const TNode& k : parent.keys) keys.push_back(k.scalar);
    missingKey = true;
    err.message = "no key " + inQuotes(s.text) + " in " + where + config::didYouMean(s.text, keys);
    err.allowed = keys.empty() ? "(the mapping is empty)" : "keys there: " + config::joinNames(std::span<const std::string>(keys));
    return nullptr;
  }
  if (parent.kind == TNode::Kind::kSeq) {
    const std::size_t n = parent.values.size();
    std::vector<std::string> names;
    for (const TNode& item : parent.values) {
      if (auto name = itemName(item)) names.push_back(*name);
    }
    const std::string allowed = (n == 0 ? std::string("(the list is empty)") : "an index from 0 to " + std::to_string(n - 1)) +
                                (names.empty() ? std::string{} : " or an item's name: " + config::joinNames(std::span<const std::string>(names)));
    if (!s.selector) {
      err.message = where + " is a list; select an item with [INDEX] or [NAME] before ." + s.text;
      err.allowed = allowed;
      return nullptr;
    }
    const bool numeric = std::all_of(s.text.begin(), s.text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (numeric) {
      std::size_t index = 0;
      const auto [end, ec] = std::from_chars(s.text.data(), s.text.data() + s.text.size(), index);
      (void)end;
      if (ec != std::errc{} || index >= n) {
        err.message = "index " + s.text + " is out of range: " + where + " has " + std::to_string(n) + (n == 1 ? " item" : " items");
        err.allowed = allowed;
        return nullptr;
      }
      return &parent.values[index];
    }
    for (TNode& item : parent.values) {
      if (itemName(item) == s.text) return &item;
    }
    err.message = "no item named " + inQuotes(s.text) + " in " + where + config::didYouMean(s.text, names);
    err.allowed = allowed;
    return nullptr;
  }
  err.message = where + " is " + describeKind(parent) + ", not a mapping or a list; cannot select " +
                (s.selector ? "[" + s.text + "]" : inQuotes(s.text));
  err.allowed = "a path to an existing node";
  return nullptr;
}

// Applies one override: replaces (or adds, for a new last key of a mapping) or removes the node.
std::optional<OverrideError> apply(TNode& root, const std::vector<detail::PathStep>& steps, const TNode* value, Origin keyOrigin) {
  TNode* at = &root;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const bool last = i + 1 == steps.size();
    OverrideError err;
    bool missingKey = false;
    TNode* next = child(*at, steps[i], pathText(steps, i), err, missingKey);
    if (next == nullptr) {
      if (last && missingKey && value != nullptr) {
        TNode key;
        key.kind = TNode::Kind::kScalar;
        key.scalar = steps[i].text;
        key.tag = "?";
        key.origin = keyOrigin;
        at->keys.push_back(std::move(key));
        at->values.push_back(*value);
        return std::nullopt;
      }
      return err;
    }
    if (!last) {
      at = next;
      continue;
    }
    if (value != nullptr) {
      *next = *value;
      return std::nullopt;
    }
    // Remove `next` from `at`.
    const auto index = static_cast<std::ptrdiff_t>(at->kind == TNode::Kind::kMap ? next - at->values.data() : next - at->values.data());
    if (at->kind == TNode::Kind::kMap) at->keys.erase(at->keys.begin() + index);
    at->values.erase(at->values.begin() + index);
    return std::nullopt;
  }
  return OverrideError{"empty config path", std::string(detail::kConfigPathAllowed)};
}

// Replaces "FILE:L:C" occurrences written by the loader inside messages.
std::string remapInText(const std::string& text, const std::string& writtenName, const MarkTable& table,
                        const std::array<std::string, 2>& files) {
  if (writtenName.empty()) return text;
  std::string out;
  std::size_t i = 0;
  const std::string needle = writtenName + ":";
  while (i < text.size()) {
    const std::size_t hit = text.find(needle, i);
    if (hit == std::string::npos) break;
    out.append(text, i, hit - i);
    std::size_t p = hit + needle.size();
    int line = 0;
    int col = 0;
    const auto [e1, ec1] = std::from_chars(text.data() + p, text.data() + text.size(), line);
    bool ok = ec1 == std::errc{} && e1 < text.data() + text.size() && *e1 == ':';
    const char* e2 = e1;
    if (ok) {
      const auto [end2, ec2] = std::from_chars(e1 + 1, text.data() + text.size(), col);
      ok = ec2 == std::errc{};
      e2 = end2;
    }
    if (!ok) {
      out += needle;
      i = p;
      continue;
    }
    auto it = table.upper_bound(std::make_pair(line, col));
    if (it != table.begin()) {
      --it;
      const Origin& o = it->second;
      out += files[o.source] + ":" + std::to_string(o.mark.line) + ":" + std::to_string(o.mark.column);
    } else {
      out.append(text, hit, static_cast<std::size_t>(e2 - (text.data() + hit)));
    }
    i = static_cast<std::size_t>(e2 - text.data());
  }
  out.append(text, i, std::string::npos);
  return out;
}

config::LoadResult fail(std::vector<Diagnostic> diagnostics) {
  config::LoadResult r;
  r.diagnostics = std::move(diagnostics);
  return r;
}

std::optional<std::string> readWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  std::array<char, 64 * 1024> buffer{};
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > config::kMaxConfigBytes) return std::nullopt;
  }
  if (in.bad()) return std::nullopt;
  return text;
}

config::LoadResult loadVariantConfigImpl(const Scenario& scenario, const Variant* variant) {
  const bool hasOverrides = variant != nullptr && !variant->overrides.empty();
  const bool isInline = scenario.gateway.isInline();
  if (!isInline && !hasOverrides) return config::loadConfigFile(scenario.gateway.file);

  const std::array<std::string, 2> files{isInline ? scenario.sourcePath : scenario.gateway.file, scenario.sourcePath};
  if (scenario.text == nullptr) {
    return fail({Diagnostic{scenario.sourcePath, 0, 0, "", "the scenario was not loaded from text", ""}});
  }
  const YAML::Node scenarioRoot = YAML::Load(*scenario.text);  // loaded once before: parses

  // The config's tree.
  TNode root;
  std::size_t budget = kMaxTreeNodes;
  if (isInline) {
    convert(scenarioRoot["gateway"], kFromScenario, Mark{1, 1}, root, budget, 0);
  } else {
    auto text = readWhole(scenario.gateway.file);
    if (!text) return config::loadConfigFile(scenario.gateway.file);  // reports why
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAll(*text);
    } catch (const YAML::Exception&) {
      return config::loadConfigString(*text, scenario.gateway.file);  // reports the syntax error
    }
    if (documents.size() != 1 || !documents.front().IsMap()) return config::loadConfigString(*text, scenario.gateway.file);
    convert(documents.front(), kFromConfig, Mark{1, 1}, root, budget, 0);
  }
  if (hasComplexKey(root)) {
    // The loader rejects such keys; report its diagnostics on the unmodified config.
    if (!isInline) return config::loadConfigFile(scenario.gateway.file);
  }

  // The overrides, in file order; every problem is reported.
  std::vector<Diagnostic> problems;
  if (hasOverrides) {
    const YAML::Node variantNode = variant->index ? scenarioRoot["variants"][*variant->index] : YAML::Node{};
    std::vector<YAML::Node> setValues;
    if (variantNode && variantNode.IsMap()) {
      // A variant with only `unset:` has no `set` key: a missing key is an invalid node here,
      // which must be tested before use (IsMap() on it throws).
      const YAML::Node set = variantNode["set"];
      if (set && set.IsMap()) {
        for (auto it = set.begin(); it != set.end(); ++it) setValues.push_back(it->second);
      }
    }
    for (const Override& o : variant->overrides) {
      std::string why;
      auto steps = detail::parseConfigPath(o.path, &why);
      if (!steps) {
        problems.push_back(Diagnostic{o.at.file, o.at.line, o.at.column, o.at.path, "invalid config path: " + why,
                                      std::string(detail::kConfigPathAllowed)});
        continue;
      }
      const Origin keyOrigin{kFromScenario, Mark{o.at.line, o.at.column}};
      std::optional<OverrideError> err;
      if (o.remove) {
        err = apply(root, *steps, nullptr, keyOrigin);
      } else {
        if (o.entry >= setValues.size()) continue;  // cannot happen: the entry was read from this text
        TNode value;
        convert(setValues[o.entry], kFromScenario, keyOrigin.mark, value, budget, 0);
        if (setValues[o.entry].IsNull()) value.origin.mark = keyOrigin.mark;
        err = apply(root, *steps, &value, keyOrigin);
      }
      if (err) {
        problems.push_back(Diagnostic{o.at.file, o.at.line, o.at.column, o.at.path,
                                      "variant " + inQuotes(variant->name) + ": " + err->message, err->allowed});
      }
    }
  }
  if (!problems.empty()) return fail(std::move(problems));

  // Written out, loaded, positions mapped back.
  std::string written;
  writeNode(root, 0, written);
  MarkTable table;
  try {
    mapMarks(YAML::Load(written), root, table);
  } catch (const YAML::Exception& e) {
    return fail({Diagnostic{files[0], 0, 0, "", std::string("internal error: the overridden config does not re-read: ") + e.msg, ""}});
  }
  const std::string writtenName = files[0];
  config::LoadResult r = config::loadConfigString(written, writtenName);
  if (r.ok()) {
    if (!isInline) {
      // The config's own name, not the scenario's: reports show where it came from.
      auto copy = std::make_shared<config::GatewayConfig>(*r.config);
      copy->source = scenario.gateway.file;
      r.config = std::move(copy);
    }
    return r;
  }
  for (Diagnostic& d : r.diagnostics) {
    if (d.line > 0 && d.file == writtenName) {
      auto it = table.upper_bound(std::make_pair(d.line, d.column));
      if (it != table.begin()) {
        --it;
        // Exact hit for node positions; otherwise the nearest node before it (same node, or its
        // parent), which is where the user has to look.
        const Origin& o = it->second;
        d.file = files[o.source];
        d.line = o.mark.line;
        d.column = o.mark.column;
      }
    }
    d.message = remapInText(d.message, writtenName, table, files);
    if (isInline) d.path = d.path.empty() ? std::string("gateway") : "gateway." + d.path;
  }
  std::stable_sort(r.diagnostics.begin(), r.diagnostics.end(), [&files](const Diagnostic& a, const Diagnostic& b) {
    const bool aScn = a.file != files[0];
    const bool bScn = b.file != files[0];
    if (aScn != bScn) return !aScn;
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return r;
}

}  // namespace

config::LoadResult loadVariantConfig(const Scenario& scenario, const Variant* variant) {
  try {
    return loadVariantConfigImpl(scenario, variant);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    return fail({Diagnostic{scenario.sourcePath, 0, 0, "",
                            std::string("cannot apply the variant's overrides: ") + e.what(), ""}});
  }
}

}  // namespace gatelab::sim::scenario
