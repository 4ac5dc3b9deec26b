#pragma once
// Identity headers: tell the upstream who the gateway authenticated, and make sure nobody else
// can. Semantics: docs/security.md, "Identity headers".
//
// The rule that makes them trustworthy: every configured identity field name (and every name in
// `stripOnly`) is removed from the client's request on EVERY request the policy sees, whether
// authentication succeeded, failed over to an anonymous consumer, or is optional and absent.
// Only then are the gateway's own values added. A client sending "X-Consumer-ID: admin" never
// reaches the upstream with it.
//
// Default names follow Kong, so upstreams written for Kong work unchanged: X-Consumer-ID,
// X-Consumer-Groups (comma-separated, as Kong's acl plugin sends it), X-Credential-Identifier,
// X-Anonymous-Consumer ("true" when the anonymous consumer was used), X-Authenticated-Userid and
// X-Authenticated-Scope (Kong's oauth2 plugin names, here filled from a JWT's sub and scope).
//
// A value that may not go into a header field (control characters, see http_field.hpp; a claim
// can carry any of them) is not sent, and the field is reported in IdentityHeaders::unsafe; a
// group that contains ',' (possible only for groups read from a claim) makes the whole groups
// field unsafe, so no partial list is ever sent.
//
// Thread safety: an IdentityPolicy is immutable; headersFor() and apply() may run on any number
// of threads. Complexity: headersFor is O(total value size); apply adds O(fields * names).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/http_field.hpp"
#include "gateway/core/spec_error.hpp"

namespace gatelab::core::auth {

/// The identity facts an upstream can be told, in the order fields are added.
enum class IdentityField : std::uint8_t {
  kConsumerId,  ///< the consumer's id
  kGroups,      ///< the consumer's groups, joined with ", "
  kCredential,  ///< the credential's id (ApiKeySpec::id); never the secret
  kAnonymous,   ///< "true" when admitted as the anonymous consumer; absent otherwise
  kUserId,      ///< the end user (e.g. the JWT's sub claim)
  kScopes,      ///< the granted scopes, space-separated as in the token
};

inline constexpr std::size_t kIdentityFieldCount = 6;

/// "consumer_id", "groups", "credential", "anonymous", "user_id", "scopes".
const char* toString(IdentityField f) noexcept;

struct IdentitySpec {
  /// Field name per IdentityField (index = enumerator value). An empty name: that fact is not
  /// sent (and its name is not stripped unless listed in stripOnly). Names must be tokens,
  /// distinct (case-insensitively).
  std::vector<std::string> names{"X-Consumer-ID",         "X-Consumer-Groups",    "X-Credential-Identifier",
                                 "X-Anonymous-Consumer",  "X-Authenticated-Userid", "X-Authenticated-Scope"};
  /// Further names stripped from every request but never set: identity fields an upstream might
  /// trust from an earlier setup. Default: Kong's other consumer fields.
  std::vector<std::string> stripOnly{"X-Consumer-Custom-ID", "X-Consumer-Username", "X-Credential-Username"};
};

/// What authentication established for one request. Empty views mean "unknown / none".
struct Identity {
  std::string_view consumerId{};
  std::span<const std::string> groups{};
  std::string_view credential{};
  bool anonymous = false;
  std::string_view userId{};
  std::string_view scopes{};
};

struct IdentityHeaders {
  /// Names to remove from the client's request before anything is added (case-insensitive):
  /// always the same list, whatever the identity. Points into the policy.
  std::span<const std::string> remove{};
  /// Fields to add after the removal, in IdentityField order (owning copies).
  std::vector<HeaderField> add{};
  /// Facts that had a value that cannot be sent (see the file comment); bit i = IdentityField i.
  std::uint8_t unsafe = 0;

  [[nodiscard]] bool isUnsafe(IdentityField f) const noexcept {
    return (unsafe & (1u << static_cast<unsigned>(f))) != 0;
  }
};

class IdentityPolicy {
 public:
  /// Builds the policy, or nullopt after appending every problem to `errors` (fields "names[i]",
  /// "stripOnly[i]"): kIdentityFieldCount names, each empty or a token, no name twice.
  static std::optional<IdentityPolicy> create(IdentitySpec spec, SpecErrors& errors);

  /// Every name stripped from every request (configured names, then stripOnly; no duplicates).
  [[nodiscard]] std::span<const std::string> stripNames() const noexcept { return strip_; }

  /// True when `name` is one of stripNames() (case-insensitive).
  [[nodiscard]] bool isIdentityField(std::string_view name) const noexcept;

  /// The fields to remove and add for `identity` (an empty Identity: remove only).
  [[nodiscard]] IdentityHeaders headersFor(const Identity& identity) const;

  /// Removes stripNames() from `fields`, then appends headersFor(identity).add. Returns the
  /// unsafe mask.
  std::uint8_t apply(const Identity& identity, HeaderList& fields) const;

  /// The configured name of `f` ("" when not sent).
  [[nodiscard]] const std::string& name(IdentityField f) const noexcept { return names_[static_cast<std::size_t>(f)]; }

 private:
  IdentityPolicy() = default;
  std::vector<std::string> names_;
  std::vector<std::string> strip_;
};

}  // namespace gatelab::core::auth
