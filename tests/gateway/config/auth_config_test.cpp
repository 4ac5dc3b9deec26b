// Access and shaping policies in the config: consumers, identity_headers, jwt, key_auth, acl,
// cors, request_headers and response_headers. Valid configs build core objects that behave as
// configured (fixture tokens from tests/gateway/core/auth/data verify at the fixtures' `now`);
// every kind of mistake is reported at its exact path, line and column; secrets never appear in a
// message.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "gateway/core/auth/api_key.hpp"
#include "tests/gateway/config/config_test_support.hpp"

namespace gatelab::config {
namespace {

using namespace std::chrono_literals;
using core::Header;
using core::RequestView;
using core::auth::AclReason;
using core::auth::AclSubject;
using core::auth::ApiKeyReason;
using core::auth::JwtReason;
using core::auth::TokenSource;
using core::auth::TokenSourceKind;
using core::shaping::CorsRequestKind;
using test::dump;
using test::ErrorCase;
using test::expectError;
using test::findByPath;
using test::kFile;
using ::testing::HasSubstr;

// ---- fixtures ----------------------------------------------------------------------------------

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string authData(const std::string& name) {
  return std::string(GATELAB_SOURCE_DIR) + "/tests/gateway/core/auth/data/" + name;
}

// Tokens and keys made by PyJWT (tests/gateway/core/auth/make_tokens.py).
const nlohmann::json& fixtures() {
  static const nlohmann::json doc = nlohmann::json::parse(readFile(authData("fixtures.json")));
  return doc;
}
std::string token(const std::string& name) { return fixtures().at("tokens").at(name).get<std::string>(); }
std::string pem(const std::string& name) { return fixtures().at("pem").at(name).get<std::string>(); }
std::string secret(const std::string& name) { return fixtures().at("secrets").at(name).get<std::string>(); }
core::TimePoint fixtureNow(std::int64_t offset = 0) {
  return core::TimePoint{
      std::chrono::duration_cast<core::Duration>(std::chrono::seconds{fixtures().at("now").get<std::int64_t>() + offset})};
}

// `text` as a YAML block scalar indented by `indent` spaces (for PEM keys).
std::string block(const std::string& text, std::size_t indent) {
  std::string out = "|\n";
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    out += std::string(indent, ' ') + text.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::string writeTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// A config: `top` (top-level sections), one service "s", one route "r" whose policy list is
// `policies` (lines indented by 6 spaces).
std::string withPolicies(std::string_view policies, std::string_view top = {}) {
  return "version: 1\n" + std::string(top) +
         "services:\n  - name: s\n    targets: [http://127.0.0.1:3001]\n"
         "routes:\n  - name: r\n    match: {path_prefix: /a}\n    service: s\n    policies:\n" +
         std::string(policies);
}

constexpr std::string_view kAliceKey = "alice-key-7Qm2Xv9Lp4Rt8Kw3Hs6D";
constexpr std::string_view kBobKey = "bob-key-Zr8Yt3Wq6Np1Ls5HbX2c";
constexpr std::string_view kHsSecret = "0123456789abcdef0123456789abcdef";  // 32 bytes: enough for HS256

// alice: a plain key; bob: the digest of his; anon: no key (the anonymous consumer).
std::string consumers() {
  return "consumers:\n"
         "  - id: alice\n"
         "    groups: [staff, orders-team]\n"
         "    keys: [" + std::string(kAliceKey) + "]\n"
         "  - id: bob\n"
         "    groups: [partners]\n"
         "    keys:\n"
         "      - {id: bob-ci, key: '" + core::auth::hashApiKey(kBobKey) + "'}\n"
         "  - id: anon\n"
         "    groups: [public]\n";
}

// A jwt policy with one valid HS256 key; `extra` is added inside the mapping.
std::string jwtLine(std::string_view extra = {}) {
  return "      - jwt: {keys: [{kid: k, alg: HS256, secret: " + std::string(kHsSecret) + "}]" + std::string(extra) + "}\n";
}

std::shared_ptr<const GatewayConfig> load(const std::string& yaml) {
  const LoadResult r = loadConfigString(yaml, kFile);
  EXPECT_TRUE(r.ok()) << dump(r);
  return r.config;
}

std::unique_ptr<GatewayRuntime> build(const std::shared_ptr<const GatewayConfig>& config) {
  if (!config) return nullptr;
  BuildResult r = buildRuntime(config);
  EXPECT_TRUE(r.ok()) << formatDiagnostics(r.diagnostics);
  return std::move(r.runtime);
}

// ---- valid configs build working objects -------------------------------------------------------

TEST(AuthConfig, JwtKeysFromEveryPlaceVerifyTheFixtureTokens) {
  // Inline base64url secret, inline PEM, a PEM file and a JWKS file all end up in one key set; the
  // built verifier accepts the fixtures' tokens at their `now` and applies the claim rules.
  const std::string p256 = writeTemp("auth_config_p256.pem", pem("p256"));
  const std::string yaml = withPolicies(
      "      - jwt:\n"
      "          keys:\n"
      "            - {kid: hs256, alg: HS256, secret: " + secret("hs256_base64url") + ", secret_encoding: base64url}\n"
      "            - kid: rsa-pem\n"
      "              alg: RS256\n"
      "              public_key: " + block(pem("rsa"), 16) +
      "            - {kid: es256-pem, alg: ES256, public_key_file: '" + p256 + "'}\n"
      "          jwks_file: '" + authData("jwks.json") + "'\n"
      "          issuers: [https://issuer.example]\n"
      "          audiences: [api]\n"
      "          leeway: 30s\n"
      "          max_lifetime: 2h\n"
      "          token_sources: [header:Authorization, cookie:session]\n"
      "          realm: orders\n"
      "          cache: {max_entries: 100}\n"
      "          consumer_claim: sub\n");
  auto config = load(yaml);
  ASSERT_TRUE(config);
  const auto& spec = std::get<JwtPolicyConfig>(config->routes[0].policies[0]);
  EXPECT_EQ(spec.keys.size(), 3U + 7U);  // three inline, seven usable JWKs
  EXPECT_EQ(spec.skippedJwks.size(), 2U) << "the JWKS's RSA-OAEP (use enc) and P-521 keys are skipped, not errors";
  EXPECT_EQ(spec.rules.issuers, std::vector<std::string>{"https://issuer.example"});
  EXPECT_EQ(spec.rules.audiences, std::vector<std::string>{"api"});
  EXPECT_EQ(spec.rules.requiredClaims, std::vector<std::string>{"exp"});  // the default
  EXPECT_EQ(spec.rules.leeway, 30s);
  EXPECT_EQ(spec.rules.maxLifetime, std::optional<core::Duration>(2h));
  EXPECT_EQ(spec.tokenSources, (std::vector<TokenSource>{{TokenSourceKind::kHeader, "Authorization"},
                                                          {TokenSourceKind::kCookie, "session"}}));
  EXPECT_EQ(spec.realm, "orders");
  EXPECT_EQ(spec.cacheEntries, std::optional<std::size_t>(100));
  EXPECT_EQ(spec.consumerClaim, "sub");

  auto runtime = build(config);
  ASSERT_TRUE(runtime);
  const RouteRuntime& route = runtime->routes[0];
  ASSERT_NE(route.jwt, nullptr);
  ASSERT_EQ(route.jwtPolicy, &spec);
  ASSERT_NE(route.jwtCache, nullptr);
  EXPECT_EQ(route.jwtCache->stats().capacity, 100U);
  EXPECT_EQ(route.identity, &*runtime->identity) << "an authenticating route gets the identity headers";
  for (const char* name : {"hs256", "rs256_pem", "es256_pem", "rs256", "es256", "eddsa", "rs512"}) {
    const auto r = route.jwt->verify(token(name), fixtureNow());
    EXPECT_TRUE(r.ok()) << name << ": " << core::auth::toString(r.reason) << " " << r.detail;
  }
  EXPECT_EQ(route.jwt->verify(token("wrong_issuer"), fixtureNow()).reason, JwtReason::kIssuerMismatch);
  EXPECT_EQ(route.jwt->verify(token("wrong_audience"), fixtureNow()).reason, JwtReason::kAudienceMismatch);
  EXPECT_EQ(route.jwt->verify(token("alg_none"), fixtureNow()).reason, JwtReason::kUnsupportedAlg);
  // The token expires at now + 3600: the 30s leeway admits it until +3629, not at +3630.
  EXPECT_TRUE(route.jwt->verify(token("hs256"), fixtureNow(3629)).ok());
  EXPECT_EQ(route.jwt->verify(token("hs256"), fixtureNow(3630)).reason, JwtReason::kExpired);
  // The built cache serves a repeated token.
  EXPECT_FALSE(route.jwt->verify(token("rs256_pem"), fixtureNow(), *route.jwtCache).cacheHit);
  EXPECT_TRUE(route.jwt->verify(token("rs256_pem"), fixtureNow(), *route.jwtCache).cacheHit);
  std::remove(p256.c_str());
}

TEST(AuthConfig, KeyFilePathsAreRelativeToTheWorkingDirectory) {
  // Like the TLS certificate paths: a relative public_key_file is opened from the working directory.
  const std::string name = "auth_config_test_ed25519.pem";
  std::ofstream(name, std::ios::binary) << pem("ed25519");
  auto config = load(withPolicies("      - jwt: {keys: [{kid: ed-pem, alg: EdDSA, public_key_file: " + name + "}]}\n"));
  auto runtime = build(config);
  ASSERT_TRUE(runtime);
  EXPECT_TRUE(runtime->routes[0].jwt->verify(token("eddsa_pem"), fixtureNow()).ok());
  std::filesystem::remove(name);
}

TEST(AuthConfig, KeyAuthFindsTheConsumerOfAKeyAndKeepsOnlyDigests) {
  const std::string yaml =
      withPolicies("      - key_auth: {key_sources: [header:X-API-Key, query:apikey], hide_credentials: true,"
                   " anonymous: anon, realm: orders}\n"
                   "      - acl: {allow: [staff, partners], deny: [suspended]}\n",
                   consumers());
  auto config = load(yaml);
  ASSERT_TRUE(config);
  ASSERT_EQ(config->consumers.size(), 3U);
  // The plain key is stored as its digest, the written digest as it was; credential ids kept.
  EXPECT_EQ(config->consumers[0].id, "alice");
  EXPECT_EQ(config->consumers[0].groups, (std::vector<std::string>{"staff", "orders-team"}));
  EXPECT_EQ(config->consumers[0].keys, (std::vector<ConsumerKey>{{"", core::auth::hashApiKey(kAliceKey)}}));
  EXPECT_EQ(config->consumers[1].keys, (std::vector<ConsumerKey>{{"bob-ci", core::auth::hashApiKey(kBobKey)}}));
  EXPECT_TRUE(config->consumers[2].keys.empty());
  const auto& ka = std::get<KeyAuthPolicyConfig>(config->routes[0].policies[0]);
  EXPECT_TRUE(ka.hideCredentials);
  EXPECT_EQ(ka.anonymous, "anon");
  EXPECT_EQ(ka.realm, "orders");

  auto runtime = build(config);
  ASSERT_TRUE(runtime);
  ASSERT_NE(runtime->consumers, nullptr);
  EXPECT_EQ(runtime->consumers->consumers().size(), 3U);
  const RouteRuntime& route = runtime->routes[0];
  ASSERT_TRUE(route.keyAuth);
  EXPECT_EQ(route.keyAuthPolicy, &ka);
  EXPECT_EQ(route.identity, &*runtime->identity);
  EXPECT_EQ(route.jwt, nullptr);

  const std::array<Header, 1> aliceHeader{Header{"x-api-key", kAliceKey}};
  RequestView alice;
  alice.method = "GET";
  alice.headers = aliceHeader;
  const auto a = route.keyAuth->authenticate(alice);
  ASSERT_TRUE(a.authenticated());
  EXPECT_EQ(a.consumer->id, "alice");
  RequestView bob;
  bob.method = "POST";
  const std::string query = "x=1&apikey=" + std::string(kBobKey);
  bob.query = query;
  const auto b = route.keyAuth->authenticate(bob);
  ASSERT_TRUE(b.authenticated());
  EXPECT_EQ(b.consumer->id, "bob");
  EXPECT_EQ(b.credential, "bob-ci");
  const auto none = route.keyAuth->authenticate(RequestView{});
  EXPECT_EQ(none.reason, ApiKeyReason::kMissingKey);
  ASSERT_TRUE(none.admitted());
  EXPECT_TRUE(none.anonymous);
  EXPECT_EQ(none.consumer->id, "anon");

  // The ACL judges the consumers' groups from the shared registry.
  ASSERT_TRUE(route.acl);
  const auto judge = [&](const core::auth::Consumer* c) {
    return route.acl->check(AclSubject{"GET", true, c->groups, {}}).reason;
  };
  EXPECT_EQ(judge(a.consumer), AclReason::kOk);
  EXPECT_EQ(judge(b.consumer), AclReason::kOk);
  EXPECT_EQ(judge(none.consumer), AclReason::kGroupNotAllowed);
}

TEST(AuthConfig, CorsAndHeaderTransformsBuildAsWritten) {
  const std::string yaml = withPolicies(
      "      - cors:\n"
      "          origins: [https://app.example.com, 'https://*.preview.example.com']\n"
      "          methods: [GET, POST, PUT]\n"
      "          allow_headers: [Content-Type, Authorization]\n"
      "          expose_headers: [X-Request-ID]\n"
      "          credentials: true\n"
      "          max_age: 10m\n"
      "      - request_headers:\n"
      "          - {remove: X-Internal-Debug}\n"
      "          - {set: X-Request-ID, value: '$(uuid)'}\n"
      "          - {append: X-Forwarded-For, value: '$(client_ip)'}\n"
      "          - {rename: X-Legacy-Tenant, to: X-Tenant}\n"
      "      - response_headers:\n"
      "          - {add: Cache-Control, value: no-store}\n");
  auto config = load(yaml);
  ASSERT_TRUE(config);
  ASSERT_EQ(config->routes[0].policies.size(), 3U);
  const auto& cors = std::get<core::shaping::CorsSpec>(config->routes[0].policies[0]);
  EXPECT_EQ(cors.origins, (std::vector<std::string>{"https://app.example.com", "https://*.preview.example.com"}));
  EXPECT_EQ(cors.methods, (std::vector<std::string>{"GET", "POST", "PUT"}));
  EXPECT_EQ(cors.allowHeaders, (std::vector<std::string>{"Content-Type", "Authorization"}));
  EXPECT_EQ(cors.exposeHeaders, std::vector<std::string>{"X-Request-ID"});
  EXPECT_TRUE(cors.credentials);
  EXPECT_EQ(cors.maxAge, std::optional<core::Duration>(10min));
  const auto& req = std::get<RequestHeadersConfig>(config->routes[0].policies[1]);
  using core::shaping::HeaderOp;
  EXPECT_EQ(req.transform.operations,
            (std::vector<core::shaping::HeaderOpSpec>{{HeaderOp::kRemove, "X-Internal-Debug", ""},
                                                      {HeaderOp::kSet, "X-Request-ID", "$(uuid)"},
                                                      {HeaderOp::kAppend, "X-Forwarded-For", "$(client_ip)"},
                                                      {HeaderOp::kRename, "X-Legacy-Tenant", "X-Tenant"}}));
  EXPECT_EQ(policyKind(config->routes[0].policies[2]), "response_headers");

  auto runtime = build(config);
  ASSERT_TRUE(runtime);
  const RouteRuntime& route = runtime->routes[0];
  EXPECT_EQ(route.identity, nullptr) << "no authentication on the route";
  ASSERT_TRUE(route.cors);
  const std::array<Header, 2> preflight{Header{"Origin", "https://pr-7.preview.example.com"},
                                        Header{"Access-Control-Request-Method", "PUT"}};
  RequestView options;
  options.method = "OPTIONS";
  options.headers = preflight;
  const auto decision = route.cors->evaluate(options);
  EXPECT_EQ(decision.kind, CorsRequestKind::kPreflight);
  EXPECT_EQ(decision.status, core::shaping::kPreflightAllowedStatus);
  ASSERT_TRUE(route.requestHeaders);
  EXPECT_TRUE(route.requestHeaders->usesUuid());
  core::HeaderList fields{{"X-Internal-Debug", "1"}, {"X-Legacy-Tenant", "t1"}};
  core::shaping::TemplateContext ctx;
  ctx.request.clientAddress = "203.0.113.7";
  ctx.uuid = "6f1c2d3e-0000-4000-8000-000000000001";
  EXPECT_TRUE(route.requestHeaders->apply(fields, ctx).ok());
  EXPECT_EQ(fields, (core::HeaderList{{"X-Tenant", "t1"},
                                      {"X-Request-ID", "6f1c2d3e-0000-4000-8000-000000000001"},
                                      {"X-Forwarded-For", "203.0.113.7"}}));
  ASSERT_TRUE(route.responseHeaders);
  EXPECT_EQ(route.responseHeaders->size(), 1U);
}

TEST(AuthConfig, IdentityHeaderNamesDefaultToKongsAndCanBeChanged) {
  // Absent: Kong's names. Written: each name replaced, "" turns a fact off, strip_only replaced.
  auto defaults = load(withPolicies(jwtLine()));
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->identityHeaders.names, core::auth::IdentitySpec{}.names);
  auto custom = load(withPolicies(jwtLine(), "identity_headers:\n  consumer_id: X-User\n  groups: ''\n"
                                             "  strip_only: [X-Forwarded-User]\n"));
  ASSERT_TRUE(custom);
  EXPECT_EQ(custom->identityHeaders.names[0], "X-User");
  EXPECT_EQ(custom->identityHeaders.names[1], "");
  EXPECT_EQ(custom->identityHeaders.names[2], "X-Credential-Identifier");
  EXPECT_EQ(custom->identityHeaders.stripOnly, std::vector<std::string>{"X-Forwarded-User"});
  auto runtime = build(custom);
  ASSERT_TRUE(runtime);
  ASSERT_TRUE(runtime->identity);
  EXPECT_TRUE(runtime->identity->isIdentityField("x-user"));
  EXPECT_TRUE(runtime->identity->isIdentityField("X-Forwarded-User"));
  EXPECT_FALSE(runtime->identity->isIdentityField("X-Consumer-Groups"));
}

TEST(AuthConfig, WrittenOrderIsKeptAndRateLimitsStillBuild) {
  // Access policies beside rate limits: the list keeps the written order, rate limits are still
  // the route's rateLimits in order (the rate-limit code paths skip the other kinds).
  auto config = load(withPolicies("      - cors: {origins: ['*']}\n"
                                  "      - rate_limit: {algorithm: gcra, limit: 10/s}\n" +
                                      jwtLine() +
                                  "      - rate_limit: {algorithm: gcra, limit: 5/s, key: jwt:sub}\n"
                                  "      - response_headers: [{remove: Server}]\n"));
  ASSERT_TRUE(config);
  std::vector<std::string_view> kinds;
  for (const PolicySpec& p : config->routes[0].policies) kinds.push_back(policyKind(p));
  EXPECT_EQ(kinds, (std::vector<std::string_view>{"cors", "rate_limit", "jwt", "rate_limit", "response_headers"}));
  EXPECT_EQ(config->rateLimitPolicies().size(), 2U);
  auto runtime = build(config);
  ASSERT_TRUE(runtime);
  EXPECT_EQ(runtime->routes[0].rateLimits.size(), 2U);
  EXPECT_EQ(runtime->routes[0].rateLimits[1]->spec().name, "r.rate_limit[1]");
}

TEST(AuthConfig, ConfigBuiltInCodeThatTheCoreRejectsGivesDiagnostics) {
  // A GatewayConfig assembled in code skips the loader: the runtime runs the core's factories
  // again and reports their errors under the policy's path instead of building something broken.
  auto config = std::make_shared<GatewayConfig>();
  config->services.push_back(ServiceConfig{});
  config->services[0].name = "s";
  config->services[0].targets.push_back(Target{TargetUrl{"http", "127.0.0.1", 1}, 1});
  RouteConfig route;
  route.spec.name = "r";
  route.spec.path = "/";
  route.spec.pathKind = core::PathMatch::kPrefix;
  route.spec.services.push_back(core::WeightedService{"s", 1});
  route.policies.push_back(JwtPolicyConfig{});  // no keys
  KeyAuthPolicyConfig keyAuth;
  keyAuth.anonymous = "nobody";
  route.policies.push_back(keyAuth);
  core::shaping::CorsSpec cors;
  cors.origins = {"*"};
  cors.credentials = true;
  route.policies.push_back(cors);
  config->routes.push_back(std::move(route));
  const BuildResult b = buildRuntime(config);
  ASSERT_FALSE(b.ok());
  std::vector<std::string> paths;
  for (const Diagnostic& d : b.diagnostics) paths.push_back(d.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"routes[0].policies[0].jwt.keys", "routes[0].policies[1].key_auth.anonymous",
                                             "routes[0].policies[2].cors.credentials"}))
      << formatDiagnostics(b.diagnostics);
}

