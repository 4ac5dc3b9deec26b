#pragma once
// A small strict JSON reader for the hot path: one timeline line per call, 86,400 lines for a
// 24-hour run. QJsonDocument builds a tree of refcounted values and allocates for every string;
// here a line is parsed into a flat node array that is reused from line to line, strings stay
// views into the line (decoded only when they contain escapes) and numbers go through
// std::from_chars. It accepts exactly RFC 8259 JSON (no comments, no trailing commas, no NaN).
//
// Not thread-safe; one Document per thread. Node views point into the parsed text: the text must
// outlive the nodes' use.

#include <QString>
#include <cstdint>
#include <string_view>
#include <vector>

namespace gatelab::gui::jsonlite {

enum class Type : std::uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

struct Node {
  Type type = Type::kNull;
  bool boolean = false;
  bool escaped = false;     // the string (value) contains backslash escapes
  std::uint32_t next = 0;   // next sibling (0: none; node 0 is always the root)
  std::uint32_t first = 0;  // first child of an array / object (0: empty)
  std::uint32_t count = 0;  // children of an array / object
  double number = 0;
  std::string_view key;   // member name (as written; gatelab's keys never need escapes)
  std::string_view text;  // string contents without the quotes, escapes not yet decoded
};

const char* typeName(Type t);

class Document {
 public:
  /// Parses `text`; false with the byte offset of the problem and a message on invalid JSON.
  bool parse(std::string_view text, std::size_t& errorOffset, const char*& errorMessage);
  [[nodiscard]] const Node& root() const { return nodes_[0]; }
  [[nodiscard]] const Node& at(std::uint32_t index) const { return nodes_[index]; }
  /// The member `key` of an object, or nullptr.
  [[nodiscard]] const Node* find(const Node& object, std::string_view key) const;
  /// A string node's value as a QString, escapes decoded.
  [[nodiscard]] static QString string(const Node& node);

 private:
  std::uint32_t value(int depth);
  bool fail(const char* message);
  void skipSpace();
  bool parseString(std::string_view& out, bool& escaped);

  std::vector<Node> nodes_;
  std::string_view text_;
  std::size_t pos_ = 0;
  const char* error_ = nullptr;
};

}  // namespace gatelab::gui::jsonlite
