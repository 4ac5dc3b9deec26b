// Access and shaping policies per request: API-key authentication against 10,000 keys (plain
// and sha256-hashed mixed, hit and miss) and the SHA-256 alone, an ACL check with groups and
// per-method scopes, identity headers, template rendering, a header transform, and CORS
// evaluation (actual request and preflight; exact origin and wildcard pattern).
// Run in Release: scripts/bench.sh (builds build-release/ and runs every *_bench).

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "gateway/core/auth/acl.hpp"
#include "gateway/core/auth/api_key.hpp"
#include "gateway/core/auth/consumer.hpp"
#include "gateway/core/auth/identity.hpp"
#include "gateway/core/http_field.hpp"
#include "gateway/core/request.hpp"
#include "gateway/core/shaping/cors.hpp"
#include "gateway/core/shaping/header_transform.hpp"
#include "gateway/core/shaping/value_template.hpp"

namespace {

using namespace gatelab::core;
using namespace gatelab::core::auth;
using namespace gatelab::core::shaping;

std::string keyOf(std::size_t i) { return "gl_live_" + std::to_string(i * 2654435761u) + "_k3yM4t3r1al"; }

/// 10,000 consumers with one key each; even keys plain in config, odd keys as sha256 digests.
struct KeyTable {
  std::shared_ptr<const ConsumerRegistry> consumers;
  std::unique_ptr<ApiKeyAuth> auth;
  explicit KeyTable(std::size_t n) {
    std::vector<Consumer> list;
    ApiKeyAuthSpec spec;
    spec.sources = {{KeyLocation::kHeader, "X-API-Key"}, {KeyLocation::kQuery, "apikey"}};
    for (std::size_t i = 0; i < n; ++i) {
      list.push_back({"consumer-" + std::to_string(i), {"tier-" + std::to_string(i % 3)}});
      spec.keys.push_back({"consumer-" + std::to_string(i), i % 2 == 0 ? keyOf(i) : hashApiKey(keyOf(i)), ""});
    }
    SpecErrors errors;
    consumers = ConsumerRegistry::create(std::move(list), errors);
    auth = std::make_unique<ApiKeyAuth>(*ApiKeyAuth::create(std::move(spec), consumers, errors));
  }
};

const std::vector<Header>& typicalHeaders() {
  static const std::vector<Header> h = {{"Host", "api.example.com"},
                                        {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"},
                                        {"Accept", "application/json"},
                                        {"Accept-Encoding", "gzip, br"},
                                        {"Origin", "https://app.example.com"},
                                        {"X-Request-ID", "0af7651916cd43dd8448eb211c80319c"}};
  return h;
}

void BM_ApiKeyAuthenticate(benchmark::State& state) {
  static const KeyTable table(10'000);
  const bool hit = state.range(0) != 0;
  const std::string key = hit ? keyOf(4321) : "gl_live_not_a_key_at_all_0000";
  std::vector<Header> headers = typicalHeaders();
  headers.push_back({"X-API-Key", key});
  RequestView r;
  r.method = "GET";
  r.headers = headers;
  for (auto _ : state) {
    ApiKeyResult res = table.auth->authenticate(r);
    benchmark::DoNotOptimize(res);
  }
  state.SetLabel(hit ? "10k keys, hit" : "10k keys, unknown key");
}

void BM_ApiKeyFromQuery(benchmark::State& state) {
  static const KeyTable table(10'000);
  const std::string query = "page=2&apikey=" + keyOf(777) + "&sort=asc";
  RequestView r;
  r.method = "GET";
  r.headers = typicalHeaders();
  r.query = query;
  for (auto _ : state) {
    ApiKeyResult res = table.auth->authenticate(r);
    benchmark::DoNotOptimize(res);
  }
}

void BM_Sha256Key(benchmark::State& state) {
  const std::string key = keyOf(4321);
  for (auto _ : state) benchmark::DoNotOptimize(digestApiKey(key));
}

void BM_AclCheck(benchmark::State& state) {
  SpecErrors errors;
  AclSpec spec;
  for (int i = 0; i < 20; ++i) spec.allow.push_back("team-" + std::to_string(i));
  for (int i = 0; i < 10; ++i) spec.deny.push_back("banned-" + std::to_string(i));
  spec.scopes = {"orders:read"};
  spec.methodScopes = {{{"POST", "PUT", "PATCH"}, {"orders:write"}}, {{"DELETE"}, {"orders:admin"}}};
  const auto acl = AccessControl::create(spec, errors);
  const std::vector<std::string> groups = {"staff", "team-7", "eu"};
  const std::vector<Header> claims = {{"sub", "u-1"}, {"iss", "https://idp"}, {"scope", "openid profile orders:read orders:write"}};
  AclSubject s{.method = "POST", .authenticated = true, .groups = groups, .claims = claims};
  for (auto _ : state) benchmark::DoNotOptimize(acl->check(s));
}

void BM_IdentityHeaders(benchmark::State& state) {
  SpecErrors errors;
  const auto policy = IdentityPolicy::create({}, errors);
  const std::vector<std::string> groups = {"staff", "team-7"};
  const Identity id{.consumerId = "consumer-4321", .groups = groups, .credential = "laptop", .userId = "u-1", .scopes = "orders:read"};
  const HeaderList base = {{"Host", "api"}, {"X-Consumer-ID", "admin"}, {"Accept", "*/*"}, {"User-Agent", "curl/8"}};
  for (auto _ : state) {
    HeaderList fields = base;
    benchmark::DoNotOptimize(policy->apply(id, fields));
    benchmark::DoNotOptimize(fields.data());
  }
  state.SetLabel("copy of a 4-field list + strip 9 names + add 5 fields");
}

TemplateContext contextFor(const std::vector<Header>& headers, const std::vector<Header>& claims) {
  TemplateContext ctx;
  ctx.request.method = "GET";
  ctx.request.host = "api.example.com";
  ctx.request.clientAddress = "203.0.113.9";
  ctx.request.consumer = "consumer-4321";
  ctx.request.headers = headers;
  ctx.request.claims = claims;
  ctx.route = "orders";
  ctx.service = "orders-svc";
  ctx.uuid = "5f0c7a3e-1b2d-4c5e-8f90-0123456789ab";
  return ctx;
}

void BM_TemplateRender(benchmark::State& state) {
  const std::vector<Header> claims = {{"iss", "https://idp"}, {"sub", "user-7"}, {"scope", "a b"}};
  const TemplateContext ctx = contextFor(typicalHeaders(), claims);
  TemplateError error;
  const auto t = ValueTemplate::compile("user=$(jwt.sub); ip=$(client_ip); req=$(uuid); via $(route)", error);
  std::string out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t->render(ctx, out));
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_HeaderTransform(benchmark::State& state) {
  const std::vector<Header> claims = {{"sub", "user-7"}};
  const TemplateContext ctx = contextFor(typicalHeaders(), claims);
  SpecErrors errors;
  const auto t = HeaderTransform::create({{{HeaderOp::kRemove, "X-Internal", ""},
                                           {HeaderOp::kSet, "X-Request-ID", "$(uuid)"},
                                           {HeaderOp::kAdd, "X-End-User", "$(jwt.sub)"},
                                           {HeaderOp::kAppend, "X-Forwarded-For", "$(client_ip)"}}},
                                         errors);
  HeaderList base;
  for (const Header& h : typicalHeaders()) base.push_back({std::string(h.name), std::string(h.value)});
  base.push_back({"X-Forwarded-For", "10.0.0.1"});
  for (auto _ : state) {
    HeaderList fields = base;
    benchmark::DoNotOptimize(t->apply(fields, ctx));
    benchmark::DoNotOptimize(fields.data());
  }
  state.SetLabel("copy of a 7-field list + 4 operations");
}

const CorsPolicy& corsPolicy() {
  static const CorsPolicy p = [] {
    SpecErrors errors;
    CorsSpec spec;
    spec.origins = {"https://app.example.com", "https://admin.example.com", "https://partner.example.net",
                    "http://localhost:3000", "http://localhost:8080", "https://*.preview.example.com"};
    spec.methods = {"GET", "POST", "PUT", "DELETE"};
    spec.allowHeaders = {"Content-Type", "Authorization", "X-Request-ID"};
    spec.exposeHeaders = {"X-RateLimit-Remaining", "RateLimit"};
    spec.credentials = true;
    spec.maxAge = std::chrono::seconds(600);
    return *CorsPolicy::create(spec, errors);
  }();
  return p;
}

void BM_CorsActual(benchmark::State& state) {
  static const std::vector<std::string> origins = {"https://app.example.com", "https://pr-42.preview.example.com",
                                                   "https://evil.example"};
  std::vector<Header> headers = typicalHeaders();
  headers[4].value = origins[static_cast<std::size_t>(state.range(0))];
  RequestView r;
  r.method = "GET";
  r.headers = headers;
  const CorsPolicy& p = corsPolicy();
  for (auto _ : state) benchmark::DoNotOptimize(p.evaluate(r));
  state.SetLabel(state.range(0) == 0 ? "exact origin" : state.range(0) == 1 ? "wildcard pattern" : "refused origin");
}

void BM_CorsPreflight(benchmark::State& state) {
  const std::vector<Header> headers = {{"Host", "api.example.com"},
                                       {"Origin", "https://app.example.com"},
                                       {"Access-Control-Request-Method", "PUT"},
                                       {"Access-Control-Request-Headers", "content-type, authorization"}};
  RequestView r;
  r.method = "OPTIONS";
  r.headers = headers;
  const CorsPolicy& p = corsPolicy();
  for (auto _ : state) benchmark::DoNotOptimize(p.evaluate(r));
}

}  // namespace

BENCHMARK(BM_ApiKeyAuthenticate)->Arg(1)->Arg(0);
BENCHMARK(BM_ApiKeyFromQuery);
BENCHMARK(BM_Sha256Key);
BENCHMARK(BM_AclCheck);
BENCHMARK(BM_IdentityHeaders);
BENCHMARK(BM_TemplateRender);
BENCHMARK(BM_HeaderTransform);
BENCHMARK(BM_CorsActual)->Arg(0)->Arg(1)->Arg(2);
BENCHMARK(BM_CorsPreflight);

BENCHMARK_MAIN();
