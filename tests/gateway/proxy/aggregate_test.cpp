// An aggregate (backend-for-frontend) route on loopback: its parts are called in parallel with
// the request's forwarded fields, their JSON bodies merged under their names; a failing part is
// null, left out, or fails the page (502) as configured; a part's timeout bounds it.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/gateway/proxy/proxy_test_support.hpp"

namespace gatelab::proxy {
namespace {

using namespace testing;

Reply json(std::string body) {
  Reply r = Reply::ok(std::move(body));
  r.response.set(http::field::content_type, "application/json");
  return r;
}

std::string config(const std::string& users, const std::string& orders, const std::string& ads,
                   const std::string& profileFailure = "fail") {
  return R"yaml(version: 1
services:
  - name: users
    targets: [)yaml" + users + R"yaml(]
  - name: orders
    targets: [)yaml" + orders + R"yaml(]
  - name: ads
    targets: [)yaml" + ads + R"yaml(]
routes:
  - name: home
    match: { path_prefix: /home }
    service: users
    policies:
      - request_headers:
          - { set: X-Page, value: home }
      - aggregate:
          parts:
            - { name: profile, path: /me, on_failure: )yaml" + profileFailure + R"yaml(, timeout: 2s }
            - { name: orders, service: orders, path: /orders, forward_query: true, on_failure: null }
            - { name: ads, service: ads, path: /ads, on_failure: omit, timeout: 100ms }
)yaml";
}

TEST(ProxyAggregate, PartsAreCalledWithTheRequestsFieldsAndMergedUnderTheirNames) {
  TestUpstream users([](const Request&) { return json(R"({"name": "Ada"})"); });
  TestUpstream orders([](const Request&) { return json(R"([{"id": 1}, {"id": 2}])"); });
  TestUpstream ads([](const Request&) { return json(R"(["banner"])"); });
  TestProxy proxy(config(users.url(), orders.url(), ads.url()));
  TestClient client(proxy.port());
  const Response res = client.get("/home?page=2", {{"Accept-Language", "fr"}});
  ASSERT_EQ(res.result_int(), 200) << res;
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_EQ(nlohmann::json::parse(res.body()),
            nlohmann::json::parse(R"({"profile":{"name":"Ada"},"orders":[{"id":1},{"id":2}],"ads":["banner"]})"));

  const std::vector<Request> u = users.received();
  const std::vector<Request> o = orders.received();
  ASSERT_EQ(u.size(), 1U);
  ASSERT_EQ(o.size(), 1U);
  EXPECT_EQ(u[0].method(), http::verb::get);
  EXPECT_EQ(u[0].target(), "/me");             // no forward_query
  EXPECT_EQ(o[0].target(), "/orders?page=2");  // forward_query
  for (const Request* r : {&u[0], &o[0]}) {
    EXPECT_EQ((*r)["Accept-Language"], "fr");
    EXPECT_EQ((*r)["X-Page"], "home");
    EXPECT_FALSE((*r)["X-Request-ID"].empty());
  }
  EXPECT_EQ(u[0]["X-Request-ID"], o[0]["X-Request-ID"]);  // one request, one id
}

TEST(ProxyAggregate, FailedPartsAreNullOmittedOrFailThePage) {
  TestUpstream users([](const Request&) { return json(R"({"name": "Ada"})"); });
  TestUpstream orders([](const Request&) { return Reply::status(503); });
  TestUpstream ads([](const Request&) { return Reply::hang(); });  // past its 100ms timeout
  {
    TestProxy proxy(config(users.url(), orders.url(), ads.url()));
    TestClient client(proxy.port());
    const Response res = client.get("/home");
    ASSERT_EQ(res.result_int(), 200) << res;
    EXPECT_EQ(nlohmann::json::parse(res.body()), nlohmann::json::parse(R"({"profile":{"name":"Ada"},"orders":null})"));
  }
  // The profile part is required (on_failure: fail): a body that is not JSON fails the page.
  TestUpstream html([](const Request&) { return Reply::ok("<html>hi</html>"); });
  TestUpstream fine([](const Request&) { return json("[]"); });
  TestProxy proxy(config(html.url(), fine.url(), fine.url()));
  TestClient client(proxy.port());
  const Response res = client.get("/home");
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(nlohmann::json::parse(res.body()), nlohmann::json::parse(R"({"error":"part_failed","part":"profile"})"));
}

}  // namespace
}  // namespace gatelab::proxy
