// The response cache: what is stored (status, method, content type, Cache-Control, Authorization,
// Set-Cookie, Vary: *), freshness (s-maxage > max-age > Expires - Date > ttl, upstream Age,
// boundaries), Vary variants, key rules (query, headers, cookies, host case), LRU by bytes,
// stale-if-error windows, request Cache-Control (bypass, max-age, only-if-cached), HEAD from GET,
// invalidation by unsafe methods, purge, validation of the spec. Time is explicit; no sleeps.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gateway/core/cache/response_cache.hpp"

namespace gatelab::core::cache {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = atOffset(1000s);

// A request whose views stay valid while it lives.
struct Req {
  std::string method = "GET";
  std::string host = "api.example.com";
  std::string path = "/items";
  std::string query;
  std::string consumer;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<Header> views;

  RequestView view() {
    views.clear();
    for (const auto& [n, v] : headers) views.push_back({n, v});
    RequestView r;
    r.method = method;
    r.host = host;
    r.path = path;
    r.query = query;
    r.consumer = consumer;
    r.headers = views;
    return r;
  }
};

Req get(std::string path = "/items", std::string query = {}, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Req r;
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = std::move(headers);
  return r;
}

UpstreamResponse resp(std::uint16_t status = 200, HeaderList headers = {{"Content-Type", "application/json"}},
                      std::string body = "{\"ok\":true}") {
  return UpstreamResponse{status, std::move(headers), std::make_shared<const std::string>(std::move(body))};
}

CacheSpec testSpec() {
  CacheSpec s;
  s.ttl = 60s;
  s.statuses = {200, 301, 404};
  s.contentTypes = {"application/json", "text/*"};
  s.maxMemory = 64 * 1024;
  s.maxEntryBytes = 16 * 1024;
  return s;
}

ResponseCache make(CacheSpec spec = testSpec()) {
  SpecErrors errors;
  auto c = ResponseCache::create(std::move(spec), errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].field + ": " + errors[0].message);
  return std::move(*c);
}

// Looks `req` up at `now` and stores `r` as its answer (sent at `now` too).
StoreOutcome fill(ResponseCache& c, Req& req, UpstreamResponse r, TimePoint now = kT0) {
  const CacheLookup l = c.lookup(req.view(), now);
  return c.store(l, req.view(), std::move(r), now, now).outcome;
}

CacheStatus statusAt(ResponseCache& c, Req req, TimePoint now) { return c.lookup(req.view(), now).status; }

std::string bodyOf(const CacheLookup& l) { return l.response && l.response->body ? *l.response->body : "<none>"; }

// ---- what is stored ----------------------------------------------------------------------------------

struct StoreCase {
  const char* what;
  std::vector<std::pair<std::string, std::string>> requestHeaders;
  UpstreamResponse response;
  StoreOutcome expected;
};

// Property: each cacheability rule on its own decides store()'s outcome.
TEST(ResponseCacheTest, CacheabilityMatrix) {
  const HeaderList json{{"Content-Type", "application/json"}};
  auto with = [&](HeaderList extra) {
    HeaderList h = json;
    h.insert(h.end(), extra.begin(), extra.end());
    return h;
  };
  const std::vector<StoreCase> cases = {
      {"plain 200 json", {}, resp(), StoreOutcome::kStored},
      {"configured 404", {}, resp(404), StoreOutcome::kStored},
      {"unconfigured 500", {}, resp(500), StoreOutcome::kStatus},
      {"unconfigured 302", {}, resp(302), StoreOutcome::kStatus},
      {"media type with parameters", {}, resp(200, {{"Content-Type", "application/json; charset=utf-8"}}), StoreOutcome::kStored},
      {"media type case-insensitive", {}, resp(200, {{"Content-Type", "Application/JSON"}}), StoreOutcome::kStored},
      {"type wildcard text/*", {}, resp(200, {{"Content-Type", "text/html"}}, "<p>"), StoreOutcome::kStored},
      {"unconfigured media type", {}, resp(200, {{"Content-Type", "image/png"}}), StoreOutcome::kContentType},
      {"no Content-Type, empty body", {}, resp(301, {{"Location", "/new"}}, ""), StoreOutcome::kStored},
      {"no Content-Type, a body", {}, resp(200, {}, "data"), StoreOutcome::kContentType},
      {"no-store", {}, resp(200, with({{"Cache-Control", "no-store"}})), StoreOutcome::kNoStore},
      {"private", {}, resp(200, with({{"Cache-Control", "max-age=60, private"}})), StoreOutcome::kPrivate},
      {"no-cache", {}, resp(200, with({{"Cache-Control", "no-cache"}})), StoreOutcome::kNoCache},
      {"Authorization, response silent", {{"Authorization", "Bearer x"}}, resp(), StoreOutcome::kAuthorization},
      {"Authorization, public", {{"Authorization", "Bearer x"}}, resp(200, with({{"Cache-Control", "public"}})), StoreOutcome::kStored},
      {"Authorization, s-maxage", {{"Authorization", "Bearer x"}}, resp(200, with({{"Cache-Control", "s-maxage=5"}})), StoreOutcome::kStored},
      {"Authorization, must-revalidate", {{"Authorization", "Bearer x"}}, resp(200, with({{"Cache-Control", "must-revalidate"}})), StoreOutcome::kStored},
      {"Set-Cookie", {}, resp(200, with({{"Set-Cookie", "sid=1"}})), StoreOutcome::kSetCookie},
      {"Set-Cookie excluded by no-cache=", {}, resp(200, with({{"Set-Cookie", "sid=1"}, {"Cache-Control", "no-cache=\"Set-Cookie\""}})), StoreOutcome::kStored},
      {"Vary: *", {}, resp(200, with({{"Vary", "Accept, *"}})), StoreOutcome::kVaryStar},
      {"max-age=0 without stale window", {}, resp(200, with({{"Cache-Control", "max-age=0"}})), StoreOutcome::kNotFresh},
      {"invalid max-age", {}, resp(200, with({{"Cache-Control", "max-age=soon"}})), StoreOutcome::kNotFresh},
      {"upstream Age beyond lifetime", {}, resp(200, with({{"Cache-Control", "max-age=60"}, {"Age", "61"}})), StoreOutcome::kNotFresh},
      {"Expires: 0", {}, resp(200, with({{"Expires", "0"}})), StoreOutcome::kNotFresh},
      {"larger than maxEntryBytes", {}, resp(200, json, std::string(16 * 1024, 'x')), StoreOutcome::kTooLarge},
  };
  for (const StoreCase& c : cases) {
    SCOPED_TRACE(c.what);
    ResponseCache cache = make();
    Req req = get();
    req.headers = c.requestHeaders;
    EXPECT_EQ(fill(cache, req, c.response), c.expected) << toString(fill(cache, req, c.response));
    EXPECT_EQ(cache.stats().entries, c.expected == StoreOutcome::kStored ? 1u : 0u);
  }
}

