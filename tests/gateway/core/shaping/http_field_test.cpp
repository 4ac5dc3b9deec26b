// Field syntax (tokens, unsafe bytes) and the header list helpers.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/core/http_field.hpp"

namespace gatelab::core {
namespace {

TEST(HttpField, Tokens) {
  for (const char* ok : {"X-Api-Key", "a", "!#$%&'*+-.^_`|~", "0"}) EXPECT_TRUE(isToken(ok)) << ok;
  for (const char* bad : {"", "a b", "a:b", "a\r", "(x)", "a,b", "\xC3\xA9"}) EXPECT_FALSE(isToken(bad)) << bad;
}

TEST(HttpField, UnsafeBytes) {
  // Table: value -> position of the first byte a field value may not hold.
  const std::vector<std::pair<std::string, std::optional<std::size_t>>> rows = {
      {"plain text", std::nullopt},
      {"tab\tis fine", std::nullopt},
      {"caf\xC3\xA9 (obs-text)", std::nullopt},
      {"a\rb", 1},
      {"a\nb", 1},
      {std::string("a\0b", 3), 1},
      {"\x01", 0},
      {"del\x7F", 3},
  };
  for (const auto& [value, expected] : rows) EXPECT_EQ(findUnsafeFieldByte(value), expected);
  EXPECT_EQ(describeUnsafeByte('\r'), "CR");
  EXPECT_EQ(describeUnsafeByte('\n'), "LF");
  EXPECT_EQ(describeUnsafeByte('\0'), "NUL");
  EXPECT_EQ(describeUnsafeByte('\x07'), "control byte 0x07");
}

TEST(HttpField, ListHelpers) {
  HeaderList h = {{"A", "1"}, {"b", "2"}, {"a", "3"}, {"C", "4"}};
  EXPECT_EQ(findField(h, "B"), 1u);
  EXPECT_EQ(countFields(h, "a"), 2u);
  EXPECT_EQ(removeFields(h, "A"), 2u);
  EXPECT_EQ(h, (HeaderList{{"b", "2"}, {"C", "4"}}));
  EXPECT_TRUE(hasListMember("Accept-Encoding, origin", "Origin"));
  EXPECT_TRUE(hasListMember(" Origin ", "origin"));
  EXPECT_FALSE(hasListMember("Origins, X", "Origin"));
  EXPECT_FALSE(hasListMember("", "Origin"));
}

}  // namespace
}  // namespace gatelab::core
