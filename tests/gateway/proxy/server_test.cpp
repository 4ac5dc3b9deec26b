// The live proxy on loopback: forwarding and the fields it adds or removes, keep-alive on both
// sides, rate-limit answers and fields, routing answers, upstream failures (connect, timeout,
// reset) with retries to another target, the breaker's fallback, and the request limits and
// smuggling defences (431, 413, 408, 400 with the connection closed).

#include <gtest/gtest.h>

#include <string>

#include "gateway/proxy/http_fields.hpp"
#include "tests/gateway/proxy/proxy_test_support.hpp"

namespace gatelab::proxy {
namespace {

using namespace testing;
using namespace std::chrono_literals;

std::string gateway(const std::string& services, const std::string& routes) {
  return "version: 1\nservices:\n" + services + "routes:\n" + routes;
}

std::string oneService(const std::string& url, const std::string& extra = "") {
  return "  - name: app\n    targets: [" + url + "]\n" + extra;
}

const std::string kApiRoute =
    "  - name: api\n    match: { path_prefix: /api }\n    service: app\n    strip_path: true\n";

/// kApiRoute with one fixed-window rate limit keyed by client IP: `options` is what follows the
/// algorithm in its flow mapping, e.g. "limit: 2/min, headers: both".
std::string apiRouteLimited(const std::string& options, const std::string& name = "per-ip") {
  return kApiRoute + "    policies:\n      - rate_limit: { name: " + name + ", algorithm: fixed_window, key: ip, " +
         options + " }\n";
}

TEST(ProxyServer, ForwardsWithForwardedFieldsRequestIdAndTraceContextAndStripsHopByHop) {
  TestUpstream up;
  TestProxy proxy(gateway(oneService(up.url()), kApiRoute));
  TestClient client(proxy.port());
  const Response res = client.get("/api/users/7?active=1",
                                  {{"X-Forwarded-For", "198.51.100.1"},
                                   {"Connection", "keep-alive, X-Secret-Hop"},
                                   {"X-Secret-Hop", "drop me"},
                                   {"Keep-Alive", "timeout=5"},
                                   {"X-Custom", "kept"},
                                   {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "ok");
  const auto got = up.received();
  ASSERT_EQ(got.size(), 1u);
  const Request& r = got[0];
  EXPECT_EQ(r.target(), "/users/7?active=1");  // strip_path, query kept
  EXPECT_EQ(r[http::field::host], "127.0.0.1:" + std::to_string(up.port()));
  EXPECT_EQ(r["X-Forwarded-For"], "198.51.100.1, 127.0.0.1");
  EXPECT_EQ(r["X-Forwarded-Proto"], "http");
  EXPECT_EQ(r["X-Forwarded-Host"], "gateway.test");
  EXPECT_EQ(r["X-Custom"], "kept");
  EXPECT_EQ(r.count("X-Secret-Hop"), 0u);  // listed in Connection: hop-by-hop for this message
  EXPECT_EQ(r.count("Keep-Alive"), 0u);
  EXPECT_EQ(r["X-Request-ID"].size(), 32u);  // generated: 16 random bytes in hex
  const auto tp = parseTraceParent(r["traceparent"]);
  ASSERT_TRUE(tp.has_value());
  EXPECT_EQ(tp->traceId, "4bf92f3577b34da6a3ce929d0e0e4736");  // the caller's trace continues
  EXPECT_NE(tp->parentId, "00f067aa0ba902b7");                  // under this hop's own span
  EXPECT_EQ(tp->flags, 1);
}

// The upstream's hop-by-hop fields stay on its connection: the fixed ones and those its
// Connection field lists (any case); the others reach the client.
TEST(ProxyServer, StripsTheUpstreamsHopByHopFields) {
  TestUpstream up([](const Request&) {
    Reply r = Reply::ok("fine");
    r.response.set(http::field::connection, "keep-alive, X-Up-Hop ,x-other-hop");
    r.response.set("Keep-Alive", "timeout=5");
    r.response.set("X-Up-Hop", "drop me");
    r.response.insert("X-Other-Hop", "drop me too");
    r.response.insert("x-other-hop", "and me");
    r.response.set("Proxy-Authenticate", "Basic");
    r.response.set("X-Up-Kept", "kept");
    return r;
  });
  TestProxy proxy(gateway(oneService(up.url()), kApiRoute));
  TestClient client(proxy.port());
  const Response res = client.get("/api/x");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "fine");
  for (const char* gone : {"Keep-Alive", "X-Up-Hop", "X-Other-Hop", "Proxy-Authenticate"}) EXPECT_EQ(res.count(gone), 0u) << gone;
  EXPECT_EQ(res["X-Up-Kept"], "kept");
  EXPECT_EQ(res[http::field::content_type], "text/plain");
  EXPECT_TRUE(res.keep_alive());
}

TEST(ProxyServer, KeepsAClientRequestIdAndStartsATraceWhenThereIsNone) {
  TestUpstream up;
  TestProxy proxy(gateway(oneService(up.url()), kApiRoute));
  TestClient client(proxy.port());
  ASSERT_EQ(client.get("/api/a", {{"X-Request-ID", "req-123"}, {"traceparent", "garbage"}}).result_int(), 200);
  const auto got = up.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["X-Request-ID"], "req-123");
  const auto tp = parseTraceParent(got[0]["traceparent"]);
  ASSERT_TRUE(tp.has_value());  // a new, valid trace
  EXPECT_EQ(tp->flags, 0);
}

TEST(ProxyServer, ReusesConnectionsOnBothSides) {
  TestUpstream up;
  TestProxy proxy(gateway(oneService(up.url()), kApiRoute), [] {
    ServerOptions o;
    o.threads = 1;  // one thread, one upstream pool
    return o;
  }());
  TestClient client(proxy.port());
  for (int i = 0; i < 5; ++i) ASSERT_EQ(client.get("/api/x").result_int(), 200) << i;
  EXPECT_EQ(up.connectionsAccepted(), 1);
  EXPECT_EQ(proxy.server->stats().connections, 1u);
  EXPECT_EQ(proxy.server->stats().upstreamConnects, 1u);
  EXPECT_EQ(proxy.server->stats().upstreamTries, 5u);
}

TEST(ProxyServer, RateLimitRejectsWithStatusAndFieldsAndAdmittedAnswersCarryThem) {
  TestUpstream up;
  TestProxy proxy(gateway(oneService(up.url()),
                          apiRouteLimited("limit: 2/min, headers: both")));
  TestClient client(proxy.port());
  const Response a = client.get("/api/1");
  ASSERT_EQ(a.result_int(), 200);
  EXPECT_EQ(a["X-RateLimit-Limit"], "2");
  EXPECT_EQ(a["X-RateLimit-Remaining"], "1");
  EXPECT_EQ(a["RateLimit-Policy"], "\"per-ip\";q=2;w=60");
  ASSERT_EQ(client.get("/api/2").result_int(), 200);
  const Response c = client.get("/api/3");
  EXPECT_EQ(c.result_int(), 429);
  EXPECT_EQ(c["X-RateLimit-Remaining"], "0");
  EXPECT_FALSE(c["Retry-After"].empty());
  EXPECT_TRUE(c.keep_alive());  // a rejection does not cost the client its connection
  EXPECT_EQ(up.received().size(), 2u);
}

// The gateway's rate-limit fields replace the upstream's fields of the same names (any case, all
// copies); the upstream's other fields, Retry-After and the IETF fields a legacy-style policy does
// not send included, pass through.
TEST(ProxyServer, RateLimitFieldsReplaceTheUpstreamsOfTheSameName) {
  TestUpstream up([](const Request&) {
    Reply r = Reply::ok("fine");
    r.response.insert("x-ratelimit-limit", "999");
    r.response.insert("X-RateLimit-Limit", "998");
    r.response.insert("X-RateLimit-Remaining", "5");
    r.response.insert("RateLimit", "\"upstream\";r=5;t=1");
    r.response.insert("Retry-After", "7");
    return r;
  });
  TestProxy proxy(gateway(oneService(up.url()),
                          apiRouteLimited("limit: 3/min, headers: legacy")));
  TestClient client(proxy.port());
  const Response a = client.get("/api/1");
  ASSERT_EQ(a.result_int(), 200);
  EXPECT_EQ(a.count("X-RateLimit-Limit"), 1u);
  EXPECT_EQ(a["X-RateLimit-Limit"], "3");
  EXPECT_EQ(a.count("X-RateLimit-Remaining"), 1u);
  EXPECT_EQ(a["X-RateLimit-Remaining"], "2");
  EXPECT_EQ(a.count("X-RateLimit-Reset"), 1u);
  EXPECT_EQ(a["RateLimit"], "\"upstream\";r=5;t=1") << "a legacy-style policy leaves the IETF field alone";
  EXPECT_EQ(a["Retry-After"], "7");
}

TEST(ProxyServer, RoutingAnswers) {
  TestUpstream up;
  TestProxy proxy(gateway(oneService(up.url()), kApiRoute));
  TestClient client(proxy.port());
  EXPECT_EQ(client.get("/elsewhere").result_int(), 404);
  EXPECT_EQ(client.get("/api/%zz").result_int(), 400);
  EXPECT_TRUE(up.received().empty());
}

TEST(ProxyServer, ConnectFailureIs502AndRetriesGoToAnotherTarget) {
  TestUpstream good;
  const std::string dead = "http://127.0.0.1:" + std::to_string(closedPort());
  {
    TestProxy proxy(gateway(oneService(dead), kApiRoute));
    TestClient client(proxy.port());
    EXPECT_EQ(client.get("/api/x").result_int(), 502);
  }
  // Round robin starts at the dead target; the retry avoids it.
  TestProxy proxy(gateway("  - name: app\n    targets: [" + dead + ", " + good.url() +
                              "]\n    load_balancer: round_robin\n"
                              "    retries: { attempts: 1, on: [connect-failure], backoff: { base: 0s } }\n",
                          kApiRoute));
  TestClient client(proxy.port());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(client.get("/api/x").result_int(), 200) << i;
  EXPECT_EQ(good.received().size(), 4u);
}

TEST(ProxyServer, UpstreamTimeoutIs504AndAHangUpIs502) {
  TestUpstream hanging([](const Request&) { return Reply::hang(); });
  TestProxy slow(gateway(oneService(hanging.url(), "    timeouts: { per_try: 150ms }\n"), kApiRoute));
  TestClient client(slow.port());
  EXPECT_EQ(client.get("/api/x").result_int(), 504);

  TestUpstream closing([](const Request&) { return Reply::close(); });
  TestProxy broken(gateway(oneService(closing.url()), kApiRoute));
  TestClient client2(broken.port());
  EXPECT_EQ(client2.get("/api/x").result_int(), 502);
}

TEST(ProxyServer, RetriesAGatewayErrorOnTheOtherTarget) {
  TestUpstream failing([](const Request&) { return Reply::status(503); });
  TestUpstream good;
  TestProxy proxy(gateway("  - name: app\n    targets: [" + failing.url() + ", " + good.url() +
                              "]\n    load_balancer: round_robin\n"
                              "    retries: { attempts: 1, on: [gateway-error], backoff: { base: 0s } }\n",
                          kApiRoute));
  TestClient client(proxy.port());
  const Response r = client.get("/api/x");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(failing.received().size(), 1u);
  EXPECT_EQ(good.received().size(), 1u);
}

TEST(ProxyServer, OpenBreakerAnswersWithItsFallback) {
  TestUpstream failing([](const Request&) { return Reply::status(500); });
  TestProxy proxy(gateway(oneService(failing.url(),
                                     "    circuit_breaker: { consecutive_failures: 2, open_for: 60s, fallback: { status: "
                                     "503, headers: { Content-Type: application/json }, body: '{\"error\":\"down\"}' } }\n"),
                          kApiRoute));
  TestClient client(proxy.port());
  EXPECT_EQ(client.get("/api/x").result_int(), 500);
  EXPECT_EQ(client.get("/api/x").result_int(), 500);
  const Response r = client.get("/api/x");
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_EQ(r[http::field::content_type], "application/json");
  EXPECT_EQ(r.body(), "{\"error\":\"down\"}");
  EXPECT_EQ(failing.received().size(), 2u);
}

TEST(ProxyServer, RequestLimitsAnswerWithTheirStatusAndCloseTheConnection) {
  TestUpstream up;
  ServerOptions o;
  o.maxHeaderBytes = 1024;
  o.maxBodyBytes = 100;
  o.headerTimeout = 200ms;
  TestProxy proxy(gateway(oneService(up.url()), kApiRoute), o);
  {
    TestClient c(proxy.port());
    const std::string out = c.raw("GET /api/x HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 431 ")) << out;
  }
  {
    TestClient c(proxy.port());
    const std::string out = c.raw("POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 413 ")) << out;
  }
  {
    TestClient c(proxy.port());
    const std::string out = c.raw(
        "POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << out;
  }
  {
    TestClient c(proxy.port());
    const std::string out =
        c.raw("POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << out;
  }
  {
    TestClient c(proxy.port());
    const std::string out = c.raw("POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3x\r\n\r\nabc");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << out;
  }
  {
    TestClient c(proxy.port());
    const std::string out = c.raw("GET /api/x HTTP/1.1\r\nAccept: */*\r\n\r\n");  // no Host
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << out;
  }
  {
    TestClient c(proxy.port());
    const std::string out = c.raw("GET /api/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << out;
  }
  {
    TestClient c(proxy.port());
    const std::string out = c.raw("GARBAGE\r\n\r\n");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << out;
  }
  {
    TestClient c(proxy.port());
    // Half a header, then nothing: 408 once the header timeout passes, then the close.
    const std::string out = c.raw("GET /api/x HTTP/1.1\r\nHost: a\r\n");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 408 ")) << out;
  }
  EXPECT_TRUE(up.received().empty());
  // A request within every limit still goes through.
  TestClient ok(proxy.port());
  Request post{http::verb::post, "/api/echo", 11};
  post.body() = std::string(100, 'b');
  EXPECT_EQ(ok.send(post).result_int(), 200);
  ASSERT_EQ(up.received().size(), 1u);
  EXPECT_EQ(up.received()[0].body(), std::string(100, 'b'));
}

TEST(ProxyServer, ExpectContinueIsAnsweredHereAndNotForwarded) {
  TestUpstream up;
  TestProxy proxy(gateway(oneService(up.url()), kApiRoute));
  TestClient c(proxy.port());
  const std::string out = c.raw(
      "POST /api/e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 100 Continue\r\n")) << out;
  EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
  ASSERT_EQ(up.received().size(), 1u);
  EXPECT_EQ(up.received()[0].count(http::field::expect), 0u);
  EXPECT_EQ(up.received()[0].body(), "hello");
}

TEST(ProxyServer, ChunkedRequestBodiesAreForwardedWithALength) {
  TestUpstream up;
  TestProxy proxy(gateway(oneService(up.url()), kApiRoute));
  TestClient c(proxy.port());
  c.raw("POST /api/c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  ASSERT_EQ(up.received().size(), 1u);
  EXPECT_EQ(up.received()[0].body(), "hello world");
  EXPECT_EQ(up.received()[0][http::field::content_length], "11");
}

// Access policies are validated but not yet enforced on the request path: serving them would let
// through what the config refuses, so the proxy refuses the config and names the policy.
TEST(ProxyServer, BindFailureIsReported) {
  TestUpstream up;
  TestProxy first(gateway(oneService(up.url()), kApiRoute));
  const auto loaded = config::loadConfigString(gateway(oneService(up.url()), kApiRoute), "x.yaml");
  ASSERT_TRUE(loaded.ok());
  ServerOptions o;
  o.listenHost = "127.0.0.1";
  o.listenPort = first.port();
  o.admin = false;
  Server second(loaded.config, o);
  const std::string err = second.start();
  EXPECT_NE(err.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())), std::string::npos) << err;
}

}  // namespace
}  // namespace gatelab::proxy

