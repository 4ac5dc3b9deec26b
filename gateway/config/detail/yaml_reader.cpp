#include "gateway/config/detail/yaml_reader.hpp"

#include <sstream>

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <limits>
#include <system_error>

#include "gateway/config/units.hpp"

namespace gatelab::config::detail {
namespace {

constexpr std::size_t kMaxQuotedValue = 60;

bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }

bool looksLikeNumber(std::string_view s) noexcept {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  bool digit = false;
  for (char c : s) {
    if (isDigit(c)) {
      digit = true;
    } else if (c != '.' && c != 'e' && c != 'E' && c != '_') {
      return false;
    }
  }
  return digit;
}

bool isPlain(const YAML::Node& n) { return n.Tag() != "!"; }

}  // namespace

Sink::Sink(std::string file, std::size_t maxDiagnostics) : file_(std::move(file)), max_(maxDiagnostics) {}

void Sink::error(Mark at, std::string path, std::string message, std::string allowed) {
  if (diagnostics_.size() >= max_) {
    overflowed_ = true;
    return;
  }
  // Keys, values and yaml-cpp's own messages may hold any byte; a diagnostic stays on one line.
  for (std::string* s : {&path, &message, &allowed}) {
    for (char& c : *s) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) c = '?';
    }
  }
  diagnostics_.push_back(Diagnostic{file_, at.line, at.column, std::move(path), std::move(message), std::move(allowed)});
}

std::vector<Diagnostic> Sink::take() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  if (overflowed_) {
    diagnostics_.push_back(Diagnostic{file_, 0, 0, "",
                                      "too many errors; only the first " + std::to_string(max_) + " are shown",
                                      ""});
    overflowed_ = false;
  }
  return std::move(diagnostics_);
}

Mark markOf(const YAML::Node& node, Mark fallback) noexcept {
  if (!node.IsDefined()) return fallback;
  const YAML::Mark m = node.Mark();
  if (m.line < 0 || m.column < 0 || m.line >= std::numeric_limits<int>::max() ||
      m.column >= std::numeric_limits<int>::max()) {
    return fallback;
  }
  return Mark{m.line + 1, m.column + 1};
}

std::string inQuotes(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, kMaxQuotedValue)) {
    // Keep diagnostics on one line whatever the input holds.
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  if (s.size() > kMaxQuotedValue) out += "...";
  out += '"';
  return out;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string& s = node.Scalar();
  if (isPlain(node)) {
    if (looksLikeNumber(s)) return "a number " + std::string(s.substr(0, kMaxQuotedValue));
    if (s == "true" || s == "false") return "a boolean " + s;
  }
  return "a string " + inQuotes(s);
}

std::string childPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

std::string indexPath(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string at(Mark m) { return std::to_string(m.line) + ":" + std::to_string(m.column); }

// ---- Mapping ----------------------------------------------------------------------------------

std::optional<Mapping> Mapping::open(Sink& sink, const Node& node, KeyTable allowed, std::string_view what) {
  const std::string allowedKeys = "keys " + joinNames(allowed);
  if (!node.yaml.IsMap()) {
    sink.error(node.mark, node.path, "expected " + std::string(what) + " as a mapping, got " + describe(node.yaml),
               "a mapping with " + allowedKeys);
    return std::nullopt;
  }
  Mapping m;
  m.self_ = node;
  for (auto it = node.yaml.begin(); it != node.yaml.end(); ++it) {
    const YAML::Node keyNode = it->first;
    const YAML::Node valueNode = it->second;
    const Mark keyMark = markOf(keyNode, node.mark);
    if (!keyNode.IsScalar()) {
      sink.error(keyNode.IsNull() ? node.mark : keyMark, node.path, "a mapping key must be a string, got " + describe(keyNode),
                 allowedKeys);
      continue;
    }
    const std::string& key = keyNode.Scalar();
    const std::string path = childPath(node.path, key);
    if (key == "<<") {
      sink.error(keyMark, path, "YAML merge keys (<<) are not supported; write the keys out", allowedKeys);
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), std::string_view{key}) == allowed.end()) {
      auto suggestion = closestMatch(key, allowed);
      sink.error(keyMark, path,
                 "unknown key " + inQuotes(key) + (suggestion ? " (did you mean '" + *suggestion + "'?)" : std::string{}),
                 allowedKeys);
      if (suggestion) m.misspelled_.push_back(std::move(*suggestion));
      continue;
    }
    if (const Entry* first = m.find(key)) {
      sink.error(keyMark, path, "duplicate key " + inQuotes(key) + "; first defined at " + at(first->keyMark),
                 "each key at most once");
      continue;
    }
    // An empty value ("key:") has yaml-cpp's position of the next token; point at the key instead.
    const Mark valueMark = valueNode.IsNull() ? keyMark : markOf(valueNode, keyMark);
    m.entries_.push_back(Entry{key, keyMark, Node{valueNode, path, valueMark}});
  }
  return m;
}

