// Access logs through nginx log_format matching: Common and Combined Log Format as nginx and
// Apache write them, and custom formats (variables, headers, extras, optional tail).
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "sim/trace/line_parser.hpp"
#include "tests/sim/trace/test_support.hpp"

namespace gatelab::sim::trace {
namespace {

using testing::format;
using testing::parser;
using testing::utc;

struct Parsed {
  LineStatus status = LineStatus::kMalformed;
  std::string reason;  // "FIELD: WHAT" for malformed lines
  OwnedRecord record;
};

Parsed parseOne(LineParser& p, std::string_view line) {
  TraceRecord r;
  const LineResult res = p.parse(line, r);
  Parsed out;
  out.status = res.status;
  out.reason = describeLineResult(res);
  if (res.status == LineStatus::kRecord) out.record.assign(r);
  return out;
}

struct Expect {
  const char* time = nullptr;  // RFC 3339 UTC
  const char* client = "";
  const char* user = "";
  const char* method = "";
  const char* path = "";
  const char* query = "";
  const char* protocol = "";
  int status = 0;
  std::optional<std::uint64_t> bytes;
  const char* referer = "";
  const char* userAgent = "";
  const char* host = "";
};

void expectRecord(const TraceRecord& r, const Expect& e, const std::string& why) {
  EXPECT_EQ(r.time, utc(e.time)) << why;
  EXPECT_EQ(r.client, e.client) << why;
  EXPECT_EQ(r.user, e.user) << why;
  EXPECT_EQ(r.method, e.method) << why;
  EXPECT_EQ(r.path, e.path) << why;
  EXPECT_EQ(r.query, e.query) << why;
  EXPECT_EQ(r.protocol, e.protocol) << why;
  EXPECT_EQ(r.status, e.status) << why;
  EXPECT_EQ(r.bytes, e.bytes) << why;
  EXPECT_EQ(r.referer, e.referer) << why;
  EXPECT_EQ(r.userAgent, e.userAgent) << why;
  EXPECT_EQ(r.host, e.host) << why;
}

struct ValidCase {
  const char* why;
  const char* line;
  Expect expect;
};

TEST(CombinedLogFormat, ValidLinesAsNginxAndApacheWriteThem) {
  auto p = parser(format("combined"));
  const ValidCase cases[] = {
      {"nginx default combined line, query split from the path",
       R"~(203.0.113.7 - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1&y=2 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)")~",
       {"2000-10-10T20:55:36Z", "203.0.113.7", "", "GET", "/apache_pb.gif", "x=1&y=2", "HTTP/1.0", 200, 2326,
        "http://www.example.com/start.html", "Mozilla/4.08 [en] (Win98; I ;Nav)"}},
      {"Apache's documented example: a user, '-' referer and agent become empty",
       R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "-" "-")",
       {"2000-10-10T20:55:36Z", "127.0.0.1", "frank", "GET", "/apache_pb.gif", "", "HTTP/1.0", 200, 2326}},
      {"'-' byte count (a 304) is absent, not zero",
       R"(10.0.0.1 - - [01/Aug/1995:00:00:01 -0400] "GET /a HTTP/1.1" 304 - "-" "curl/8.0")",
       {"1995-08-01T04:00:01Z", "10.0.0.1", "", "GET", "/a", "", "HTTP/1.1", 304, std::nullopt, "", "curl/8.0"}},
      {"zone east of UTC is applied",
       R"(10.0.0.1 - - [01/Aug/1995:09:30:01 +0530] "HEAD / HTTP/1.1" 200 0 "-" "x")",
       {"1995-08-01T04:00:01Z", "10.0.0.1", "", "HEAD", "/", "", "HTTP/1.1", 200, 0, "", "x"}},
      {"Apache escapes a quote in the request as \\\": it does not end the field",
       R"(10.0.0.2 - - [10/Oct/2000:13:55:36 -0700] "GET /a\"b HTTP/1.1" 404 12 "-" "x")",
       {"2000-10-10T20:55:36Z", "10.0.0.2", "", "GET", R"(/a\"b)", "", "HTTP/1.1", 404, 12, "", "x"}},
      {"escaped quotes in the user agent are kept as written",
       R"(10.0.0.3 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "Mozilla \"quoted\" agent")",
       {"2000-10-10T20:55:36Z", "10.0.0.3", "", "GET", "/", "", "HTTP/1.1", 200, 5, "", R"(Mozilla \"quoted\" agent)"}},
      {"an escaped backslash before the closing quote does not escape it",
       R"(10.0.0.4 - - [10/Oct/2000:13:55:36 -0700] "GET /x\\ HTTP/1.1" 200 5 "-" "ua\\")",
       {"2000-10-10T20:55:36Z", "10.0.0.4", "", "GET", R"(/x\\)", "", "HTTP/1.1", 200, 5, "", R"(ua\\)"}},
      {"nginx writes a quote as \\x22: plain data",
       R"(10.0.0.5 - - [10/Oct/2000:13:55:36 -0700] "GET /q\x22 HTTP/1.1" 400 0 "-" "a\x22b")",
       {"2000-10-10T20:55:36Z", "10.0.0.5", "", "GET", R"(/q\x22)", "", "HTTP/1.1", 400, 0, "", R"(a\x22b)"}},
      {"an unescaped quote inside the last field still parses (the closing quote is the line's last byte)",
       R"(10.0.0.6 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "Mozilla "evil" agent")",
       {"2000-10-10T20:55:36Z", "10.0.0.6", "", "GET", "/", "", "HTTP/1.1", 200, 5, "", R"(Mozilla "evil" agent)"}},
      {"absolute-form target (a forward proxy's log) gives host and path",
       R"(10.0.0.7 - - [10/Oct/2000:13:55:36 -0700] "GET http://example.com:8080/p?q=1 HTTP/1.1" 200 5 "-" "x")",
       {"2000-10-10T20:55:36Z", "10.0.0.7", "", "GET", "/p", "q=1", "HTTP/1.1", 200, 5, "", "x", "example.com:8080"}},
      {"IPv6 client",
       R"(2001:db8::1 - - [10/Oct/2000:13:55:36 -0700] "POST /api HTTP/2.0" 201 17 "-" "x")",
       {"2000-10-10T20:55:36Z", "2001:db8::1", "", "POST", "/api", "", "HTTP/2.0", 201, 17, "", "x"}},
  };
  for (const ValidCase& c : cases) {
    const Parsed r = parseOne(*p, c.line);
    ASSERT_EQ(r.status, LineStatus::kRecord) << c.why << ": " << r.reason;
    expectRecord(r.record.view(), c.expect, c.why);
  }
}

