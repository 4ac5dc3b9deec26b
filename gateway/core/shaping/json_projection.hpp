#pragma once
// JSON response projection (backend-for-frontend shaping): per route, keep or drop listed fields
// of a JSON response body and cap array lengths, so a mobile route serves a smaller payload of the
// same service. Semantics: docs/security.md, "Response projection"; config:
// docs/config-reference.md, `response_projection`.
//
// Paths. A path is a sequence of steps written with '.' between object keys; "[]" after a step
// (or at the very start, for a top-level array) means "each element of this array":
//   id              member "id" of the top-level object
//   owner.login     member "login" of the object under "owner"
//   items[].price   member "price" of each element of the array under "items"
//   matrix[][]      each element of each element of "matrix" (arrays of arrays)
//   [].id           member "id" of each element of a top-level array
// A key containing '.', '[', ']' or '\' is written with '\' before that character
// ("a\.b" is the key "a.b"); '\' before any other character is that character. Keys compare
// byte for byte with the body's keys after JSON unescaping ("\u0041" in a body matches "A").
//
// keep (allow-list): when non-empty, only the listed paths survive, with the containers that
// lead to them. A kept value keeps everything inside it, unless `drop` or a limit says otherwise
// (listing both "owner" and "owner.login" in keep is refused: it would be ambiguous).
// drop (deny-list): the listed paths are removed; drop applies after keep, so keep "owner" plus
// drop "owner.email" keeps the owner without its e-mail.
// maxArrayItems caps every array (the first N elements are kept); arrayLimits caps the arrays at
// given paths and overrides the global cap for them (larger or smaller). "$" names the
// top-level value in arrayLimits.
//
// Shapes that do not match the paths: a missing member is ignored. A path that expects an object
// or an array and meets a scalar (string, number, true, false, null) leaves the scalar as it is.
// With keep, a container of the other kind (an array where the path says object, or an object
// where it says "[]") is removed: no listed path reaches into it, and an allow-list fails closed
// (a top-level value of the other kind becomes {} or []).
// With drop and limits, a container of the other kind is left as it is (the path is absent).
// Objects with duplicate keys: each member is judged on its own, so both copies stay or go.
//
// Output: compact JSON (whitespace between tokens removed), every kept token copied byte for
// byte: numbers keep their spelling (1.10, 12345678901234567890, 1e400, -0.0 are never
// reformatted), strings keep their escapes and raw UTF-8. Members and elements keep their order.
//
// Input is strict RFC 8259 JSON: one value, optional whitespace around it, strings of valid
// UTF-8 without raw control characters, surrogate escapes only in high-low pairs. Anything else
// (including a byte-order mark, NaN, comments, trailing commas) is kNotJson; a body larger than
// maxBodyBytes is kTooLarge (not parsed); nesting deeper than maxDepth is kTooDeep. In these
// cases `out` is left empty and the host sends the body unchanged (the projection never breaks
// a response it does not understand, and never half-applies).
//
// Host contract (the live proxy; the simulator has no bodies): call apply() only for responses
// with a 2xx status whose Content-Type is application/json or a +json type, on the whole body
// (read completely, not streamed), before the gateway compresses it. A body the upstream sent
// with a Content-Encoding (gzip...) is not JSON (kNotJson) unless the host decodes it first.
// When the status is kApplied, send `out` and set Content-Length to its size; a strong ETag
// becomes weak (W/"..."), as nginx does when it compresses, and Content-MD5 / Digest /
// Repr-Digest are removed (they describe the original bytes).
//
// Thread safety: a JsonProjection is immutable; apply() may run on any number of threads.
// Complexity: one pass over the body, O(body bytes + members * log children); allocates only
// `out` (reserved to the body size) and, for keys written with escapes, a small scratch string.
// Recursion depth is bounded by maxDepth.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/spec_error.hpp"

