#include "gateway/proxy/server_impl.hpp"

#include "gateway/core/decimal.hpp"

namespace gatelab::proxy {

core::TimePoint monotonicNow() noexcept {
  return core::TimePoint{std::chrono::duration_cast<core::Duration>(SteadyClock::now().time_since_epoch()) +
                         steadyToTimeline()};
}

Response plainResponse(unsigned version, http::status status, std::string_view body, bool close) {
  Response res{status, version};
  res.set(http::field::server, "gatelab");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::string(body);
  if (!res.body().empty()) res.body() += '\n';
  res.keep_alive(!close);
  res.prepare_payload();
  return res;
}

Task<std::optional<ConnectFailure>> connectUpstream(asio::io_context& ioc, const TargetAddress& target,
                                                    upstream::Conn& conn) {
  using Stage = ConnectFailure::Stage;
  TimedSocket& stream = conn.lowest();
  auto timedOut = [](Stage stage) { return ConnectFailure{stage, beast::error::timeout, true}; };
  if (target.literal) {
    if (stream.expiryPassed()) co_return timedOut(Stage::kConnect);
    auto [cec] = co_await stream.socket().async_connect(*target.literal, kAwait);
    if (cec) co_return ConnectFailure{Stage::kConnect, cec, stream.timedOut(cec)};
  } else {
    // The expiry closes the socket, but the socket is not open while the name is resolved: the
    // resolve races the expiry (resolveUntil), and the expiry is checked once it ends, so the
    // connect never starts (opening the socket anew) without a deadline.
    auto [rec, results] = co_await resolveUntil(ioc, target.host, target.port, stream.expiry(), kAwait);
    if (rec == asio::error::timed_out || stream.expiryPassed()) co_return timedOut(Stage::kResolve);
    if (rec) co_return ConnectFailure{Stage::kResolve, rec, false};
    auto [cec, ep] = co_await asio::async_connect(stream.socket(), results, kAwait);
    (void)ep;
    if (cec) co_return ConnectFailure{Stage::kConnect, cec, stream.timedOut(cec)};
  }
  beast::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  if (conn.tls) {
    const beast::error_code hec = co_await upstream::handshake(*conn.tls, target.serverName, target.verify);
    if (hec) co_return ConnectFailure{Stage::kHandshake, hec, stream.timedOut(hec)};
  }
  co_return std::nullopt;
}

TargetAddress targetAddress(const config::TargetUrl& url) {
  TargetAddress a;
  a.host = url.host;
  a.port = std::to_string(url.port);
  a.key = url.toString();
  const bool ipv6 = url.host.find(':') != std::string::npos;
  a.hostHeader = ipv6 ? "[" + url.host + "]" : url.host;
  if (url.port != (url.scheme == "https" ? 443 : 80)) a.hostHeader += ":" + a.port;
  beast::error_code notLiteral;
  const asio::ip::address address = asio::ip::make_address(url.host, notLiteral);
  if (!notLiteral) a.literal = tcp::endpoint(address, url.port);
  return a;
}

namespace {

/// How much an upstream read asks for at once: a head and a small body in one read.
constexpr std::size_t kUpstreamRead = 16 * 1024;

// An answer's head in one contiguous buffer: start line, fields, blank line (then the body). One
// write of one buffer instead of Beast's serializer, whose buffer-sequence iterators cost more
// than the copy for the small messages a gateway mostly sends. Framing fields (Content-Length)
// must already be set (prepare_payload()).
//
// The fields come from up to three places: the upstream's field lines when they passed as they
// came (RawAnswerFields), the message's own fields, and the rate-limit policies' field lines
// (RequestInfo::policyLines). A later place replaces an earlier one's fields of the same name,
// as Response::set() would have.

/// The name of a "Name: value" line.
std::string_view lineName(std::string_view line) noexcept { return line.substr(0, line.find(':')); }

/// The start line and fields (and the blank line) of `res`, appended to `out`.
void serializeHead(const Response& res, std::string& out, const RawAnswerFields* raw = nullptr,
                   const PolicyLines* policy = nullptr) {
  out += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  const unsigned status = res.result_int();
  const char digits[3] = {static_cast<char>('0' + status / 100 % 10), static_cast<char>('0' + status / 10 % 10),
                          static_cast<char>('0' + status % 10)};
  out.append(digits, 3);
  out += ' ';
  const std::string_view reason = res.reason();
  out += reason.empty() ? std::string_view{"Unknown"} : reason;
  out += "\r\n";
  const std::size_t policyCount = policy != nullptr ? policy->count : 0;
  auto byPolicy = [&](std::string_view name) {
    for (std::size_t i = 0; i < policyCount; ++i) {
      if (beast::iequals(policy->names[i], name)) return true;
    }
    return false;
  };
  const http::fields& own = res.base();
  const bool hasOwn = own.begin() != own.end();
  if (raw != nullptr) {
    if (!hasOwn && (policy == nullptr || (raw->nameLengths & policy->nameLengths) == 0)) {
      out += raw->lines;  // no name of the upstream's can be replaced: as they are, at once
    } else {
      std::string_view lines = raw->lines;
      while (!lines.empty()) {
        const std::size_t end = lines.find("\r\n") + 2;  // (every line ends with CRLF)
        const std::string_view line = lines.substr(0, end);
        const std::string_view name = lineName(line);
        bool replaced = byPolicy(name);
        for (auto f = own.begin(); !replaced && f != own.end(); ++f) replaced = beast::iequals(f->name_string(), name);
        if (!replaced) out += line;
        lines.remove_prefix(end);
      }
    }
  }
  for (const auto& f : own) {
    if (policyCount > 0 && byPolicy(f.name_string())) continue;
    appendFieldLine(out, f.name_string(), f.value());
  }
  if (policy != nullptr) out += policy->lines;
  out += "\r\n";
}

void serialize(const Response& res, std::string& out, const RawAnswerFields* raw = nullptr,
               const PolicyLines* policy = nullptr) {
  out.clear();
  serializeHead(res, out, raw, policy);
  out += res.body();
}


/// Whether to gzip `res` (of `size` body bytes) for `req`: the config's `compression` covers its
/// media type and size, never a second coding, never with `Cache-Control: no-transform`, not for
/// partial content, and the client accepts gzip. Adds `Vary: Accept-Encoding` to every answer that
/// could have been compressed, so caches keep the two forms apart.
bool shouldCompress(const config::GatewayConfig& cfg, const Request& req, Response& res, std::uint64_t size) {
  if (!cfg.compression) return false;
  const config::CompressionConfig& c = *cfg.compression;
  const unsigned status = res.result_int();
  if (status < 200 || status == 204 || status == 206 || status == 304) return false;
  if (res.count(http::field::content_encoding) > 0 && !beast::iequals(res[http::field::content_encoding], "identity"))
    return false;
  if (size < c.minSize) return false;
  const std::string type = mediaType(res[http::field::content_type]);
  if (std::find(c.types.begin(), c.types.end(), type) == c.types.end()) return false;
  const std::string_view cacheControl = res[http::field::cache_control];
  if (cacheControl.find("no-transform") != std::string_view::npos) return false;
  const std::string vary(res[http::field::vary]);
  std::string varyLower = vary;
  for (char& ch : varyLower) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  if (varyLower.find('*') == std::string::npos && varyLower.find("accept-encoding") == std::string::npos)
    res.set(http::field::vary, vary.empty() ? std::string("Accept-Encoding") : vary + ", Accept-Encoding");
  return acceptsEncoding(req[http::field::accept_encoding], "gzip");
}

/// The fields of an answer whose body is now gzip: the coding, and a strong ETag made weak (the
/// bytes differ from the uncompressed representation's).
void markCompressed(Response& res) {
  res.set(http::field::content_encoding, "gzip");
  const std::string_view etag = res[http::field::etag];
  if (!etag.empty() && !etag.starts_with("W/")) res.set(http::field::etag, "W/" + std::string(etag));
}

/// gzip of a body read whole, when shouldCompress() says so and it gains something.
void compress(const config::GatewayConfig& cfg, const Request& req, Response& res) {
  if (!shouldCompress(cfg, req, res, res.body().size())) return;
  auto zipped = gzipCompress(res.body(), cfg.compression->level);
  if (!zipped || zipped->size() >= res.body().size()) return;  // no gain: send it as it is
  res.body() = std::move(*zipped);
  markCompressed(res);
}

}  // namespace

// ---- Accepting --------------------------------------------------------------------------------

Task<void> Server::Impl::acceptLoop(Acceptor& listener, bool tls) {
  while (!stopped) {
    Worker& worker = *workers[nextWorker++ % workers.size()];
    auto [ec, socket] = co_await listener.async_accept(worker.ioc, kAwait);
    if (ec) {
      if (stopped || ec == asio::error::operation_aborted) co_return;
      // A failed accept (out of file descriptors, say) does not stop the listener; pausing keeps it
      // from spinning while the condition lasts (nginx pauses accepting too).
      SteadyTimer pause(acceptContext, std::chrono::milliseconds(50));
      co_await pause.async_wait(kAwait);
      continue;
    }
    if (openConnections.load() >= options.maxConnections) {
      // Over the cap: counted, then refused at once (counted first, so whoever sees the close
      // also sees the count).
      metrics->connectionRefused();
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    ++openConnections;
    std::shared_ptr<ServerTls> certificates;
    if (tls) {
      const std::lock_guard lock(tlsMutex);
      certificates = serverTls;
    }
    asio::co_spawn(worker.ioc, session(std::move(socket), worker, std::move(certificates)), asio::detached);
  }
}

Response Server::Impl::redirectResponse(const Request& req) const {
  // The same URL on https: the Host without its port, the TLS listener's port unless 443.
  std::string_view host = req[http::field::host];
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (host.empty()) {
    return plainResponse(req.version(), http::status::bad_request, "a redirect to https needs a Host field", true);
  }
  std::string location = "https://";
  location += host;
  if (redirectPort != 443) location += ":" + std::to_string(redirectPort);
  location += req.target();
  Response res = plainResponse(req.version(), http::status::permanent_redirect, "use https: " + location, false);
  res.set(http::field::location, location);
  return res;
}

/// Where a store: redis call's reply lands (shared with the reply's callback: a late reply is
/// dropped with the slot), and the timer the request waits on (cancelled by the reply).
struct StoreSlot {
  explicit StoreSlot(asio::io_context& ioc) : timer(ioc) {}
  SteadyTimer timer;
  std::optional<RedisReply> reply;
};

// ---- One client connection ----------------------------------------------------------------------

Task<void> Server::Impl::session(Socket socket, Worker& worker, std::shared_ptr<ServerTls> tls) {
  metrics->connectionOpened();
  {
    const std::lock_guard lock(drainMutex);
    ++liveSessions;
  }
  struct Closed {
    Impl& impl;
    ~Closed() {
      impl.metrics->connectionClosed();
      --impl.openConnections;
      const std::lock_guard lock(impl.drainMutex);
      --impl.liveSessions;
      impl.drainCv.notify_all();
    }
  } closedOnExit{*this};
  beast::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const std::string peer = ec ? std::string{} : remote.address().to_string();
  socket.set_option(tcp::no_delay(true), ec);  // answers are written whole: never wait for an ACK
  if (!tls) {
    TimedSocket stream(std::move(socket));
    co_await serve(stream, worker, peer, false);
    co_return;
  }
  // TLS: the handshake under the header timeout (a client that connects and says nothing is
  // dropped as a slow header would be), then the same session over the encrypted stream.
  beast::ssl_stream<TimedSocket> stream(std::move(socket), tls->context());
  beast::get_lowest_layer(stream).expires_after(options.headerTimeout);
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kAwait);
  if (hec) {
    metrics->tlsHandshakeFailed();
    co_return;
  }
  beast::get_lowest_layer(stream).expires_never();
  co_await serve(stream, worker, peer, true);
}

template <class Stream>
Task<void> Server::Impl::serve(Stream& stream, Worker& worker, const std::string& peer, bool secure) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  bool first = true;
  SessionState self{&lowest.socket(), true};
  std::size_t served = 0;
  worker.sessions.insert(&self);
  struct Unregister {
    Worker& w;
    SessionState* s;
    ~Unregister() { w.sessions.erase(s); }
  } unregisterOnExit{worker, &self};