struct BadCase {
  const char* why;
  const char* line;
  const char* reasonContains;
};

TEST(CombinedLogFormat, EveryMalformedKindIsReportedNotFatal) {
  auto p = parser(format("combined"));
  const BadCase cases[] = {
      {"request '-' (nginx logs it for an empty request)",
       R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "-" 400 0 "-" "-")", "$request: not a request line"},
      {"TLS handshake bytes sent to a plain-HTTP port",
       R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "\x16\x03\x01\x00\xA5\x01" 400 157 "-" "-")", "$request"},
      {"HTTP/0.9 style two-token request", R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /" 200 10 "-" "-")",
       "$request"},
      {"four tokens (a space inside the URL)",
       R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a b HTTP/1.0" 200 10 "-" "-")", "$request"},
      {"status is not a number", R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" OK 10 "-" "-")",
       "$status: not a status code"},
      {"status with four digits", R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 2000 10 "-" "-")",
       "$status"},
      {"byte count is not a number", R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1k "-" "-")",
       "$body_bytes_sent: not a byte count"},
      {"bad time", R"(10.0.0.1 - - [10/Oct/2000:25:55:36 -0700] "GET / HTTP/1.0" 200 10 "-" "-")",
       "$time_local: not a time"},
      {"time without zone", R"(10.0.0.1 - - [10/Oct/2000:13:55:36] "GET / HTTP/1.0" 200 10 "-" "-")", "$time_local"},
      {"missing closing bracket", R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700 "GET / HTTP/1.0" 200 10 "-" "-")",
       "$time_local"},
      {"truncated line (no user agent)", R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 10 "-")",
       "the text that should follow it is missing"},
      {"CLF line read as combined", R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 10)",
       "missing"},
      {"extra text after the last field", R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 10 "-" "x" 0.5)",
       "$http_user_agent: line does not end"},
      {"not a log line at all", "garbage", "missing"},
      {"binary junk", "\x01\x02\xff\xfe", "missing"},
  };
  for (const BadCase& c : cases) {
    const Parsed r = parseOne(*p, c.line);
    EXPECT_EQ(r.status, LineStatus::kMalformed) << c.why;
    EXPECT_NE(r.reason.find(c.reasonContains), std::string::npos) << c.why << ": reason was \"" << r.reason << "\"";
  }
}

