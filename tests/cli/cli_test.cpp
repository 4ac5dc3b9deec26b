// End-to-end: the real `gatelab` binary, its exit codes (0 ok, 1 invalid input, 2 usage) and
// what it prints.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

namespace {

struct CommandResult {
  int status;
  std::string out;  // stdout and stderr together
};

CommandResult run(const std::string& args) {
  const std::string cmd = std::string(GATELAB_BIN) + " " + args + " 2>&1";
  CommandResult r{-1, {}};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p)) r.out += buf.data();
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string source(const std::string& rel) { return std::string(GATELAB_SOURCE_DIR) + "/" + rel; }

std::string writeTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(CliValidate, ValidExampleConfigPrintsASummaryAndExitsZero) {
  const CommandResult r = run("validate " + source("examples/gateway.yaml"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(": ok: version 1,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rate-limit policies"), std::string::npos) << r.out;
}

TEST(CliValidate, EveryBundledExampleIsValid) {
  for (const char* f : {"examples/gateway.yaml", "examples/minimal.yaml", "examples/multi_limit.yaml",
                        "examples/nginx_limit_req.yaml"}) {
    const CommandResult r = run("validate --quiet " + source(f));
    EXPECT_EQ(r.status, 0) << f << "\n" << r.out;
  }
}

TEST(CliValidate, InvalidConfigPrintsEveryErrorWithItsLocationAndExitsOne) {
  const std::string bad = writeTemp("bad.yaml",
                                    "version: 1\n"
                                    "services:\n"
                                    "  - name: users\n"
                                    "    targets: [http://127.0.0.1:3001]\n"
                                    "routes:\n"
                                    "  - name: users\n"
                                    "    match: { path_prefx: /api }\n"
                                    "    service: user\n");
  const CommandResult r = run("validate " + bad);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("bad.yaml:7:"), std::string::npos) << "line of the typo\n" << r.out;
  EXPECT_NE(r.out.find("path_prefix"), std::string::npos) << "did-you-mean\n" << r.out;
  EXPECT_NE(r.out.find("bad.yaml:8:"), std::string::npos) << "unknown service reported too\n" << r.out;
  EXPECT_NE(r.out.find("invalid ("), std::string::npos) << r.out;
}

TEST(CliValidate, OneInvalidFileAmongValidOnesStillExitsOne) {
  const std::string bad = writeTemp("bad2.yaml", "version: 2\n");
  const CommandResult r = run("validate " + source("examples/minimal.yaml") + " " + bad);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("minimal.yaml: ok"), std::string::npos) << r.out;
}

TEST(CliValidate, MissingFileIsAnInputErrorNotACrash) {
  const CommandResult r = run("validate /nonexistent/gatelab.yaml");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/gatelab.yaml"), std::string::npos) << r.out;
}

TEST(CliUsage, UsageErrorsExitTwo) {
  EXPECT_EQ(run("").status, 2) << "no subcommand";
  EXPECT_EQ(run("validate").status, 2) << "no file";
  EXPECT_EQ(run("frobnicate").status, 2) << "unknown subcommand";
  EXPECT_EQ(run("--help").status, 0);
}

TEST(CliDemo, ComparesEveryAlgorithmOnTheSameTraffic) {
  const CommandResult r = run("demo");
  EXPECT_EQ(r.status, 0) << r.out;
  for (const char* name : {"token_bucket", "gcra", "leaky_bucket (nginx)", "fixed_window", "sliding_window_log",
                           "sliding_window_counter"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  }
}

TEST(CliDemo, JsonOutputCountsEveryRequestOnce) {
  const CommandResult r = run("demo --json");
  ASSERT_EQ(r.status, 0) << r.out;
  // allowed + delayed + rejected == requests for every variant (checked in the text, no parser
  // dependency in this test): the first variant's numbers appear in order.
  EXPECT_NE(r.out.find("\"requests\": 225"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"variants\""), std::string::npos);
}

}  // namespace
