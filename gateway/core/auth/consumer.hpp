#pragma once
// Consumers: the identities authentication resolves to (Kong's "consumer"). An API key maps to
// one; a JWT's consumer claim names one; ACL policies read their groups; identity headers tell
// the upstream who it is.
//
// Thread safety: a ConsumerRegistry is immutable once built; find() may run on any number of
// threads at once. Share it with std::shared_ptr<const ConsumerRegistry> (ApiKeyAuth does).

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/spec_error.hpp"

namespace gatelab::core::auth {

/// Longest consumer id or group name accepted, in bytes.
inline constexpr std::size_t kMaxConsumerIdBytes = 256;

struct Consumer {
  /// Unique, non-empty, at most kMaxConsumerIdBytes of VCHAR and obs-text (no spaces, no
  /// controls): it is sent upstream as a header value and used in rate-limit keys.
  std::string id{};
  /// Group names for ACLs: each non-empty, VCHAR only, without ',' (X-Consumer-Groups joins them
  /// with ", "); duplicates are dropped.
  std::vector<std::string> groups{};
  friend bool operator==(const Consumer&, const Consumer&) = default;
};

/// Problems with a group name `g` (nullopt when valid); shared by the consumer and ACL specs.
std::optional<std::string> checkGroupName(std::string_view g);

class ConsumerRegistry {
 public:
  /// Builds the registry, or returns nullptr after appending every problem to `errors` (fields
  /// "consumers[i].id", "consumers[i].groups[j]"). Duplicate ids are errors.
  static std::shared_ptr<const ConsumerRegistry> create(std::vector<Consumer> consumers, SpecErrors& errors);

  /// The consumer with id `id` (case-sensitive), or nullptr. O(log n), no allocation.
  [[nodiscard]] const Consumer* find(std::string_view id) const noexcept;

  /// Every consumer, sorted by id.
  [[nodiscard]] std::span<const Consumer> consumers() const noexcept { return consumers_; }

 private:
  explicit ConsumerRegistry(std::vector<Consumer> sorted) : consumers_(std::move(sorted)) {}
  std::vector<Consumer> consumers_;
};

}  // namespace gatelab::core::auth
