#pragma once
// RedisClient: one pipelined, non-blocking connection to Redis for one I/O thread; the live
// proxy's side of `store: redis` rate-limit policies (the script and its arguments are pure:
// gateway/core/rate_limit/redis_script.hpp).
//
// - Never blocks the thread: connect, writes and reads are asynchronous on the thread's
//   io_context; replies are read by ReplyReader (redis_reply.hpp: the script's integer arrays in
//   place, anything else with hiredis' protocol reader), commands are written as RESP arrays
//   directly.
// - Pipelined: every call made while a write is in flight is appended to the next write, so N
//   concurrent requests cost one write and one read of N replies, in order.
// - The script is loaded with SCRIPT LOAD right after connecting (with AUTH and SELECT when
//   configured, in the same write); calls use EVALSHA, and a NOSCRIPT reply (Redis restarted or
//   flushed its script cache) is answered by re-sending that call as EVAL with the source.
// - Failure: a connection that fails or breaks fails every pending call (kUnavailable) and is
//   retried lazily, on the next call after a back-off (50 ms doubling to 2 s, reset on success),
//   so a Redis outage costs each request one immediate "unavailable", not a connect attempt.
//   The caller applies its own per-call deadline (the policy's on_store_error after
//   `redis.timeout`). `connectTimeout` bounds resolving the host name (resolveUntil), the
//   connect and the replies to AUTH/SELECT/SCRIPT LOAD; once set up, a connection whose oldest call has waited longer than `stuckAfter` is
//   dropped and reconnected (Redis hung or the network black-holes).
//
// Thread safety: none. Every member function must run on the io_context's thread. Callbacks run
// on that thread, never inside evalScript().

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "gateway/core/rate_limit/redis_script.hpp"
#include "gateway/core/time.hpp"

namespace boost::asio {
class io_context;
}

namespace gatelab::proxy {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string username;  ///< empty: AUTH with the password alone
  std::string password;  ///< empty: no AUTH
  int database = 0;      ///< SELECT when non-zero
  core::Duration connectTimeout = std::chrono::seconds(1);
  core::Duration stuckAfter = std::chrono::seconds(2);  ///< oldest pending call older: reconnect
  std::size_t maxPending = 65536;                        ///< more pending calls fail at once

  friend bool operator==(const RedisEndpoint&, const RedisEndpoint&) = default;
};

struct RedisReply {
  /// The most integers a script reply holds: [evaluated, then 7 per limit] for at most 8 limits.
  static constexpr std::size_t kMaxValues = 64;
  enum class Status : std::uint8_t {
    kOk,           ///< values() holds the script's integer array
    kUnavailable,  ///< no connection (connecting failed, broke, back-off, too many pending)
    kError,        ///< Redis answered with an error, or with something other than integers
  };
  Status status = Status::kUnavailable;
  std::string error;  ///< kUnavailable / kError: what happened
  /// The script's integers (kOk).
  [[nodiscard]] std::span<const std::int64_t> values() const noexcept { return {store.data(), count}; }
  /// Where values() live: inline, as a reply is made for every request (only the first `count`
  /// are set).
  std::array<std::int64_t, kMaxValues> store;
  std::size_t count = 0;
};

class RedisClient {
 public:
  using Callback = std::function<void(RedisReply&&)>;

  RedisClient(boost::asio::io_context& ioc, RedisEndpoint endpoint);
  ~RedisClient();  ///< fails pending calls (their callbacks still run, later, on the io_context)
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  /// Evaluates the rate-limit script with `call`'s keys and arguments; `done` runs exactly once.
  void evalScript(const core::ratelimit::redis::Call& call, Callback done);

  [[nodiscard]] const RedisEndpoint& endpoint() const noexcept;
  [[nodiscard]] bool connected() const noexcept;
  [[nodiscard]] std::size_t pending() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace gatelab::proxy