  // Reads and writes run under our own deadline, not the stream's expiry: that one closes the
  // socket (on a header timeout the connection must still be able to say 408), and once set it
  // covers every later operation until set again, so only the closing steps at the end use it.
  // Moving our deadline is a store, not a timer operation (io_deadline.hpp): it moves around every
  // read and write.
  IoDeadline deadline(worker.ioc, lowest.socket(), IoDeadline::Action::kCancel);
  auto arm = [&](std::chrono::milliseconds d) { deadline.expiresAfter(d); };
  auto disarm = [&] { deadline.clear(); };
  auto timedOut = [&] { return deadline.fired(); };

  // Writes an answer and counts it (route: the matched one, kNoRouteIndex before routing).
  core::TimePoint arrival = now();
  auto arrivalWall = std::chrono::system_clock::now();
  RequestInfo info;
  const Request* current = nullptr;  // the request being answered, once its header parsed
  std::string writeBuffer;  // reused for every answer on this connection
  SessionScratch scratch;   // handle()'s buffers, reused likewise
  bool linger = false;      // the client may still be sending when we close: see the end
  // Counted when the answer is ready, before it is written (a client that has read it sees it
  // counted in /metrics).
  // Counts, logs and writes one answer; true when it was written.
  // A streamed answer (`streamed`): its head and the body's first block in `framing`; the
  // latency counted is the time to that first block.
  // In two steps: sendAnswer() counts, logs, serializes and sends what the socket takes at once
  // (a plain connection; the whole answer, usually), and writeRest() writes the rest if any. The
  // usual answer so costs no asynchronous operation (and no coroutine frame for writing it).
  enum class Sent { kAll, kPart, kFailed };
  std::size_t sentNow = 0;
  auto sendAnswer = [&](const Response& res, upstream::Framing framing, bool streamed) {
    const core::Duration took = now() - arrival;
    metrics->request(worker.index, info.generation ? hostOf(*info.generation).ids.route(info.route) : 0,
                     res.result_int(), took, info.outcomeIndex);
    if (accessLog.isOpen()) logLine(current, peer, res, info, arrivalWall, took);
    if (streamed) {
      writeBuffer.clear();
      serializeHead(res, writeBuffer, info.rawFields, info.policyLines);
      upstream::appendFramed(writeBuffer, res.body(), framing);
    } else {
      serialize(res, writeBuffer, info.rawFields, info.policyLines);
    }
    sentNow = 0;
    if constexpr (std::is_same_v<Stream, TimedSocket>) {
      beast::error_code ec;
      sentNow = stream.sendNow(writeBuffer, ec);
      if (ec) return Sent::kFailed;
    }
    return sentNow == writeBuffer.size() ? Sent::kAll : Sent::kPart;
  };
  auto writeRest = [&]() -> Task<bool> {
    arm(options.idleTimeout);
    auto [wec, n] = co_await asio::async_write(stream, asio::buffer(writeBuffer) + sentNow, kAwait);
    (void)n;
    disarm();
    co_return !wec;
  };
  auto write = [&](const Response& res, upstream::Framing framing, bool streamed) -> Task<bool> {
    const Sent sent = sendAnswer(res, framing, streamed);
    if (sent != Sent::kPart) co_return sent == Sent::kAll;
    co_return co_await writeRest();
  };
  // Writes an answer; true when the connection stays open for the next request.
  auto writeAndMaybeClose = [&](Response res) -> Task<bool> {
    co_return co_await write(res, upstream::Framing::kLength, false) && res.keep_alive();
  };

  while (!stopped && !draining) {
    self.idle = true;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.maxHeaderBytes));
    parser.body_limit(options.maxBodyBytes);

    // Waiting for a request: the idle timeout until its first byte, the header timeout for the rest.
    const bool idle = !first && buffer.size() == 0;
    arm(idle ? options.idleTimeout : options.headerTimeout);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kAwait);
    (void)hn;
    disarm();
    self.idle = false;
    first = false;
    arrival = now();
    arrivalWall = std::chrono::system_clock::now();
    info.reset();
    current = nullptr;
    if (hec) {
      if (timedOut() && (buffer.size() > 0 || !idle)) {
        co_await writeAndMaybeClose(plainResponse(11, http::status::request_timeout, "request header timeout", true));
      } else if (hec == http::error::header_limit) {
        co_await writeAndMaybeClose(
            plainResponse(11, http::status::request_header_fields_too_large, "request header too large", true));
      } else if (hec == http::error::body_limit) {  // a Content-Length above the limit
        co_await writeAndMaybeClose(plainResponse(11, http::status::payload_too_large, "request body too large", true));
      } else if (hec != http::error::end_of_stream && hec != asio::error::operation_aborted &&
                 hec != asio::error::connection_reset && hec != asio::error::eof) {
        co_await writeAndMaybeClose(plainResponse(11, http::status::bad_request, "malformed request", true));
      }
      break;
    }

    Request& head = parser.get();
    current = &head;
    // Request-smuggling defences (RFC 9112 6.3): a message with both framings, or with more than
    // one Content-Length, is rejected and the connection closed.
    // The framing and Host fields counted in one pass (each count() would search the field set).
    std::size_t cls = 0;
    std::size_t hosts = 0;
    bool te = false;
    bool expectContinue = false;
    bool expectSeen = false;
    for (const auto& f : head) {
      switch (f.name()) {
        case http::field::content_length: ++cls; break;
        case http::field::transfer_encoding: te = true; break;
        case http::field::host: ++hosts; break;
        case http::field::expect:  // the first Expect field decides
          if (!expectSeen) expectContinue = beast::iequals(f.value(), "100-continue");
          expectSeen = true;
          break;
        default: break;
      }
    }
    if (cls > 1 || (cls > 0 && te)) {
      co_await writeAndMaybeClose(plainResponse(head.version(), http::status::bad_request,
                                                "ambiguous message framing (Content-Length and Transfer-Encoding)", true));
      break;
    }
    // RFC 9112 3.2: an HTTP/1.1 request carries exactly one Host field.
    if (hosts > 1 || (hosts == 0 && head.version() >= 11)) {
      co_await writeAndMaybeClose(plainResponse(head.version(), http::status::bad_request,
                                                hosts > 1 ? "more than one Host field" : "no Host field", true));
      break;
    }
    if (te && !parser.chunked()) {
      co_await writeAndMaybeClose(plainResponse(head.version(), http::status::not_implemented,
                                                "unsupported transfer coding", true));
      break;
    }
    if (parser.content_length() && *parser.content_length() > options.maxBodyBytes) {
      linger = true;
      co_await writeAndMaybeClose(plainResponse(head.version(), http::status::payload_too_large, "request body too large", true));
      break;
    }
    if (expectContinue) {
      Response cont{http::status::continue_, head.version()};
      http::response_serializer<http::string_body> sr{cont};
      arm(options.idleTimeout);
      auto [cec, cn] = co_await http::async_write_header(stream, sr, kAwait);
      (void)cn;
      disarm();
      if (cec) break;
    }
    // The body. One that fits the body buffer is read whole before the request is handled (it can
    // be retried and goes upstream with a length). A larger one is read up to the buffer; the
    // rest stays on the connection and the first try relays it block by block (bounded memory;
    // once it flows the request cannot be retried). Reads of a body have the body timeout each.
    const unsigned version = head.version();
    auto bodyFailure = [&](const beast::error_code& bec) -> std::optional<Response> {
      if (timedOut()) return plainResponse(version, http::status::request_timeout, "request body timeout", true);
      if (bec == http::error::body_limit)
        return plainResponse(version, http::status::payload_too_large, "request body too large", true);
      if (bec == asio::error::connection_reset || bec == asio::error::eof || bec == http::error::end_of_stream)
        return std::nullopt;  // the client is gone
      return plainResponse(version, http::status::bad_request, "malformed request body", true);
    };
    std::optional<http::request_parser<http::buffer_body>> rest;
    ClientBody more;
    Request req;
    if (parser.is_done()) {
      req = parser.release();
    } else {
      const auto declared = parser.content_length();
      rest.emplace(std::move(parser));
      std::string prefix(declared ? std::min<std::uint64_t>(*declared, options.bodyBufferBytes) : options.bodyBufferBytes,
                         '\0');
      std::size_t got = 0;
      beast::error_code bec;
      while (!rest->is_done() && got < prefix.size()) {
        arm(options.bodyTimeout);
        auto [ec, n] = co_await upstream::readBodySome(stream, buffer, *rest, prefix.data() + got, prefix.size() - got);
        disarm();
        got += n;
        if (ec) {
          bec = ec;
          break;
        }
      }
      if (bec) {
        current = nullptr;
        linger = true;
        if (auto failure = bodyFailure(bec)) co_await writeAndMaybeClose(std::move(*failure));
        break;
      }
      prefix.resize(got);
      req = Request(rest->get().base());
      req.body() = std::move(prefix);
      if (rest->is_done()) {
        rest.reset();
      } else {
        if (declared) more.length = *declared;
        more.read = [&](char* data, std::size_t capacity) -> Task<std::pair<beast::error_code, std::size_t>> {
          arm(options.bodyTimeout);
          auto r = co_await upstream::readBodySome(stream, buffer, *rest, data, capacity);
          disarm();
          if (r.first) more.failure = bodyFailure(r.first);
          co_return r;
        };
        more.done = [&] { return rest->is_done(); };
      }
    }
    current = &req;
    const bool clientKeepAlive = req.keep_alive();
    Response res;
    std::unique_ptr<upstream::PendingBody> pending;  // a streamed answer's body still upstream
    if (redirectToTls && !secure) {
      res = redirectResponse(req);
      info.outcome = "redirect";
    } else {
      co_await handle(req, peer, worker, info, secure, rest ? &more : nullptr, pending, scratch, res);
    }
    if (info.tunnel && res.result() == http::status::switching_protocols) {
      // The WebSocket handshake succeeded: write the 101 as it came, then this connection is a tunnel.
      if (co_await write(res, upstream::Framing::kLength, false)) {
        self.idle = false;
        co_await relay(stream, buffer, info);
      }
      break;
    }
    ++served;
    // Draining, or the connection's request budget used up: this answer is its last; so is the
    // answer to a request whose body was not read to its end (a reject before a large upload).
    const bool bodyLeft = rest && !rest->is_done();
    linger = linger || bodyLeft;
    // Only ever turned off here: setting it on where it already is would search the fields again.
    if (!(clientKeepAlive && res.keep_alive() && !draining && served < options.maxRequestsPerConnection && !bodyLeft))
      res.keep_alive(false);
    if (!pending) {
      const Sent sent = sendAnswer(res, upstream::Framing::kLength, false);
      bool written = sent == Sent::kAll;
      if (sent == Sent::kPart) written = co_await writeRest();  // (no co_await inside || or ?:)
      if (!written || !res.keep_alive()) break;
      continue;
    }

    // A body larger than the buffer: the header and the first block now, then block by block as
    // it arrives (a slow or endless stream such as server-sent events flows as it comes). Its own
    // length when the upstream gave one, else chunked (HTTP/1.1) or the end of the connection.
    // Compressed on the way when the config covers it (the length is then unknown: chunked).
    const config::GatewayConfig& answerCfg = *info.generation->config;
    std::optional<GzipStream> gzip;
    if (shouldCompress(answerCfg, req, res, pending->parser.content_length().value_or(~std::uint64_t{0}))) {
      gzip.emplace(answerCfg.compression->level);
      if (!gzip->ok()) gzip.reset();
    }
    std::string zipped;
    if (gzip) {
      res.erase(http::field::content_length);
      markCompressed(res);
      zipped.clear();
      gzip->write(res.body(), false, zipped);
      res.body().swap(zipped);
    }
    upstream::Framing framing = upstream::Framing::kLength;
    if (gzip || !pending->parser.content_length()) {
      if (req.version() >= 11) {
        framing = upstream::Framing::kChunked;
        res.set(http::field::transfer_encoding, "chunked");
      } else {
        framing = upstream::Framing::kClose;
        res.keep_alive(false);
      }
    }
    metrics->streamed(false);
    bool complete = co_await write(res, framing, true);
    std::string block(options.bodyBufferBytes, '\0');
    std::string framed;
    while (complete && !pending->parser.is_done()) {
      pending->conn->lowest().expires_after(options.bodyTimeout);
      auto [uec, n] = co_await pending->readSome(block.data(), block.size());
      if (uec) {  // the upstream broke off: the client sees a cut body (no last chunk / short length)
        complete = false;
        metrics->streamCut();
        break;
      }
      std::string_view data(block.data(), n);
      if (gzip) {
        zipped.clear();
        if (!gzip->write(data, pending->parser.is_done(), zipped)) {
          complete = false;
          break;
        }
        data = zipped;
      }
      framed.clear();
      upstream::appendFramed(framed, data, framing);
      if (pending->parser.is_done()) framed += upstream::bodyEnd(framing);
      if (framed.empty()) continue;
      arm(options.idleTimeout);
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(framed), kAwait);
      (void)wn;
      disarm();
      if (wec) complete = false;
    }
    if (complete && pending->parser.keep_alive() && pending->buffer.size() == 0) {
      worker.pool->give(pending->poolKey, std::move(pending->conn));
    } else {
      beast::error_code ignored;
      pending->conn->lowest().socket().close(ignored);
    }
    pending.reset();
    if (!complete || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  if constexpr (!std::is_same_v<Stream, TimedSocket>) {
    if (lowest.socket().is_open()) {  // close_notify, briefly: a client gone away is not waited for
      lowest.expires_after(std::chrono::seconds(1));
      co_await stream.async_shutdown(kAwait);
    }
  }
  lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
  // Lingering close (as nginx's lingering_close): a client still sending (a body we did not read,
  // after a 413 or a reject) would get a reset for its unread bytes, and a reset can destroy our
  // answer in its receive buffer before it reads it. So after our FIN, its bytes are read and
  // dropped until it closes, for at most lingerTimeout and lingerBytes.
  if (lowest.socket().is_open() && (linger || lowest.socket().available(ignored) > 0)) {
    lowest.expires_after(options.lingerTimeout);
    std::array<char, 4096> sink{};
    std::size_t dropped = 0;
    while (dropped < options.lingerBytes) {
      auto [lec, n] = co_await lowest.async_read_some(asio::buffer(sink), kAwait);
      if (lec) break;
      dropped += n;
    }
  }
  lowest.socket().close(ignored);
}

