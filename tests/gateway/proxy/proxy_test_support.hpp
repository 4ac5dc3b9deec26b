#pragma once
// Loopback helpers for proxy tests: an in-process upstream that answers as a test tells it (or
// hangs, or hangs up), a blocking HTTP client, and a raw-bytes client for malformed input. Every
// server binds 127.0.0.1 port 0; nothing sleeps: tests wait for answers, with deadlines.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>
#include <zlib.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "gateway/proxy/server.hpp"

namespace gatelab::proxy::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

/// Wakes a thread blocked in `acceptor.accept()` (close() from another thread does not): connects
/// to it once. The accept loop then sees its stop flag.
inline void wakeAcceptor(const tcp::acceptor& acceptor) {
  asio::io_context wake;
  tcp::socket s(wake);
  beast::error_code ignored;
  s.connect(acceptor.local_endpoint(), ignored);
}

/// "http://127.0.0.1:PORT" of a loopback acceptor.
inline std::string loopbackUrl(const tcp::acceptor& acceptor) {
  return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
}

/// What the upstream does with one request.
struct Reply {
  enum class Kind { kAnswer, kHang, kClose } kind = Kind::kAnswer;
  Response response;
  static Reply ok(std::string body = "ok") {
    Reply r;
    r.response = Response{http::status::ok, 11};
    r.response.set(http::field::content_type, "text/plain");
    r.response.body() = std::move(body);
    r.response.prepare_payload();
    return r;
  }
  static Reply status(unsigned code) {
    Reply r = ok("status " + std::to_string(code));
    r.response.result(code);
    return r;
  }
  static Reply hang() {
    Reply r;
    r.kind = Kind::kHang;
    return r;
  }
  static Reply close() {
    Reply r;
    r.kind = Kind::kClose;
    return r;
  }
};

/// An HTTP/1.1 upstream on 127.0.0.1:0, one thread per connection, keep-alive. Records every
/// request it received. A hanging connection is released when the upstream is destroyed.
class TestUpstream {
 public:
  explicit TestUpstream(std::function<Reply(const Request&)> handler = [](const Request&) { return Reply::ok(); })
      : handler_(std::move(handler)), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { acceptLoop(); });
  }
  ~TestUpstream() {
    stopping_ = true;
    beast::error_code ignored;
    wakeAcceptor(acceptor_);
    if (thread_.joinable()) thread_.join();
    acceptor_.close(ignored);
    {
      const std::lock_guard lock(mutex_);
      for (auto& s : sockets_) s->shutdown(tcp::socket::shutdown_both, ignored);
    }
    for (auto& t : connections_) t.join();
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] std::vector<Request> received() const {
    const std::lock_guard lock(mutex_);
    return received_;
  }
  [[nodiscard]] int connectionsAccepted() const { return accepted_.load(); }

 private:
  void acceptLoop() {
    while (!stopping_) {
      auto socket = std::make_shared<tcp::socket>(ioc_);
      beast::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec || stopping_) return;
      ++accepted_;
      {
        const std::lock_guard lock(mutex_);
        sockets_.push_back(socket);
      }
      connections_.emplace_back([this, socket] { serve(*socket); });
    }
  }
  void serve(tcp::socket& socket) {
    beast::flat_buffer buffer;
    while (true) {
      Request req;
      beast::error_code ec;
      http::read(socket, buffer, req, ec);
      if (ec) return;
      {
        const std::lock_guard lock(mutex_);
        received_.push_back(req);
      }
      Reply reply = handler_(req);
      if (reply.kind == Reply::Kind::kClose) {
        socket.shutdown(tcp::socket::shutdown_both, ec);
        return;
      }
      if (reply.kind == Reply::Kind::kHang) {
        char c;
        socket.read_some(asio::buffer(&c, 1), ec);  // until the peer or the destructor closes it
        return;
      }
      reply.response.keep_alive(req.keep_alive());
      http::write(socket, reply.response, ec);
      if (ec || !req.keep_alive()) return;
    }
  }

  std::function<Reply(const Request&)> handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::vector<std::thread> connections_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::vector<Request> received_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
};

/// A blocking HTTP client on one keep-alive connection, with a deadline per exchange.
class TestClient {
 public:
  explicit TestClient(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : stream_(ioc_), timeout_(timeout) {
    stream_.expires_after(timeout_);
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    // tcp_stream's expiry covers asynchronous operations only: bound the blocking ones too, so a
    // test that goes wrong fails instead of hanging.
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(timeout_.count() / 1000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>((timeout_.count() % 1000) * 1000);
    ::setsockopt(stream_.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(stream_.socket().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  Response send(Request req) {
    if (req.count(http::field::host) == 0) req.set(http::field::host, "gateway.test");
    req.prepare_payload();
    stream_.expires_after(timeout_);
    http::write(stream_, req);
    Response res;
    http::read(stream_, buffer_, res);
    return res;
  }
  Response get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request req{http::verb::get, target, 11};
    for (auto& [k, v] : headers) req.set(k, v);
    return send(std::move(req));
  }
  /// Writes raw bytes and reads whatever answer comes back ("" when the connection closes first).
  std::string raw(const std::string& bytes) {
    stream_.expires_after(timeout_);
    asio::write(stream_.socket(), asio::buffer(bytes));
    return readAll();
  }
  /// Reads until the peer closes (or the deadline passes).
  std::string readAll() {
    std::string out;
    beast::error_code ec;
    char chunk[4096];
    while (true) {
      const std::size_t n = stream_.read_some(asio::buffer(chunk), ec);
      out.append(chunk, n);
      if (ec) break;
    }
    return out;
  }
  beast::tcp_stream& stream() { return stream_; }

 private:
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
};

/// `z` gunzipped (tests of compressed answers); "<inflate failed>" when it is not valid gzip.
inline std::string gunzip(const std::string& z) {
  z_stream zs{};
  inflateInit2(&zs, 15 + 16);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data()));
  zs.avail_in = static_cast<uInt>(z.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string("<inflate failed>");
}

/// A port nothing listens on (bound, then closed): connecting is refused.
inline std::uint16_t closedPort() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::uint16_t port = a.local_endpoint().port();
  a.close();
  return port;
}

/// A started proxy for `yaml` on 127.0.0.1:0.
struct TestProxy {
  std::unique_ptr<Server> server;
  explicit TestProxy(const std::string& yaml, ServerOptions options = {}) {
    const auto loaded = config::loadConfigString(yaml, "proxy-test.yaml");
    if (!loaded.ok()) throw std::runtime_error(loaded.errorText());
    options.listenHost = "127.0.0.1";
    options.listenPort = 0;
    options.adminHost = "127.0.0.1";
    options.adminPort = 0;
    if (options.threads == 0) options.threads = 2;
    if (options.seed == 0) options.seed = 42;
    server = std::make_unique<Server>(loaded.config, options);
    const std::string err = server->start();
    if (!err.empty()) throw std::runtime_error(err);
  }
  [[nodiscard]] std::uint16_t port() const { return server->port(); }
  [[nodiscard]] std::uint16_t adminPort() const { return server->adminPort(); }
};

}  // namespace gatelab::proxy::testing
