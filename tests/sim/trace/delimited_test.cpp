// CSV and TSV with a header line and a column mapping; quoting; header problems; header-less files.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "sim/trace/line_parser.hpp"
#include "sim/trace/trace_time.hpp"
#include "tests/sim/trace/test_support.hpp"

namespace gatelab::sim::trace {
namespace {

using testing::epochSeconds;
using testing::format;
using testing::parser;
using testing::readMemory;
using testing::utc;

TEST(Tsv, NasaLinesThroughThePreset) {
  const std::string data =
      "host\tlogname\ttime\tmethod\turl\tresponse\tbytes\treferer\tuseragent\n"
      "pppa006.compuserve.com\t-\t807256800\tGET\t/images/launch-logo.gif\t200\t1713\t\t\n"
      "163.205.16.75\t-\t807256801\tHEAD\t/cgi-bin/x?a=1\t304\t0\t\t\n";
  const auto all = readMemory(data, format("nasa-tsv"));
  ASSERT_EQ(all.records.size(), 2u);
  EXPECT_EQ(all.stats.skipped, 1u);  // the header line
  EXPECT_EQ(all.stats.malformed, 0u);
  const TraceRecord& a = all.records[0].view();
  EXPECT_EQ(a.time, epochSeconds(807256800));  // 1995-08-01 02:00:00 EDT
  EXPECT_EQ(a.client, "pppa006.compuserve.com");
  EXPECT_EQ(a.host, "");  // the "host" column is the client, not the Host header
  EXPECT_EQ(a.method, "GET");
  EXPECT_EQ(a.path, "/images/launch-logo.gif");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.bytes, 1713u);
  EXPECT_EQ(a.referer, "");
  EXPECT_EQ(a.extra("logname"), "-");  // the one unmapped column
  EXPECT_EQ(a.line, 2u);
  const TraceRecord& b = all.records[1].view();
  EXPECT_EQ(b.query, "a=1");
  EXPECT_EQ(b.line, 3u);
}

TEST(Tsv, CellsAreSplitExactlyWhereverTheTabsFall) {
  // Wide rows are split 16 bytes at a time: put tabs at every offset of a 16-byte chunk, empty
  // cells side by side and a trailing tab, and compare each extra column with what was written.
  std::string header = "time";
  for (int c = 0; c < 40; ++c) header += "\tc" + std::to_string(c);
  std::string data = header + "\n";
  std::vector<std::vector<std::string>> rows;
  for (int r = 0; r < 20; ++r) {
    std::vector<std::string> cells;
    std::string line = std::to_string(971211336 + r);
    for (int c = 0; c < 40; ++c) {
      // lengths 0..(r+c)%19: empties, short cells and cells longer than a chunk
      std::string v(static_cast<std::size_t>((r * 7 + c * 3) % 19), static_cast<char>('a' + (c % 26)));
      cells.push_back(v);
      line += "\t" + v;
    }
    rows.push_back(cells);
    data += line + "\n";
  }
  const auto all = readMemory(data, format("tsv"));
  ASSERT_EQ(all.records.size(), rows.size()) << (all.stats.firstMalformed.empty() ? "" : all.stats.firstMalformed[0].reason);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t c = 0; c < 40; ++c) {
      EXPECT_EQ(all.records[r].view().extra("c" + std::to_string(c)), rows[r][c]) << "row " << r << " column " << c;
    }
  }
  // One column too many or too few is still caught.
  const auto bad = readMemory(header + "\n" + std::string("971211336") + std::string(41, '\t') + "\n", format("tsv"));
  EXPECT_EQ(bad.stats.malformed, 1u);
}

TEST(Tsv, RepeatedTimesParseAsTheirFirstSighting) {
  // The parser remembers the last time text it read: lines repeating it, lines changing it, and a
  // bad time between two equal good ones must each read as if parsed alone.
  const std::string data =
      "time\tclient\n"
      "2024-01-01T00:00:00.000Z\ta\n"
      "2024-01-01T00:00:00.000Z\tb\n"
      "2024-01-01T00:00:00.001Z\tc\n"
      "2024-01-01T00:00:00.001+01:00\td\n"  // the same digits in another zone
      "2024-01-01T00:00:00.001+01:0\te\n"   // malformed: a prefix of the previous text
      "2024-01-01T00:00:00.001+01:00\tf\n"
      "2024-01-01T00:00:00.001Z\tg\n";
  const auto all = readMemory(data, format("tsv"));
  ASSERT_EQ(all.records.size(), 6u);
  EXPECT_EQ(all.stats.malformed, 1u);
  const TraceTime expected[] = {utc("2024-01-01T00:00:00Z"),          utc("2024-01-01T00:00:00Z"),
                                utc("2024-01-01T00:00:00.001Z"),      utc("2023-12-31T23:00:00.001Z"),
                                utc("2023-12-31T23:00:00.001Z"),      utc("2024-01-01T00:00:00.001Z")};
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(all.records[i].view().time, expected[i]) << "record " << i;
}