// ---- errors, one table per kind ---------------------------------------------------------------

constexpr std::string_view kJwt = "routes[0].policies[0].jwt";

TEST(AuthConfig, JwtErrors) {
  const std::string hs = "{kid: k, alg: HS256, secret: " + std::string(kHsSecret) + "}";
  const std::vector<ErrorCase> cases = {
      // unknown keys get a suggestion
      {"unknown key", withPolicies("      - jwt: {keys: [" + hs + "], isuers: [a]}\n"), "routes[0].policies[0].jwt.isuers",
       "isuers", false, "unknown key \"isuers\" (did you mean 'issuers'?)"},
      // algorithm names are case-sensitive JWA names
      {"bad alg", withPolicies("      - jwt: {keys: [{kid: k, alg: HS257, secret: x}]}\n"),
       "routes[0].policies[0].jwt.keys[0].alg", "HS257", false,
       "algorithm \"HS257\" is not verified by gatelab (did you mean 'HS256'?)"},
      // alg none is refused outright
      {"alg none", withPolicies("      - jwt: {keys: [{alg: none, secret: x}]}\n"), "routes[0].policies[0].jwt.keys[0].alg",
       "none", false, "algorithm \"none\" is never accepted"},
      // an HMAC key needs its secret
      {"missing secret", withPolicies("      - jwt: {keys: [{kid: k, alg: HS256}]}\n"),
       "routes[0].policies[0].jwt.keys[0].secret", "{kid: k", false, "missing required key \"secret\""},
      // RFC 7518 3.2: at least the hash size
      {"short secret", withPolicies("      - jwt: {keys: [{kid: k, alg: HS256, secret: too-short}]}\n"),
       "routes[0].policies[0].jwt.keys[0].secret", "too-short", false,
       "key \"k\": an HS256 secret must be at least 32 bytes"},
      // encoding errors come from the core
      {"bad base64url", withPolicies("      - jwt: {keys: [{alg: HS256, secret: 'a+b/', secret_encoding: base64url}]}\n"),
       "routes[0].policies[0].jwt.keys[0].secret", "'a+b/'", false, "the key: the secret is not valid base64url"},
      {"bad encoding name", withPolicies("      - jwt: {keys: [{alg: HS256, secret: x, secret_encoding: hex}]}\n"),
       "routes[0].policies[0].jwt.keys[0].secret_encoding", "hex", false, "unknown value \"hex\""},
      // a public-key algorithm never takes a secret (algorithm confusion)
      {"secret for RS256", withPolicies("      - jwt: {keys: [{kid: r, alg: RS256, secret: x}]}\n"),
       "routes[0].policies[0].jwt.keys[0].secret", "secret", false, "an RS256 key is a public key, not a secret"},
      {"public key for HS256", withPolicies("      - jwt: {keys: [{alg: HS256, secret: x, public_key: y}]}\n"),
       "routes[0].policies[0].jwt.keys[0].public_key", "public_key", false, "an HS256 key is an HMAC secret"},
      {"no public key", withPolicies("      - jwt: {keys: [{kid: r, alg: ES256}]}\n"),
       "routes[0].policies[0].jwt.keys[0].public_key", "{kid: r", false, "missing public_key or public_key_file"},
      {"garbage PEM", withPolicies("      - jwt: {keys: [{kid: r, alg: RS256, public_key: not-pem}]}\n"),
       "routes[0].policies[0].jwt.keys[0].public_key", "not-pem", false, "key \"r\": "},
      {"pem and file", withPolicies("      - jwt: {keys: [{alg: RS256, public_key: a, public_key_file: b}]}\n"),
       "routes[0].policies[0].jwt.keys[0].public_key_file", "public_key_file", false,
       "public_key and public_key_file cannot be combined"},
      // files are read at load; the message names the path
      {"unreadable public_key_file",
       withPolicies("      - jwt: {keys: [{kid: r, alg: RS256, public_key_file: /nonexistent/rsa.pem}]}\n"),
       "routes[0].policies[0].jwt.keys[0].public_key_file", "/nonexistent", false,
       "cannot read public_key_file \"/nonexistent/rsa.pem\": no such file"},
      {"unreadable jwks_file", withPolicies("      - jwt: {jwks_file: /nonexistent/jwks.json}\n"),
       "routes[0].policies[0].jwt.jwks_file", "/nonexistent", false,
       "cannot read jwks_file \"/nonexistent/jwks.json\": no such file"},
      {"jwks_file a directory", withPolicies("      - jwt: {jwks_file: /tmp}\n"), "routes[0].policies[0].jwt.jwks_file",
       "/tmp", false, "cannot read jwks_file \"/tmp\": it is a directory"},
      {"jwks_file a device", withPolicies("      - jwt: {jwks_file: /dev/zero}\n"), "routes[0].policies[0].jwt.jwks_file",
       "/dev/zero", false, "not a regular file"},
      {"default alg without jwks", withPolicies("      - jwt: {keys: [" + hs + "], jwks_default_alg: RS256}\n"),
       "routes[0].policies[0].jwt.jwks_default_alg", "jwks_default_alg", false, "applies only with jwks_file"},
      // the key set refuses a kid twice for one algorithm, naming the first
      {"duplicate kid", withPolicies("      - jwt: {keys: [" + hs + ", {kid: k, alg: HS256, secret: " +
                                     std::string(kHsSecret) + "x}]}\n"),
       "routes[0].policies[0].jwt.keys[1].kid", "k, alg: HS256, secret: 0123456789abcdef0123456789abcdefx", false,
       "two HS256 keys with kid \"k\""},
      {"no keys", withPolicies("      - jwt: {issuers: [a]}\n"), "routes[0].policies[0].jwt.keys", "{issuers", false,
       "a jwt policy needs keys"},
      {"empty keys", withPolicies("      - jwt: {keys: []}\n"), "routes[0].policies[0].jwt.keys", "[]", false,
       "must not be empty"},
      // claim rules and limits
      {"leeway too long", withPolicies("      - jwt: {keys: [" + hs + "], leeway: 25h}\n"),
       "routes[0].policies[0].jwt.leeway", "25h", false, "is out of range"},
      {"leeway fraction", withPolicies("      - jwt: {keys: [" + hs + "], leeway: 1500ms}\n"),
       "routes[0].policies[0].jwt.leeway", "1500ms", false, "not a whole number of seconds"},
      {"max_lifetime zero", withPolicies("      - jwt: {keys: [" + hs + "], max_lifetime: 0s}\n"),
       "routes[0].policies[0].jwt.max_lifetime", "0s", false, "out of range"},
      {"max_token_bytes", withPolicies("      - jwt: {keys: [" + hs + "], max_token_bytes: 10}\n"),
       "routes[0].policies[0].jwt.max_token_bytes", "10}", false, "10 is out of range"},
      {"duplicate issuer", withPolicies("      - jwt: {keys: [" + hs + "], issuers: [a, a]}\n"),
       "routes[0].policies[0].jwt.issuers[1]", "a]", false, "duplicate issuer \"a\""},
      {"claim with space", withPolicies("      - jwt: {keys: [" + hs + "], consumer_claim: 'a b'}\n"),
       "routes[0].policies[0].jwt.consumer_claim", "'a b'", false, "no spaces"},
      // token sources
      {"unknown token source", withPolicies("      - jwt: {keys: [" + hs + "], token_sources: [header:Authorization, body:t]}\n"),
       "routes[0].policies[0].jwt.token_sources[1]", "body:t", false, "unknown token source \"body:t\""},
      {"source without name", withPolicies("      - jwt: {keys: [" + hs + "], token_sources: ['cookie:']}\n"),
       "routes[0].policies[0].jwt.token_sources[0]", "'cookie:'", false, "cookie needs a name"},
      {"duplicate source", withPolicies("      - jwt: {keys: [" + hs + "], token_sources: [header:A, header:a]}\n"),
       "routes[0].policies[0].jwt.token_sources[1]", "header:a", false, "duplicate token source"},
      {"realm quote", withPolicies("      - jwt: {keys: [" + hs + "], realm: 'a\"b'}\n"), "routes[0].policies[0].jwt.realm",
       "'a\"b'", false, "invalid realm"},
      {"cache size", withPolicies("      - jwt: {keys: [" + hs + "], cache: {max_entries: 0}}\n"),
       "routes[0].policies[0].jwt.cache.max_entries", "0}", false, "0 is out of range"},
      {"cache unknown key", withPolicies("      - jwt: {keys: [" + hs + "], cache: {size: 5}}\n"),
       "routes[0].policies[0].jwt.cache.size", "size", false, "unknown key \"size\""},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(AuthConfig, JwksProblemsAreReportedAtTheFileWithTheCoresMessage) {
  // A JWKS with a bad key: the error sits on jwks_file and quotes the core's message; the good
  // keys are not enough to load.
  const std::string path = writeTemp(
      "auth_config_bad.jwks",
      R"({"keys": [{"kty": "EC", "crv": "P-256", "kid": "a1", "x": "AAAA", "y": "AAAA"}]})");
  const std::string yaml = withPolicies("      - jwt: {jwks_file: '" + path + "'}\n");
  const LoadResult r = loadConfigString(yaml, kFile);
  ASSERT_FALSE(r.ok());
  const Diagnostic* d = findByPath(r, std::string(kJwt) + ".jwks_file");
  ASSERT_NE(d, nullptr) << dump(r);
  EXPECT_THAT(d->message, HasSubstr("jwks_file \"" + path + "\": keys[0] (kid \"a1\"): "));
  std::remove(path.c_str());
}

TEST(AuthConfig, ConsumerErrors) {
  const std::string route = "      - key_auth: {}\n";
  const std::vector<ErrorCase> cases = {
      {"unknown key", withPolicies(route, "consumers:\n  - id: a\n    group: [x]\n"), "consumers[0].group", "group",
       false, "unknown key \"group\" (did you mean 'groups'?)"},
      {"missing id", withPolicies(route, "consumers:\n  - groups: [x]\n"), "consumers[0].id", "groups", false,
       "missing required key \"id\""},
      // ids are unique; the second names the first
      {"duplicate id", withPolicies(route, "consumers:\n  - id: alice\n  - id: alice\n"), "consumers[1].id",
       "alice\n  - id: ", true, "duplicate consumer id \"alice\"; first defined at test.yaml:3:9 (consumers[0].id)"},
      {"id with space", withPolicies(route, "consumers:\n  - id: 'a b'\n"), "consumers[0].id", "'a b'", false,
       "visible characters only"},
      {"group with comma", withPolicies(route, "consumers:\n  - id: a\n    groups: ['x,y']\n"), "consumers[0].groups[0]",
       "'x,y'", false, "may not contain ','"},
      {"duplicate group", withPolicies(route, "consumers:\n  - id: a\n    groups: [x, x]\n"), "consumers[0].groups[1]",
       "x]", false, "duplicate group \"x\""},
      // a key twice (here: once plain, once as its digest) is reported with both places
      {"duplicate key across consumers",
       withPolicies(route, "consumers:\n  - id: a\n    keys: [k-0123456789abcdef]\n  - id: b\n    keys:\n      - {key: '" +
                               core::auth::hashApiKey("k-0123456789abcdef") + "'}\n"),
       "consumers[1].keys[0].key", "'sha256", false,
       "the same API key as consumers[0].keys[0] (consumer \"a\"), defined at test.yaml:4:12"},
      {"key with space", withPolicies(route, "consumers:\n  - id: a\n    keys: ['a b']\n"), "consumers[0].keys[0]",
       "'a b'", false, "a key may hold visible ASCII characters only"},
      {"bad digest", withPolicies(route, "consumers:\n  - id: a\n    keys: ['sha256:abc']\n"), "consumers[0].keys[0]",
       "'sha256", false, "a hashed key is \"sha256:\" followed by exactly 64 hex digits"},
      {"keys not a list", withPolicies(route, "consumers:\n  - id: a\n    keys: k-0123456789abcdef\n"),
       "consumers[0].keys", "k-0123", false, "expected a list of keys, got a single value"},
      {"credential id", withPolicies(route, "consumers:\n  - id: a\n    keys: [{id: \"x\\ny\", key: k-0123456789abcdef}]\n"),
       "consumers[0].keys[0].id", "\"x\\ny\"", false, "a credential id may not contain control characters"},
      // key_auth needs consumers, and says where to add them
      {"key_auth without consumers", withPolicies(route), "routes[0].policies[0].key_auth", "{}", false,
       "key_auth needs consumers, and the config defines none: add a top-level consumers: list"},
      {"bare key_auth without consumers", withPolicies("      - key_auth:\n"), "routes[0].policies[0].key_auth",
       "key_auth", false, "key_auth needs consumers"},
      {"anonymous unknown", withPolicies("      - key_auth: {anonymous: anno}\n", consumers()),
       "routes[0].policies[0].key_auth.anonymous", "anno}", false, "unknown consumer \"anno\" (did you mean 'anon'?)"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(AuthConfig, KeyAuthErrors) {
  const std::vector<ErrorCase> cases = {
      {"unknown key", withPolicies("      - key_auth: {key_names: [apikey]}\n", consumers()),
       "routes[0].policies[0].key_auth.key_names", "key_names", false, "unknown key \"key_names\""},
      {"unknown source kind", withPolicies("      - key_auth: {key_sources: [cookie:k]}\n", consumers()),
       "routes[0].policies[0].key_auth.key_sources[0]", "cookie:k", false, "unknown key source \"cookie:k\""},
      // the core's duplicate check, in the YAML's words
      {"duplicate source", withPolicies("      - key_auth: {key_sources: [header:X-Key, header:x-key]}\n", consumers()),
       "routes[0].policies[0].key_auth.key_sources[1]", "header:x-key", false,
       "duplicate source (also key_sources[0])"},
      {"bad header name", withPolicies("      - key_auth: {key_sources: ['header:X Key']}\n", consumers()),
       "routes[0].policies[0].key_auth.key_sources[0]", "'header:X Key'", false, "a header name must be"},
      {"hide_credentials type", withPolicies("      - key_auth: {hide_credentials: yes}\n", consumers()),
       "routes[0].policies[0].key_auth.hide_credentials", "yes", false, "YAML 1.1 spellings"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(AuthConfig, AclErrors) {
  const std::string auth = "      - key_auth: {}\n";
  const std::vector<ErrorCase> cases = {
      // nothing authenticates: every request would get the same answer
      {"acl without authentication", withPolicies("      - acl: {allow: [staff]}\n"), "routes[0].policies[0].acl",
       "acl", false, "acl needs an authentication policy on the route"},
      {"acl before key_auth", withPolicies("      - acl: {allow: [staff]}\n" + auth, consumers()),
       "routes[0].policies[0].acl", "acl", false,
       "acl must come after key_auth (routes[0].policies[1].key_auth at test.yaml:"},
      {"allowed and denied", withPolicies(auth + "      - acl: {allow: [staff, ops], deny: [ops]}\n", consumers()),
       "routes[0].policies[1].acl.deny[0]", "ops]}", false, "group \"ops\" is both allowed (at "},
      // scopes come from a token's claims: key_auth alone has none
      {"scopes without jwt", withPolicies(auth + "      - acl: {scopes: [orders:read]}\n", consumers()),
       "routes[0].policies[1].acl.scopes", "[orders", false,
       "acl reads scopes from a verified JWT's claims, but the route has no jwt policy"},
      {"empty acl", withPolicies(auth + "      - acl: {require_authentication: true}\n", consumers()),
       "routes[0].policies[1].acl", "{require", false, "does nothing"},
      {"bad scope", withPolicies(jwtLine() + "      - acl: {scopes: ['a\"b']}\n"), "routes[0].policies[1].acl.scopes[0]",
       "'a\"b'", false, "a scope is printable ASCII without spaces"},
      {"lower-case method", withPolicies(jwtLine() + "      - acl: {method_scopes: [{methods: [post], scopes: [w]}]}\n"),
       "routes[0].policies[1].acl.method_scopes[0].methods[0]", "post", false, "did you mean 'POST'?"},
      {"method rule without scopes", withPolicies(jwtLine() + "      - acl: {method_scopes: [{methods: [POST]}]}\n"),
       "routes[0].policies[1].acl.method_scopes[0].scopes", "{methods", false, "missing required key \"scopes\""},
      // scopes required but no claim to read them from (the core's rule, at scope_claims)
      {"no scope claims", withPolicies(jwtLine() + "      - acl: {scopes: [r], scope_claims: []}\n"),
       "routes[0].policies[1].acl.scope_claims", "[]}", false, "at least one claim must hold them"},
      {"bad group", withPolicies(auth + "      - acl: {allow: ['a b']}\n", consumers()),
       "routes[0].policies[1].acl.allow[0]", "'a b'", false, "visible characters only"},
      // at most one per route
      {"two acls", withPolicies(auth + "      - acl: {allow: [a]}\n      - acl: {deny: [b]}\n", consumers()),
       "routes[0].policies[2].acl", "acl: {deny", false, "a route has at most one acl policy; the first is "
                                                         "routes[0].policies[1].acl at test.yaml:"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(AuthConfig, CorsErrors) {
  const std::vector<ErrorCase> cases = {
      // Fetch forbids ACAO * with credentials; the core's rule lands on `credentials`
      {"star with credentials", withPolicies("      - cors: {origins: ['*'], credentials: true}\n"),
       "routes[0].policies[0].cors.credentials", "true", false, "credentials cannot be allowed for origins \"*\""},
      {"star not alone", withPolicies("      - cors: {origins: ['*', 'https://a.example.com']}\n"),
       "routes[0].policies[0].cors.origins", "['*'", false, "\"*\" must be the only entry"},
      {"origin with path", withPolicies("      - cors: {origins: ['https://a.example.com/']}\n"),
       "routes[0].policies[0].cors.origins[0]", "'https://a.example.com/'", false, "is not an origin"},
      {"null origin", withPolicies("      - cors: {origins: [https://a.example.com, 'null']}\n"),
       "routes[0].policies[0].cors.origins[1]", "'null'", false, "\"null\" is refused"},
      {"pattern over a TLD", withPolicies("      - cors: {origins: ['https://*.com']}\n"),
       "routes[0].policies[0].cors.origins[0]", "'https://*.com'", false, "every site of a top-level domain"},
      {"duplicate origin", withPolicies("      - cors: {origins: [https://a.example.com, HTTPS://A.example.com]}\n"),
       "routes[0].policies[0].cors.origins[1]", "HTTPS", false, "duplicate origin"},
      {"expose star with credentials",
       withPolicies("      - cors: {origins: [https://a.example.com], expose_headers: ['*'], credentials: true}\n"),
       "routes[0].policies[0].cors.expose_headers", "['*']", false, "only without credentials"},
      {"max_age too long", withPolicies("      - cors: {origins: ['*'], max_age: 25h}\n"),
       "routes[0].policies[0].cors.max_age", "25h", false, "must be between 0s and 24h"},
      {"max_age fraction", withPolicies("      - cors: {origins: ['*'], max_age: 1500ms}\n"),
       "routes[0].policies[0].cors.max_age", "1500ms", false, "whole seconds"},
      {"lower-case method", withPolicies("      - cors: {origins: ['*'], methods: [get]}\n"),
       "routes[0].policies[0].cors.methods[0]", "get]", false, "did you mean 'GET'?"},
      {"bad header", withPolicies("      - cors: {origins: ['*'], allow_headers: ['X Y']}\n"),
       "routes[0].policies[0].cors.allow_headers[0]", "'X Y'", false, "must be an RFC 9110 token"},
      {"missing origins", withPolicies("      - cors: {methods: [GET]}\n"), "routes[0].policies[0].cors.origins",
       "{methods", false, "missing required key \"origins\""},
      {"unknown key", withPolicies("      - cors: {origins: ['*'], headers: [X]}\n"), "routes[0].policies[0].cors.headers",
       "headers", false, "unknown key \"headers\""},
      // preflights carry no credentials: cors must answer them before authentication refuses
      {"cors after jwt", withPolicies(jwtLine() + "      - cors: {origins: ['*']}\n"), "routes[0].policies[1].cors",
       "cors: {", false, "cors must come before jwt (routes[0].policies[0].jwt at test.yaml:"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(AuthConfig, HeaderTransformErrors) {
  const std::vector<ErrorCase> cases = {
      // CR/LF in a value would split the header (response splitting): refused at load with its offset
      {"CR LF in value", withPolicies("      - request_headers: [{set: X-A, value: \"a\\r\\nb\"}]\n"),
       "routes[0].policies[0].request_headers[0].value", "\"a\\r", false, "CR at offset 1"},
      {"NUL in value", withPolicies("      - response_headers: [{add: X-A, value: \"a\\0\"}]\n"),
       "routes[0].policies[0].response_headers[0].value", "\"a\\0", false, "NUL at offset 1"},
      // framing fields belong to the proxy
      {"protected name", withPolicies("      - request_headers: [{set: Content-Length, value: '1'}]\n"),
       "routes[0].policies[0].request_headers[0].set", "Content-Length", false, "framing or hop-by-hop field"},
      {"protected rename target", withPolicies("      - request_headers: [{rename: X-A, to: transfer-encoding}]\n"),
       "routes[0].policies[0].request_headers[0].to", "transfer-encoding", false, "framing or hop-by-hop field"},
      {"unknown variable", withPolicies("      - request_headers: [{set: X-A, value: '$(user)'}]\n"),
       "routes[0].policies[0].request_headers[0].value", "'$(user)'", false, "unknown variable \"user\""},
      {"stray dollar", withPolicies("      - request_headers: [{set: X-A, value: 'a$b'}]\n"),
       "routes[0].policies[0].request_headers[0].value", "'a$b'", false, "'$' at offset 1"},
      {"missing value", withPolicies("      - request_headers: [{set: X-A}]\n"),
       "routes[0].policies[0].request_headers[0].value", "{set", false, "missing required key \"value\""},
      {"remove with value", withPolicies("      - request_headers: [{remove: X-A, value: b}]\n"),
       "routes[0].policies[0].request_headers[0].value", "value", false, "remove takes no value"},
      {"rename without to", withPolicies("      - request_headers: [{rename: X-A}]\n"),
       "routes[0].policies[0].request_headers[0].to", "{rename", false, "missing required key \"to\""},
      {"two operations", withPolicies("      - request_headers: [{set: X-A, remove: X-B, value: v}]\n"),
       "routes[0].policies[0].request_headers[0].remove", "remove", false, "set and remove cannot be combined"},
      {"no operation", withPolicies("      - request_headers: [{value: v}]\n"), "routes[0].policies[0].request_headers[0]",
       "{value", false, "needs one of add, set, append, remove, rename"},
      {"typo in operation", withPolicies("      - request_headers: [{sett: X-A, value: v}]\n"),
       "routes[0].policies[0].request_headers[0].sett", "sett", false, "did you mean 'set'?"},
      {"bad name", withPolicies("      - request_headers: [{remove: 'X A'}]\n"),
       "routes[0].policies[0].request_headers[0].remove", "'X A'", false, "a field name must be a non-empty RFC 9110 token"},
      {"empty list", withPolicies("      - response_headers: []\n"), "routes[0].policies[0].response_headers", "[]", false,
       "must not be empty"},
      {"twice on a route",
       withPolicies("      - response_headers: [{remove: A}]\n      - response_headers: [{remove: B}]\n"),
       "routes[0].policies[1].response_headers", "response_headers: [{remove: B", false,
       "a route has at most one response_headers policy"},
      // a template reading the consumer before authentication established it
      {"consumer before key_auth",
       withPolicies("      - request_headers: [{set: X-User, value: '$(consumer)'}]\n      - key_auth: {}\n", consumers()),
       "routes[0].policies[0].request_headers[0].value", "'$(consumer)'", false,
       "request_headers reads $(consumer) before key_auth"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(AuthConfig, PlacementAndIdentityErrors) {
  const std::vector<ErrorCase> cases = {
      {"two jwt policies", withPolicies(jwtLine() + "      - jwt: {keys: [{kid: k2, alg: HS256, secret: " +
                                        std::string(kHsSecret) + "}]}\n"),
       "routes[0].policies[1].jwt", "jwt: {keys: [{kid: k2", false,
       "a route has at most one jwt policy; the first is routes[0].policies[0].jwt at test.yaml:10:9"},
      {"two key_auth policies", withPolicies("      - key_auth: {}\n      - key_auth: {realm: b}\n", consumers()),
       "routes[0].policies[1].key_auth", "key_auth: {realm", false, "at most one key_auth policy"},
      // a rate-limit key on the consumer before the policy that establishes it
      {"rate limit on consumer before key_auth",
       withPolicies("      - rate_limit: {algorithm: gcra, limit: 1/s, key: consumer}\n      - key_auth: {}\n",
                    consumers()),
       "routes[0].policies[0].rate_limit.key", "consumer}", false,
       "rate_limit reads key consumer before key_auth (routes[0].policies[1].key_auth at test.yaml:"},
      {"identity unknown key", withPolicies(jwtLine(), "identity_headers: {consumer: X-C}\n"), "identity_headers.consumer",
       "consumer:", false, "unknown key \"consumer\""},
      // a name used for two facts: the core's message, in the YAML's words
      {"identity name twice", withPolicies(jwtLine(), "identity_headers: {groups: x-consumer-id}\n"),
       "identity_headers.groups", "x-consumer-id", false, "\"x-consumer-id\" is already used by consumer_id"},
      {"identity bad name", withPolicies(jwtLine(), "identity_headers: {user_id: 'X User'}\n"), "identity_headers.user_id",
       "'X User'", false, "a field name must be an RFC 9110 token"},
      {"identity strip twice", withPolicies(jwtLine(), "identity_headers: {strip_only: [X-A, x-a]}\n"),
       "identity_headers.strip_only[1]", "x-a]", false, "duplicate header"},
  };
  for (const ErrorCase& c : cases) expectError(c);
}

TEST(AuthConfig, SecretsNeverAppearInMessages) {
  // Keys and HMAC secrets that are wrong in every way the loader checks: no message quotes them.
  const std::string dup = "DupKey-Secret-0123456789abcdef";
  const std::vector<std::string> secrets = {dup, "Short-Secret", "Spaced Secret Key 0123456789", "Not*Base64*Secret",
                                            "Bare-List-Secret-0123456789"};
  const std::string yaml = withPolicies(
      "      - jwt: {keys: [{kid: a, alg: HS256, secret: Short-Secret},"
      " {kid: b, alg: HS256, secret: 'Not*Base64*Secret', secret_encoding: base64}]}\n"
      "      - key_auth: {}\n",
      "consumers:\n"
      "  - id: a\n    keys: [" + dup + ", 'Spaced Secret Key 0123456789']\n"
      "  - id: b\n    keys: [" + dup + "]\n"
      "  - id: c\n    keys: Bare-List-Secret-0123456789\n");
  const LoadResult r = loadConfigString(yaml, kFile);
  ASSERT_FALSE(r.ok());
  EXPECT_GE(r.diagnostics.size(), 5U) << dump(r);
  for (const std::string& s : secrets) EXPECT_EQ(r.errorText().find(s), std::string::npos) << s << "\n" << dump(r);
}

TEST(AuthConfig, EveryErrorOfOneFileIsReported) {
  // Errors in consumers, jwt, acl and cors of one file: all reported, in file order.
  const std::string yaml = withPolicies("      - jwt: {keys: [{alg: HS256, secret: short}]}\n"
                                        "      - acl: {allow: [a], deny: [a]}\n"
                                        "      - cors: {origins: ['*'], credentials: true}\n",
                                        "consumers:\n  - id: x\n  - id: x\n");
  const LoadResult r = loadConfigString(yaml, kFile);
  ASSERT_FALSE(r.ok());
  std::vector<std::string> paths;
  for (const Diagnostic& d : r.diagnostics) paths.push_back(d.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"consumers[1].id", "routes[0].policies[0].jwt.keys[0].secret",
                                             "routes[0].policies[1].acl.deny[0]", "routes[0].policies[2].cors",
                                             "routes[0].policies[2].cors.credentials"}))
      << dump(r);
}

TEST(AuthConfig, DocumentedErrorFileGivesTheDocumentedErrors) {
  // tests/gateway/config/data/auth_errors.yaml is quoted in docs/config-reference.md#errors.
  const LoadResult r = loadConfigFile(std::string(GATELAB_SOURCE_DIR) + "/tests/gateway/config/data/auth_errors.yaml");
  std::vector<std::string> paths;
  for (const Diagnostic& d : r.diagnostics) paths.push_back(d.path);
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "consumers[0].groups[1]", "consumers[1].keys[0]", "identity_headers.groups",
                       "routes[0].policies[0].acl", "routes[0].policies[1].key_auth.anonymous",
                       "routes[0].policies[2].jwt.keys[0].secret", "routes[0].policies[2].jwt.keys[1].secret",
                       "routes[0].policies[2].jwt.jwks_file", "routes[0].policies[3].cors",
                       "routes[0].policies[3].cors.credentials", "routes[0].policies[4].request_headers[0].value",
                       "routes[0].policies[4].request_headers[1].remove"}))
      << dump(r);
  EXPECT_EQ(r.errorText().find("alice-key-0123456789abcdef"), std::string::npos) << "a key in a message";
  EXPECT_EQ(r.errorText().find("too-short"), std::string::npos) << "a secret in a message";
}

TEST(AuthConfig, ExampleAuthYamlLoadsAndBuilds) {
  // examples/auth.yaml shows every access and shaping key; it loads and builds.
  const LoadResult r = loadConfigFile(std::string(GATELAB_SOURCE_DIR) + "/examples/auth.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  auto runtime = build(r.config);
  ASSERT_TRUE(runtime);
  std::size_t jwt = 0;
  std::size_t keyAuth = 0;
  for (const RouteRuntime& route : runtime->routes) {
    jwt += route.jwt != nullptr ? 1U : 0U;
    keyAuth += route.keyAuth ? 1U : 0U;
  }
  EXPECT_GE(jwt, 1U);
  EXPECT_GE(keyAuth, 1U);
}

}  // namespace
}  // namespace gatelab::config
