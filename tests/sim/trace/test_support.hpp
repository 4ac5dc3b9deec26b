#pragma once
// Shared helpers for the trace tests: formats by name, one-line parsing into owned copies, reading
// a whole input, gzip in memory, and the paths of the shared real traces.

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/trace/line_parser.hpp"
#include "sim/trace/reader.hpp"
#include "sim/trace/trace_format.hpp"
#include "sim/trace/trace_time.hpp"

namespace gatelab::sim::trace::testing {

/// parseTraceFormat + options, failing the test on an error.
inline TraceFormat format(std::string_view spec, const std::vector<std::pair<std::string, std::string>>& options = {}) {
  auto f = parseTraceFormat(spec);
  EXPECT_TRUE(f.ok()) << spec << ": " << (f.ok() ? "" : f.error().message);
  if (!f.ok()) return TraceFormat{};
  TraceFormat out = f.value();
  for (const auto& [k, v] : options) {
    auto err = setTraceFormatOption(out, k, v);
    EXPECT_FALSE(err.has_value()) << k << "=" << v << ": " << (err ? err->message : "");
  }
  return out;
}

inline std::unique_ptr<LineParser> parser(const TraceFormat& f) {
  Made<LineParser> p = makeLineParser(f);
  EXPECT_TRUE(p.ok()) << p.error.message;
  return std::move(p.ptr);
}

/// A UTC time from its RFC 3339 spelling (test data only).
inline TraceTime utc(std::string_view rfc3339) {
  TraceTime t{};
  EXPECT_TRUE(parseRfc3339(rfc3339, ZoneOffset{0}, t)) << rfc3339;
  return t;
}

inline TraceTime epochSeconds(std::int64_t s) { return TraceTime{std::chrono::seconds{s}}; }

/// Every record of an input, owned, plus the reader's stats.
struct ReadAll {
  std::vector<OwnedRecord> records;
  ReaderStats stats;
};

inline ReadAll readAll(TraceReader& reader) {
  ReadAll out;
  TraceRecord r;
  while (reader.next(r)) out.records.emplace_back(r);
  out.stats = reader.stats();
  return out;
}

inline ReadAll readMemory(std::string_view data, const TraceFormat& f, const ReaderOptions& options = {}) {
  Made<TraceReader> reader = openTraceMemory(data, f, options);
  EXPECT_TRUE(reader.ok()) << reader.error.message;
  if (!reader.ok()) return {};
  return readAll(*reader.ptr);
}

/// gzip-compresses `data` in memory (one member).
inline std::string gzip(std::string_view data, int level = 6) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

/// gunzips a whole file (test data only; the library never does this).
inline std::string gunzipFile(const std::string& path) {
  std::string out;
  gzFile f = gzopen(path.c_str(), "rb");
  EXPECT_NE(f, nullptr) << path;
  if (f == nullptr) return out;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

inline std::string sharedTrace(const char* name) { return std::string(GATELAB_SHARED_DIR) + "/traces/" + name; }
inline const char* kNasa = "nasa-http_1995-08-01.tsv.gz";
inline const char* kEpa = "epa-http_1995-08-30.log.gz";

/// Skips the calling test (with a message) when the shared traces directory is not beside the
/// repository. When it is there, missing files are failures, not skips.
#define GATELAB_REQUIRE_SHARED_TRACES()                                                                        \
  do {                                                                                                         \
    if (!std::filesystem::is_directory(GATELAB_SHARED_DIR "/traces")) {                                        \
      GTEST_SKIP() << "shared traces directory " GATELAB_SHARED_DIR "/traces is absent (it lives beside the repository)"; \
    }                                                                                                          \
  } while (0)

}  // namespace gatelab::sim::trace::testing
