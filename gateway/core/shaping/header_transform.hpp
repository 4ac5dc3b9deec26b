#pragma once
// Header transforms: an ordered list of edits to a request's or a response's header fields,
// with values from templates (value_template.hpp). Semantics: docs/security.md, "Header
// transforms".
//
// Operations, applied in the order written (not in a fixed order by kind, as Kong's
// request-transformer does: the list reads like what happens):
//   add     NAME VALUE  a new field line NAME: VALUE, even if NAME is present
//   set     NAME VALUE  every NAME line replaced by one NAME: VALUE (at the first one's place),
//                       or added when absent
//   append  NAME VALUE  ", VALUE" appended to the last NAME line (RFC 9110 §5.3 list syntax),
//                       or added when absent; for Set-Cookie (never comma-joined, RFC 9110
//                       §5.3) a new line is added instead
//   remove  NAME        every NAME line removed
//   rename  NAME NEW    when NAME is present: existing NEW lines removed, every NAME line renamed
//                       to NEW (values and positions kept); nothing happens when NAME is absent
// Names are matched case-insensitively. A value that renders empty means "no value": add and
// append do nothing and set removes NAME.
//
// A value that cannot be rendered (a substituted variable holds a control character, or the
// result is too long; value_template.hpp) is never written. The operation fails closed: add and
// append do nothing, set removes NAME (so a client-sent NAME never survives a set that meant to
// replace it). Each failure is reported in TransformReport with the operation's index and the
// variable, for the host to count and log; the request goes on.
//
// Fields the proxy owns cannot be edited (rejected at config load): the framing and hop-by-hop
// fields Content-Length, Transfer-Encoding, Connection, Keep-Alive, Proxy-Connection, TE,
// Trailer and Upgrade; editing them could desynchronise message framing between the gateway and
// the upstream (request smuggling).
//
// Thread safety: a HeaderTransform is immutable; apply() may run on any number of threads, each
// on its own HeaderList. Complexity: O(operations * fields) plus rendering; allocates the
// values it writes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/http_field.hpp"
#include "gateway/core/shaping/value_template.hpp"
#include "gateway/core/spec_error.hpp"

namespace gatelab::core::shaping {

inline constexpr std::size_t kMaxHeaderOperations = 64;

enum class HeaderOp : std::uint8_t { kAdd, kSet, kAppend, kRemove, kRename };

/// "add", "set", "append", "remove", "rename".
const char* toString(HeaderOp op) noexcept;
/// The operation named `name` (as toString spells it), or nullopt.
std::optional<HeaderOp> headerOpFromName(std::string_view name) noexcept;

struct HeaderOpSpec {
  HeaderOp op = HeaderOp::kSet;
  std::string name{};   ///< the field to edit (for rename: the old name); an RFC 9110 token
  /// add / set / append: the value template. rename: the new name (a token). remove: empty.
  std::string value{};
  friend bool operator==(const HeaderOpSpec&, const HeaderOpSpec&) = default;
};

struct HeaderTransformSpec {
  std::vector<HeaderOpSpec> operations{};  ///< at most kMaxHeaderOperations
};

/// An operation that did not write its value.
struct OpFailure {
  std::uint16_t operation = 0;  ///< index in HeaderTransformSpec::operations
  RenderStatus status = RenderStatus::kUnsafeValue;
  std::string_view variable{};    ///< the offending variable ("jwt.name"); points into the transform
  friend bool operator==(const OpFailure&, const OpFailure&) = default;
};

struct TransformReport {
  std::vector<OpFailure> failures{};  ///< empty when every operation succeeded (no allocation then)
  [[nodiscard]] bool ok() const noexcept { return failures.empty(); }
};

/// True for the fields transforms may not edit (see the file comment).
[[nodiscard]] bool isProxyOwnedField(std::string_view name) noexcept;

class HeaderTransform {
 public:
  /// Compiles every operation, or returns nullopt after appending every problem to `errors`
  /// (fields "operations[i].name", "operations[i].value"; template errors carry the offset).
  static std::optional<HeaderTransform> create(HeaderTransformSpec spec, SpecErrors& errors);

  /// Applies the operations to `fields` in order.
  TransformReport apply(HeaderList& fields, const TemplateContext& ctx) const;

  /// Some value uses $(uuid): the host must put a UUID into the context.
  [[nodiscard]] bool usesUuid() const noexcept { return usesUuid_; }
  [[nodiscard]] std::size_t size() const noexcept { return ops_.size(); }
  [[nodiscard]] bool empty() const noexcept { return ops_.empty(); }

 private:
  struct Op {
    HeaderOp op;
    std::string name;
    std::string newName;                  // rename
    std::optional<ValueTemplate> value;   // add / set / append
  };

  HeaderTransform() = default;

  std::vector<Op> ops_;
  bool usesUuid_ = false;
};

}  // namespace gatelab::core::shaping
