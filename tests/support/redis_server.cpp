#include "tests/support/redis_server.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace gatelab::testing {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kReadyBound = 10s;
constexpr auto kStopBound = 10s;
constexpr int kPortAttempts = 5;

/// Waits until child `pid` exits or `bound` passes (poll on a pidfd: an event with a deadline,
/// never a plain sleep). True when it exited (not yet reaped).
bool waitForExit(pid_t pid, std::chrono::milliseconds bound) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  const int n = ::poll(&p, 1, static_cast<int>(bound.count()));
  ::close(fd);
  return n > 0;
}

timeval toTimeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

std::string findRedisServer() {
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (dir.empty()) continue;
      const std::string candidate = dir + "/redis-server";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  if (::access("/usr/bin/redis-server", X_OK) == 0) return "/usr/bin/redis-server";
  return {};
}

/// A port that was free a moment ago on 127.0.0.1 (the kernel picks it for a socket bound to 0).
std::uint16_t pickFreePort(std::string& why) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    why = std::string("socket(): ") + std::strerror(errno);
    return 0;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  } else {
    why = std::string("bind/getsockname on 127.0.0.1:0: ") + std::strerror(errno);
  }
  ::close(fd);
  return port;
}

/// Whether a server on `port` answers PING within `timeout`.
bool answersPing(std::uint16_t port, std::chrono::milliseconds timeout) {
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, toTimeval(timeout));
  if (c == nullptr) return false;
  bool ok = false;
  if (c->err == 0 && redisSetTimeout(c, toTimeval(timeout)) == REDIS_OK) {
    auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
    ok = r != nullptr && r->type == REDIS_REPLY_STATUS && std::string_view(r->str, r->len) == "PONG";
    if (r != nullptr) freeReplyObject(r);
  }
  redisFree(c);
  return ok;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RedisServer

RedisServer::RedisServer() {
  std::error_code ec;
  const std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  std::string templ = (ec ? std::filesystem::path("/tmp") : base).string() + "/gatelab-redis-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    error_ = "cannot create a temporary directory for redis-server: " + std::string(std::strerror(errno));
    ADD_FAILURE() << error_;
    return;
  }
  dir_ = templ;
  logPath_ = dir_ + "/redis.log";
  start();
}

RedisServer::~RedisServer() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool RedisServer::start() {
  if (running()) return true;
  error_.clear();
  if (dir_.empty()) {
    error_ = "no temporary directory for redis-server";
    ADD_FAILURE() << error_;
    return false;
  }
  if (binary_.empty()) binary_ = findRedisServer();
  if (binary_.empty()) {
    error_ = "redis-server not found on PATH nor at /usr/bin/redis-server (scripts/setup.sh installs the redis-server package)";
    ADD_FAILURE() << error_;
    return false;
  }
  // The first start picks a free port, and another if that one was taken before redis-server
  // bound it; later starts keep the port, so clients configured with it reconnect.
  const bool keepPort = port_ != 0;
  std::string why;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    const std::uint16_t port = keepPort ? port_ : pickFreePort(why);
    if (port == 0) break;
    if (launch(port, why)) {
      port_ = port;
      return true;
    }
  }
  error_ = "redis-server (" + binary_ + ") did not come up" + (keepPort ? " on port " + std::to_string(port_) : "") +
           ": " + why + "\n--- " + logPath_ + " (tail) ---\n" + logTail();
  ADD_FAILURE() << error_;
  return false;
}

bool RedisServer::launch(std::uint16_t port, std::string& why) {
  const std::string portText = std::to_string(port);
  std::vector<std::string> args = {binary_,      "--port",       portText, "--bind",      "127.0.0.1",
                                   "--save",     "",             "--appendonly", "no",    "--daemonize",
                                   "no",         "--dir",        dir_,     "--logfile",   ""};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const int log = ::open(logPath_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    why = "cannot open " + logPath_ + ": " + std::strerror(errno);
    return false;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    why = std::string("fork(): ") + std::strerror(errno);
    ::close(log);
    return false;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls. The server dies with the test process.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log);
  pid_ = pid;

  const auto until = Clock::now() + kReadyBound;
  while (Clock::now() < until) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      why = "redis-server on port " + portText + " exited with " +
            (WIFEXITED(status) ? "status " + std::to_string(WEXITSTATUS(status))
                               : "signal " + std::to_string(WTERMSIG(status)));
      return false;
    }
    if (answersPing(port, 100ms)) return true;
    (void)waitForExit(pid_, 5ms);  // not listening yet: give it until it exits or 5 ms pass
  }
  why = "redis-server on port " + portText + " did not answer PING within 10 s";
  stop();
  return false;
}

void RedisServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto until = Clock::now() + kStopBound;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() >= until) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    (void)waitForExit(pid_, std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()) + 1ms);
  }
  pid_ = -1;
}

std::string RedisServer::logTail() const {
  std::ifstream in(logPath_, std::ios::binary);
  if (!in) return "(no log)";
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr std::size_t kTail = 2000;
  return text.size() > kTail ? text.substr(text.size() - kTail) : text;
}

// ---------------------------------------------------------------------------------------------
// RedisConnection

RedisConnection::RedisConnection(std::uint16_t port, std::chrono::milliseconds timeout) : port_(port), timeout_(timeout) {
  // hiredis writes with write(2): a server that went away must be an error, not SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  ensureConnected();
}

RedisConnection::~RedisConnection() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

bool RedisConnection::ensureConnected() {
  if (ctx_ != nullptr && ctx_->err == 0) return true;
  if (ctx_ != nullptr) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  ctx_ = redisConnectWithTimeout("127.0.0.1", port_, toTimeval(timeout_));
  if (ctx_ == nullptr) {
    error_ = "cannot allocate a hiredis context";
    return false;
  }
  if (ctx_->err != 0) {
    error_ = "connect to 127.0.0.1:" + std::to_string(port_) + ": " + ctx_->errstr;
    redisFree(ctx_);
    ctx_ = nullptr;
    return false;
  }
  if (redisSetTimeout(ctx_, toTimeval(timeout_)) != REDIS_OK) {
    error_ = "cannot set the socket timeout";
    redisFree(ctx_);
    ctx_ = nullptr;
    return false;
  }
  error_.clear();
  return true;
}

bool RedisConnection::append(const std::vector<std::string>& argv) {
  argvPtrs_.clear();
  argvLens_.clear();
  for (const std::string& a : argv) {
    argvPtrs_.push_back(a.data());
    argvLens_.push_back(a.size());
  }
  if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argvPtrs_.data(), argvLens_.data()) != REDIS_OK) {
    error_ = std::string("cannot queue a command: ") + ctx_->errstr;
    return false;
  }
  return true;
}

ReplyPtr RedisConnection::command(const std::vector<std::string>& argv) {
  std::vector<ReplyPtr> replies = pipeline({argv});
  return replies.empty() ? nullptr : std::move(replies.front());
}

std::vector<ReplyPtr> RedisConnection::pipeline(const std::vector<std::vector<std::string>>& commands) {
  std::vector<ReplyPtr> out;
  if (!ensureConnected()) return out;
  for (const auto& argv : commands) {
    if (!append(argv)) return out;
  }
  out.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      error_ = std::string("no reply from 127.0.0.1:") + std::to_string(port_) + ": " +
               (ctx_->err != 0 ? ctx_->errstr : "connection closed");
      if (raw != nullptr) freeReplyObject(raw);
      return out;
    }
    out.emplace_back(static_cast<redisReply*>(raw));
  }
  return out;
}

}  // namespace gatelab::testing
