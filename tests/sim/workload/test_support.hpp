#pragma once
// Helpers shared by the workload tests: a test-unique temporary directory, generating a spec into
// memory, and the statistical tolerances the tests derive from their sample sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "sim/workload/generator.hpp"
#include "sim/workload/output.hpp"
#include "sim/workload/spec.hpp"
#include "sim/workload/writer.hpp"
#include "sim/trace/trace_format.hpp"

namespace gatelab::sim::workload::testing {

/// Number of standard errors a statistical check allows. The tests use fixed seeds, so they are
/// deterministic; 5 sigma keeps them meaningful when a seed or a draw order changes (a correct
/// generator fails one such check with probability ~6e-7).
inline constexpr double kSigmas = 5.0;

/// A directory only this test uses, removed at destruction.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "gatelab-wl-" + std::to_string(::getpid()) + "-";
    if (info != nullptr) name += std::string(info->test_suite_name()) + "-" + info->name();
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// A one-group Poisson workload (plus nothing else) lasting `seconds`.
inline WorkloadSpec poissonSpec(double ratePerSecond, std::uint64_t clients, double zipf, int seconds,
                                std::uint64_t seed = 1) {
  WorkloadSpec spec;
  spec.seed = seed;
  spec.duration = std::chrono::seconds(seconds);
  GroupSpec g;
  g.clients = clients;
  g.zipf = zipf;
  g.arrivals.kind = ArrivalKind::kPoisson;
  g.arrivals.rate = core::Rate{static_cast<std::uint64_t>(ratePerSecond), std::chrono::seconds(1)};
  spec.groups.push_back(g);
  return spec;
}

/// Generates `spec` in `format` into a string (optionally gzip); fails the test on any error.
inline std::string generateText(const WorkloadSpec& spec, const std::string& formatName = "combined",
                                bool gzip = false, WriterOptions* usedOptions = nullptr) {
  auto made = WorkloadGenerator::make(spec);
  EXPECT_TRUE(made.ok()) << made.error.message;
  if (!made) return {};
  auto format = trace::parseTraceFormat(formatName);
  EXPECT_TRUE(format.ok()) << formatName;
  if (!format) return {};
  WriterOptions options;
  options.headers = made.ptr->headerNames();
  auto formatter = makeLineFormatter(format.value(), options);
  EXPECT_TRUE(formatter.ok()) << formatter.error.message;
  if (!formatter) return {};
  std::string out;
  auto sink = memoryOutput(out, gzip);
  {
    TraceWriter writer(std::move(formatter.ptr), *sink);
    GeneratedRequest r;
    while (made.ptr->next(r)) EXPECT_TRUE(writer.write(r.record));
    EXPECT_TRUE(writer.finish()) << writer.error();
  }
  if (usedOptions != nullptr) *usedOptions = options;
  return out;
}

inline double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

/// Unbiased sample variance.
inline double variance(const std::vector<double>& v) {
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size() - 1);
}

inline double seconds(core::Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace gatelab::sim::workload::testing