namespace gatelab::proxy {
namespace {

using namespace testing;

TEST(ProxyAdmin, MetricsCountRequestsDecisionsTriesAndBreakerStateInPrometheusFormat) {
  TestUpstream up([](const Request& r) { return r.target() == "/fail" ? Reply::status(500) : Reply::ok(); });
  TestProxy proxy(gateway(oneService(up.url(), "    circuit_breaker: { consecutive_failures: 2, open_for: 60s }\n"),
                          apiRouteLimited("limit: 3/min")));
  TestClient client(proxy.port());
  EXPECT_EQ(client.get("/api/ok").result_int(), 200);
  EXPECT_EQ(client.get("/api/fail").result_int(), 500);
  EXPECT_EQ(client.get("/api/fail").result_int(), 500);  // trips the breaker
  EXPECT_EQ(client.get("/api/ok").result_int(), 429);    // 4th of 3/min
  EXPECT_EQ(client.get("/nowhere").result_int(), 404);

  TestClient admin(proxy.adminPort());
  const Response m = admin.get("/metrics");
  ASSERT_EQ(m.result_int(), 200);
  EXPECT_EQ(m[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = m.body();
  auto has = [&text](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("gatelab_requests_total{route=\"api\",code=\"200\"} 1")) << text;
  EXPECT_TRUE(has("gatelab_requests_total{route=\"api\",code=\"500\"} 2"));
  EXPECT_TRUE(has("gatelab_requests_total{route=\"api\",code=\"429\"} 1"));
  EXPECT_TRUE(has("gatelab_requests_total{route=\"\",code=\"404\"} 1"));
  EXPECT_TRUE(has("gatelab_ratelimit_decisions_total{route=\"api\",policy=\"per-ip\",result=\"allowed\",shadow=\"false\"} 3"));
  EXPECT_TRUE(has("gatelab_ratelimit_decisions_total{route=\"api\",policy=\"per-ip\",result=\"rejected\",shadow=\"false\"} 1"));
  EXPECT_TRUE(has("gatelab_upstream_tries_total{service=\"app\",target=\"" + up.url() + "\",outcome=\"response\"} 3"));
  EXPECT_TRUE(has("gatelab_circuit_breaker_state{service=\"app\",target=\"\",state=\"open\"} 1"));
  EXPECT_TRUE(has("gatelab_circuit_breaker_state{service=\"app\",target=\"\",state=\"closed\"} 0"));
  EXPECT_TRUE(has("gatelab_circuit_breaker_transitions_total{service=\"app\",target=\"\",to=\"open\"} 1"));
  EXPECT_TRUE(has("gatelab_request_duration_seconds_count{route=\"api\"} 4"));
  EXPECT_TRUE(has("gatelab_request_duration_seconds_bucket{route=\"api\",le=\"+Inf\"} 4"));
  EXPECT_TRUE(has("gatelab_connections_total 1"));
  EXPECT_TRUE(has("gatelab_upstream_connections_total{reused=\"false\"} 1"));
  EXPECT_TRUE(has("gatelab_upstream_connections_total{reused=\"true\"} 2"));
  EXPECT_TRUE(has("gatelab_upstream_pool_idle{target=\"" + up.url() + "\"} 1"));  // kept alive after the last try
  // Every sample line is `name{labels} value` or `name value`; every metric has HELP and TYPE.
  std::size_t samples = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t nl = text.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
    ASSERT_TRUE(line.starts_with("gatelab_")) << line;
    const std::size_t space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    EXPECT_NO_THROW((void)std::stod(line.substr(space + 1))) << line;
    ++samples;
  }
  EXPECT_GT(samples, 20u);
  EXPECT_EQ(proxy.server->metricsText().substr(0, 20), text.substr(0, 20));
}

TEST(ProxyAdmin, HealthReadinessAndUnknownPaths) {
  TestUpstream up;
  TestProxy proxy(gateway(oneService(up.url()), kApiRoute));
  TestClient admin(proxy.adminPort());
  EXPECT_EQ(admin.get("/healthz").result_int(), 200);
  EXPECT_EQ(admin.get("/readyz").body(), "ready\n");
  EXPECT_EQ(admin.get("/nope").result_int(), 404);
  Request post{http::verb::post, "/metrics", 11};
  const Response r = admin.send(post);
  EXPECT_EQ(r.result_int(), 405);
  EXPECT_EQ(r[http::field::allow], "GET, HEAD");
  EXPECT_NE(proxy.adminPort(), proxy.port());
}

}  // namespace
}  // namespace gatelab::proxy

#include <future>

namespace gatelab::proxy {
namespace {

using namespace testing;

TEST(ProxyDrain, FinishesRequestsInFlightClosesIdleConnectionsAndStopsAccepting) {
  // The upstream holds the first request until the test releases it.
  std::promise<void> arrived;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  TestUpstream up([&](const Request& r) {
    if (r.target() == "/slow") {
      arrived.set_value();
      released.wait();
    }
    return Reply::ok("late");
  });
  TestProxy proxy(gateway(oneService(up.url()), kApiRoute));
  TestClient idle(proxy.port());
  ASSERT_EQ(idle.get("/api/warm").result_int(), 200);  // a keep-alive connection, idle from now on

  std::promise<Response> answered;
  std::thread inFlight([&] {
    TestClient c(proxy.port());
    answered.set_value(c.get("/api/slow"));
  });
  arrived.get_future().wait();  // the request is at the upstream

  std::promise<bool> drainResult;
  std::thread drainer([&] { drainResult.set_value(proxy.server->drain(std::chrono::seconds(20))); });
  // The idle keep-alive connection is closed by the drain (EOF), while the slow request is held.
  EXPECT_EQ(idle.readAll(), "");
  release.set_value();
  const Response r = answered.get_future().get();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "late");
  EXPECT_FALSE(r.keep_alive());  // the last answer of a draining gateway says Connection: close
  EXPECT_TRUE(drainResult.get_future().get());
  inFlight.join();
  drainer.join();
  // No longer accepting.
  asio::io_context ioc;
  tcp::socket s(ioc);
  beast::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), proxy.port()), ec);
  EXPECT_TRUE(ec) << "connected after drain";
}