TEST(ResponseCacheTest, UnsafeAndUnconfiguredMethodsBypass) {
  ResponseCache cache = make();
  Req post = get();
  post.method = "POST";
  const CacheLookup l = cache.lookup(post.view(), kT0);
  EXPECT_EQ(l.status, CacheStatus::kBypass);
  EXPECT_EQ(l.reason, LookupReason::kMethod);
  EXPECT_FALSE(l.mayStore);
  EXPECT_TRUE(l.invalidates);
  EXPECT_EQ(cache.store(l, post.view(), resp(), kT0, kT0).outcome, StoreOutcome::kNotAllowed);

  Req options = get();
  options.method = "OPTIONS";
  const CacheLookup o = cache.lookup(options.view(), kT0);
  EXPECT_EQ(o.status, CacheStatus::kBypass);
  EXPECT_FALSE(o.invalidates) << "OPTIONS is safe";
}

TEST(ResponseCacheTest, HeadIsServedFromTheGetEntry) {
  ResponseCache cache = make();
  Req g = get();
  ASSERT_EQ(fill(cache, g, resp()), StoreOutcome::kStored);
  Req head = get();
  head.method = "HEAD";
  const CacheLookup l = cache.lookup(head.view(), kT0 + 1s);
  EXPECT_EQ(l.status, CacheStatus::kHit);
  EXPECT_TRUE(l.headOnly);
  EXPECT_EQ(cache.stats().hitBytes, 0u) << "a HEAD hit sends no body";
}

TEST(ResponseCacheTest, AnswerToHeadIsNotStored) {
  ResponseCache cache = make();
  Req head = get();
  head.method = "HEAD";
  const CacheLookup l = cache.lookup(head.view(), kT0);
  EXPECT_EQ(l.status, CacheStatus::kMiss);
  EXPECT_EQ(cache.store(l, head.view(), resp(200, {{"Content-Type", "application/json"}}, ""), kT0, kT0).outcome,
            StoreOutcome::kHeadResponse);
}

TEST(ResponseCacheTest, HeadBypassesWhenOnlyGetIsConfigured) {
  CacheSpec spec = testSpec();
  spec.methods = {"GET"};
  ResponseCache cache = make(spec);
  Req head = get();
  head.method = "HEAD";
  EXPECT_EQ(cache.lookup(head.view(), kT0).status, CacheStatus::kBypass);
}

TEST(ResponseCacheTest, RangeRequestsBypass) {
  ResponseCache cache = make();
  Req g = get();
  ASSERT_EQ(fill(cache, g, resp()), StoreOutcome::kStored);
  const CacheLookup l = cache.lookup(get("/items", "", {{"Range", "bytes=0-1"}}).view(), kT0);
  EXPECT_EQ(l.status, CacheStatus::kBypass);
  EXPECT_EQ(l.reason, LookupReason::kRange);
  EXPECT_FALSE(l.mayStore);
}

// ---- freshness ---------------------------------------------------------------------------------------

struct FreshCase {
  const char* what;
  HeaderList headers;
  Duration lifetime;  // hit just before, miss at
};