// ---- One request through the flow ---------------------------------------------------------------

Task<void> Server::Impl::handle(Request& req, const std::string& peer, Worker& worker, RequestInfo& info,
                                bool secure, ClientBody* more, std::unique_ptr<upstream::PendingBody>& pending,
                                SessionScratch& scratch, Response& out) {
  // The core's view of the request: fields as received, path and query split from the target.
  // One pass over the fields gives the core's view and the few fields the proxy reads itself (the
  // first of each, as req[name] would; a lookup by name searches Beast's field set every time).
  std::vector<core::Header>& headers = scratch.headers;
  headers.clear();
  struct First {
    std::string_view value;
    bool present = false;
    void see(std::string_view v) {
      if (!present) value = v;
      present = true;
    }
  } hostField, connectionField, forwardedForField, requestIdField, traceparentField;
  bool upgradeField = false;
  for (const auto& f : req) {
    headers.push_back(core::Header{f.name_string(), f.value()});
    switch (f.name()) {
      case http::field::host: hostField.see(f.value()); break;
      case http::field::connection: connectionField.see(f.value()); break;
      case http::field::upgrade: upgradeField = true; break;
      case http::field::unknown: {
        const std::string_view n = f.name_string();
        if (n.size() == 15 && beast::iequals(n, "x-forwarded-for")) forwardedForField.see(f.value());
        else if (n.size() == 12 && beast::iequals(n, "x-request-id")) requestIdField.see(f.value());
        else if (n.size() == 11 && beast::iequals(n, "traceparent")) traceparentField.see(f.value());
        break;
      }
      default: break;
    }
  }
  core::RequestView view;
  view.method = req.method_string();
  splitTarget(req.target(), view.path, view.query);
  view.host = hostField.value;
  view.headers = headers;
  view.clientAddress = peer;

  Ticket ticket;
  SessionHooks hooks(
      *metrics, worker.index, [this](std::uint32_t service, core::TimePoint at) { requestWake(service, at); }, &ticket,
      &info.decisions);
  // The proxy's timeline reads Unix time (steadyToTimeline), which JWT exp/nbf/iat need.
  flow::AccessState& access = scratch.access;
  access.unixNow = now();
  flow::Step step = gateway->start(ticket, view, access.unixNow, hooks, access);
  const flow::FlowRequest& fr = ticket.request;
  const GenerationHost& host = hostOf(*ticket.generation);
  info.generation = ticket.generation;
  info.route = fr.route;
  const std::string upstreamPath(step.upstreamPath);

  // The route's shaping policies and their template context ($(consumer), $(jwt.sub), $(uuid)...).
  const config::RouteRuntime* route =
      fr.route != flow::kNoRouteIndex ? &ticket.generation->runtime->routes[fr.route] : nullptr;
  std::array<char, 36> uuid{};
  core::shaping::TemplateContext templates;
  if (route != nullptr) {
    templates.request = access.view(view);
    templates.route = ticket.generation->config->routes[fr.route].name();
    templates.service = ticket.generation->config->services[fr.service].name;
    if ((route->requestHeaders && route->requestHeaders->usesUuid()) ||
        (route->responseHeaders && route->responseHeaders->usesUuid())) {
      uuid = core::shaping::formatUuidV4(worker.ids.next(), worker.ids.next());
      templates.uuid = std::string_view(uuid.data(), uuid.size());
    }
  }
  // The answer's fields as the route's response_headers and cors policies want them, whoever
  // answered (the upstream, a rate limit, authentication...).
  const bool corsActual = access.cors && access.cors->kind == core::shaping::CorsRequestKind::kActual;
  // Whether those policies edit this answer's fields: then they get them as a field set, the
  // rate-limit fields included (finish), and no upstream field passes as a line (rawAnswer).
  const bool policiesEditFields = route != nullptr && route->editsAnswerFields(corsActual);
  auto shapeResponse = [&](Response& res) {
    if (!policiesEditFields) return;
    core::HeaderList& fields = scratch.fields;
    fields.clear();
    for (const auto& f : res) fields.push_back(core::HeaderField{std::string(f.name_string()), std::string(f.value())});
    if (route->responseHeaders) (void)route->responseHeaders->apply(fields, templates);
    if (corsActual) core::shaping::applyCors(*access.cors, fields);
    std::vector<std::string> names;
    for (const auto& f : res) names.emplace_back(f.name_string());
    for (const auto& n : names) res.erase(n);
    for (const auto& f : fields) res.insert(f.name, f.value);
  };

  // response_projection: a 2xx JSON answer read whole, before compression (json_projection.hpp's
  // host contract); anything the projection cannot read goes out unchanged.
  const auto projectable = [&](const Response& res) {
    return route != nullptr && route->projection && res.result_int() >= 200 && res.result_int() <= 299 &&
           isJsonMediaType(res[http::field::content_type]) && res.count(http::field::content_encoding) == 0;
  };
  auto project = [&](Response& res) {
    if (!projectable(res)) return;
    std::string projected;
    const core::shaping::ProjectionResult pr = route->projection->apply(res.body(), projected);
    if (pr.status == core::shaping::ProjectionStatus::kApplied) res.body().swap(projected);
  };

  // The response cache: what X-Cache-Status says ("Stale" when an expired entry replaced a
  // failure; otherwise the lookup's Hit / Miss / Bypass), and answers made from an entry.
  const char* cacheStatus = nullptr;
  // An answer made here with its whole body (from the cache, or an aggregate's): persistent,
  // framed with the body's length; to a HEAD, that length a GET would have had and no body.
  auto frameWhole = [&](Response& res) {
    res.keep_alive(true);
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();
  };
  auto fromCache = [&](const core::cache::CachedResponse& entry, core::Duration age, bool notModified) {
    Response res{static_cast<http::status>(notModified ? 304 : entry.status), req.version()};
    for (const auto& f : entry.headers) res.insert(f.name, f.value);
    res.set(http::field::age, core::cache::ResponseCache::ageHeaderValue(age));
    if (notModified) {
      res.keep_alive(true);
      res.erase(http::field::content_length);
      res.erase(http::field::transfer_encoding);
      return res;
    }
    res.body() = *entry.body;
    if (req.method() != http::verb::head) compress(*ticket.generation->config, req, res);
    frameWhole(res);
    return res;
  };

  // Makes `res` the answer (`out`; no move when it is `out` already, as the upstream's answer is)
  // and completes it: the policies' fields, the access log's facts.
  auto finish = [&](Response&& answer) {
    if (&answer != &out) out = std::move(answer);
    Response& res = out;
    // The rate-limit fields: into the message where response_headers or CORS may read or edit them,
    // else as lines written after its fields (RequestInfo::policyLines).
    if (policiesEditFields) {
      struct Set final : core::ratelimit::HeaderSink {
        Response& r;
        explicit Set(Response& m) : r(m) {}
        void field(std::string_view name, std::string_view value) override { r.set(name, value); }
      } sink(res);
      hooks.visitFields(scratch.rateLimitFields, sink);
    } else {
      struct Lines final : core::ratelimit::HeaderSink {
        PolicyLines& out;
        explicit Lines(PolicyLines& o) : out(o) {}
        void field(std::string_view name, std::string_view value) override {
          appendFieldLine(out.lines, name, value);
          if (out.count < out.names.size()) out.names[out.count++] = name;  // (a static literal)
          out.nameLengths |= std::uint64_t{1} << (name.size() % 64);
        }
      } sink(scratch.policyLines);
      scratch.policyLines.clear();
      hooks.visitFields(scratch.rateLimitFields, sink);
      if (scratch.policyLines.count > 0) info.policyLines = &scratch.policyLines;
    }
    if (route != nullptr && access.cache) {
      const char* status = cacheStatus != nullptr ? cacheStatus : core::cache::toString(access.cache->status);
      res.set(core::cache::kCacheStatusHeader, status);
      metrics->cacheLookup(worker.index, host.ids.route(fr.route), status);
    }
    shapeResponse(res);
    if (route != nullptr) {
      const std::uint32_t routeId = host.ids.route(fr.route);
      if (access.cors && access.cors->kind == core::shaping::CorsRequestKind::kPreflight)
        metrics->access(worker.index, routeId, "cors", core::shaping::toString(access.cors->reason));
      if (access.jwtReason) metrics->access(worker.index, routeId, "jwt", core::auth::toString(*access.jwtReason));
      if (access.keyReason) metrics->access(worker.index, routeId, "key_auth", core::auth::toString(*access.keyReason));
      if (access.aclReason) metrics->access(worker.index, routeId, "acl", core::auth::toString(*access.aclReason));
      info.consumer.assign(access.consumerId);
      if (access.refusedBy != flow::AccessPolicy::kNone) {
        info.accessPolicy = flow::toString(access.refusedBy);
        info.accessReason = access.reason;
      }
    }
    info.service = fr.service;
    info.tries = fr.tries;
    info.target = fr.tries > 0 ? fr.target : flow::kNoTargetIndex;
    info.outcome = flow::toString(step.outcome);
    info.outcomeIndex = static_cast<int>(step.outcome);
  };

  const bool websocket = upgradeField && beast::websocket::is_upgrade(req);
  // The upstream request's bytes up to (not including) its Host field, built once; each try adds
  // its target's Host, the framing and the body. Built as text: no message object, a few appends.
  std::string& head = scratch.head;
  head.clear();
  // Client fields are forwarded as they came unless a policy of the route edits them (identity
  // headers, hidden credentials, request_headers): then they go through a HeaderList, the gateway's
  // own fields (X-Forwarded-*, X-Request-ID, traceparent) included, so an edit sees them all.
  const bool shapeRequest =
      route != nullptr && (route->identity != nullptr || route->requestHeaders || !access.hide.empty());
  std::string_view query = view.query;
  if (!access.hide.empty()) {
    std::vector<std::string_view> names;
    for (const auto& h : access.hide) {
      if (h.location == core::auth::KeyLocation::kQuery) names.push_back(h.name);
    }
    if (!names.empty()) {
      scratch.query = core::auth::removeQueryParameters(view.query, names);
      query = scratch.query;
    }
  }
  auto build = [&] {
    head += req.method_string();
    head += ' ';
    head += upstreamPath;
    if (!query.empty()) {
      head += '?';
      head += query;
    }
    head += " HTTP/1.1\r\n";
    if (websocket) head += "Connection: Upgrade\r\nUpgrade: websocket\r\n";  // hop-by-hop, but the handshake needs them
    core::HeaderList& fields = scratch.fields;
    fields.clear();
    auto emit = [&](std::string_view name, std::string_view value) {
      if (shapeRequest) {
        fields.push_back(core::HeaderField{std::string(name), std::string(value)});
        return;
      }
      appendFieldLine(head, name, value);
    };
    const ConnectionOptions connectionOptions(connectionField.value);
    for (const auto& f : req) {
      const std::string_view name = f.name_string();
      // Expect: the body was read whole (and 100-continue answered) here; an upstream told to
      // expect would answer 100 first, which is not the answer to relay.
      if (isHopByHop(name) || f.name() == http::field::host || f.name() == http::field::content_length ||
          f.name() == http::field::expect)
        continue;
      if (connectionOptions.lists(name)) continue;
      if (beast::iequals(name, "x-forwarded-for") || beast::iequals(name, "x-forwarded-proto") ||
          beast::iequals(name, "x-forwarded-host") || beast::iequals(name, "x-request-id") ||
          beast::iequals(name, "traceparent"))
        continue;
      emit(name, f.value());
    }
    if (shapeRequest) {
      // Identity: the client's copies of the identity fields go first, always; then the gateway's.
      if (route->identity != nullptr) (void)route->identity->apply(access.identity(), fields);
      for (const auto& h : access.hide) {
        if (h.location == core::auth::KeyLocation::kHeader) core::removeFields(fields, h.name);
      }
    }
    emit("X-Forwarded-For", appendForwardedFor(forwardedForField.value, peer));
    emit("X-Forwarded-Proto", secure ? "https" : "http");
    if (hostField.present) emit("X-Forwarded-Host", hostField.value);
    const std::string_view clientId = requestIdField.value;
    auto draw = [&worker] { return worker.ids.next(); };
    if (acceptableRequestId(clientId)) {
      info.requestId.assign(clientId);
    } else {
      info.requestId.clear();
      appendRandomHex(info.requestId, 16, draw);
    }
    emit("X-Request-ID", info.requestId);
    std::string& trace = scratch.value;
    if (auto parsed = parseTraceParent(traceparentField.value)) {
      parsed->parentId = randomHex(8, draw);  // this hop's span
      trace = formatTraceParent(*parsed);
    } else {  // a new trace: 00-<trace id>-<this hop's span>-00
      trace.assign("00-");
      appendRandomHex(trace, 16, draw);
      trace += '-';
      appendRandomHex(trace, 8, draw);
      trace += "-00";
    }
    emit("traceparent", trace);
    if (shapeRequest) {
      if (route->requestHeaders) (void)route->requestHeaders->apply(fields, templates);
      for (const auto& f : fields) appendFieldLine(head, f.name, f.value);
    }
  };
  // A body read whole is framed with Content-Length (a chunked one too); so is an empty one for the
  // methods that normally carry one. A streamed body keeps its framing: the client's length, or
  // chunked.
  const bool lengthLine = !req.body().empty() || req.method() == http::verb::post || req.method() == http::verb::put ||
                          req.method() == http::verb::patch || more != nullptr;
  const upstream::Framing requestFraming =
      more != nullptr && !more->length ? upstream::Framing::kChunked : upstream::Framing::kLength;
  std::string& wire = scratch.wire;

  // An upstream answer's fields pass as they came (lines, not a field set) when no policy of the
  // route reads or edits this answer's fields or body.
  // (Not for an upgrade: its try reads the answer into the message. The flag is this request's.)
  scratch.answerFields.used = false;
  const bool fieldsAsLines = route != nullptr && !policiesEditFields && !route->readsAnswerBodies() &&
                             !ticket.generation->config->compression && !websocket;
  RawAnswerFields* const rawAnswer = fieldsAsLines ? &scratch.answerFields : nullptr;
  // The answer of a kAnswer step, made into `out` (no suspension: a plain call, so that its
  // messages and values are not kept in the coroutine's frame for the whole request).
  auto answer = [&]() -> void {
    if (access.cache && step.outcome != flow::Outcome::kCacheHit) {
      // stale-if-error: an expired entry instead of a failed upstream (nginx proxy_cache_use_stale).
      if (auto stale = gateway->cacheStale(ticket, *access.cache, step, now())) {
        pending.reset();
        cacheStatus = "Stale";
        step.outcome = flow::Outcome::kCacheStale;
        step.status = stale->response->status;
        return finish(fromCache(*stale->response, stale->age, false));
      }
    }
    if (step.outcome != flow::Outcome::kUpstream) pending.reset();  // not the answer that had it
    switch (step.outcome) {
      case flow::Outcome::kUpstream: {
        Response& res = out;  // as the try left it
        if (res.result() == http::status::switching_protocols && info.tunnel) {
          return finish(std::move(res));  // as the upstream sent it: Upgrade and Connection included
        }
        if (rawAnswer != nullptr && rawAnswer->used) {
          // Its fields stayed lines (hop-by-hop ones dropped) and its body was read whole with
          // its length: nothing on this route reads or changes them (rawAnswer).
          if (res.version() < 11) res.keep_alive(true);
          info.rawFields = rawAnswer;
          return finish(std::move(res));
        }
        // Hop-by-hop fields of the upstream's answer stay on its connection: the fixed ones
        // and those its Connection field lists (a copy: Connection itself goes too).
        const std::string connection(res[http::field::connection]);
        const ConnectionOptions connectionOptions(connection);
        for (auto it = res.begin(); it != res.end();) {
          const std::string_view name = it->name_string();
          if (isHopByHop(name) || connectionOptions.lists(name)) {
            it = res.erase(it);
          } else {
            ++it;
          }
        }
        // Without a Connection field an HTTP/1.1 answer is persistent already; 1.0 needs it said.
        if (res.version() < 11) res.keep_alive(true);
        // A body read whole is framed with a length (HEAD keeps the upstream's, which
        // describes the body a GET would have had); a streamed one is framed by the session.
        if (req.method() != http::verb::head && !pending) {
          const std::size_t bodyBytes = res.body().size();
          project(res);
          // The cache keeps what the route answers (projected, not yet compressed).
          if (access.cache && (access.cache->mayStore || access.cache->invalidates)) {
            core::cache::UpstreamResponse up;
            up.status = static_cast<std::uint16_t>(res.result_int());
            for (const auto& f : res) up.headers.push_back(core::HeaderField{std::string(f.name_string()), std::string(f.value())});
            up.body = std::make_shared<const std::string>(res.body());
            (void)gateway->cacheStore(ticket, *access.cache, access.view(view), std::move(up), fr.tryStart, now());
          }
          compress(*ticket.generation->config, req, res);
          // The upstream's Content-Length still holds for a body read whole that kept its
          // size (nothing projected or compressed it); otherwise, or when the upstream
          // framed it otherwise, the length is set from the body. (prepare_payload rewrites
          // the framing fields whatever they say: a search, an erase and a new field.)
          if (res.body().size() != bodyBytes || !res.has_content_length()) res.prepare_payload();
        }
        return finish(std::move(res));
      }
      case flow::Outcome::kRateLimited:
        if (step.storeFailed)
          return finish(plainResponse(req.version(), static_cast<http::status>(step.status),
                                         "rate limit store unavailable", false));
        return finish(plainResponse(req.version(), static_cast<http::status>(step.status), "rate limit exceeded", false));
      case flow::Outcome::kNotFound:
        return finish(plainResponse(req.version(), http::status::not_found, "no route matched", false));
      case flow::Outcome::kBadRequest:
        return finish(plainResponse(req.version(), http::status::bad_request, "invalid request path", false));
      case flow::Outcome::kBreakerOpen: {
        Response res{static_cast<http::status>(step.status), req.version()};
        res.set(http::field::server, "gatelab");
        if (step.fallback != nullptr) {
          for (const auto& h : step.fallback->headers) res.set(h.name, h.value);
          res.body() = step.fallback->body;
        }
        res.prepare_payload();
        return finish(std::move(res));
      }
      case flow::Outcome::kNoTarget:
        return finish(plainResponse(req.version(), http::status::service_unavailable, "no healthy upstream", false));
      case flow::Outcome::kConnectFailure:
      case flow::Outcome::kReset:
        return finish(plainResponse(req.version(), http::status::bad_gateway, "upstream unreachable", false));
      case flow::Outcome::kTimeout:
        return finish(plainResponse(req.version(), http::status::gateway_timeout, "upstream timed out", false));
      case flow::Outcome::kUnauthorized:
      case flow::Outcome::kForbidden: {
        const bool unauthorized = step.outcome == flow::Outcome::kUnauthorized;
        std::string body = unauthorized ? "unauthorized (" : "forbidden (";
        body += access.reason;
        body += ')';
        Response res = plainResponse(req.version(), static_cast<http::status>(step.status), body, false);
        for (const auto& c : access.challenges) res.insert(http::field::www_authenticate, c);
        return finish(std::move(res));
      }
      case flow::Outcome::kCacheHit:
        return finish(fromCache(*access.cache->response, access.cache->age, access.cache->notModified));
      case flow::Outcome::kCacheStale:  // made above, never by the flow
        break;
      case flow::Outcome::kCacheUnavailable:
        return finish(plainResponse(req.version(), http::status::gateway_timeout,
                                       "not in the cache (the request said only-if-cached)", false));
      case flow::Outcome::kPreflight: {
        Response res{static_cast<http::status>(step.status), req.version()};
        res.set(http::field::server, "gatelab");
        core::HeaderList& fields = scratch.fields;
        fields.clear();
        core::shaping::applyCors(*access.cors, fields);
        for (const auto& f : fields) res.insert(f.name, f.value);
        res.keep_alive(true);
        res.prepare_payload();
        return finish(std::move(res));
      }
    }
    return finish(plainResponse(req.version(), http::status::internal_server_error, "", true));
    };
  // A store: redis policy's call: sent (askStore), then its reply or the deadline (redis.timeout),
  // whichever comes first, turned into the next step (storeAnswered). A late reply lands in the
  // shared slot and is dropped with it.
  auto storePolicy = [&]() -> const core::ratelimit::RateLimitPolicy& {
    return *ticket.generation->runtime->routes[fr.route].rateLimits[step.storePolicy];
  };
  auto askStore = [&](const std::shared_ptr<StoreSlot>& slot) {
    const config::GatewayConfig& cfg = *ticket.generation->config;
    const core::TimePoint asked = now();
    core::ratelimit::redis::buildCall(storePolicy().spec(), cfg.redis->keyPrefix, fr.storeKey, asked, worker.redisCall);
    slot->timer.expires_after(cfg.redis->timeout);
    worker.redisFor(*cfg.redis).evalScript(worker.redisCall, [keep = slot](RedisReply&& r) {
      keep->reply = std::move(r);
      keep->timer.cancel();
    });
    return asked;
  };
  auto storeAnswered = [&](StoreSlot& slot, core::TimePoint asked) {
    std::optional<core::ratelimit::PolicyDecision> decision;
    ProxyMetrics::StoreResult result = ProxyMetrics::StoreResult::kOk;
    if (!slot.reply) {
      result = ProxyMetrics::StoreResult::kTimeout;
    } else if (slot.reply->status == RedisReply::Status::kUnavailable) {
      result = ProxyMetrics::StoreResult::kUnavailable;
    } else if (slot.reply->status == RedisReply::Status::kError) {
      result = ProxyMetrics::StoreResult::kError;
    } else {
      std::string error;
      decision = core::ratelimit::redis::parseReply(storePolicy().spec(), fr.storeKey, slot.reply->values(), error);
      if (!decision) result = ProxyMetrics::StoreResult::kError;
    }
    if (step.storePolicy < host.ids.policies[fr.route].size())
      metrics->storeCall(worker.index, host.ids.policies[fr.route][step.storePolicy], result);
    if (!decision) info.storeFailure = ProxyMetrics::toString(result);
    step = gateway->storeAnswered(ticket, view, decision ? &*decision : nullptr, asked, hooks, access);
  };
  // An aggregate route: its parts are called in parallel (one coroutine each, on this thread),
  // each with the forwarded fields of this request (fanOut; null when it answered at once); their
  // bodies are merged into the answer (fanIn).
  auto fanOut = [&]() -> std::shared_ptr<FanOut> {
    const core::shaping::AggregateSpec& spec = *route->aggregate;
    if (websocket) {
      gateway->abandon(ticket);
      finish(plainResponse(req.version(), http::status::bad_request, "an aggregate route does not upgrade to WebSocket",
                           false));
      return nullptr;
    }
    if (head.empty()) build();
    auto fan = std::make_shared<FanOut>(worker.ioc);
    fan->parent = ticket;
    fan->fields = head.substr(head.find("\r\n") + 2);
    fan->query.assign(query);
    fan->parts.resize(spec.parts.size());
    fan->left = spec.parts.size();
    fan->done.expires_at(SteadyClock::time_point::max());
    for (std::uint32_t i = 0; i < spec.parts.size(); ++i) asio::co_spawn(worker.ioc, runPart(fan, worker, i), asio::detached);
    return fan;
  };
  auto fanIn = [&](FanOut& fan) {
    const core::shaping::AggregateSpec& spec = *route->aggregate;
    std::array<bool, core::shaping::kMaxAggregateParts> ok{};
    std::array<std::string_view, core::shaping::kMaxAggregateParts> bodies{};
    for (std::size_t i = 0; i < fan.parts.size(); ++i) {
      ok[i] = core::shaping::partSucceeded(fan.parts[i].status, fan.parts[i].body);
      bodies[i] = fan.parts[i].body;
    }
    const std::span<const bool> oks(ok.data(), fan.parts.size());
    step = gateway->fanInDone(ticket, oks);
    const core::shaping::AggregateVerdict verdict = core::shaping::decide(spec, oks);
    Response res{static_cast<http::status>(step.status), req.version()};
    res.set(http::field::server, "gatelab");
    res.set(http::field::content_type, "application/json");
    if (verdict.status == core::shaping::kAggregateFailedStatus) {
      core::shaping::failureBody(spec, verdict, res.body());
    } else {
      core::shaping::mergeBodies(spec, std::span<const std::string_view>(bodies.data(), fan.parts.size()), oks, res.body());
      project(res);
      if (req.method() != http::verb::head) compress(*ticket.generation->config, req, res);
    }
    frameWhole(res);
    finish(std::move(res));
    info.tries = fan.tries;
  };
  // One try's bytes: the request head built once, this target's Host, the framing and the body.
  auto makeWire = [&](const TargetAddress& target) {
    if (head.empty()) build();
    wire.assign(head);
    wire += "Host: ";
    wire += target.hostHeader;
    if (requestFraming == upstream::Framing::kChunked) {
      wire += "\r\nTransfer-Encoding: chunked";
    } else if (lengthLine) {
      wire += "\r\nContent-Length: ";
      core::appendDecimal(wire, more != nullptr ? *more->length : req.body().size());
    }
    wire += "\r\n\r\n";
    upstream::appendFramed(wire, req.body(), requestFraming);
  };
  // The client's body broke off (timeout, over the limit, malformed, gone): its answer, and the
  // try is not held against the target.
  auto clientBodyFailed = [&] {
    gateway->abandon(ticket);
    pending.reset();
    Response res = more->failure ? std::move(*more->failure) : plainResponse(req.version(), http::status::bad_request, "", true);
    res.keep_alive(false);
    finish(std::move(res));
    info.outcome = "client_body_error";
    info.outcomeIndex = ProxyMetrics::kRefused;
  };
  std::optional<SteadyTimer> wait;  // made on the first delay only (most requests have none)
  while (true) {
    switch (step.kind) {
      case flow::StepKind::kAnswer:
        answer();
        co_return;
      case flow::StepKind::kAskStore: {
        auto slot = std::make_shared<StoreSlot>(worker.ioc);
        const core::TimePoint asked = askStore(slot);
        co_await slot->timer.async_wait(kAwait);
        storeAnswered(*slot, asked);
        break;
      }
      case flow::StepKind::kWait: {
        if (!wait) wait.emplace(worker.ioc);
        wait->expires_at(toSteady(step.until));
        co_await wait->async_wait(kAwait);
        step = gateway->resume(ticket, now(), hooks);
        break;
      }
      case flow::StepKind::kFanOut: {
        const std::shared_ptr<FanOut> fan = fanOut();
        if (!fan) co_return;  // answered
        if (fan->left > 0) co_await fan->done.async_wait(kAwait);  // the parts start once this waits
        fanIn(*fan);
        co_return;
      }
      case flow::StepKind::kSendTry: {
        const TargetAddress& target = host.serviceTargets[fr.service][step.target];
        makeWire(target);
        out = Response{};
        pending.reset();  // a streamed answer of an earlier try that is not the answer (closed)
        const bool retry = fr.retriesDone > 0;
        if (websocket && openTunnels.load() >= options.maxTunnels) {
          gateway->abandon(ticket);
          info.outcome = "refused";
          co_return finish(plainResponse(req.version(), http::status::service_unavailable,
                                         "too many open WebSocket tunnels", false));
        }
        core::resilience::CallOutcome outcome;  // (no co_await inside ?:, which GCC 12 miscompiles)
        if (websocket) {
          outcome = co_await upgradeTry(worker, target, wire, step.deadline, out, info);
        } else {
          outcome = co_await sendTry(worker, target, wire, req.method() == http::verb::head, step.deadline, out, more,
                                     requestFraming, pending, rawAnswer);
        }
        if (more != nullptr && more->failed) {
          // The client's body broke off (timeout, over the limit, malformed, gone): its answer,
          // and the try is not held against the target.
          clientBodyFailed();
          co_return;
        }
        if (more != nullptr && more->started) ticket.request.replayable = false;
        // An answer larger than the body buffer that the cache would store (up to max_entry_size)
        // or the projection rewrite (up to its body limit) is read whole, once, up to the larger
        // of the two; beyond it, it streams on unstored and unprojected.
        if (pending && outcome.kind == core::resilience::OutcomeKind::kResponse && outcome.status >= 200 &&
            outcome.status <= 299) {
          std::size_t cap = 0;
          if (access.cache && access.cache->mayStore) cap = route->cache->spec().maxEntryBytes;
          if (projectable(out)) cap = std::max(cap, route->projection->spec().maxBodyBytes);
          if (cap > 0 && co_await readRest(*pending, out.body(), cap)) pending.reset();
        }
        info.upstreamStatus = outcome.kind == core::resilience::OutcomeKind::kResponse ? outcome.status : 0;
        metrics->upstreamTry(worker.index, host.ids.services[fr.service], host.ids.targets[fr.service][step.target],
                             outcome.kind, retry, outcome.isServerError());
        step = gateway->tryDone(ticket, outcome, now(), hooks);
        break;
      }
    }
  }
}

