#pragma once
// Test support for Redis-backed code: a private redis-server per test (or per suite) and a small
// blocking client.
//
// RedisServer starts `redis-server` (from PATH, else /usr/bin) as a child process listening on
// 127.0.0.1 at a free port, without persistence (`--save '' --appendonly no`), its output in a
// log file in a private temporary directory. It is ready when it answers PING (polled for at most
// 10 s). stop() ends it (SIGTERM, then waits for it), so a test can simulate an outage; start()
// brings it back on the same port (empty: nothing is persisted), so a test can check recovery.
// Failing to find or start redis-server is a test failure (ADD_FAILURE with the reason and the
// tail of the server's log), never a skip: scripts/setup.sh installs it.
//
// RedisConnection is a blocking hiredis connection with timeouts, for tests to inspect and
// prepare Redis state. Not thread-safe; one per thread.

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gatelab::testing {

class RedisServer {
 public:
  /// Starts the server; a failure is reported as a test failure (see error()).
  RedisServer();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  /// Starts the server if it is not running: on a new free port the first time (retrying with
  /// another port if one is taken meanwhile), on the same port afterwards. Returns whether it
  /// answers PING; a failure is also reported as a test failure.
  bool start();
  /// Terminates the server (SIGTERM, SIGKILL after 10 s) and reaps it. No-op when stopped.
  void stop();

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] bool running() const noexcept { return pid_ > 0; }
  /// Why the last start() failed (empty after a success).
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] const std::string& logPath() const noexcept { return logPath_; }

 private:
  bool launch(std::uint16_t port, std::string& why);
  std::string logTail() const;

  std::string binary_;
  std::string dir_;
  std::string logPath_;
  std::string error_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisConnection {
 public:
  /// Connects to 127.0.0.1:port; a failure is not a test failure (a test may expect an outage):
  /// see connected() and error(). `timeout` bounds the connect and every command.
  explicit RedisConnection(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  /// Sends one command and waits for its reply (an error reply is a reply: type
  /// REDIS_REPLY_ERROR). nullptr when the connection failed, with the reason in error(); the next
  /// call reconnects.
  ReplyPtr command(const std::vector<std::string>& argv);
  /// Sends all commands, then reads all replies, in order (one round trip). On a connection
  /// failure the result is shorter than `commands` and error() says why.
  std::vector<ReplyPtr> pipeline(const std::vector<std::vector<std::string>>& commands);

  [[nodiscard]] bool connected() const noexcept { return ctx_ != nullptr && ctx_->err == 0; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  bool ensureConnected();
  bool append(const std::vector<std::string>& argv);

  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
  redisContext* ctx_ = nullptr;
  std::string error_;
  std::vector<const char*> argvPtrs_;
  std::vector<std::size_t> argvLens_;
};

}  // namespace gatelab::testing
