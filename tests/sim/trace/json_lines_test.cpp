// JSON lines with a field mapping: dotted paths, time syntaxes, string escapes, every malformed
// kind; and agreement with nlohmann-json on which lines are JSON at all.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "sim/trace/line_parser.hpp"
#include "tests/sim/trace/test_support.hpp"

namespace gatelab::sim::trace {
namespace {

using testing::epochSeconds;
using testing::format;
using testing::parser;
using testing::utc;

struct Result {
  LineStatus status;
  std::string reason;
  OwnedRecord record;
};

Result parseOne(LineParser& p, std::string_view line) {
  TraceRecord r;
  const LineResult res = p.parse(line, r);
  Result out{res.status, describeLineResult(res), {}};
  if (res.status == LineStatus::kRecord) out.record.assign(r);
  return out;
}

TEST(JsonLines, SameNamedFieldsNeedNoMapping) {
  auto p = parser(format("jsonl"));
  // Defaults: each field from the member of its own name; time auto-detected (epoch seconds).
  const Result r = parseOne(*p, R"({"time": 1700000000, "method": "GET", "url": "/a?b=1", "client": "10.0.0.1", "status": 200, "bytes": 12, "user_agent": "ua"})");
  ASSERT_EQ(r.status, LineStatus::kRecord) << r.reason;
  const TraceRecord& v = r.record.view();
  EXPECT_EQ(v.time, epochSeconds(1700000000));
  EXPECT_EQ(v.method, "GET");
  EXPECT_EQ(v.path, "/a");
  EXPECT_EQ(v.query, "b=1");
  EXPECT_EQ(v.client, "10.0.0.1");
  EXPECT_EQ(v.status, 200);
  EXPECT_EQ(v.bytes, 12u);
  EXPECT_EQ(v.userAgent, "ua");
}

TEST(JsonLines, DottedPathsHeadersAndExtras) {
  auto p = parser(format("jsonl", {{"map", "time=ts,client=req.ip,method=req.method,path=req.path,status=res.status,"
                                           "header.X-Tenant-Id=req.headers.x-tenant"},
                                   {"time-format", "epoch_ms"}}));
  const Result r = parseOne(
      *p, R"({"ts":1700000000250,"req":{"ip":"2001:db8::7","method":"POST","path":"/v1/orders","headers":{"x-tenant":"acme"}},"res":{"status":"201"},"service":"orders","tags":["a","b"],"ok":true})");
  ASSERT_EQ(r.status, LineStatus::kRecord) << r.reason;
  const TraceRecord& v = r.record.view();
  EXPECT_EQ(v.time, epochSeconds(1700000000) + std::chrono::milliseconds(250));  // epoch_ms
  EXPECT_EQ(v.client, "2001:db8::7");                                              // nested member
  EXPECT_EQ(v.method, "POST");
  EXPECT_EQ(v.path, "/v1/orders");
  EXPECT_EQ(v.status, 201);                                                        // status given as a string
  EXPECT_EQ(v.header("x-tenant-id"), "acme");                                      // header mapping, deep path
  EXPECT_EQ(v.extra("service"), "orders");                                         // unmapped top-level scalar
  EXPECT_EQ(v.extra("ok"), "true");                                                // booleans as text
  EXPECT_FALSE(v.extra("tags").has_value());                                       // arrays are not extras
}

TEST(JsonLines, TimeSyntaxes) {
  struct Case {
    const char* why;
    const char* timeFormat;
    const char* line;
    const char* expected;
  };
  const Case cases[] = {
      {"RFC 3339 with offset", "rfc3339", R"({"time":"2000-10-10T13:55:36-07:00"})", "2000-10-10T20:55:36Z"},
      {"auto: RFC 3339 string", "auto", R"({"time":"2000-10-10T20:55:36.5Z"})", "2000-10-10T20:55:36.5Z"},
      {"auto: fractional epoch seconds number", "auto", R"({"time":971211336.5})", "2000-10-10T20:55:36.5Z"},
      {"auto: epoch milliseconds number", "auto", R"({"time":971211336500})", "2000-10-10T20:55:36.5Z"},
      {"auto: epoch seconds as a string", "auto", R"({"time":"971211336"})", "2000-10-10T20:55:36Z"},
      {"epoch_s explicitly", "epoch_s", R"({"time":971211336})", "2000-10-10T20:55:36Z"},
      {"epoch_us", "epoch_us", R"({"time":971211336500000})", "2000-10-10T20:55:36.5Z"},
      {"CLF time in JSON", "clf", R"({"time":"10/Oct/2000:13:55:36 -0700"})", "2000-10-10T20:55:36Z"},
      {"strptime-like pattern", "%Y/%m/%d %H:%M:%S", R"({"time":"2000/10/10 20:55:36"})", "2000-10-10T20:55:36Z"},
  };
  for (const Case& c : cases) {
    auto p = parser(format("jsonl", {{"time-format", c.timeFormat}}));
    const Result r = parseOne(*p, c.line);
    ASSERT_EQ(r.status, LineStatus::kRecord) << c.why << ": " << r.reason;
    EXPECT_EQ(r.record.view().time, utc(c.expected)) << c.why;
  }
}

TEST(JsonLines, StringEscapesAreDecoded) {
  auto p = parser(format("jsonl"));
  const Result r = parseOne(
      *p, R"({"time":1,"path":"/a\"b\\c\/d","user_agent":"caf\u00e9 \ud83d\ude00 \n","client":"x\u0000y"})");
  ASSERT_EQ(r.status, LineStatus::kRecord) << r.reason;
  EXPECT_EQ(r.record.view().path, "/a\"b\\c/d");                           // \" \\ \/
  EXPECT_EQ(r.record.view().userAgent, "caf\xC3\xA9 \xF0\x9F\x98\x80 \n");  // BMP, surrogate pair, \n
  EXPECT_EQ(r.record.view().client, std::string_view("x\0y", 3));          // \u0000 is data
  // A lone surrogate becomes U+FFFD rather than invalid UTF-8.
  const Result lone = parseOne(*p, R"({"time":1,"path":"\ud800x"})");
  ASSERT_EQ(lone.status, LineStatus::kRecord) << lone.reason;
  EXPECT_EQ(lone.record.view().path, "\xEF\xBF\xBDx");
}

TEST(JsonLines, EveryMalformedKind) {
  auto p = parser(format("jsonl", {{"time-format", "epoch_s"}}));
  const struct {
    const char* why;
    const char* line;
    const char* reasonContains;
  } cases[] = {
      {"not an object", R"([1,2])", "not a JSON object"},
      {"missing time member", R"({"method":"GET"})", "member \"time\": missing"},
      {"time of the wrong syntax", R"({"time":"yesterday"})", "member \"time\": not a time"},
      {"time null is missing", R"({"time":null})", "missing"},
      {"status not a number", R"({"time":1,"status":"ok"})", "member \"status\": not a status code"},
      {"bytes negative", R"({"time":1,"bytes":-1})", "not a byte count"},
      {"request line not three tokens", R"({"time":1,"request":"GET /"})", "not a request line"},
      {"unterminated string", R"({"time":1,"method":"GET)", "unterminated string"},
      {"raw control character in a string", "{\"time\":1,\"method\":\"G\tET\"}", "control character"},
      {"bad escape", R"({"time":1,"method":"\q"})", "bad escape"},
      {"bad unicode escape", R"({"time":1,"method":"\u12G4"})", "bad \\u escape"},
      {"trailing comma", R"({"time":1,})", "expected a member name"},
      {"missing colon", R"({"time" 1})", "expected ':'"},
      {"single quotes", R"({'time':1})", "expected a member name"},
      {"leading zero", R"({"time":01})", "expected ',' or '}'"},
      {"bare word", R"({"time":1,"x":nope})", "invalid JSON value"},
      {"text after the object", R"({"time":1} x)", "text after the JSON object"},
      {"two objects on one line", R"({"time":1}{"time":2})", "text after the JSON object"},
      {"truncated", R"({"time":1,"a":{"b":)", "truncated JSON"},
  };
  for (const auto& c : cases) {
    const Result r = parseOne(*p, c.line);
    EXPECT_EQ(r.status, LineStatus::kMalformed) << c.why;
    EXPECT_NE(r.reason.find(c.reasonContains), std::string::npos) << c.why << ": reason was \"" << r.reason << "\"";
  }
  // Nesting is bounded: deep input is malformed, not a stack overflow.
  std::string deep = R"({"time":1,"a":)";
  for (int i = 0; i < 10000; ++i) deep += "[";
  EXPECT_EQ(parseOne(*p, deep).status, LineStatus::kMalformed);
}

TEST(JsonLines, MappingErrorsAreReportedUpFront) {
  TraceFormat f = format("jsonl", {{"map", "time=a..b"}});
  Made<LineParser> p = makeLineParser(f);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error.message.find("empty component"), std::string::npos) << p.error.message;
}

