// `gatelab trace gen` end to end: a flag workload is written and reproducible per seed; every bad
// flag is refused with exit status 2 and a message naming the flag; spec errors print
// file:line:col diagnostics with exit status 1; and the committed demo trace (traces/demo.log.gz)
// is exactly what scripts/gen-demo-trace.sh regenerates from traces/demo-spec.yaml.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/sim/workload/test_support.hpp"

namespace {

using gatelab::sim::workload::testing::TempDir;

struct CommandResult {
  int status;
  std::string out;  // stdout and stderr together
};

CommandResult runCommand(const std::string& cmd) {
  CommandResult r{-1, {}};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p)) r.out += buf.data();
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

CommandResult gen(const std::string& args) { return runCommand(std::string(GATELAB_BIN) + " trace gen " + args); }

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string gunzipFile(const std::string& path) {
  std::string out;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return out;
  std::array<char, 1 << 16> buf{};
  int n = 0;
  while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0) out.append(buf.data(), static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

// Property: a workload from flags is written, with the summary on stderr, and the same seed gives
// the same bytes while another seed does not.
TEST(WorkloadCli, FlagsWorkloadIsReproducible) {
  const TempDir dir;
  const std::string a = dir.file("a.log");
  const std::string b = dir.file("b.log");
  const std::string c = dir.file("c.log");
  const std::string common = " --rate 50/s --duration 10s --clients 100 --abusive 2@20/s --process mmpp --burst-factor 4";
  const CommandResult r = gen("--seed 5 --out " + a + common);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("requests"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(2 abusive)"), std::string::npos) << r.out;
  ASSERT_EQ(gen("-q --seed 5 --out " + b + common).status, 0);
  ASSERT_EQ(gen("-q --seed 6 --out " + c + common).status, 0);
  const std::string textA = readFile(a);
  EXPECT_GT(lines(textA), 500u);
  EXPECT_EQ(textA, readFile(b));
  EXPECT_NE(textA, readFile(c));
  // Without --out the trace goes to standard output; -q silences the summary.
  const CommandResult out = gen("-q --count 7 --format jsonl");
  ASSERT_EQ(out.status, 0) << out.out;
  EXPECT_EQ(lines(out.out), 7u) << out.out;
}

// Property: every malformed flag is refused with exit status 2 and a message naming it; nothing
// is written.
TEST(WorkloadCli, BadFlagsAreRejected) {
  const TempDir dir;
  const std::string spec = dir.file("ok.yaml");
  std::ofstream(spec) << "version: 1\nduration: 1s\ngroups: [{clients: 1, arrivals: {process: poisson, rate: 1/s}}]\n";
  struct Case {
    std::string args;
    const char* expected;
  };
  const Case cases[] = {
      {"--rate abc", "invalid --rate"},
      {"--rate 0/s", "--rate"},
      {"--clients x", "invalid --clients"},
      {"--clients 0", "--clients"},
      {"--zipf abc", "invalid --zipf"},
      {"--zipf -1", "--zipf"},
      {"--process hawkes", "unknown --process \"hawkes\""},
      {"--burst-factor 3", "--burst-factor applies to --process mmpp only"},
      {"--peak-ratio 3 --process mmpp", "--peak-ratio applies to --process diurnal only"},
      {"--process diurnal --peak-hour 25", "--peak-hour"},
      {"--process mmpp --burst-length soon", "invalid --burst-length"},
      {"--abusive 3@", "invalid --abusive"},
      {"--abusive 3@20/s,on=5s", "--abusive"},
      {"--seed -1", "invalid --seed"},
      {"--time-zone Mars", "invalid --time-zone"},
      {"--start yesterday", "invalid --start"},
      {"--duration 0s", "--duration"},
      {"--duration ten", "invalid --duration"},
      {"--count 0", "--count"},
      {"--time-precision ps", "invalid --time-precision"},
      {"--gzip-level 10", "invalid --gzip-level"},
      {"--format bogus", "combined"},
      {"--format jsonl --map nonsense", "map"},
      {"--spec " + spec + " --rate 5/s", "--rate cannot be combined with --spec"},
      {"--spec " + spec + " --abusive 1@5/s", "--abusive cannot be combined with --spec"},
      {"--no-such-flag", "no-such-flag"},
  };
  const std::string out = dir.file("never.log");
  for (const Case& c : cases) {
    const CommandResult r = gen(c.args + " --out " + out);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.expected), std::string::npos) << c.args << ": expected \"" << c.expected << "\" in:\n" << r.out;
    EXPECT_FALSE(std::filesystem::exists(out)) << c.args << " wrote a file";
    std::filesystem::remove(out);
  }
}

// Property: a spec with mistakes prints every diagnostic as FILE:LINE:COL: PATH: MESSAGE and exits
// 1; a missing spec or an unwritable output exits 1 with the path in the message.
TEST(WorkloadCli, SpecErrorsHavePositions) {
  const TempDir dir;
  const std::string spec = dir.file("bad.yaml");
  std::ofstream(spec) << "version: 1\nduration: 1m\ngroups:\n  - clients: 3\n    zipf: -1\n    arrivals: {process: poison, rate: 1/s}\n";
  const CommandResult r = gen("--spec " + spec + " --out " + dir.file("x.log"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find(spec + ":6:25: groups[0].arrivals.process: unknown value \"poison\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("did you mean 'poisson'"), std::string::npos) << r.out;

  const CommandResult missing = gen("--spec " + dir.file("absent.yaml"));
  EXPECT_EQ(missing.status, 1) << missing.out;
  EXPECT_NE(missing.out.find("absent.yaml"), std::string::npos) << missing.out;

  const CommandResult unwritable = gen("--count 3 --out " + dir.file("no/such/dir/x.log"));
  EXPECT_EQ(unwritable.status, 1) << unwritable.out;
  EXPECT_NE(unwritable.out.find("no/such/dir/x.log"), std::string::npos) << unwritable.out;
}

// Property: the committed demo trace is exactly what the generator makes from the committed spec
// (regenerated through the same script a developer runs), so it can never drift from the code.
// The gzip container is zlib's and may differ between zlib versions; the text inside may not.
TEST(WorkloadDemoTrace, RegeneratesByteForByte) {
  const std::string source = GATELAB_SOURCE_DIR;
  const std::string committed = source + "/traces/demo.log.gz";
  ASSERT_TRUE(std::filesystem::exists(committed)) << committed;
  EXPECT_LT(std::filesystem::file_size(committed), 5u * 1000 * 1000) << "keep the bundled trace small";
  const TempDir dir;
  const std::string fresh = dir.file("demo.log");
  const CommandResult r =
      runCommand("bash " + source + "/scripts/gen-demo-trace.sh " + std::string(GATELAB_BIN) + " " + fresh);
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string expected = gunzipFile(committed);
  const std::string got = readFile(fresh);
  ASSERT_FALSE(expected.empty()) << "could not read " << committed;
  EXPECT_GE(lines(got), 30'000u);
  EXPECT_LE(lines(got), 60'000u);
  if (got != expected) {
    std::size_t at = 0;
    while (at < got.size() && at < expected.size() && got[at] == expected[at]) ++at;
    const std::size_t line = static_cast<std::size_t>(std::count(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(at), '\n')) + 1;
    FAIL() << "traces/demo.log.gz differs from a fresh scripts/gen-demo-trace.sh run at line " << line
           << " (regenerate it with scripts/gen-demo-trace.sh; never hand-edit it)";
  }
}

}  // namespace