const Mapping::Entry* Mapping::find(std::string_view key) const noexcept {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

std::optional<Node> Mapping::get(std::string_view key) const {
  if (const Entry* e = find(key)) return e->value;
  return std::nullopt;
}

Mark Mapping::keyMark(std::string_view key) const noexcept {
  if (const Entry* e = find(key)) return e->keyMark;
  return self_.mark;
}

bool Mapping::misspelled(std::string_view key) const noexcept {
  return std::find(misspelled_.begin(), misspelled_.end(), key) != misspelled_.end();
}

std::optional<Node> Mapping::require(Sink& sink, std::string_view key, std::string_view allowed) const {
  if (const Entry* e = find(key)) return e->value;
  if (misspelled(key)) return std::nullopt;
  sink.error(self_.mark, childPath(self_.path, key), "missing required key " + inQuotes(key), std::string(allowed));
  return std::nullopt;
}

// ---- scalar readers ---------------------------------------------------------------------------

std::optional<std::vector<Node>> readList(Sink& sink, const Node& node, std::string_view allowed, bool allowEmpty) {
  if (!node.yaml.IsSequence()) {
    sink.error(node.mark, node.path, "expected a list, got " + describe(node.yaml), std::string(allowed));
    return std::nullopt;
  }
  if (node.yaml.size() == 0 && !allowEmpty) {
    sink.error(node.mark, node.path, "the list must not be empty", std::string(allowed));
    return std::nullopt;
  }
  std::vector<Node> items;
  items.reserve(node.yaml.size());
  std::size_t i = 0;
  for (auto it = node.yaml.begin(); it != node.yaml.end(); ++it, ++i) {
    const YAML::Node item = *it;
    items.push_back(Node{item, indexPath(node.path, i), item.IsNull() ? node.mark : markOf(item, node.mark)});
  }
  return items;
}

std::optional<std::string> readString(Sink& sink, const Node& node, std::string_view allowed, bool allowEmpty) {
  if (!node.yaml.IsScalar()) {
    sink.error(node.mark, node.path, "expected a string, got " + describe(node.yaml), std::string(allowed));
    return std::nullopt;
  }
  if (node.yaml.Scalar().empty() && !allowEmpty) {
    sink.error(node.mark, node.path, "must not be empty", std::string(allowed));
    return std::nullopt;
  }
  return node.yaml.Scalar();
}

std::optional<bool> readBool(Sink& sink, const Node& node) {
  constexpr std::string_view kAllowed = "true or false";
  if (!node.yaml.IsScalar()) {
    sink.error(node.mark, node.path, "expected true or false, got " + describe(node.yaml), std::string(kAllowed));
    return std::nullopt;
  }
  const std::string& s = node.yaml.Scalar();
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static constexpr std::array<std::string_view, 12> kYaml11{"yes", "Yes", "YES", "no", "No", "NO",
                                                            "on",  "On",  "ON",  "off", "Off", "OFF"};
  if (std::find(kYaml11.begin(), kYaml11.end(), std::string_view{s}) != kYaml11.end()) {
    sink.error(node.mark, node.path, "expected true or false, got " + inQuotes(s) + " (YAML 1.1 spellings are not accepted)",
               std::string(kAllowed));
    return std::nullopt;
  }
  sink.error(node.mark, node.path, "expected true or false, got " + describe(node.yaml), std::string(kAllowed));
  return std::nullopt;
}

std::optional<std::int64_t> readInt(Sink& sink, const Node& node, std::int64_t min, std::int64_t max) {
  const std::string allowed = max == std::numeric_limits<std::int64_t>::max()
                                  ? "an integer >= " + std::to_string(min)
                                  : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!node.yaml.IsScalar()) {
    sink.error(node.mark, node.path, "expected an integer, got " + describe(node.yaml), allowed);
    return std::nullopt;
  }
  const std::string& s = node.yaml.Scalar();
  std::string_view digits = s;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  const bool wellFormed = !digits.empty() && std::all_of(digits.begin(), digits.end(), isDigit);
  std::int64_t value = 0;
  if (wellFormed) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc::result_out_of_range) {
      sink.error(node.mark, node.path, s.substr(0, kMaxQuotedValue) + " is out of range", allowed);
      return std::nullopt;
    }
    if (ec != std::errc{} || end != s.data() + s.size()) {
      sink.error(node.mark, node.path, "expected an integer, got " + describe(node.yaml), allowed);
      return std::nullopt;
    }
  } else {
    sink.error(node.mark, node.path, "expected an integer, got " + describe(node.yaml), allowed);
    return std::nullopt;
  }
  if (value < min || value > max) {
    sink.error(node.mark, node.path, std::to_string(value) + " is out of range", allowed);
    return std::nullopt;
  }
  return value;
}

