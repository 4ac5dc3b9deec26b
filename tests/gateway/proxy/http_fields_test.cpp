// Header-field rules of the proxy: hop-by-hop names, Connection options, W3C traceparent parsing
// (valid, invalid, future versions), X-Forwarded-For, request ids, request-target forms.

#include <gtest/gtest.h>

#include "gateway/proxy/http_fields.hpp"
#include "tests/gateway/proxy/proxy_test_support.hpp"

namespace gatelab::proxy {
namespace {

TEST(HttpFields, HopByHopNamesAreCaseInsensitive) {
  for (const char* n : {"Connection", "keep-alive", "PROXY-CONNECTION", "Proxy-Authenticate", "proxy-authorization",
                        "TE", "Trailer", "Transfer-Encoding", "Upgrade"})
    EXPECT_TRUE(isHopByHop(n)) << n;
  for (const char* n : {"Content-Length", "Host", "X-Forwarded-For", "Trailers", "Keep", "", "TX", "Trailex", "Connectiox",
                        "keep-alivf", "proxy-connectiom", "transfer-encodinG2", "proxy-authenticatX", "proxy-authorizatioN2"})
    EXPECT_FALSE(isHopByHop(n)) << n;
  for (const char* n : {"close", "x-foo", "X-FOO", "Keep-Alive"}) EXPECT_TRUE(listedInConnection(" close ,X-Foo,, keep-alive", n)) << n;
  for (const char* n : {"", "clos", "X-Foo,", "x-fo", "keep"}) EXPECT_FALSE(listedInConnection(" close ,X-Foo,, keep-alive", n)) << n;
  EXPECT_FALSE(listedInConnection("", "close"));
  EXPECT_FALSE(listedInConnection(" , ,", ""));
}

// ConnectionOptions answers as listedInConnection does, for values of any length.
TEST(HttpFields, ConnectionOptionsAnswerAsListedInConnection) {
  const std::string many = "a1, a2,a3 ,\ta4, a5, a6, a7, a8, A9 ,a10,, x-late";
  for (const std::string& value : {std::string(" close ,X-Foo,, keep-alive"), std::string(""), std::string(" , ,"),
                                  std::string("keep-alive"), many}) {
    const ConnectionOptions options(value);
    for (const char* name : {"close", "x-foo", "X-FOO", "Keep-Alive", "", "clos", "X-Foo,", "x-fo", "keep", "a1", "A8",
                             "a9", "a10", "X-Late", "x-lat", "a11"})
      EXPECT_EQ(options.lists(name), listedInConnection(value, name)) << "'" << value << "' / " << name;
  }
  EXPECT_TRUE(ConnectionOptions(many).lists("x-late"));  // beyond the eighth member
  EXPECT_TRUE(ConnectionOptions(many).lists("a9"));
}

TEST(HttpFields, TraceParentFollowsTheW3CRules) {
  const auto t = parseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(t->parentId, "00f067aa0ba902b7");
  EXPECT_EQ(t->flags, 1);
  EXPECT_EQ(formatTraceParent(*t), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  // A later version may append fields; version 00 may not; ff is forbidden.
  EXPECT_TRUE(parseTraceParent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra").has_value());
  EXPECT_FALSE(parseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra").has_value());
  EXPECT_FALSE(parseTraceParent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").has_value());
  EXPECT_FALSE(parseTraceParent("00-00000000000000000000000000000000-00f067aa0ba902b7-01").has_value());
  EXPECT_FALSE(parseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01").has_value());
  EXPECT_FALSE(parseTraceParent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").has_value());  // upper case
  EXPECT_FALSE(parseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01").has_value());   // short
  EXPECT_FALSE(parseTraceParent("").has_value());
}

TEST(HttpFields, RandomHexHasTheRequestedLength) {
  std::uint64_t n = 0;
  const std::string h = randomHex(16, [&n] { return ++n * 0x9E3779B97F4A7C15ULL; });
  EXPECT_EQ(h.size(), 32u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(n, 2u);  // 8 bytes per draw
  // Bytes are taken from the low end of each draw, two lower-case digits each.
  EXPECT_EQ(randomHex(10, [] { return std::uint64_t{0x0123456789abcdefULL}; }), "efcdab8967452301efcd");
  // Whole draws go eight bytes at a time: the same digits as byte by byte, for every digit in
  // every position.
  for (std::uint64_t k = 0; k < 4096; ++k) {
    const std::uint64_t v = (k * 0x0123456789ABCDEFULL) ^ (k << 52) ^ ((k & 1) * 0xFEDCBA9876543210ULL);
    std::string expected;
    for (int b = 0; b < 8; ++b) {
      const auto byte = static_cast<unsigned>((v >> (8 * b)) & 0xFF);
      expected += "0123456789abcdef"[byte >> 4];
      expected += "0123456789abcdef"[byte & 15];
    }
    ASSERT_EQ(randomHex(8, [v] { return v; }), expected) << std::hex << v;
  }
}

TEST(HttpFields, ForwardedForAndRequestIds) {
  EXPECT_EQ(appendForwardedFor("", "10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(appendForwardedFor(" 1.2.3.4 ", "10.0.0.1"), "1.2.3.4, 10.0.0.1");
  EXPECT_TRUE(acceptableRequestId("abc-123_XYZ"));
  EXPECT_FALSE(acceptableRequestId(""));
  EXPECT_FALSE(acceptableRequestId("has space"));
  EXPECT_FALSE(acceptableRequestId(std::string(201, 'a')));
}

TEST(HttpFields, RequestTargetForms) {
  std::string_view p, q;
  splitTarget("/a/b?x=1&y", p, q);
  EXPECT_EQ(p, "/a/b");
  EXPECT_EQ(q, "x=1&y");
  splitTarget("http://example.com/a?b", p, q);
  EXPECT_EQ(p, "/a");
  EXPECT_EQ(q, "b");
  splitTarget("http://example.com", p, q);
  EXPECT_EQ(p, "/");
  splitTarget("*", p, q);
  EXPECT_EQ(p, "");
}

}  // namespace
}  // namespace gatelab::proxy


namespace gatelab::proxy {
namespace {


TEST(HttpFields, AcceptEncodingFollowsQValues) {
  EXPECT_TRUE(acceptsEncoding("gzip, deflate, br", "gzip"));
  EXPECT_TRUE(acceptsEncoding("br;q=1.0, GZIP;q=0.5", "gzip"));
  EXPECT_FALSE(acceptsEncoding("gzip;q=0", "gzip"));
  EXPECT_FALSE(acceptsEncoding("gzip; q=0.000, *", "gzip"));  // an explicit refusal wins over *
  EXPECT_TRUE(acceptsEncoding("*", "gzip"));
  EXPECT_FALSE(acceptsEncoding("*;q=0", "gzip"));
  EXPECT_FALSE(acceptsEncoding("", "gzip"));
  EXPECT_FALSE(acceptsEncoding("br, deflate", "gzip"));
  EXPECT_TRUE(acceptsEncoding("gzip;q=0.001", "gzip"));
}

TEST(HttpFields, MediaTypeAndGzipRoundTrip) {
  EXPECT_EQ(mediaType("Application/JSON; charset=utf-8"), "application/json");
  EXPECT_EQ(mediaType(" text/html "), "text/html");
  EXPECT_EQ(mediaType(""), "");
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "{\"id\":" + std::to_string(i) + ",\"ok\":true}";
  const auto z = gzipCompress(text, 6);
  ASSERT_TRUE(z.has_value());
  EXPECT_LT(z->size(), text.size() / 4);
  EXPECT_EQ(testing::gunzip(*z), text);
  EXPECT_EQ(testing::gunzip(*gzipCompress("", 1)), "");
}

// A gzip stream fed in blocks: each block's output is flushed (what was written so far inflates
// to what went in), and the whole is one valid gzip member.
TEST(HttpFields, GzipStreamFlushesEachBlockAndEndsWithTheTrailer) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "data: {\"seq\":" + std::to_string(i) + "}\n\n";
  GzipStream gz(6);
  ASSERT_TRUE(gz.ok());
  std::string out;
  ASSERT_TRUE(gz.write(std::string_view(text).substr(0, 1000), false, out));
  // Inflate what is out so far: the first 1000 bytes, nothing held back.
  z_stream zs{};
  inflateInit2(&zs, 15 + 16);
  std::string first(4096, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(out.data());
  zs.avail_in = static_cast<uInt>(out.size());
  zs.next_out = reinterpret_cast<Bytef*>(first.data());
  zs.avail_out = static_cast<uInt>(first.size());
  EXPECT_EQ(inflate(&zs, Z_SYNC_FLUSH), Z_OK);
  first.resize(zs.total_out);
  inflateEnd(&zs);
  EXPECT_EQ(first, text.substr(0, 1000));
  for (std::size_t at = 1000; at < text.size(); at += 30000)
    ASSERT_TRUE(gz.write(std::string_view(text).substr(at, 30000), false, out));
  ASSERT_TRUE(gz.write("", true, out));
  EXPECT_LT(out.size(), text.size() / 4);
  EXPECT_EQ(testing::gunzip(out), text);
}

}  // namespace
}  // namespace gatelab::proxy
