#pragma once
// Access control per route (Kong's acl plugin, plus OAuth scopes): which consumer groups may use
// a route, and which scopes a token must carry, for every method or per method.
// Semantics: docs/security.md, "ACL".
//
// Order of checks (the first failure decides):
//   1. requireAuthentication and the subject is not authenticated           -> unauthenticated (401)
//   2. any of the subject's groups is in `deny`                              -> group_denied (403)
//   3. `allow` is not empty and none of the subject's groups is in it        -> group_not_allowed (403)
//   4. each scope of `scopes`, then of every `methodScopes` rule naming the request method,
//      is in the subject's scope claim                                       -> missing_scope (403)
// Deny wins over allow: a consumer in both an allowed and a denied group is denied.
// Group names and scopes are case-sensitive; methods are case-sensitive (RFC 9110 §9.1).
//
// Thread safety: an AccessControl is immutable; check() may run on any number of threads.
// Complexity: O(g log(a + d)) for g subject groups against the sorted allow / deny lists, plus
// O(s * c) for s required scopes against a scope claim of c bytes. No allocation.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/request.hpp"
#include "gateway/core/spec_error.hpp"

namespace gatelab::core::auth {

/// Scopes required for some methods only, e.g. {methods [POST, PUT, DELETE], scopes [orders:write]}.
struct MethodScopes {
  std::vector<std::string> methods{};  ///< non-empty list of RFC 9110 tokens
  std::vector<std::string> scopes{};   ///< non-empty; each a scope-token (RFC 6749 §3.3)
  friend bool operator==(const MethodScopes&, const MethodScopes&) = default;
};

struct AclSpec {
  std::vector<std::string> allow{};  ///< groups allowed; empty: every group (subject to deny)
  std::vector<std::string> deny{};   ///< groups refused; wins over allow
  std::vector<std::string> scopes{};  ///< required for every method
  std::vector<MethodScopes> methodScopes{};  ///< required in addition, for the listed methods
  /// Claims holding the token's scopes as space-separated text, tried in order; the first one
  /// present is used. "scope" (RFC 8693 §4.2, RFC 9068) and "scp" (an array in several IdPs,
  /// which the JWT layer flattens to space-separated text).
  std::vector<std::string> scopeClaims{"scope", "scp"};
  /// A claim whose space-separated values count as groups besides the consumer's (e.g. "groups"
  /// or "roles" from an IdP). Empty: only the consumer's groups.
  std::string groupClaim{};
  /// Refuse (401) a subject that is neither a consumer nor the bearer of a verified token, as
  /// Kong's acl does. false: such a subject has no groups and no scopes, and is judged so.
  bool requireAuthentication = true;
};

/// Stable reason codes (toString) for metrics, logs and response bodies.
enum class AclReason : std::uint8_t {
  kOk,               ///< "ok"
  kUnauthenticated,  ///< "unauthenticated" (401)
  kGroupDenied,      ///< "group_denied" (403): `which` is the denied group
  kGroupNotAllowed,  ///< "group_not_allowed" (403): no group of the subject is allowed
  kMissingScope,     ///< "missing_scope" (403): `which` is the first missing scope
};

inline constexpr std::size_t kAclReasonCount = 5;

const char* toString(AclReason r) noexcept;

struct AclDecision {
  AclReason reason = AclReason::kOk;
  /// The group or scope that decided (points into the AccessControl's spec); empty otherwise.
  std::string_view which{};

  [[nodiscard]] bool allowed() const noexcept { return reason == AclReason::kOk; }
  /// 0 when allowed, 401 for kUnauthenticated, else 403.
  [[nodiscard]] std::uint16_t status() const noexcept;
};

/// Who is asking, as the ACL sees it.
struct AclSubject {
  std::string_view method{};
  /// A consumer was identified (API key, JWT consumer claim, or the anonymous consumer) or a
  /// token verified.
  bool authenticated = false;
  std::span<const std::string> groups{};  ///< the consumer's groups (ConsumerRegistry); may be empty
  std::span<const Header> claims{};       ///< verified claims (RequestView::claims); may be empty
};

class AccessControl {
 public:
  /// Builds the check, or nullopt after appending every problem to `errors` (fields "allow[i]",
  /// "deny[i]", "scopes[i]", "methodScopes[i].methods[j]", "scopeClaims[i]", "groupClaim").
  /// Valid group names follow checkGroupName (consumer.hpp); scopes are scope-tokens (RFC 6749
  /// §3.3: printable ASCII without space, '"' and '\\'). A group both allowed and denied is an
  /// error (it could never pass).
  static std::optional<AccessControl> create(AclSpec spec, SpecErrors& errors);

  [[nodiscard]] AclDecision check(const AclSubject& subject) const noexcept;

  [[nodiscard]] const AclSpec& spec() const noexcept { return spec_; }

 private:
  AccessControl() = default;
  AclSpec spec_;  // allow and deny sorted, duplicates removed
};

/// The WWW-Authenticate value for a missing_scope refusal of a bearer token (RFC 6750 §3.1):
///   Bearer realm="api", error="insufficient_scope", scope="orders:write"
/// realm is left out when empty; characters not allowed in the quoted strings become '?'.
[[nodiscard]] std::string insufficientScopeChallenge(std::string_view scope, std::string_view realm = {});

}  // namespace gatelab::core::auth
