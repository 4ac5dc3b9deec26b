// response_projection on loopback: a 2xx JSON answer is projected — a large one too, which the
// proxy would otherwise stream (it is read whole up to the projection's limit) — while other
// answers (not JSON, errors) pass unchanged; an aggregate's merged body is projected as well.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/gateway/proxy/proxy_test_support.hpp"

namespace gatelab::proxy {
namespace {

using namespace testing;

Reply json(std::string body, unsigned status = 200) {
  Reply r = Reply::ok(std::move(body));
  r.response.result(status);
  r.response.set(http::field::content_type, "application/json; charset=utf-8");
  r.response.prepare_payload();
  return r;
}

// A list of `n` items, each with an id, a price and a large debug blob.
std::string items(int n) {
  nlohmann::json doc = {{"id", 7}, {"internal", "x"}, {"items", nlohmann::json::array()}};
  for (int i = 0; i < n; ++i)
    doc["items"].push_back({{"id", i}, {"price", 1.1}, {"debug", std::string(200, 'd')}});
  // Prices written as a shop's backend writes them, "1.10": the projection must copy them as is.
  std::string text = doc.dump();
  for (std::size_t at = text.find("\"price\":1.1"); at != std::string::npos; at = text.find("\"price\":1.1", at + 1))
    text.insert(at + 11, "0");
  return text;
}

std::string config(const std::string& url) {
  return R"yaml(version: 1
services:
  - name: app
    targets: [)yaml" + url + R"yaml(]
routes:
  - name: mobile
    match: { path_prefix: /mobile }
    service: app
    policies:
      - response_projection:
          keep: [id, items]
          drop: ["items[].debug"]
          max_array_items: 3
  - name: page
    match: { path_prefix: /page }
    service: app
    policies:
      - aggregate:
          parts:
            - { name: a, path: /mobile/list }
            - { name: b, path: /mobile/list }
      - response_projection:
          keep: [a]
)yaml";
}

TEST(ProxyProjection, JsonAnswersAreProjectedLargeOnesIncluded) {
  TestUpstream up([](const Request& r) {
    if (r.target() == "/mobile/big") return json(items(1000));  // ~250 KB: beyond the body buffer
    if (r.target() == "/mobile/text") return Reply::ok("not json");
    if (r.target() == "/mobile/error") return json(items(2), 500);
    return json(items(5));
  });
  TestProxy proxy(config(up.url()));
  TestClient client(proxy.port());
  const auto expected = nlohmann::json::parse(
      R"({"id":7,"items":[{"id":0,"price":1.10},{"id":1,"price":1.10},{"id":2,"price":1.10}]})");

  Response res = client.get("/mobile/list");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(nlohmann::json::parse(res.body()), expected);
  EXPECT_NE(res.body().find("1.10"), std::string::npos);  // numbers copied as written

  res = client.get("/mobile/big");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(nlohmann::json::parse(res.body()), expected);
  EXPECT_EQ(res[http::field::content_length], std::to_string(res.body().size()));

  res = client.get("/mobile/text");
  EXPECT_EQ(res.body(), "not json");
  res = client.get("/mobile/error");
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_EQ(res.body(), items(2));  // errors pass as they are

  res = client.get("/page");
  ASSERT_EQ(res.result_int(), 200);
  const auto page = nlohmann::json::parse(res.body());
  EXPECT_TRUE(page.contains("a"));
  EXPECT_FALSE(page.contains("b"));
}

}  // namespace
}  // namespace gatelab::proxy
