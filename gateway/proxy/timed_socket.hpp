#pragma once
// TimedSocket: a TCP socket with an expiry for the operations on it. Internal to gateway/proxy.
//
// It takes the place of beast::tcp_stream for client and upstream connections, plain and under
// TLS (ssl_stream<TimedSocket>). Beast's stream wraps every read and write in its own operation
// (a layer that checks and runs a timer, and hands the socket a buffer sequence, so each read is a
// recvmsg and each write a sendmsg); here reads and writes go straight to the socket (recv and
// send for one buffer), and the expiry is an IoDeadline that closes the socket when it passes,
// armed only when first used. A client session's reads and writes run under the session's own
// IoDeadline (it cancels rather than closes, so a 408 can still be said) and set no expiry here;
// the expiry covers an upstream try (connect, write, read), TLS handshakes, upload blocks, relayed
// bodies, tunnels and the closing steps.
//
// An operation cut by the expiry fails with the error of a closed socket (operation_aborted, or
// bad_descriptor for one started after), not beast::error::timeout: callers ask expired() (or
// timedOut()) to tell a timeout apart. expired() stays true until the expiry is set again.
// Not movable (the deadline points at the socket); held in place or by pointer.

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>

#include "gateway/proxy/asio_types.hpp"
#include "gateway/proxy/io_deadline.hpp"

namespace gatelab::proxy {

/// Sends what `socket` takes at once, without waiting (one send(2), MSG_DONTWAIT): the bytes sent,
/// 0 when it would block. `ec` is set for any other failure (reset, closed, an expiry passed). An
/// answer, a request or a batch of Redis calls usually fits the socket's buffer whole: then no
/// asynchronous write is started at all (its operation, completion and coroutine resumption cost
/// more than the send). Only while no asynchronous write is pending on the socket.
inline std::size_t sendNow(Socket& socket, std::string_view bytes, boost::system::error_code& ec) noexcept {
  ec = {};
  if (!socket.is_open()) {
    ec = boost::asio::error::bad_descriptor;
    return 0;
  }
  while (true) {
    const ssize_t n = ::send(socket.native_handle(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) ec.assign(errno, boost::system::system_category());
    return 0;
  }
}

class TimedSocket {
 public:
  using executor_type = Executor;
  using lowest_layer_type = TimedSocket;  // what asio::ssl::stream asks of the layer below it
  using Clock = std::chrono::steady_clock;

  explicit TimedSocket(boost::asio::io_context& ioc) : socket_(ioc) {}
  explicit TimedSocket(Socket&& socket) : socket_(std::move(socket)) {}
  TimedSocket(const TimedSocket&) = delete;
  TimedSocket& operator=(const TimedSocket&) = delete;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  Socket& socket() noexcept { return socket_; }
  TimedSocket& lowest_layer() noexcept { return *this; }

  /// The operations on the socket must finish within `d` / by `t`; then the socket is closed.
  void expires_after(Clock::duration d) { deadline().expiresAfter(d); }
  void expires_at(Clock::time_point t) { deadline().expiresAt(t); }
  /// No expiry (expired() keeps its answer until the next expires_*).
  void expires_never() noexcept {
    if (deadline_) deadline_->clear();
  }
  /// The expiry passed and closed the socket.
  [[nodiscard]] bool expired() const noexcept { return deadline_ && deadline_->fired(); }
  /// When the expiry passes (Clock::time_point::max(): none).
  [[nodiscard]] Clock::time_point expiry() const noexcept {
    return deadline_ ? deadline_->deadline() : Clock::time_point::max();
  }
  /// The expiry passed, whether or not its timer has run yet (a clock read). For steps that do
  /// not run on the socket (resolving a name) and so are not cut by its closing.
  [[nodiscard]] bool expiryPassed() const { return expired() || expiry() <= Clock::now(); }
  /// Whether an operation that failed with `ec` failed because the expiry passed.
  [[nodiscard]] bool timedOut(const boost::system::error_code& ec) const noexcept { return ec && expired(); }

  /// proxy::sendNow (above) on this socket.
  std::size_t sendNow(std::string_view bytes, boost::system::error_code& ec) noexcept {
    return proxy::sendNow(socket_, bytes, ec);
  }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  IoDeadline& deadline() {
    if (!deadline_) {
      deadline_ = std::make_unique<IoDeadline>(socket_.get_executor().context(), socket_, IoDeadline::Action::kClose);
    }
    return *deadline_;
  }

  Socket socket_;
  std::unique_ptr<IoDeadline> deadline_;  // after the socket: destroyed first
};

}  // namespace gatelab::proxy
