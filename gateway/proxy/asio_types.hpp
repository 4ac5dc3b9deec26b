#pragma once
// The Asio types the proxy's I/O is written in (internal to gateway/proxy).
//
// Every coroutine, socket and stream of the proxy runs on an io_context (one per worker thread,
// plus the accept and admin context), so they name its concrete executor type instead of
// asio::any_io_executor, Asio's default. The type-erased executor is copied, moved and destroyed
// through function pointers on every operation and every coroutine resumption; with the concrete
// type those are plain copies of a pointer (measured: bench/proxy.sh, docs/performance.md).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace gatelab::proxy {

using Executor = boost::asio::io_context::executor_type;
/// A proxy coroutine.
template <class T>
using Task = boost::asio::awaitable<T, Executor>;
/// The completion token of every awaited operation: (error_code, result...) as a tuple.
inline constexpr auto kAwait = boost::asio::as_tuple(boost::asio::use_awaitable_t<Executor>{});
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
using SteadyTimer =
    boost::asio::basic_waitable_timer<std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;

}  // namespace gatelab::proxy
