#include "gateway/proxy/redis_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <hiredis/read.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "gateway/core/decimal.hpp"
#include "gateway/proxy/asio_types.hpp"
#include "gateway/proxy/redis_reply.hpp"
#include "gateway/proxy/resolve.hpp"
#include "gateway/proxy/timed_socket.hpp"

namespace gatelab::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr auto kFirstBackoff = std::chrono::milliseconds(50);
constexpr auto kMaxBackoff = std::chrono::seconds(2);

/// Appends each of `args` (strings) as a RESP bulk string, the output grown once and each written
/// with plain copies (this runs for every argument of every call).
template <class Strings>
void appendBulks(std::string& out, const Strings& args) {
  std::size_t total = 0;
  for (const auto& a : args) total += a.size() + 25;  // '$', up to 20 digits, two CRLFs
  const std::size_t at = out.size();
  out.resize(at + total);
  char* p = out.data() + at;
  for (const auto& a : args) {
    *p++ = '$';
    p = core::writeDecimal(p, a.size());
    *p++ = '\r';
    *p++ = '\n';
    std::memcpy(p, a.data(), a.size());
    p += a.size();
    *p++ = '\r';
    *p++ = '\n';
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
}

void appendBulk(std::string& out, std::string_view arg) { appendBulks(out, std::array<std::string_view, 1>{arg}); }

void appendArrayHeader(std::string& out, std::size_t n) {
  out += '*';
  core::appendDecimal(out, n);
  out += "\r\n";
}

}  // namespace

struct RedisClient::Impl : std::enable_shared_from_this<RedisClient::Impl> {
  enum class State : std::uint8_t { kDisconnected, kConnecting, kReady, kClosed };
  enum class Kind : std::uint8_t { kSetup, kScript };

  struct Pending {
    Kind kind = Kind::kScript;
    Callback done;
    std::string tail;  ///< numkeys, keys and args as RESP bulk strings (for a NOSCRIPT re-send)
    std::size_t tailCount = 0;
    bool resent = false;
    SteadyClock::time_point queued;
  };

  Impl(asio::io_context& context, RedisEndpoint ep) : ioc(context), endpoint(std::move(ep)), socket(context) {
    script = std::string(core::ratelimit::redis::script());
  }

  asio::io_context& ioc;
  RedisEndpoint endpoint;
  Socket socket;
  State state = State::kDisconnected;
  std::uint64_t connection = 0;  ///< incremented per connection: stale coroutines stop
  std::string script;
  std::string sha;  ///< from SCRIPT LOAD
  std::deque<Pending> pending;       ///< sent (or queued to send), awaiting replies, in order
  std::string outbox;                ///< bytes not yet handed to a write
  std::string writing;               ///< bytes of the write in flight
  bool writeInFlight = false;
  bool flushPosted = false;          ///< a flush() is queued to run after the handlers ready now
  std::deque<Pending> waitingForConnection;  ///< calls made while connecting
  std::vector<std::string> spareTails;       ///< answered calls' argument buffers, for the next calls
  SteadyClock::time_point retryAt{};
  SteadyClock::duration backoff = kFirstBackoff;