TEST(ProxyDrain, TheDeadlineCutsWhatIsStillRunning) {
  TestUpstream hanging([](const Request&) { return Reply::hang(); });
  TestProxy proxy(gateway(oneService(hanging.url()), kApiRoute));
  std::thread client([&] {
    TestClient c(proxy.port());
    try {
      (void)c.get("/api/never");
    } catch (const std::exception&) {
      // the connection is cut: expected
    }
  });
  // Wait until the upstream has the request, then drain with a short deadline.
  while (hanging.received().empty()) std::this_thread::yield();
  EXPECT_FALSE(proxy.server->drain(std::chrono::milliseconds(100)));
  client.join();
}

}  // namespace
}  // namespace gatelab::proxy

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "sim/trace/reader.hpp"
#include "sim/trace/trace_format.hpp"

namespace gatelab::proxy {
namespace {

using namespace testing;

TEST(ProxyAccessLog, OneJsonLinePerRequestThatTheSimulatorReplaysAsIs) {
  TestUpstream up;
  const std::string path = ::testing::TempDir() + "access-log-test.jsonl";
  std::remove(path.c_str());
  ServerOptions o;
  o.accessLog = path;
  {
    TestProxy proxy(gateway(oneService(up.url()),
                            apiRouteLimited("limit: 2/min")),
                    o);
    TestClient client(proxy.port());
    EXPECT_EQ(client.get("/api/a?x=1", {{"User-Agent", "test \"agent\""}, {"X-Request-ID", "rid-1"}}).result_int(), 200);
    EXPECT_EQ(client.get("/api/b").result_int(), 200);
    EXPECT_EQ(client.get("/api/c").result_int(), 429);
    EXPECT_EQ(client.get("/missing").result_int(), 404);
    proxy.server->stop();  // flushes the log
  }
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(lines.size(), 4u);
  const auto& a = lines[0];
  EXPECT_EQ(a["method"], "GET");
  EXPECT_EQ(a["url"], "/api/a?x=1");
  EXPECT_EQ(a["client"], "127.0.0.1");
  EXPECT_EQ(a["status"], 200);
  EXPECT_EQ(a["user_agent"], "test \"agent\"");
  EXPECT_EQ(a["route"], "api");
  EXPECT_EQ(a["service"], "app");
  EXPECT_EQ(a["upstream"], up.url());
  EXPECT_EQ(a["upstream_status"], 200);
  EXPECT_EQ(a["tries"], 1);
  EXPECT_EQ(a["outcome"], "upstream");
  EXPECT_EQ(a["request_id"], "rid-1");
  EXPECT_EQ(a["rate_limit"][0]["policy"], "per-ip");
  EXPECT_EQ(a["rate_limit"][0]["result"], "allowed");
  EXPECT_GE(a["request_time"].get<double>(), 0.0);
  EXPECT_EQ(lines[2]["status"], 429);
  EXPECT_EQ(lines[2]["outcome"], "rate_limited");
  EXPECT_EQ(lines[2]["rate_limit"][0]["result"], "rejected");
  EXPECT_EQ(lines[2]["tries"], 0);
  EXPECT_EQ(lines[3]["status"], 404);
  EXPECT_EQ(lines[3]["route"], "");

  // Record -> replay: the simulator's JSON-lines reader takes the log as is.
  auto format = sim::trace::parseTraceFormat("jsonl");
  ASSERT_TRUE(format.ok());
  auto reader = sim::trace::openTraceFile(path, format.value());
  ASSERT_TRUE(reader.ok()) << reader.error.message;
  sim::trace::TraceRecord r;
  std::vector<std::string> paths;
  sim::trace::TraceTime last{};
  while (reader.ptr->next(r)) {
    paths.push_back(std::string(r.path) + (r.query.empty() ? "" : "?" + std::string(r.query)));
    EXPECT_EQ(r.client, "127.0.0.1");
    EXPECT_GE(r.time, last);
    last = r.time;
    EXPECT_TRUE(r.status == 200 || r.status == 429 || r.status == 404);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/api/a?x=1", "/api/b", "/api/c", "/missing"}));
  EXPECT_EQ(reader.ptr->stats().malformed, 0u);
}

}  // namespace
}  // namespace gatelab::proxy

namespace gatelab::proxy {
namespace {

using namespace testing;

/// Why ::1 cannot be bound here ("" when it can): IPv6 tests skip on machines without it.
std::string ipv6LoopbackMissing() {
  asio::io_context probe;
  tcp::acceptor a(probe);
  beast::error_code ec;
  a.open(tcp::v6(), ec);
  if (!ec) a.bind(tcp::endpoint(asio::ip::make_address("::1"), 0), ec);
  return ec ? ec.message() : std::string{};
}

// One listener on several addresses (config `listen` as a list): IPv4 and IPv6 at once.
TEST(ProxyServer, ListensOnIpv4AndIpv6Together) {
  if (const std::string why = ipv6LoopbackMissing(); !why.empty())
    GTEST_SKIP() << "no IPv6 loopback on this machine: " << why;
  TestUpstream up;
  const auto loaded = config::loadConfigString(
      "version: 1\nlisten: [127.0.0.1:0, '[::1]:0']\n" + gateway(oneService(up.url()), kApiRoute).substr(11), "v46.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errorText();
  ServerOptions o;
  o.listenHost = loaded.config->listen.host;
  o.listenPort = 0;
  o.alsoListen = loaded.config->alsoListen;
  o.admin = false;
  o.threads = 1;
  Server server(loaded.config, o);
  ASSERT_EQ(server.start(), "");
  ASSERT_EQ(server.alsoPorts().size(), 1u);
  const std::vector<tcp::endpoint> endpoints = {tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()),
                                                tcp::endpoint(asio::ip::make_address("::1"), server.alsoPorts()[0])};
  for (const auto& ep : endpoints) {
    asio::io_context ioc;
    beast::tcp_stream s(ioc);
    s.connect(ep);
    Request req{http::verb::get, "/api/both", 11};
    req.set(http::field::host, "gateway.test");
    http::write(s, req);
    beast::flat_buffer buf;
    Response res;
    http::read(s, buf, res);
    EXPECT_EQ(res.result_int(), 200) << ep;
  }
  ASSERT_EQ(up.received().size(), 2u);
  EXPECT_EQ(up.received()[0]["X-Forwarded-For"], "127.0.0.1");
  EXPECT_EQ(up.received()[1]["X-Forwarded-For"], "::1");
}

TEST(ProxyServer, ListensOnIpv6Loopback) {
  if (const std::string why = ipv6LoopbackMissing(); !why.empty())
    GTEST_SKIP() << "no IPv6 loopback on this machine: " << why;
  TestUpstream up;
  const auto loaded = config::loadConfigString(gateway(oneService(up.url()), kApiRoute), "v6.yaml");
  ASSERT_TRUE(loaded.ok());
  ServerOptions o;
  o.listenHost = "::1";
  o.listenPort = 0;
  o.admin = false;
  o.threads = 1;
  Server server(loaded.config, o);
  ASSERT_EQ(server.start(), "");
  asio::io_context ioc;
  beast::tcp_stream s(ioc);
  s.connect(tcp::endpoint(asio::ip::make_address("::1"), server.port()));
  Request req{http::verb::get, "/api/six", 11};
  req.set(http::field::host, "[::1]");
  http::write(s, req);
  beast::flat_buffer buf;
  Response res;
  http::read(s, buf, res);
  EXPECT_EQ(res.result_int(), 200);
  ASSERT_EQ(up.received().size(), 1u);
  EXPECT_EQ(up.received()[0]["X-Forwarded-For"], "::1");
}

}  // namespace
}  // namespace gatelab::proxy

namespace gatelab::proxy {
namespace {

using namespace testing;

TEST(ProxyServer, BreakerTurnsHalfOpenOnTimeWithoutTraffic) {
  // No request arrives after the trip: the transition shows in /metrics because the proxy wakes
  // the breaker when its open period ends, not at the next request.
  TestUpstream failing([](const Request&) { return Reply::status(500); });
  TestProxy proxy(gateway(oneService(failing.url(), "    circuit_breaker: { consecutive_failures: 1, open_for: 150ms }\n"),
                          kApiRoute));
  TestClient client(proxy.port());
  EXPECT_EQ(client.get("/api/x").result_int(), 500);
  const std::string halfOpen = "gatelab_circuit_breaker_state{service=\"app\",target=\"\",state=\"half-open\"} 1";
  EXPECT_NE(proxy.server->metricsText().find(
                "gatelab_circuit_breaker_state{service=\"app\",target=\"\",state=\"open\"} 1"),
            std::string::npos);
  // Wait for the effect (bounded), not for a fixed time.
  const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool seen = false;
  while (!seen && std::chrono::steady_clock::now() < giveUp) {
    seen = proxy.server->metricsText().find(halfOpen) != std::string::npos;
    if (!seen) std::this_thread::yield();
  }
  EXPECT_TRUE(seen) << proxy.server->metricsText();
}

}  // namespace
}  // namespace gatelab::proxy

namespace gatelab::proxy {
namespace {

using namespace testing;

std::shared_ptr<const config::GatewayConfig> parse(const std::string& yaml) {
  auto loaded = config::loadConfigString(yaml, "reload.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.errorText();
  return loaded.config;
}

std::string limited(const std::string& url, const std::string& limit, const std::string& status = "429") {
  return gateway(oneService(url), apiRouteLimited("limit: " + limit + ", status: " + status));
}

TEST(ProxyReload, UnchangedPoliciesKeepTheirCountsChangedOnesStartFresh) {
  TestUpstream up;
  TestProxy proxy(limited(up.url(), "2/min"));
  TestClient client(proxy.port());
  EXPECT_EQ(client.get("/api/1").result_int(), 200);
  EXPECT_EQ(client.get("/api/2").result_int(), 200);

  // Same counting, another reject status: the two requests still count.
  const Server::ReloadResult same = proxy.server->reload(parse(limited(up.url(), "2/min", "503")));
  ASSERT_TRUE(same.ok) << same.message;
  EXPECT_EQ(same.generation, 2u);
  EXPECT_NE(same.message.find("1 kept their counts, 0 start fresh"), std::string::npos) << same.message;
  EXPECT_EQ(client.get("/api/3").result_int(), 503);  // the keep-alive connection survived the reload

  // A changed limit starts fresh.
  const Server::ReloadResult changed = proxy.server->reload(parse(limited(up.url(), "3/min")));
  ASSERT_TRUE(changed.ok);
  EXPECT_NE(changed.message.find("0 kept their counts, 1 start fresh"), std::string::npos) << changed.message;
  EXPECT_EQ(client.get("/api/4").result_int(), 200);
  EXPECT_NE(proxy.server->metricsText().find("gatelab_config_reloads_total{result=\"ok\"} 2"), std::string::npos);
}

TEST(ProxyReload, RequestsInFlightFinishOnTheConfigTheyStartedWith) {
  std::promise<void> arrived, release;
  std::shared_future<void> released = release.get_future().share();
  TestUpstream oldUpstream([&](const Request&) {
    arrived.set_value();
    released.wait();
    return Reply::ok("old");
  });
  TestUpstream newUpstream([](const Request&) { return Reply::ok("new"); });
  TestProxy proxy(gateway(oneService(oldUpstream.url()), kApiRoute));
  std::promise<Response> held;
  std::thread inFlight([&] {
    TestClient c(proxy.port());
    held.set_value(c.get("/api/slow"));
  });
  arrived.get_future().wait();
  ASSERT_TRUE(proxy.server->reload(parse(gateway(oneService(newUpstream.url()), kApiRoute))).ok);
  TestClient fresh(proxy.port());
  EXPECT_EQ(fresh.get("/api/now").body(), "new");  // new requests: the new config
  release.set_value();
  EXPECT_EQ(held.get_future().get().body(), "old");  // the held one: its own config to the end
  inFlight.join();
}

TEST(ProxyReload, TheAdminCallReloadsAndARefusedConfigKeepsTheRunningOne) {
  TestUpstream up;
  std::string source = gateway(oneService(up.url()), kApiRoute);
  ServerOptions o;
  o.configLoader = [&source] { return config::loadConfigString(source, "admin-reload.yaml"); };
  TestProxy proxy(source, o);
  TestClient admin(proxy.adminPort());
  TestClient client(proxy.port());

  source = gateway(oneService(up.url()), kApiRoute + "    unknown_key: 1\n");  // invalid
  Response r = admin.send(Request{http::verb::post, "/admin/reload", 11});
  EXPECT_EQ(r.result_int(), 422);
  EXPECT_NE(r.body().find("admin-reload.yaml:"), std::string::npos) << r.body();  // with its errors
  EXPECT_EQ(client.get("/api/still").result_int(), 200);

  source = gateway(oneService(up.url()), "  - name: v2\n    match: { path_prefix: /v2 }\n    service: app\n");
  r = admin.send(Request{http::verb::post, "/admin/reload", 11});
  EXPECT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(client.get("/v2/x").result_int(), 200);
  EXPECT_EQ(client.get("/api/gone").result_int(), 404);
  EXPECT_EQ(admin.get("/admin/reload").result_int(), 405);
  const std::string m = proxy.server->metricsText();
  EXPECT_NE(m.find("gatelab_config_reloads_total{result=\"ok\"} 1"), std::string::npos);
  EXPECT_NE(m.find("gatelab_config_reloads_total{result=\"failed\"} 1"), std::string::npos);
  EXPECT_NE(m.find("gatelab_requests_total{route=\"v2\",code=\"200\"} 1"), std::string::npos) << m;
}

}  // namespace
}  // namespace gatelab::proxy

namespace gatelab::proxy {
namespace {

using namespace testing;

TEST(ProxyServer, ConnectionCapAndRequestsPerConnection) {
  TestUpstream up;
  ServerOptions o;
  o.maxConnections = 1;
  o.maxRequestsPerConnection = 2;
  TestProxy proxy(gateway(oneService(up.url()), kApiRoute), o);
  TestClient first(proxy.port());
  EXPECT_EQ(first.get("/api/1").result_int(), 200);  // the one allowed connection is open
  {
    TestClient second(proxy.port());  // over the cap: closed at once
    EXPECT_EQ(second.raw("GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n"), "");
  }
  const Response last = first.get("/api/2");
  EXPECT_EQ(last.result_int(), 200);
  EXPECT_FALSE(last.keep_alive());  // its 2nd request: the connection's last
  EXPECT_EQ(first.readAll(), "");
  EXPECT_NE(proxy.server->metricsText().find("gatelab_connections_refused_total 1"), std::string::npos);
  // Once it closed, a new connection is accepted (wait for the close to be counted, bounded).
  const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (proxy.server->metricsText().find("gatelab_connections_active 0") == std::string::npos &&
         std::chrono::steady_clock::now() < giveUp)
    std::this_thread::yield();
  TestClient third(proxy.port());
  EXPECT_EQ(third.get("/api/3").result_int(), 200);
}

}  // namespace
}  // namespace gatelab::proxy

namespace gatelab::proxy {
namespace {

using namespace testing;

TEST(ProxyAdmin, EventStreamSendsTimelineBucketsAndResilienceEvents) {
  TestUpstream failing([](const Request& r) { return r.target() == "/boom" ? Reply::status(500) : Reply::ok(); });
  ServerOptions o;
  o.timelineInterval = std::chrono::milliseconds(50);
  TestProxy proxy(gateway(oneService(failing.url(), "    circuit_breaker: { consecutive_failures: 1, open_for: 60s }\n"),
                          apiRouteLimited("limit: 100/min")),
                  o);
  TestClient feed(proxy.adminPort());
  feed.stream().expires_after(std::chrono::seconds(10));
  asio::write(feed.stream().socket(), asio::buffer(std::string("GET /admin/events HTTP/1.1\r\nHost: a\r\n\r\n")));
  // The stream's header and first comment, then traffic.
  std::string got;
  char buf[4096];
  auto readUntil = [&](const std::string& needle) {
    const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < giveUp) {
      beast::error_code ec;
      const std::size_t n = feed.stream().socket().read_some(asio::buffer(buf), ec);
      if (ec) break;
      got.append(buf, n);
    }
    return got.find(needle) != std::string::npos;
  };
  ASSERT_TRUE(readUntil("text/event-stream")) << got;
  TestClient client(proxy.port());
  EXPECT_EQ(client.get("/api/ok").result_int(), 200);
  EXPECT_EQ(client.get("/api/boom").result_int(), 500);  // opens the breaker
  ASSERT_TRUE(readUntil("\"to\":\"open\"")) << got;
  EXPECT_NE(got.find("event: resilience\ndata: {\"at_ms\":"), std::string::npos) << got;
  EXPECT_NE(got.find("\"kind\":\"breaker\",\"service\":\"app\""), std::string::npos) << got;
  // Timeline buckets in the simulator's shape; the two requests may fall in one bucket or two.
  std::map<std::string, double> sum;
  nlohmann::json lastBucket;
  std::size_t parsed = 0;
  const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (sum["requests"] < 2 && std::chrono::steady_clock::now() < giveUp) {
    {
      beast::error_code ec;
      const std::size_t n = feed.stream().socket().read_some(asio::buffer(buf), ec);  // more of the feed
      if (ec) break;
      got.append(buf, n);
    }
    for (std::size_t pos = got.find("event: timeline\ndata: ", parsed); pos != std::string::npos;
         pos = got.find("event: timeline\ndata: ", parsed)) {
      const std::size_t start = pos + 22;
      const std::size_t end = got.find('\n', start);
      if (end == std::string::npos) break;
      const auto j = nlohmann::json::parse(got.substr(start, end - start));
      parsed = end;
      EXPECT_GE(j["end_ms"].get<double>(), j["start_ms"].get<double>());
      sum["requests"] += j["requests"].get<double>();
      sum["2xx"] += j["status"]["2xx"].get<double>();
      sum["5xx"] += j["status"]["5xx"].get<double>();
      sum["upstream"] += j["outcomes"]["upstream"].get<double>();
      sum["tries"] += j["tries"].get<double>();
      sum["try_failures"] += j["try_failures"].get<double>();
      sum["breaker_opens"] += j["breaker_opens"].get<double>();
      sum["allowed"] += j["policies"][0]["allowed"].get<double>();
      if (j["requests"].get<double>() > 0) {
        EXPECT_TRUE(j["latency"]["p99_ms"].is_number()) << j;
      }
      EXPECT_EQ(j["policies"][0]["name"], "per-ip");
      lastBucket = j;
    }
  }
  EXPECT_EQ(sum["requests"], 2);
  EXPECT_EQ(sum["2xx"], 1);
  EXPECT_EQ(sum["5xx"], 1);
  EXPECT_EQ(sum["upstream"], 2);
  EXPECT_EQ(sum["tries"], 2);
  EXPECT_EQ(sum["try_failures"], 1);
  EXPECT_EQ(sum["allowed"], 2);
  EXPECT_EQ(lastBucket["breakers"][0]["state"], "open");
}

}  // namespace
}  // namespace gatelab::proxy

namespace gatelab::proxy {
namespace {

using namespace testing;

TEST(ProxyServer, ActiveHealthChecksTakeAFailingTargetOutAndBringItBack) {
  std::atomic<bool> sick{true};
  TestUpstream flaky([&](const Request& r) {
    if (r.target() == "/healthz") return sick ? Reply::status(503) : Reply::ok();
    return Reply::ok("flaky");
  });
  TestUpstream steady([](const Request&) { return Reply::ok("steady"); });
  TestProxy proxy(gateway("  - name: app\n    targets: [" + flaky.url() + ", " + steady.url() +
                              "]\n    load_balancer: round_robin\n"
                              "    health_checks: { path: /healthz, interval: 20ms, timeout: 15ms, "
                              "healthy_threshold: 1, unhealthy_threshold: 2 }\n",
                          kApiRoute));
  const std::string down = "gatelab_upstream_healthy{service=\"app\",target=\"" + flaky.url() + "\"} 0";
  const std::string up = "gatelab_upstream_healthy{service=\"app\",target=\"" + flaky.url() + "\"} 1";
  auto waitFor = [&](const std::string& line) {
    const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (proxy.server->metricsText().find(line) == std::string::npos && std::chrono::steady_clock::now() < giveUp)
      std::this_thread::yield();
    return proxy.server->metricsText().find(line) != std::string::npos;
  };
  ASSERT_TRUE(waitFor(down)) << proxy.server->metricsText();
  TestClient client(proxy.port());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(client.get("/api/x").body(), "steady") << i;  // the down target gets none
  sick = false;
  ASSERT_TRUE(waitFor(up));
  int flakyAnswers = 0;
  for (int i = 0; i < 6; ++i) flakyAnswers += client.get("/api/x").body() == "flaky";
  EXPECT_GT(flakyAnswers, 0);  // back in the rotation
  for (const auto& r : flaky.received()) {
    if (r.target() == "/healthz") {
      EXPECT_EQ(r[http::field::user_agent], "gatelab-health-check");
      break;
    }
  }
}

}  // namespace
}  // namespace gatelab::proxy


namespace gatelab::proxy {
namespace {

using namespace testing;


TEST(ProxyServer, CompressesConfiguredTypesForClientsThatAcceptGzipOnlyOnce) {
  std::string json;
  for (int i = 0; i < 300; ++i) json += "{\"item\":" + std::to_string(i) + ",\"name\":\"widget\"},";
  TestUpstream up([&json](const Request& r) {
    Reply reply = Reply::ok(r.target() == "/small" ? std::string("{}") : json);
    reply.response.set(http::field::content_type, r.target() == "/png" ? "image/png" : "application/json; charset=utf-8");
    if (r.target() == "/already") reply.response.set(http::field::content_encoding, "br");
    reply.response.set(http::field::etag, "\"v1\"");
    reply.response.prepare_payload();
    return reply;
  });
  TestProxy proxy("version: 1\ncompression: { types: [application/json], min_size: 100 }\nservices:\n" +
                  oneService(up.url()) + "routes:\n" + kApiRoute);
  TestClient client(proxy.port());
  const Response zipped = client.get("/api/big", {{"Accept-Encoding", "br;q=0.5, gzip"}});
  EXPECT_EQ(zipped[http::field::content_encoding], "gzip");
  EXPECT_EQ(zipped[http::field::vary], "Accept-Encoding");
  EXPECT_EQ(zipped[http::field::etag], "W/\"v1\"");
  EXPECT_LT(zipped.body().size(), json.size() / 3);
  EXPECT_EQ(testing::gunzip(zipped.body()), json);

  const Response plain = client.get("/api/big");  // no Accept-Encoding
  EXPECT_EQ(plain.count(http::field::content_encoding), 0u);
  EXPECT_EQ(plain[http::field::vary], "Accept-Encoding");
  EXPECT_EQ(plain.body(), json);
  EXPECT_EQ(client.get("/api/big", {{"Accept-Encoding", "gzip;q=0"}}).body(), json);
  EXPECT_EQ(client.get("/api/small", {{"Accept-Encoding", "gzip"}}).body(), "{}");       // under min_size
  EXPECT_EQ(client.get("/api/png", {{"Accept-Encoding", "gzip"}}).body(), json);         // not a listed type
  const Response br = client.get("/api/already", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(br[http::field::content_encoding], "br");                                     // never twice
  EXPECT_EQ(br.body(), json);
}

}  // namespace
}  // namespace gatelab::proxy

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>

namespace gatelab::proxy {
namespace {

using namespace testing;
namespace websocket = beast::websocket;

/// A WebSocket echo server on 127.0.0.1:0, one connection at a time, on its own thread. With
/// `echo` false it only reads (and counts) the messages.
class EchoWebSocket {
 public:
  explicit EchoWebSocket(bool echo = true) : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, echo] {
      while (true) {
        tcp::socket socket(ioc_);
        beast::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec || stopping_) return;
        websocket::stream<tcp::socket> ws(std::move(socket));
        ws.accept(ec);
        if (ec) continue;
        ++handshakes_;
        while (true) {
          beast::flat_buffer b;
          ws.read(b, ec);
          if (ec) break;
          ++messages_;
          if (!echo) continue;
          ws.text(ws.got_text());
          ws.write(b.data(), ec);
          if (ec) break;
        }
      }
    });
  }
  ~EchoWebSocket() {
    stopping_ = true;
    wakeAcceptor(acceptor_);
    thread_.join();
  }
  [[nodiscard]] std::string url() const { return loopbackUrl(acceptor_); }
  [[nodiscard]] int handshakes() const { return handshakes_.load(); }
  [[nodiscard]] int messages() const { return messages_.load(); }

