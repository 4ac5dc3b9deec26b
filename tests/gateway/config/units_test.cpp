// Units, addresses, suggestions and diagnostic formatting: the pure text layer under the loader.

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>
#include <string_view>

#include "gateway/config/address.hpp"
#include "gateway/config/diagnostics.hpp"
#include "gateway/config/suggest.hpp"
#include "gateway/config/units.hpp"

namespace gatelab::config {
namespace {

using namespace std::chrono_literals;
using core::Duration;
using core::Rate;

// ---- durations --------------------------------------------------------------------------------

struct DurationCase {
  std::string_view text;
  Duration expected;
};

TEST(ConfigUnits, ParsesEveryDurationForm) {
  const std::array<DurationCase, 18> cases{{
      {"250ms", 250ms},            // milliseconds
      {"30s", 30s},                // seconds
      {"1m", 1min},                // "m" is a minute (Go/Envoy style), not a millisecond
      {"1h", 1h},                  // hours
      {"1h30m", 90min},            // units combine
      {"1h30m15s", 5415s},         // three groups
      {"1.5s", 1500ms},            // fractions are exact
      {"0.25h", 15min},            // fraction of a large unit
      {".5s", 500ms},              // leading dot as in Go
      {"100us", 100us},            // microseconds
      {"100\xC2\xB5s", 100us},     // micro sign spelling
      {"10ns", 10ns},              // nanoseconds
      {"1d", 24h},                 // days
      {"0s", 0s},                  // zero parses (callers decide whether it is allowed)
      {"1s500ms", 1500ms},         // mixed units, small after large
      {"1.0000000001s", 1s},       // sub-nanosecond remainder truncates
      {"2562047h", 2562047h},      // large but in range
      {"9223372036854775807ns", Duration{INT64_MAX}},  // exactly the maximum
  }};
  for (const DurationCase& c : cases) {
    auto r = parseDuration(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.error().message;
    EXPECT_EQ(r.value(), c.expected) << c.text;
  }
}

struct BadCase {
  std::string_view text;
  std::string_view phrase;  // must appear in the message
};

TEST(ConfigUnits, RejectsBadDurationsWithAReason) {
  const std::array<BadCase, 14> cases{{
      {"5", "add a unit: ms, s, m, h"},              // bare numbers need a unit
      {"0", "add a unit"},                           // even zero
      {"1h30", "missing unit after \"30\""},         // trailing number without unit
      {"-5s", "negative durations are not allowed"}, // no negatives
      {"", "empty duration"},                        // empty text
      {"5sec", "unknown unit \"sec\" (did you mean 's'?)"},   // common spelling gets a hint
      {"2min", "unknown unit \"min\" (did you mean 'm'?)"},   // minutes are "m"
      {"5S", "unknown unit \"S\" (did you mean 's'?)"},       // units are lower case
      {"5x", "unknown unit \"x\""},                  // unknown unit
      {"s", "a unit needs a number before it"},      // unit alone
      {"1 s", "unexpected character \" \""},         // no spaces
      {"1..5s", "unexpected character \".\""},       // malformed number
      {"9223372036854775808ns", "too large"},        // one past INT64_MAX
      {"300000000000000000000h", "too large"},       // huge whole part
  }};
  for (const BadCase& c : cases) {
    auto r = parseDuration(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.phrase), std::string::npos) << c.text << " -> " << r.error().message;
    EXPECT_EQ(r.error().message.rfind("invalid duration \"", 0), 0U) << r.error().message;
    EXPECT_EQ(r.error().allowed, kDurationAllowed);
  }
}

TEST(ConfigUnits, DurationOverflowAcrossGroupsIsAnError) {
  // Each group fits, the sum does not.
  EXPECT_FALSE(parseDuration("2562047h2562047h").ok());
}

// ---- rates ------------------------------------------------------------------------------------

struct RateCase {
  std::string_view text;
  Rate expected;
};

TEST(ConfigUnits, ParsesEveryRateForm) {
  const std::array<RateCase, 11> cases{{
      {"100/min", Rate{100, 1min}},    // named period: minute
      {"10/s", Rate{10, 1s}},          // named period: second
      {"5000/h", Rate{5000, 1h}},      // named period: hour
      {"1000/day", Rate{1000, 24h}},   // named period: day
      {"100/1m", Rate{100, 1min}},     // period as a duration
      {"5/30s", Rate{5, 30s}},         // non-unit duration period
      {"1/500ms", Rate{1, 500ms}},     // sub-second period
      {"3/1h30m", Rate{3, 90min}},     // compound duration period
      {"10r/s", Rate{10, 1s}},         // nginx per second
      {"60r/m", Rate{60, 1min}},       // nginx per minute ("m" is minute here)
      {"1000000000/s", Rate{1'000'000'000, 1s}},  // the maximum count
  }};
  for (const RateCase& c : cases) {
    auto r = parseRate(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.error().message;
    EXPECT_EQ(r.value(), c.expected) << c.text;
  }
}

TEST(ConfigUnits, RejectsBadRatesWithAReason) {
  const std::array<BadCase, 16> cases{{
      {"100/minute", "unknown period \"minute\" (did you mean 'min'?)"},  // long period names
      {"100/m", "unknown period \"m\" (did you mean 'min'?)"},            // bare m is ambiguous
      {"100/sec", "did you mean 's'?"},                                    // sec -> s
      {"100/fortnight", "unknown period \"fortnight\""},                   // unknown word
      {"100", "add a period, e.g. 100/s or 100/min"},                      // bare number
      {"0/s", "count must be at least 1"},                                 // zero count
      {"1.5/s", "must be a whole number"},                                 // fractional count
      {"-1/s", "must be a whole number"},                                  // negative count
      {"/s", "missing count"},                                             // no count
      {"10/", "missing period"},                                           // no period
      {"10/0s", "the period must be longer than zero"},                    // zero period
      {"10/5", "add a unit"},                                              // period number without unit
      {"10r/h", "nginx-style rates support only r/s and r/m"},             // nginx has no r/h
      {"1000000001/s", "too large; the maximum is 1000000000"},            // count cap
      {"99999999999999999999999/s", "too large"},                          // count overflow
      {"ten/s", "must be a whole number"},                                 // words
  }};
  for (const BadCase& c : cases) {
    auto r = parseRate(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.phrase), std::string::npos) << c.text << " -> " << r.error().message;
    EXPECT_EQ(r.error().message.rfind("invalid rate \"", 0), 0U) << r.error().message;
    EXPECT_EQ(r.error().allowed, kRateAllowed);
  }
}

TEST(ConfigUnits, RateMessageMatchesTheDocumentedForm) {
  // The exact text the config reference shows.
  auto r = parseRate("100/minute");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "invalid rate \"100/minute\": unknown period \"minute\" (did you mean 'min'?)");
  EXPECT_EQ(r.error().allowed, "N/s, N/min, N/h, N/day, N/<duration>, nginx Nr/s, Nr/m");
}

// ---- percentages ------------------------------------------------------------------------------

TEST(ConfigUnits, ParsesPercentages) {
  EXPECT_DOUBLE_EQ(parsePercent("50%").value(), 50.0);    // whole
  EXPECT_DOUBLE_EQ(parsePercent("12.5%").value(), 12.5);  // fraction
  EXPECT_DOUBLE_EQ(parsePercent("0%").value(), 0.0);      // lower bound
  EXPECT_DOUBLE_EQ(parsePercent("100%").value(), 100.0);  // upper bound
  EXPECT_FALSE(parsePercent("50").ok());                  // % required
  EXPECT_FALSE(parsePercent("101%").ok());                // above 100
  EXPECT_FALSE(parsePercent("-1%").ok());                 // negative
  EXPECT_FALSE(parsePercent("%").ok());                   // no number
  EXPECT_FALSE(parsePercent("1e2%").ok());                // no exponents
  EXPECT_FALSE(parsePercent("nan%").ok());                // no nan
}

// ---- addresses --------------------------------------------------------------------------------

TEST(ConfigAddress, ParsesHostPort) {
  EXPECT_EQ(parseHostPort("127.0.0.1:8080").value(), (HostPort{"127.0.0.1", 8080}));  // IPv4
  EXPECT_EQ(parseHostPort("[::1]:8080").value(), (HostPort{"::1", 8080}));            // IPv6 in brackets
  EXPECT_EQ(parseHostPort("localhost:0").value(), (HostPort{"localhost", 0}));        // port 0 = any
  EXPECT_EQ(parseHostPort("0.0.0.0:65535").value(), (HostPort{"0.0.0.0", 65535}));    // max port
  EXPECT_EQ(parseHostPort("[::1]:8080").value().toString(), "[::1]:8080");            // round trip
}

TEST(ConfigAddress, RejectsBadHostPort) {
  const std::array<BadCase, 9> cases{{
      {"127.0.0.1:65536", "out of range 0-65535"},        // port too large
      {"127.0.0.1", "missing ':PORT'"},                   // no port
      {":8080", "missing host"},                          // no host
      {"::1:8080", "IPv6 addresses need brackets"},       // unbracketed IPv6
      {"[::1:8080", "missing ']'"},                       // unclosed bracket
      {"[zz::1]:80", "invalid IPv6 address"},             // bad IPv6
      {"http://a:80", "without a scheme"},                // URL instead of address
      {"999.1.1.1:80", "invalid host"},                   // bad IPv4
      {"a:http", "is not a number"},                      // port not numeric
  }};
  for (const BadCase& c : cases) {
    auto r = parseHostPort(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.phrase), std::string::npos) << c.text << " -> " << r.error().message;
  }
}

TEST(ConfigAddress, ParsesTargetUrls) {
  auto a = parseTargetUrl("http://127.0.0.1:3001");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value(), (TargetUrl{"http", "127.0.0.1", 3001}));  // explicit port
  EXPECT_EQ(parseTargetUrl("https://api.internal").value().port, 443);  // https default port
  EXPECT_EQ(parseTargetUrl("http://api.internal/").value().port, 80);   // trailing slash allowed
  EXPECT_EQ(parseTargetUrl("http://[::1]:9000").value().toString(), "http://[::1]:9000");  // IPv6
}

TEST(ConfigAddress, RejectsBadTargetUrls) {
  const std::array<BadCase, 7> cases{{
      {"127.0.0.1:3001", "missing scheme"},                    // no scheme
      {"ftp://h:21", "unsupported scheme \"ftp\""},             // wrong scheme
      {"http://h:3001/base", "no path, query or fragment"},     // paths are not supported
      {"http://user@h:1", "user info"},                         // credentials in URL
      {"http://:80", "missing host"},                           // no host
      {"http://h:0", "port 0"},                                 // unconnectable port
      {"http://h:70000", "out of range"},                       // port too large
  }};
  for (const BadCase& c : cases) {
    auto r = parseTargetUrl(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.phrase), std::string::npos) << c.text << " -> " << r.error().message;
  }
}