TEST(CombinedLogFormat, BlankLinesAreSkippedNotMalformed) {
  auto p = parser(format("combined"));
  EXPECT_EQ(parseOne(*p, "").status, LineStatus::kSkip);       // empty line
  EXPECT_EQ(parseOne(*p, "  \t ").status, LineStatus::kSkip);  // whitespace only
}

TEST(CommonLogFormat, ReadsClfAndRejectsCombinedTail) {
  auto p = parser(format("clf"));
  // A plain CLF line: no referer or agent.
  const Parsed ok = parseOne(*p, R"(127.0.0.1 user-identifier frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326)");
  EXPECT_EQ(ok.status, LineStatus::kMalformed) << "the second field is literally '-' in CLF as nginx writes it";
  const Parsed nginx = parseOne(*p, R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326)");
  ASSERT_EQ(nginx.status, LineStatus::kRecord) << nginx.reason;
  expectRecord(nginx.record.view(),
               {"2000-10-10T20:55:36Z", "127.0.0.1", "frank", "GET", "/apache_pb.gif", "", "HTTP/1.0", 200, 2326}, "clf");
  // A combined line under clf: the byte count swallows the rest and is not a number.
  const Parsed combined = parseOne(*p, R"(127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "-" "-")");
  EXPECT_EQ(combined.status, LineStatus::kMalformed);
  EXPECT_NE(combined.reason.find("$body_bytes_sent"), std::string::npos) << combined.reason;
}

TEST(CustomLogFormat, KnownVariablesHeadersAndExtras) {
  auto p = parser(format(
      R"(nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent $request_time "$http_x_tenant_id" $upstream_addr ${host})"));
  const Parsed r = parseOne(
      *p, R"(10.1.2.3 - - [10/Oct/2000:13:55:36 -0700] "GET /v1/items?id=7 HTTP/1.1" 200 512 0.125 "acme" 127.0.0.1:3001 api.example.com)");
  ASSERT_EQ(r.status, LineStatus::kRecord) << r.reason;
  const TraceRecord& v = r.record.view();
  EXPECT_EQ(v.requestTime, core::Duration{std::chrono::milliseconds(125)});  // $request_time in seconds
  ASSERT_EQ(v.headers.size(), 1u);                                           // $http_x_tenant_id -> header
  EXPECT_EQ(v.headers[0].name, "x-tenant-id");
  EXPECT_EQ(v.header("X-Tenant-Id"), "acme");                                // looked up case-insensitively
  EXPECT_EQ(v.extra("upstream_addr"), "127.0.0.1:3001");                     // unknown variable -> extra field
  EXPECT_EQ(v.host, "api.example.com");                                      // ${host} brace syntax
  // A '-' header value is no header at all.
  const Parsed dash = parseOne(
      *p, R"(10.1.2.3 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 512 - "-" - h)");
  ASSERT_EQ(dash.status, LineStatus::kRecord) << dash.reason;
  EXPECT_TRUE(dash.record.view().headers.empty());
  EXPECT_FALSE(dash.record.view().requestTime.has_value());
}

TEST(CustomLogFormat, TimeVariablesOtherThanTimeLocal) {
  struct Case {
    const char* why;
    const char* logFormat;
    const char* line;
    const char* time;
  };
  const Case cases[] = {
      {"$time_iso8601 with offset", "nginx:$remote_addr [$time_iso8601] $request_method $uri", "1.2.3.4 [2000-10-10T13:55:36-07:00] GET /x",
       "2000-10-10T20:55:36Z"},
      {"$msec: epoch seconds with milliseconds", "nginx:$msec $remote_addr $request_method $request_uri",
       "971211336.250 1.2.3.4 GET /x?y", "2000-10-10T20:55:36.25Z"},
  };
  for (const Case& c : cases) {
    auto p = parser(format(c.logFormat));
    const Parsed r = parseOne(*p, c.line);
    ASSERT_EQ(r.status, LineStatus::kRecord) << c.why << ": " << r.reason;
    EXPECT_EQ(r.record.view().time, utc(c.time)) << c.why;
    EXPECT_EQ(r.record.view().method, "GET") << c.why;
    EXPECT_EQ(r.record.view().path, "/x") << c.why;
  }
}

