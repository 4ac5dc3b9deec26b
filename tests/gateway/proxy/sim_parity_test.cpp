// The proxy and the simulator decide the same: one timed sequence of requests (several clients,
// several rate-limit policies and algorithms, keys from headers) goes through the live proxy on
// loopback with a manual clock, and through the simulated gateway in virtual time; every request
// gets the same verdict (forwarded or rejected, and with which status) in both — with the
// counters in the proxy's memory, and with them in Redis (store: redis, a redis-server per test).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "sim/engine/backend.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/gateway/sim_gateway.hpp"
#include "tests/gateway/proxy/proxy_test_support.hpp"
#include "tests/support/redis_server.hpp"

namespace gatelab::proxy {
namespace {

using namespace testing;
using namespace std::chrono_literals;

/// The config; with `redisPort`, every policy keeps its counters in that Redis (store: redis).
std::string configFor(const std::string& url, std::uint16_t redisPort = 0) {
  const std::string store = redisPort == 0 ? "" : ", store: redis";
  const std::string redis =
      redisPort == 0 ? "" : "redis: { address: 127.0.0.1:" + std::to_string(redisPort) + ", key_prefix: parity }\n";
  return "version: 1\n" + redis + "services:\n  - name: app\n    targets: [" + url +
         "]\nroutes:\n"
         "  - name: api\n    match: { path_prefix: /api }\n    service: app\n    policies:\n"
         "      - rate_limit: { name: burst, algorithm: token_bucket, limit: 5/s, burst: 3, key: 'header:x-client'" +
         store + " }\n"
         "      - rate_limit: { name: tenant, algorithm: sliding_window_counter, limit: 12/2s, key: 'header:x-tenant', "
         "status: 503" + store + " }\n"
         "  - name: login\n    match: { path: /login }\n    service: app\n    policies:\n"
         "      - rate_limit: { name: login, algorithm: fixed_window, limit: 2/s, key: 'header:x-client'" + store + " }\n"
         "      - rate_limit: { name: gcra, algorithm: gcra, limit: 4/s, burst: 2, key: global" + store + " }\n";
}

struct Timed {
  core::Duration at;
  std::string path;
  std::string client;
  std::string tenant;
};

std::vector<Timed> sequence() {
  // A deterministic mix: bursts and gaps, 6 clients in 2 tenants, two routes.
  std::vector<Timed> out;
  std::uint64_t x = 12345;
  core::Duration t{0};
  for (int i = 0; i < 240; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    t += core::Duration{static_cast<std::int64_t>((x >> 33) % 40'000'000)};  // 0-40ms apart
    const int client = static_cast<int>((x >> 20) % 6);
    out.push_back(Timed{t, (x >> 40) % 4 == 0 ? "/login" : "/api/items/" + std::to_string(i),
                        "c" + std::to_string(client), client < 3 ? "t-a" : "t-b"});
  }
  return out;
}

/// The status each request got in the simulator (the backend always answers 200).
std::vector<unsigned> simulate(const std::string& yaml, const std::vector<Timed>& requests) {
  const auto loaded = config::loadConfigString(yaml, "parity.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.errorText();
  auto built = config::buildRuntime(loaded.config);
  EXPECT_TRUE(built.ok());
  sim::Simulation simulation(sim::RunSeed{1, 0});
  sim::BackendConfig bc;
  bc.service = "app";
  bc.servers = 1000;
  bc.serviceTime = sim::ServiceTime::constant(1ms);
  sim::MockBackend backend(simulation, bc);
  struct Statuses final : sim::GatewayObserver {
    std::vector<unsigned>* out = nullptr;
    std::vector<std::uint64_t> ids;
    void onComplete(const sim::CompletionReport& r) override {
      if (out->size() < r.request) out->resize(r.request);
      (*out)[r.request - 1] = r.status;
    }
  } observer;
  std::vector<unsigned> statuses;
  observer.out = &statuses;
  sim::SimGateway gw(simulation, *built.runtime, {{&backend}}, observer, simulation.random().stream("gateway"));
  for (const Timed& r : requests) {
    simulation.runUntil(core::atOffset(r.at));
    const core::Header headers[] = {{"x-client", r.client}, {"x-tenant", r.tenant}};
    core::RequestView v;
    v.method = "GET";
    v.path = r.path;
    v.host = "gateway.test";
    v.clientAddress = "127.0.0.1";
    v.headers = headers;
    gw.submit(v, 0);
  }
  simulation.run();
  return statuses;
}

void expectParity(std::uint16_t redisPort) {
  const std::vector<Timed> requests = sequence();
  TestUpstream up;
  const std::string yaml = configFor(up.url(), redisPort);
  const std::vector<unsigned> simulated = simulate(yaml, requests);
  ASSERT_EQ(simulated.size(), requests.size());

  // The proxy's clock: a fixed start on its timeline plus the request's offset. The simulation's
  // timeline starts at 0; clock-aligned windows (fixed_window, the counter's windows) start at
  // multiples of their length on either timeline, so the proxy's start is a whole minute.
  const core::TimePoint base = std::chrono::ceil<std::chrono::minutes>(monotonicNow());
  std::atomic<std::int64_t> offset{0};
  ServerOptions o;
  o.threads = 2;
  o.clock = [base, &offset] { return base + core::Duration{offset.load()}; };
  TestProxy proxy(yaml, o);
  TestClient client(proxy.port());
  std::vector<unsigned> live;
  for (const Timed& r : requests) {
    offset = r.at.count();
    live.push_back(client.get(r.path, {{"X-Client", r.client}, {"X-Tenant", r.tenant}}).result_int());
  }

  std::size_t rejected = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(live[i], simulated[i]) << "request " << i << " at " << requests[i].at.count() << "ns " << requests[i].path
                                     << " " << requests[i].client;
    if (simulated[i] != 200) ++rejected;
  }
  // The sequence exercises the limits: a good share rejected, by more than one policy status.
  EXPECT_GT(rejected, requests.size() / 5);
  EXPECT_LT(rejected, requests.size());
  EXPECT_NE(std::find(simulated.begin(), simulated.end(), 503u), simulated.end());
  EXPECT_NE(std::find(simulated.begin(), simulated.end(), 429u), simulated.end());
  if (redisPort != 0) {  // every decision came from Redis, none from a fallback
    const std::string m = proxy.server->metricsText();
    EXPECT_EQ(m.find("result=\"timeout\""), std::string::npos) << m;
    EXPECT_EQ(m.find("result=\"unavailable\""), std::string::npos) << m;
    EXPECT_EQ(m.find("result=\"error\""), std::string::npos) << m;
    EXPECT_NE(m.find("gatelab_ratelimit_store_calls_total{route=\"api\",policy=\"burst\",result=\"ok\"}"),
              std::string::npos);
  }
}

TEST(ProxySimParity, SameTimedRequestsGetTheSameRateLimitVerdicts) { expectParity(0); }

// The same with every policy's counters in Redis: the store's Lua script decides live, the
// simulator evaluates the policies in-process, and every verdict agrees.
TEST(ProxySimParity, SameVerdictsWhenTheCountersLiveInRedis) {
  gatelab::testing::RedisServer redis;
  ASSERT_TRUE(redis.running()) << redis.error();
  expectParity(redis.port());
}

}  // namespace
}  // namespace gatelab::proxy
