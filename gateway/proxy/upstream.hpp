#pragma once
// Upstream connections of the proxy (internal to gateway/proxy, not a public header): one
// connection to a target (plain or TLS), the per-thread pool of idle keep-alive connections, and
// the framing and block reads that stream a body through the proxy with a bounded buffer.
//
// Everything here runs on one I/O thread (the connection's); nothing is shared between threads.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "gateway/proxy/io_deadline.hpp"
#include "gateway/proxy/timed_socket.hpp"

namespace gatelab::proxy::upstream {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

/// One connection to an upstream target: plain, or TLS over TCP (https:// targets). Its stream's
/// expiry (TimedSocket) bounds a try's connect, write and read, an upload block or a relayed read;
/// a connection given back to the pool has none set.
struct Conn {
  std::unique_ptr<TimedSocket> plain;
  std::unique_ptr<beast::ssl_stream<TimedSocket>> tls;
  /// The connection's read buffer, kept with it in the pool so a request on a reused connection
  /// does not allocate one (a connection goes back only with nothing left in it).
  beast::flat_buffer buffer;
  TimedSocket& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  static std::unique_ptr<Conn> make(asio::io_context& ioc, asio::ssl::context* ctx) {
    auto c = std::make_unique<Conn>();
    if (ctx != nullptr) {
      c->tls = std::make_unique<beast::ssl_stream<TimedSocket>>(ioc, *ctx);
    } else {
      c->plain = std::make_unique<TimedSocket>(ioc);
    }
    return c;
  }
};

/// TLS to an upstream after the TCP connect: SNI (not for IP literals), then the name check when
/// verifying. Returns the handshake's error.
Task<beast::error_code> handshake(beast::ssl_stream<TimedSocket>& stream, const std::string& serverName,
                                             bool verify);

/// Starts `start(stream, handler)` on the connection's stream, plain or TLS, as one asynchronous
/// operation that completes with (error, bytes): awaited directly, without a coroutine frame of its
/// own, and one await in the caller instead of one per kind of stream.
template <class Start>
auto onStream(Conn& conn, Start start) {
  return asio::async_initiate<decltype(kAwait), void(beast::error_code, std::size_t)>(
      [&conn](auto handler, Start s) {
        if (conn.tls) {
          s(*conn.tls, std::move(handler));
        } else {
          s(*conn.plain, std::move(handler));
        }
      },
      kAwait, std::move(start));
}

/// Writes all of `bytes` on the connection.
inline auto write(Conn& conn, std::string_view bytes) {
  return onStream(conn, [b = asio::buffer(bytes.data(), bytes.size())](auto& s, auto&& handler) {
    asio::async_write(s, b, std::forward<decltype(handler)>(handler));
  });
}
/// Reads what is there (at least one byte) into `into`.
inline auto readSome(Conn& conn, asio::mutable_buffer into) {
  return onStream(conn, [into](auto& s, auto&& handler) { s.async_read_some(into, std::forward<decltype(handler)>(handler)); });
}
/// Fills `into` exactly.
inline auto readExactly(Conn& conn, asio::mutable_buffer into) {
  return onStream(conn, [into](auto& s, auto&& handler) { asio::async_read(s, into, std::forward<decltype(handler)>(handler)); });
}
/// Reads a whole response (header and body) into `parser`.
inline auto readWhole(Conn& conn, beast::flat_buffer& buffer, http::response_parser<http::string_body>& parser) {
  return onStream(conn, [&buffer, &parser](auto& s, auto&& handler) {
    http::async_read(s, buffer, parser, std::forward<decltype(handler)>(handler));
  });
}
/// Reads a response's header into `parser` (what `buffer` holds parsed first).
inline auto readHeader(Conn& conn, beast::flat_buffer& buffer, http::response_parser<http::string_body>& parser) {
  return onStream(conn, [&buffer, &parser](auto& s, auto&& handler) {
    http::async_read_header(s, buffer, parser, std::forward<decltype(handler)>(handler));
  });
}

// ---- Streamed bodies ----------------------------------------------------------------------------

/// How a streamed body is delimited on the connection it is written to.
enum class Framing : std::uint8_t {
  kLength,   ///< Content-Length: the bytes as they are
  kChunked,  ///< Transfer-Encoding: chunked: each block one chunk, then the last chunk
  kClose,    ///< the end of the connection (an HTTP/1.0 client, a body of unknown length)
};

/// Appends `data` as it goes on the wire: as is, or as one chunk (nothing for an empty block, which
/// would read as the last chunk).
void appendFramed(std::string& out, std::string_view data, Framing framing);
/// What ends the body: the last chunk (no trailer fields) for kChunked, nothing otherwise.
[[nodiscard]] std::string_view bodyEnd(Framing framing) noexcept;

/// Reads the next part of a message body into [data, data + capacity): returns once some body bytes
/// arrived, the body ended (parser.is_done()) or an error; the count of bytes stored. A read that
/// parsed only framing (a chunk header) returns 0 bytes without an error.
template <class AsyncStream, bool isRequest>
Task<std::pair<beast::error_code, std::size_t>> readBodySome(AsyncStream& stream, beast::flat_buffer& buffer,
                                                                        http::parser<isRequest, http::buffer_body>& parser,
                                                                        char* data, std::size_t capacity) {
  auto& body = parser.get().body();
  body.data = data;
  body.size = capacity;
  body.more = true;
  auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, kAwait);
  (void)n;
  if (ec == http::error::need_buffer) ec = {};  // the block is full: not an error
  co_return std::pair{ec, capacity - body.size};
}

