// Identity headers: client-sent copies are stripped on every request (authenticated or not),
// the gateway's values are added, unsafe values are never sent, names are validated.
// Also the whole access chain on one request: strip, key auth, ACL, identity.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/core/auth/acl.hpp"
#include "gateway/core/auth/api_key.hpp"
#include "gateway/core/auth/identity.hpp"
#include "gateway/core/http_field.hpp"

namespace gatelab::core::auth {
namespace {

IdentityPolicy defaultPolicy() {
  SpecErrors errors;
  auto p = IdentityPolicy::create({}, errors);
  EXPECT_TRUE(errors.empty());
  return std::move(*p);
}

TEST(Identity, DefaultsFollowKong) {
  const IdentityPolicy p = defaultPolicy();
  EXPECT_EQ(p.name(IdentityField::kConsumerId), "X-Consumer-ID");
  EXPECT_EQ(p.name(IdentityField::kGroups), "X-Consumer-Groups");
  EXPECT_EQ(p.name(IdentityField::kCredential), "X-Credential-Identifier");
  EXPECT_EQ(p.name(IdentityField::kAnonymous), "X-Anonymous-Consumer");
  EXPECT_EQ(p.name(IdentityField::kUserId), "X-Authenticated-Userid");
  EXPECT_EQ(p.name(IdentityField::kScopes), "X-Authenticated-Scope");
  const std::vector<std::string> strip(p.stripNames().begin(), p.stripNames().end());
  const std::vector<std::string> expected = {"X-Consumer-ID",          "X-Consumer-Groups",     "X-Credential-Identifier",
                                             "X-Anonymous-Consumer",   "X-Authenticated-Userid", "X-Authenticated-Scope",
                                             "X-Consumer-Custom-ID",   "X-Consumer-Username",   "X-Credential-Username"};
  EXPECT_EQ(strip, expected);
}

TEST(Identity, SpoofedFieldsAreStrippedWhateverTheOutcome) {
  // Table: the identity authentication established -> the fields the upstream sees. The client
  // always sends forged identity fields in odd cases; none of them may survive.
  const IdentityPolicy p = defaultPolicy();
  const HeaderList client = {{"Host", "api"},
                             {"x-consumer-id", "admin"},
                             {"X-CONSUMER-GROUPS", "admin"},
                             {"X-Authenticated-Userid", "root"},
                             {"x-anonymous-consumer", "false"},
                             {"X-Consumer-Username", "admin"},
                             {"Accept", "*/*"},
                             {"X-Consumer-ID", "admin2"}};
  const std::vector<std::string> groups = {"staff", "dev"};
  struct Row {
    const char* what;
    Identity identity;
    HeaderList expected;
  };
  const std::vector<Row> rows = {
      {"no authentication (optional auth, absent)", {}, {{"Host", "api"}, {"Accept", "*/*"}}},
      {"authenticated consumer",
       {.consumerId = "alice", .groups = groups, .credential = "alice-laptop", .userId = "u-42", .scopes = "orders:read"},
       {{"Host", "api"},
        {"Accept", "*/*"},
        {"X-Consumer-ID", "alice"},
        {"X-Consumer-Groups", "staff, dev"},
        {"X-Credential-Identifier", "alice-laptop"},
        {"X-Authenticated-Userid", "u-42"},
        {"X-Authenticated-Scope", "orders:read"}}},
      {"anonymous consumer",
       {.consumerId = "guest", .anonymous = true},
       {{"Host", "api"}, {"Accept", "*/*"}, {"X-Consumer-ID", "guest"}, {"X-Anonymous-Consumer", "true"}}},
  };
  for (const Row& row : rows) {
    HeaderList fields = client;
    EXPECT_EQ(p.apply(row.identity, fields), 0) << row.what;
    EXPECT_EQ(fields, row.expected) << row.what;
  }
}

TEST(Identity, HeadersForAlwaysListsRemovals) {
  const IdentityPolicy p = defaultPolicy();
  const IdentityHeaders none = p.headersFor({});
  EXPECT_EQ(none.remove.size(), 9u);
  EXPECT_TRUE(none.add.empty());
  EXPECT_TRUE(p.isIdentityField("x-consumer-custom-id"));
  EXPECT_FALSE(p.isIdentityField("X-Consumer"));
}

TEST(Identity, UnsafeValuesAreNotSent) {
  // A claim can hold CR/LF; such a value is reported and its field left out, the others still sent.
  const IdentityPolicy p = defaultPolicy();
  const std::vector<std::string> badGroups = {"staff", "a,admin"};
  HeaderList fields = {{"X-Authenticated-Userid", "spoof"}};
  const std::uint8_t unsafe =
      p.apply({.consumerId = "alice", .groups = badGroups, .userId = "eve\r\nX-Admin: 1", .scopes = "a\tb"}, fields);
  const HeaderList expected = {{"X-Consumer-ID", "alice"}, {"X-Authenticated-Scope", "a\tb"}};
  EXPECT_EQ(fields, expected);
  const IdentityHeaders h = p.headersFor({.groups = badGroups, .userId = std::string_view("nul\0", 4)});
  EXPECT_TRUE(h.isUnsafe(IdentityField::kUserId));
  EXPECT_TRUE(h.isUnsafe(IdentityField::kGroups)) << "a group with ',' would forge list members";
  EXPECT_FALSE(h.isUnsafe(IdentityField::kConsumerId));
  EXPECT_EQ(unsafe, (1u << static_cast<unsigned>(IdentityField::kGroups)) | (1u << static_cast<unsigned>(IdentityField::kUserId)));
}

TEST(Identity, CustomNamesAndDisabledFields) {
  SpecErrors errors;
  IdentitySpec spec;
  spec.names = {"X-Client", "", "", "", "X-User", ""};
  spec.stripOnly = {"X-Groups"};
  auto p = IdentityPolicy::create(spec, errors);
  ASSERT_TRUE(p.has_value());
  const std::vector<std::string> groups = {"g"};
  HeaderList fields = {{"X-Groups", "forged"}, {"X-Consumer-ID", "kept: not configured here"}};
  p->apply({.consumerId = "c", .groups = groups, .userId = "u"}, fields);
  const HeaderList expected = {{"X-Consumer-ID", "kept: not configured here"}, {"X-Client", "c"}, {"X-User", "u"}};
  EXPECT_EQ(fields, expected);
}

TEST(Identity, Validation) {
  SpecErrors errors;
  IdentitySpec spec;
  spec.names = {"X-A", "bad name", "x-a", "", "", ""};
  spec.stripOnly = {"", "X-A"};
  EXPECT_FALSE(IdentityPolicy::create(spec, errors).has_value());
  std::vector<std::string> fields;
  for (const SpecError& e : errors) fields.push_back(e.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"names[1]", "names[2]", "stripOnly[0]", "stripOnly[1]"}));
  errors.clear();
  spec = {};
  spec.names.pop_back();
  EXPECT_FALSE(IdentityPolicy::create(spec, errors).has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "names");
}

