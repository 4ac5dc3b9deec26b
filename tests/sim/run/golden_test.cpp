// Golden files: `gatelab compare` on a committed scenario (tests/sim/run/golden/scenario.yaml)
// must write byte-identical report.json, timeline.ndjson and summary.csv to those committed under
// tests/sim/run/golden/expected/. Any change in what a run computes or prints shows up here, so
// behaviour changes are deliberate: rerun with GATELAB_UPDATE_GOLDEN=1 to rewrite the expected
// files, then review and commit the diff.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int status = -1;
  std::string out;
};

CommandResult run(const std::string& args) {
  // From the source directory, so the paths the report records are the same everywhere.
  const std::string cmd = "cd '" + std::string(GATELAB_SOURCE_DIR) + "' && '" + GATELAB_BIN + "' " + args + " 2>&1";
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) r.out += buf.data();
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// The first line where `a` and `b` differ, for a readable failure.
std::string firstDifference(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ea = !std::getline(sa, la), eb = !std::getline(sb, lb);
    if (ea && eb) return "no difference";
    if (ea || eb || la != lb) {
      return "line " + std::to_string(line) + ":\n  expected: " + (eb ? "<end>" : lb) + "\n  actual:   " + (ea ? "<end>" : la);
    }
  }
}

const char* const kFiles[] = {"summary.csv", "baseline/report.json", "baseline/timeline.ndjson",
                              "token-bucket/report.json", "token-bucket/timeline.ndjson"};

TEST(Golden, CompareOutputsMatchTheCommittedFiles) {
  const fs::path out = fs::path(::testing::TempDir()) / "gatelab-golden";
  fs::remove_all(out);
  const CommandResult r = run("compare tests/sim/run/golden/scenario.yaml --quiet --out '" + out.string() + "'");
  ASSERT_EQ(r.status, 0) << r.out;

  const fs::path expected = fs::path(GATELAB_SOURCE_DIR) / "tests/sim/run/golden/expected";
  const char* update = std::getenv("GATELAB_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    for (const char* f : kFiles) {
      fs::create_directories((expected / f).parent_path());
      fs::copy_file(out / f, expected / f, fs::copy_options::overwrite_existing);
    }
  }
  for (const char* f : kFiles) {
    const std::string want = slurp(expected / f);
    const std::string got = slurp(out / f);
    ASSERT_FALSE(want.empty()) << "missing " << (expected / f).string() << " (run with GATELAB_UPDATE_GOLDEN=1)";
    EXPECT_TRUE(want == got) << f << " differs from the golden file, " << firstDifference(got, want);
  }
}

// The same command twice in a row: identical bytes (no wall clock, no address-dependent order,
// no thread-order dependence although variants run in parallel).
TEST(Golden, RepeatedRunsAreIdentical) {
  const fs::path a = fs::path(::testing::TempDir()) / "gatelab-golden-a";
  const fs::path b = fs::path(::testing::TempDir()) / "gatelab-golden-b";
  for (const fs::path& dir : {a, b}) {
    fs::remove_all(dir);
    const CommandResult r = run("compare tests/sim/run/golden/scenario.yaml --quiet --out '" + dir.string() + "'");
    ASSERT_EQ(r.status, 0) << r.out;
  }
  for (const char* f : kFiles) EXPECT_EQ(slurp(a / f), slurp(b / f)) << f;
}

// Another seed changes the random draws, and so the outputs (the seed is really used).
TEST(Golden, AnotherSeedGivesOtherResults) {
  const fs::path a = fs::path(::testing::TempDir()) / "gatelab-golden-seed";
  fs::remove_all(a);
  const CommandResult r =
      run("compare tests/sim/run/golden/scenario.yaml --quiet --seed 7 --out '" + a.string() + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  const fs::path expected = fs::path(GATELAB_SOURCE_DIR) / "tests/sim/run/golden/expected";
  EXPECT_NE(slurp(a / "baseline/timeline.ndjson"), slurp(expected / "baseline/timeline.ndjson"));
}

}  // namespace