Task<void> Server::Impl::runPart(std::shared_ptr<FanOut> fan, Worker& worker, std::uint32_t index) {
  Ticket ticket;
  SessionHooks hooks(
      *metrics, worker.index, [this](std::uint32_t service, core::TimePoint at) { requestWake(service, at); }, &ticket);
  const Generation& generation = *fan->parent.generation;
  const GenerationHost& host = hostOf(generation);
  const core::shaping::AggregatePart& part = generation.runtime->routes[fan->parent.request.route].aggregate->parts[index];
  FanOut::Part& out = fan->parts[index];
  flow::Step step = gateway->startPart(ticket, fan->parent, index, now(), hooks);
  std::string wire;
  Response last;
  std::unique_ptr<upstream::PendingBody> pending;
  std::optional<SteadyTimer> wait;  // made on the first delay only
  bool answered = false;
  while (!answered) {
    switch (step.kind) {
      case flow::StepKind::kAnswer:
        out.status = step.status;
        if (step.outcome == flow::Outcome::kUpstream) out.body = std::move(last.body());
        answered = true;
        break;
      case flow::StepKind::kWait:
        if (!wait) wait.emplace(worker.ioc);
        wait->expires_at(toSteady(step.until));
        co_await wait->async_wait(kAwait);
        step = gateway->resume(ticket, now(), hooks);
        break;
      case flow::StepKind::kSendTry: {
        const TargetAddress& target = host.serviceTargets[ticket.request.service][step.target];
        wire.assign("GET ");
        wire += part.path;
        if (part.forwardQuery && !fan->query.empty()) {
          wire += '?';
          wire += fan->query;
        }
        wire += " HTTP/1.1\r\n";
        wire += fan->fields;
        wire += "Host: ";
        wire += target.hostHeader;
        wire += "\r\n\r\n";
        last = Response{};
        pending.reset();
        core::resilience::CallOutcome outcome =
            co_await sendTry(worker, target, wire, false, step.deadline, last, nullptr, upstream::Framing::kLength, pending);
        if (pending) {
          // A body larger than the buffer: read the rest, up to the part limit (a larger one fails
          // the part: it is cut, so not JSON).
          if (!co_await readRest(*pending, last.body(), core::shaping::kMaxPartBodyBytes)) last.body().clear();
          pending.reset();
        }
        metrics->upstreamTry(worker.index, host.ids.services[ticket.request.service],
                             host.ids.targets[ticket.request.service][step.target], outcome.kind,
                             ticket.request.retriesDone > 0, outcome.isServerError());
        step = gateway->tryDone(ticket, outcome, now(), hooks);
        break;
      }
      case flow::StepKind::kAskStore:
      case flow::StepKind::kFanOut:
        answered = true;  // a part runs no policies and never fans out
        break;
    }
  }
  fan->tries += ticket.request.tries;
  if (--fan->left == 0) fan->done.cancel();
}

