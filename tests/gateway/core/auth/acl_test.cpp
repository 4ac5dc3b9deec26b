// ACL: deny wins over allow, allow lists, groups from a claim, scopes for every method and per
// method, the unauthenticated case, config validation, the insufficient_scope challenge.

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "gateway/core/auth/acl.hpp"

namespace gatelab::core::auth {
namespace {

AccessControl makeAcl(AclSpec spec) {
  SpecErrors errors;
  auto acl = AccessControl::create(std::move(spec), errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].field + ": " + errors[0].message);
  return std::move(*acl);
}

AclDecision check(const AccessControl& acl, std::string_view method, const std::vector<std::string>& groups,
                  const std::vector<Header>& claims = {}, bool authenticated = true) {
  AclSubject s;
  s.method = method;
  s.authenticated = authenticated;
  s.groups = groups;
  s.claims = claims;
  return acl.check(s);
}

TEST(Acl, GroupsDenyWinsThenAllow) {
  const AccessControl acl = makeAcl({.allow = {"staff", "admin"}, .deny = {"suspended", "contractor"}});
  struct Row {
    const char* what;
    std::vector<std::string> groups;
    AclReason reason;
    std::string which;
  };
  const std::vector<Row> rows = {
      {"allowed group", {"staff"}, AclReason::kOk, ""},
      {"one allowed among others", {"x", "admin"}, AclReason::kOk, ""},
      {"deny wins over allow", {"admin", "suspended"}, AclReason::kGroupDenied, "suspended"},
      {"deny wins whatever the order", {"contractor", "staff"}, AclReason::kGroupDenied, "contractor"},
      {"no allowed group", {"visitor"}, AclReason::kGroupNotAllowed, ""},
      {"no groups at all", {}, AclReason::kGroupNotAllowed, ""},
      {"groups are case-sensitive", {"Staff"}, AclReason::kGroupNotAllowed, ""},
  };
  for (const Row& row : rows) {
    const AclDecision d = check(acl, "GET", row.groups);
    EXPECT_EQ(d.reason, row.reason) << row.what;
    EXPECT_EQ(d.which, row.which) << row.what;
    EXPECT_EQ(d.status(), row.reason == AclReason::kOk ? 0 : 403) << row.what;
  }
}

TEST(Acl, DenyOnlyAdmitsEveryoneElse) {
  const AccessControl acl = makeAcl({.deny = {"blocked"}});
  EXPECT_TRUE(check(acl, "GET", {}).allowed());
  EXPECT_TRUE(check(acl, "GET", {"anything"}).allowed());
  EXPECT_EQ(check(acl, "GET", {"blocked"}).reason, AclReason::kGroupDenied);
}

TEST(Acl, GroupsFromAClaim) {
  // groupClaim adds the claim's space-separated values to the consumer's groups, for deny and allow.
  const AccessControl acl = makeAcl({.allow = {"admin"}, .deny = {"banned"}, .groupClaim = "roles"});
  EXPECT_TRUE(check(acl, "GET", {}, {{"roles", "reader admin"}}).allowed());
  const AclDecision d = check(acl, "GET", {"admin"}, {{"roles", "banned"}});
  EXPECT_EQ(d.reason, AclReason::kGroupDenied);
  EXPECT_EQ(d.which, "banned");
  EXPECT_EQ(check(acl, "GET", {}, {{"groups", "admin"}}).reason, AclReason::kGroupNotAllowed) << "another claim";
  EXPECT_EQ(check(acl, "GET", {}, {{"roles", "administrator"}}).reason, AclReason::kGroupNotAllowed)
      << "whole values only";
}

TEST(Acl, ScopesForEveryMethodAndPerMethod) {
  const AccessControl acl = makeAcl({.scopes = {"orders:read"},
                                     .methodScopes = {{{"POST", "PUT", "PATCH"}, {"orders:write"}},
                                                      {{"DELETE"}, {"orders:write", "orders:admin"}}}});
  struct Row {
    const char* what;
    std::string method;
    std::vector<Header> claims;
    AclReason reason;
    std::string which;
  };
  const std::vector<Row> rows = {
      {"read scope for GET", "GET", {{"scope", "orders:read"}}, AclReason::kOk, ""},
      {"no scope claim", "GET", {}, AclReason::kMissingScope, "orders:read"},
      {"other scopes only", "GET", {{"scope", "users:read orders:reader"}}, AclReason::kMissingScope, "orders:read"},
      {"POST needs write too", "POST", {{"scope", "orders:read"}}, AclReason::kMissingScope, "orders:write"},
      {"POST with both", "POST", {{"scope", "orders:write orders:read"}}, AclReason::kOk, ""},
      {"DELETE needs admin", "DELETE", {{"scope", "orders:read orders:write"}}, AclReason::kMissingScope, "orders:admin"},
      {"methods are case-sensitive", "post", {{"scope", "orders:read"}}, AclReason::kOk, ""},
      {"scp (flattened array)", "PUT", {{"scp", "orders:read orders:write"}}, AclReason::kOk, ""},
      {"the first present claim is used", "GET", {{"scp", "orders:read"}, {"scope", "other"}}, AclReason::kMissingScope,
       "orders:read"},
      {"extra spaces", "GET", {{"scope", "  orders:read  "}}, AclReason::kOk, ""},
  };
  for (const Row& row : rows) {
    const AclDecision d = check(acl, row.method, {}, row.claims);
    EXPECT_EQ(d.reason, row.reason) << row.what;
    EXPECT_EQ(d.which, row.which) << row.what;
  }
}

TEST(Acl, Unauthenticated) {
  const AccessControl strict = makeAcl({.deny = {"x"}});
  const AclDecision d = check(strict, "GET", {}, {}, false);
  EXPECT_EQ(d.reason, AclReason::kUnauthenticated);
  EXPECT_EQ(d.status(), 401);
  const AccessControl lenient = makeAcl({.deny = {"x"}, .requireAuthentication = false});
  EXPECT_TRUE(check(lenient, "GET", {}, {}, false).allowed());
  const AccessControl lenientAllow = makeAcl({.allow = {"x"}, .requireAuthentication = false});
  EXPECT_EQ(check(lenientAllow, "GET", {}, {}, false).reason, AclReason::kGroupNotAllowed);
}

TEST(Acl, Validation) {
  SpecErrors errors;
  AclSpec spec;
  spec.allow = {"ok", "both", "a,b"};
  spec.deny = {"both", ""};
  spec.scopes = {"good", "bad scope", "quo\"te"};
  spec.methodScopes = {{{}, {}}, {{"GET", "BAD METHOD"}, {"s"}}};
  spec.scopeClaims = {};
  EXPECT_FALSE(AccessControl::create(spec, errors).has_value());
  std::vector<std::string> fields;
  for (const SpecError& e : errors) fields.push_back(e.field);
  const std::vector<std::string> expected = {"allow[2]",
                                             "deny[1]",
                                             "scopes[1]",
                                             "scopes[2]",
                                             "methodScopes[0].methods",
                                             "methodScopes[0].scopes",
                                             "methodScopes[1].methods[1]",
                                             "scopeClaims",
                                             "allow"};
  EXPECT_EQ(fields, expected);
}

TEST(Acl, InsufficientScopeChallenge) {
  EXPECT_EQ(insufficientScopeChallenge("orders:write", "api"),
            "Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"orders:write\"");
  EXPECT_EQ(insufficientScopeChallenge("a\"b"), "Bearer error=\"insufficient_scope\", scope=\"a?b\"");
}

TEST(Acl, ReasonNames) {
  EXPECT_STREQ(toString(AclReason::kGroupDenied), "group_denied");
  EXPECT_STREQ(toString(AclReason::kGroupNotAllowed), "group_not_allowed");
  EXPECT_STREQ(toString(AclReason::kMissingScope), "missing_scope");
  EXPECT_STREQ(toString(AclReason::kUnauthenticated), "unauthenticated");
}

}  // namespace
}  // namespace gatelab::core::auth
