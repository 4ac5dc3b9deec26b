// The strict JSON object reader used for JWS headers and claims: what it keeps of each member,
// and a table of texts it must refuse (RFC 8259 plus the JWT-specific rules).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/core/auth/json_object.hpp"

namespace gatelab::core::auth {
namespace {

std::vector<JsonMember> parseOk(std::string_view text) {
  std::vector<JsonMember> members;
  std::string error;
  EXPECT_TRUE(parseJsonObject(text, members, error)) << text << ": " << error;
  return members;
}

TEST(JsonObject, MembersAndTheirText) {
  const auto m = parseOk(R"( { "s":"a\"b\\c\/\u00e9\ud83d\ude00\n", "i":-12, "f":1.5e+3, "t":true, "F":false,
                              "n":null, "o":{"x":[1,{"y":2}]}, "a":["p","q"], "e":[], "mix":["p",1] } )");
  ASSERT_EQ(m.size(), 10u);
  EXPECT_EQ(m[0].name, "s");
  EXPECT_EQ(m[0].type, JsonType::kString);
  EXPECT_EQ(m[0].text, "a\"b\\c/\xc3\xa9\xf0\x9f\x98\x80\n");
  EXPECT_EQ(m[1].type, JsonType::kNumber);
  EXPECT_EQ(m[1].text, "-12");
  EXPECT_EQ(m[2].text, "1.5e+3") << "numbers as written";
  EXPECT_EQ(m[3].type, JsonType::kTrue);
  EXPECT_EQ(m[3].text, "true");
  EXPECT_EQ(m[4].text, "false");
  EXPECT_EQ(m[5].type, JsonType::kNull);
  EXPECT_EQ(m[6].type, JsonType::kObject);
  EXPECT_EQ(m[6].text, "");
  EXPECT_EQ(m[7].type, JsonType::kArray);
  EXPECT_TRUE(m[7].stringArray);
  EXPECT_EQ(m[7].text, "p q");
  EXPECT_EQ(m[7].strings, (std::vector<std::string>{"p", "q"}));
  EXPECT_TRUE(m[8].stringArray) << "[] is an array of strings";
  EXPECT_FALSE(m[9].stringArray);
  EXPECT_TRUE(m[9].strings.empty());
  EXPECT_TRUE(parseOk("{}").empty());
  EXPECT_EQ(parseOk("{\"a\":\"\xe2\x82\xac\"}")[0].text, "\xe2\x82\xac") << "raw UTF-8 kept";
}

TEST(JsonObject, RefusesWhatJwtMustNotAccept) {
  // Table: text -> refused, with the property in the comment.
  const std::vector<std::string> bad = {
      "",                               // empty
      "[]",                             // not an object
      "\"s\"",                          // not an object
      "{",                              // unterminated
      "{\"a\":1,}",                     // trailing comma
      "{\"a\":1 \"b\":2}",              // missing comma
      "{a:1}",                          // unquoted name
      "{'a':1}",                        // single quotes
      "{\"a\":1}}",                     // text after the object
      "{\"a\":1} x",
      "{\"a\":01}",                     // leading zero
      "{\"a\":+1}",                     // leading plus
      "{\"a\":.5}",                     // no integer part
      "{\"a\":1.}",                     // no fraction digits
      "{\"a\":1e}",                     // no exponent digits
      "{\"a\":NaN}",                    // not JSON
      "{\"a\":Infinity}",
      "{\"a\":tru}",                    // truncated literal
      "{\"a\":nul}",
      "{\"a\":\"\t\"}",                 // raw control character
      "{\"a\":\"\\x\"}",                // invalid escape
      "{\"a\":\"\\u12\"}",              // short \u
      "{\"a\":\"\\ud800\"}",            // lone high surrogate
      "{\"a\":\"\\udc00\"}",            // lone low surrogate
      "{\"a\":\"\\ud800\\u0041\"}",     // high surrogate + non-surrogate
      "{\"a\":\"\xff\"}",               // invalid UTF-8
      "{\"a\":\"\xc0\xaf\"}",           // overlong
      "{\"a\":\"\xed\xa0\x80\"}",       // encoded surrogate
      "{\"a\":\"\xf4\x90\x80\x80\"}",   // beyond U+10FFFF
      "{\"a\":\"\xe2\x82\"}",           // truncated sequence
      "\xef\xbb\xbf{}",                 // byte-order mark
      "{\"a\":1,\"a\":2}",              // duplicate name
      "{\"a\":1,\"\\u0061\":2}",        // duplicate after unescaping
      "{\"a\":[1,2,]}",                 // trailing comma in an array
      "{\"a\":1}\x0b",                  // vertical tab is not JSON whitespace
      "{\"a\"\xc2\xa0:1}",              // nor is NBSP
  };
  for (const std::string& text : bad) {
    std::vector<JsonMember> members;
    std::string error;
    EXPECT_FALSE(parseJsonObject(text, members, error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(JsonObject, LimitsOnDepthAndMembers) {
  const auto nested = [](std::size_t depth) {
    // The outer object is depth 1; each array adds one.
    return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  std::vector<JsonMember> members;
  std::string error;
  EXPECT_TRUE(parseJsonObject(nested(kMaxJsonDepth), members, error)) << error;
  EXPECT_FALSE(parseJsonObject(nested(kMaxJsonDepth + 1), members, error));
  EXPECT_NE(error.find("nesting"), std::string::npos) << error;

  const auto many = [](std::size_t n) {
    std::string s = "{";
    for (std::size_t i = 0; i < n; ++i) s += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
    return s + "}";
  };
  EXPECT_TRUE(parseJsonObject(many(kMaxJsonMembers), members, error)) << error;
  EXPECT_EQ(members.size(), kMaxJsonMembers);
  EXPECT_FALSE(parseJsonObject(many(kMaxJsonMembers + 1), members, error));
  std::string dup = many(100);
  dup.insert(dup.size() - 1, ",\"k50\":1");
  EXPECT_FALSE(parseJsonObject(dup, members, error)) << "duplicates found among many members too";
  EXPECT_NE(error.find("k50"), std::string::npos) << error;
}

}  // namespace
}  // namespace gatelab::core::auth
