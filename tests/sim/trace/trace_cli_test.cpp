// End-to-end: `gatelab trace stats` on the two shared real traces (text and JSON), on files with
// malformed lines, and its exit codes (0 read, 1 unreadable or nothing parsed, 2 usage).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct CommandResult {
  int status;
  std::string out;  // stdout and stderr together
};

CommandResult run(const std::string& args, bool withStderr = true) {
  const std::string cmd = std::string(GATELAB_BIN) + " " + args + (withStderr ? " 2>&1" : " 2>/dev/null");
  CommandResult r{-1, {}};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p)) r.out += buf.data();
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string shared(const char* name) { return std::string(GATELAB_SHARED_DIR) + "/traces/" + name; }
const char* kNasa = "nasa-http_1995-08-01.tsv.gz";
const char* kEpa = "epa-http_1995-08-30.log.gz";

#define REQUIRE_SHARED_TRACES()                                                                         \
  do {                                                                                                  \
    if (!std::filesystem::is_directory(GATELAB_SHARED_DIR "/traces")) {                                 \
      GTEST_SKIP() << "shared traces directory " GATELAB_SHARED_DIR "/traces is absent (it lives beside the repository)"; \
    }                                                                                                   \
  } while (0)

std::string writeTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

void expectContains(const std::string& out, const std::string& what) {
  EXPECT_NE(out.find(what), std::string::npos) << "missing \"" << what << "\" in:\n" << out;
}

TEST(CliTraceStats, NasaTextReportHasThePublishedFigures) {
  REQUIRE_SHARED_TRACES();
  const CommandResult r = run("trace stats " + shared(kNasa) + " --format nasa-tsv");
  ASSERT_EQ(r.status, 0) << r.out;
  expectContains(r.out, "requests    30969");
  expectContains(r.out, "0 malformed");
  expectContains(r.out, "1995-08-01T06:00:00Z -> 1995-08-01T18:52:01Z");
  expectContains(r.out, "peak 17 req/s");
  expectContains(r.out, "2365 distinct");
  expectContains(r.out, "27 req/fixed minute");
  expectContains(r.out, "29 req/sliding 60 s");
  expectContains(r.out, "24 clients send 11.1 % of requests");
  expectContains(r.out, "200:27972 304:2421 302:355 404:221");
}

TEST(CliTraceStats, EpaTextReportHasThePublishedFigures) {
  REQUIRE_SHARED_TRACES();
  const CommandResult r = run("trace stats " + shared(kEpa) + " --format epa");
  ASSERT_EQ(r.status, 0) << r.out;
  expectContains(r.out, "requests    47748");
  expectContains(r.out, "47748 records, 0 malformed");
  expectContains(r.out, "1995-08-30T03:53:25Z -> 1995-08-31T03:53:07Z");  // 08-29 23:53:25 -> 08-30 23:53:07 EDT
  expectContains(r.out, "peak 13 req/s");
  expectContains(r.out, "2333 distinct");
  expectContains(r.out, "30 req/fixed minute");
  expectContains(r.out, "35 req/sliding 60 s");
  expectContains(r.out, "24 clients send 8.8 % of requests");
  // The same span in the trace's own zone, as the README states it.
  const CommandResult local = run("trace stats " + shared(kEpa) + " --format epa --display-zone -04:00");
  ASSERT_EQ(local.status, 0) << local.out;
  expectContains(local.out, "1995-08-29T23:53:25-04:00 -> 1995-08-30T23:53:07-04:00");
  expectContains(local.out, "peak 13 req/s (first at 1995-08-30T13:41:01-04:00)");
}

TEST(CliTraceStats, JsonReportForBothTracesAndTheGeneralSpellingOfThePresets) {
  REQUIRE_SHARED_TRACES();
  const struct {
    std::string args;
    std::uint64_t requests, clients, peak, fixedMinute, sliding, top;
  } cases[] = {
      {shared(kNasa) + " --format nasa-tsv", 30969, 2365, 17, 27, 29, 24},
      {shared(kNasa) + " --format tsv --time-format epoch_s --map time=time,client=host,method=method,url=url,"
                       "status=response,bytes=bytes,referer=referer,user_agent=useragent",
       30969, 2365, 17, 27, 29, 24},
      {shared(kEpa) + " --format epa", 47748, 2333, 13, 30, 35, 24},
      {shared(kEpa) + " --format 'nginx:$remote_addr [$time] \"$request\" $status $body_bytes_sent' "
                      "--time-format %d:%H:%M:%S --time-base 1995-08 --time-zone -04:00 --optional-tail",
       47748, 2333, 13, 30, 35, 24},
  };
  for (const auto& c : cases) {
    const CommandResult r = run("trace stats --json " + c.args, false);
    ASSERT_EQ(r.status, 0) << c.args << "\n" << r.out;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["requests"], c.requests) << c.args;
    EXPECT_EQ(j["lines"]["malformed"], 0) << c.args;
    EXPECT_EQ(j["distinct_clients"], c.clients) << c.args;
    EXPECT_EQ(j["peak_per_second"]["count"], c.peak) << c.args;
    EXPECT_EQ(j["per_client_peak"]["fixed_minute"]["count"], c.fixedMinute) << c.args;
    EXPECT_EQ(j["per_client_peak"]["sliding_60s"]["count"], c.sliding) << c.args;
    EXPECT_EQ(j["top_1_percent"]["clients"], c.top) << c.args;
    EXPECT_TRUE(j["error"].is_null()) << c.args;
  }
}