 private:
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> handshakes_{0};
  std::atomic<int> messages_{0};
};

TEST(ProxyWebSocket, UpgradesArePolicedThenTunnelledBothWays) {
  EchoWebSocket echo;
  TestProxy proxy(gateway(oneService(echo.url()),
                          apiRouteLimited("limit: 1/min", "ws")));
  asio::io_context ioc;
  websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), proxy.port()));
  websocket::response_type handshake;
  ws.handshake(handshake, "gateway.test", "/api/chat");
  EXPECT_EQ(handshake.result_int(), 101);
  EXPECT_EQ(handshake["X-RateLimit-Remaining"], "0");  // the handshake was policed
  for (const std::string& msg : std::vector<std::string>{"hello", std::string(100'000, 'x'), "bye"}) {
    ws.write(asio::buffer(msg));
    beast::flat_buffer b;
    ws.read(b);
    EXPECT_EQ(beast::buffers_to_string(b.data()), msg);
  }
  ws.close(websocket::close_code::normal);

  // A second handshake in the same minute is rejected by the policy, like any request.
  websocket::stream<tcp::socket> ws2(ioc);
  ws2.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), proxy.port()));
  websocket::response_type refused;
  beast::error_code ec;
  ws2.handshake(refused, "gateway.test", "/api/chat", ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(refused.result_int(), 429);
  EXPECT_EQ(echo.handshakes(), 1);
}

