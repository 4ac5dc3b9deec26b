#pragma once
// Resolving a host name under a deadline. Internal to gateway/proxy.
//
// Asio resolves names with getaddrinfo on a background thread, and cancelling the resolver only
// stops a resolve that has not started there yet: one already in getaddrinfo (a DNS server that
// does not answer: seconds) runs to its end. So the deadline does not cancel the resolve; it
// races it. finishFirst() completes its operation with whichever ends first, the operation or the
// deadline (asio::error::timed_out); the loser's completion, when it comes, is dropped.

#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "gateway/proxy/asio_types.hpp"

namespace gatelab::proxy {

namespace detail {

template <class Handler, class Result>
struct FirstOf {
  FirstOf(boost::asio::io_context& ioc, Handler&& h) : timer(ioc), handler(std::move(h)) {}
  SteadyTimer timer;
  std::optional<Handler> handler;  // empty once completed
  void finish(const boost::system::error_code& ec, Result result) {
    if (!handler) return;  // the other one came first
    timer.cancel();
    Handler h = std::move(*handler);
    handler.reset();
    std::move(h)(ec, std::move(result));
  }
};

}  // namespace detail

/// Starts `start(callback)`, an asynchronous operation that calls `callback(error_code, Result)`
/// once, and completes with its result, or with asio::error::timed_out and a default Result when
/// `until` passes first (steady_clock::time_point::max(): no deadline). `start`'s operation is
/// not cancelled: it keeps what it needs alive itself, and its late result is dropped. Runs on
/// `ioc`'s thread; `token` as for any Asio operation (kAwait in the proxy).
template <class Result, class Start, class Token>
auto finishFirst(boost::asio::io_context& ioc, std::chrono::steady_clock::time_point until, Start start,
                 Token&& token) {
  return boost::asio::async_initiate<Token, void(boost::system::error_code, Result)>(
      [&ioc, until](auto handler, Start begin) {
        using State = detail::FirstOf<decltype(handler), Result>;
        auto state = std::make_shared<State>(ioc, std::move(handler));
        if (until != std::chrono::steady_clock::time_point::max()) {
          state->timer.expires_at(until);
          state->timer.async_wait([state](const boost::system::error_code& ec) {
            if (!ec) state->finish(boost::asio::error::timed_out, Result{});
          });
        }
        begin([state](const boost::system::error_code& ec, Result result) { state->finish(ec, std::move(result)); });
      },
      token, std::move(start));
}

/// Resolves `host`:`port` as finishFirst() with `until`: asio::error::timed_out when the deadline
/// passes first (the resolve itself then ends on Asio's resolver thread, unseen).
template <class Token>
auto resolveUntil(boost::asio::io_context& ioc, const std::string& host, const std::string& port,
                  std::chrono::steady_clock::time_point until, Token&& token) {
  using Results = boost::asio::ip::tcp::resolver::results_type;
  return finishFirst<Results>(
      ioc, until,
      [&ioc, host, port](auto callback) {
        auto resolver = std::make_shared<boost::asio::ip::tcp::resolver>(ioc);
        resolver->async_resolve(host, port,
                                [resolver, callback = std::move(callback)](const boost::system::error_code& ec,
                                                                           Results results) mutable {
                                  callback(ec, std::move(results));
                                });
      },
      std::forward<Token>(token));
}

}  // namespace gatelab::proxy
