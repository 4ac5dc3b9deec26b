#pragma once
// Helpers shared by the scenario tests: a scratch directory with a gateway config and a trace,
// positions computed from the YAML text itself, and a no-environment lookup.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "sim/scenario/scenario.hpp"

namespace gatelab::sim::scenario::test {

struct Pos {
  int line = 0;
  int column = 0;
};

// 1-based line and column of the first occurrence of `needle` in `text`.
inline Pos posOf(std::string_view text, std::string_view needle) {
  const std::size_t at = text.find(needle);
  EXPECT_NE(at, std::string_view::npos) << "anchor not found: " << needle;
  if (at == std::string_view::npos) return Pos{};
  Pos p{1, 1};
  for (std::size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

inline const EnvLookup kNoEnv = [](std::string_view) { return std::optional<std::string>{}; };

inline constexpr std::string_view kGatewayYaml = R"(version: 1
services:
  - name: api
    targets: [http://10.0.0.11:8080, http://10.0.0.12:8080]
  - name: static
    targets: [http://10.0.0.21:8080]
routes:
  - name: api
    match: { path_prefix: /api }
    service: api
    policies:
      - rate_limit:
          name: per-client
          algorithm: token_bucket
          limit: 10/s
          burst: 20
          key: ip
  - name: site
    match: { path_prefix: / }
    service: static
)";

// A directory holding gateway.yaml (kGatewayYaml) and trace.log (two combined-format lines).
class ScenarioDir {
 public:
  ScenarioDir() {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("gatelab-scenario-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
    write("gateway.yaml", kGatewayYaml);
    write("trace.log",
          "10.0.0.1 - - [05/Mar/2024:14:00:00 +0000] \"GET /api/x HTTP/1.1\" 200 10 \"-\" \"curl\"\n"
          "10.0.0.2 - - [05/Mar/2024:14:00:01 +0000] \"GET /index.html HTTP/1.1\" 200 10 \"-\" \"curl\"\n");
  }

  void write(const std::string& name, std::string_view text) const {
    std::ofstream out(dir_ / name, std::ios::binary);
    out << text;
  }

  [[nodiscard]] std::string dir() const { return dir_.string(); }
  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }

  [[nodiscard]] ScenarioLoadResult load(std::string_view yaml, const EnvLookup& env = kNoEnv) const {
    return loadScenarioString(yaml, "s.yaml", dir(), env);
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace gatelab::sim::scenario::test
