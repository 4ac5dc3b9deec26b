#pragma once
// Value templates: header values with request variables, compiled once at config load and
// rendered per request. Semantics: docs/security.md, "Header transforms".
//
// Syntax: literal text, `$(name)` variables, and `$$` for a literal '$'. Any other '$' is an
// error. Variables:
//   $(uuid)          a fresh UUID for the request, made by the host (TemplateContext::uuid)
//   $(client_ip)     RequestView::clientAddress
//   $(consumer)      RequestView::consumer (the authenticated consumer id)
//   $(route)         the matched route's name          $(service)  its service's name
//   $(method)        the request method                $(host)     Host / :authority
//   $(jwt.CLAIM)     a verified claim as text (RequestView::claims), e.g. $(jwt.sub);
//                    CLAIM is visible ASCII without '(' ')' '$'
//   $(header.NAME)   the first request field NAME (case-insensitive; NAME is a token)
// A variable without a value (no such claim or field, no consumer...) renders as empty text.
//
// Safety: literal text is checked at compile time (no control characters: CR, LF, NUL and the
// rest, see http_field.hpp). Values substituted at run time come from the client or a token and
// may hold anything, so render() checks each one and refuses the whole value (kUnsafeValue) if
// one would put a control character into the field; it also refuses results longer than
// kMaxRenderedBytes (kTooLong). What happens to a refused value is the caller's decision
// (header_transform.hpp: the operation does not write).
//
// Thread safety: a ValueTemplate is immutable; render() may run on any number of threads (each
// with its own `out`). Complexity: render is O(output size + headers/claims scanned per
// variable); no allocation once `out` has grown.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/request.hpp"

namespace gatelab::core::shaping {

inline constexpr std::size_t kMaxTemplateBytes = 4096;   ///< longest template source
inline constexpr std::size_t kMaxRenderedBytes = 8192;   ///< longest rendered value

enum class TemplateVariable : std::uint8_t {
  kUuid,
  kClientIp,
  kConsumer,
  kRoute,
  kService,
  kMethod,
  kHost,
  kClaim,   ///< $(jwt.CLAIM)
  kHeader,  ///< $(header.NAME)
};

/// What a value is rendered from. Views: the host keeps the bytes alive during render().
struct TemplateContext {
  RequestView request{};
  std::string_view route{};
  std::string_view service{};
  /// The request's UUID, made by the host from its random source (formatUuidV4). Make it only
  /// when some template usesUuid(), and reuse it for every template of the request.
  std::string_view uuid{};
};

/// A compile error: where (byte offset in the template source) and what.
struct TemplateError {
  std::size_t offset = 0;
  std::string message{};
};

enum class RenderStatus : std::uint8_t {
  kOk,
  kUnsafeValue,  ///< "unsafe_value": a substituted value holds a control character
  kTooLong,      ///< "too_long": the result would exceed kMaxRenderedBytes
};

/// "ok", "unsafe_value", "too_long".
const char* toString(RenderStatus s) noexcept;

struct RenderResult {
  RenderStatus status = RenderStatus::kOk;
  /// The variable that made the value unusable, as written without "$( )" ("jwt.name"); empty
  /// when ok. Points into the template.
  std::string_view variable{};
  [[nodiscard]] bool ok() const noexcept { return status == RenderStatus::kOk; }
};

class ValueTemplate {
 public:
  /// Compiles `source`, or returns nullopt and describes the first problem in `error`: unknown
  /// variable, unterminated "$(", empty "$()", stray '$', bad claim or field name, control
  /// characters in the literal text, a source longer than kMaxTemplateBytes.
  static std::optional<ValueTemplate> compile(std::string_view source, TemplateError& error);

  /// Renders into `out` (cleared first). On a refusal `out` is left empty.
  RenderResult render(const TemplateContext& ctx, std::string& out) const;

  /// True when the template has no variables (its value is fixed at compile time).
  [[nodiscard]] bool isLiteral() const noexcept { return variableCount_ == 0; }
  [[nodiscard]] bool uses(TemplateVariable v) const noexcept;
  [[nodiscard]] bool usesUuid() const noexcept { return uses(TemplateVariable::kUuid); }
  [[nodiscard]] const std::string& source() const noexcept { return source_; }

 private:
  struct Piece {
    bool literal = true;
    TemplateVariable variable = TemplateVariable::kUuid;
    std::string text;     ///< literal text (unescaped), or the claim / field name
    std::string spelled;  ///< a variable as written between "$(" and ")"
  };

  ValueTemplate() = default;

  std::string source_;
  std::vector<Piece> pieces_;
  std::size_t variableCount_ = 0;
  std::uint32_t usedMask_ = 0;
};

/// A version 4 (random) UUID in its 36-character text form, from 128 random bits supplied by
/// the host (e.g. two FlowDraws values); the version and variant bits are overwritten
/// (RFC 9562 §5.4). Pure and deterministic: the same bits give the same text.
[[nodiscard]] std::array<char, 36> formatUuidV4(std::uint64_t high, std::uint64_t low) noexcept;

}  // namespace gatelab::core::shaping
