// Rate-limit decision cost per algorithm: one hot key, and keys spread over 1M distinct keys.
// Counters: bytes_per_key = (entry array + index) / keys tracked, after the spread run.
// Run in Release: scripts/bench.sh (figures recorded in docs/performance.md).

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "gateway/core/hash.hpp"
#include "gateway/core/rate_limit/limiter.hpp"
#include "gateway/core/rate_limit/policy.hpp"

namespace {

using namespace gatelab::core;
using namespace gatelab::core::ratelimit;
using namespace std::chrono_literals;

LimitSpec specFor(int algo) {
  LimitSpec s;
  s.algorithm = static_cast<Algorithm>(algo);
  s.rate = Rate{100, 1s};
  switch (s.algorithm) {
    case Algorithm::kTokenBucket:
    case Algorithm::kTokenBucketDiscrete:
    case Algorithm::kGcra: s.burst = 100; break;
    case Algorithm::kLeakyBucket: s.burst = 50; s.delay = LimitSpec::kNoDelay; break;
    default: break;
  }
  return s;
}

void setLabel(benchmark::State& state, int algo) { state.SetLabel(toString(static_cast<Algorithm>(algo))); }

// One key; time advances range(1) ns per request: 1,000 (1M req/s against a 100/s limit: mostly
// rejections after the burst, the common case under attack) or 100,000 (10k req/s: a mix).
void BM_HotKey(benchmark::State& state) {
  const int algo = static_cast<int>(state.range(0));
  const std::int64_t step = state.range(1);
  auto lim = makeLocalLimiter(specFor(algo), 1000);
  const Hash128 key = hash128("203.0.113.7");
  std::int64_t t = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(lim->acquire(key, atOffset(Duration{t}), 1));
    t += step;
  }
  setLabel(state, algo);
}

const std::vector<Hash128>& millionKeys() {
  static const std::vector<Hash128> keys = [] {
    std::vector<Hash128> k;
    k.reserve(1'000'000);
    for (int i = 0; i < 1'000'000; ++i) k.push_back(hash128("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255)));
    return k;
  }();
  return keys;
}

// Requests spread uniformly at random over 1M tracked keys (every lookup a likely cache miss).
void BM_MillionKeys(benchmark::State& state) {
  const int algo = static_cast<int>(state.range(0));
  const auto& keys = millionKeys();
  auto lim = makeLocalLimiter(specFor(algo), 1'000'000);
  std::int64_t t = 0;
  for (const Hash128& k : keys) lim->acquire(k, atOffset(Duration{t += 10}), 1);  // warm: all tracked
  // The request sequence is laid out in advance and read sequentially, so the only random
  // memory accesses measured are the limiter's own (index slot and entry).
  std::mt19937_64 rng(1);
  std::vector<Hash128> sequence(1 << 20);
  for (auto& k : sequence) k = keys[rng() % keys.size()];
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(lim->acquire(sequence[i++ & (sequence.size() - 1)], atOffset(Duration{t}), 1));
    t += 1000;
  }
  const StoreStats st = lim->stats();
  state.counters["keys"] = static_cast<double>(st.keys);
  state.counters["bytes_per_key"] = static_cast<double>(st.bytes) / static_cast<double>(st.keys);
  state.counters["entry_bytes"] = static_cast<double>(lim->entryBytes());
  setLabel(state, algo);
}

// Whole policy on a request: key built from the client IP, hashed, one limit decided.
void BM_PolicyEvaluate(benchmark::State& state) {
  RateLimitPolicySpec spec;
  spec.name = "bench";
  spec.key = {KeyComponent{KeyPart::kClientIp, ""}};
  spec.limits = {specFor(static_cast<int>(Algorithm::kGcra))};
  std::string err;
  auto policy = RateLimitPolicy::create(spec, err);
  RequestView req;
  req.clientAddress = "203.0.113.7";
  std::string scratch;
  std::int64_t t = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy->evaluate(req, {}, atOffset(Duration{t}), scratch));
    t += 1000;
  }
}

// The same without building and hashing the key: the policy layer over one limiter.
void BM_PolicyEvaluateKey(benchmark::State& state) {
  RateLimitPolicySpec spec;
  spec.name = "bench";
  spec.key = {KeyComponent{KeyPart::kClientIp, ""}};
  spec.limits = {specFor(static_cast<int>(Algorithm::kGcra))};
  std::string err;
  auto policy = RateLimitPolicy::create(spec, err);
  const Hash128 key = hash128("203.0.113.7");
  std::int64_t t = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy->evaluateKey(key, atOffset(Duration{t})));
    t += 1000;
  }
}

void BM_BuildKeyIp(benchmark::State& state) {
  const std::vector<KeyComponent> key = {KeyComponent{KeyPart::kClientIp, ""}};
  RequestView req;
  req.clientAddress = "203.0.113.7";
  std::string out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(buildKey(key, MissingKey::kClientIp, req, {}, out));
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_Hash128Ip(benchmark::State& state) {
  const std::string ip = "203.0.113.7";
  for (auto _ : state) benchmark::DoNotOptimize(hash128(ip));
}

constexpr int kAlgorithms = 7;
void allAlgorithms(benchmark::internal::Benchmark* b) {
  for (int a = 0; a < kAlgorithms; ++a) b->Arg(a);
}
void allAlgorithmsTwoRates(benchmark::internal::Benchmark* b) {
  for (std::int64_t step : {1'000, 100'000}) {
    for (int a = 0; a < kAlgorithms; ++a) b->Args({a, step});
  }
}

BENCHMARK(BM_HotKey)->Apply(allAlgorithmsTwoRates);
BENCHMARK(BM_MillionKeys)->Apply(allAlgorithms);
BENCHMARK(BM_PolicyEvaluate);
BENCHMARK(BM_PolicyEvaluateKey);
BENCHMARK(BM_BuildKeyIp);
BENCHMARK(BM_Hash128Ip);

}  // namespace

BENCHMARK_MAIN();
