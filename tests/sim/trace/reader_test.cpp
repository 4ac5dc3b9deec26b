// TraceReader: one contract suite run against every format (the same requests written as CLF,
// combined, a custom log_format, JSON lines, CSV and TSV; plain and gzip), then the line reader's
// own edge cases: over-long lines, CRLF, a last line without newline, tiny buffers, gzip members,
// truncated and corrupt gzip, missing files.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "sim/trace/reader.hpp"
#include "tests/sim/trace/test_support.hpp"

namespace gatelab::sim::trace {
namespace {

using testing::epochSeconds;
using testing::format;
using testing::gzip;
using testing::readMemory;

// The logical requests every format writes.
struct Request {
  std::int64_t epoch;
  std::string client;
  std::string method;
  std::string path;
  std::string query;
  int status;
  std::optional<std::uint64_t> bytes;
};

std::vector<Request> requests() {
  std::vector<Request> out;
  const char* methods[] = {"GET", "POST", "HEAD", "PUT"};
  for (int i = 0; i < 300; ++i) {
    Request r;
    r.epoch = 971211336 + i / 3;  // three requests per second
    r.client = "10.0." + std::to_string(i % 7) + "." + std::to_string(i % 5);
    r.method = methods[i % 4];
    r.path = "/api/v1/items/" + std::to_string(i);
    r.query = i % 2 == 0 ? "page=" + std::to_string(i % 10) : "";
    r.status = i % 11 == 0 ? 503 : 200;
    if (i % 9 != 0) r.bytes = static_cast<std::uint64_t>(100 + i);
    out.push_back(std::move(r));
  }
  return out;
}

std::string clfTime(std::int64_t epoch) {
  // Written in UTC-07:00 so the zone has to be applied to get the epoch back.
  const std::int64_t local = epoch - 7 * 3600;
  const std::string iso = formatTraceTime(epochSeconds(local));  // YYYY-MM-DDTHH:MM:SSZ
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return iso.substr(8, 2) + "/" + months[std::stoi(iso.substr(5, 2)) - 1] + "/" + iso.substr(0, 4) + ":" + iso.substr(11, 8) +
         " -0700";
}

std::string target(const Request& r) { return r.path + (r.query.empty() ? "" : "?" + r.query); }
std::string bytesText(const Request& r, const char* absent) { return r.bytes ? std::to_string(*r.bytes) : absent; }

struct Writer {
  const char* name;
  std::function<TraceFormat()> format;
  std::function<std::string(const std::vector<Request>&)> write;
};

std::vector<Writer> writers() {
  return {
      {"clf", [] { return format("clf"); },
       [](const std::vector<Request>& rs) {
         std::string s;
         for (const Request& r : rs) {
           s += r.client + " - - [" + clfTime(r.epoch) + "] \"" + r.method + " " + target(r) + " HTTP/1.1\" " +
                std::to_string(r.status) + " " + bytesText(r, "-") + "\n";
         }
         return s;
       }},
      {"combined", [] { return format("combined"); },
       [](const std::vector<Request>& rs) {
         std::string s;
         for (const Request& r : rs) {
           s += r.client + " - - [" + clfTime(r.epoch) + "] \"" + r.method + " " + target(r) + " HTTP/1.1\" " +
                std::to_string(r.status) + " " + bytesText(r, "-") + " \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n";
         }
         return s;
       }},
      {"custom", [] { return format("nginx:$msec|$remote_addr|$request_method|$request_uri|$status|$bytes_sent|$http_x_tenant"); },
       [](const std::vector<Request>& rs) {
         std::string s;
         for (const Request& r : rs) {
           s += std::to_string(r.epoch) + ".000|" + r.client + "|" + r.method + "|" + target(r) + "|" +
                std::to_string(r.status) + "|" + bytesText(r, "-") + "|acme\n";
         }
         return s;
       }},
      {"jsonl", [] { return format("jsonl", {{"map", "time=@t,client=remote.ip"}}); },
       [](const std::vector<Request>& rs) {
         std::string s;
         for (const Request& r : rs) {
           s += R"({"@t":)" + std::to_string(r.epoch) + R"(,"remote":{"ip":")" + r.client + R"("},"method":")" + r.method +
                R"(","url":")" + target(r) + R"(","status":)" + std::to_string(r.status) +
                (r.bytes ? R"(,"bytes":)" + std::to_string(*r.bytes) : std::string()) + "}\n";
         }
         return s;
       }},
      {"csv", [] { return format("csv", {{"time-format", "rfc3339"}}); },
       [](const std::vector<Request>& rs) {
         std::string s = "time,client,method,path,query,status,bytes\n";
         for (const Request& r : rs) {
           s += formatTraceTime(epochSeconds(r.epoch)) + "," + r.client + "," + r.method + "," + r.path + "," + r.query +
                "," + std::to_string(r.status) + "," + bytesText(r, "") + "\n";
         }
         return s;
       }},
      {"tsv", [] { return format("tsv", {{"map", "client=ip,url=request_uri"}}); },
       [](const std::vector<Request>& rs) {
         std::string s = "time\tip\tmethod\trequest_uri\tstatus\tbytes\n";
         for (const Request& r : rs) {
           s += std::to_string(r.epoch) + "\t" + r.client + "\t" + r.method + "\t" + target(r) + "\t" +
                std::to_string(r.status) + "\t" + bytesText(r, "-") + "\n";
         }
         return s;
       }},
  };
}