Task<bool> Server::Impl::readRest(upstream::PendingBody& pending, std::string& body, std::size_t cap) {
  std::string block(options.bodyBufferBytes, '\0');
  while (!pending.parser.is_done() && body.size() <= cap) {
    pending.conn->lowest().expires_after(options.bodyTimeout);
    auto [ec, n] = co_await pending.readSome(block.data(), block.size());
    if (ec) co_return false;
    body.append(block.data(), n);
  }
  co_return pending.parser.is_done() && body.size() <= cap;
}

// ---- Access log ----------------------------------------------------------------------------------

void Server::Impl::logLine(const Request* req, const std::string& peer, const Response& res, const RequestInfo& info,
                           std::chrono::system_clock::time_point arrivalWall, core::Duration took) {
  std::string line;
  line.reserve(384);
  const auto str = [&line](const char* key, std::string_view value) {
    line += ",\"";
    line += key;
    line += "\":\"";
    appendJsonEscaped(line, value);
    line += '"';
  };
  // RFC 3339 UTC with microseconds: what the trace reader parses as `time`.
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(arrivalWall.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[48];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(micros % 1'000'000));
  line += "{\"time\":\"";
  line += stamp;
  line += '"';
  str("client", peer);
  if (req != nullptr) {
    str("method", req->method_string());
    str("url", req->target());
    str("host", (*req)[http::field::host]);
    str("protocol", req->version() == 10 ? "HTTP/1.0" : "HTTP/1.1");
    if (req->count(http::field::user_agent) > 0) str("user_agent", (*req)[http::field::user_agent]);
    if (req->count(http::field::referer) > 0) str("referer", (*req)[http::field::referer]);
  }
  line += ",\"status\":";
  core::appendDecimal(line, res.result_int());
  line += ",\"bytes\":";
  core::appendDecimal(line, res.body().size());
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.6f", std::chrono::duration<double>(took).count());
  line += ",\"request_time\":";
  line += seconds;
  if (info.generation) {
    const auto& cfg = *info.generation->config;
    const auto& targets = hostOf(*info.generation).serviceTargets;
    str("route", info.route < cfg.routes.size() ? std::string_view{cfg.routes[info.route].name()} : std::string_view{});
    str("service", info.service < cfg.services.size() ? std::string_view{cfg.services[info.service].name} : std::string_view{});
    if (info.target != flow::kNoTargetIndex && info.service < targets.size() && info.target < targets[info.service].size())
      str("upstream", targets[info.service][info.target].key);
  } else {
    str("route", "");
    str("service", "");
  }
  if (info.upstreamStatus != 0) {
    line += ",\"upstream_status\":";
    core::appendDecimal(line, info.upstreamStatus);
  }
  line += ",\"tries\":";
  core::appendDecimal(line, info.tries);
  str("outcome", info.outcome != nullptr ? info.outcome : (res.result_int() >= 400 ? "refused" : "upstream"));
  if (!info.requestId.empty()) str("request_id", info.requestId);
  if (info.storeFailure != nullptr) str("store_error", info.storeFailure);
  if (!info.consumer.empty()) str("user", info.consumer);  // the trace field a replay reads as the consumer
  if (info.accessPolicy != nullptr) {
    str("access_policy", info.accessPolicy);
    str("access_reason", info.accessReason);
  }
  line += ",\"rate_limit\":[";
  for (std::size_t i = 0; i < info.decisions.size(); ++i) {
    const auto& d = info.decisions[i];
    line += i == 0 ? "{\"policy\":\"" : ",{\"policy\":\"";
    appendJsonEscaped(line, d.policy != nullptr ? std::string_view{*d.policy} : std::string_view{});
    line += "\",\"result\":\"";
    line += d.result == core::ratelimit::Verdict::kAllow   ? "allowed"
            : d.result == core::ratelimit::Verdict::kDelay ? "delayed"
                                                           : "rejected";
    line += d.shadow ? "\",\"shadow\":true}" : "\",\"shadow\":false}";
  }
  line += "]}";
  accessLog.add(line);
}