namespace gatelab::core::shaping {

inline constexpr std::size_t kMaxProjectionPaths = 256;        ///< keep + drop + arrayLimits
inline constexpr std::size_t kMaxProjectionPathBytes = 1024;   ///< one path as written
inline constexpr std::uint32_t kMaxProjectionArrayItems = 1'000'000;
inline constexpr std::uint32_t kDefaultProjectionMaxDepth = 64;
inline constexpr std::uint32_t kMaxProjectionDepth = 512;
inline constexpr std::size_t kDefaultProjectionMaxBodyBytes = std::size_t{8} << 20;  ///< 8 MiB

struct ArrayLimitSpec {
  std::string path{};        ///< an array's path ("items", "owner.repos", "matrix[]", "$")
  std::uint32_t maxItems = 0;  ///< 0..kMaxProjectionArrayItems elements kept
  friend bool operator==(const ArrayLimitSpec&, const ArrayLimitSpec&) = default;
};

struct ProjectionSpec {
  std::vector<std::string> keep{};  ///< allow-list; empty: everything is kept
  std::vector<std::string> drop{};  ///< deny-list, applied after keep
  std::optional<std::uint32_t> maxArrayItems{};  ///< 0..kMaxProjectionArrayItems; unset: no cap
  std::vector<ArrayLimitSpec> arrayLimits{};     ///< per-array caps, overriding maxArrayItems
  std::uint32_t maxDepth = kDefaultProjectionMaxDepth;  ///< 1..kMaxProjectionDepth containers deep
  std::size_t maxBodyBytes = kDefaultProjectionMaxBodyBytes;  ///< > 0
  friend bool operator==(const ProjectionSpec&, const ProjectionSpec&) = default;
};

/// Stable status codes (toString) for metrics and logs.
enum class ProjectionStatus : std::uint8_t {
  kApplied,   ///< "applied": `out` holds the projected body (possibly equal to the input)
  kNotJson,   ///< "not_json": the body is not strict JSON; send it unchanged
  kTooDeep,   ///< "too_deep": nesting deeper than maxDepth; send it unchanged
  kTooLarge,  ///< "too_large": body larger than maxBodyBytes; send it unchanged
};

inline constexpr std::size_t kProjectionStatusCount = 4;

const char* toString(ProjectionStatus s) noexcept;

struct ProjectionResult {
  ProjectionStatus status = ProjectionStatus::kNotJson;
  std::size_t bytesIn = 0;   ///< body size
  std::size_t bytesOut = 0;  ///< out.size() when applied, else bytesIn (what the client gets)
  /// Byte offset in the body where parsing stopped (kNotJson, kTooDeep); 0 otherwise.
  std::size_t errorOffset = 0;
  [[nodiscard]] bool applied() const noexcept { return status == ProjectionStatus::kApplied; }
};

/// The decoded steps of a path, or the reason it is malformed. Exposed for the config layer's
/// messages and for tests. A step is a key or the element marker.
struct ProjectionStep {
  bool element = false;  ///< "[]"
  std::string key{};     ///< unescaped key when !element
  friend bool operator==(const ProjectionStep&, const ProjectionStep&) = default;
};
struct ParsedPath {
  std::vector<ProjectionStep> steps{};
  std::string error{};  ///< empty when the path is well formed
};
/// Parses one path (see the file comment). `allowRoot`: "$" alone is accepted (arrayLimits).
[[nodiscard]] ParsedPath parseProjectionPath(std::string_view path, bool allowRoot = false);

class JsonProjection {
 public:
  /// Compiles the paths into a trie, or returns nullopt after appending every problem to `errors`
  /// (fields "keep[i]", "drop[i]", "arrayLimits[i].path", "arrayLimits[i].maxItems",
  /// "maxArrayItems", "maxDepth", "maxBodyBytes", or "" for a spec that does nothing). Rules:
  /// paths well formed and at most kMaxProjectionPathBytes; no path twice in a list; keep and drop
  /// paths not ending in "[]" (name the array itself); no keep path inside another; no path both
  /// kept and dropped, none dropped inside a dropped one, none dropped above a kept one; a limited
  /// array neither dropped nor (with keep) outside what is kept; at least one of the four settings.
  static std::optional<JsonProjection> create(ProjectionSpec spec, SpecErrors& errors);

  /// Projects `body` into `out` (cleared first). See the file comment for statuses; on any status
  /// but kApplied `out` is empty.
  ProjectionResult apply(std::string_view body, std::string& out) const;

  [[nodiscard]] const ProjectionSpec& spec() const noexcept { return spec_; }

 private:
  static constexpr std::uint32_t kNoLimit = 0xFFFFFFFFu;
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;

  enum class Keep : std::uint8_t { kNo, kAncestor, kAll };

  struct TrieNode {
    std::vector<std::pair<std::string, std::uint32_t>> children;  // sorted by key
    std::uint32_t element = kNone;  // child for "[]"
    Keep keep = Keep::kNo;
    bool drop = false;
    bool hasKeyedKeep = false;     // some keyed child has keep != kNo
    std::uint32_t limit = kNoLimit;  // arrayLimits at this node
  };

  friend class ProjectionWalker;

  JsonProjection() = default;
  std::uint32_t insert(const std::vector<ProjectionStep>& steps);
  [[nodiscard]] std::uint32_t child(std::uint32_t node, std::string_view key) const noexcept;

  ProjectionSpec spec_;
  std::vector<TrieNode> nodes_;  // nodes_[0] is the root
  bool filtering_ = false;       // keep is non-empty
  std::uint32_t globalLimit_ = kNoLimit;
};

}  // namespace gatelab::core::shaping
