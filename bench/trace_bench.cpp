// Trace reading micro-benchmarks (Google Benchmark): lines per second for the line parsers alone,
// for whole readers over generated in-memory data (plain and gzip), and for the replay pipeline
// (reader + 10 s reorder window + even sub-second spreading) that the simulator runs. Run a
// Release build:
//   cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release
//   ninja -C build-release trace_bench && ./build-release/bench/trace_bench
// Figures are recorded in docs/traces.md; nothing here is asserted by tests.

#include <benchmark/benchmark.h>
#include <zlib.h>  // only to gzip the generated input; linked through gatelab::sim

#include <cstdint>
#include <string>
#include <vector>

#include "sim/trace/line_parser.hpp"
#include "sim/trace/reader.hpp"
#include "sim/trace/replay.hpp"
#include "sim/trace/trace_format.hpp"

namespace {

namespace tr = gatelab::sim::trace;

constexpr int kLines = 200'000;

const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const char* const kPaths[] = {"/", "/api/v1/users/1234", "/api/v1/orders?page=3&sort=desc", "/static/app.3f9c2.js",
                              "/images/launch-logo.gif", "/api/v2/search?q=gateway+policy&limit=20"};
const char* const kAgents[] = {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
                               "curl/8.4.0", "python-requests/2.31.0"};

std::string client(int i) { return "10." + std::to_string(i % 7) + "." + std::to_string(i % 251) + "." + std::to_string(i % 13); }

// About 3 requests per second, a realistic busy-ish access log.
std::string combinedLog() {
  std::string s;
  for (int i = 0; i < kLines; ++i) {
    const int sec = i / 3;
    char time[64];
    std::snprintf(time, sizeof time, "%02d/%s/2024:%02d:%02d:%02d +0000", 1 + (sec / 86400) % 28, kMonths[3],
                  (sec / 3600) % 24, (sec / 60) % 60, sec % 60);
    s += client(i) + " - - [" + time + "] \"GET " + kPaths[i % 6] + " HTTP/1.1\" " + (i % 17 == 0 ? "404" : "200") + " " +
         std::to_string(100 + i % 5000) + " \"https://example.com/\" \"" + kAgents[i % 3] + "\"\n";
  }
  return s;
}

std::string nasaTsv() {
  std::string s = "host\tlogname\ttime\tmethod\turl\tresponse\tbytes\treferer\tuseragent\n";
  for (int i = 0; i < kLines; ++i) {
    s += client(i) + "\t-\t" + std::to_string(1700000000 + i / 3) + "\tGET\t" + kPaths[i % 6] + "\t200\t" +
         std::to_string(100 + i % 5000) + "\t\t\n";
  }
  return s;
}

std::string jsonLines() {
  std::string s;
  for (int i = 0; i < kLines; ++i) {
    s += R"({"ts":)" + std::to_string(1700000000000LL + i * 333) + R"(,"client":{"ip":")" + client(i) +
         R"("},"method":"GET","url":")" + kPaths[i % 6] + R"(","status":200,"bytes":)" + std::to_string(100 + i % 5000) +
         R"(,"tenant":"t)" + std::to_string(i % 40) + R"(","user_agent":")" + kAgents[i % 3] + "\"}\n";
  }
  return s;
}

std::string gzipped(const std::string& data) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

tr::TraceFormat fmt(const char* spec, std::initializer_list<std::pair<const char*, const char*>> options = {}) {
  tr::TraceFormat f = tr::parseTraceFormat(spec).value();
  for (const auto& [k, v] : options) (void)tr::setTraceFormatOption(f, k, v);
  return f;
}

struct Input {
  const char* name;
  tr::TraceFormat format;
  std::string data;
};

const std::vector<Input>& inputs() {
  static const std::vector<Input> all = {
      {"combined", fmt("combined"), combinedLog()},
      {"tsv", fmt("nasa-tsv"), nasaTsv()},
      {"jsonl", fmt("jsonl", {{"map", "time=ts,client=client.ip,header.X-Tenant=tenant"}, {"time-format", "epoch_ms"}}),
       jsonLines()},
  };
  return all;
}

// The parser alone on lines already split (no I/O, no line splitting).
void BM_ParseLines(benchmark::State& state) {
  const Input& in = inputs()[static_cast<std::size_t>(state.range(0))];
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos < in.data.size();) {
    const std::size_t nl = in.data.find('\n', pos);
    lines.emplace_back(in.data.data() + pos, nl - pos);
    pos = nl + 1;
  }
  auto parser = tr::makeLineParser(in.format);
  tr::TraceRecord r;
  std::int64_t records = 0;
  for (auto _ : state) {
    for (std::string_view line : lines) {
      records += parser.ptr->parse(line, r).status == tr::LineStatus::kRecord ? 1 : 0;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(lines.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(in.data.size()));
  state.SetLabel(in.name);
  benchmark::DoNotOptimize(records);
}
BENCHMARK(BM_ParseLines)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

// A whole reader over in-memory data: line splitting, parsing, statistics (gzip when Arg(1) = 1).
void BM_Reader(benchmark::State& state) {
  const Input& in = inputs()[static_cast<std::size_t>(state.range(0))];
  const bool gz = state.range(1) != 0;
  const std::string packed = gz ? gzipped(in.data) : std::string();
  const std::string_view data = gz ? std::string_view(packed) : std::string_view(in.data);
  std::int64_t records = 0;
  for (auto _ : state) {
    auto reader = tr::openTraceMemory(data, in.format);
    tr::TraceRecord r;
    while (reader.ptr->next(r)) ++records;
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(in.data.size()));
  state.SetLabel(std::string(in.name) + (gz ? " gzip" : " plain"));
}
BENCHMARK(BM_Reader)->Args({0, 0})->Args({1, 0})->Args({2, 0})->Args({0, 1})->Args({1, 1})->Args({2, 1})->Unit(benchmark::kMillisecond);

// What the simulator consumes: reader + reorder window + spreading + scaling + client identity.
void BM_ReplayStream(benchmark::State& state) {
  const Input& in = inputs()[static_cast<std::size_t>(state.range(0))];
  std::int64_t records = 0;
  for (auto _ : state) {
    auto reader = tr::openTraceMemory(in.data, in.format);
    tr::ReplayOptions o;
    o.spread = tr::SpreadMode::kEven;
    o.speedup = tr::TimeScale::parse("10").value();
    tr::ReplayStream stream(*reader.ptr, o);
    tr::ReplayItem item;
    while (stream.next(item)) {
      benchmark::DoNotOptimize(item.at);
      ++records;
    }
  }
  state.SetItemsProcessed(records);
  state.SetLabel(in.name);
}
BENCHMARK(BM_ReplayStream)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