// ---- WebSocket tunnels ---------------------------------------------------------------------------

Task<core::resilience::CallOutcome> Server::Impl::upgradeTry(Worker& worker, const TargetAddress& target,
                                                                       const std::string& wire, core::TimePoint deadline,
                                                                       Response& out, RequestInfo& info) {
  // The handshake goes on a connection of its own (never pooled: after a 101 it is the tunnel),
  // plain or TLS as the target says.
  using core::resilience::CallOutcome;
  const core::TimePoint started = monotonicNow();
  auto took = [&] { return monotonicNow() - started; };
  auto conn = upstream::Conn::make(worker.ioc, target.tls.get());
  TimedSocket& stream = conn->lowest();
  if (deadline != core::resilience::kNoDeadline)
    stream.expires_at(toSteady(deadline));
  else
    stream.expires_never();
  metrics->upstreamConnection(worker.index, false);
  if (const auto failure = co_await connectUpstream(worker.ioc, target, *conn)) co_return failure->outcome(took());
  auto [wec, wn] = co_await upstream::write(*conn, wire);
  (void)wn;
  if (wec) co_return stream.timedOut(wec) ? CallOutcome::timeout(took()) : CallOutcome::reset(took());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::min<std::size_t>(options.maxUpstreamBodyBytes, options.bodyBufferBytes));
  auto [hec, hn] = co_await upstream::readWhole(*conn, buffer, parser);
  (void)hn;
  if (hec) co_return stream.timedOut(hec) ? CallOutcome::timeout(took()) : CallOutcome::reset(took());
  out = parser.release();
  if (out.result() == http::status::switching_protocols) {
    stream.expires_never();
    info.tunnelLeftover.assign(static_cast<const char*>(buffer.data().data()), buffer.size());
    info.tunnel = std::move(conn);
  }
  co_return CallOutcome::response(static_cast<std::uint16_t>(out.result_int()), took());
}

template <class ClientStream>
Task<void> Server::Impl::relay(ClientStream& client, beast::flat_buffer& clientBuffer, RequestInfo& info) {
  // Bytes both ways until either side closes or nothing moves for tunnelIdleTimeout. Frames are
  // relayed as they are (the tunnel does not parse them), as nginx and Envoy do.
  ++openTunnels;
  struct Closed {
    std::atomic<std::size_t>& n;
    ~Closed() { --n; }
  } closedOnExit{openTunnels};
  if (info.tunnel->tls) {
    co_await tunnel(client, clientBuffer, *info.tunnel->tls, std::move(info.tunnelLeftover));
  } else {
    co_await tunnel(client, clientBuffer, *info.tunnel->plain, std::move(info.tunnelLeftover));
  }
  beast::error_code ignored;
  info.tunnel->lowest().socket().close(ignored);
}

template <class ClientStream, class UpstreamStream>
Task<void> Server::Impl::tunnel(ClientStream& client, beast::flat_buffer& clientBuffer, UpstreamStream& upstream,
                                           std::string leftover) {
  auto pump = [this](auto& from, auto& to, std::string pending) -> Task<void> {
    std::array<char, 16 * 1024> chunk{};
    while (true) {
      if (!pending.empty()) {
        beast::get_lowest_layer(to).expires_after(options.tunnelIdleTimeout);
        auto [wec, wn] = co_await asio::async_write(to, asio::buffer(pending), kAwait);
        (void)wn;
        if (wec) break;
        pending.clear();
      }
      beast::get_lowest_layer(from).expires_after(options.tunnelIdleTimeout);
      auto [rec, n] = co_await from.async_read_some(asio::buffer(chunk), kAwait);
      if (rec) break;
      pending.assign(chunk.data(), n);
    }
    beast::error_code ignored;
    beast::get_lowest_layer(from).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(to).socket().shutdown(tcp::socket::shutdown_both, ignored);
  };
  std::string fromClient(static_cast<const char*>(clientBuffer.data().data()), clientBuffer.size());
  clientBuffer.consume(clientBuffer.size());
  // Upstream -> client runs beside this coroutine; client -> upstream runs here. When one ends it
  // shuts both sockets down, which ends the other; `done` says when the spawned one has.
  auto done = std::make_shared<SteadyTimer>(client.get_executor(), SteadyTimer::time_point::max());
  auto finished = std::make_shared<bool>(false);
  asio::co_spawn(
      client.get_executor(),
      [&upstream, &client, pump, leftover = std::move(leftover), done, finished]() -> Task<void> {
        co_await pump(upstream, client, leftover);
        *finished = true;
        done->cancel();
      },
      asio::detached);
  co_await pump(client, upstream, std::move(fromClient));
  if (!*finished) co_await done->async_wait(kAwait);
}

namespace {

/// The upstream answer's field lines as they came, copied in runs, but for the hop-by-hop ones
/// (fixed, or listed by its Connection field): what RawAnswerFields keeps. (A plain function: its
/// Connection members do not sit in the try's coroutine frame.)
void keepLines(RawAnswerFields& raw, const ResponseHead& head) {
  const ConnectionOptions connectionOptions(head.connection);
  raw.lines.clear();
  raw.nameLengths = 0;
  const char* run = nullptr;
  std::size_t runBytes = 0;
  for (std::size_t i = 0; i < head.fieldCount; ++i) {
    const ResponseHead::Field& f = head.fields[i];
    if (isHopByHop(f.name) || connectionOptions.lists(f.name)) {
      if (runBytes > 0) raw.lines.append(run, runBytes);
      runBytes = 0;
      continue;
    }
    if (runBytes == 0) run = f.line.data();
    runBytes += f.line.size();  // (the lines of one head are adjacent)
    raw.nameLengths |= std::uint64_t{1} << (f.name.size() % 64);
  }
  if (runBytes > 0) raw.lines.append(run, runBytes);
  raw.used = true;
}

}  // namespace

// ---- One upstream try ---------------------------------------------------------------------------