std::optional<core::Duration> readDuration(Sink& sink, const Node& node) {
  if (!node.yaml.IsScalar()) {
    sink.error(node.mark, node.path, "expected a duration, got " + describe(node.yaml), std::string(kDurationAllowed));
    return std::nullopt;
  }
  auto parsed = parseDuration(node.yaml.Scalar());
  if (!parsed) {
    sink.error(node.mark, node.path, parsed.error().message, parsed.error().allowed);
    return std::nullopt;
  }
  return parsed.value();
}

std::optional<core::Duration> readPositiveDuration(Sink& sink, const Node& node) {
  auto d = readDuration(sink, node);
  if (d && d->count() <= 0) {
    sink.error(node.mark, node.path, "must be longer than zero", "a positive duration, e.g. 250ms, 2s, 1m");
    return std::nullopt;
  }
  return d;
}

std::optional<core::Rate> readRate(Sink& sink, const Node& node) {
  if (!node.yaml.IsScalar()) {
    sink.error(node.mark, node.path, "expected a rate, got " + describe(node.yaml), std::string(kRateAllowed));
    return std::nullopt;
  }
  auto parsed = parseRate(node.yaml.Scalar());
  if (!parsed) {
    sink.error(node.mark, node.path, parsed.error().message, parsed.error().allowed);
    return std::nullopt;
  }
  return parsed.value();
}

std::optional<core::resilience::Percent> readPercent(Sink& sink, const Node& node) {
  if (!node.yaml.IsScalar()) {
    sink.error(node.mark, node.path, "expected a percentage, got " + describe(node.yaml), std::string(kPercentAllowed));
    return std::nullopt;
  }
  const std::string& text = node.yaml.Scalar();
  auto parsed = parsePercent(text);
  if (!parsed) {
    sink.error(node.mark, node.path, parsed.error().message, parsed.error().allowed);
    return std::nullopt;
  }
  // parsePercent accepted "<digits>[.<digits>]%": count the decimals so nothing is rounded away.
  if (const std::size_t dot = text.find('.'); dot != std::string::npos && text.size() - dot - 2 > 3) {
    sink.error(node.mark, node.path, "invalid percentage " + inQuotes(text) + ": more than 3 decimals",
               "a percentage in steps of 0.001%, e.g. 50%, 12.5%, 0.125%");
    return std::nullopt;
  }
  return core::resilience::percentFromDouble(parsed.value());
}

bool isUnsignedInteger(const YAML::Node& node) {
  if (!node.IsScalar() || !isPlain(node)) return false;
  const std::string& s = node.Scalar();
  return !s.empty() && std::all_of(s.begin(), s.end(), isDigit);
}

namespace {

class DocumentCounter final : public YAML::EventHandler {
 public:
  explicit DocumentCounter(DocumentScan& scan) : scan_(scan) {}
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (scan_.documents > 0 && mark.pos == lastStart_) stuck_ = true;
    lastStart_ = mark.pos;
    if (stuck_) {
      scan_.stuckAt = mark;
      return;
    }
    ++scan_.documents;
    if (scan_.documents == 2) scan_.second = Mark{mark.line + 1, mark.column + 1};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override { node(mark); }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}
  [[nodiscard]] bool stuck() const noexcept { return stuck_; }

 private:
  // The second document's root: the position its diagnostic points at.
  void node(const YAML::Mark& mark) {
    if (scan_.documents == 2 && !secondNode_ && !stuck_) {
      secondNode_ = true;
      scan_.second = Mark{mark.line + 1, mark.column + 1};
    }
  }
  DocumentScan& scan_;
  int lastStart_ = -1;
  bool stuck_ = false;
  bool secondNode_ = false;
};

}  // namespace

DocumentScan scanDocuments(const std::string& text) {
  DocumentScan scan;
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter(scan);
  while (scan.documents < kMaxDocumentsScanned && !counter.stuck() && parser.HandleNextDocument(counter)) {
  }
  return scan;
}


}  // namespace gatelab::config::detail