TEST(Tsv, RequestTimesReadAsDecimalSeconds) {
  // The request_time column: decimal seconds, digits below a nanosecond truncated, the same rule as
  // an epoch-seconds time; anything else makes the row malformed.
  struct Case {
    const char* text;
    std::optional<std::int64_t> nanos;  // nullopt: malformed
  };
  const Case cases[] = {
      {"0.009", 9'000'000},
      {"12", 12'000'000'000},
      {"1.5", 1'500'000'000},
      {"0.123456789", 123'456'789},
      {"0.1234567899", 123'456'789},  // the tenth digit is truncated
      {"007.000000001", 7'000'000'001},
      {"9223372036", 9'223'372'036'000'000'000},
      {"9223372037", std::nullopt},  // overflows int64 nanoseconds
      {"1.", std::nullopt},
      {".5", std::nullopt},
      {"1.5s", std::nullopt},
      {"-1", std::nullopt},
  };
  for (const Case& c : cases) {
    const std::string data = std::string("time\trequest_time\n971211336\t") + c.text + "\n";
    const auto all = readMemory(data, format("tsv"));
    if (!c.nanos) {
      EXPECT_EQ(all.stats.malformed, 1u) << c.text;
      continue;
    }
    ASSERT_EQ(all.records.size(), 1u) << c.text;
    EXPECT_EQ(all.records[0].view().requestTime, core::Duration{*c.nanos}) << c.text;
    TraceTime asEpoch{};
    ASSERT_TRUE(parseEpoch(c.text, 0, asEpoch)) << c.text;
    EXPECT_EQ(asEpoch.time_since_epoch(), core::Duration{*c.nanos}) << c.text;
  }
}

TEST(Csv, QuotingAndDefaultsBySameName) {
  const std::string data =
      "time,client,method,url,status,bytes,user_agent,note\n"
      "971211336,10.0.0.1,GET,/a?x=1,200,5,\"Mozilla/5.0 (X11, Linux)\",plain\n"
      "971211337,10.0.0.2,GET,/b,200,,\"say \"\"hi\"\"\",\"\"\n"
      "971211338,10.0.0.3,GET,/c,404,0,ua,\r\n";
  const auto all = readMemory(data, format("csv"));
  ASSERT_EQ(all.records.size(), 3u) << (all.stats.firstMalformed.empty() ? "" : all.stats.firstMalformed[0].reason);
  EXPECT_EQ(all.records[0].view().userAgent, "Mozilla/5.0 (X11, Linux)");  // a comma inside quotes
  EXPECT_EQ(all.records[0].view().query, "x=1");
  EXPECT_EQ(all.records[0].view().extra("note"), "plain");                 // unmapped column -> extra
  EXPECT_EQ(all.records[1].view().userAgent, "say \"hi\"");                // "" inside quotes
  EXPECT_FALSE(all.records[1].view().bytes.has_value());                   // empty cell = absent
  EXPECT_EQ(all.records[1].view().extra("note"), "");                      // quoted empty cell
  EXPECT_EQ(all.records[2].view().status, 404);                            // CRLF line ending
  EXPECT_EQ(all.records[2].view().extra("note"), "");                      // trailing delimiter = empty last cell
}

TEST(Csv, MalformedRowsAreCountedAndSkipped) {
  const std::string data =
      "time,client,status\n"
      "1,a,200\n"
      "2,b\n"                 // too few columns
      "3,c,200,extra\n"       // too many columns
      "4,\"d,200\n"           // unterminated quote
      "5,\"d\"x,200\n"        // text after a closing quote
      "six,e,200\n"           // bad time
      "7,f,abc\n"             // bad status
      ",g,200\n"              // empty time
      "8,h,200\n";
  const auto all = readMemory(data, format("csv", {{"time-format", "epoch_s"}}));
  ASSERT_EQ(all.records.size(), 2u);
  EXPECT_EQ(all.stats.malformed, 7u);
  ASSERT_EQ(all.stats.firstMalformed.size(), 7u);
  const char* expected[] = {"fewer columns", "more columns", "unterminated quoted field", "text after a closing quote",
                            "column \"time\": not a time", "column \"status\": not a status code", "column \"time\""};
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(all.stats.firstMalformed[i].line, i + 3);
    EXPECT_NE(all.stats.firstMalformed[i].reason.find(expected[i]), std::string::npos) << all.stats.firstMalformed[i].reason;
  }
}

TEST(Csv, HeaderWithoutAMappedColumnStopsWithTheColumnList) {
  const std::string data = "ts,ip\n1,a\n";
  const auto all = readMemory(data, format("csv", {{"map", "time=ts,client=address"}}));
  EXPECT_TRUE(all.records.empty());
  EXPECT_NE(all.stats.error.find("no column \"address\""), std::string::npos) << all.stats.error;
  EXPECT_NE(all.stats.error.find("ts, ip"), std::string::npos) << all.stats.error;
  // No time column at all (defaults only).
  const auto none = readMemory("a,b\n1,2\n", format("csv"));
  EXPECT_NE(none.stats.error.find("no time column"), std::string::npos) << none.stats.error;
}

TEST(Csv, HeaderlessFilesMapColumnsByNumber) {
  TraceFormat f = format("csv", {{"map", "time=3,client=1,status=2"}, {"header", "false"}, {"time-format", "epoch_s"}});
  const auto all = readMemory("10.0.0.1,200,971211336\n10.0.0.2,503,971211337,x\n10.0.0.3,200\n", f);
  ASSERT_EQ(all.records.size(), 2u);
  EXPECT_EQ(all.records[0].view().client, "10.0.0.1");
  EXPECT_EQ(all.records[1].view().status, 503);
  EXPECT_EQ(all.stats.malformed, 1u);  // the short last row
  // Column names without a header are an error up front.
  Made<LineParser> bad = makeLineParser(format("csv", {{"map", "time=ts"}, {"header", "false"}}));
  EXPECT_FALSE(bad.ok());
}

TEST(Csv, ByteOrderMarkBeforeTheHeaderIsIgnored) {
  const auto all = readMemory("\xEF\xBB\xBFtime,client\n971211336,a\n", format("csv"));
  ASSERT_EQ(all.records.size(), 1u) << all.stats.error;
  EXPECT_EQ(all.records[0].view().client, "a");
}

}  // namespace
}  // namespace gatelab::sim::trace