// The scanner accepts exactly the lines nlohmann-json accepts as one object (ASCII input; the
// scanner does not validate UTF-8). Checked on hand-picked lines and deterministic mutations.
TEST(JsonLines, AgreesWithNlohmannOnWhatIsJson) {
  TraceFormat f = format("jsonl", {{"time-format", "epoch_s"}});
  auto p = parser(f);
  std::vector<std::string> seeds = {
      R"({"time":1})",
      R"({"time":1,"a":[1,2,{"b":null}],"c":{"d":-1.5e+3,"e":true,"f":false},"g":"\"\\\/\b\f\n\r\t\u0041"})",
      R"(  {"time" : 1 , "x" : [ ] , "y" : { } }  )",
      R"({"time":0.5,"n":-0,"m":1E2,"k":0.0e-0})",
  };
  std::mt19937_64 rng(7);
  const std::string alphabet = "{}[]\":,.-+eE0123456789 tfnaurlsx\\/u";
  std::vector<std::string> inputs = seeds;
  for (int i = 0; i < 4000; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits && !s.empty(); ++k) {
      const std::size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: s.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
        default: s.erase(pos, 1); break;
      }
    }
    inputs.push_back(std::move(s));
  }
  int agreed = 0;
  for (const std::string& s : inputs) {
    TraceRecord r;
    const LineResult res = p->parse(s, r);
    const bool oursIsJson =
        res.status == LineStatus::kRecord || (res.status == LineStatus::kMalformed && res.field != "line");
    const bool theirs = nlohmann::json::accept(s) && nlohmann::json::parse(s).is_object();
    EXPECT_EQ(oursIsJson, theirs) << s << " -> " << describeLineResult(res);
    if (oursIsJson == theirs) ++agreed;
  }
  EXPECT_EQ(agreed, static_cast<int>(inputs.size()));
}

}  // namespace
}  // namespace gatelab::sim::trace
