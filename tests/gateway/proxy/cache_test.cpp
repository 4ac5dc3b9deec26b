// The response cache on loopback: a miss is stored and the next request is a hit (Age,
// X-Cache-Status), HEAD from the GET entry, no-store answers are not kept, Vary keeps one entry
// per variant, an expired entry hides an upstream failure within stale_if_error (manual clock),
// the admin API purges, and /metrics counts every status.

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "tests/gateway/proxy/proxy_test_support.hpp"

namespace gatelab::proxy {
namespace {

using namespace testing;
using namespace std::chrono_literals;

std::string config(const std::string& url) {
  return R"yaml(version: 1
services:
  - name: app
    targets: [)yaml" + url + R"yaml(]
routes:
  - name: cached
    match: { path_prefix: /c }
    service: app
    policies:
      - cache: { ttl: 1m, statuses: [200], content_types: [application/json], stale_if_error: 5m }
)yaml";
}

struct Upstream {
  std::atomic<int> calls{0};
  std::atomic<bool> failing{false};
  TestUpstream server{[this](const Request& r) {
    ++calls;
    if (failing) return Reply::status(503);
    Reply reply = Reply::ok("{\"n\":" + std::to_string(calls.load()) + "}");
    reply.response.set(http::field::content_type, "application/json");
    if (r.target() == "/c/private") reply.response.set(http::field::cache_control, "no-store");
    if (r.target() == "/c/lang") {
      reply.response.set(http::field::vary, "Accept-Language");
      reply.response.body() = "{\"lang\":\"" + std::string(r[http::field::accept_language]) + "\"}";
    }
    reply.response.prepare_payload();
    return reply;
  }};
};

TEST(ProxyCache, AMissIsStoredAndTheNextRequestIsAHit) {
  Upstream up;
  TestProxy proxy(config(up.server.url()));
  TestClient client(proxy.port());
  Response res = client.get("/c/a");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res["X-Cache-Status"], "Miss");
  EXPECT_EQ(res.body(), "{\"n\":1}");
  res = client.get("/c/a");
  EXPECT_EQ(res["X-Cache-Status"], "Hit");
  EXPECT_EQ(res.body(), "{\"n\":1}");
  EXPECT_FALSE(res[http::field::age].empty());
  EXPECT_EQ(up.calls.load(), 1);
  {
    // HEAD from the GET entry: the GET's length, no body (read raw: the connection then closes).
    TestClient raw(proxy.port());
    const std::string text = raw.raw("HEAD /c/a HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n\r\n");
    EXPECT_NE(text.find("X-Cache-Status: Hit"), std::string::npos) << text;
    EXPECT_NE(text.find("Content-Length: 7"), std::string::npos) << text;
    EXPECT_EQ(text.substr(text.find("\r\n\r\n") + 4), "");
  }

  // no-store: forwarded every time.
  EXPECT_EQ(client.get("/c/private")["X-Cache-Status"], "Miss");
  EXPECT_EQ(client.get("/c/private")["X-Cache-Status"], "Miss");
  EXPECT_EQ(up.calls.load(), 3);
  // only-if-cached with nothing stored: 504, and the upstream is not asked (RFC 9111 §5.2.1.7).
  const int before = up.calls.load();
  res = client.get("/c/never", {{"Cache-Control", "only-if-cached"}});
  EXPECT_EQ(res.result_int(), 504);
  EXPECT_EQ(up.calls.load(), before);
  // A request that asks not to be served from cache bypasses it.
  EXPECT_EQ(client.get("/c/a", {{"Cache-Control", "no-cache"}})["X-Cache-Status"], "Bypass");

  // Vary: one entry per Accept-Language.
  EXPECT_EQ(client.get("/c/lang", {{"Accept-Language", "fr"}}).body(), "{\"lang\":\"fr\"}");
  EXPECT_EQ(client.get("/c/lang", {{"Accept-Language", "de"}}).body(), "{\"lang\":\"de\"}");
  res = client.get("/c/lang", {{"Accept-Language", "fr"}});
  EXPECT_EQ(res["X-Cache-Status"], "Hit");
  EXPECT_EQ(res.body(), "{\"lang\":\"fr\"}");

  // The admin API purges; the next request goes upstream again.
  TestClient admin(proxy.adminPort());
  Request purge{http::verb::post, "/admin/cache/purge?route=cached", 11};
  res = admin.send(purge);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_NE(res.body().find("\"purged\":"), std::string::npos) << res.body();
  EXPECT_EQ(client.get("/c/a")["X-Cache-Status"], "Miss");
  purge.target("/admin/cache/purge?route=nope");
  EXPECT_EQ(admin.send(purge).result_int(), 404);

  const std::string m = admin.get("/metrics").body();
  EXPECT_NE(m.find("gatelab_cache_requests_total{route=\"cached\",status=\"Hit\"} 3"), std::string::npos) << m;
  EXPECT_NE(m.find("gatelab_cache_requests_total{route=\"cached\",status=\"Bypass\"} 1"), std::string::npos);
}

TEST(ProxyCache, AnExpiredEntryHidesAFailureWithinStaleIfError) {
  Upstream up;
  const core::TimePoint base = monotonicNow();
  std::atomic<std::int64_t> offset{0};
  ServerOptions o;
  o.clock = [base, &offset] { return base + core::Duration{offset.load()}; };
  TestProxy proxy(config(up.server.url()), o);
  TestClient client(proxy.port());
  ASSERT_EQ(client.get("/c/s")["X-Cache-Status"], "Miss");
  up.failing = true;
  offset = std::chrono::nanoseconds(2min).count();  // past the 1m ttl, inside the 5m stale window
  Response res = client.get("/c/s");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res["X-Cache-Status"], "Stale");
  EXPECT_EQ(res.body(), "{\"n\":1}");
  offset = std::chrono::nanoseconds(10min).count();  // the window closed: the failure shows
  res = client.get("/c/s");
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(res["X-Cache-Status"], "Miss");
}

}  // namespace
}  // namespace gatelab::proxy
