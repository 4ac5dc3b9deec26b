// The `acl` policy: builds a core::auth::AclSpec (allowed and denied groups, scopes for every
// method and per method, where scopes and extra groups are read in the token). Semantics:
// docs/security.md, "ACL". Where it may stand (after jwt / key_auth, which it needs) is checked
// with the route's other policies (routes.cpp).

#include <algorithm>
#include <array>

#include "gateway/config/detail/policy_support.hpp"
#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"
#include "gateway/core/auth/acl.hpp"
#include "gateway/core/auth/consumer.hpp"

namespace gatelab::config::detail {
namespace {

// Allowed keys, in documentation order.
constexpr std::array<std::string_view, 7> kAclKeys{"allow",        "deny",        "scopes", "method_scopes",
                                                   "scope_claims", "group_claim", "require_authentication"};
constexpr std::array<std::string_view, 2> kMethodScopeKeys{"methods", "scopes"};

constexpr std::string_view kGroupsAllowed =
    "a list of group names (visible characters, no ',' or spaces, at most 256 bytes), as consumers' groups";
constexpr std::string_view kScopesAllowed =
    "a non-empty list of scopes: printable ASCII without spaces, '\"' or '\\' (RFC 6749 section 3.3), e.g. "
    "orders:read";
constexpr std::string_view kMethodScopesAllowed = "a non-empty list of {methods: [METHOD, ...], scopes: [SCOPE, ...]}";
constexpr std::string_view kMethodsAllowed = "a non-empty list of upper-case HTTP methods, e.g. [POST, PUT, PATCH]";
constexpr std::string_view kClaimsAllowed = "a list of claim names, tried in order (default [scope, scp])";
constexpr std::string_view kClaimAllowed = "a claim name: visible characters, no spaces";

std::string checkGroup(const std::string& g) { return core::auth::checkGroupName(g).value_or(std::string{}); }

std::string checkClaim(const std::string& name) {
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return "invalid claim name " + inQuotes(name) + ": no spaces or control characters";
  }
  return {};
}

}  // namespace

BuiltPolicy buildAclPolicy(Sink& sink, const Node& body, const PolicyContext& /*context*/) {
  BuiltPolicy built;
  auto m = Mapping::open(sink, body, kAclKeys, "an acl policy");
  if (!m) return built;
  const std::size_t before = sink.count();
  core::auth::AclSpec spec;
  SpecFieldMap fields(body, "an acl the core accepts (docs/security.md#acl)");

  std::vector<StringItem> allow;
  if (auto n = m->get("allow")) {
    if (auto list = readStringList(sink, *n, "group", kGroupsAllowed, false, checkGroup)) {
      allow = std::move(*list);
      addItems(fields, "allow", *n, allow, kGroupsAllowed);
      spec.allow = valuesOf(allow);
    }
  }
  if (auto n = m->get("deny")) {
    if (auto list = readStringList(sink, *n, "group", kGroupsAllowed, false, checkGroup)) {
      for (const StringItem& d : *list) {
        const auto both = std::find_if(allow.begin(), allow.end(), [&](const StringItem& a) { return a.value == d.value; });
        if (both != allow.end()) {
          sink.error(d.node.mark, d.node.path,
                     "group " + inQuotes(d.value) + " is both allowed (at " + at(both->node.mark) +
                         ") and denied; deny always wins, so it could never pass",
                     "a group in allow or in deny, not both");
        }
      }
      addItems(fields, "deny", *n, *list, kGroupsAllowed);
      spec.deny = valuesOf(*list);
    }
  }
  if (auto n = m->get("scopes")) {
    if (auto list = readStringList(sink, *n, "scope", kScopesAllowed, false)) {
      addItems(fields, "scopes", *n, *list, kScopesAllowed);
      spec.scopes = valuesOf(*list);
    }
    built.readsClaims = Located{"scopes", n->mark, n->path};
  }
  if (auto n = m->get("method_scopes")) {
    fields.add("methodScopes", *n, std::string(kMethodScopesAllowed));
    if (auto items = readList(sink, *n, kMethodScopesAllowed)) {
      for (const Node& item : *items) {
        auto rule = Mapping::open(sink, item, kMethodScopeKeys, "a method_scopes rule");
        if (!rule) continue;
        const std::string field = "methodScopes[" + std::to_string(spec.methodScopes.size()) + "]";
        fields.add(field, item, std::string(kMethodScopesAllowed));
        core::auth::MethodScopes ms;
        if (auto methods = rule->require(sink, "methods", kMethodsAllowed)) {
          if (auto list = readStringList(sink, *methods, "method", kMethodsAllowed, false, checkMethodName)) {
            addItems(fields, field + ".methods", *methods, *list, kMethodsAllowed);
            ms.methods = valuesOf(*list);
          }
        }
        if (auto scopes = rule->require(sink, "scopes", kScopesAllowed)) {
          if (auto list = readStringList(sink, *scopes, "scope", kScopesAllowed, false)) {
            addItems(fields, field + ".scopes", *scopes, *list, kScopesAllowed);
            ms.scopes = valuesOf(*list);
          }
        }
        spec.methodScopes.push_back(std::move(ms));
      }
    }
    if (!built.readsClaims) built.readsClaims = Located{"method_scopes", n->mark, n->path};
  }
  if (auto n = m->get("scope_claims")) {
    if (auto list = readStringList(sink, *n, "claim", kClaimsAllowed, true, checkClaim)) {
      addItems(fields, "scopeClaims", *n, *list, kClaimsAllowed);
      spec.scopeClaims = valuesOf(*list);
    }
  }
  if (auto n = m->get("group_claim")) {
    if (auto text = readString(sink, *n, kClaimAllowed)) {
      if (std::string reason = checkClaim(*text); !reason.empty()) {
        sink.error(n->mark, n->path, reason, std::string(kClaimAllowed));
      } else {
        spec.groupClaim = *text;
        fields.add("groupClaim", *n, std::string(kClaimAllowed));
      }
    }
    if (!built.readsClaims) built.readsClaims = Located{"groups (group_claim)", n->mark, n->path};
  }
  if (auto n = m->get("require_authentication")) {
    spec.requireAuthentication = readBool(sink, *n).value_or(spec.requireAuthentication);
  }
  if (!m->has("allow") && !m->has("deny") && !m->has("scopes") && !m->has("method_scopes")) {
    bool typo = false;
    for (std::string_view k : {"allow", "deny", "scopes", "method_scopes"}) typo = typo || m->misspelled(k);
    if (!typo) {
      sink.error(body.mark, body.path,
                 "an acl without allow, deny, scopes or method_scopes admits everyone the route's authentication "
                 "admits, so it does nothing",
                 "at least one of allow, deny, scopes, method_scopes");
    }
  }

  if (sink.count() == before) {
    core::SpecErrors errors;
    (void)core::auth::AccessControl::create(spec, errors);
    fields.report(sink, errors);
  }
  if (sink.count() == before) built.spec = PolicySpec{std::move(spec)};
  return built;
}

}  // namespace gatelab::config::detail