// Property: the lifetime is s-maxage, else max-age, else Expires - Date, else the ttl (60s), and
// the upstream's Age counts against it.
TEST(ResponseCacheTest, FreshnessLifetimeAndBoundaries) {
  const std::vector<FreshCase> cases = {
      {"ttl when the response says nothing", {}, 60s},
      {"max-age over ttl", {{"Cache-Control", "max-age=10"}}, 10s},
      {"s-maxage over max-age", {{"Cache-Control", "max-age=10, s-maxage=30"}}, 30s},
      {"Expires - Date", {{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Expires", "Sun, 06 Nov 1994 08:49:57 GMT"}}, 20s},
      {"max-age over Expires", {{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Expires", "Sun, 06 Nov 1994 08:49:57 GMT"},
                                {"Cache-Control", "max-age=5"}}, 5s},
      {"Expires without Date: ttl", {{"Expires", "Sun, 06 Nov 1994 08:49:57 GMT"}}, 60s},
      {"upstream Age counts", {{"Cache-Control", "max-age=60"}, {"Age", "50"}}, 10s},
  };
  for (const FreshCase& c : cases) {
    SCOPED_TRACE(c.what);
    ResponseCache cache = make();
    HeaderList h{{"Content-Type", "application/json"}};
    h.insert(h.end(), c.headers.begin(), c.headers.end());
    Req req = get();
    ASSERT_EQ(fill(cache, req, resp(200, h)), StoreOutcome::kStored);
    EXPECT_EQ(statusAt(cache, get(), kT0 + c.lifetime - 1ms), CacheStatus::kHit);
    const CacheLookup at = cache.lookup(get().view(), kT0 + c.lifetime);
    EXPECT_EQ(at.status, CacheStatus::kMiss);
    EXPECT_EQ(at.reason, LookupReason::kExpired);
  }
}

TEST(ResponseCacheTest, AgeIncludesUpstreamAgeAndRoundTrip) {
  ResponseCache cache = make();
  Req req = get();
  const CacheLookup l = cache.lookup(req.view(), kT0);
  // Sent at kT0, answered 2s later with Age: 5.
  ASSERT_EQ(cache.store(l, req.view(), resp(200, {{"Content-Type", "application/json"}, {"Age", "5"}}), kT0, kT0 + 2s).outcome,
            StoreOutcome::kStored);
  const CacheLookup hit = cache.lookup(get().view(), kT0 + 12s);
  ASSERT_EQ(hit.status, CacheStatus::kHit);
  EXPECT_EQ(hit.age, 17s);  // 5 + 2 + 10
  EXPECT_EQ(ResponseCache::ageHeaderValue(hit.age), "17");
  EXPECT_EQ(findField(hit.response->headers, "age"), std::nullopt) << "the stored copy has no Age; the host sends a fresh one";
}

TEST(ResponseCacheTest, IgnoringCacheControlUsesTtlAndRequestsCannotBypass) {
  CacheSpec spec = testSpec();
  spec.respectCacheControl = false;
  ResponseCache cache = make(spec);
  Req req = get();
  ASSERT_EQ(fill(cache, req, resp(200, {{"Content-Type", "application/json"}, {"Cache-Control", "max-age=5"}})),
            StoreOutcome::kStored);
  EXPECT_EQ(statusAt(cache, get(), kT0 + 30s), CacheStatus::kHit) << "max-age ignored: ttl 60s";
  EXPECT_EQ(statusAt(cache, get("/items", "", {{"Cache-Control", "no-cache"}}), kT0 + 31s), CacheStatus::kHit);
  EXPECT_EQ(statusAt(cache, get(), kT0 + 60s), CacheStatus::kMiss);
  // Privacy rules still hold.
  Req other = get("/other");
  EXPECT_EQ(fill(cache, other, resp(200, {{"Content-Type", "application/json"}, {"Cache-Control", "private"}})),
            StoreOutcome::kPrivate);
}

// ---- Vary ----------------------------------------------------------------------------------------------

TEST(ResponseCacheTest, VaryKeepsOneEntryPerVariant) {
  ResponseCache cache = make();
  auto lang = [](std::string v) { return get("/items", "", {{"Accept-Language", std::move(v)}}); };
  const HeaderList vary{{"Content-Type", "application/json"}, {"Vary", "Accept-Language"}};
  Req en = lang("en");
  Req de = lang("de");
  ASSERT_EQ(fill(cache, en, resp(200, vary, "english")), StoreOutcome::kStored);
  ASSERT_EQ(fill(cache, de, resp(200, vary, "deutsch")), StoreOutcome::kStored);
  EXPECT_EQ(cache.stats().entries, 2u);

  EXPECT_EQ(bodyOf(cache.lookup(lang("en").view(), kT0 + 1s)), "english");
  EXPECT_EQ(bodyOf(cache.lookup(lang("de").view(), kT0 + 1s)), "deutsch");
  EXPECT_EQ(statusAt(cache, lang("fr"), kT0 + 1s), CacheStatus::kMiss);
  EXPECT_EQ(statusAt(cache, get(), kT0 + 1s), CacheStatus::kMiss) << "absent is its own variant";
}

TEST(ResponseCacheTest, VaryValuesAreNormalizedAcrossLinesAndWhitespace) {
  ResponseCache cache = make();
  Req a = get("/items", "", {{"Accept", "application/json,  text/plain"}});
  ASSERT_EQ(fill(cache, a, resp(200, {{"Content-Type", "application/json"}, {"Vary", "accept"}})), StoreOutcome::kStored);
  EXPECT_EQ(statusAt(cache, get("/items", "", {{"Accept", "application/json"}, {"accept", "text/plain"}}), kT0),
            CacheStatus::kHit);
}

TEST(ResponseCacheTest, ChangedVaryReplacesTheVariants) {
  ResponseCache cache = make();
  Req en = get("/items", "", {{"Accept-Language", "en"}, {"Accept", "a"}});
  Req de = get("/items", "", {{"Accept-Language", "de"}, {"Accept", "a"}});
  ASSERT_EQ(fill(cache, en, resp(200, {{"Content-Type", "application/json"}, {"Vary", "Accept-Language"}})), StoreOutcome::kStored);
  ASSERT_EQ(fill(cache, de, resp(200, {{"Content-Type", "application/json"}, {"Vary", "Accept-Language"}})), StoreOutcome::kStored);
  Req en2 = get("/items", "", {{"Accept-Language", "en"}, {"Accept", "a"}});
  ASSERT_EQ(fill(cache, en2, resp(200, {{"Content-Type", "application/json"}, {"Vary", "Accept"}}), kT0 + 70s), StoreOutcome::kStored);
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(statusAt(cache, get("/items", "", {{"Accept-Language", "xx"}, {"Accept", "a"}}), kT0 + 71s), CacheStatus::kHit);
}

TEST(ResponseCacheTest, VariantsPerKeyAreBounded) {
  ResponseCache cache = make();
  for (std::size_t i = 0; i <= kMaxVariantsPerKey; ++i) {
    Req r = get("/items", "", {{"X-V", std::to_string(i)}});
    ASSERT_EQ(fill(cache, r, resp(200, {{"Content-Type", "application/json"}, {"Vary", "X-V"}}, "b")), StoreOutcome::kStored);
  }
  EXPECT_EQ(cache.stats().entries, kMaxVariantsPerKey);
  EXPECT_EQ(statusAt(cache, get("/items", "", {{"X-V", "0"}}), kT0), CacheStatus::kMiss) << "the oldest variant went";
  EXPECT_EQ(statusAt(cache, get("/items", "", {{"X-V", "1"}}), kT0), CacheStatus::kHit);
}

// ---- key rules -----------------------------------------------------------------------------------------

TEST(ResponseCacheTest, QueryOrderDoesNotMatter) {
  ResponseCache cache = make();
  Req a = get("/items", "b=2&a=1");
  ASSERT_EQ(fill(cache, a, resp()), StoreOutcome::kStored);
  EXPECT_EQ(statusAt(cache, get("/items", "a=1&b=2"), kT0), CacheStatus::kHit);
  EXPECT_EQ(statusAt(cache, get("/items", "a=1&&b=2&"), kT0), CacheStatus::kHit) << "empty arguments dropped";
  EXPECT_EQ(statusAt(cache, get("/items", "a=1&b=3"), kT0), CacheStatus::kMiss);
  EXPECT_EQ(statusAt(cache, get("/items", "a=1"), kT0), CacheStatus::kMiss);
}

TEST(ResponseCacheTest, QueryNoneIgnoresTheQuery) {
  CacheSpec spec = testSpec();
  spec.key.query = QueryKey::kNone;
  ResponseCache cache = make(spec);
  Req a = get("/items", "utm=1");
  ASSERT_EQ(fill(cache, a, resp()), StoreOutcome::kStored);
  EXPECT_EQ(statusAt(cache, get("/items", "utm=2&x=y"), kT0), CacheStatus::kHit);
}

TEST(ResponseCacheTest, ListedQueryArgumentsOnly) {
  CacheSpec spec = testSpec();
  spec.key.query = QueryKey::kListed;
  spec.key.queryArgs = {"page", "sort"};
  ResponseCache cache = make(spec);
  Req a = get("/items", "page=2&utm_source=x&sort=asc");
  ASSERT_EQ(fill(cache, a, resp()), StoreOutcome::kStored);
  EXPECT_EQ(statusAt(cache, get("/items", "sort=asc&page=2&utm_source=y"), kT0), CacheStatus::kHit);
  EXPECT_EQ(statusAt(cache, get("/items", "sort=asc&page=3"), kT0), CacheStatus::kMiss);
}

TEST(ResponseCacheTest, KeyHeadersAndCookies) {
  CacheSpec spec = testSpec();
  spec.key.headers = {"X-Tenant"};
  spec.key.cookies = {"lang"};
  ResponseCache cache = make(spec);
  Req a = get("/items", "", {{"x-tenant", "acme"}, {"Cookie", "sid=abc; lang=en"}});
  ASSERT_EQ(fill(cache, a, resp()), StoreOutcome::kStored);
  EXPECT_EQ(statusAt(cache, get("/items", "", {{"X-Tenant", "acme"}, {"Cookie", "lang=en; sid=zzz"}}), kT0), CacheStatus::kHit)
      << "other cookies do not matter";
  EXPECT_EQ(statusAt(cache, get("/items", "", {{"X-Tenant", "other"}, {"Cookie", "lang=en"}}), kT0), CacheStatus::kMiss);
  EXPECT_EQ(statusAt(cache, get("/items", "", {{"X-Tenant", "acme"}, {"Cookie", "lang=de"}}), kT0), CacheStatus::kMiss);
  EXPECT_EQ(statusAt(cache, get("/items", "", {{"X-Tenant", "acme"}}), kT0), CacheStatus::kMiss);
}

TEST(ResponseCacheTest, KeyPartsCannotPoseAsEachOther) {
  CacheSpec spec = testSpec();
  spec.key.headers = {"X-A"};
  ResponseCache cache = make(spec);
  Req a = get("/items", "q=1", {{"X-A", "v"}});
  ASSERT_EQ(fill(cache, a, resp()), StoreOutcome::kStored);
  EXPECT_EQ(statusAt(cache, get("/items", "q=1v"), kT0), CacheStatus::kMiss);
  EXPECT_EQ(statusAt(cache, get("/itemsq=1", "", {{"X-A", "v"}}), kT0), CacheStatus::kMiss);
}

// Property: with key.consumer each consumer has its own entries, and answers to its
// authenticated requests are stored; without a consumer the RFC 9111 §3.5 rule still applies.
TEST(ResponseCacheTest, ConsumerInTheKey) {
  CacheSpec spec = testSpec();
  spec.key.consumer = true;
  ResponseCache cache = make(spec);
  auto as = [](std::string consumer) {
    Req r = get("/me", "", {{"Authorization", "Bearer t-" + consumer}});
    r.consumer = std::move(consumer);
    return r;
  };
  Req alice = as("alice");
  ASSERT_EQ(fill(cache, alice, resp(200, {{"Content-Type", "application/json"}}, "alice's")), StoreOutcome::kStored);
  EXPECT_EQ(bodyOf(cache.lookup(as("alice").view(), kT0 + 1s)), "alice's");
  EXPECT_EQ(statusAt(cache, as("bob"), kT0 + 1s), CacheStatus::kMiss);

  Req anonymous = as("");
  EXPECT_EQ(fill(cache, anonymous, resp()), StoreOutcome::kAuthorization) << "credentials that established nobody";
  Req privateAnswer = as("carol");
  EXPECT_EQ(fill(cache, privateAnswer, resp(200, {{"Content-Type", "application/json"}, {"Cache-Control", "private"}})),
            StoreOutcome::kPrivate);
}

TEST(ResponseCacheTest, HostIsCaseInsensitiveAndPartOfTheKey) {
  ResponseCache cache = make();
  Req a = get();
  ASSERT_EQ(fill(cache, a, resp()), StoreOutcome::kStored);
  Req upper = get();
  upper.host = "API.Example.COM";
  EXPECT_EQ(statusAt(cache, upper, kT0), CacheStatus::kHit);
  Req other = get();
  other.host = "www.example.com";
  EXPECT_EQ(statusAt(cache, other, kT0), CacheStatus::kMiss);
}

// ---- memory bound and LRU ------------------------------------------------------------------------------

TEST(ResponseCacheTest, LruEvictsLeastRecentlyUsedByBytes) {
  ResponseCache cache = make();  // 64 KiB
  const std::string body(12 * 1024, 'b');  // five entries fit, a sixth does not
  for (int i = 0; i < 5; ++i) {
    Req r = get("/e" + std::to_string(i));
    ASSERT_EQ(fill(cache, r, resp(200, {{"Content-Type", "text/plain"}}, body), kT0 + std::chrono::seconds(i)),
              StoreOutcome::kStored);
  }
  EXPECT_EQ(cache.stats().entries, 5u);
  EXPECT_EQ(statusAt(cache, get("/e0"), kT0 + 10s), CacheStatus::kHit);  // e0 becomes the most recent

  Req r5 = get("/e5");
  const CacheLookup l = cache.lookup(r5.view(), kT0 + 11s);
  const StoreResult s = cache.store(l, r5.view(), resp(200, {{"Content-Type", "text/plain"}}, body), kT0 + 11s, kT0 + 11s);
  EXPECT_EQ(s.outcome, StoreOutcome::kStored);
  EXPECT_EQ(s.evicted, 1u);
  EXPECT_EQ(statusAt(cache, get("/e1"), kT0 + 12s), CacheStatus::kMiss) << "e1 was the least recently used";
  EXPECT_EQ(statusAt(cache, get("/e0"), kT0 + 12s), CacheStatus::kHit);
  EXPECT_EQ(statusAt(cache, get("/e5"), kT0 + 12s), CacheStatus::kHit);
  EXPECT_LE(cache.stats().bytes, 64u * 1024);
  EXPECT_EQ(cache.stats().evictions, 1u);
}

TEST(ResponseCacheTest, AccountedBytesMatchEntries) {
  ResponseCache cache = make();
  for (int i = 0; i < 200; ++i) {
    Req r = get("/k" + std::to_string(i % 50), "i=" + std::to_string(i));
    (void)fill(cache, r, resp(200, {{"Content-Type", "text/plain"}}, std::string(static_cast<std::size_t>(100 + i * 37), 'x')));
    ASSERT_LE(cache.stats().bytes, 64u * 1024);
  }
  const std::uint64_t entries = cache.stats().entries;
  EXPECT_GT(entries, 0u);
  EXPECT_EQ(cache.purgeAll(), entries);
  EXPECT_EQ(cache.stats().bytes, 0u);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(ResponseCacheTest, SameKeyReplacesTheEntry) {
  ResponseCache cache = make();
  Req a = get();
  ASSERT_EQ(fill(cache, a, resp(200, {{"Content-Type", "application/json"}}, "v1")), StoreOutcome::kStored);
  Req b = get("/items", "", {{"Cache-Control", "no-cache"}});
  ASSERT_EQ(fill(cache, b, resp(200, {{"Content-Type", "application/json"}}, "v2"), kT0 + 1s), StoreOutcome::kStored);
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(bodyOf(cache.lookup(get().view(), kT0 + 2s)), "v2");
}

// ---- stale-if-error -----------------------------------------------------------------------------------

struct StaleCase {
  const char* what;
  Duration configured;
  std::string cacheControl;
  Duration offset;  // after kT0, for the failed request
  UpstreamFailure failure;
  std::uint16_t status;
  bool served;
};

// Property: an expired entry is served on an upstream failure inside its window (configured, or
// the response's stale-if-error), never after it, never after must-revalidate, only for 5xx
// statuses nginx and RFC 5861 name.
TEST(ResponseCacheTest, StaleIfErrorWindow) {
  using enum UpstreamFailure;
  const std::vector<StaleCase> cases = {
      {"connect failure inside the window", 60s, "max-age=10", 30s, kConnect, 0, true},
      {"timeout inside the window", 60s, "max-age=10", 69s, kTimeout, 0, true},
      {"503 inside the window", 60s, "max-age=10", 30s, kStatus, 503, true},
      {"404 is not an error", 60s, "max-age=10", 30s, kStatus, 404, false},
      {"501 does not qualify", 60s, "max-age=10", 30s, kStatus, 501, false},
      {"window closed", 60s, "max-age=10", 70s, kConnect, 0, false},
      {"feature off", 0s, "max-age=10", 11s, kConnect, 0, false},
      {"response stale-if-error replaces the configured window", 60s, "max-age=10, stale-if-error=5", 14s, kConnect, 0, true},
      {"...and bounds it", 60s, "max-age=10, stale-if-error=5", 15s, kConnect, 0, false},
      {"response stale-if-error without configuration", 0s, "max-age=10, stale-if-error=5", 14s, kConnect, 0, true},
      {"must-revalidate forbids stale", 60s, "max-age=10, must-revalidate", 11s, kConnect, 0, false},
      {"s-maxage implies proxy-revalidate", 60s, "s-maxage=10", 11s, kConnect, 0, false},
  };
  for (const StaleCase& c : cases) {
    SCOPED_TRACE(c.what);
    CacheSpec spec = testSpec();
    spec.staleIfError = c.configured;
    ResponseCache cache = make(spec);
    Req req = get();
    const StoreOutcome stored =
        fill(cache, req, resp(200, {{"Content-Type", "application/json"}, {"Cache-Control", c.cacheControl}}, "old"));
    if (stored != StoreOutcome::kStored) {
      EXPECT_FALSE(c.served) << toString(stored);
      continue;
    }
    const CacheLookup l = cache.lookup(get().view(), kT0 + c.offset);
    ASSERT_EQ(l.status, CacheStatus::kMiss);
    const auto s = cache.staleOnError(l, c.failure, c.status, kT0 + c.offset);
    EXPECT_EQ(s.has_value(), c.served);
    if (s) {
      EXPECT_EQ(*s->response->body, "old");
      EXPECT_EQ(s->age, c.offset);
      EXPECT_EQ(cache.stats().lookups[static_cast<std::size_t>(CacheStatus::kStale)], 1u);
    }
  }
}

TEST(ResponseCacheTest, EntryPastItsStaleWindowIsDropped) {
  CacheSpec spec = testSpec();
  spec.staleIfError = 30s;
  ResponseCache cache = make(spec);
  Req req = get();
  ASSERT_EQ(fill(cache, req, resp(200, {{"Content-Type", "application/json"}, {"Cache-Control", "max-age=10"}})),
            StoreOutcome::kStored);
  EXPECT_EQ(cache.sweep(kT0 + 39s), 0u);
  const CacheLookup l = cache.lookup(get().view(), kT0 + 40s);
  EXPECT_EQ(l.reason, LookupReason::kExpired);
  EXPECT_EQ(l.stale, nullptr);
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(cache.stats().expired, 1u);
}

TEST(ResponseCacheTest, SweepDropsExpiredEntries) {
  ResponseCache cache = make();
  Req a = get("/a");
  Req b = get("/b");
  ASSERT_EQ(fill(cache, a, resp(200, {{"Content-Type", "application/json"}, {"Cache-Control", "max-age=10"}})), StoreOutcome::kStored);
  ASSERT_EQ(fill(cache, b, resp()), StoreOutcome::kStored);
  EXPECT_EQ(cache.sweep(kT0 + 10s), 1u);
  EXPECT_EQ(cache.stats().entries, 1u);
}

// ---- request Cache-Control ----------------------------------------------------------------------------

TEST(ResponseCacheTest, RequestDirectives) {
  ResponseCache cache = make();
  Req a = get();
  ASSERT_EQ(fill(cache, a, resp()), StoreOutcome::kStored);
  const TimePoint t = kT0 + 10s;  // the entry is 10s old, fresh for 60s

  CacheLookup l = cache.lookup(get("/items", "", {{"Cache-Control", "no-cache"}}).view(), t);
  EXPECT_EQ(l.status, CacheStatus::kBypass);
  EXPECT_EQ(l.reason, LookupReason::kRequestNoCache);
  EXPECT_TRUE(l.mayStore) << "the fresh answer refreshes the entry";

  l = cache.lookup(get("/items", "", {{"Cache-Control", "max-age=0"}}).view(), t);
  EXPECT_EQ(l.reason, LookupReason::kRequestNoCache);

  l = cache.lookup(get("/items", "", {{"Pragma", "no-cache"}}).view(), t);
  EXPECT_EQ(l.reason, LookupReason::kRequestNoCache);
  l = cache.lookup(get("/items", "", {{"Pragma", "no-cache"}, {"Cache-Control", "max-age=60"}}).view(), t);
  EXPECT_EQ(l.status, CacheStatus::kHit) << "Pragma counts only without Cache-Control";

  Req noStore = get("/items", "", {{"Cache-Control", "no-store"}});
  l = cache.lookup(noStore.view(), t);
  EXPECT_EQ(l.status, CacheStatus::kBypass);
  EXPECT_EQ(l.reason, LookupReason::kRequestNoStore);
  EXPECT_EQ(cache.store(l, noStore.view(), resp(), t, t).outcome, StoreOutcome::kNotAllowed);

  l = cache.lookup(get("/items", "", {{"Cache-Control", "max-age=5"}}).view(), t);
  EXPECT_EQ(l.status, CacheStatus::kMiss);
  EXPECT_EQ(l.reason, LookupReason::kTooOld);
  l = cache.lookup(get("/items", "", {{"Cache-Control", "max-age=15"}}).view(), t);
  EXPECT_EQ(l.status, CacheStatus::kHit);
  l = cache.lookup(get("/items", "", {{"Cache-Control", "min-fresh=55"}}).view(), t);
  EXPECT_EQ(l.reason, LookupReason::kTooOld);

  l = cache.lookup(get("/nothing", "", {{"Cache-Control", "only-if-cached"}}).view(), t);
  EXPECT_EQ(l.status, CacheStatus::kMiss);
  EXPECT_TRUE(l.onlyIfCached);
  EXPECT_FALSE(l.mayStore);
  l = cache.lookup(get("/items", "", {{"Cache-Control", "only-if-cached"}}).view(), t);
  EXPECT_EQ(l.status, CacheStatus::kHit);
  EXPECT_FALSE(l.onlyIfCached);
}

TEST(ResponseCacheTest, IfNoneMatchOnAHit) {
  ResponseCache cache = make();
  Req a = get();
  ASSERT_EQ(fill(cache, a, resp(200, {{"Content-Type", "application/json"}, {"ETag", "\"v7\""}})), StoreOutcome::kStored);
  EXPECT_TRUE(cache.lookup(get("/items", "", {{"If-None-Match", "\"v6\", W/\"v7\""}}).view(), kT0).notModified);
  EXPECT_FALSE(cache.lookup(get("/items", "", {{"If-None-Match", "\"v6\""}}).view(), kT0).notModified);
  EXPECT_TRUE(cache.lookup(get("/items", "", {{"If-None-Match", "*"}}).view(), kT0).notModified);
}

// ---- what the stored copy holds -----------------------------------------------------------------------

TEST(ResponseCacheTest, StoredCopyDropsHopByHopAgeAndQualifiedFields) {
  ResponseCache cache = make();
  Req a = get();
  ASSERT_EQ(fill(cache, a,
                 resp(200, {{"Content-Type", "application/json"},
                            {"Connection", "X-Trace"},
                            {"X-Trace", "t1"},
                            {"Keep-Alive", "timeout=5"},
                            {"Transfer-Encoding", "chunked"},
                            {"Age", "1"},
                            {"Set-Cookie", "sid=1"},
                            {"X-User", "alice"},
                            {"Cache-Control", "no-cache=\"Set-Cookie\", private=\"X-User\""},
                            {"ETag", "\"e\""}})),
            StoreOutcome::kStored);
  const CacheLookup l = cache.lookup(get().view(), kT0);
  ASSERT_EQ(l.status, CacheStatus::kHit);
  std::vector<std::string> names;
  for (const HeaderField& f : l.response->headers) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Content-Type", "Cache-Control", "ETag"}));
}

TEST(ResponseCacheTest, HitsShareTheBodyWithoutCopying) {
  ResponseCache cache = make();
  Req a = get();
  auto r = resp();
  const std::string* original = r.body.get();
  ASSERT_EQ(fill(cache, a, std::move(r)), StoreOutcome::kStored);
  const CacheLookup h1 = cache.lookup(get().view(), kT0);
  const CacheLookup h2 = cache.lookup(get().view(), kT0);
  EXPECT_EQ(h1.response->body.get(), original);
  EXPECT_EQ(h1.response.get(), h2.response.get());
  cache.purgeAll();
  EXPECT_EQ(*h1.response->body, "{\"ok\":true}") << "a handed-out response outlives its entry";
}

// ---- invalidation and purge ---------------------------------------------------------------------------

TEST(ResponseCacheTest, UnsafeMethodInvalidatesThePath) {
  ResponseCache cache = make();
  Req a = get("/items", "page=1");
  Req b = get("/items", "page=2");
  Req c = get("/other");
  ASSERT_EQ(fill(cache, a, resp()), StoreOutcome::kStored);
  ASSERT_EQ(fill(cache, b, resp()), StoreOutcome::kStored);
  ASSERT_EQ(fill(cache, c, resp()), StoreOutcome::kStored);
  Req post = get("/items");
  post.method = "POST";
  const CacheLookup failed = cache.lookup(post.view(), kT0);
  EXPECT_EQ(cache.invalidate(failed, 500), 0u) << "an error changes nothing";
  EXPECT_EQ(cache.invalidate(cache.lookup(post.view(), kT0), 201), 2u);
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(statusAt(cache, get("/other"), kT0), CacheStatus::kHit);
}

TEST(ResponseCacheTest, PurgeExactPrefixAndAll) {
  CacheSpec spec = testSpec();
  spec.key.headers = {"X-Tenant"};
  ResponseCache cache = make(spec);
  auto put = [&](std::string host, std::string path, std::string query, std::string tenant) {
    Req r = get(std::move(path), std::move(query), {{"X-Tenant", std::move(tenant)}});
    r.host = std::move(host);
    ASSERT_EQ(fill(cache, r, resp()), StoreOutcome::kStored);
  };
  put("a.example", "/api/users", "b=2&a=1", "t1");
  put("a.example", "/api/users", "a=1&b=2", "t2");  // same URL, other tenant
  put("a.example", "/api/users", "a=9", "t1");
  put("a.example", "/api/orders", "", "t1");
  put("b.example", "/api/users", "", "t1");
  put("b.example", "/static/x", "", "t1");
  EXPECT_EQ(cache.stats().entries, 6u);

  EXPECT_EQ(cache.purge("A.example", "/api/users", "a=1&b=2"), 2u) << "every key-header variant of the URL";
  EXPECT_EQ(cache.purge("a.example", "/api/users", "a=1&b=2"), 0u);
  EXPECT_EQ(cache.purgePrefix("a.example", "/api/"), 2u);
  EXPECT_EQ(cache.purgePrefix("", "/api"), 1u);
  EXPECT_EQ(cache.purgeAll(), 1u);
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(cache.stats().bytes, 0u);
  EXPECT_EQ(cache.stats().purged, 6u);
}

// ---- counters -----------------------------------------------------------------------------------------

TEST(ResponseCacheTest, StatsCountEveryDecision) {
  ResponseCache cache = make();
  Req a = get();
  (void)fill(cache, a, resp());                                              // miss + stored
  (void)cache.lookup(get().view(), kT0);                                     // hit
  (void)cache.lookup(get("/items", "", {{"Cache-Control", "no-store"}}).view(), kT0);  // bypass
  Req bad = get("/bad");
  (void)fill(cache, bad, resp(500));                                         // miss + not stored
  const CacheStats& s = cache.stats();
  EXPECT_EQ(s.lookups[static_cast<std::size_t>(CacheStatus::kHit)], 1u);
  EXPECT_EQ(s.lookups[static_cast<std::size_t>(CacheStatus::kMiss)], 2u);
  EXPECT_EQ(s.lookups[static_cast<std::size_t>(CacheStatus::kBypass)], 1u);
  EXPECT_EQ(s.reasons[static_cast<std::size_t>(LookupReason::kRequestNoStore)], 1u);
  EXPECT_EQ(s.stores[static_cast<std::size_t>(StoreOutcome::kStored)], 1u);
  EXPECT_EQ(s.stores[static_cast<std::size_t>(StoreOutcome::kStatus)], 1u);
  EXPECT_EQ(s.hitBytes, std::string("{\"ok\":true}").size());
}

TEST(ResponseCacheTest, NamesAreStable) {
  EXPECT_STREQ(toString(CacheStatus::kHit), "Hit");
  EXPECT_STREQ(toString(CacheStatus::kMiss), "Miss");
  EXPECT_STREQ(toString(CacheStatus::kStale), "Stale");
  EXPECT_STREQ(toString(CacheStatus::kBypass), "Bypass");
  EXPECT_STREQ(toString(LookupReason::kRequestNoCache), "request_no_cache");
  EXPECT_STREQ(toString(StoreOutcome::kVaryStar), "vary_star");
  EXPECT_EQ(ResponseCache::ageHeaderValue(1999ms), "1");
  EXPECT_EQ(ResponseCache::ageHeaderValue(std::chrono::hours(24 * 365 * 100)), "2147483648");
}

// ---- spec validation ----------------------------------------------------------------------------------

struct SpecCase {
  const char* what;
  void (*mutate)(CacheSpec&);
  const char* field;
  const char* phrase;
};

// Property: every rule of CacheSpec is reported at its field with a message naming what is allowed.
TEST(ResponseCacheTest, SpecValidation) {
  const std::vector<SpecCase> cases = {
      {"zero ttl", [](CacheSpec& s) { s.ttl = 0s; }, "ttl", "greater than 0s"},
      {"negative stale", [](CacheSpec& s) { s.staleIfError = -1s; }, "staleIfError", "negative"},
      {"no statuses", [](CacheSpec& s) { s.statuses.clear(); }, "statuses", "at least one"},
      {"1xx status", [](CacheSpec& s) { s.statuses = {200, 101}; }, "statuses[1]", "200..599"},
      {"206", [](CacheSpec& s) { s.statuses = {206}; }, "statuses[0]", "partial"},
      {"304", [](CacheSpec& s) { s.statuses = {304}; }, "statuses[0]", "no body"},
      {"duplicate status", [](CacheSpec& s) { s.statuses = {200, 200}; }, "statuses[1]", "duplicate"},
      {"no media types", [](CacheSpec& s) { s.contentTypes.clear(); }, "contentTypes", "at least one"},
      {"parameters", [](CacheSpec& s) { s.contentTypes = {"text/html; charset=utf-8"}; }, "contentTypes[0]", "without parameters"},
      {"upper case", [](CacheSpec& s) { s.contentTypes = {"Text/HTML"}; }, "contentTypes[0]", "lower case"},
      {"*/*", [](CacheSpec& s) { s.contentTypes = {"*/*"}; }, "contentTypes[0]", "type/*"},
      {"duplicate type", [](CacheSpec& s) { s.contentTypes = {"text/*", "text/*"}; }, "contentTypes[1]", "duplicate"},
      {"POST", [](CacheSpec& s) { s.methods = {"GET", "POST"}; }, "methods[1]", "only GET and HEAD"},
      {"no methods", [](CacheSpec& s) { s.methods.clear(); }, "methods", "GET, HEAD"},
      {"duplicate method", [](CacheSpec& s) { s.methods = {"GET", "GET"}; }, "methods[1]", "duplicate"},
      {"listed without names", [](CacheSpec& s) { s.key.query = QueryKey::kListed; }, "key.queryArgs", "at least one"},
      {"names without listed", [](CacheSpec& s) { s.key.queryArgs = {"a"}; }, "key.queryArgs", "kListed"},
      {"bad arg", [](CacheSpec& s) { s.key.query = QueryKey::kListed; s.key.queryArgs = {"a=b"}; }, "key.queryArgs[0]", "'='"},
      {"bad header", [](CacheSpec& s) { s.key.headers = {"X Bad"}; }, "key.headers[0]", "token"},
      {"Cookie header", [](CacheSpec& s) { s.key.headers = {"Cookie"}; }, "key.headers[0]", "key.cookies"},
      {"duplicate header", [](CacheSpec& s) { s.key.headers = {"X-A", "x-a"}; }, "key.headers[1]", "duplicate"},
      {"bad cookie", [](CacheSpec& s) { s.key.cookies = {"a;b"}; }, "key.cookies[0]", "cookie name"},
      {"small memory", [](CacheSpec& s) { s.maxMemory = 1000; }, "maxMemory", "64 KiB"},
      {"entry above memory", [](CacheSpec& s) { s.maxEntryBytes = s.maxMemory + 1; }, "maxEntryBytes", "maxMemory"},
      {"tiny entry", [](CacheSpec& s) { s.maxEntryBytes = 10; }, "maxEntryBytes", "1 KiB"},
  };
  for (const SpecCase& c : cases) {
    SCOPED_TRACE(c.what);
    CacheSpec spec = testSpec();
    c.mutate(spec);
    SpecErrors errors;
    EXPECT_FALSE(ResponseCache::create(spec, errors).has_value());
    ASSERT_EQ(errors.size(), 1u) << errors[0].field << ": " << errors[0].message;
    EXPECT_EQ(errors[0].field, c.field);
    EXPECT_NE(errors[0].message.find(c.phrase), std::string::npos) << errors[0].message;
  }
}

TEST(ResponseCacheTest, DefaultSpecIsValid) {
  SpecErrors errors;
  EXPECT_TRUE(ResponseCache::create(CacheSpec{}, errors).has_value());
  EXPECT_TRUE(errors.empty());
}

}  // namespace
}  // namespace gatelab::core::cache