class ReaderContract : public ::testing::TestWithParam<Writer> {};

void expectSameRequests(const testing::ReadAll& all, const std::vector<Request>& expected, const std::string& what) {
  ASSERT_EQ(all.records.size(), expected.size()) << what << ": "
                                                 << (all.stats.firstMalformed.empty() ? all.stats.error
                                                                                      : all.stats.firstMalformed[0].reason);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const TraceRecord& r = all.records[i].view();
    const Request& e = expected[i];
    ASSERT_EQ(r.time, epochSeconds(e.epoch)) << what << " #" << i;
    ASSERT_EQ(r.client, e.client) << what << " #" << i;
    ASSERT_EQ(r.method, e.method) << what << " #" << i;
    ASSERT_EQ(r.path, e.path) << what << " #" << i;
    ASSERT_EQ(r.query, e.query) << what << " #" << i;
    ASSERT_EQ(r.status, e.status) << what << " #" << i;
    ASSERT_EQ(r.bytes, e.bytes) << what << " #" << i;
  }
}

// Every reader yields the same requests, in file order, with their line numbers and no malformed lines.
TEST_P(ReaderContract, ReadsEveryRequestOfItsFormat) {
  const Writer& w = GetParam();
  const std::vector<Request> expected = requests();
  const std::string data = w.write(expected);
  const auto all = readMemory(data, w.format());
  expectSameRequests(all, expected, w.name);
  EXPECT_EQ(all.stats.malformed, 0u);
  EXPECT_EQ(all.stats.records, expected.size());
  EXPECT_EQ(all.stats.linesRead, all.stats.records + all.stats.skipped);
  EXPECT_EQ(all.stats.bytesRead, data.size());
  EXPECT_FALSE(all.stats.compressed);
  EXPECT_TRUE(all.stats.error.empty()) << all.stats.error;
  const std::uint64_t firstLine = all.stats.skipped + 1;  // after a header line, if any
  EXPECT_EQ(all.records.front().view().line, firstLine);
  EXPECT_EQ(all.records.back().view().line, firstLine + expected.size() - 1);
}

// gzip and plain input give identical records.
TEST_P(ReaderContract, GzipAndPlainGiveIdenticalRecords) {
  const Writer& w = GetParam();
  const std::vector<Request> expected = requests();
  const std::string data = w.write(expected);
  const std::string packed = gzip(data);
  const auto plain = readMemory(data, w.format());
  const auto unpacked = readMemory(packed, w.format());
  EXPECT_TRUE(unpacked.stats.compressed);
  EXPECT_EQ(unpacked.stats.bytesRead, data.size());  // decompressed bytes
  expectSameRequests(unpacked, expected, std::string(w.name) + " (gzip)");
  ASSERT_EQ(plain.records.size(), unpacked.records.size());
  for (std::size_t i = 0; i < plain.records.size(); ++i) {
    const TraceRecord& a = plain.records[i].view();
    const TraceRecord& b = unpacked.records[i].view();
    EXPECT_EQ(a.line, b.line);
    EXPECT_EQ(a.userAgent, b.userAgent);
    ASSERT_EQ(a.headers.size(), b.headers.size());
    ASSERT_EQ(a.extras.size(), b.extras.size());
  }
}