TEST(CustomLogFormat, CompileErrorsNameTheProblem) {
  struct Case {
    const char* why;
    const char* logFormat;
    const char* messageContains;
  };
  const Case cases[] = {
      {"no time variable", "nginx:$remote_addr \"$request\"", "no time variable"},
      {"adjacent variables cannot be split", "nginx:$remote_addr$time_local", "no text between them"},
      {"unclosed ${", "nginx:${remote_addr [$time_local]", "unclosed ${"},
      {"no variables", "nginx:just text", "no $variables"},
  };
  for (const Case& c : cases) {
    Made<LineParser> p = makeLineParser(format(c.logFormat));
    ASSERT_FALSE(p.ok()) << c.why;
    EXPECT_NE(p.error.message.find(c.messageContains), std::string::npos) << c.why << ": " << p.error.message;
    EXPECT_FALSE(p.error.allowed.empty()) << c.why;
  }
}

TEST(CustomLogFormat, EpaFormatWithOptionalTailReadsLinesWithoutBytes) {
  auto p = parser(format("epa"));
  // A full line: EDT day-of-August time.
  const Parsed full = parseOne(*p, R"(141.243.1.172 [29:23:53:25] "GET /Software.html HTTP/1.0" 200 1497)");
  ASSERT_EQ(full.status, LineStatus::kRecord) << full.reason;
  expectRecord(full.record.view(),
               {"1995-08-30T03:53:25Z", "141.243.1.172", "", "GET", "/Software.html", "", "HTTP/1.0", 200, 1497}, "epa");
  // '-' bytes.
  const Parsed dash = parseOne(*p, R"(tanuki.twics.com [29:23:54:19] "GET /docs/OSWRCRA/general/hotline HTTP/1.0" 302 -)");
  ASSERT_EQ(dash.status, LineStatus::kRecord) << dash.reason;
  EXPECT_FALSE(dash.record.view().bytes.has_value());
  // One of the 21 lines without a bytes field: the optional tail makes it a record with no bytes.
  const Parsed tail = parseOne(*p, R"(bastion.fdic.gov [30:09:36:04] "GET /enviro/gif/blueball.gifalt= HTTP/1.0" 404)");
  ASSERT_EQ(tail.status, LineStatus::kRecord) << tail.reason;
  EXPECT_EQ(tail.record.view().status, 404);
  EXPECT_FALSE(tail.record.view().bytes.has_value());
  // The tail is optional only after the time and request: a line cut inside them stays malformed.
  EXPECT_EQ(parseOne(*p, R"(bastion.fdic.gov [30:09:36:04] "GET /x HTTP/1.0)").status, LineStatus::kMalformed);
  EXPECT_EQ(parseOne(*p, "bastion.fdic.gov [30:09:36:04").status, LineStatus::kMalformed);
  // Without --optional-tail the short line is malformed.
  TraceFormat strict = format("epa");
  strict.optionalTail = false;
  auto sp = parser(strict);
  EXPECT_EQ(parseOne(*sp, R"(bastion.fdic.gov [30:09:36:04] "GET /enviro/gif/blueball.gifalt= HTTP/1.0" 404)").status,
            LineStatus::kMalformed);
}

TEST(CustomLogFormat, ExtrasCanBeTurnedOff) {
  TraceFormat f = format("nginx:$remote_addr [$time_local] $upstream_status");
  f.keepExtras = false;
  auto p = parser(f);
  const Parsed r = parseOne(*p, "1.2.3.4 [10/Oct/2000:13:55:36 -0700] 502");
  ASSERT_EQ(r.status, LineStatus::kRecord) << r.reason;
  EXPECT_TRUE(r.record.view().extras.empty());
}

}  // namespace
}  // namespace gatelab::sim::trace