TEST(CliTraceStats, MalformedLinesAreListedAndDoNotFailTheRun) {
  const std::string path = writeTemp(
      "mixed.log",
      "10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a HTTP/1.1\" 200 5 \"-\" \"x\"\n"
      "10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"-\" 400 0 \"-\" \"-\"\n"
      "garbage\n"
      "10.0.0.2 - - [10/Oct/2000:13:55:37 -0700] \"POST /b HTTP/1.1\" 201 7 \"-\" \"y\"\n");
  const CommandResult r = run("trace stats " + path);
  ASSERT_EQ(r.status, 0) << r.out;
  expectContains(r.out, "4 read: 2 records, 2 malformed");
  expectContains(r.out, "line 2: $request: not a request line");
  expectContains(r.out, "line 3: $remote_addr");
  expectContains(r.out, "2 distinct");
}

TEST(CliTraceStats, StandardInputAndClientByHeader) {
  const std::string path = writeTemp(
      "tenants.jsonl",
      "{\"ts\":\"2000-10-10T20:55:36Z\",\"ip\":\"1.1.1.1\",\"h\":{\"tenant\":\"acme\"}}\n"
      "{\"ts\":\"2000-10-10T20:55:36Z\",\"ip\":\"2.2.2.2\",\"h\":{\"tenant\":\"acme\"}}\n"
      "{\"ts\":\"2000-10-10T20:55:37Z\",\"ip\":\"3.3.3.3\",\"h\":{\"tenant\":\"initech\"}}\n");
  const CommandResult r =
      run("trace stats - --format jsonl --time-field ts --map client=ip,header.X-Tenant=h.tenant --client header:x-tenant --json < " +
              path,
          false);
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["requests"], 3);
  EXPECT_EQ(j["distinct_clients"], 2);  // two tenants, three IPs
  EXPECT_EQ(j["per_client_peak"]["second"]["count"], 2);
  EXPECT_EQ(j["per_client_peak"]["second"]["client"], "acme");
}

TEST(CliTraceStats, ExitCodes) {
  const std::string bad = writeTemp("nothing.log", "a\nb\n");
  const CommandResult none = run("trace stats " + bad);
  EXPECT_EQ(none.status, 1) << "nothing parsed\n" << none.out;
  expectContains(none.out, "--format");
  EXPECT_EQ(run("trace stats /nonexistent/x.log").status, 1) << "missing file";
  EXPECT_EQ(run("trace stats " + bad + " --format apache").status, 2) << "unknown format";
  EXPECT_EQ(run("trace stats " + bad + " --time-zone EDT").status, 2) << "bad option";
  EXPECT_EQ(run("trace stats " + bad + " --client cookie").status, 2) << "bad client identity";
  EXPECT_EQ(run("trace stats " + bad + " --display-zone EDT").status, 2) << "bad display zone";
  EXPECT_EQ(run("trace stats " + bad + " --reorder-window 5").status, 2) << "duration without unit";
  EXPECT_EQ(run("trace stats " + bad + " --late keep").status, 2) << "bad late policy";
  EXPECT_EQ(run("trace stats " + bad + " --format 'nginx:$remote_addr'").status, 2) << "log_format without time";
  EXPECT_EQ(run("trace").status, 2) << "no subcommand";
  EXPECT_EQ(run("trace stats").status, 2) << "no file";
  const CommandResult header = run("trace stats " + writeTemp("h.csv", "a,b\n1,2\n") + " --format csv --time-field ts");
  EXPECT_EQ(header.status, 1) << header.out;
  expectContains(header.out, "no column \"ts\"");
}

}  // namespace
