// Strict base64url / base64: RFC 4648 test vectors, the one-encoding-per-byte-string rule, and
// everything a lenient decoder would let through.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "gateway/core/auth/base64.hpp"

namespace gatelab::core::auth {
namespace {

TEST(Base64, Rfc4648Vectors) {
  // RFC 4648 §10.
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(encodeBase64(plain), encoded);
    std::string out;
    ASSERT_TRUE(decodeBase64(encoded, out)) << encoded;
    EXPECT_EQ(out, plain);
    std::string unpadded = encoded;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    EXPECT_EQ(encodeBase64Url(plain), unpadded);
    out.clear();
    ASSERT_TRUE(decodeBase64Url(unpadded, out)) << unpadded;
    EXPECT_EQ(out, plain);
  }
}

TEST(Base64, UrlAlphabetIsDistinct) {
  const std::string bytes = "\xfb\xff\xbf";
  EXPECT_EQ(encodeBase64Url(bytes), "-_-_");
  EXPECT_EQ(encodeBase64(bytes), "+/+/");
  std::string out;
  EXPECT_FALSE(decodeBase64Url("+/+/", out));
  out.clear();
  EXPECT_FALSE(decodeBase64("-_-_", out));
}

TEST(Base64Url, RejectsWhatALenientDecoderAccepts) {
  // Table: input -> rejected, one property each.
  const std::vector<std::string> bad = {
      "Zg==",   // padding
      "Zg=",    // partial padding
      "Z",      // 4k+1 characters can encode nothing
      "Zh",     // non-zero unused bits (Zg is the only encoding of "f")
      "Zm9=",   // '=' inside
      "Zm 9v",  // whitespace
      "Zm9v\n",
      "Zm9.",   // '.' is the segment separator, never a digit
      std::string("Zm\0v", 4),
      "Zm9v\xc3\xa9",
  };
  for (const std::string& s : bad) {
    std::string out;
    EXPECT_FALSE(decodeBase64Url(s, out)) << s;
  }
}

TEST(Base64, RejectsMisplacedPadding) {
  for (const char* s : {"Zg", "Zg=", "Z===", "====", "Zg==Zg==", "Zh==", "Zm9w=", "=Zg="}) {
    std::string out;
    EXPECT_FALSE(decodeBase64(s, out)) << s;
  }
}

TEST(Base64Url, RoundTripsRandomBytesAndAppends) {
  // Property: decode(encode(b)) == b for every length, and decoding appends to `out`.
  std::mt19937_64 rng(6);
  for (std::size_t len = 0; len < 200; ++len) {
    std::string b(len, '\0');
    for (char& c : b) c = static_cast<char>(rng() & 0xFF);
    std::string out = "prefix";
    ASSERT_TRUE(decodeBase64Url(encodeBase64Url(b), out));
    EXPECT_EQ(out, "prefix" + b);
    std::string std;
    ASSERT_TRUE(decodeBase64(encodeBase64(b), std));
    EXPECT_EQ(std, b);
  }
}

}  // namespace
}  // namespace gatelab::core::auth
