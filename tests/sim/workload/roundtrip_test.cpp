// Every output format round-trips through the sim/trace readers: generate a workload, write it
// with the format's LineFormatter, read it back with TraceReader and readBackFormat(), and compare
// each record field the format carries (times up to the format's resolution). One contract run
// against every writer, plain and gzip, in memory and through a file.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "sim/trace/reader.hpp"
#include "sim/trace/trace_format.hpp"
#include "sim/workload/generator.hpp"
#include "sim/workload/output.hpp"
#include "sim/workload/writer.hpp"
#include "tests/sim/workload/test_support.hpp"

namespace gatelab::sim::workload {
namespace {

// Fields a format carries.
enum Carry : unsigned {
  kClient = 1u << 0,
  kMethod = 1u << 1,
  kPath = 1u << 2,  // and query
  kProtocol = 1u << 3,
  kStatus = 1u << 4,
  kBytes = 1u << 5,
  kReferer = 1u << 6,
  kAgent = 1u << 7,
  kRequestTime = 1u << 8,
  kHeaders = 1u << 9,  // X-Api-Key and X-Tenant-Id
};
constexpr unsigned kClf = kClient | kMethod | kPath | kProtocol | kStatus | kBytes;
constexpr unsigned kCombined = kClf | kReferer | kAgent;
constexpr unsigned kAll = kCombined | kRequestTime | kHeaders;

struct FormatCase {
  const char* name;         // for messages
  const char* format;       // parseTraceFormat text
  const char* timeFormat;   // --time-format, or nullptr
  int fractionDigits;       // --time-precision
  core::Duration resolution;  // what the written time keeps (truncated)
  unsigned carries;
};

const FormatCase kFormats[] = {
    {"clf", "clf", nullptr, 3, std::chrono::seconds(1), kClf},
    {"combined", "combined", nullptr, 3, std::chrono::seconds(1), kCombined},
    {"nginx custom", "nginx:$remote_addr [$time_iso8601] \"$request\" $status $body_bytes_sent $request_time "
                     "\"$http_referer\" \"$http_user_agent\" \"$http_x_api_key\" \"$http_x_tenant_id\"",
     nullptr, 3, std::chrono::seconds(1), kAll},
    {"nginx msec", "nginx:$msec $remote_addr \"$request\" $status $bytes_sent", nullptr, 3, std::chrono::milliseconds(1),
     kClf & ~kBytes},
    {"epa", "epa", nullptr, 3, std::chrono::seconds(1), kClf},
    {"jsonl", "jsonl", nullptr, 3, std::chrono::milliseconds(1), kAll},
    {"jsonl epoch_ns", "jsonl", "epoch_ns", 9, std::chrono::nanoseconds(1), kAll},
    {"jsonl epoch_ms", "jsonl", "epoch_ms", 3, std::chrono::milliseconds(1), kAll},
    {"jsonl pattern", "jsonl", "%Y-%m-%d %H:%M:%S.%f", 6, std::chrono::microseconds(1), kAll},
    {"csv", "csv", nullptr, 3, std::chrono::milliseconds(1), kAll},
    {"csv rfc3339 us", "csv", "rfc3339", 6, std::chrono::microseconds(1), kAll},
    {"tsv", "tsv", nullptr, 3, std::chrono::milliseconds(1), kAll},
    {"tsv epoch_s", "tsv", "epoch_s", 3, std::chrono::milliseconds(1), kAll},
    {"nasa-tsv", "nasa-tsv", nullptr, 0, std::chrono::seconds(1), kClient | kMethod | kPath | kStatus | kBytes | kReferer | kAgent},
};

// A workload with varied content, starting in August 1995 (the epa preset's dates have no year or
// month: its reader supplies 1995-08), a non-UTC local zone, and an abusive client.
WorkloadSpec roundTripSpec() {
  WorkloadSpec spec = testing::poissonSpec(40, 300, 1.0, 30, 11);
  EXPECT_TRUE(trace::parseRfc3339("1995-08-30T09:15:00.123456789-04:00", trace::ZoneOffset{0}, spec.start));
  spec.zone = trace::ZoneOffset{-4 * 60};
  AbusiveSpec a;
  a.count = 1;
  a.rate = core::Rate{10, std::chrono::seconds(1)};
  a.pattern = AbusePattern::kPoisson;
  spec.abusive.push_back(a);
  return spec;
}

struct Prepared {
  trace::TraceFormat format;
  WriterOptions options;
};

Prepared prepare(const FormatCase& c, const WorkloadGenerator& gen, trace::ZoneOffset zone) {
  auto parsed = trace::parseTraceFormat(c.format);
  EXPECT_TRUE(parsed.ok()) << c.name << ": " << (parsed.ok() ? "" : parsed.error().message);
  Prepared p{parsed.ok() ? parsed.value() : trace::TraceFormat{}, {}};
  if (c.timeFormat != nullptr) {
    const auto err = trace::setTraceFormatOption(p.format, "time-format", c.timeFormat);
    EXPECT_FALSE(err.has_value()) << c.name << ": " << err->message;
  }
  if (p.format.time.zone.count() == 0) p.format.time.zone = zone;  // as `gatelab trace gen` does
  p.options.fractionDigits = c.fractionDigits;
  p.options.headers = gen.headerNames();
  return p;
}

// Generates spec, returning the records and writing them to `out` through `sink`.
std::vector<trace::OwnedRecord> writeAll(const WorkloadSpec& spec, const FormatCase& c, OutputSink& sink, Prepared& p) {
  auto gen = WorkloadGenerator::make(spec);
  EXPECT_TRUE(gen.ok());
  p = prepare(c, *gen.ptr, spec.zone);
  auto formatter = makeLineFormatter(p.format, p.options);
  EXPECT_TRUE(formatter.ok()) << c.name << ": " << formatter.error.message;
  std::vector<trace::OwnedRecord> written;
  if (!formatter) return written;
  TraceWriter writer(std::move(formatter.ptr), sink);
  GeneratedRequest r;
  while (gen.ptr->next(r)) {
    written.emplace_back(r.record);
    EXPECT_TRUE(writer.write(r.record));
  }
  EXPECT_TRUE(writer.finish()) << writer.error();
  EXPECT_EQ(writer.stats().lines, written.size());
  return written;
}

void compareAll(const FormatCase& c, const std::vector<trace::OwnedRecord>& written, trace::TraceReader& reader) {
  trace::TraceRecord got;
  std::size_t i = 0;
  for (; reader.next(got); ++i) {
    ASSERT_LT(i, written.size()) << c.name << ": more records read than written";
    const trace::TraceRecord& w = written[i].view();
    SCOPED_TRACE(std::string(c.name) + ", record " + std::to_string(i + 1));
    const auto truncated = trace::TraceTime{std::chrono::floor<core::Duration>(w.time.time_since_epoch() / c.resolution * c.resolution)};
    ASSERT_EQ(got.time, truncated);
    if (c.carries & kClient) {
      ASSERT_EQ(got.client, w.client);
    }
    if (c.carries & kMethod) {
      ASSERT_EQ(got.method, w.method);
    }
    if (c.carries & kPath) {
      ASSERT_EQ(got.path, w.path);
      ASSERT_EQ(got.query, w.query);
    }
    if (c.carries & kProtocol) {
      ASSERT_EQ(got.protocol, w.protocol);
    }
    if (c.carries & kStatus) {
      ASSERT_EQ(got.status, w.status);
    }
    if (c.carries & kBytes) {
      ASSERT_EQ(got.bytes, w.bytes);
    }
    if (c.carries & kReferer) {
      ASSERT_EQ(got.referer, w.referer);
    }
    if (c.carries & kAgent) {
      ASSERT_EQ(got.userAgent, w.userAgent);
    }
    if (c.carries & kRequestTime) {
      ASSERT_EQ(got.requestTime, w.requestTime);
    }
    if (c.carries & kHeaders) {
      ASSERT_EQ(got.header("X-Api-Key"), w.header("X-Api-Key"));
      ASSERT_EQ(got.header("X-Tenant-Id"), w.header("X-Tenant-Id"));
    }
  }
  EXPECT_EQ(i, written.size()) << c.name;
  EXPECT_EQ(reader.stats().malformed, 0u) << c.name << ": "
                                          << (reader.stats().firstMalformed.empty() ? "" : reader.stats().firstMalformed[0].reason);
  EXPECT_TRUE(reader.stats().error.empty()) << c.name << ": " << reader.stats().error;
}

// Property: whatever a writer writes, the same format's reader reads back, field for field.
TEST(WorkloadRoundTrip, EveryFormatInMemory) {
  const WorkloadSpec spec = roundTripSpec();
  for (const FormatCase& c : kFormats) {
    std::string text;
    auto sink = memoryOutput(text, false);
    Prepared p;
    const std::vector<trace::OwnedRecord> written = writeAll(spec, c, *sink, p);
    ASSERT_GT(written.size(), 1000u) << c.name;
    auto reader = trace::openTraceMemory(text, readBackFormat(p.format, p.options));
    ASSERT_TRUE(reader.ok()) << c.name << ": " << reader.error.message;
    compareAll(c, written, *reader.ptr);
    EXPECT_FALSE(reader.ptr->stats().compressed);
  }
}

// Property: gzip output (in memory and to a .gz file) reads back the same records.
TEST(WorkloadRoundTrip, GzipInMemoryAndFile) {
  const WorkloadSpec spec = roundTripSpec();
  const testing::TempDir dir;
  for (const FormatCase& c : {kFormats[1], kFormats[5], kFormats[9]}) {
    std::string bytes;
    auto sink = memoryOutput(bytes, true, 9);
    Prepared p;
    const std::vector<trace::OwnedRecord> written = writeAll(spec, c, *sink, p);
    ASSERT_GE(bytes.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x8b);
    auto reader = trace::openTraceMemory(bytes, readBackFormat(p.format, p.options));
    ASSERT_TRUE(reader.ok());
    compareAll(c, written, *reader.ptr);
    EXPECT_TRUE(reader.ptr->stats().compressed);

    const std::string path = dir.file(std::string("out-") + c.format + ".gz");
    auto file = openOutput(path);
    ASSERT_TRUE(file.ok()) << file.error.message;
    EXPECT_TRUE(file.ptr->compressed()) << ".gz suffix";
    const std::vector<trace::OwnedRecord> again = writeAll(spec, c, *file.ptr, p);
    auto fileReader = trace::openTraceFile(path, readBackFormat(p.format, p.options));
    ASSERT_TRUE(fileReader.ok()) << fileReader.error.message;
    compareAll(c, again, *fileReader.ptr);
  }
}

// Property: an output file that cannot be created is an error value naming the path, not a crash.
TEST(WorkloadRoundTrip, UnwritableOutputIsAnError) {
  const testing::TempDir dir;
  const std::string path = dir.file("no/such/dir/out.log");
  auto file = openOutput(path);
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error.message.find(path), std::string::npos) << file.error.message;
}

// Property: the CSV/TSV header line names the columns; readBackOptions says how to read headers.
TEST(WorkloadRoundTrip, CsvHeaderAndReadBackOptions) {
  const WorkloadSpec spec = testing::poissonSpec(10, 10, 1.0, 5);
  const std::string csv = testing::generateText(spec, "csv");
  const std::string header = csv.substr(0, csv.find('\n'));
  for (const char* column : {"time", "client", "method", "url", "status", "bytes", "x-api-key"}) {
    EXPECT_NE(header.find(column), std::string::npos) << column << " in " << header;
  }
  auto format = trace::parseTraceFormat("csv");
  ASSERT_TRUE(format.ok());
  WriterOptions options;
  options.headers = {"X-Api-Key"};
  EXPECT_NE(readBackOptions(format.value(), options).find("X-Api-Key"), std::string::npos);
  EXPECT_TRUE(readBackOptions(format.value(), {}).empty());
}

}  // namespace
}  // namespace gatelab::sim::workload