// tunnelIdleTimeout closes a tunnel only when no bytes move either way: one that carries traffic
// one way only (a client streaming to a server that never answers) stays open well past it; an
// idle one is closed after it.
TEST(ProxyWebSocket, ATunnelClosesOnlyWhenNothingMovesEitherWay) {
  EchoWebSocket sink(/*echo=*/false);
  ServerOptions o;
  o.tunnelIdleTimeout = std::chrono::milliseconds(200);
  TestProxy proxy(gateway(oneService(sink.url()), kApiRoute), o);
  asio::io_context ioc;
  websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), proxy.port()));
  ws.handshake("gateway.test", "/api/feed");
  // Client -> server only, for three idle timeouts: every message arrives.
  const auto start = std::chrono::steady_clock::now();
  int sent = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(600)) {
    ws.write(asio::buffer(std::string("tick")));
    ++sent;
  }
  beast::error_code ec;
  ws.write(asio::buffer(std::string("last")), ec);
  ASSERT_FALSE(ec) << "the tunnel was closed while the client was sending: " << ec.message();
  ++sent;
  const auto waitFrom = std::chrono::steady_clock::now();
  while (sink.messages() < sent && std::chrono::steady_clock::now() - waitFrom < std::chrono::seconds(5)) {
    std::this_thread::yield();
  }
  EXPECT_EQ(sink.messages(), sent);
  // Then nothing moves: the proxy closes the tunnel, and the client's read ends.
  ::timeval tv{5, 0};  // a test that goes wrong fails instead of hanging
  ::setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto idleFrom = std::chrono::steady_clock::now();
  beast::flat_buffer b;
  ws.read(b, ec);
  EXPECT_TRUE(ec);
  EXPECT_LT(std::chrono::steady_clock::now() - idleFrom, std::chrono::seconds(4)) << "closed by the idle timeout, not the test's";
}

