// The two shared real traces through the readers: every line read (0 malformed with the documented
// formats; exactly the 21 bytes-less EPA lines without the optional tail), gzip and plain
// identical, and the reader's memory bounded while streaming them.
#include <gtest/gtest.h>

#include <string>

#include "sim/trace/reader.hpp"
#include "tests/sim/trace/test_support.hpp"

namespace gatelab::sim::trace {
namespace {

using testing::format;
using testing::gunzipFile;
using testing::readAll;
using testing::readMemory;
using testing::sharedTrace;

testing::ReadAll readFile(const std::string& path, const TraceFormat& f, const ReaderOptions& o = {}) {
  Made<TraceReader> reader = openTraceFile(path, f, o);
  EXPECT_TRUE(reader.ok()) << reader.error.message;
  if (!reader.ok()) return {};
  return readAll(*reader.ptr);
}

TEST(RealTraces, NasaReadsWithZeroMalformed) {
  GATELAB_REQUIRE_SHARED_TRACES();
  const auto all = readFile(sharedTrace(testing::kNasa), format("nasa-tsv"));
  EXPECT_EQ(all.records.size(), 30969u);
  EXPECT_EQ(all.stats.malformed, 0u);
  EXPECT_EQ(all.stats.skipped, 1u);  // the header line
  EXPECT_EQ(all.stats.linesRead, 30970u);
  EXPECT_TRUE(all.stats.compressed);
  EXPECT_EQ(all.stats.bytesRead, 2339220u);  // "2.34 MB raw"
  EXPECT_TRUE(all.stats.error.empty()) << all.stats.error;
  const TraceRecord& first = all.records.front().view();
  EXPECT_EQ(first.client, "pppa006.compuserve.com");
  EXPECT_EQ(first.path, "/images/launch-logo.gif");
  EXPECT_EQ(first.time, testing::epochSeconds(807256800));
}

TEST(RealTraces, EpaReadsEveryRequestWithItsDocumentedFormat) {
  GATELAB_REQUIRE_SHARED_TRACES();
  const auto all = readFile(sharedTrace(testing::kEpa), format("epa"));
  EXPECT_EQ(all.records.size(), 47748u);
  EXPECT_EQ(all.stats.malformed, 0u);
  EXPECT_TRUE(all.stats.error.empty()) << all.stats.error;
  std::size_t noBytes = 0;
  for (const OwnedRecord& r : all.records) noBytes += r.view().bytes.has_value() ? 0u : 1u;
  EXPECT_EQ(noBytes, 5310u + 21u);  // "-" byte counts plus the 21 lines without the field
}

TEST(RealTraces, EpaWithoutOptionalTailHasExactlyThe21ShortLinesMalformed) {
  GATELAB_REQUIRE_SHARED_TRACES();
  TraceFormat strict = format("epa");
  strict.optionalTail = false;
  ReaderOptions o;
  o.keepMalformed = 50;
  const auto all = readFile(sharedTrace(testing::kEpa), strict, o);
  EXPECT_EQ(all.records.size(), 47748u - 21u);
  EXPECT_EQ(all.stats.malformed, 21u);
  ASSERT_EQ(all.stats.firstMalformed.size(), 21u);
  for (const MalformedLine& m : all.stats.firstMalformed) {
    EXPECT_NE(m.reason.find("$status"), std::string::npos) << m.line << ": " << m.reason;
  }
}

TEST(RealTraces, GzipAndPlainGiveIdenticalRecords) {
  GATELAB_REQUIRE_SHARED_TRACES();
  for (const auto& [file, spec] : {std::pair{testing::kNasa, "nasa-tsv"}, std::pair{testing::kEpa, "epa"}}) {
    const std::string plain = gunzipFile(sharedTrace(file));
    const auto fromGzip = readFile(sharedTrace(file), format(spec));
    const auto fromPlain = readMemory(plain, format(spec));
    EXPECT_FALSE(fromPlain.stats.compressed);
    ASSERT_EQ(fromGzip.records.size(), fromPlain.records.size()) << file;
    for (std::size_t i = 0; i < fromGzip.records.size(); ++i) {
      const TraceRecord& a = fromGzip.records[i].view();
      const TraceRecord& b = fromPlain.records[i].view();
      ASSERT_TRUE(a.time == b.time && a.client == b.client && a.method == b.method && a.path == b.path &&
                  a.query == b.query && a.status == b.status && a.bytes == b.bytes && a.line == b.line)
          << file << " record " << i;
    }
  }
}

TEST(RealTraces, StreamingKeepsTheReadersBufferBounded) {
  GATELAB_REQUIRE_SHARED_TRACES();
  ReaderOptions o;
  o.maxLineLength = 1024;  // EPA's longest line is 714 bytes
  o.readChunk = 4096;
  for (const auto& [file, spec] : {std::pair{testing::kNasa, "nasa-tsv"}, std::pair{testing::kEpa, "epa"}}) {
    Made<TraceReader> reader = openTraceFile(sharedTrace(file), format(spec), o);
    ASSERT_TRUE(reader.ok()) << reader.error.message;
    TraceRecord r;
    std::size_t n = 0;
    std::size_t maxCapacity = 0;
    while (reader.ptr->next(r)) {
      ++n;
      maxCapacity = std::max(maxCapacity, reader.ptr->bufferCapacity());
    }
    EXPECT_GT(n, 30000u) << file;
    // Line buffer + raw input chunk + one line of parser scratch, for traces of 2.3 and 4.5 MB.
    EXPECT_LE(maxCapacity, o.maxLineLength + 2 * o.readChunk + 2 * o.maxLineLength) << file;
    EXPECT_EQ(reader.ptr->stats().malformed, 0u) << file;
  }
}

}  // namespace
}  // namespace gatelab::sim::trace