// Tiny buffers (lines spanning many refills) change nothing.
TEST_P(ReaderContract, TinyReadChunksGiveTheSameRecords) {
  const Writer& w = GetParam();
  const std::vector<Request> expected = requests();
  const std::string data = w.write(expected);
  ReaderOptions small;
  small.readChunk = 16;
  small.maxLineLength = 256;
  expectSameRequests(readMemory(data, w.format(), small), expected, std::string(w.name) + " (16-byte chunks)");
  expectSameRequests(readMemory(gzip(data), w.format(), small), expected, std::string(w.name) + " (gzip, 16-byte chunks)");
}

// A malformed line in the middle is counted with its line number and reading goes on.
TEST_P(ReaderContract, AMalformedLineIsCountedAndSkipped) {
  const Writer& w = GetParam();
  std::vector<Request> expected = requests();
  std::string data = w.write(expected);
  // Replace the 10th data line with garbage (it has no time in any format).
  const std::size_t headerLines = (std::string(w.name) == "csv" || std::string(w.name) == "tsv") ? 1 : 0;
  std::size_t pos = 0;
  for (std::size_t i = 0; i < headerLines + 9; ++i) pos = data.find('\n', pos) + 1;
  const std::size_t end = data.find('\n', pos);
  data.replace(pos, end - pos, "this is not a request");
  const auto all = readMemory(data, w.format());
  EXPECT_EQ(all.stats.malformed, 1u) << w.name;
  ASSERT_EQ(all.stats.firstMalformed.size(), 1u) << w.name;
  EXPECT_EQ(all.stats.firstMalformed[0].line, headerLines + 10) << w.name;
  EXPECT_FALSE(all.stats.firstMalformed[0].reason.empty());
  expected.erase(expected.begin() + 9);
  expectSameRequests(all, expected, std::string(w.name) + " (one bad line)");
}

INSTANTIATE_TEST_SUITE_P(EveryFormat, ReaderContract, ::testing::ValuesIn(writers()),
                         [](const ::testing::TestParamInfo<Writer>& param) { return std::string(param.param.name); });

// ---- the line reader ---------------------------------------------------------------------------------

const char* kLine1 = R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 5)";
const char* kLine2 = R"(10.0.0.2 - - [10/Oct/2000:13:55:37 -0700] "GET /b HTTP/1.1" 200 6)";

TEST(LineReader, OverlongLinesAreMalformedAndReadingGoesOn) {
  ReaderOptions o;
  o.maxLineLength = 100;
  o.readChunk = 32;
  const std::string longLine(250, 'x');        // fits in no buffer: discarded in pieces
  const std::string huge(100000, 'y');          // far longer than the buffer
  const std::string justOver(101, 'z');         // one byte over the limit
  const std::string data = std::string(kLine1) + "\n" + longLine + "\n" + kLine2 + "\n" + huge + "\n" + justOver + "\n" + kLine1 + "\n";
  const auto all = readMemory(data, format("clf"), o);
  ASSERT_EQ(all.records.size(), 3u);
  EXPECT_EQ(all.records[0].view().line, 1u);
  EXPECT_EQ(all.records[1].view().line, 3u);   // line numbers count the over-long lines
  EXPECT_EQ(all.records[2].view().line, 6u);
  EXPECT_EQ(all.stats.malformed, 3u);
  EXPECT_EQ(all.stats.overlong, 3u);
  EXPECT_EQ(all.stats.linesRead, 6u);
  ASSERT_EQ(all.stats.firstMalformed.size(), 3u);
  EXPECT_EQ(all.stats.firstMalformed[0], (MalformedLine{2, "line: longer than 100 bytes"}));
  EXPECT_EQ(all.stats.firstMalformed[1].line, 4u);
  EXPECT_EQ(all.stats.firstMalformed[2].line, 5u);
}

TEST(LineReader, ALineOfExactlyTheLimitIsRead) {
  ReaderOptions o;
  o.maxLineLength = std::string_view(kLine1).size();
  o.readChunk = 16;
  const auto all = readMemory(std::string(kLine1) + "\n" + kLine2, format("clf"), o);
  EXPECT_EQ(all.records.size(), 2u);
  EXPECT_EQ(all.stats.malformed, 0u);
}

TEST(LineReader, CrLfAndAMissingFinalNewline) {
  const auto all = readMemory(std::string(kLine1) + "\r\n\r\n" + kLine2, format("clf"));
  ASSERT_EQ(all.records.size(), 2u);  // the last line has no newline
  EXPECT_EQ(all.records[0].view().bytes, 5u);  // '\r' stripped, so the byte count parses
  EXPECT_EQ(all.stats.skipped, 1u);            // the blank CRLF line
  EXPECT_EQ(all.records[1].view().line, 3u);
}