// An upgrade the upstream refuses is answered with that refusal's own fields, also on a
// connection whose previous answer passed its upstream fields through as lines.
TEST(ProxyWebSocket, ARefusedUpgradeCarriesItsOwnFieldsAfterAnAnswerPassedAsLines) {
  TestUpstream up([](const Request& req) {
    Reply r = Reply::status(req.target() == "/ws" ? 426 : 200);  // (the route strips /api)
    r.response.set("X-Answer-To", std::string(req.target()));
    if (req.target() != "/ws") r.response.set("X-Plain-Only", "1");
    return r;
  });
  TestProxy proxy(gateway(oneService(up.url()), kApiRoute));
  TestClient client(proxy.port());
  EXPECT_EQ(std::string(client.get("/api/plain")["X-Answer-To"]), "/plain");
  const Response refused =
      client.get("/api/ws", {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"},
                             {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
  EXPECT_EQ(refused.result_int(), 426);
  EXPECT_EQ(std::string(refused["X-Answer-To"]), "/ws");
  EXPECT_EQ(refused.count("X-Answer-To"), 1u);
  EXPECT_EQ(refused.count("X-Plain-Only"), 0u) << "a field of the previous answer";
}

TEST(ProxyWebSocket, TunnelCapAnswers503) {
  EchoWebSocket echo;
  ServerOptions o;
  o.maxTunnels = 1;
  TestProxy proxy(gateway(oneService(echo.url()), kApiRoute), o);
  asio::io_context ioc;
  websocket::stream<tcp::socket> first(ioc);
  first.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), proxy.port()));
  first.handshake("gateway.test", "/api/a");
  first.write(asio::buffer(std::string("ping")));  // the tunnel is open (it echoed)
  beast::flat_buffer b;
  first.read(b);
  websocket::stream<tcp::socket> second(ioc);
  second.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), proxy.port()));
  websocket::response_type refused;
  beast::error_code ec;
  second.handshake(refused, "gateway.test", "/api/b", ec);
  EXPECT_EQ(refused.result_int(), 503);
}

}  // namespace
}  // namespace gatelab::proxy

