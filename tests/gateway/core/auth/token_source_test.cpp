// Finding the bearer token in a request: Authorization (scheme case-insensitive), a custom
// header, cookies, query parameters, in the configured order.

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "gateway/core/auth/token_source.hpp"
#include "gateway/core/request.hpp"

namespace gatelab::core::auth {
namespace {

std::optional<std::string> tokenIn(const std::vector<Header>& headers, std::string_view query, const std::vector<TokenSource>& sources) {
  RequestView r;
  r.headers = headers;
  r.query = query;
  const auto found = findToken(r, sources);
  return found ? std::optional<std::string>(found->token) : std::nullopt;
}

TEST(BearerToken, SchemeAndSpacing) {
  // Table: Authorization value -> token, or nullopt when it is not a Bearer credential.
  const std::vector<std::pair<std::string, std::optional<std::string>>> rows = {
      {"Bearer abc.def.ghi", "abc.def.ghi"},
      {"bearer abc", "abc"},           // scheme is case-insensitive
      {"BEARER abc", "abc"},
      {"Bearer    abc", "abc"},        // 1*SP
      {"  Bearer abc  ", "abc"},       // surrounding whitespace
      {"Bearer", ""},                  // found but empty: the verifier calls it malformed
      {"Bearer ", ""},
      {"Basic dXNlcjpwYXNz", std::nullopt},  // another scheme
      {"Bearerabc", std::nullopt},
      {"", std::nullopt},
      {"Token abc", std::nullopt},
  };
  for (const auto& [value, expected] : rows) {
    const auto t = bearerToken(value);
    EXPECT_EQ(t ? std::optional<std::string>(std::string(*t)) : std::nullopt, expected) << "'" << value << "'";
  }
}

TEST(FindToken, DefaultIsTheAuthorizationHeader) {
  const auto sources = defaultTokenSources();
  EXPECT_EQ(tokenIn({{"authorization", "Bearer t1"}}, "", sources), "t1") << "field names are case-insensitive";
  EXPECT_EQ(tokenIn({{"Authorization", "Basic x"}, {"Authorization", "Bearer t2"}}, "", sources), "t2")
      << "the first Bearer field among several";
  EXPECT_EQ(tokenIn({{"X-Other", "Bearer t"}}, "jwt=t", sources), std::nullopt);
}

TEST(FindToken, SourcesInOrder) {
  const std::vector<TokenSource> sources = {{TokenSourceKind::kCookie, "session"},
                                            {TokenSourceKind::kHeader, "X-Access-Token"},
                                            {TokenSourceKind::kQuery, "access_token"},
                                            {TokenSourceKind::kHeader, "Authorization"}};
  EXPECT_EQ(tokenIn({{"Authorization", "Bearer h"}, {"Cookie", "a=1; session=c; b=2"}}, "access_token=q", sources), "c");
  EXPECT_EQ(tokenIn({{"Authorization", "Bearer h"}, {"X-Access-Token", "Bearer x"}}, "access_token=q", sources), "x");
  EXPECT_EQ(tokenIn({{"Authorization", "Bearer h"}}, "a=1&access_token=q&b=2", sources), "q");
  EXPECT_EQ(tokenIn({{"Authorization", "Bearer h"}}, "", sources), "h");
  EXPECT_EQ(tokenIn({}, "", sources), std::nullopt);
  RequestView r;
  const std::vector<Header> h = {{"Authorization", "Bearer h"}};
  r.headers = h;
  const auto found = findToken(r, sources);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->from, TokenSourceKind::kHeader);
  EXPECT_EQ(found->sourceIndex, 3u);
}

TEST(FindToken, CookieParsing) {
  const std::vector<TokenSource> s = {{TokenSourceKind::kCookie, "jwt"}};
  EXPECT_EQ(tokenIn({{"Cookie", "jwt=abc"}}, "", s), "abc");
  EXPECT_EQ(tokenIn({{"Cookie", "x=1;jwt=\"abc\""}}, "", s), "abc") << "quoted value, no space after ';'";
  EXPECT_EQ(tokenIn({{"Cookie", "JWT=abc"}}, "", s), std::nullopt) << "cookie names are case-sensitive";
  EXPECT_EQ(tokenIn({{"Cookie", "xjwt=abc; jwtx=1"}}, "", s), std::nullopt);
  EXPECT_EQ(tokenIn({{"Cookie", "a=1"}, {"cookie", "jwt=second"}}, "", s), "second") << "several Cookie fields";
}

TEST(FindToken, QueryParsing) {
  const std::vector<TokenSource> s = {{TokenSourceKind::kQuery, "jwt"}};
  EXPECT_EQ(tokenIn({}, "jwt=a.b.c", s), "a.b.c");
  EXPECT_EQ(tokenIn({}, "jwt=a%2Eb%2ec", s), "a.b.c") << "percent-decoded";
  EXPECT_EQ(tokenIn({}, "jwt=a%zz", s), "a%zz") << "a bad escape is left for the verifier to refuse";
  EXPECT_EQ(tokenIn({}, "jwt", s), "") << "present without a value";
  EXPECT_EQ(tokenIn({}, "xjwt=1&jwtx=2", s), std::nullopt);
  EXPECT_EQ(tokenIn({}, "a=1&jwt=first&jwt=second", s), "first");
}

TEST(TokenSources, Validation) {
  EXPECT_EQ(validateTokenSources(defaultTokenSources()), std::nullopt);
  EXPECT_TRUE(validateTokenSources({}).has_value());
  const std::vector<TokenSource> unnamed = {{TokenSourceKind::kCookie, ""}};
  EXPECT_EQ(validateTokenSources(unnamed).value_or(""), "a cookie source needs a name");
  const std::vector<TokenSource> badHeader = {{TokenSourceKind::kHeader, "X Token"}};
  EXPECT_TRUE(validateTokenSources(badHeader).has_value());
}

}  // namespace
}  // namespace gatelab::core::auth