TEST(LineReader, OnlyTheFirstFewMalformedLinesAreKept) {
  std::string data;
  for (int i = 0; i < 100; ++i) data += "bad line\n";
  ReaderOptions o;
  o.keepMalformed = 3;
  const auto all = readMemory(data, format("clf"), o);
  EXPECT_EQ(all.stats.malformed, 100u);
  ASSERT_EQ(all.stats.firstMalformed.size(), 3u);
  EXPECT_EQ(all.stats.firstMalformed[2].line, 3u);
}

TEST(LineReader, EmptyInputIsEmptyNotAnError) {
  const auto all = readMemory("", format("combined"));
  EXPECT_TRUE(all.records.empty());
  EXPECT_EQ(all.stats.linesRead, 0u);
  EXPECT_TRUE(all.stats.error.empty());
}

TEST(LineReader, MultiMemberGzipIsReadThrough) {
  const std::string packed = gzip(std::string(kLine1) + "\n") + gzip(std::string(kLine2) + "\n");  // cat a.gz b.gz
  const auto all = readMemory(packed, format("clf"));
  ASSERT_EQ(all.records.size(), 2u) << all.stats.error;
  EXPECT_TRUE(all.stats.error.empty());
}

TEST(LineReader, TruncatedGzipKeepsWhatWasReadAndSaysWhy) {
  std::string data;
  for (int i = 0; i < 2000; ++i) data += std::string(kLine1) + "\n";
  std::string packed = gzip(data, 1);
  packed.resize(packed.size() / 2);
  const auto all = readMemory(packed, format("clf"));
  EXPECT_GT(all.records.size(), 0u);
  EXPECT_LT(all.records.size(), 2000u);
  EXPECT_NE(all.stats.error.find("truncated gzip"), std::string::npos) << all.stats.error;
}

TEST(LineReader, CorruptGzipIsAnErrorNotACrash) {
  std::string packed = gzip(std::string(kLine1) + "\n" + kLine2 + "\n");
  for (std::size_t i = 12; i < packed.size() - 8; ++i) packed[i] = static_cast<char>(packed[i] ^ 0x5A);
  const auto all = readMemory(packed, format("clf"));
  EXPECT_FALSE(all.stats.error.empty());
  EXPECT_TRUE(all.stats.compressed);
}

TEST(LineReader, MissingFileIsAnErrorNamingThePath) {
  Made<TraceReader> r = openTraceFile("/nonexistent/trace.log", format("combined"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.message.find("/nonexistent/trace.log"), std::string::npos) << r.error.message;
}

TEST(LineReader, FilesAndMemoryReadAlike) {
  const std::string data = std::string(kLine1) + "\n" + kLine2 + "\n";
  const std::string path = ::testing::TempDir() + "gatelab_reader_test.log.gz";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string packed = gzip(data);
    std::fwrite(packed.data(), 1, packed.size(), f);
    std::fclose(f);
  }
  Made<TraceReader> r = openTraceFile(path, format("clf"));
  ASSERT_TRUE(r.ok()) << r.error.message;
  const auto all = testing::readAll(*r.ptr);
  ASSERT_EQ(all.records.size(), 2u);
  EXPECT_TRUE(all.stats.compressed);
  EXPECT_EQ(all.records[1].view().path, "/b");
  std::remove(path.c_str());
}

TEST(LineReader, BufferCapacityIsFixedByTheOptions) {
  ReaderOptions o;
  o.maxLineLength = 1024;
  o.readChunk = 512;
  std::string data;
  for (int i = 0; i < 20000; ++i) data += std::string(kLine1) + "\n";
  Made<TraceReader> r = openTraceMemory(data, format("clf"), o);
  ASSERT_TRUE(r.ok());
  TraceRecord rec;
  std::size_t n = 0;
  std::size_t maxCapacity = 0;
  while (r.ptr->next(rec)) {
    ++n;
    maxCapacity = std::max(maxCapacity, r.ptr->bufferCapacity());
  }
  EXPECT_EQ(n, 20000u);
  // Line buffer (max line + chunk) + raw input chunk + a few field slots: independent of the 1.3 MB read.
  EXPECT_LE(maxCapacity, 1024u + 512u + 512u + 1024u);
}

}  // namespace
}  // namespace gatelab::sim::trace
