// RequestFlow with access policies (cors, key_auth, jwt, acl) before and after rate limits: the
// answers the flow gives on its own (preflight 204/403, 401 with challenges, 403 with a reason),
// what the AccessState carries for the host (consumer, groups, claims, hidden credentials, CORS
// fields), the list order of the config, and the consumer-keyed limits that follow
// authentication. JWTs are the PyJWT fixtures of tests/gateway/core/auth/data (made by another
// implementation than gatelab's), checked at the fixture's `now`.

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "gateway/flow/request_flow.hpp"

namespace gatelab::flow {
namespace {

using namespace std::chrono_literals;
using core::TimePoint;

const nlohmann::json& fixtures() {
  static const nlohmann::json doc = [] {
    std::ifstream in(std::string(GATELAB_SOURCE_DIR) + "/tests/gateway/core/auth/data/fixtures.json");
    return nlohmann::json::parse(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  }();
  return doc;
}
std::string token(const std::string& name) { return fixtures().at("tokens").at(name).get<std::string>(); }
TimePoint fixtureNow(std::int64_t offset = 0) {
  return TimePoint{std::chrono::seconds{fixtures().at("now").get<std::int64_t>() + offset}};
}

std::string config() {
  const std::string secret = fixtures().at("secrets").at("hs256_base64url").get<std::string>();
  const std::string jwt = "      - jwt: {keys: [{kid: hs256, alg: HS256, secret: " + secret +
                          ", secret_encoding: base64url}], issuers: ['https://issuer.example'], audiences: [api], "
                          "consumer_claim: sub}\n";
  return R"(version: 1
consumers:
  - id: alice
    groups: [staff]
    keys: [{key: alice-key-0123456789abcdef, id: alice-laptop}]
  - id: bob
    groups: [banned]
    keys: [bob-key-0123456789abcdef]
  - id: user-42
    groups: [staff]
  - id: guest
    groups: [public]
services:
  - name: api
    targets: [http://10.0.0.1:80]
routes:
  - name: keys
    match: { path_prefix: /keys }
    service: api
    policies:
      - cors: { origins: [https://app.example], methods: [GET, PUT], allow_headers: [apikey], max_age: 10m }
      - key_auth: { key_sources: [header:apikey, query:apikey], hide_credentials: true }
      - acl: { deny: [banned] }
      - rate_limit: { name: per-consumer, algorithm: fixed_window, limit: 1/s, key: consumer }
  - name: anon
    match: { path_prefix: /anon }
    service: api
    policies:
      - key_auth: { anonymous: guest }
      - acl: { allow: [public, staff] }
  - name: tokens
    match: { path_prefix: /tokens }
    service: api
    policies:
)" + jwt + R"(      - acl: { scopes: [read], method_scopes: [{methods: [DELETE], scopes: [admin]}] }
  - name: either
    match: { path_prefix: /either }
    service: api
    policies:
      - rate_limit: { name: before-auth, algorithm: fixed_window, limit: 3/s, key: ip }
)" + jwt + R"(      - key_auth: {}
)";
}

struct Hooks final : FlowHooks, FlowDraws {
  std::vector<std::string> limited;  // policy names of applied rate-limit decisions
  std::uint64_t n = 0;
  std::uint64_t next() override { return ++n; }
  void onRateLimit(const RateLimitEvaluation& ev) override { limited.push_back(ev.spec->spec().name); }
};

struct Fixture {
  std::unique_ptr<config::GatewayRuntime> runtime;
  std::unique_ptr<RequestFlow> flow;
  Hooks hooks;
  AccessState access;

  Fixture() {
    const auto loaded = config::loadConfigString(config(), "access.yaml");
    EXPECT_TRUE(loaded.ok()) << loaded.errorText();
    auto built = config::buildRuntime(loaded.config);
    EXPECT_TRUE(built.ok()) << config::formatDiagnostics(built.diagnostics);
    runtime = std::move(built.runtime);
    flow = std::make_unique<RequestFlow>(*runtime);
  }

  Step start(std::string_view method, std::string_view path, std::vector<core::Header> headers,
             TimePoint now = fixtureNow(), std::string_view query = {}, std::string_view ip = "203.0.113.9") {
    headers_ = std::move(headers);
    core::RequestView v;
    v.method = method;
    v.path = path;
    v.query = query;
    v.host = "api.example";
    v.clientAddress = ip;
    v.headers = headers_;
    access.unixNow = now;
    FlowRequest r;
    return flow->start(r, v, now, hooks, hooks, access);
  }

 private:
  std::vector<core::Header> headers_;
};

core::Header h(std::string_view name, std::string_view value) { return core::Header{name, value}; }

TEST(FlowAccess, CorsPreflightIsAnsweredBeforeAuthentication) {
  Fixture f;
  Step s = f.start("OPTIONS", "/keys/a",
                   {h("Origin", "https://app.example"), h("Access-Control-Request-Method", "PUT"),
                    h("Access-Control-Request-Headers", "apikey")});
  ASSERT_EQ(s.kind, StepKind::kAnswer);
  EXPECT_EQ(s.outcome, Outcome::kPreflight);
  EXPECT_EQ(s.status, 204);
  ASSERT_TRUE(f.access.cors.has_value());
  EXPECT_EQ(f.access.refusedBy, AccessPolicy::kCors);
  EXPECT_EQ(f.access.reason, "ok");
  EXPECT_FALSE(f.access.authRan);  // no credentials needed for a preflight
  bool allowOrigin = false;
  for (const core::Header& field : f.access.cors->headers())
    allowOrigin = allowOrigin || (field.name == "Access-Control-Allow-Origin" && field.value == "https://app.example");
  EXPECT_TRUE(allowOrigin);

  s = f.start("OPTIONS", "/keys/a",
              {h("Origin", "https://evil.example"), h("Access-Control-Request-Method", "PUT")});
  EXPECT_EQ(s.outcome, Outcome::kPreflight);
  EXPECT_EQ(s.status, 403);
  EXPECT_EQ(f.access.reason, "origin_not_allowed");
  EXPECT_TRUE(f.hooks.limited.empty());
}

TEST(FlowAccess, MissingAndUnknownKeysAre401WithAKeyChallenge) {
  Fixture f;
  Step s = f.start("GET", "/keys/a", {h("Origin", "https://app.example")});
  ASSERT_EQ(s.kind, StepKind::kAnswer);
  EXPECT_EQ(s.outcome, Outcome::kUnauthorized);
  EXPECT_EQ(s.status, 401);
  EXPECT_EQ(f.access.refusedBy, AccessPolicy::kKeyAuth);
  EXPECT_EQ(f.access.reason, "missing_key");
  ASSERT_EQ(f.access.challenges.size(), 1U);
  EXPECT_EQ(f.access.challenges[0], "Key realm=\"gatelab\"");
  // The actual CORS request's decision is kept: the host puts its fields on the 401 too.
  ASSERT_TRUE(f.access.cors.has_value());
  EXPECT_EQ(f.access.cors->kind, core::shaping::CorsRequestKind::kActual);

  s = f.start("GET", "/keys/a", {h("apikey", "not-a-key-of-anyone-at-all")});
  EXPECT_EQ(s.outcome, Outcome::kUnauthorized);
  EXPECT_EQ(f.access.reason, "unknown_key");
  EXPECT_TRUE(f.hooks.limited.empty()) << "the consumer limit runs after authentication";
}

TEST(FlowAccess, AValidKeyIdentifiesTheConsumerForTheAclAndTheConsumerLimit) {
  Fixture f;
  Step s = f.start("GET", "/keys/a", {h("apikey", "alice-key-0123456789abcdef")}, fixtureNow(),
                   "apikey=alice-key-0123456789abcdef&x=1");
  ASSERT_EQ(s.kind, StepKind::kSendTry);
  EXPECT_TRUE(f.access.authenticated);
  EXPECT_EQ(f.access.authenticatedBy, AccessPolicy::kKeyAuth);
  EXPECT_EQ(f.access.consumerId, "alice");
  EXPECT_EQ(f.access.credential, "alice-laptop");
  ASSERT_NE(f.access.consumer, nullptr);
  EXPECT_EQ(f.access.consumer->groups, std::vector<std::string>{"staff"});
  // hide_credentials: both configured places that hold the key.
  ASSERT_EQ(f.access.hide.size(), 2U);
  EXPECT_EQ(f.access.identity().consumerId, "alice");
  EXPECT_EQ(f.hooks.limited, std::vector<std::string>{"per-consumer"});

  // Alice's second request in the second is over her limit; Bob's group is denied before his
  // limit is consulted; a third consumer would have a bucket of its own.
  s = f.start("GET", "/keys/b", {h("apikey", "alice-key-0123456789abcdef")}, fixtureNow() + 100ms);
  EXPECT_EQ(s.outcome, Outcome::kRateLimited);
  s = f.start("GET", "/keys/b", {h("apikey", "bob-key-0123456789abcdef")}, fixtureNow() + 200ms);
  EXPECT_EQ(s.outcome, Outcome::kForbidden);
  EXPECT_EQ(s.status, 403);
  EXPECT_EQ(f.access.refusedBy, AccessPolicy::kAcl);
  EXPECT_EQ(f.access.reason, "group_denied");
  EXPECT_EQ(f.access.detail, "banned");
  EXPECT_EQ(f.hooks.limited.size(), 2U);
}

TEST(FlowAccess, TheAnonymousConsumerIsAdmittedWithItsGroups) {
  Fixture f;
  const Step s = f.start("GET", "/anon", {});
  ASSERT_EQ(s.kind, StepKind::kSendTry);
  EXPECT_FALSE(f.access.authenticated);
  EXPECT_TRUE(f.access.anonymous);
  EXPECT_EQ(f.access.consumerId, "guest");
  EXPECT_TRUE(f.access.challenges.empty());
  EXPECT_TRUE(f.access.identity().anonymous);
}

TEST(FlowAccess, AVerifiedJwtGivesClaimsConsumerAndScopesToTheAcl) {
  Fixture f;
  const std::string bearer = "Bearer " + token("hs256");
  Step s = f.start("GET", "/tokens/1", {h("Authorization", bearer)});
  ASSERT_EQ(s.kind, StepKind::kSendTry) << f.access.reason << " " << f.access.detail;
  EXPECT_EQ(f.access.authenticatedBy, AccessPolicy::kJwt);
  EXPECT_EQ(f.access.consumerId, "user-42");  // consumer_claim: sub, a configured consumer
  ASSERT_NE(f.access.consumer, nullptr);
  EXPECT_EQ(f.access.userId, "user-42");
  EXPECT_EQ(f.access.scopes, "read write");
  EXPECT_FALSE(f.access.claims.empty());
  core::RequestView base;
  const core::RequestView seen = f.access.view(base);
  EXPECT_EQ(seen.consumer, "user-42");
  EXPECT_EQ(seen.claim("iss"), "https://issuer.example");

  // DELETE needs the admin scope the token lacks: 403 with an insufficient_scope challenge.
  s = f.start("DELETE", "/tokens/1", {h("Authorization", bearer)});
  EXPECT_EQ(s.outcome, Outcome::kForbidden);
  EXPECT_EQ(f.access.reason, "missing_scope");
  ASSERT_EQ(f.access.challenges.size(), 1U);
  EXPECT_NE(f.access.challenges[0].find("error=\"insufficient_scope\""), std::string::npos);
  EXPECT_NE(f.access.challenges[0].find("scope=\"admin\""), std::string::npos);
}

TEST(FlowAccess, JwtTimeChecksUseTheHostsUnixTime) {
  Fixture f;
  const std::string bearer = "Bearer " + token("hs256");
  // Expires at now + 3600: an hour and a second later the same token is refused.
  Step s = f.start("GET", "/tokens/1", {h("Authorization", bearer)}, fixtureNow(3601));
  EXPECT_EQ(s.outcome, Outcome::kUnauthorized);
  EXPECT_EQ(f.access.reason, "expired");
  ASSERT_EQ(f.access.challenges.size(), 1U);
  EXPECT_NE(f.access.challenges[0].find("error=\"invalid_token\""), std::string::npos);

  for (const char* name : {"wrong_issuer", "wrong_audience", "alg_none", "confusion_hs256_with_rsa_pem"}) {
    s = f.start("GET", "/tokens/1", {h("Authorization", "Bearer " + token(name))});
    EXPECT_EQ(s.outcome, Outcome::kUnauthorized) << name;
    EXPECT_EQ(f.access.refusedBy, AccessPolicy::kJwt) << name;
  }
}

TEST(FlowAccess, EitherCredentialAdmitsOnARouteWithBoth) {
  Fixture f;
  // A valid key beside an expired token: the key admits (the route accepts either).
  Step s = f.start("GET", "/either", {h("Authorization", "Bearer " + token("expired")), h("apikey", "bob-key-0123456789abcdef")});
  ASSERT_EQ(s.kind, StepKind::kSendTry);
  EXPECT_EQ(f.access.authenticatedBy, AccessPolicy::kKeyAuth);
  EXPECT_EQ(f.access.consumerId, "bob");
  EXPECT_EQ(f.access.jwtReason, core::auth::JwtReason::kExpired);

  // Neither: one challenge per scheme; the reported reason is the credential that was presented.
  s = f.start("GET", "/either", {h("Authorization", "Bearer " + token("expired"))}, fixtureNow() + 10ms);
  EXPECT_EQ(s.outcome, Outcome::kUnauthorized);
  EXPECT_EQ(f.access.refusedBy, AccessPolicy::kJwt);
  EXPECT_EQ(f.access.reason, "expired");
  ASSERT_EQ(f.access.challenges.size(), 2U);
  EXPECT_EQ(f.access.challenges[0].rfind("Bearer ", 0), 0U);
  EXPECT_EQ(f.access.challenges[1].rfind("Key ", 0), 0U);
}

TEST(FlowAccess, ARateLimitListedBeforeAuthenticationCountsRefusedRequestsToo) {
  Fixture f;
  // before-auth: 3/s per IP, listed before jwt: three unauthenticated tries use the IP's budget,
  // so the fourth request — with a valid token — is rate limited before it is verified.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(f.start("GET", "/either", {}, fixtureNow() + std::chrono::milliseconds(i)).outcome,
              Outcome::kUnauthorized);
  }
  const Step s = f.start("GET", "/either", {h("Authorization", "Bearer " + token("hs256"))}, fixtureNow() + 5ms);
  EXPECT_EQ(s.outcome, Outcome::kRateLimited);
  EXPECT_FALSE(f.access.authRan);
  EXPECT_EQ(f.hooks.limited.size(), 4U);
}

TEST(FlowAccess, AStoreStepResumesAfterAuthenticationWithTheConsumer) {
  const auto loaded = config::loadConfigString(R"(version: 1
redis: { address: 127.0.0.1:6379 }
consumers:
  - id: alice
    keys: [alice-key-0123456789abcdef]
services:
  - name: api
    targets: [http://10.0.0.1:80]
routes:
  - name: keys
    match: { path_prefix: / }
    service: api
    policies:
      - key_auth: {}
      - rate_limit: { name: shared, algorithm: fixed_window, limit: 5/s, key: consumer, store: redis }
      - rate_limit: { name: local, algorithm: fixed_window, limit: 1/s, key: consumer }
)",
                                               "store.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errorText();
  auto built = config::buildRuntime(loaded.config);
  ASSERT_TRUE(built.ok());
  RequestFlow flow(*built.runtime, StoreMode::kAsk);
  Hooks hooks;
  AccessState access;
  std::vector<core::Header> headers{h("apikey", "alice-key-0123456789abcdef")};
  core::RequestView v;
  v.method = "GET";
  v.path = "/x";
  v.host = "api.example";
  v.clientAddress = "203.0.113.9";
  v.headers = headers;
  FlowRequest r;
  access.unixNow = fixtureNow();
  Step s = flow.start(r, v, fixtureNow(), hooks, hooks, access);
  ASSERT_EQ(s.kind, StepKind::kAskStore);
  EXPECT_EQ(access.consumerId, "alice");
  EXPECT_EQ(s.storePolicy, 0U);
  // The store failed; on_store_error defaults to allow: the walk goes on to the local limit,
  // which counts alice (its key is the consumer).
  s = flow.storeAnswered(r, v, nullptr, fixtureNow(), hooks, hooks, access);
  ASSERT_EQ(s.kind, StepKind::kSendTry);
  EXPECT_EQ(hooks.limited, std::vector<std::string>{"local"});
}

}  // namespace
}  // namespace gatelab::flow
