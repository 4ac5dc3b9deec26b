// Tests for normalizePath: the canonical form every path decision is made on.

#include "gateway/core/path.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace gatelab::core {
namespace {

struct NormalizeCase {
  const char* property;  // what the row checks
  std::string_view raw;
  PathStatus status;
  std::string_view expected;  // normalized path when status is kOk
};

void PrintTo(const NormalizeCase& c, std::ostream* os) { *os << c.property << " [" << c.raw << "]"; }

class NormalizePathTest : public ::testing::TestWithParam<NormalizeCase> {};

TEST_P(NormalizePathTest, Normalizes) {
  const NormalizeCase& c = GetParam();
  std::string out = "garbage from a previous call";
  const PathStatus status = normalizePath(c.raw, out);
  EXPECT_EQ(status, c.status) << c.property << ": got " << toString(status);
  if (c.status == PathStatus::kOk) {
    EXPECT_EQ(out, c.expected) << c.property;
  } else {
    EXPECT_TRUE(out.empty()) << c.property << ": output must be cleared on error";
  }
}

using enum PathStatus;

// clang-format off
const NormalizeCase kCases[] = {
  // --- already canonical paths are unchanged
  {"root stays root",                         "/",                  kOk, "/"},
  {"plain path unchanged",                    "/api/v1/users",      kOk, "/api/v1/users"},
  {"trailing slash preserved",                "/admin/",            kOk, "/admin/"},
  {"sub-delims, ':' and '@' kept raw",        "/a!$&'()*+,;=:@b",   kOk, "/a!$&'()*+,;=:@b"},
  {"dots inside a segment are data",          "/a.b/...c/..d",      kOk, "/a.b/...c/..d"},
  {"a segment of three dots is data",         "/.../x",             kOk, "/.../x"},
  {"dots at segment edges are data",          "/.a/a./..b/b..",     kOk, "/.a/a./..b/b.."},

  // --- boundaries of the already-canonical fast path
  {"lone dot segment",                        "/.",                 kOk, "/"},
  {"dot segment at the end of a long path",   "/a/b/c/.",           kOk, "/a/b/c/"},
  {"dot-dot at the end of a long path",       "/a/b/c/..",          kOk, "/a/b/"},
  {"double slash at the end",                 "/a//",               kOk, "/a/"},
  {"double slash in the middle",              "/a//b",              kOk, "/a/b"},
  {"escape in an otherwise clean path",       "/a/b%63",            kOk, "/a/bc"},

  // --- the /admin bypass attempts all land on /admin (or are rejected)
  {"dot-dot after a sibling removed",         "/api/../admin",      kOk, "/admin"},
  {"double leading slash collapsed",          "//admin",            kOk, "/admin"},
  {"encoded unreserved letter decoded",       "/%61dmin",           kOk, "/admin"},
  {"lower-case escape of a letter decoded",   "/ADMIN%2d%5f%7e",    kOk, "/ADMIN-_~"},
  {"trailing dot segment gives a slash",      "/admin/.",           kOk, "/admin/"},
  {"dot segment then slash",                  "/admin/./",          kOk, "/admin/"},
  {"leading dot segment removed",             "/./admin",           kOk, "/admin"},
  {"encoded dot-dot is a dot segment",        "/x/%2e%2e/admin",    kOk, "/admin"},
  {"mixed-case encoded dots",                 "/x/%2E%2e/admin",    kOk, "/admin"},
  {"half-encoded dot-dot",                    "/x/.%2E/admin",      kOk, "/admin"},
  {"encoded single dot",                      "/%2E/admin",         kOk, "/admin"},
  {"runs of slashes everywhere",              "///a////b//",        kOk, "/a/b/"},
  {"climb above root rejected",               "/..",                kAboveRoot, ""},
  {"encoded climb above root rejected",       "/%2e%2e/admin",      kAboveRoot, ""},
  {"climb after descending rejected",         "/a/../../b",         kAboveRoot, ""},
  {"climb through collapsed slashes",         "//..//admin",        kAboveRoot, ""},

  // --- RFC 3986 5.2.4 examples that stay inside the root
  {"dot-dot at the end keeps a slash",        "/a/b/..",            kOk, "/a/"},
  {"dot-dot back to root",                    "/a/..",              kOk, "/"},
  {"dot-dot back to root with slash",         "/a/../",             kOk, "/"},
  {"RFC example mid/content=5/../6",          "/a/b/c/./../../g",   kOk, "/a/g"},
  {"only dot segments",                       "/./.",               kOk, "/"},

  // --- escapes that are not unreserved stay encoded, upper-cased
  {"encoded slash is not a separator",        "/a%2fb",             kOk, "/a%2Fb"},
  {"encoded slash upper-cased and kept",      "/admin%2F..",        kOk, "/admin%2F.."},
  {"reserved escape upper-cased",             "/a%3a%3F",           kOk, "/a%3A%3F"},
  {"non-ASCII escape upper-cased",            "/caf%c3%a9",         kOk, "/caf%C3%A9"},
  {"encoded percent stays encoded",           "/100%25",            kOk, "/100%25"},
  {"encoded control char stays encoded",      "/a%0Ab",             kOk, "/a%0Ab"},

  // --- bytes not allowed raw are encoded so equal paths have equal bytes
  {"space encoded",                           "/a b",               kOk, "/a%20b"},
  {"backslash encoded",                       "/admin\\x",          kOk, "/admin%5Cx"},
  {"question mark in path data encoded",      "/a?b",               kOk, "/a%3Fb"},
  {"raw UTF-8 encoded like its escape",       "/caf\xc3\xa9",       kOk, "/caf%C3%A9"},

  // --- malformed input
  {"empty path",                              "",                   kNotAbsolute, ""},
  {"asterisk form",                           "*",                  kNotAbsolute, ""},
  {"relative path",                           "admin",              kNotAbsolute, ""},
  {"non-hex escape",                          "/%zz",               kBadPercentEncoding, ""},
  {"truncated escape",                        "/%4",                kBadPercentEncoding, ""},
  {"lone percent at end",                     "/a%",                kBadPercentEncoding, ""},
  {"escape with one hex digit",               "/%4g/x",             kBadPercentEncoding, ""},
  {"encoded NUL",                             "/a%00b",             kNulByte, ""},
  {"raw NUL",                                 std::string_view("/a\0b", 4), kNulByte, ""},
  {"raw newline",                             "/a\nb",              kControlCharacter, ""},
  {"raw DEL",                                 "/a\x7f",             kControlCharacter, ""},
  {"raw tab",                                 "/a\tb",              kControlCharacter, ""},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Table, NormalizePathTest, ::testing::ValuesIn(kCases));

TEST(NormalizePath, RejectsInputLongerThanTheLimit) {
  std::string out;
  const std::string longest = "/" + std::string(kMaxPathLength - 1, 'a');
  EXPECT_EQ(normalizePath(longest, out), PathStatus::kOk);
  EXPECT_EQ(out, longest);
  EXPECT_EQ(normalizePath(longest + "a", out), PathStatus::kTooLong);
}

TEST(NormalizePath, RejectsResultLongerThanTheLimitAfterEscaping) {
  // Each space becomes "%20": the input fits, the canonical form does not.
  std::string out;
  const std::string raw = "/" + std::string(kMaxPathLength / 2, ' ');
  EXPECT_EQ(normalizePath(raw, out), PathStatus::kTooLong);
}

TEST(NormalizePath, ReusesTheOutputCapacity) {
  std::string out;
  out.reserve(256);
  const char* before = out.data();
  ASSERT_EQ(normalizePath("/api/v1/users/42/../43", out), PathStatus::kOk);
  EXPECT_EQ(out, "/api/v1/users/43");
  EXPECT_EQ(out.data(), before);  // no reallocation once warm
}

TEST(NormalizePath, StatusNamesAreStable) {
  EXPECT_STREQ(toString(PathStatus::kOk), "ok");
  EXPECT_STREQ(toString(PathStatus::kNotAbsolute), "not_absolute");
  EXPECT_STREQ(toString(PathStatus::kBadPercentEncoding), "bad_percent_encoding");
  EXPECT_STREQ(toString(PathStatus::kNulByte), "nul_byte");
  EXPECT_STREQ(toString(PathStatus::kControlCharacter), "control_character");
  EXPECT_STREQ(toString(PathStatus::kAboveRoot), "above_root");
  EXPECT_STREQ(toString(PathStatus::kTooLong), "too_long");
}

// Random raw paths built from the pieces that matter: separators, dot segments, escapes (valid,
// invalid, of unreserved and reserved bytes, mixed case), bytes that must be encoded.
std::string randomRawPath(std::mt19937_64& rng) {
  static const std::vector<std::string_view> kPieces = {
      "/",   "/",   "//",  ".",    "..",  "a",   "b",   "admin", "%2e", "%2E", "%2f", "%2F",
      "%61", "%41", "%7e", "%25",  "%3a", "%c3", "%zz", "%4",    "%",   " ",   "\\",  "?",
      "~",   "-",   "_",   "\xc3", "@",   ":",   "%00", "%0a",   ".%2e"};
  std::uniform_int_distribution<std::size_t> pieceCount(0, 12);
  std::uniform_int_distribution<std::size_t> pick(0, kPieces.size() - 1);
  std::string raw = "/";
  const std::size_t n = pieceCount(rng);
  for (std::size_t i = 0; i < n; ++i) raw += kPieces[pick(rng)];
  return raw;
}

bool isUnreservedByte(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Property: normalization is idempotent, and its output has the canonical shape.
TEST(NormalizePathProperty, IdempotentAndCanonicalOverGeneratedPaths) {
  std::mt19937_64 rng(20240611);  // fixed seed: deterministic
  std::string once;
  std::string twice;
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    const std::string raw = randomRawPath(rng);
    if (normalizePath(raw, once) != PathStatus::kOk) continue;
    ++accepted;
    ASSERT_EQ(normalizePath(once, twice), PathStatus::kOk) << "raw: " << raw;
    ASSERT_EQ(twice, once) << "raw: " << raw;

    ASSERT_EQ(once.front(), '/');
    ASSERT_EQ(once.find("//"), std::string::npos) << once;
    const std::string bounded = once + "/";
    ASSERT_EQ(bounded.find("/./"), std::string::npos) << once;
    ASSERT_EQ(bounded.find("/../"), std::string::npos) << once;
    for (std::size_t p = once.find('%'); p != std::string::npos; p = once.find('%', p + 1)) {
      ASSERT_LE(p + 2, once.size() - 1) << once;
      const std::string hex = once.substr(p + 1, 2);
      const char decoded = static_cast<char>(std::stoi(hex, nullptr, 16));
      ASSERT_FALSE(isUnreservedByte(decoded)) << "unreserved byte left encoded in " << once;
      ASSERT_EQ(hex.find_first_of("abcdef"), std::string::npos) << "lower-case hex in " << once;
    }
  }
  EXPECT_GT(accepted, 5000);  // the generator must exercise the accepting path too
}

// isNormalPath, written out from its documented rules one byte at a time (RFC 3986 pchar without
// escapes: unreserved, sub-delims, ':' and '@').
bool normalByRules(std::string_view p) {
  if (p.empty() || p.front() != '/' || p.size() > kMaxPathLength) return false;
  const std::string_view kSubDelims = "!$&'()*+,;=:@";
  for (const char c : p) {
    if (c != '/' && !isUnreservedByte(c) && kSubDelims.find(c) == std::string_view::npos) return false;
  }
  std::size_t start = 1;
  for (std::size_t i = 1; i <= p.size(); ++i) {
    if (i < p.size() && p[i] != '/') continue;
    const std::string_view segment = p.substr(start, i - start);
    if (segment.empty() && i < p.size()) return false;  // "//"
    if (segment == "." || segment == "..") return false;
    start = i + 1;
  }
  return true;
}

// The sixteen-bytes-at-a-time check against the rules, for every byte value at every position of
// the first two blocks and their boundary, and for random paths of every length up to 80; and a
// path it calls normal normalizes to itself.
TEST(NormalizePath, IsNormalPathFollowsItsRules) {
  std::string out;
  auto check = [&](const std::string& p) {
    const bool expected = normalByRules(p);
    ASSERT_EQ(isNormalPath(p), expected) << "[" << p << "] (" << p.size() << " bytes)";
    if (expected) {
      ASSERT_EQ(normalizePath(p, out), PathStatus::kOk);
      ASSERT_EQ(out, p);
    }
  };
  for (const std::size_t length : {1u, 2u, 15u, 16u, 17u, 31u, 32u, 33u}) {
    for (std::size_t at = 1; at < length; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string p(length, 'a');
        p[0] = '/';
        p[at] = static_cast<char>(b);
        check(p);
        if (at + 1 < length) {  // the byte after a slash, and after a dot that starts a segment
          p[at] = '/';
          p[at + 1] = static_cast<char>(b);
          check(p);
          p[at] = '.';
          check(p);
        }
      }
    }
  }
  std::mt19937_64 rng(7);
  const std::string_view kAlphabet = "/./.a-Z9_~!$&'()*+,;=:@%?# \"<>[]\\^`{|}\x7f\x01\xc3";
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  int normal = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string p = "/";
    const std::size_t n = static_cast<std::size_t>(i % 80);
    for (std::size_t k = 0; k < n; ++k) p += kAlphabet[(i % 3 == 0 && pick(rng) > 8) ? 4 : pick(rng)];
    check(p);
    normal += normalByRules(p) ? 1 : 0;
  }
  EXPECT_GT(normal, 500);  // the generator reaches normal paths too
  // Tied to normalizePath's own byte table: a path that takes the byte-wise way (a "." segment to
  // drop) comes out as "/a<b>x" exactly when that byte is kept raw, which is when "/a<b>x" is
  // normal. (Not '%', which starts an escape, nor '/' and '.', whose rules are checked above.)
  for (int b = 1; b < 256; ++b) {
    const char c = static_cast<char>(b);
    if (c == '%' || c == '/' || c == '.') continue;
    const std::string plain = std::string("/a") + c + "x";
    const bool keptRaw = normalizePath("/./a" + std::string(1, c) + "x", out) == PathStatus::kOk && out == plain;
    EXPECT_EQ(isNormalPath(plain), keptRaw) << "byte " << b;
    EXPECT_EQ(isNormalPath(plain + std::string(14, 'y')), keptRaw) << "byte " << b << " in a full block";
  }
  EXPECT_FALSE(isNormalPath(""));
  EXPECT_FALSE(isNormalPath("a/b"));
  EXPECT_TRUE(isNormalPath(std::string(kMaxPathLength, '/').replace(1, std::string::npos, kMaxPathLength - 1, 'a')));
  EXPECT_FALSE(isNormalPath("/" + std::string(kMaxPathLength, 'a')));
}

}  // namespace
}  // namespace gatelab::core
