#include "gateway/core/auth/acl.hpp"

#include <algorithm>

#include "gateway/core/auth/consumer.hpp"
#include "gateway/core/http_field.hpp"

namespace gatelab::core::auth {

namespace {

/// scope-token (RFC 6749 §3.3): %x21 / %x23-5B / %x5D-7E.
bool isScopeToken(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7E && c != '"' && c != '\\';
  });
}

bool inSorted(const std::vector<std::string>& sorted, std::string_view v) noexcept {
  const auto it = std::lower_bound(sorted.begin(), sorted.end(), v,
                                   [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
  return it != sorted.end() && *it == v;
}

/// True when the space-separated list `text` holds `token` as a whole item.
bool hasSpaceSeparated(std::string_view text, std::string_view token) noexcept {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t sp = text.find(' ', pos);
    const std::size_t end = sp == std::string_view::npos ? text.size() : sp;
    if (text.substr(pos, end - pos) == token) return true;
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  return false;
}

/// Calls fn(item) for each non-empty item of the space-separated `text`; stops when fn returns true.
template <typename Fn>
bool anySpaceSeparated(std::string_view text, Fn&& fn) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t sp = text.find(' ', pos);
    const std::size_t end = sp == std::string_view::npos ? text.size() : sp;
    if (end > pos && fn(text.substr(pos, end - pos))) return true;
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  return false;
}

std::optional<std::string_view> findClaim(std::span<const Header> claims, std::string_view name) noexcept {
  for (const Header& c : claims) {
    if (c.name == name) return c.value;
  }
  return std::nullopt;
}

void sortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

void checkGroups(const std::vector<std::string>& groups, const std::string& field, SpecErrors& errors) {
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (auto problem = checkGroupName(groups[i])) {
      errors.push_back({field + "[" + std::to_string(i) + "]", *problem});
    }
  }
}

void checkScopes(const std::vector<std::string>& scopes, const std::string& field, SpecErrors& errors) {
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    if (!isScopeToken(scopes[i])) {
      errors.push_back({field + "[" + std::to_string(i) + "]",
                        "a scope is printable ASCII without spaces, '\"' or '\\' (RFC 6749 §3.3), got \"" + scopes[i] + "\""});
    }
  }
}

std::string quoteSafe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back((u < 0x20 || u >= 0x7F || c == '"' || c == '\\') ? '?' : c);
  }
  return out;
}

}  // namespace

const char* toString(AclReason r) noexcept {
  switch (r) {
    case AclReason::kOk: return "ok";
    case AclReason::kUnauthenticated: return "unauthenticated";
    case AclReason::kGroupDenied: return "group_denied";
    case AclReason::kGroupNotAllowed: return "group_not_allowed";
    case AclReason::kMissingScope: return "missing_scope";
  }
  return "?";
}

std::uint16_t AclDecision::status() const noexcept {
  switch (reason) {
    case AclReason::kOk: return 0;
    case AclReason::kUnauthenticated: return 401;
    default: return 403;
  }
}

std::optional<AccessControl> AccessControl::create(AclSpec spec, SpecErrors& errors) {
  const std::size_t before = errors.size();
  checkGroups(spec.allow, "allow", errors);
  checkGroups(spec.deny, "deny", errors);
  checkScopes(spec.scopes, "scopes", errors);
  for (std::size_t i = 0; i < spec.methodScopes.size(); ++i) {
    const MethodScopes& m = spec.methodScopes[i];
    const std::string field = "methodScopes[" + std::to_string(i) + "]";
    if (m.methods.empty()) errors.push_back({field + ".methods", "list at least one method"});
    if (m.scopes.empty()) errors.push_back({field + ".scopes", "list at least one scope"});
    for (std::size_t j = 0; j < m.methods.size(); ++j) {
      if (!isToken(m.methods[j])) {
        errors.push_back({field + ".methods[" + std::to_string(j) + "]",
                          "a method is an RFC 9110 token (e.g. GET, POST), got \"" + m.methods[j] + "\""});
      }
    }
    checkScopes(m.scopes, field + ".scopes", errors);
  }
  for (std::size_t i = 0; i < spec.scopeClaims.size(); ++i) {
    if (spec.scopeClaims[i].empty()) {
      errors.push_back({"scopeClaims[" + std::to_string(i) + "]", "a claim name may not be empty"});
    }
  }
  const bool needsScopes = !spec.scopes.empty() || !spec.methodScopes.empty();
  if (needsScopes && spec.scopeClaims.empty()) {
    errors.push_back({"scopeClaims", "scopes are required, so at least one claim must hold them"});
  }
  for (const std::string& g : spec.allow) {
    if (std::find(spec.deny.begin(), spec.deny.end(), g) != spec.deny.end()) {
      errors.push_back({"allow", "group \"" + g + "\" is both allowed and denied; deny would always win"});
    }
  }
  if (errors.size() != before) return std::nullopt;

  sortUnique(spec.allow);
  sortUnique(spec.deny);
  AccessControl acl;
  acl.spec_ = std::move(spec);
  return acl;
}

AclDecision AccessControl::check(const AclSubject& subject) const noexcept {
  if (spec_.requireAuthentication && !subject.authenticated) return {AclReason::kUnauthenticated, {}};

  std::string_view claimGroups;
  if (!spec_.groupClaim.empty()) {
    if (auto v = findClaim(subject.claims, spec_.groupClaim)) claimGroups = *v;
  }

  if (!spec_.deny.empty()) {
    auto denied = [&](std::string_view g) -> std::string_view {
      const auto it = std::lower_bound(spec_.deny.begin(), spec_.deny.end(), g,
                                       [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
      return (it != spec_.deny.end() && *it == g) ? std::string_view(*it) : std::string_view{};
    };
    for (const std::string& g : subject.groups) {
      if (auto d = denied(g); !d.empty()) return {AclReason::kGroupDenied, d};
    }
    std::string_view hit;
    anySpaceSeparated(claimGroups, [&](std::string_view g) {
      hit = denied(g);
      return !hit.empty();
    });
    if (!hit.empty()) return {AclReason::kGroupDenied, hit};
  }

  if (!spec_.allow.empty()) {
    const bool allowed =
        std::any_of(subject.groups.begin(), subject.groups.end(), [&](const std::string& g) { return inSorted(spec_.allow, g); }) ||
        anySpaceSeparated(claimGroups, [&](std::string_view g) { return inSorted(spec_.allow, g); });
    if (!allowed) return {AclReason::kGroupNotAllowed, {}};
  }

  if (spec_.scopes.empty() && spec_.methodScopes.empty()) return {};
  std::string_view granted;
  for (const std::string& name : spec_.scopeClaims) {
    if (auto v = findClaim(subject.claims, name)) {
      granted = *v;
      break;
    }
  }
  for (const std::string& s : spec_.scopes) {
    if (!hasSpaceSeparated(granted, s)) return {AclReason::kMissingScope, s};
  }
  for (const MethodScopes& rule : spec_.methodScopes) {
    if (std::find(rule.methods.begin(), rule.methods.end(), subject.method) == rule.methods.end()) continue;
    for (const std::string& s : rule.scopes) {
      if (!hasSpaceSeparated(granted, s)) return {AclReason::kMissingScope, s};
    }
  }
  return {};
}

std::string insufficientScopeChallenge(std::string_view scope, std::string_view realm) {
  std::string out = "Bearer ";
  if (!realm.empty()) out += "realm=\"" + quoteSafe(realm) + "\", ";
  out += "error=\"insufficient_scope\", scope=\"" + quoteSafe(scope) + "\"";
  return out;
}

}  // namespace gatelab::core::auth
