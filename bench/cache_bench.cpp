// Response cache per request: lookup hit and miss over 1k-100k entries with realistic keys
// (host, a 30-byte path, a 3-argument query in random order, a key header and a cookie, Vary:
// Accept-Encoding), a hit among Vary variants, a store into a full cache (one LRU eviction per
// store), and Cache-Control parsing. Bodies are shared between entries (a hit never copies one),
// so the process stays small while the accounting sees 1 KiB per body.
// Run in Release: scripts/bench.sh (builds build-release/ and runs every *_bench).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gateway/core/cache/cache_control.hpp"
#include "gateway/core/cache/response_cache.hpp"
#include "gateway/core/request.hpp"

namespace {

using namespace gatelab::core;
using namespace gatelab::core::cache;

const TimePoint kNow = atOffset(std::chrono::hours(1));

/// One request with owned bytes; view() points into them.
struct OwnedRequest {
  std::string path;
  std::string query;
  std::string lang;
  std::vector<Header> headers;

  RequestView view() const {
    RequestView r;
    r.method = "GET";
    r.host = "api.example.com";
    r.path = path;
    r.query = query;
    r.headers = headers;
    return r;
  }
};

std::vector<OwnedRequest> makeRequests(std::size_t n, std::size_t offset) {
  std::vector<OwnedRequest> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    OwnedRequest& r = out[i];
    const std::size_t id = i + offset;
    r.path = "/api/v1/catalog/products/" + std::to_string(100000 + id);
    // Argument order varies with the id: the key sorts them.
    r.query = id % 2 == 0 ? "page=" + std::to_string(id % 7) + "&sort=price&currency=EUR"
                          : "currency=EUR&sort=price&page=" + std::to_string(id % 7);
    r.lang = "en-US";
  }
  for (OwnedRequest& r : out) {  // after the vector is final: views stay valid
    r.headers = {{"Host", "api.example.com"},
                 {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"},
                 {"Accept", "application/json"},
                 {"Accept-Encoding", "gzip, br"},
                 {"Accept-Language", r.lang},
                 {"X-Tenant-Id", "tenant-42"},
                 {"Cookie", "sid=9f8e7d6c5b4a; region=eu-west; theme=dark"},
                 {"X-Request-ID", "0af7651916cd43dd8448eb211c80319c"}};
  }
  return out;
}

CacheSpec benchSpec(std::uint64_t maxMemory) {
  CacheSpec s;
  s.ttl = std::chrono::minutes(10);
  s.contentTypes = {"application/json"};
  s.key.headers = {"X-Tenant-Id"};
  s.key.cookies = {"region"};
  s.maxMemory = maxMemory;
  s.maxEntryBytes = 64 * 1024;
  return s;
}

UpstreamResponse response(const std::shared_ptr<const std::string>& body, bool varyLanguage) {
  UpstreamResponse r;
  r.status = 200;
  r.headers = {{"Content-Type", "application/json; charset=utf-8"},
               {"Cache-Control", "public, max-age=300"},
               {"ETag", "\"5d8c72a5edda8d6a\""},
               {"Vary", varyLanguage ? "Accept-Encoding, Accept-Language" : "Accept-Encoding"},
               {"Date", "Mon, 07 Dec 2026 00:00:00 GMT"},
               {"Server", "backend/1.4"}};
  r.body = body;
  return r;
}

/// A cache holding one entry per request of `requests`.
ResponseCache filled(const std::vector<OwnedRequest>& requests, std::uint64_t maxMemory, bool varyLanguage = false) {
  SpecErrors errors;
  ResponseCache cache = *ResponseCache::create(benchSpec(maxMemory), errors);
  const auto body = std::make_shared<const std::string>(1024, 'x');
  for (const OwnedRequest& r : requests) {
    const CacheLookup l = cache.lookup(r.view(), kNow);
    cache.store(l, r.view(), response(body, varyLanguage), kNow, kNow);
  }
  return cache;
}

void BM_CacheLookupHit(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto requests = makeRequests(n, 0);
  ResponseCache cache = filled(requests, std::uint64_t{8} << 30);
  std::size_t i = 0;
  std::uint64_t hits = 0;
  for (auto _ : state) {
    const CacheLookup l = cache.lookup(requests[i].view(), kNow + std::chrono::seconds(1));
    hits += l.status == CacheStatus::kHit ? 1 : 0;
    benchmark::DoNotOptimize(l.response.get());
    if (++i == n) i = 0;
  }
  if (hits != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("expected only hits");
  state.SetLabel(std::to_string(n) + " entries");
}

void BM_CacheLookupMiss(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  ResponseCache cache = filled(makeRequests(n, 0), std::uint64_t{8} << 30);
  const auto absent = makeRequests(4096, n);
  std::size_t i = 0;
  for (auto _ : state) {
    const CacheLookup l = cache.lookup(absent[i].view(), kNow);
    benchmark::DoNotOptimize(l.key.data());
    if (++i == absent.size()) i = 0;
  }
  state.SetLabel(std::to_string(n) + " entries; the miss keeps its key for store()");
}

void BM_CacheLookupHitAmongVariants(benchmark::State& state) {
  // 4 Accept-Language variants per URL (Vary: Accept-Encoding, Accept-Language).
  static const std::vector<std::string> kLangs = {"en-US", "de-DE", "fr-FR", "ja-JP"};
  std::vector<OwnedRequest> requests;
  for (const std::string& lang : kLangs) {
    for (OwnedRequest& r : makeRequests(10'000, 0)) {
      r.lang = lang;
      requests.push_back(std::move(r));
    }
  }
  for (OwnedRequest& r : requests) r.headers[4].value = r.lang;  // the strings moved: re-point the view
  ResponseCache cache = filled(requests, std::uint64_t{8} << 30, true);
  std::size_t i = 0;
  for (auto _ : state) {
    const CacheLookup l = cache.lookup(requests[i].view(), kNow);
    benchmark::DoNotOptimize(l.response.get());
    if (++i == requests.size()) i = 0;
  }
  state.SetLabel("10k URLs x 4 variants");
}

void BM_CacheStoreWithEviction(benchmark::State& state) {
  // A full cache of ~10k entries: every store evicts the least recently used one.
  const auto requests = makeRequests(10'000, 0);
  const auto incoming = makeRequests(50'000, 10'000);
  ResponseCache cache = filled(requests, 24u << 20);
  const auto body = std::make_shared<const std::string>(1024, 'x');
  std::size_t i = 0;
  std::uint64_t evicted = 0;
  for (auto _ : state) {
    const CacheLookup l = cache.lookup(incoming[i].view(), kNow);
    evicted += cache.store(l, incoming[i].view(), response(body, false), kNow, kNow).evicted;
    if (++i == incoming.size()) i = 0;
  }
  state.counters["evictions/store"] = benchmark::Counter(static_cast<double>(evicted) / static_cast<double>(state.iterations()));
  state.counters["entries"] = static_cast<double>(cache.stats().entries);
  state.SetLabel("lookup (miss) + store, 24 MiB bound");
}

void BM_CacheControlParse(benchmark::State& state) {
  const std::string value = "public, max-age=300, s-maxage=600, stale-if-error=60, must-revalidate";
  for (auto _ : state) {
    CacheControl cc;
    parseCacheControlValue(value, cc);
    benchmark::DoNotOptimize(cc);
  }
}

}  // namespace

BENCHMARK(BM_CacheLookupHit)->Arg(1'000)->Arg(100'000);
BENCHMARK(BM_CacheLookupMiss)->Arg(100'000);
BENCHMARK(BM_CacheLookupHitAmongVariants);
BENCHMARK(BM_CacheStoreWithEviction);
BENCHMARK(BM_CacheControlParse);
BENCHMARK_MAIN();
