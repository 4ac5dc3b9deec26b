#pragma once
// IoDeadline: the deadline of the I/O on one socket, cheap to move. Internal to gateway/proxy.
//
// Why: a keep-alive connection sets a deadline around every read and write. Done with a timer
// per operation (what beast::tcp_stream's expiry does, and what the session did), each one
// costs a timer-queue insertion, a cancellation and a handler run with operation_aborted:
// four or five of those per proxied request were several percent of the proxy's user time.
// Here the timer is armed lazily: moving the deadline later (the usual case: every request
// pushes it forward) only stores the new time; the one pending wait fires at the old time,
// sees the deadline has moved and waits again until the new one. Only a deadline earlier than
// the pending wait re-arms the timer. Timeouts still happen exactly at their deadline.
//
// When the deadline passes, the socket's pending operations are cancelled (Action::kCancel:
// the connection can still answer, e.g. a 408) or the socket is closed (Action::kClose: the
// connection is useless, as beast::tcp_stream does), and fired() is true until the next
// expiresAt() (clear() keeps it: an operation ends, then its caller asks why). The operation that was waiting completes with operation_aborted (or
// a "bad descriptor" error after a close): callers ask fired() to tell a timeout apart.
//
// Lifetime: the pending wait's handler holds only the shared state, which the destructor
// detaches from the socket and the timer, so it may outlive the object safely.
// Thread safety: none; one I/O thread (the socket's) uses it.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

#include "gateway/proxy/asio_types.hpp"

namespace gatelab::proxy {

class IoDeadline {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Action : std::uint8_t { kCancel, kClose };

  IoDeadline(boost::asio::io_context& ioc, Socket& socket, Action action)
      : timer_(ioc), state_(std::make_shared<State>()) {
    state_->socket = &socket;
    state_->timer = &timer_;
    state_->action = action;
  }
  ~IoDeadline() {
    state_->socket = nullptr;
    state_->timer = nullptr;
  }
  IoDeadline(const IoDeadline&) = delete;
  IoDeadline& operator=(const IoDeadline&) = delete;

  /// The socket's operations must finish by `t` (Clock::time_point::max(): no deadline).
  void expiresAt(Clock::time_point t) {
    State& s = *state_;
    s.deadline = t;
    s.fired = false;
    if (t != Clock::time_point::max() && t < s.waitingUntil) arm(state_, t);
  }
  void expiresAfter(Clock::duration d) { expiresAt(Clock::now() + d); }
  /// No deadline (the pending wait, if any, finds nothing to do when it fires). fired() stays.
  void clear() noexcept { state_->deadline = Clock::time_point::max(); }
  /// The current deadline (Clock::time_point::max(): none).
  [[nodiscard]] Clock::time_point deadline() const noexcept { return state_->deadline; }
  /// The deadline passed and the socket's operations were cancelled (or the socket closed).
  [[nodiscard]] bool fired() const noexcept { return state_->fired; }

 private:
  struct State {
    Socket* socket = nullptr;  // null once the owner is gone
    SteadyTimer* timer = nullptr;
    Action action = Action::kCancel;
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point waitingUntil = Clock::time_point::max();  // the pending wait's expiry; max: none
    std::uint64_t wait = 0;  // which async_wait is the current one (earlier ones were cancelled)
    bool fired = false;
  };

  static void arm(const std::shared_ptr<State>& state, Clock::time_point t) {
    State& s = *state;
    s.waitingUntil = t;
    s.timer->expires_at(t);  // cancels an earlier wait: its handler sees a stale id and returns
    s.timer->async_wait([state, id = ++s.wait](const boost::system::error_code& ec) {
      State& st = *state;
      if (st.wait != id || st.socket == nullptr) return;  // superseded, or the owner is gone
      st.waitingUntil = Clock::time_point::max();
      if (ec || st.deadline == Clock::time_point::max()) return;
      if (Clock::now() < st.deadline) {
        arm(state, st.deadline);  // the deadline moved on while this wait was pending
        return;
      }
      st.fired = true;
      boost::system::error_code ignored;
      if (st.action == Action::kClose) {
        st.socket->close(ignored);
      } else {
        st.socket->cancel(ignored);
      }
    });
  }

  SteadyTimer timer_;
  std::shared_ptr<State> state_;
};

}  // namespace gatelab::proxy