namespace gatelab::proxy {
namespace {

using namespace testing;

/// An upstream that answers every request with the same raw bytes, then closes.
class RawUpstream {
 public:
  explicit RawUpstream(std::string reply)
      : reply_(std::move(reply)), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] {
      while (true) {
        tcp::socket s(ioc_);
        beast::error_code ec;
        acceptor_.accept(s, ec);
        if (ec || stopping_) return;
        char buf[4096];
        (void)s.read_some(asio::buffer(buf), ec);  // the request (small in these tests)
        asio::write(s, asio::buffer(reply_), ec);
        s.shutdown(tcp::socket::shutdown_both, ec);
      }
    });
  }
  ~RawUpstream() {
    stopping_ = true;
    wakeAcceptor(acceptor_);
    thread_.join();
  }
  [[nodiscard]] std::string url() const { return loopbackUrl(acceptor_); }

 private:
  std::string reply_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

// On a route where nothing reads an answer's fields, the upstream's fields pass as the lines they
// came in; on a route with response_headers they go through a field set. The client sees the same
// fields either way (same-name fields in their order, hop-by-hop ones gone, an HTTP/1.0 upstream's
// answer persistent), whatever shape the upstream's answer had.
TEST(ProxyServer, AnswerFieldsAreTheSameWhetherTheyPassAsLinesOrThroughAFieldSet) {
  RawUpstream up(
      "HTTP/1.0 203 Partly Mine\r\nSet-Cookie: a=1\r\nConnection: keep-alive, X-Hop\r\nX-Hop: no\r\n"
      "X-Kept:  spaced  \r\nset-cookie: b=2\r\nKeep-Alive: timeout=5\r\nContent-Length: 4\r\n\r\nbody");
  const std::string routes = kApiRoute +
                             "  - name: shaped\n    match: { path_prefix: /shaped }\n    service: app\n"
                             "    policies:\n      - response_headers:\n          - { set: X-Shaped, value: \"yes\" }\n";
  TestProxy proxy(gateway(oneService(up.url()), routes));
  auto fields = [](const Response& res) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& f : res) {
      if (f.name_string() != "X-Shaped") out.emplace_back(f.name_string(), f.value());
    }
    return out;
  };
  TestClient a(proxy.port());
  const Response lines = a.get("/api/x");
  TestClient b(proxy.port());
  const Response shaped = b.get("/shaped/x");
  ASSERT_EQ(lines.result_int(), 203);
  EXPECT_EQ(lines.reason(), "Partly Mine");
  EXPECT_EQ(lines.body(), "body");
  EXPECT_EQ(shaped["X-Shaped"], "yes");
  EXPECT_EQ(fields(lines), fields(shaped));
  for (const char* gone : {"X-Hop", "Keep-Alive"}) EXPECT_EQ(lines.count(gone), 0u) << gone;
  EXPECT_EQ(lines["X-Kept"], "spaced");
  EXPECT_TRUE(lines.keep_alive());
}


TEST(ProxyServer, MalformedOrOversizedUpstreamRepliesAre502) {
  // Bad upstream replies are data: the client gets 502 and the gateway keeps serving.
  const std::vector<std::string> replies = {
      "garbage\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",          // closes before the body is complete
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  // an invalid chunk size
      "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n" + std::string(200, 'b'),  // above the body limit
  };
  for (const std::string& reply : replies) {
    RawUpstream bad(reply);
    ServerOptions o;
    o.maxUpstreamBodyBytes = 100;
    TestProxy proxy(gateway(oneService(bad.url()), kApiRoute), o);
    TestClient client(proxy.port());
    EXPECT_EQ(client.get("/api/x").result_int(), 502) << reply.substr(0, 40);
    EXPECT_EQ(client.get("/elsewhere").result_int(), 404);  // still serving on the same connection
  }
}

}  // namespace
}  // namespace gatelab::proxy
