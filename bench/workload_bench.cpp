// Workload generator micro-benchmarks (Google Benchmark): records per second for `gatelab trace
// gen`'s pipeline, Poisson arrivals and Zipf clients (100 000 clients, s = 1) with the default shop
// content, in stages: the generator alone, generator + line formatting into memory (per format),
// and the whole writer to /dev/null (plain) or to a gzip stream in memory. Plus the two samplers
// on their own (Zipf over 10^6 ranks, a 2-state MMPP). Run a Release build:
//   cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release
//   ninja -C build-release workload_bench && ./build-release/bench/workload_bench
// Figures go to docs/performance.md; nothing here is asserted by tests.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "sim/trace/trace_format.hpp"
#include "sim/workload/arrival.hpp"
#include "sim/workload/generator.hpp"
#include "sim/workload/output.hpp"
#include "sim/workload/writer.hpp"
#include "sim/workload/zipf.hpp"

namespace {

namespace wl = gatelab::sim::workload;
namespace tr = gatelab::sim::trace;

constexpr std::uint64_t kRecords = 200'000;
const char* const kFormats[] = {"combined", "clf", "tsv", "csv", "jsonl"};

// Poisson 1000/s, 100 000 Zipf(1) clients, default content, stopped after kRecords requests.
wl::WorkloadSpec benchSpec() {
  wl::WorkloadSpec spec;
  spec.seed = 1;
  spec.count = kRecords;
  wl::GroupSpec g;
  g.clients = 100'000;
  g.zipf = 1.0;
  g.arrivals.kind = wl::ArrivalKind::kPoisson;
  g.arrivals.rate = gatelab::core::Rate{1000, std::chrono::seconds(1)};
  spec.groups.push_back(g);
  return spec;
}

std::unique_ptr<wl::LineFormatter> formatter(const char* name, const wl::WorkloadGenerator& gen) {
  wl::WriterOptions options;
  options.headers = gen.headerNames();
  auto made = wl::makeLineFormatter(tr::parseTraceFormat(name).value(), options);
  return std::move(made.ptr);
}

// The generator alone: arrivals, client draw, content draw.
void BM_Generate(benchmark::State& state) {
  const wl::WorkloadSpec spec = benchSpec();
  std::int64_t records = 0;
  for (auto _ : state) {
    wl::WorkloadGenerator gen(spec);
    wl::GeneratedRequest r;
    while (gen.next(r)) {
      benchmark::DoNotOptimize(r.record.status);
      ++records;
    }
  }
  state.SetItemsProcessed(records);
}
BENCHMARK(BM_Generate)->Unit(benchmark::kMillisecond);

// Generator + formatting into a memory buffer (cleared every 4096 lines, as TraceWriter does).
void BM_GenerateFormat(benchmark::State& state) {
  const char* name = kFormats[state.range(0)];
  const wl::WorkloadSpec spec = benchSpec();
  std::int64_t records = 0;
  std::int64_t bytes = 0;
  std::string buffer;
  for (auto _ : state) {
    wl::WorkloadGenerator gen(spec);
    auto f = formatter(name, gen);
    buffer.clear();
    f->begin(buffer);
    wl::GeneratedRequest r;
    std::uint64_t n = 0;
    while (gen.next(r)) {
      f->append(r.record, buffer);
      if (++n % 4096 == 0) {
        bytes += static_cast<std::int64_t>(buffer.size());
        buffer.clear();
      }
    }
    bytes += static_cast<std::int64_t>(buffer.size());
    records += static_cast<std::int64_t>(n);
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(bytes);
  state.SetLabel(name);
}
BENCHMARK(BM_GenerateFormat)->DenseRange(0, 4)->Unit(benchmark::kMillisecond);

// The whole `trace gen` pipeline: generator, formatter, TraceWriter and a sink. Arg 0: plain to
// /dev/null; arg 1: gzip (level 6) into memory.
void BM_GenerateWrite(benchmark::State& state) {
  const bool gzip = state.range(0) == 1;
  const char* name = state.range(1) == 0 ? "combined" : "tsv";
  const wl::WorkloadSpec spec = benchSpec();
  std::int64_t records = 0;
  std::string memory;
  for (auto _ : state) {
    wl::WorkloadGenerator gen(spec);
    memory.clear();
    std::unique_ptr<wl::OutputSink> sink = gzip ? wl::memoryOutput(memory, true, 6) : std::move(wl::openOutput("/dev/null").ptr);
    wl::TraceWriter writer(formatter(name, gen), *sink);
    wl::GeneratedRequest r;
    while (gen.next(r)) {
      writer.write(r.record);
      ++records;
    }
    if (!writer.finish()) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(records);
  state.SetLabel(std::string(name) + (gzip ? " gzip" : " /dev/null"));
}
BENCHMARK(BM_GenerateWrite)->ArgsProduct({{0, 1}, {0, 1}})->Unit(benchmark::kMillisecond);

void BM_ZipfSample(benchmark::State& state) {
  const wl::ZipfDistribution z(1'000'000, 1.0);
  gatelab::sim::Rng rng(1);
  for (auto _ : state) benchmark::DoNotOptimize(z.sample(rng));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ZipfSample);

void BM_MmppNext(benchmark::State& state) {
  auto model = wl::MmppModel::fromSojourns({100.0, 600.0}, {50.0, 10.0}, {});
  wl::MmppProcess p(model.value());
  gatelab::sim::Rng rng(1);
  for (auto _ : state) benchmark::DoNotOptimize(p.next(rng));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MmppNext);

}  // namespace

BENCHMARK_MAIN();