Task<core::resilience::CallOutcome> Server::Impl::sendTry(Worker& worker, const TargetAddress& target,
                                                                    const std::string& wire, bool headRequest,
                                                                    core::TimePoint deadline, Response& out,
                                                                    ClientBody* more, upstream::Framing framing,
                                                                    std::unique_ptr<upstream::PendingBody>& pending,
                                                                    RawAnswerFields* raw) {
  using core::resilience::CallOutcome;
  const core::TimePoint started = monotonicNow();
  bool hasDeadline = deadline != core::resilience::kNoDeadline;
  auto took = [&] { return monotonicNow() - started; };
  auto setExpiry = [&](TimedSocket& s) {
    if (hasDeadline)
      s.expires_at(toSteady(deadline));
    else
      s.expires_never();
  };
  auto closeConn = [](upstream::Conn& c) {
    beast::error_code ignored;
    c.lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    c.lowest().socket().close(ignored);
  };

  // A pooled connection may have been closed by the upstream meanwhile: if it fails before any
  // byte of an answer arrived, the request is sent once more on a new connection (not a new try),
  // unless part of a streamed body is already gone.
  for (int attempt = 0; attempt < 2; ++attempt) {
    upstream::Pool::Stream pooled = attempt == 0 ? worker.pool->take(target.key) : nullptr;
    const bool reused = pooled != nullptr;
    upstream::Pool::Stream owned = reused ? std::move(pooled) : upstream::Conn::make(worker.ioc, target.tls.get());
    TimedSocket& stream = owned->lowest();
    // The stream's expiry is the try's deadline (connect, write, read), or the body timeout of each
    // upload block; it closes the socket, and the operation then fails: stream.timedOut tells.
    auto timedOut = [&stream](const beast::error_code& ec) { return stream.timedOut(ec); };
    auto failed = [&](const beast::error_code& ec) {
      return timedOut(ec) ? CallOutcome::timeout(took()) : CallOutcome::reset(took());
    };
    metrics->upstreamConnection(worker.index, reused);
    setExpiry(stream);  // (a pooled connection comes with none)
    if (!reused) {
      if (const auto failure = co_await connectUpstream(worker.ioc, target, *owned)) co_return failure->outcome(took());
    }
    // The request, then (below) the answer's head: each one await on the connection's stream,
    // plain or TLS (upstream::onStream), without a coroutine frame of its own. On a plain
    // connection the request is sent at once when the socket takes it whole (the usual case).
    beast::error_code wec;
    const std::size_t sentNow = owned->plain ? owned->plain->sendNow(wire, wec) : 0;
    if (!wec && sentNow < wire.size()) {
      auto [rec, wn] = co_await upstream::write(*owned, std::string_view(wire).substr(sentNow));
      (void)wn;
      wec = rec;
    }
    if (wec) {
      if (timedOut(wec)) co_return CallOutcome::timeout(took());
      if (reused && (more == nullptr || !more->started)) continue;
      co_return CallOutcome::reset(took());
    }

    // The rest of a large request body, block by block from the client to the upstream. Each
    // write has the body timeout; the try's own deadline starts again once the body is sent (the
    // upload's length says nothing about the upstream's health), as Envoy's route timeout does.
    if (more != nullptr && !more->done()) {
      if (!more->started) metrics->streamed(true);
      more->started = true;
      stream.expires_never();  // each block's write has the body timeout instead of the try's deadline
      const core::TimePoint uploadStart = monotonicNow();
      const Upload upload = co_await uploadRest(*owned, *more, framing);
      if (upload.clientFailed) {
        closeConn(*owned);
        co_return CallOutcome::reset(took());
      }
      if (upload.error) co_return failed(upload.error);
      if (hasDeadline) deadline += monotonicNow() - uploadStart;
      setExpiry(stream);
    }

    beast::flat_buffer& buffer = owned->buffer;  // empty: a pooled connection has nothing left
    // The answer's head: read into the connection's buffer and, when it has the common shape
    // (response_head.hpp), parsed there and copied into `out` as it is; any other shape is read by
    // Beast's parser from the bytes buffered on (readOtherAnswer).
    ResponseHead& head = worker.responseHead;  // (not used after a suspension)
    HeadParse shape = HeadParse::kIncomplete;
    if (raw != nullptr) raw->used = false;
    bool again = false;  // a reused connection the upstream had closed: send on a new one
    while (true) {
      shape = parseResponseHead(std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()),
                                headRequest, kUpstreamHeadLimit, head);
      if (shape != HeadParse::kIncomplete) break;
      auto [rec, got] = co_await upstream::readSome(*owned, buffer.prepare(kUpstreamRead));
      buffer.commit(got);
      if (!rec) continue;
      if (timedOut(rec)) co_return CallOutcome::timeout(took());
      if (reused && (more == nullptr || !more->started) && buffer.size() == 0 &&
          (rec == asio::error::connection_reset || rec == asio::error::eof ||
           rec == asio::ssl::error::stream_truncated)) {
        again = true;
        break;
      }
      co_return CallOutcome::reset(took());
    }
    if (again) continue;

    bool keepAlive = false;
    std::optional<std::chrono::seconds> retryAfter;
    const bool bodyless = shape == HeadParse::kParsed && (headRequest || head.status == 204 || head.status == 304);
    const std::uint64_t length = shape == HeadParse::kParsed && !bodyless ? head.contentLength.value_or(0) : 0;
    if (shape == HeadParse::kParsed && length <= std::min(options.bodyBufferBytes, options.maxUpstreamBodyBytes)) {
      out.version(head.version);
      out.result(head.status);
      const auto status = static_cast<http::status>(head.status);
      if (head.reason != http::obsolete_reason(status)) out.reason(head.reason);  // (the usual one is not stored)
      if (raw != nullptr) {
        keepLines(*raw, head);
      } else {
        for (std::size_t i = 0; i < head.fieldCount; ++i) out.insert(head.fields[i].name, head.fields[i].value);
      }
      keepAlive = head.keepAlive;
      retryAfter = head.retryAfter;
      buffer.consume(head.size);
      if (length > 0) {
        // A body that fits, read whole: usually it came with the head.
        const std::size_t have = std::min<std::size_t>(length, buffer.size());
        std::string& body = out.body();
        body.assign(static_cast<const char*>(buffer.data().data()), have);
        buffer.consume(have);
        if (have < length) {
          body.resize(length);
          auto [bec, n] = co_await upstream::readExactly(*owned, asio::buffer(body.data() + have, length - have));
          (void)n;
          if (bec) co_return failed(bec);
        }
      }
    } else {
      const OtherAnswer other = co_await readOtherAnswer(owned, headRequest, out, target.key, pending);
      if (other.error) co_return failed(other.error);
      if (other.streamed) co_return CallOutcome::response(static_cast<std::uint16_t>(out.result_int()), took());
      keepAlive = out.keep_alive();
      retryAfter = other.retryAfter;
    }
    const bool keep = keepAlive && buffer.size() == 0;
    if (keep) {
      worker.pool->give(target.key, std::move(owned));
    } else {
      closeConn(*owned);
    }
    CallOutcome o = CallOutcome::response(static_cast<std::uint16_t>(out.result_int()), took());
    o.retryAfter = retryAfter;
    co_return o;
  }
  co_return CallOutcome::reset(took());
}

Task<Server::Impl::Upload> Server::Impl::uploadRest(upstream::Conn& conn, ClientBody& more, upstream::Framing framing) {
  Upload result;
  std::string block(options.bodyBufferBytes, '\0');
  std::string framed;
  while (!more.done()) {
    auto [rec, n] = co_await more.read(block.data(), block.size());
    if (rec) {
      more.failed = true;  // the client's fault: the caller answers it, the target is not blamed
      result.clientFailed = true;
      co_return result;
    }
    framed.clear();
    upstream::appendFramed(framed, std::string_view(block.data(), n), framing);
    if (more.done()) framed += upstream::bodyEnd(framing);
    if (framed.empty()) continue;
    conn.lowest().expires_after(options.bodyTimeout);
    auto [wec, wn] = co_await upstream::write(conn, framed);
    (void)wn;
    result.error = wec;
    if (result.error) co_return result;
  }
  co_return result;
}

Task<Server::Impl::OtherAnswer> Server::Impl::readOtherAnswer(std::unique_ptr<upstream::Conn>& conn, bool headRequest,
                                                              Response& out, const std::string& poolKey,
                                                              std::unique_ptr<upstream::PendingBody>& pending) {
  OtherAnswer result;
  beast::flat_buffer& buffer = conn->buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.maxUpstreamBodyBytes);
  if (headRequest) parser.skip(true);
  // The head: Beast's header read parses what is buffered before it reads more.
  {
    auto [ec, n] = co_await upstream::readHeader(*conn, buffer, parser);
    (void)n;
    result.error = ec;
  }
  if (result.error) co_return result;
  if (parser.is_done()) {  // no body (204, 304, HEAD, Content-Length: 0)
    out = parser.release();
  } else {
    const auto length = parser.content_length();
    if (length && *length <= options.bodyBufferBytes) {
      // A body that fits: read whole; what came with the head parsed without another read.
      parser.eager(true);
      beast::error_code pec;
      buffer.consume(parser.put(buffer.data(), pec));
      if (pec == http::error::need_more) pec = {};
      if (pec) {
        result.error = pec;
        co_return result;
      }
      if (!parser.is_done()) {
        auto [ec, n] = co_await upstream::readWhole(*conn, buffer, parser);
        (void)n;
        result.error = ec;
        if (result.error) co_return result;
      }
      out = parser.release();
    } else {
      // Larger or of unknown length (chunked, or until close): read up to the buffer; what
      // does not fit stays on the connection for the session to relay.
      auto rest = std::make_unique<upstream::PendingBody>(std::move(conn), std::move(buffer), std::move(parser), poolKey);
      std::string prefix(options.bodyBufferBytes, '\0');
      std::size_t got = 0;
      while (!rest->parser.is_done() && got < prefix.size()) {
        auto [bec, n] = co_await rest->readSome(prefix.data() + got, prefix.size() - got);
        if (bec) {
          result.error = bec;
          co_return result;
        }
        got += n;
      }
      prefix.resize(got);
      out = Response(rest->parser.get().base());
      out.body() = std::move(prefix);
      if (!rest->parser.is_done()) {
        rest->conn->lowest().expires_never();  // the relay sets the body timeout on each read
        pending = std::move(rest);
        result.streamed = true;
        co_return result;
      }
      conn = std::move(rest->conn);
      conn->buffer = std::move(rest->buffer);
    }
  }
  if (const auto it = out.find(http::field::retry_after); it != out.end()) result.retryAfter = delaySeconds(it->value());
  co_return result;
}

// ---- Config generations -------------------------------------------------------------------------

std::shared_ptr<Generation> Server::Impl::buildGeneration(std::shared_ptr<const config::GatewayConfig> cfg,
                                                          std::string& error) {
  config::BuildResult built = config::buildRuntime(cfg, *metrics);
  if (!built.ok()) {
    error = config::formatDiagnostics(built.diagnostics);
    return nullptr;
  }
  auto g = std::make_shared<Generation>();
  g->config = cfg;
  g->runtime = std::move(built.runtime);
  g->flow = std::make_unique<flow::RequestFlow>(*g->runtime, cfg->redis ? flow::StoreMode::kAsk : flow::StoreMode::kLocal);
  auto host = std::make_shared<GenerationHost>();
  for (const auto& service : cfg->services) {
    std::vector<TargetAddress> targets;
    for (const auto& t : service.targets) targets.push_back(targetAddress(t.url));
    host->serviceTargets.push_back(std::move(targets));
  }
  if (cfg->tls) {
    host->serverTls = ServerTls::load(*cfg->tls, error);
    if (!host->serverTls) return nullptr;
  }
  host->upstreamTls = UpstreamTls::load(*cfg, error);
  if (!host->upstreamTls) return nullptr;
  for (std::size_t sv = 0; sv < cfg->services.size(); ++sv) {
    const config::UpstreamTlsConfig tls = cfg->services[sv].tls.value_or(config::UpstreamTlsConfig{});
    for (std::size_t t = 0; t < cfg->services[sv].targets.size(); ++t) {
      if (cfg->services[sv].targets[t].url.scheme != "https") continue;
      TargetAddress& a = host->serviceTargets[sv][t];
      a.tls = host->upstreamTls->context(sv);
      a.serverName = tls.serverName.empty() ? a.host : tls.serverName;
      a.verify = tls.verify;
    }
  }
  host->ids = metrics->registerConfig(*cfg);
  g->host = std::move(host);
  return g;
}

