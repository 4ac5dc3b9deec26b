// The upstream answer's head as the proxy reads it without Beast's parser (response_head.hpp):
// what it parses, what it leaves to Beast (kOther), when it waits for more bytes. The
// differential check against Beast on mutated heads is the fuzz target fuzz_response_head.

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "gateway/proxy/response_head.hpp"

namespace gatelab::proxy {
namespace {

HeadParse parse(std::string_view bytes, ResponseHead& head, bool bodyless = false) {
  return parseResponseHead(bytes, bodyless, kUpstreamHeadLimit, head);
}

TEST(ResponseHead, ReadsNginxsAnswerAsItCame) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 06:00:00 GMT\r\n"
      "Content-Type: application/octet-stream\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n";
  ResponseHead h;
  ASSERT_EQ(parse(wire, h), HeadParse::kParsed);
  EXPECT_EQ(h.version, 11u);
  EXPECT_EQ(h.status, 200u);
  EXPECT_EQ(h.reason, "OK");
  EXPECT_EQ(h.size, wire.size() - 3);  // up to the body
  ASSERT_TRUE(h.contentLength.has_value());
  EXPECT_EQ(*h.contentLength, 3u);
  EXPECT_TRUE(h.keepAlive);
  EXPECT_FALSE(h.retryAfter.has_value());
  ASSERT_EQ(h.fieldCount, 5u);
  EXPECT_EQ(h.fields[0].name, "Server");
  EXPECT_EQ(h.fields[0].value, "nginx/1.22.1");
  EXPECT_EQ(h.fields[0].line, "Server: nginx/1.22.1\r\n");  // as it came, for copying through
  EXPECT_EQ(h.connection, "keep-alive");
  EXPECT_EQ(h.fields[2].name, "Content-Type");
  EXPECT_EQ(h.fields[4].name, "Connection");
  EXPECT_EQ(h.fields[4].value, "keep-alive");
}

TEST(ResponseHead, TrimsValuesAndKeepsEmptyOnesAndOddReasons) {
  ResponseHead h;
  ASSERT_EQ(parse("HTTP/1.1 503 Slow Down, please\r\nX-A:\t  spaced \t\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n", h),
            HeadParse::kParsed);
  EXPECT_EQ(h.status, 503u);
  EXPECT_EQ(h.reason, "Slow Down, please");
  ASSERT_EQ(h.fieldCount, 3u);
  EXPECT_EQ(h.fields[0].value, "spaced");
  EXPECT_EQ(h.fields[0].line, "X-A:\t  spaced \t\r\n");
  EXPECT_EQ(h.fields[1].value, "");
  ASSERT_EQ(parse("HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\n", h), HeadParse::kParsed);  // empty reason
  EXPECT_EQ(h.reason, "");
}

TEST(ResponseHead, KeepAliveFollowsTheVersionAndTheFirstConnectionField) {
  ResponseHead h;
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", h), HeadParse::kParsed);
  EXPECT_TRUE(h.keepAlive);
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n", h), HeadParse::kParsed);
  EXPECT_FALSE(h.keepAlive);
  ASSERT_EQ(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", h), HeadParse::kParsed);
  EXPECT_EQ(h.version, 10u);
  EXPECT_FALSE(h.keepAlive);
  ASSERT_EQ(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", h), HeadParse::kParsed);
  EXPECT_TRUE(h.keepAlive);
  // Only the first Connection field counts (as a lookup by name finds it).
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nConnection: x-a\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", h),
            HeadParse::kParsed);
  EXPECT_TRUE(h.keepAlive);
}

TEST(ResponseHead, RetryAfterInSecondsOnly) {
  ResponseHead h;
  ASSERT_EQ(parse("HTTP/1.1 503 Busy\r\nretry-after: 120\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n", h),
            HeadParse::kParsed);
  ASSERT_TRUE(h.retryAfter.has_value());
  EXPECT_EQ(*h.retryAfter, std::chrono::seconds{120});
  ASSERT_EQ(parse("HTTP/1.1 503 Busy\r\nRetry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\nContent-Length: 0\r\n\r\n", h),
            HeadParse::kParsed);
  EXPECT_FALSE(h.retryAfter.has_value());
  EXPECT_EQ(delaySeconds("0"), std::chrono::seconds{0});
  EXPECT_EQ(delaySeconds("999999999"), std::chrono::seconds{999999999});
  EXPECT_FALSE(delaySeconds("1234567890").has_value());
  EXPECT_FALSE(delaySeconds("").has_value());
  EXPECT_FALSE(delaySeconds("-1").has_value());
  EXPECT_FALSE(delaySeconds("1.5").has_value());
}

TEST(ResponseHead, AnswersWithoutABodyNeedNoLength) {
  ResponseHead h;
  EXPECT_EQ(parse("HTTP/1.1 204 No Content\r\n\r\n", h), HeadParse::kParsed);
  EXPECT_EQ(parse("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", h), HeadParse::kParsed);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", h, /*bodyless=*/true), HeadParse::kParsed);
  // A body to the end of the connection is Beast's to read.
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", h), HeadParse::kOther);
}

TEST(ResponseHead, LeavesEveryOtherShapeToBeast) {
  ResponseHead h;
  for (const char* wire : {
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",             // chunked
           "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",  // duplicate length
           "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n",                    // a list
           "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
           "HTTP/1.1 100 Continue\r\n\r\n",                                     // interim
           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
           "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",                      // version
           "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",                         // no SP before the reason
           "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n",  // obs-fold
           "HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 0\r\n\r\n",           // space before the colon
           "HTTP/1.1 200 OK\r\n: 1\r\nContent-Length: 0\r\n\r\n",               // no name
           "HTTP/1.1 200 OK\r\nX-A 1\r\nContent-Length: 0\r\n\r\n",             // no colon
           "HTTP/1.1 200 OK\nContent-Length: 0\n\n",                            // bare LF
           "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n",         // CR inside a value
           "HTTP/1.1 200 OK\r\nConnection: close;\r\nContent-Length: 0\r\n\r\n",  // not a token list
           "HTTP/1.1 200 OK\r\nProxy-Connection: a b\r\nContent-Length: 0\r\n\r\n",
       })
    EXPECT_EQ(parse(wire, h), HeadParse::kOther) << wire;
  for (const char bad : {'\0', '\x01', '\x7f'}) {
    std::string wire = "HTTP/1.1 200 OK\r\nX-A: a?b\r\nContent-Length: 0\r\n\r\n";
    wire[wire.find('?')] = bad;
    EXPECT_EQ(parse(wire, h), HeadParse::kOther) << static_cast<int>(bad);
  }
  std::string many = "HTTP/1.1 200 OK\r\n";
  for (std::size_t i = 0; i <= ResponseHead::kMaxFields; ++i) many += "X-N: " + std::to_string(i) + "\r\n";
  EXPECT_EQ(parse(many + "Content-Length: 0\r\n\r\n", h), HeadParse::kOther);
}

TEST(ResponseHead, AFieldNameIsReadOnlyWhenEveryByteIsATokenCharacter) {
  // Every byte value at every place of a name, in short lines (read byte by byte) and long ones
  // (sixteen at a time): the name is read when the byte is a token character (RFC 9110 5.6.2),
  // else the answer is Beast's to read.
  const std::string_view tchars = "!#$%&'*+-.^_`|~";
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool token = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (b != 0 && tchars.find(c) != std::string_view::npos);
    for (const std::size_t nameLength : {3u, 15u, 16u, 17u, 31u}) {
      for (std::size_t at = 0; at < nameLength; ++at) {
        std::string name(nameLength, 'n');
        name[at] = c;
        const std::string wire = "HTTP/1.1 204 No Content\r\n" + name + ": v\r\n\r\n";
        ResponseHead h;
        const HeadParse r = parse(wire, h);
        if (token) {
          ASSERT_EQ(r, HeadParse::kParsed) << "byte " << b << " at " << at << " of " << nameLength;
          ASSERT_EQ(h.fieldCount, 1u);
          ASSERT_EQ(h.fields[0].name, name);
        } else if (c != ':') {
          ASSERT_EQ(r, HeadParse::kOther) << "byte " << b << " at " << at << " of " << nameLength;
        }
      }
    }
  }
}

TEST(ResponseHead, WaitsForTheBlankLineWithinTheLimit) {
  const std::string wire = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 2\r\n\r\nok";
  ResponseHead h;
  for (std::size_t n = 0; n < wire.size() - 2; ++n)
    EXPECT_EQ(parse(std::string_view(wire).substr(0, n), h), HeadParse::kIncomplete) << n;
  EXPECT_EQ(parse(std::string_view(wire).substr(0, wire.size() - 2), h), HeadParse::kParsed);
  // A head that does not end within the limit is Beast's (which refuses it: header_limit).
  const std::string big = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(kUpstreamHeadLimit, 'a') + "\r\n\r\n";
  EXPECT_EQ(parse(std::string_view(big).substr(0, kUpstreamHeadLimit - 10), h), HeadParse::kIncomplete);
  EXPECT_EQ(parse(big, h), HeadParse::kOther);
  EXPECT_EQ(parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, 20, h), HeadParse::kOther);
}

}  // namespace
}  // namespace gatelab::proxy