/// The rest of an upstream response body still on its connection, when the body is larger than the
/// proxy's buffer: the session writes the header and what was read, then relays the rest in blocks.
struct PendingBody {
  std::unique_ptr<Conn> conn;
  beast::flat_buffer buffer;  ///< bytes read past what the parser consumed
  http::response_parser<http::buffer_body> parser;
  std::string poolKey;  ///< where the connection goes back when the body ends cleanly

  PendingBody(std::unique_ptr<Conn> c, beast::flat_buffer b, http::response_parser<http::string_body>&& p,
              std::string key)
      : conn(std::move(c)), buffer(std::move(b)), parser(std::move(p)), poolKey(std::move(key)) {}
  /// Reads the next block (see readBodySome).
  Task<std::pair<beast::error_code, std::size_t>> readSome(char* data, std::size_t capacity);
};

// ---- The pool -----------------------------------------------------------------------------------

/// Idle keep-alive connections to upstream targets, for one I/O thread.
class Pool {
 public:
  Pool(std::size_t maxIdlePerTarget, std::chrono::milliseconds idleTimeout)
      : maxIdle_(maxIdlePerTarget), idleTimeout_(idleTimeout) {}

  // Connections are held by pointer: a TimedSocket does not move (its expiry points at it).
  using Stream = std::unique_ptr<Conn>;

  Stream take(const std::string& key) {
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& list = it->second;
    const auto now = SteadyClock::now();
    while (!list.empty()) {
      Idle entry = std::move(list.back());  // newest first: the most likely still open
      list.pop_back();
      if (now - entry.since < idleTimeout_ && entry.stream->lowest().socket().is_open()) return std::move(entry.stream);
      beast::error_code ignored;
      entry.stream->lowest().socket().close(ignored);
    }
    return nullptr;
  }

  void give(const std::string& key, Stream stream) {
    auto& list = idle_[key];
    if (list.size() >= maxIdle_) {
      beast::error_code ignored;
      list.front().stream->lowest().socket().close(ignored);
      list.pop_front();
    }
    stream->lowest().expires_never();  // an idle connection has no deadline
    list.push_back(Idle{std::move(stream), SteadyClock::now()});
  }

  /// Idle connections per target (on the pool's own thread).
  void countIdle(std::map<std::string, std::size_t>& out) const {
    for (const auto& [key, list] : idle_) out[key] += list.size();
  }

  void closeAll() {
    for (auto& [key, list] : idle_) {
      for (auto& e : list) {
        beast::error_code ignored;
        e.stream->lowest().socket().close(ignored);
      }
    }
    idle_.clear();
  }

 private:
  struct Idle {
    Stream stream;
    SteadyClock::time_point since;
  };
  std::size_t maxIdle_;
  std::chrono::milliseconds idleTimeout_;
  std::map<std::string, std::deque<Idle>> idle_;
};


}  // namespace gatelab::proxy::upstream