TEST(ConfigAddress, ValidatesHostNamesAndIpv6) {
  EXPECT_TRUE(isValidHostName("api.example.com"));   // DNS name
  EXPECT_TRUE(isValidHostName("my_service"));        // underscores (compose/k8s names)
  EXPECT_TRUE(isValidHostName("10.0.0.1"));          // IPv4
  EXPECT_FALSE(isValidHostName("-bad.com"));         // label starts with '-'
  EXPECT_FALSE(isValidHostName("a..b"));             // empty label
  EXPECT_FALSE(isValidHostName("1.2.3"));            // numeric but not IPv4
  EXPECT_TRUE(isValidIpv6("::"));                    // unspecified
  EXPECT_TRUE(isValidIpv6("2001:db8::1"));           // compressed
  EXPECT_TRUE(isValidIpv6("::ffff:192.0.2.1"));      // embedded IPv4
  EXPECT_TRUE(isValidIpv6("1:2:3:4:5:6:7:8"));       // full form
  EXPECT_FALSE(isValidIpv6("1::2::3"));              // two "::"
  EXPECT_FALSE(isValidIpv6("1:2:3:4:5:6:7:8:9"));    // too many groups
  EXPECT_FALSE(isValidIpv6(":::"));                  // garbage
}

// ---- suggestions ------------------------------------------------------------------------------