TEST(AccessChain, ForgedIdentityNeverReachesTheUpstream) {
  // The order a host runs the pieces in: authenticate, check the ACL, then strip identity fields
  // and add the real ones. A forged X-Consumer-ID: admin is gone whether the key is good, bad
  // (anonymous) or missing, and an ACL refusal happens before anything is forwarded.
  SpecErrors errors;
  auto consumers = ConsumerRegistry::create({{"alice", {"staff"}}, {"admin", {"admin"}}, {"anon", {}}}, errors);
  auto keys = ApiKeyAuth::create({.keys = {{"alice", "alice-secret-0001", "k1"}}, .hideCredentials = true, .anonymous = "anon"},
                                 consumers, errors);
  auto acl = AccessControl::create({.deny = {"blocked"}}, errors);
  auto identity = IdentityPolicy::create({}, errors);
  ASSERT_TRUE(errors.empty());

  for (const std::string key : {"alice-secret-0001", "wrong", ""}) {
    std::vector<Header> view = {{"X-Consumer-ID", "admin"}, {"X-Consumer-Groups", "admin"}};
    if (!key.empty()) view.push_back({"apikey", key});
    RequestView req;
    req.method = "GET";
    req.headers = view;
    const ApiKeyResult auth = keys->authenticate(req);
    ASSERT_TRUE(auth.admitted());
    AclSubject subject{.method = "GET", .authenticated = true, .groups = auth.consumer->groups, .claims = {}};
    ASSERT_TRUE(acl->check(subject).allowed());

    HeaderList upstream;
    for (const Header& h : view) upstream.push_back({std::string(h.name), std::string(h.value)});
    for (const HiddenCredential& c : auth.hide) {
      if (c.location == KeyLocation::kHeader) removeFields(upstream, c.name);
    }
    identity->apply({.consumerId = auth.consumer->id,
                     .groups = auth.consumer->groups,
                     .credential = auth.credential,
                     .anonymous = auth.anonymous},
                    upstream);
    EXPECT_EQ(countFields(upstream, "X-Consumer-ID"), 1u) << key;
    EXPECT_EQ(upstream[*findField(upstream, "X-Consumer-ID")].value, key == "alice-secret-0001" ? "alice" : "anon") << key;
    EXPECT_FALSE(findField(upstream, "apikey").has_value()) << "hidden credential";
    const auto groups = findField(upstream, "X-Consumer-Groups");
    if (key == "alice-secret-0001") {
      ASSERT_TRUE(groups.has_value());
      EXPECT_EQ(upstream[*groups].value, "staff");
    } else {
      EXPECT_FALSE(groups.has_value()) << "the anonymous consumer has no groups; the forged list is gone";
    }
  }
}

}  // namespace
}  // namespace gatelab::core::auth
