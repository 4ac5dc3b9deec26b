#pragma once
// INTERNAL to gateway/config (included by its .cpp files only; yaml-cpp types appear here, so this
// header must never be included from a public header).
//
// Schema-checked reading of a yaml-cpp node tree: every reader reports problems to a Sink as
// Diagnostics (with path and position) and returns std::nullopt, never throws on bad data.

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/diagnostics.hpp"
#include "gateway/config/suggest.hpp"
#include "gateway/core/rate.hpp"
#include "gateway/core/resilience/percent.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::config::detail {

/// 1-based position in the file.
struct Mark {
  int line = 0;
  int column = 0;
};

/// Collects diagnostics for one file, up to a cap (one extra diagnostic notes the overflow).
class Sink {
 public:
  Sink(std::string file, std::size_t maxDiagnostics);

  void error(Mark at, std::string path, std::string message, std::string allowed = {});
  [[nodiscard]] std::size_t count() const noexcept { return diagnostics_.size(); }
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  /// The diagnostics sorted by position (stable: same-position ones keep report order).
  [[nodiscard]] std::vector<Diagnostic> take();

 private:
  std::string file_;
  std::size_t max_;
  bool overflowed_ = false;
  std::vector<Diagnostic> diagnostics_;
};

/// A YAML node with its path ("routes[2].match") and position.
struct Node {
  YAML::Node yaml;
  std::string path;
  Mark mark;
};

/// The node's 1-based position, or `fallback` when yaml-cpp has none.
[[nodiscard]] Mark markOf(const YAML::Node& node, Mark fallback) noexcept;
/// "a string \"GET\"", "a number 5", "a list", "a mapping", "null": what the user wrote.
[[nodiscard]] std::string describe(const YAML::Node& node);
[[nodiscard]] std::string inQuotes(std::string_view s);
[[nodiscard]] std::string childPath(std::string_view parent, std::string_view key);
[[nodiscard]] std::string indexPath(std::string_view parent, std::size_t index);
/// "1:5": a mark as text, to point at a second location inside a message.
[[nodiscard]] std::string at(Mark m);

/// The allowed keys of one kind of mapping, in documentation order. Adding a field to the schema
/// means adding its name to the table and reading it in the builder.
using KeyTable = std::span<const std::string_view>;

/// A mapping whose keys have been checked against a KeyTable: unknown keys (with a did-you-mean),
/// duplicate keys and non-string keys have been reported and are not visible through get().
class Mapping {
 public:
  struct Entry {
    std::string key;
    Mark keyMark;
    Node value;
  };

  /// Reports "expected a mapping" and returns nullopt when `node` is not a mapping. `what`
  /// names the mapping in that message ("a service", "the match conditions").
  static std::optional<Mapping> open(Sink& sink, const Node& node, KeyTable allowed, std::string_view what);

  [[nodiscard]] const Node& self() const noexcept { return self_; }
  [[nodiscard]] const std::vector<Entry>& entries() const noexcept { return entries_; }
  [[nodiscard]] bool has(std::string_view key) const noexcept { return find(key) != nullptr; }
  /// The value under `key` (first occurrence), if present.
  [[nodiscard]] std::optional<Node> get(std::string_view key) const;
  /// Position of `key` itself, or the mapping's position if absent.
  [[nodiscard]] Mark keyMark(std::string_view key) const noexcept;
  /// True when an unknown key of this mapping was reported with `key` as its did-you-mean (then a
  /// "missing KEY" report would only repeat the same mistake).
  [[nodiscard]] bool misspelled(std::string_view key) const noexcept;
  /// Like get(), but reports `missing required key "KEY"` at the mapping's position when absent
  /// (unless the key is misspelled()).
  [[nodiscard]] std::optional<Node> require(Sink& sink, std::string_view key, std::string_view allowed) const;

 private:
  [[nodiscard]] const Entry* find(std::string_view key) const noexcept;

  Node self_;
  std::vector<Entry> entries_;
  std::vector<std::string> misspelled_;
};

/// The items of a list (each with path "parent[i]"). `allowed` describes the list for messages.
[[nodiscard]] std::optional<std::vector<Node>> readList(Sink& sink, const Node& node, std::string_view allowed,
                                                        bool allowEmpty = false);
/// A scalar as text. Empty strings are rejected unless allowEmpty.
[[nodiscard]] std::optional<std::string> readString(Sink& sink, const Node& node, std::string_view allowed,
                                                    bool allowEmpty = false);
/// true/false (also True/TRUE); yes/no/on/off are rejected (YAML 1.1 booleans surprise people).
[[nodiscard]] std::optional<bool> readBool(Sink& sink, const Node& node);
/// A decimal integer in [min, max].
[[nodiscard]] std::optional<std::int64_t> readInt(Sink& sink, const Node& node, std::int64_t min, std::int64_t max);
[[nodiscard]] std::optional<core::Duration> readDuration(Sink& sink, const Node& node);
/// A duration that must be > 0.
[[nodiscard]] std::optional<core::Duration> readPositiveDuration(Sink& sink, const Node& node);
[[nodiscard]] std::optional<core::Rate> readRate(Sink& sink, const Node& node);
/// A percentage "0%".."100%" with at most three decimals (the core's Percent is exact to 0.001%).
[[nodiscard]] std::optional<core::resilience::Percent> readPercent(Sink& sink, const Node& node);
/// True when the node is a plain scalar made of decimal digits only ("20", not "20s" or '20').
[[nodiscard]] bool isUnsignedInteger(const YAML::Node& node);

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

/// One of the names in `table`, with a did-you-mean on a near miss.
template <typename E, std::size_t N>
[[nodiscard]] std::optional<E> readEnum(Sink& sink, const Node& node, const std::array<EnumName<E>, N>& table) {
  std::array<std::string_view, N> names{};
  for (std::size_t i = 0; i < N; ++i) names[i] = table[i].name;
  const std::string allowed = joinNames(std::span<const std::string_view>(names));
  auto text = readString(sink, node, allowed);
  if (!text) return std::nullopt;
  for (const EnumName<E>& e : table) {
    if (e.name == *text) return e.value;
  }
  sink.error(node.mark, node.path,
             "unknown value " + inQuotes(*text) + didYouMean(*text, std::span<const std::string_view>(names)), allowed);
  return std::nullopt;
}

/// The name of `value` in `table` (for messages), or "?" if absent.
template <typename E, std::size_t N>
[[nodiscard]] std::string_view enumName(const std::array<EnumName<E>, N>& table, E value) noexcept {
  for (const EnumName<E>& e : table) {
    if (e.value == value) return e.name;
  }
  return "?";
}

// The documents of a YAML stream, counted without building them. yaml-cpp 0.7's LoadAll never
// returns on some malformed streams (a stray ',' at the top level, jbeder/yaml-cpp#1040): its parser
// reports empty document after empty document without consuming input, and LoadAll collects them
// until memory runs out. Counting with an event handler stops there (a document that starts where
// the previous one started); callers then build only the first document, with YAML::Load.
inline constexpr std::size_t kMaxDocumentsScanned = 1000;

struct DocumentScan {
  std::size_t documents = 0;
  Mark second{1, 1};                  ///< where the second document's content starts
  std::optional<YAML::Mark> stuckAt;  ///< the parser stopped making progress here
};

[[nodiscard]] DocumentScan scanDocuments(const std::string& text);

}  // namespace gatelab::config::detail