TEST(ConfigSuggest, EditDistanceCountsTranspositionsAsOne) {
  EXPECT_EQ(editDistance("algoritm", "algorithm"), 1U);  // one deletion
  EXPECT_EQ(editDistance("path_prefx", "path_prefix"), 1U);
  EXPECT_EQ(editDistance("burts", "burst"), 1U);         // adjacent transposition
  EXPECT_EQ(editDistance("", "abc"), 3U);
  EXPECT_EQ(editDistance("same", "same"), 0U);
}

TEST(ConfigSuggest, ClosestMatchOnlyForPlausibleTypos) {
  constexpr std::array<std::string_view, 4> kKeys{"algorithm", "limit", "limits", "burst"};
  EXPECT_EQ(closestMatch("algoritm", kKeys), "algorithm");   // typo
  EXPECT_EQ(closestMatch("Burst", kKeys), "burst");          // case
  EXPECT_EQ(closestMatch("limt", kKeys), "limit");           // the nearest key wins
  EXPECT_FALSE(closestMatch("timeout", kKeys).has_value());  // nothing close
  EXPECT_EQ(didYouMean("algoritm", kKeys), " (did you mean 'algorithm'?)");
  EXPECT_EQ(didYouMean("zzz", kKeys), "");
}

// ---- formatting -------------------------------------------------------------------------------

TEST(ConfigDiagnostics, FormatsOneLinePerError) {
  const Diagnostic d{"examples/bad.yaml", 14, 16, "routes[2].policies[0].rate_limit.limit",
                     "invalid rate \"100/minute\": unknown period \"minute\"",
                     "N/s, N/min, N/h, N/day, N/<duration>, nginx Nr/s, Nr/m"};
  EXPECT_EQ(formatDiagnostic(d),
            "examples/bad.yaml:14:16: routes[2].policies[0].rate_limit.limit: invalid rate \"100/minute\": unknown "
            "period \"minute\"; allowed: N/s, N/min, N/h, N/day, N/<duration>, nginx Nr/s, Nr/m");
  // No path (syntax error), no allowed part.
  EXPECT_EQ(formatDiagnostic(Diagnostic{"a.yaml", 2, 3, "", "YAML syntax error: x", ""}),
            "a.yaml:2:3: YAML syntax error: x");
  // No position (the file itself).
  EXPECT_EQ(formatDiagnostic(Diagnostic{"a.yaml", 0, 0, "", "cannot read config file: no such file", ""}),
            "a.yaml: cannot read config file: no such file");
  EXPECT_EQ(formatDiagnostics({d, d}), formatDiagnostic(d) + "\n" + formatDiagnostic(d) + "\n");
}

}  // namespace
}  // namespace gatelab::config
