// Cache-Control parsing (RFC 9111 §5.2): directives, quoted values, unknown and malformed
// directives, duplicates, several field lines; HTTP-date parsing in its three forms.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/cache/cache_control.hpp"

namespace gatelab::core::cache {
namespace {

using namespace std::chrono_literals;

CacheControl parse(std::string_view value) {
  CacheControl cc;
  parseCacheControlValue(value, cc);
  return cc;
}

TEST(CacheControlTest, BooleanDirectivesAreCaseInsensitive) {
  const CacheControl cc = parse("No-Store, PRIVATE, public, must-revalidate, Proxy-Revalidate, only-if-cached, no-transform");
  EXPECT_TRUE(cc.noStore);
  EXPECT_TRUE(cc.isPrivate);
  EXPECT_TRUE(cc.isPublic);
  EXPECT_TRUE(cc.mustRevalidate);
  EXPECT_TRUE(cc.proxyRevalidate);
  EXPECT_TRUE(cc.onlyIfCached);
  EXPECT_TRUE(cc.noTransform);
  EXPECT_FALSE(cc.noCache);
}

TEST(CacheControlTest, DeltaSecondsDirectives) {
  const CacheControl cc =
      parse("max-age=60, s-maxage=120, stale-while-revalidate=5, stale-if-error=300, min-fresh=7, max-stale=9");
  EXPECT_EQ(cc.maxAge, 60s);
  EXPECT_EQ(cc.sMaxAge, 120s);
  EXPECT_EQ(cc.staleWhileRevalidate, 5s);
  EXPECT_EQ(cc.staleIfError, 300s);
  EXPECT_EQ(cc.minFresh, 7s);
  EXPECT_EQ(cc.maxStale, 9s);
  EXPECT_FALSE(cc.maxStaleAny);
  EXPECT_FALSE(cc.invalidFreshness);
}

TEST(CacheControlTest, QuotedValuesAndWhitespaceAreAccepted) {
  // RFC 9111 §5.2: recipients accept the quoted form of a token argument.
  const CacheControl cc = parse(" max-age = \"30\" ,s-maxage=\"45\"");
  EXPECT_EQ(cc.maxAge, 30s);
  EXPECT_EQ(cc.sMaxAge, 45s);
}

TEST(CacheControlTest, UnknownDirectivesAreIgnored) {
  const CacheControl cc = parse("community=\"UCI, x\", foo, bar=baz, max-age=10, immutable");
  EXPECT_EQ(cc.maxAge, 10s);
  EXPECT_FALSE(cc.noStore);
}

TEST(CacheControlTest, QuotedStringMayHoldCommasAndEscapes) {
  const CacheControl cc = parse("ext=\"a, no-store, \\\"q\\\"\", max-age=5");
  EXPECT_FALSE(cc.noStore) << "no-store inside a quoted string is data";
  EXPECT_EQ(cc.maxAge, 5s);
}

TEST(CacheControlTest, InvalidMaxAgeMarksFreshnessInvalid) {
  // RFC 9111 §4.2.1: invalid freshness information -> treat as stale.
  for (std::string_view v : {"max-age=abc", "max-age=-1", "max-age", "max-age=", "s-maxage=1.5"}) {
    SCOPED_TRACE(std::string(v));
    const CacheControl cc = parse(v);
    EXPECT_TRUE(cc.invalidFreshness);
    EXPECT_FALSE(cc.maxAge.has_value());
  }
}

TEST(CacheControlTest, InvalidStaleDirectivesAreDropped) {
  const CacheControl cc = parse("stale-if-error=x, min-fresh=, max-age=3");
  EXPECT_FALSE(cc.staleIfError.has_value());
  EXPECT_FALSE(cc.minFresh.has_value());
  EXPECT_FALSE(cc.invalidFreshness);
  EXPECT_EQ(cc.maxAge, 3s);
}

TEST(CacheControlTest, FirstOccurrenceWins) {
  const CacheControl cc = parse("max-age=10, max-age=99");
  EXPECT_EQ(cc.maxAge, 10s);
}

TEST(CacheControlTest, HugeDeltaIsCappedAt2To31) {
  const CacheControl cc = parse("max-age=99999999999999999999999");
  EXPECT_EQ(cc.maxAge, std::chrono::seconds(kMaxDeltaSeconds));
}

TEST(CacheControlTest, QualifiedNoCacheAndPrivateListFields) {
  const CacheControl cc = parse("no-cache=\"Set-Cookie, X-Secret\", private=\"X-User\"");
  EXPECT_FALSE(cc.noCache);
  EXPECT_FALSE(cc.isPrivate);
  EXPECT_EQ(cc.noCacheFields, (std::vector<std::string>{"set-cookie", "x-secret"}));
  EXPECT_EQ(cc.privateFields, (std::vector<std::string>{"x-user"}));
}

TEST(CacheControlTest, MaxStaleWithoutValueMeansAny) {
  EXPECT_TRUE(parse("max-stale").maxStaleAny);
}

TEST(CacheControlTest, SeveralFieldLinesFormOneList) {
  const HeaderList fields{{"Cache-Control", "public"}, {"Content-Type", "text/plain"}, {"cache-control", "max-age=8"}};
  const CacheControl cc = parseCacheControl(fields);
  EXPECT_TRUE(cc.isPublic);
  EXPECT_EQ(cc.maxAge, 8s);
}

TEST(CacheControlTest, JunkDoesNotCrashOrLeak) {
  for (std::string_view v : {"", ",,,", "=", "=5", "\"", "max-age=\"", "no-store=\"", ", , no-store ,", "max-age=5 x, no-store"}) {
    SCOPED_TRACE(std::string(v));
    (void)parse(v);
  }
  EXPECT_TRUE(parse(", , no-store ,").noStore);
  EXPECT_TRUE(parse("max-age=5 x, no-store").noStore);
}

// ---- HTTP-date -------------------------------------------------------------------------------------

TEST(HttpDateTest, ThreeFormsOfTheSameInstant) {
  // 784111777 = Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110 §5.6.7's example).
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parseHttpDate("Tue, 29 Feb 2000 12:00:00 GMT"), 951825600);
}

TEST(HttpDateTest, InvalidDatesAreRejected) {
  for (std::string_view v : {"0", "-1", "", "tomorrow", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 32 Nov 1994 08:49:37 GMT",
                             "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT"}) {
    SCOPED_TRACE(std::string(v));
    EXPECT_EQ(parseHttpDate(v), std::nullopt);
  }
}

}  // namespace
}  // namespace gatelab::core::cache
