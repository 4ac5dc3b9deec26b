// JWT verification cost per algorithm: the whole verify() (shape, header, key, signature,
// claims, time), with and without the verified-token cache (every iteration a hit), the
// signature check alone, a refused forgery, and finding the token in a request.
// Tokens and keys are the test fixtures made by PyJWT (tests/gateway/core/auth/make_tokens.py),
// read from the source tree; `now` is the fixtures' NOW, so every token is valid.
// Run in Release: scripts/bench.sh (builds build-release/ and runs every *_bench).

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/core/auth/base64.hpp"
#include "gateway/core/auth/jwk.hpp"
#include "gateway/core/auth/jwt.hpp"
#include "gateway/core/auth/token_cache.hpp"
#include "gateway/core/auth/token_source.hpp"
#include "gateway/core/request.hpp"

namespace {

using namespace gatelab::core;
using namespace gatelab::core::auth;

struct Setup {
  nlohmann::json fixtures;
  std::unique_ptr<JwtVerifier> verifier;
  TimePoint now;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(1);
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

VerificationKey must(KeyResult r) {
  if (!r.ok()) {
    std::fprintf(stderr, "fixture key: %s\n", r.error.c_str());
    std::exit(1);
  }
  return std::move(*r.key);
}

const Setup& setup() {
  static const Setup s = [] {
    Setup x;
    const std::string dir = GATELAB_JWT_FIXTURES;
    x.fixtures = nlohmann::json::parse(readFile(dir + "/fixtures.json"));
    KeySet keys;
    for (const VerificationKey& k : parseJwks(readFile(dir + "/jwks.json")).keys) (void)keys.add(k);
    const auto secret = [&](const char* name) { return x.fixtures["secrets"][name].get<std::string>(); };
    (void)keys.add(must(makeHmacKey("hs256", Algorithm::kHs256, secret("hs256_base64url"), SecretEncoding::kBase64Url)));
    (void)keys.add(must(makeHmacKey("hs384", Algorithm::kHs384, secret("hs384_base64"), SecretEncoding::kBase64)));
    (void)keys.add(must(makeHmacKey("hs512", Algorithm::kHs512, secret("hs512_raw"), SecretEncoding::kRaw)));
    JwtConfig config;
    config.issuers = {x.fixtures["issuer"].get<std::string>()};
    config.audiences = {x.fixtures["audience"].get<std::string>()};
    x.verifier = std::make_unique<JwtVerifier>(std::move(keys), std::move(config));
    x.now = TimePoint{std::chrono::seconds{x.fixtures["now"].get<std::int64_t>()}};
    return x;
  }();
  return s;
}

// Fixture token per algorithm, in kAllAlgorithms order.
constexpr const char* kTokens[] = {"hs256", "hs384", "hs512", "rs256", "rs384", "rs512", "es256", "es384", "eddsa"};

std::string token(const char* name) { return setup().fixtures["tokens"][name].get<std::string>(); }

void checkOk(benchmark::State& state, const JwtResult& r) {
  if (!r.ok()) state.SkipWithError(r.detail.c_str());
}

void BM_Verify(benchmark::State& state) {
  const std::size_t i = static_cast<std::size_t>(state.range(0));
  const std::string t = token(kTokens[i]);
  const JwtVerifier& v = *setup().verifier;
  checkOk(state, v.verify(t, setup().now));
  for (auto _ : state) benchmark::DoNotOptimize(v.verify(t, setup().now));
  state.SetLabel(toString(kAllAlgorithms[i]));
}

void BM_VerifyCached(benchmark::State& state) {
  const std::size_t i = static_cast<std::size_t>(state.range(0));
  const std::string t = token(kTokens[i]);
  const JwtVerifier& v = *setup().verifier;
  VerifiedTokenCache cache(10'000);
  checkOk(state, v.verify(t, setup().now, cache));
  for (auto _ : state) benchmark::DoNotOptimize(v.verify(t, setup().now, cache));
  if (cache.stats().hits < static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("cache missed");
  state.SetLabel(toString(kAllAlgorithms[i]));
}

// The signature alone (no parsing): what the cache saves.
void BM_SignatureOnly(benchmark::State& state) {
  const std::size_t i = static_cast<std::size_t>(state.range(0));
  const std::string t = token(kTokens[i]);
  const std::size_t dot = t.rfind('.');
  std::string sig;
  (void)decodeBase64Url(std::string_view(t).substr(dot + 1), sig);
  const KeyMatch m = setup().verifier->keys().find(kTokens[i] == std::string("eddsa") ? "ed" : kTokens[i], kAllAlgorithms[i]);
  if (m.key == nullptr) {
    state.SkipWithError("no key");
    return;
  }
  const std::string_view input = std::string_view(t).substr(0, dot);
  for (auto _ : state) benchmark::DoNotOptimize(m.key->verify(input, sig));
  state.SetLabel(toString(kAllAlgorithms[i]));
}

// Refusals: a forged HS256 payload (full signature check), and garbage (shape check only).
void BM_RejectForgedHs256(benchmark::State& state) {
  const std::string t = token("tampered_payload_hs256");
  for (auto _ : state) benchmark::DoNotOptimize(setup().verifier->verify(t, setup().now));
}

void BM_RejectGarbage(benchmark::State& state) {
  const std::string t(600, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(setup().verifier->verify(t, setup().now));
}

void BM_FindBearerToken(benchmark::State& state) {
  const std::string bearer = "Bearer " + token("hs256");
  const std::vector<Header> headers = {{"Host", "api.example"}, {"User-Agent", "bench"}, {"Accept", "*/*"}, {"Authorization", bearer}};
  RequestView r;
  r.headers = headers;
  const std::vector<TokenSource> sources = defaultTokenSources();
  for (auto _ : state) benchmark::DoNotOptimize(findToken(r, sources));
}

void allAlgorithms(benchmark::internal::Benchmark* b) {
  for (int i = 0; i < static_cast<int>(std::size(kTokens)); ++i) b->Arg(i);
}

}  // namespace

BENCHMARK(BM_Verify)->Apply(allAlgorithms);
BENCHMARK(BM_VerifyCached)->Apply(allAlgorithms);
BENCHMARK(BM_SignatureOnly)->Apply(allAlgorithms);
BENCHMARK(BM_RejectForgedHs256);
BENCHMARK(BM_RejectGarbage);
BENCHMARK(BM_FindBearerToken);

BENCHMARK_MAIN();
