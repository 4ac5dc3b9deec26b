// `store: redis` in the live proxy, against a real redis-server started by the test (free port on
// loopback, no persistence): two gateways sharing one Redis enforce one global limit; the script
// is re-sent when Redis forgot it; a Redis outage fails open or closed as configured, is counted,
// and the policy recovers by itself when Redis returns; a Redis that does not answer costs each
// request at most redis.timeout.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "tests/gateway/proxy/proxy_test_support.hpp"
#include "tests/support/redis_server.hpp"

namespace gatelab::proxy {
namespace {

using namespace testing;
using namespace std::chrono_literals;
using RedisServer = gatelab::testing::RedisServer;
using RedisConnection = gatelab::testing::RedisConnection;

std::string configFor(const std::string& upstream, std::uint16_t redisPort, const std::string& prefix,
                      const std::string& extra = "", const std::string& redisExtra = "") {
  return "version: 1\nredis: { address: 127.0.0.1:" + std::to_string(redisPort) + ", key_prefix: " + prefix +
         redisExtra + " }\nservices:\n  - name: app\n    targets: [" + upstream +
         "]\nroutes:\n  - name: api\n    match: { path_prefix: /api }\n    service: app\n    policies:\n"
         "      - rate_limit: { name: global, algorithm: fixed_window, limit: 5/min, key: global, store: redis" +
         extra + " }\n";
}

/// A fixed clock in the middle of a minute: every request of a test falls in one window.
ServerOptions fixedClock() {
  ServerOptions o;
  o.threads = 2;
  const core::TimePoint t = std::chrono::floor<std::chrono::minutes>(monotonicNow()) + 20s;
  o.clock = [t] { return t; };
  return o;
}

unsigned long long metricValue(const std::string& text, const std::string& series) {
  const std::size_t at = text.find(series + " ");
  if (at == std::string::npos) return 0;
  return std::stoull(text.substr(at + series.size() + 1));
}

TEST(RedisStore, TwoGatewaysSharingOneRedisEnforceOneGlobalLimit) {
  RedisServer redis;
  TestUpstream up;
  const std::string yaml = configFor(up.url(), redis.port(), "two");
  TestProxy a(yaml, fixedClock());
  TestProxy b(yaml, fixedClock());
  TestClient ca(a.port());
  TestClient cb(b.port());
  int passed = 0, limited = 0;
  for (int i = 0; i < 8; ++i) {
    const Response r = (i % 2 == 0 ? ca : cb).get("/api/x");
    if (r.result_int() == 200) ++passed;
    if (r.result_int() == 429) {
      ++limited;
      EXPECT_EQ(r["X-RateLimit-Limit"], "5");
      EXPECT_EQ(r["X-RateLimit-Remaining"], "0");
      EXPECT_FALSE(r["Retry-After"].empty());
    }
  }
  // 5 per minute for the gateway pair, not 5 per instance (which would admit all 8).
  EXPECT_EQ(passed, 5);
  EXPECT_EQ(limited, 3);
  EXPECT_EQ(metricValue(a.server->metricsText(),
                        "gatelab_ratelimit_store_calls_total{route=\"api\",policy=\"global\",result=\"ok\"}"),
            4u);
  // The counter lives in Redis under the documented prefix, with an expiry.
  RedisConnection conn(redis.port());
  const auto keys = conn.command({"KEYS", "two:rl:global:*"});
  ASSERT_NE(keys, nullptr);
  ASSERT_EQ(keys->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(keys->elements, 1u);
  const auto ttl = conn.command({"PTTL", std::string(keys->element[0]->str, keys->element[0]->len)});
  ASSERT_NE(ttl, nullptr);
  EXPECT_GT(ttl->integer, 0);
}

TEST(RedisStore, AForgottenScriptIsSentAgain) {
  RedisServer redis;
  TestUpstream up;
  TestProxy proxy(configFor(up.url(), redis.port(), "flush"), fixedClock());
  TestClient client(proxy.port());
  EXPECT_EQ(client.get("/api/x").result_int(), 200);
  RedisConnection conn(redis.port());
  ASSERT_NE(conn.command({"SCRIPT", "FLUSH"}), nullptr);  // as after a Redis restart
  for (int i = 0; i < 4; ++i) EXPECT_EQ(client.get("/api/x").result_int(), 200) << i;
  EXPECT_EQ(client.get("/api/x").result_int(), 429);
  EXPECT_EQ(metricValue(proxy.server->metricsText(),
                        "gatelab_ratelimit_store_calls_total{route=\"api\",policy=\"global\",result=\"ok\"}"),
            6u);
}

TEST(RedisStore, AnOutageFailsOpenIsCountedAndTheLimitReturnsWithRedis) {
  RedisServer redis;
  TestUpstream up;
  ServerOptions o = fixedClock();
  o.threads = 1;  // one connection: the recovery below is observed on it
  TestProxy proxy(configFor(up.url(), redis.port(), "open"), o);
  TestClient client(proxy.port());
  for (int i = 0; i < 5; ++i) ASSERT_EQ(client.get("/api/x").result_int(), 200);
  ASSERT_EQ(client.get("/api/x").result_int(), 429);

  redis.stop();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.get("/api/x").result_int(), 200) << "fail open, request " << i;
  const std::string during = proxy.server->metricsText();
  EXPECT_EQ(metricValue(during, "gatelab_ratelimit_store_calls_total{route=\"api\",policy=\"global\",result=\"unavailable\"}"),
            5u);

  // Redis returns (empty: no persistence). The gateway reconnects on its own after its back-off;
  // requests pass unlimited until then, and the limit holds again once it is back.
  redis.start();
  int answered = 0;
  bool limitedAgain = false;
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (!limitedAgain && std::chrono::steady_clock::now() < until) {
    const unsigned status = client.get("/api/x").result_int();
    ++answered;
    limitedAgain = status == 429;
  }
  EXPECT_TRUE(limitedAgain) << "after " << answered << " requests";
  EXPECT_GE(metricValue(proxy.server->metricsText(),
                        "gatelab_ratelimit_store_calls_total{route=\"api\",policy=\"global\",result=\"ok\"}"),
            6u + 5u);
}

TEST(RedisStore, AnOutageFailsClosedWhenThePolicySaysSo) {
  RedisServer redis;
  TestUpstream up;
  TestProxy proxy(configFor(up.url(), redis.port(), "closed", ", on_store_error: reject, status: 503"), fixedClock());
  TestClient client(proxy.port());
  EXPECT_EQ(client.get("/api/x").result_int(), 200);
  redis.stop();
  const Response r = client.get("/api/x");
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_EQ(r.body(), "rate limit store unavailable\n");
  EXPECT_EQ(up.received().size(), 1u);
}

TEST(RedisStore, ARedisThatDoesNotAnswerCostsEachRequestTheTimeout) {
  // A listener that never accepts: connections complete in the kernel's backlog, writes are
  // buffered, and no reply ever comes (a hung Redis or a black-holing network).
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::uint16_t port = ntohs(addr.sin_port);

  TestUpstream up;
  TestProxy proxy(configFor(up.url(), port, "hung", "", ", timeout: 30ms"), fixedClock());
  TestClient client(proxy.port());
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(client.get("/api/x").result_int(), 200);  // fail open
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 30ms);
  }
  const std::string m = proxy.server->metricsText();
  EXPECT_EQ(metricValue(m, "gatelab_ratelimit_store_calls_total{route=\"api\",policy=\"global\",result=\"timeout\"}"), 3u);
  ::close(fd);
}

}  // namespace
}  // namespace gatelab::proxy
