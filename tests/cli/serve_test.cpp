// End-to-end: `gatelab serve` as a process — refuses an invalid config with its errors, serves on
// the port it reports, answers on the admin port, and drains and exits 0 on SIGTERM.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>

#include "tests/gateway/proxy/proxy_test_support.hpp"

namespace {

using namespace gatelab::proxy::testing;

std::string writeTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

/// The gatelab binary as a child process with its stderr readable line by line.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      static std::string bin = GATELAB_BIN;
      argv.push_back(bin.data());
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0 && !waited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }
  /// stderr until `pattern` matches a line (or EOF / 10 s): the match, or empty.
  std::smatch waitFor(const std::regex& pattern) {
    std::smatch m;
    while (true) {
      const std::size_t nl = pending_.find('\n');
      if (nl != std::string::npos) {
        lines_.push_back(pending_.substr(0, nl));
        pending_.erase(0, nl + 1);
        if (std::regex_search(lines_.back(), m, pattern)) return m;
        continue;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 10'000) <= 0) return {};
      char buf[512];
      const ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) return {};
      pending_.append(buf, static_cast<std::size_t>(n));
    }
  }
  void signal(int sig) { kill(pid_, sig); }
  int signalAndWait(int sig) {
    kill(pid_, sig);
    int st = 0;
    waitpid(pid_, &st, 0);
    waited_ = true;
    char buf[512];
    ssize_t n = 0;
    while ((n = read(fd_, buf, sizeof buf)) > 0) pending_.append(buf, static_cast<std::size_t>(n));  // the rest, to EOF
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  std::string output() const {
    std::string out;
    for (const auto& l : lines_) out += l + "\n";
    return out + pending_;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  bool waited_ = false;
  std::string pending_;
  std::vector<std::string> lines_;
};

TEST(CliServe, RefusesAnInvalidConfigWithItsErrors) {
  const std::string path = writeTemp("serve-bad.yaml", "version: 1\nservices: []\nroutes:\n  - name: r\n    service: nope\n");
  Child c({"serve", path});
  const auto m = c.waitFor(std::regex("invalid, not serving"));
  EXPECT_FALSE(m.empty()) << c.output();
  EXPECT_NE(c.output().find("serve-bad.yaml:"), std::string::npos) << c.output();  // file:line:col errors
}

TEST(CliServe, ServesReportsItsPortsAndDrainsOnSigterm) {
  TestUpstream up;
  const std::string path = writeTemp(
      "serve-ok.yaml", "version: 1\nlisten: 127.0.0.1:0\nadmin: 127.0.0.1:0\nservices:\n  - name: app\n    targets: [" +
                           up.url() + "]\nroutes:\n  - name: all\n    match: { path_prefix: / }\n    service: app\n");
  Child c({"serve", path, "--threads", "1"});
  const auto m = c.waitFor(std::regex(R"(on 127\.0\.0\.1:(\d+), admin on 127\.0\.0\.1:(\d+))"));
  ASSERT_FALSE(m.empty()) << c.output();
  const auto port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
  const auto admin = static_cast<std::uint16_t>(std::stoi(m[2].str()));
  {
    TestClient client(port);
    EXPECT_EQ(client.get("/hello").result_int(), 200);
    TestClient adminClient(admin);
    EXPECT_EQ(adminClient.get("/readyz").result_int(), 200);
    EXPECT_NE(adminClient.get("/metrics").body().find("gatelab_requests_total{route=\"all\",code=\"200\"} 1"),
              std::string::npos);
  }
  // SIGHUP reloads the file: a new route appears; an invalid file is refused and reported.
  std::ofstream(path) << "version: 1\nlisten: 127.0.0.1:0\nadmin: 127.0.0.1:0\nservices:\n  - name: app\n    targets: [" +
                             up.url() +
                             "]\nroutes:\n  - name: v2\n    match: { path_prefix: /v2 }\n    service: app\n";
  c.signal(SIGHUP);
  EXPECT_FALSE(c.waitFor(std::regex("config generation 2")).empty()) << c.output();
  {
    TestClient client(port);
    EXPECT_EQ(client.get("/v2/x").result_int(), 200);
    EXPECT_EQ(client.get("/hello").result_int(), 404);
  }
  std::ofstream(path) << "version: 1\nservices: [\n";
  c.signal(SIGHUP);
  EXPECT_FALSE(c.waitFor(std::regex("is invalid; the running config keeps serving")).empty()) << c.output();
  {
    TestClient client(port);
    EXPECT_EQ(client.get("/v2/y").result_int(), 200);
  }
  EXPECT_EQ(c.signalAndWait(SIGTERM), 0) << c.output();
  EXPECT_NE(c.output().find("drained, stopped"), std::string::npos) << c.output();
}

}  // namespace
