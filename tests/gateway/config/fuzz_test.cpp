// Crash resistance: many mutated and truncated variants of the example configs must each produce
// either a config or diagnostics, never a crash, a hang or an exception. The mutations are seeded,
// so a failure reproduces. (A libFuzzer target can reuse loadConfigString directly.)

#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"

namespace gatelab::config {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> seeds() {
  std::vector<std::string> out;
  for (const char* name : {"examples/gateway.yaml", "examples/minimal.yaml", "examples/nginx_limit_req.yaml",
                           "examples/multi_limit.yaml", "examples/auth.yaml", "tests/gateway/config/data/many_errors.yaml",
                           "tests/gateway/config/data/rate_limit_errors.yaml",
                           "tests/gateway/config/data/resilience_errors.yaml",
                           "tests/gateway/config/data/auth_errors.yaml"}) {
    out.push_back(readFile(std::string(GATELAB_SOURCE_DIR) + "/" + name));
    EXPECT_FALSE(out.back().empty()) << name;
  }
  return out;
}

// Checks the loader's contract on one input.
void checkContract(const std::string& input) {
  LoadResult r;
  EXPECT_NO_THROW(r = loadConfigString(input, "fuzz.yaml"));
  if (r.ok()) {
    ASSERT_NE(r.config, nullptr);
    EXPECT_TRUE(r.diagnostics.empty());
    // The loader ran the resilience and policy cores' own checks, so every service and every
    // policy builds (only the router can still fail, on what only RE2 knows: path "routes").
    const BuildResult b = buildRuntime(r.config);
    for (const Diagnostic& d : b.diagnostics) {
      EXPECT_NE(d.path.rfind("services", 0), 0U) << "a loaded service failed to build: " << formatDiagnostic(d);
      EXPECT_NE(d.path.rfind("routes[", 0), 0U) << "a loaded policy failed to build: " << formatDiagnostic(d);
      EXPECT_NE(d.path.rfind("consumers", 0), 0U) << "loaded consumers failed to build: " << formatDiagnostic(d);
    }
    return;
  }
  ASSERT_FALSE(r.diagnostics.empty()) << "neither a config nor diagnostics";
  EXPECT_LE(r.diagnostics.size(), kMaxDiagnostics + 1);
  for (const Diagnostic& d : r.diagnostics) {
    EXPECT_EQ(d.file, "fuzz.yaml");
    EXPECT_GE(d.line, 0);
    EXPECT_GE(d.column, 0);
    EXPECT_FALSE(d.message.empty());
    // One line per diagnostic, whatever bytes the input held.
    EXPECT_EQ(formatDiagnostic(d).find('\n'), std::string::npos) << formatDiagnostic(d);
  }
}

// Fragments that stress the YAML parser and the schema: flow/block switches, anchors, tags,
// nulls, huge numbers, odd units, control bytes.
constexpr std::array<std::string_view, 34> kFragments{
    "{", "}", "[", "]", ": ", "- ", "&a ", "*a", "!!int ", "!!map ", "~", "null", "\t", std::string_view("\0", 1),
    "\xff\xfe", "'", "\"", "#", "\n", "<<: *a\n", "99999999999999999999999", "-1", "1e999", "0x10", "1.5",
    "100/minute", "? [a]\n: b\n", "%YAML 1.2\n---\n", "0%", "100.0001%", "0s", "5xx", "header:", "1000000"};

TEST(ConfigFuzz, TruncatedExamplesNeverCrash) {
  // Every prefix of every seed (stepping a few bytes) is handled.
  for (const std::string& seed : seeds()) {
    for (std::size_t n = 0; n <= seed.size(); n += 3) checkContract(seed.substr(0, n));
  }
}

TEST(ConfigFuzz, MutatedExamplesNeverCrash) {
  // Byte flips, deletions, insertions of fragments, line shuffles and duplications.
  std::mt19937_64 rng(20240611);
  const std::vector<std::string> inputs = seeds();
  constexpr int kIterations = 3000;
  for (int i = 0; i < kIterations; ++i) {
    std::string s = inputs[rng() % inputs.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const std::size_t pos = rng() % s.size();
      switch (rng() % 6) {
        case 0:  // flip a byte
          s[pos] = static_cast<char>(rng() % 256);
          break;
        case 1:  // delete a span
          s.erase(pos, 1 + rng() % 16);
          break;
        case 2:  // insert a fragment
          s.insert(pos, kFragments[rng() % kFragments.size()]);
          break;
        case 3: {  // duplicate a line
          const std::size_t start = s.rfind('\n', pos);
          const std::size_t end = s.find('\n', pos);
          const std::size_t from = start == std::string::npos ? 0 : start + 1;
          const std::string line = s.substr(from, end == std::string::npos ? std::string::npos : end - from + 1);
          s.insert(from, line);
          break;
        }
        case 4: {  // swap two lines' positions by moving one
          const std::size_t end = s.find('\n', pos);
          if (end == std::string::npos) break;
          const std::string tail = s.substr(end + 1);
          s = tail + "\n" + s.substr(0, end + 1);
          break;
        }
        default:  // change indentation
          s.insert(pos, rng() % 2 == 0 ? "  " : " ");
          break;
      }
    }
    checkContract(s);
  }
}

TEST(ConfigFuzz, PathologicalInputsNeverCrash) {
  // Deep nesting, long scalars, many keys, alias fan-out, binary noise.
  checkContract(std::string(10000, '['));
  checkContract(std::string(10000, '{'));
  checkContract("version: 1\nroutes: " + std::string(5000, '[') + std::string(5000, ']') + "\n");
  checkContract("version: 1\nservices:\n  - name: " + std::string(100000, 'a') + "\n    targets: [http://h:1]\n");
  std::string manyKeys = "version: 1\n";
  for (int i = 0; i < 2000; ++i) manyKeys += "k" + std::to_string(i) + ": 1\n";
  checkContract(manyKeys);
  std::string fanOut = "version: 1\nx: &a [1, 2, 3]\nroutes:\n";
  for (int i = 0; i < 500; ++i) fanOut += "  - {name: r" + std::to_string(i) + ", match: *a, service: *a}\n";
  checkContract(fanOut);
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::string noise(1 + rng() % 512, '\0');
    for (char& c : noise) c = static_cast<char>(rng() % 256);
    checkContract(noise);
  }
}

TEST(ConfigFuzz, TooManyErrorsAreCapped) {
  // Thousands of errors are cut at kMaxDiagnostics plus one note.
  std::string yaml = "version: 1\n";
  for (int i = 0; i < 1000; ++i) yaml += "bad" + std::to_string(i) + ": 1\n";
  const LoadResult r = loadConfigString(yaml, "fuzz.yaml");
  ASSERT_EQ(r.diagnostics.size(), kMaxDiagnostics + 1);
  EXPECT_NE(r.diagnostics.back().message.find("too many errors"), std::string::npos);
}

}  // namespace
}  // namespace gatelab::config
