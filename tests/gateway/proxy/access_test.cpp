// The live proxy enforcing access and shaping policies on loopback: API keys and JWTs (PyJWT
// fixtures) with 401 challenges, the ACL's 403, identity headers that replace whatever the client
// claimed, hidden credentials (header and query), request and response header templates sharing
// one $(uuid), CORS preflights answered and CORS fields on every answer, and the verdicts in
// /metrics and the access log.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "tests/gateway/proxy/proxy_test_support.hpp"

namespace gatelab::proxy {
namespace {

using namespace testing;

const nlohmann::json& fixtures() {
  static const nlohmann::json doc = [] {
    std::ifstream in(std::string(GATELAB_SOURCE_DIR) + "/tests/gateway/core/auth/data/fixtures.json");
    return nlohmann::json::parse(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  }();
  return doc;
}
std::string token(const std::string& name) { return fixtures().at("tokens").at(name).get<std::string>(); }

std::string config(const std::string& upstream) {
  const std::string secret = fixtures().at("secrets").at("hs256_base64url").get<std::string>();
  return R"yaml(version: 1
consumers:
  - id: alice
    groups: [staff, ops]
    keys: [{key: alice-key-0123456789abcdef, id: alice-laptop}]
  - id: mallory
    groups: [banned]
    keys: [mallory-key-0123456789abcdef]
  - id: user-42
    groups: [staff]
services:
  - name: app
    targets: [)yaml" + upstream + R"yaml(]
routes:
  - name: keys
    match: { path_prefix: /keys }
    service: app
    policies:
      - cors: { origins: [https://app.example], methods: [GET, PUT], allow_headers: [apikey], expose_headers: [X-Call-ID], max_age: 10m }
      - key_auth: { key_sources: [header:apikey, query:apikey], hide_credentials: true }
      - acl: { deny: [banned] }
      - request_headers:
          - { set: X-Caller, value: "$(consumer) via $(route)" }
          - { set: X-Call-ID, value: "$(uuid)" }
          - { remove: X-Debug }
      - response_headers:
          - { set: X-Call-ID, value: "$(uuid)" }
          - { remove: X-Internal }
  - name: tokens
    match: { path_prefix: /tokens }
    service: app
    policies:
      - jwt: { keys: [{kid: hs256, alg: HS256, secret: )yaml" + secret + R"yaml(, secret_encoding: base64url}], required_claims: [], consumer_claim: sub, realm: orders }
      - acl: { scopes: [read], method_scopes: [{methods: [DELETE], scopes: [admin]}] }
)yaml";
}

Reply upstreamReply(const Request&) {
  Reply r = Reply::ok("hello");
  r.response.set("X-Internal", "secret-topology");
  r.response.set(http::field::vary, "Accept-Encoding");
  return r;
}

TEST(ProxyAccess, AKeyIdentifiesTheConsumerAndTheUpstreamSeesOnlyTheGatewaysIdentity) {
  TestUpstream up(upstreamReply);
  TestProxy proxy(config(up.url()));
  TestClient client(proxy.port());
  const Response res = client.get("/keys/a?apikey=alice-key-0123456789abcdef&x=1",
                                  {{"apikey", "alice-key-0123456789abcdef"},
                                   {"X-Consumer-ID", "admin"},           // spoofed: must not arrive
                                   {"X-Consumer-Groups", "root"},        // spoofed
                                   {"X-Consumer-Username", "admin"},     // stripped though never set
                                   {"X-Debug", "1"},
                                   {"Origin", "https://app.example"}});
  ASSERT_EQ(res.result_int(), 200) << res;
  const std::vector<Request> received = up.received();
  ASSERT_EQ(received.size(), 1U);
  const Request& got = received[0];
  EXPECT_EQ(got.target(), "/keys/a?x=1");  // the key's query parameter hidden
  EXPECT_EQ(got.count("apikey"), 0U);      // and its header
  EXPECT_EQ(got.count("X-Consumer-ID"), 1U);
  EXPECT_EQ(got["X-Consumer-ID"], "alice");
  EXPECT_EQ(got["X-Consumer-Groups"], "staff, ops");
  EXPECT_EQ(got["X-Credential-Identifier"], "alice-laptop");
  EXPECT_EQ(got.count("X-Consumer-Username"), 0U);
  EXPECT_EQ(got.count("X-Anonymous-Consumer"), 0U);
  EXPECT_EQ(got["X-Caller"], "alice via keys");
  EXPECT_EQ(got.count("X-Debug"), 0U);
  const std::string callId(got["X-Call-ID"]);
  EXPECT_TRUE(std::regex_match(callId, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << callId;
  EXPECT_FALSE(got["X-Request-ID"].empty());  // the gateway's own fields are still there
  // The answer: the same UUID, the upstream's X-Internal removed, CORS fields with Vary merged.
  EXPECT_EQ(res["X-Call-ID"], callId);
  EXPECT_EQ(res.count("X-Internal"), 0U);
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "https://app.example");
  EXPECT_EQ(res["Access-Control-Expose-Headers"], "X-Call-ID");
  EXPECT_NE(std::string(res[http::field::vary]).find("Origin"), std::string::npos) << res[http::field::vary];
  EXPECT_NE(std::string(res[http::field::vary]).find("Accept-Encoding"), std::string::npos);
}

TEST(ProxyAccess, WithoutAValidKeyTheAnswerIs401WithAChallengeAndNothingIsForwarded) {
  TestUpstream up(upstreamReply);
  TestProxy proxy(config(up.url()));
  TestClient client(proxy.port());
  Response res = client.get("/keys/a", {{"X-Consumer-ID", "alice"}, {"Origin", "https://app.example"}});
  EXPECT_EQ(res.result_int(), 401);
  EXPECT_EQ(res[http::field::www_authenticate], "Key realm=\"gatelab\"");
  EXPECT_NE(res.body().find("missing_key"), std::string::npos) << res.body();
  // A browser can read the refusal: the CORS fields are on it too.
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "https://app.example");

  res = client.get("/keys/a", {{"apikey", "guessed-0123456789abcdef"}});
  EXPECT_EQ(res.result_int(), 401);
  EXPECT_NE(res.body().find("unknown_key"), std::string::npos);

  res = client.get("/keys/a", {{"apikey", "mallory-key-0123456789abcdef"}});
  EXPECT_EQ(res.result_int(), 403);
  EXPECT_NE(res.body().find("group_denied"), std::string::npos);
  EXPECT_TRUE(up.received().empty());

  TestClient admin(proxy.adminPort());
  const std::string metrics = admin.get("/metrics").body();
  EXPECT_NE(metrics.find("gatelab_access_decisions_total{route=\"keys\",policy=\"key_auth\",result=\"missing_key\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("gatelab_access_decisions_total{route=\"keys\",policy=\"key_auth\",result=\"unknown_key\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("gatelab_access_decisions_total{route=\"keys\",policy=\"acl\",result=\"group_denied\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("gatelab_requests_total{route=\"keys\",code=\"401\"} 2"), std::string::npos);
}

TEST(ProxyAccess, APreflightIsAnsweredByTheGateway) {
  TestUpstream up(upstreamReply);
  TestProxy proxy(config(up.url()));
  TestClient client(proxy.port());
  Request pre{http::verb::options, "/keys/a", 11};
  pre.set("Origin", "https://app.example");
  pre.set("Access-Control-Request-Method", "PUT");
  pre.set("Access-Control-Request-Headers", "apikey");
  Response res = client.send(pre);
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "https://app.example");
  EXPECT_NE(std::string(res["Access-Control-Allow-Methods"]).find("PUT"), std::string::npos);
  EXPECT_EQ(res["Access-Control-Allow-Headers"], "apikey");
  EXPECT_EQ(res["Access-Control-Max-Age"], "600");

  pre.set("Origin", "https://evil.example");
  res = client.send(pre);
  EXPECT_EQ(res.result_int(), 403);
  EXPECT_EQ(res.count("Access-Control-Allow-Origin"), 0U);
  EXPECT_TRUE(up.received().empty());
}

// A route whose only answer-editing policy is cors: a request without an Origin is not a CORS
// request, so its answer's fields go through untouched (repeated fields in order, the upstream's
// own fields, the rate-limit fields, no CORS fields); an actual CORS request's answer gets the CORS
// fields beside the same upstream fields.
TEST(ProxyAccess, CorsLeavesTheAnswersOfRequestsWithoutAnOriginAlone) {
  TestUpstream up([](const Request&) {
    Reply r = Reply::ok("hello");
    r.response.insert(http::field::set_cookie, "a=1");
    r.response.insert(http::field::set_cookie, "b=2");
    r.response.set("X-Up", "kept");
    return r;
  });
  TestProxy proxy("version: 1\nservices:\n  - name: app\n    targets: [" + up.url() +
                  "]\nroutes:\n  - name: api\n    match: { path_prefix: / }\n    service: app\n    policies:\n"
                  "      - cors: { origins: [https://app.example] }\n"
                  "      - rate_limit: { name: per-ip, algorithm: token_bucket, limit: 1000/s, key: ip }\n");
  TestClient client(proxy.port());
  auto cookies = [](const Response& res) {
    std::vector<std::string> out;
    for (const auto& f : res) {
      if (f.name() == http::field::set_cookie) out.emplace_back(f.value());
    }
    return out;
  };
  for (const bool withOrigin : {false, true, false}) {
    SCOPED_TRACE(withOrigin ? "with Origin" : "without Origin");
    std::vector<std::pair<std::string, std::string>> fields;
    if (withOrigin) fields.emplace_back("Origin", "https://app.example");
    const Response res = client.get("/a", fields);
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(cookies(res), (std::vector<std::string>{"a=1", "b=2"}));
    EXPECT_EQ(res["X-Up"], "kept");
    EXPECT_EQ(res["X-RateLimit-Limit"], "1000");
    EXPECT_EQ(res.count("Access-Control-Allow-Origin"), withOrigin ? 1U : 0U);
    if (withOrigin) {
      EXPECT_EQ(res["Access-Control-Allow-Origin"], "https://app.example");
    }
    EXPECT_EQ(res.body(), "hello");
  }
}

TEST(ProxyAccess, AVerifiedJwtTellsTheUpstreamWhoAndWhatScopes) {
  TestUpstream up(upstreamReply);
  const std::string log = (std::filesystem::temp_directory_path() /
                           ("gatelab-access-" + std::to_string(::getpid()) + ".log"))
                              .string();
  ServerOptions o;
  o.accessLog = log;
  {
    TestProxy proxy(config(up.url()), o);
    TestClient client(proxy.port());
    // "no_exp" never expires (required_claims: []), so it is valid at the real clock's time.
    Response res = client.get("/tokens/1", {{"Authorization", "Bearer " + token("no_exp")},
                                            {"X-Authenticated-Userid", "root"}});
    ASSERT_EQ(res.result_int(), 200) << res;
    const std::vector<Request> received = up.received();
    ASSERT_EQ(received.size(), 1U);
    const Request& got = received[0];
    EXPECT_EQ(got["X-Authenticated-Userid"], "user-42");
    EXPECT_EQ(got["X-Authenticated-Scope"], "read write");
    EXPECT_EQ(got["X-Consumer-ID"], "user-42");
    EXPECT_EQ(got["X-Consumer-Groups"], "staff");

    res = client.get("/tokens/1", {{"Authorization", "Bearer " + token("expired")}});
    EXPECT_EQ(res.result_int(), 401);
    const std::string challenge(res[http::field::www_authenticate]);
    EXPECT_EQ(challenge.rfind("Bearer realm=\"orders\", error=\"invalid_token\"", 0), 0U) << challenge;

    res = client.get("/tokens/1", {{"Authorization", "Bearer " + token("alg_none")}});
    EXPECT_EQ(res.result_int(), 401);

    Request del{http::verb::delete_, "/tokens/1", 11};
    del.set(http::field::authorization, "Bearer " + token("no_exp"));
    res = client.send(del);
    EXPECT_EQ(res.result_int(), 403);
    EXPECT_NE(std::string(res[http::field::www_authenticate]).find("error=\"insufficient_scope\""), std::string::npos);
    EXPECT_EQ(up.received().size(), 1U);
  }
  // The access log says who was admitted and why others were not.
  std::ifstream in(log);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  std::filesystem::remove(log);
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(lines[0].value("user", ""), "user-42");
  EXPECT_EQ(lines[1].value("outcome", ""), "unauthorized");
  EXPECT_EQ(lines[1].value("access_policy", ""), "jwt");
  EXPECT_EQ(lines[1].value("access_reason", ""), "expired");
  EXPECT_EQ(lines[3].value("outcome", ""), "forbidden");
  EXPECT_EQ(lines[3].value("access_reason", ""), "missing_scope");
}

}  // namespace
}  // namespace gatelab::proxy
