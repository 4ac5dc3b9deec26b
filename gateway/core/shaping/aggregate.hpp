#pragma once
// Aggregation (backend-for-frontend): one route answers with the JSON bodies of several upstream
// calls ("parts") merged under named keys, the calls made in parallel. Semantics:
// docs/security.md, "Aggregation".
//
// The pieces here are the pure ones: the spec and its rules, which answers of a part count as a
// success, what the whole answer's status is given each part's fate, and the merged body. The
// hosts run the calls (RequestFlow::startPart gives each part the usual upstream phase of its
// service: load balancing, breaker, retries, timeouts, with the part's own timeout as overall
// deadline); the proxy merges real bodies, the simulator only the fates (its latency is the
// slowest part's).
//
// A part fails when its call ends without a 2xx answer (connect failure, timeout, reset, breaker
// open, no target, or any other status) or when the 2xx body is not one JSON value. What a
// failed part does to the answer is its `onFailure`:
//   kFail  the whole answer is 502 (the default: a page without its data is an error),
//   kNull  its key is present with the value null,
//   kOmit  its key is left out.
//
// Thread safety: plain values and free functions. Complexity: merge is O(total body size).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/spec_error.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::shaping {

inline constexpr std::size_t kMaxAggregateParts = 16;
inline constexpr std::size_t kMaxPartNameBytes = 64;
/// A part's answer larger than this fails the part (the proxy stops reading it).
inline constexpr std::size_t kMaxPartBodyBytes = 8 * 1024 * 1024;
inline constexpr Duration kMaxPartTimeout = std::chrono::hours(1);

enum class PartFailure : std::uint8_t { kFail, kNull, kOmit };

/// "fail", "null", "omit".
const char* toString(PartFailure f) noexcept;
std::optional<PartFailure> partFailureFromName(std::string_view name) noexcept;

struct AggregatePart {
  std::string name{};     ///< its key in the merged object: 1..64 of [A-Za-z0-9_-]; unique
  std::string service{};  ///< the service called (a config service name)
  /// The path sent (from '/', no query, no '#'; RFC 3986 path characters and %-escapes).
  std::string path{};
  bool forwardQuery = false;  ///< send the client's query string with it
  /// The part's whole time (every try and back-off); unset: the service's own timeouts only.
  std::optional<Duration> timeout{};
  PartFailure onFailure = PartFailure::kFail;
  friend bool operator==(const AggregatePart&, const AggregatePart&) = default;
};

struct AggregateSpec {
  std::vector<AggregatePart> parts{};  ///< 1..kMaxAggregateParts, called in parallel
  friend bool operator==(const AggregateSpec&, const AggregateSpec&) = default;
};

/// Appends every problem of `spec` to `errors` (fields "parts", "parts[i].name", ".path",
/// ".service", ".timeout"); returns whether there were none. Service names are not resolved here.
bool validateAggregate(const AggregateSpec& spec, SpecErrors& errors);

/// True when `status` is 2xx and `body` is exactly one JSON value (RFC 8259; surrounding
/// whitespace allowed).
[[nodiscard]] bool partSucceeded(std::uint16_t status, std::string_view body) noexcept;

inline constexpr std::uint16_t kAggregateFailedStatus = 502;

struct AggregateVerdict {
  std::uint16_t status = 200;  ///< 200, or kAggregateFailedStatus when a kFail part failed
  /// The first failed part whose onFailure is kFail (answer 502), else -1.
  int failedPart = -1;
  std::size_t failedParts = 0;  ///< every failed part, whatever its onFailure
};

/// The answer's status given each part's success (ok[i] for spec.parts[i]).
/// Precondition: ok.size() == spec.parts.size().
[[nodiscard]] AggregateVerdict decide(const AggregateSpec& spec, std::span<const bool> ok) noexcept;

/// The merged body for a 200 verdict: {"name": body, ...} in spec order, failed parts as null or
/// left out per their onFailure; bodies copied verbatim (trimmed of surrounding whitespace).
/// Precondition: bodies.size() == ok.size() == spec.parts.size(); successful bodies are JSON.
void mergeBodies(const AggregateSpec& spec, std::span<const std::string_view> bodies, std::span<const bool> ok,
                 std::string& out);

/// The body of a 502 verdict: {"error":"part_failed","part":"<name>"}.
void failureBody(const AggregateSpec& spec, const AggregateVerdict& verdict, std::string& out);

}  // namespace gatelab::core::shaping