// ---- Server -------------------------------------------------------------------------------------

namespace {
/// Opens, binds and listens `acceptor` on host:port (an address, or a name: its first address;
/// IPv6 sockets are IPv6-only, so a second listener may take IPv4). An error text naming the
/// listener (`what`: "", " (admin)", " (tls)") or "".
std::string openListener(asio::io_context& ioc, const std::string& host, std::uint16_t port, std::string_view what,
                         Acceptor& acceptor) {
  const std::string where = host + ":" + std::to_string(port);
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) {
    tcp::resolver resolver(ioc);
    const auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty())
      return "cannot resolve listen" + std::string(what) + " host \"" + host + "\"" + (ec ? ": " + ec.message() : "");
    address = results.begin()->endpoint().address();
  }
  const tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && address.is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen" + std::string(what) + " on " + where + ": " + ec.message();
  return {};
}
}  // namespace

Server::Server(std::shared_ptr<const config::GatewayConfig> config, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {
  impl_->owner = this;
}

Server::~Server() { stop(); }

std::string Server::start() {
  Impl& s = *impl_;
  const unsigned n = s.options.threads != 0 ? s.options.threads : std::max(1u, std::thread::hardware_concurrency());
  s.metrics = std::make_unique<ProxyMetrics>(n);
  s.startedAt = s.now();
  s.metrics->setEventFeed([&s](std::string_view name, std::string_view json) { s.events.publish(name, json); },
                          s.startedAt);
  std::string buildError;
  std::shared_ptr<Generation> first = s.buildGeneration(s.config, buildError);
  if (!first) return buildError;
  const std::uint64_t seed =
      s.options.seed != 0 ? s.options.seed : (std::uint64_t{std::random_device{}()} << 32 | std::random_device{}());
  s.gateway = std::make_unique<LiveGateway>(std::move(first), seed);
  s.wakeAt.assign(s.config->services.size(), core::TimePoint::max());
  s.wakeTimer.emplace(s.acceptContext);
  if (!s.options.accessLog.empty()) {
    if (std::string err = s.accessLog.open(s.options.accessLog); !err.empty()) return err;
  }
  std::string err =
      openListener(s.acceptContext, s.options.listenHost, s.options.listenPort, "", s.acceptor.emplace(s.acceptContext));
  if (!err.empty()) return err;
  s.boundPort = s.acceptor->local_endpoint().port();
  for (const config::HostPort& also : s.options.alsoListen) {
    auto a = std::make_unique<Acceptor>(s.acceptContext);
    err = openListener(s.acceptContext, also.host, also.port, "", *a);
    if (!err.empty()) return err;
    s.alsoAcceptors.push_back(std::move(a));
  }
  if (s.options.admin) {
    err = openListener(s.acceptContext, s.options.adminHost, s.options.adminPort, " (admin)",
                       s.adminAcceptor.emplace(s.acceptContext));
    if (!err.empty()) return err;
    s.adminBoundPort = s.adminAcceptor->local_endpoint().port();
  }
  if (s.config->tls) {
    const config::HostPort& tl = s.config->tls->listen;
    err = openListener(s.acceptContext, tl.host, tl.port, " (tls)", s.tlsAcceptor.emplace(s.acceptContext));
    if (!err.empty()) return err;
    s.tlsBoundPort = s.tlsAcceptor->local_endpoint().port();
    s.serverTls = hostOf(*s.gateway->current()).serverTls;
    s.redirectPort = tl.port != 0 ? tl.port : s.tlsBoundPort;
    s.redirectToTls = s.config->tls->redirectHttp;
  }

  for (unsigned i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    w->ids = SplitMix64(seed ^ (0xD1B54A32D192ED03ULL * (i + 1)));
    w->pool = std::make_unique<upstream::Pool>(s.options.maxIdlePerTarget, s.options.upstreamIdleTimeout);
    w->work.emplace(w->ioc.get_executor());
    s.workers.push_back(std::move(w));
  }
  for (auto& w : s.workers) {
    Worker* worker = w.get();
    worker->thread = std::thread([worker] { worker->ioc.run(); });
  }
  asio::co_spawn(s.acceptContext, s.acceptLoop(*s.acceptor, false), asio::detached);
  for (auto& a : s.alsoAcceptors) asio::co_spawn(s.acceptContext, s.acceptLoop(*a, false), asio::detached);
  if (s.adminAcceptor) asio::co_spawn(s.acceptContext, s.adminLoop(), asio::detached);
  if (s.tlsAcceptor) asio::co_spawn(s.acceptContext, s.acceptLoop(*s.tlsAcceptor, true), asio::detached);
  s.timelineTimer.emplace(s.acceptContext);
  s.scheduleTimeline();
  s.startHealthChecks(*s.gateway->current());
  s.ready = true;
  s.acceptThread = std::thread([&s] { s.acceptContext.run(); });
  return {};
}

Server::ReloadResult Server::reload(std::shared_ptr<const config::GatewayConfig> next) {
  Impl& s = *impl_;
  ReloadResult r;
  if (!s.gateway) {
    r.message = "not started";
    return r;
  }
  const std::lock_guard lock(s.reloadMutex);
  std::string error;
  std::shared_ptr<Generation> g = s.buildGeneration(next, error);
  if (!g) {
    s.metrics->reloaded(false);
    r.message = "the new config was refused; the running one keeps serving:\n" + error;
    return r;
  }
  const std::shared_ptr<const Generation> before = s.gateway->current();
  const SwapResult swapped = s.gateway->swap(std::move(g));
  {
    const std::lock_guard wl(s.wakeMutex);
    s.wakeAt.assign(next->services.size(), core::TimePoint::max());
    s.wakeArmed = core::TimePoint::max();
  }
  s.metrics->reloaded(true);
  asio::post(s.acceptContext, [&s, g = s.gateway->current()] { s.startHealthChecks(*g); });
  r.ok = true;
  r.generation = swapped.generation;
  r.message = "config generation " + std::to_string(swapped.generation) + ": " + std::to_string(next->routes.size()) +
              " routes, " + std::to_string(next->services.size()) + " services; rate-limit policies: " +
              std::to_string(swapped.policiesKept) + " kept their counts, " + std::to_string(swapped.policiesFresh) +
              " start fresh";
  if (!(next->listen == before->config->listen) || next->alsoListen != before->config->alsoListen ||
      !(next->admin == before->config->admin))
    r.message += "; listen/admin addresses changed: they take effect at the next start";
  if (next->threads != before->config->threads)
    r.message += "; threads changed: it takes effect at the next start";
  if (s.tlsAcceptor && next->tls) {
    const std::lock_guard tl(s.tlsMutex);
    s.serverTls = hostOf(*s.gateway->current()).serverTls;  // new TLS connections get the new certificates
    r.message += "; TLS certificates reloaded";
  }
  if (static_cast<bool>(s.tlsAcceptor) != next->tls.has_value() ||
      (next->tls && before->config->tls && !(next->tls->listen == before->config->tls->listen)))
    r.message += "; the TLS listener (added, removed or moved) changes at the next start";
  return r;
}

std::uint16_t Server::port() const noexcept { return impl_->boundPort; }
std::uint16_t Server::adminPort() const noexcept { return impl_->adminBoundPort; }
std::uint16_t Server::tlsPort() const noexcept { return impl_->tlsBoundPort; }
std::vector<std::uint16_t> Server::alsoPorts() const {
  std::vector<std::uint16_t> out;
  for (const auto& a : impl_->alsoAcceptors) out.push_back(a->local_endpoint().port());
  return out;
}
std::string Server::metricsText() const { return impl_->metrics ? impl_->renderMetrics() : std::string{}; }

bool Server::drain(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  if (s.stopped || s.workers.empty()) return true;
  s.draining = true;
  s.ready = false;  // /readyz says 503 from now on; the admin listener stays up until stop()
  asio::post(s.acceptContext, [&s] {
    beast::error_code ignored;
    if (s.acceptor) s.acceptor->close(ignored);
    for (auto& a : s.alsoAcceptors) a->close(ignored);
    if (s.tlsAcceptor) s.tlsAcceptor->close(ignored);
  });
  for (auto& w : s.workers) {
    Worker* worker = w.get();
    asio::post(worker->ioc, [worker] {
      // Connections waiting for a request are closed now; the others after their answer.
      for (SessionState* st : worker->sessions) {
        beast::error_code ignored;
        if (st->idle) st->socket->cancel(ignored);
      }
    });
  }
  bool drained = false;
  {
    std::unique_lock lock(s.drainMutex);
    drained = s.drainCv.wait_for(lock, timeout, [&s] { return s.liveSessions == 0; });
  }
  stop();
  return drained;
}

void Server::stop() {
  Impl& s = *impl_;
  if (s.stopped.exchange(true)) return;
  s.ready = false;
  ++s.healthEpoch;
  if (s.acceptor) {
    asio::post(s.acceptContext, [&s] {
      beast::error_code ignored;
      s.acceptor->close(ignored);
      for (auto& a : s.alsoAcceptors) a->close(ignored);
      if (s.adminAcceptor) s.adminAcceptor->close(ignored);
      if (s.tlsAcceptor) s.tlsAcceptor->close(ignored);
      if (s.wakeTimer) s.wakeTimer->cancel();
      if (s.timelineTimer) s.timelineTimer->cancel();
    });
  }
  s.acceptContext.stop();
  if (s.acceptThread.joinable()) s.acceptThread.join();
  {
    // The posted close may not have run before stop(); no thread runs the context now.
    beast::error_code ignored;
    if (s.acceptor) s.acceptor->close(ignored);
    for (auto& a : s.alsoAcceptors) a->close(ignored);
    if (s.adminAcceptor) s.adminAcceptor->close(ignored);
    if (s.tlsAcceptor) s.tlsAcceptor->close(ignored);
  }
  for (auto& w : s.workers) {
    // Close every client and pooled connection first (peers see it at once), then stop the loop;
    // the coroutines left are destroyed with their io_context.
    Worker* worker = w.get();
    asio::post(worker->ioc, [worker] {
      for (SessionState* st : worker->sessions) {
        beast::error_code ignored;
        st->socket->close(ignored);
      }
      worker->pool->closeAll();
    });
    asio::post(worker->ioc, [worker] { worker->ioc.stop(); });
    worker->work.reset();
  }
  for (auto& w : s.workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  s.accessLog.close();
}

Server::Stats Server::stats() const {
  if (!impl_->metrics) return Stats{};
  const ProxyMetrics::Totals t = impl_->metrics->totals();
  return Stats{t.connections, t.requests, t.tries, t.newUpstreamConnections};
}

}  // namespace gatelab::proxy