  void fail(Callback& done, RedisReply::Status status, std::string error) {
    RedisReply r;
    r.status = status;
    r.error = std::move(error);
    asio::post(ioc, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  }

  void call(const core::ratelimit::redis::Call& c, Callback done) {
    if (state == State::kClosed) return fail(done, RedisReply::Status::kUnavailable, "client closed");
    const auto now = SteadyClock::now();
    if (state == State::kReady && !pending.empty() && now - pending.front().queued > endpoint.stuckAfter) {
      drop("no reply for " +
           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - pending.front().queued).count()) +
           " ms; reconnecting");
    }
    if (pending.size() + waitingForConnection.size() >= endpoint.maxPending)
      return fail(done, RedisReply::Status::kUnavailable, "too many calls waiting for Redis");
    if (state == State::kDisconnected) {
      if (now < retryAt) return fail(done, RedisReply::Status::kUnavailable, lastError);
      connect();
    }
    Pending p;
    p.kind = Kind::kScript;
    p.done = std::move(done);
    p.queued = now;
    p.tailCount = 1 + c.keys.size() + c.argv.size();
    if (!spareTails.empty()) {  // a buffer of an answered call: grown already (no allocation)
      p.tail = std::move(spareTails.back());
      spareTails.pop_back();
      p.tail.clear();
    }
    std::array<char, core::kMaxDecimalDigits> n;
    appendBulk(p.tail, core::toDecimal(n, c.keys.size()));
    appendBulks(p.tail, c.keys);
    appendBulks(p.tail, c.argv);
    if (state == State::kConnecting) {
      waitingForConnection.push_back(std::move(p));
      return;
    }
    send(std::move(p));
  }

  void send(Pending p) {
    appendArrayHeader(outbox, 2 + p.tailCount);
    if (p.resent) {
      appendBulk(outbox, "EVAL");
      appendBulk(outbox, script);
    } else {
      appendBulk(outbox, "EVALSHA");
      appendBulk(outbox, sha);
    }
    outbox += p.tail;
    pending.push_back(std::move(p));
    scheduleFlush();
  }

  // Calls made by the handlers that are ready now (several requests' policies) go out together:
  // the first one queues a flush() behind them, which sends them in one send(2), and starts an
  // asynchronous write only for what the socket did not take at once.
  void scheduleFlush() {
    if (flushPosted || writeInFlight) return;
    flushPosted = true;
    asio::post(ioc, [self = shared_from_this()] {
      self->flushPosted = false;
      self->flush();
    });
  }

  void flush() {
    if (writeInFlight || outbox.empty() || state != State::kReady) return;
    boost::system::error_code ec;
    const std::size_t sent = sendNow(socket, outbox, ec);
    if (ec) return drop("write failed: " + ec.message());
    if (sent == outbox.size()) {
      outbox.clear();
      return;
    }
    writeInFlight = true;
    writing.assign(outbox, sent);
    outbox.clear();
    auto self = shared_from_this();
    const std::uint64_t conn = connection;
    asio::async_write(socket, asio::buffer(writing), [self, conn](boost::system::error_code wec, std::size_t) {
      if (conn != self->connection) return;
      self->writeInFlight = false;
      self->writing.clear();
      if (wec) return self->drop("write failed: " + wec.message());
      self->flush();
    });
  }

  std::string lastError = "not connected";

  /// Fails everything pending and closes; the next call after the back-off reconnects.
  void drop(const std::string& why) {
    lastError = "Redis " + endpoint.host + ":" + std::to_string(endpoint.port) + ": " + why;
    ++connection;
    boost::system::error_code ignored;
    socket.close(ignored);
    writeInFlight = false;
    writing.clear();
    outbox.clear();
    if (state != State::kClosed) state = State::kDisconnected;
    retryAt = SteadyClock::now() + backoff;
    backoff = std::min<SteadyClock::duration>(backoff * 2, kMaxBackoff);
    auto failAll = [this](std::deque<Pending>& q) {
      std::deque<Pending> taken;
      taken.swap(q);
      for (Pending& p : taken) {
        if (p.done) fail(p.done, RedisReply::Status::kUnavailable, lastError);
      }
    };
    failAll(pending);
    failAll(waitingForConnection);
  }

  void connect() {
    state = State::kConnecting;
    ++connection;
    asio::co_spawn(ioc, connectAndRead(shared_from_this(), connection), asio::detached);
  }

  static Task<void> connectAndRead(std::shared_ptr<Impl> self, std::uint64_t conn) {
    // Resolve and connect, bounded by connect_timeout: the resolve races it (resolveUntil: a
    // resolve still running when it passes is abandoned), then the deadline closes the socket of a
    // connect still running.
    const auto until = SteadyClock::now() + self->endpoint.connectTimeout;
    SteadyTimer deadline(self->ioc);
    deadline.expires_at(until);
    // Shared with the handler: it may run after the connect finished (both completed in one poll).
    auto flags = std::make_shared<std::pair<bool, bool>>(false, false);  // connected, timed out
    deadline.async_wait([self, conn, flags](boost::system::error_code ec) {
      if (ec || flags->first || conn != self->connection) return;
      flags->second = true;
      boost::system::error_code ignored;
      self->socket.close(ignored);
    });
    auto [rec, endpoints] =
        co_await resolveUntil(self->ioc, self->endpoint.host, std::to_string(self->endpoint.port), until, kAwait);
    if (conn != self->connection) co_return;
    if (rec || flags->second) {
      deadline.cancel();
      self->drop(rec == asio::error::timed_out || flags->second ? "resolve timed out" : "cannot resolve: " + rec.message());
      co_return;
    }
    self->socket = Socket(self->ioc);
    auto [cec, ep] = co_await asio::async_connect(self->socket, endpoints, kAwait);
    (void)ep;
    if (conn != self->connection) co_return;
    if (cec || flags->second) {
      deadline.cancel();
      self->drop(flags->second ? "connect timed out" : "cannot connect: " + cec.message());
      co_return;
    }
    boost::system::error_code ignored;
    self->socket.set_option(tcp::no_delay(true), ignored);

    // AUTH, SELECT and SCRIPT LOAD in one write; their replies come first.
    std::string hello;
    std::size_t setupReplies = 0;
    if (!self->endpoint.password.empty()) {
      appendArrayHeader(hello, self->endpoint.username.empty() ? 2 : 3);
      appendBulk(hello, "AUTH");
      if (!self->endpoint.username.empty()) appendBulk(hello, self->endpoint.username);
      appendBulk(hello, self->endpoint.password);
      ++setupReplies;
    }
    if (self->endpoint.database != 0) {
      appendArrayHeader(hello, 2);
      appendBulk(hello, "SELECT");
      appendBulk(hello, std::to_string(self->endpoint.database));
      ++setupReplies;
    }
    appendArrayHeader(hello, 3);
    appendBulk(hello, "SCRIPT");
    appendBulk(hello, "LOAD");
    appendBulk(hello, self->script);
    ++setupReplies;
    auto [wec, wn] = co_await asio::async_write(self->socket, asio::buffer(hello), kAwait);
    (void)wn;
    if (conn != self->connection) co_return;
    if (wec) {
      self->drop("write failed: " + wec.message());
      co_return;
    }

    ReplyReader replies;
    std::vector<char> buf(16 * 1024);
    bool ready = false;
    while (true) {
      auto [ec, n] = co_await self->socket.async_read_some(asio::buffer(buf), kAwait);
      if (conn != self->connection) co_return;
      if (ec) {
        self->drop(!ready && flags->second ? "no answer to AUTH/SELECT/SCRIPT LOAD within connect_timeout"
                   : ec == asio::error::eof ? "connection closed by Redis"
                                            : "read failed: " + ec.message());
        co_return;
      }
      replies.feed(std::string_view(buf.data(), n));
      while (true) {
        const Reply* next = nullptr;
        const ReplyReader::Next got = replies.next(next);
        if (got == ReplyReader::Next::kError) {
          self->drop(std::string("protocol error: ") + replies.error());
          co_return;
        }
        if (got == ReplyReader::Next::kNeedMore) break;
        const Reply& reply = *next;
        if (!ready) {
          if (reply.type == REDIS_REPLY_ERROR) {
            self->drop("setup refused: " + reply.text);
            co_return;
          }
          if (--setupReplies > 0) continue;
          if (reply.type != REDIS_REPLY_STRING) {
            self->drop("SCRIPT LOAD did not return a SHA1");
            co_return;
          }
          self->sha.assign(reply.text);
          ready = true;
          flags->first = true;  // connected and set up: the connect deadline no longer applies
          deadline.cancel();
          self->onReady();
          continue;
        }
        if (self->pending.empty()) {
          self->drop("a reply nobody asked for");
          co_return;
        }
        self->deliver(reply);
        if (conn != self->connection) co_return;
      }
    }
  }

  void onReady() {
    state = State::kReady;
    backoff = kFirstBackoff;
    lastError.clear();
    std::deque<Pending> waiting;
    waiting.swap(waitingForConnection);
    for (Pending& p : waiting) send(std::move(p));
  }

  void deliver(const Reply& reply) {
    Pending p = std::move(pending.front());
    pending.pop_front();
    RedisReply out;
    if (reply.type == REDIS_REPLY_ERROR) {
      if (reply.text.starts_with("NOSCRIPT") && !p.resent) {
        p.resent = true;
        send(std::move(p));
        return;
      }
      out.status = RedisReply::Status::kError;
      out.error = reply.text;
    } else if (reply.type == REDIS_REPLY_ARRAY) {
      if (reply.otherElement) {
        out.status = RedisReply::Status::kError;
        out.error = "the script returned a non-integer element";
      } else if (reply.values.size() > RedisReply::kMaxValues) {
        out.status = RedisReply::Status::kError;
        out.error = "the script returned " + std::to_string(reply.values.size()) + " values; at most " +
                    std::to_string(RedisReply::kMaxValues) + " expected";
      } else {
        out.status = RedisReply::Status::kOk;
        std::copy(reply.values.begin(), reply.values.end(), out.store.begin());
        out.count = reply.values.size();
      }
    } else {
      out.status = RedisReply::Status::kError;
      out.error = "the script returned a reply of type " + std::to_string(reply.type);
    }
    if (spareTails.size() < 64) spareTails.push_back(std::move(p.tail));
    if (p.done) p.done(std::move(out));
  }

  void close() {
    state = State::kClosed;
    drop("client closed");
    state = State::kClosed;
  }
};

RedisClient::RedisClient(asio::io_context& ioc, RedisEndpoint endpoint)
    : impl_(std::make_shared<Impl>(ioc, std::move(endpoint))) {}

RedisClient::~RedisClient() { impl_->close(); }

void RedisClient::evalScript(const core::ratelimit::redis::Call& call, Callback done) {
  impl_->call(call, std::move(done));
}

const RedisEndpoint& RedisClient::endpoint() const noexcept { return impl_->endpoint; }
bool RedisClient::connected() const noexcept { return impl_->state == Impl::State::kReady; }
std::size_t RedisClient::pending() const noexcept { return impl_->pending.size() + impl_->waitingForConnection.size(); }

}  // namespace gatelab::proxy
