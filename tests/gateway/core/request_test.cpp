// RequestView lookups: header names are case-insensitive, claim names are not.
#include <gtest/gtest.h>

#include "gateway/core/request.hpp"

namespace gatelab::core {
namespace {

TEST(RequestView, HeaderLookupIgnoresCaseAndReturnsTheFirst) {
  const Header h[] = {{"X-Tenant-Id", "a"}, {"x-tenant-id", "b"}};
  RequestView r;
  r.headers = h;
  EXPECT_EQ(r.header("X-TENANT-ID"), "a");
  EXPECT_EQ(r.header("X-Other"), std::nullopt);
}

TEST(RequestView, ClaimsAreCaseSensitive) {
  const Header c[] = {{"sub", "alice"}};
  RequestView r;
  r.claims = c;
  EXPECT_EQ(r.claim("sub"), "alice");
  EXPECT_EQ(r.claim("SUB"), std::nullopt);
}

TEST(EqualsIgnoreCase, AsciiOnly) {
  EXPECT_TRUE(equalsIgnoreCase("Content-Length", "content-length"));
  EXPECT_FALSE(equalsIgnoreCase("abc", "abd"));
  EXPECT_FALSE(equalsIgnoreCase("abc", "abcd"));
}

}  // namespace
}  // namespace gatelab::core
