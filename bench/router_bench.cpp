// Router and path-normalization micro-benchmarks (Google Benchmark). Run a Release build:
//   cmake -S . -B build-router -G Ninja -DCMAKE_BUILD_TYPE=Release
//   ninja -C build-router router_bench && ./build-router/bench/router_bench
// Figures are recorded in docs/routing.md; nothing here is asserted by tests.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "gateway/core/path.hpp"
#include "gateway/core/router.hpp"

namespace {

using gatelab::core::Header;
using gatelab::core::HeaderPredicate;
using gatelab::core::PathMatch;
using gatelab::core::RequestView;
using gatelab::core::Router;
using gatelab::core::RouteSpec;

// A table shaped like a real API gateway's: mostly versioned resource prefixes (some with method
// lists, some host-restricted per tenant), exact health endpoints, a wildcard-host static route,
// a canary route keyed on a header, and a handful of legacy regex routes.
std::vector<RouteSpec> makeTable(std::size_t n) {
  std::vector<RouteSpec> routes;
  routes.reserve(n);
  const std::size_t regexCount = n >= 1000 ? 5 : n >= 100 ? 3 : 1;
  for (std::size_t i = 0; routes.size() < n; ++i) {
    RouteSpec r;
    r.name = "route" + std::to_string(i);
    r.services = {{"svc" + std::to_string(i % 50), 90}, {"canary" + std::to_string(i % 50), 10}};
    const std::string resource = "/api/v" + std::to_string(1 + i % 2) + "/resource" +
                                 std::to_string(i);
    if (i < regexCount) {
      r.pathKind = PathMatch::kRegex;
      r.path = "/api/v[0-9]+/legacy" + std::to_string(i) + "/[0-9]+/?";
    } else if (i % 10 == 1) {
      r.pathKind = PathMatch::kExact;
      r.path = resource + "/health";
    } else if (i % 10 == 2) {
      r.pathKind = PathMatch::kPrefix;
      r.path = resource;
      r.hosts = {"tenant" + std::to_string(i) + ".example.com"};
    } else if (i % 50 == 3) {
      r.pathKind = PathMatch::kPrefix;
      r.path = "/static/" + std::to_string(i);
      r.hosts = {"*.cdn.example.com"};
    } else if (i % 50 == 4) {
      r.pathKind = PathMatch::kPrefix;
      r.path = resource;
      HeaderPredicate canary;
      canary.name = "X-Canary";
      canary.kind = HeaderPredicate::Kind::kPresent;
      r.headers = {canary};
    } else {
      r.pathKind = PathMatch::kPrefix;
      r.path = resource;
      r.stripPath = true;
      if (i % 3 == 0) r.methods = {"GET", "POST"};
    }
    routes.push_back(std::move(r));
  }
  return routes;
}

Router buildOrDie(std::size_t n) {
  auto built = Router::build(makeTable(n));
  if (!built.ok()) std::abort();
  return *built.router;
}

struct Request {
  std::string method;
  std::string path;
  std::string host;
  std::vector<Header> headers;

  [[nodiscard]] RequestView view() const {
    RequestView v;
    v.method = method;
    v.path = path;
    v.host = host;
    v.headers = headers;
    return v;
  }
};

// Requests spread over the whole table (hits) or aimed past it (misses).
std::vector<Request> makeRequests(std::size_t tableSize, bool hits) {
  std::mt19937_64 rng(1234);
  std::vector<Request> requests;
  for (int k = 0; k < 1024; ++k) {
    const std::size_t i = rng() % tableSize;
    Request r;
    r.method = "GET";
    r.host = (i % 10 == 2) ? "tenant" + std::to_string(i) + ".example.com:8443"
                           : "api.example.com";
    r.headers = {{"user-agent", "bench/1.0"}, {"accept", "application/json"}};
    if (hits) {
      r.path = "/api/v" + std::to_string(1 + i % 2) + "/resource" + std::to_string(i) + "/" +
               std::to_string(rng() % 100000);
    } else {
      r.path = (k % 2 == 0) ? "/api/v1/unknown" + std::to_string(i) + "/items/42"
                            : "/nothing/here/" + std::to_string(i);
    }
    requests.push_back(std::move(r));
  }
  return requests;
}

void runLookups(benchmark::State& state, bool hits) {
  const auto tableSize = static_cast<std::size_t>(state.range(0));
  const Router router = buildOrDie(tableSize);
  const std::vector<Request> requests = makeRequests(tableSize, hits);
  std::string scratch;
  std::size_t next = 0;
  std::int64_t matched = 0;
  for (auto _ : state) {
    const auto result = router.match(requests[next].view(), scratch);
    matched += result.matched() ? 1 : 0;
    benchmark::DoNotOptimize(result);
    next = (next + 1) & 1023;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_ratio"] =
      static_cast<double>(matched) / static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}

void BM_RouterLookupHit(benchmark::State& state) { runLookups(state, true); }
void BM_RouterLookupMiss(benchmark::State& state) { runLookups(state, false); }
BENCHMARK(BM_RouterLookupHit)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_RouterLookupMiss)->Arg(10)->Arg(100)->Arg(1000);

// The same lookups on an already-normalized path: the router's own share of the cost.
void BM_RouterLookupHitNormalized(benchmark::State& state) {
  const auto tableSize = static_cast<std::size_t>(state.range(0));
  const Router router = buildOrDie(tableSize);
  const std::vector<Request> requests = makeRequests(tableSize, true);
  std::size_t next = 0;
  for (auto _ : state) {
    const Request& r = requests[next];
    benchmark::DoNotOptimize(router.matchNormalized(r.view(), r.path));
    next = (next + 1) & 1023;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouterLookupHitNormalized)->Arg(1000);

void BM_NormalizeTypicalPath(benchmark::State& state) {
  const std::string raw = "/api/v1/resource42/12345/items";
  std::string out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(gatelab::core::normalizePath(raw, out));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(raw.size()));
}
BENCHMARK(BM_NormalizeTypicalPath);

void BM_NormalizeHostilePath(benchmark::State& state) {
  const std::string raw = "//api/./v1/%72esource42/../resource43/%2e%2e/x/%7euser/a%2fb/";
  std::string out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(gatelab::core::normalizePath(raw, out));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(raw.size()));
}
BENCHMARK(BM_NormalizeHostilePath);

void BM_RouterBuild(benchmark::State& state) {
  const std::vector<RouteSpec> table = makeTable(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto built = Router::build(table);
    benchmark::DoNotOptimize(built);
  }
}
BENCHMARK(BM_RouterBuild)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
