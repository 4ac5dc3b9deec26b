// JWT verification cost per algorithm: the whole verify() (shape, header, key, signature,
// claims, time), with and without the verified-token cache (every iteration a hit), HS tokens
// seen for the first time by a gateway that has the cache (every iteration a miss, a check and
// an insertion), the signature check alone, a refused forgery, and finding the token in a
// request.
// Tokens and keys are the test fixtures made by PyJWT (tests/gateway/core/auth/make_tokens.py),
// read from the source tree; `now` is the fixtures' NOW, so every token is valid.
// Run in Release: scripts/bench.sh (builds build-release/ and runs every *_bench).

#include <benchmark/benchmark.h>
#include <openssl/evp.h>

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

// HS tokens the cache does not hold: 4,096 distinct tokens (the fixture's claims plus a jti),
// signed here with OpenSSL's one-shot HMAC under the fixture secret, through a cache of 1,000
// entries, so every iteration misses, verifies on the cache's reusable HMAC context and inserts
// (evicting). This is what a gateway pays for a token it meets for the first time.
void BM_VerifyFirstSeen(benchmark::State& state) {
  static constexpr const char* kSecrets[] = {"hs256_base64url", "hs384_base64", "hs512_raw"};
  static constexpr const char* kDigests[] = {"SHA256", "SHA384", "SHA512"};
  static constexpr std::size_t kTokenCount = 4096;
  const std::size_t i = static_cast<std::size_t>(state.range(0));
  const nlohmann::json& fx = setup().fixtures;
  std::string secret = fx["secrets"][kSecrets[i]].get<std::string>();
  std::string decoded;
  if (i == 0 && decodeBase64Url(secret, decoded)) secret = decoded;
  if (i == 1 && decodeBase64(secret, decoded)) secret = decoded;
  const std::string fixture = token(kTokens[i]);
  const std::string header = fixture.substr(0, fixture.find('.'));
  std::string claims;
  (void)decodeBase64Url(fixture.substr(header.size() + 1, fixture.rfind('.') - header.size() - 1), claims);
  std::vector<std::string> tokens;
  tokens.reserve(kTokenCount);
  for (std::size_t n = 0; n < kTokenCount; ++n) {
    const std::string input = header + "." + encodeBase64Url(claims.substr(0, claims.size() - 1) + ",\"jti\":\"" + std::to_string(n) + "\"}");
    unsigned char tag[EVP_MAX_MD_SIZE];
    std::size_t tagLen = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, kDigests[i], nullptr, secret.data(), secret.size(),
                  reinterpret_cast<const unsigned char*>(input.data()), input.size(), tag, sizeof tag, &tagLen) == nullptr) {
      state.SkipWithError("cannot sign");
      return;
    }
    tokens.push_back(input + "." + encodeBase64Url(std::string_view(reinterpret_cast<const char*>(tag), tagLen)));
  }
  const JwtVerifier& v = *setup().verifier;
  VerifiedTokenCache cache(1'000);
  checkOk(state, v.verify(tokens[0], setup().now, cache));
  std::size_t n = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(v.verify(tokens[n], setup().now, cache));
    n = (n + 1) % kTokenCount;
  }
  if (cache.stats().hits != 0) state.SkipWithError("a token was found in the cache");
  state.SetLabel(toString(kAllAlgorithms[i]));
}

// Token i's signed input, its decoded signature and its key: what the signature benches check.
struct Signed {
  std::string token;
  std::size_t dot = 0;  // where the signed input ends
  std::string signature;
  KeyMatch match;
  [[nodiscard]] std::string_view input() const { return std::string_view(token).substr(0, dot); }
};
Signed signedToken(std::size_t i) {
  Signed out;
  out.token = token(kTokens[i]);
  out.dot = out.token.rfind('.');
  (void)decodeBase64Url(std::string_view(out.token).substr(out.dot + 1), out.signature);
  out.match = setup().verifier->keys().find(kTokens[i] == std::string("eddsa") ? "ed" : kTokens[i], kAllAlgorithms[i]);
  return out;
}

// The signature alone (no parsing): what the cache saves.
void BM_SignatureOnly(benchmark::State& state) {
  const std::size_t i = static_cast<std::size_t>(state.range(0));
  const Signed s = signedToken(i);
  if (s.match.key == nullptr) {
    state.SkipWithError("no key");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(s.match.key->verify(s.input(), s.signature));
  state.SetLabel(toString(kAllAlgorithms[i]));
}

// The HMAC check alone on a reused context (HmacScratch), as the cache's verifier does it.
void BM_SignatureOnlyReused(benchmark::State& state) {
  const std::size_t i = static_cast<std::size_t>(state.range(0));
  const Signed s = signedToken(i);
  if (s.match.key == nullptr) {
    state.SkipWithError("no key");
    return;
  }
  HmacScratch scratch;
  if (!s.match.key->verify(s.input(), s.signature, &scratch)) state.SkipWithError("does not verify");
  for (auto _ : state) benchmark::DoNotOptimize(s.match.key->verify(s.input(), s.signature, &scratch));
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
BENCHMARK(BM_VerifyFirstSeen)->DenseRange(0, 2);
BENCHMARK(BM_SignatureOnly)->Apply(allAlgorithms);
BENCHMARK(BM_SignatureOnlyReused)->DenseRange(0, 2);
BENCHMARK(BM_RejectForgedHs256);
BENCHMARK(BM_RejectGarbage);
BENCHMARK(BM_FindBearerToken);

BENCHMARK_MAIN();
