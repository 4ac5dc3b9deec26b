#pragma once
// Server: the live reverse proxy. Listens for HTTP/1.1, runs every request through the same
// RequestFlow the simulator runs (LiveGateway), and forwards tries to the config's upstream targets
// over pooled keep-alive connections.
//
// Threads: `threads` I/O threads, each with its own io_context, its own connections and its own
// upstream pool (like nginx workers); one acceptor hands new connections to the threads in turn.
// Decisions are shared (LiveGateway, one mutex). No Asio or Beast type appears in this header: the
// proxy's I/O stays in its .cpp files (separately compiled Asio/Beast, see asio_impl.cpp).
//
// Per connection: requests are read one at a time (keep-alive; pipelined requests wait their turn)
// with limits — header bytes (431), body bytes (413), the time to receive a request's header (408,
// then close) and idle keep-alive time (close). A malformed request gets 400 and the connection is
// closed; so does any request with both Content-Length and Transfer-Encoding, or a duplicate or
// invalid Content-Length (request-smuggling defences). Bodies up to bodyBufferBytes are read
// whole; larger ones stream through in blocks both ways (a streamed request is not retried once its
// body flowed; a streamed answer keeps its length, or goes chunked / close-delimited).
//
// Admin listener (its own port, loopback by default): GET /metrics (ProxyMetrics, Prometheus text
// format), /healthz (200 while the process serves), /readyz (200 once listening, 503 while stopping),
// POST /admin/reload (re-reads the config through ServerOptions::configLoader; 200 with what was
// kept, 422 with every error when the new config is refused), GET /admin/events (server-sent events:
// `timeline` buckets every timelineInterval and `resilience` events as they happen, in the
// simulator's JSON shapes — the dashboard's live feed).
//
// WebSocket: an Upgrade request is routed and policed like any other (rate limits apply to the
// handshake); its try goes on a fresh upstream connection, and when the upstream answers 101 the
// client connection becomes a byte tunnel to it (both ways, tunnelIdleTimeout, at most maxTunnels).
//
// Per request (RequestFlow's steps): 404/400/429/503 answers; a rate-limit delay waits on a timer
// (never a blocked thread); each try goes to the picked target with the try's deadline (timeout:
// 504), connect failures (502), resets (502); retries and back-off as the flow says. Rate-limit
// response fields (X-RateLimit-*, RateLimit-Policy/RateLimit, Retry-After) follow each policy's
// `headers` style. Upstream requests get X-Forwarded-For/-Proto/-Host, X-Request-ID (kept or
// generated) and a W3C traceparent (propagated with a new span id, or started); hop-by-hop fields
// are removed both ways.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::proxy {

struct ServerOptions {
  std::string listenHost = "127.0.0.1";  ///< an IPv4 or IPv6 address ("0.0.0.0", "::")
  std::uint16_t listenPort = 8080;       ///< 0: any free port (see Server::port())
  /// Further addresses the same listener accepts on (config `listen` as a list), e.g. "::" beside
  /// "0.0.0.0"; IPv6 sockets are IPv6-only.
  std::vector<config::HostPort> alsoListen;
  unsigned threads = 0;                  ///< I/O threads; 0: one per core
  std::size_t maxHeaderBytes = 16 * 1024;      ///< request line + header fields (431 above)
  std::size_t maxBodyBytes = 8 * 1024 * 1024;  ///< request body (413 above)
  /// Upstream response body: a longer declared length is a 502; a streamed body that outgrows it
  /// is cut and the client connection closed.
  std::size_t maxUpstreamBodyBytes = std::size_t{1} << 30;
  /// Bodies up to this size are read whole before they go on (a request can then be retried, a
  /// response compressed); larger ones stream through in blocks of this size. Per direction and
  /// request, so a connection holds at most about twice this much body.
  std::size_t bodyBufferBytes = 64 * 1024;
  /// Between two reads of a body (request from the client: 408; streamed response from the
  /// upstream: the client connection is cut), like nginx's client_body_timeout / proxy_read_timeout.
  std::chrono::milliseconds bodyTimeout{60'000};
  /// Closing while the client may still be sending (a body not read): after our answer and FIN,
  /// its bytes are read and dropped until it closes, for at most this long and this many bytes, so
  /// that a reset does not destroy the answer before the client reads it (nginx lingering_close).
  std::chrono::milliseconds lingerTimeout{5'000};
  std::size_t lingerBytes = 1024 * 1024;
  std::chrono::milliseconds headerTimeout{10'000};  ///< to receive a request's header (408)
  std::chrono::milliseconds idleTimeout{60'000};    ///< keep-alive idle before closing
  std::chrono::milliseconds upstreamIdleTimeout{30'000};  ///< pooled upstream connection idle
  std::size_t maxIdlePerTarget = 64;     ///< pooled idle connections per target and thread
  std::size_t maxConnections = 10'000;   ///< open client connections; more are closed at once (counted)
  std::size_t maxTunnels = 1'000;        ///< open WebSocket tunnels; more handshakes get 503
  std::chrono::milliseconds tunnelIdleTimeout{300'000};  ///< a tunnel with no bytes either way is closed
  std::size_t maxRequestsPerConnection = 10'000;  ///< then `Connection: close` (nginx keepalive_requests)
  std::uint64_t seed = 0;                ///< draw stream seed; 0: from std::random_device
  /// The time policies decide at (default: monotonicNow()). Tests replay timed sequences with a
  /// manual clock; it must stay on the monotonic clock's timeline (waits and deadlines are timers
  /// on that clock), e.g. a fixed start plus the request's offset. Called from the I/O threads.
  /// With a test clock, policy wake-ups are not scheduled (time-driven transitions happen at the
  /// next request, which changes no decision).
  std::function<core::TimePoint()> clock;

  /// Access log file (JSON lines, see access_log.hpp; "-": standard output); empty: none.
  std::string accessLog;

  /// Timeline bucket length of the live feed (GET /admin/events).
  std::chrono::milliseconds timelineInterval{1000};

  /// Reads the config again for `POST /admin/reload` (typically: load the file serve was started
  /// with). Empty: the admin call answers 501.
  std::function<config::LoadResult()> configLoader;

  /// The admin listener (/metrics, /healthz, /readyz, POST /admin/reload); keep it on loopback.
  bool admin = true;
  std::string adminHost = "127.0.0.1";
  std::uint16_t adminPort = 9901;  ///< 0: any free port (see Server::adminPort())
};

/// The proxy's clock on the core's timeline: monotonic (the steady clock), shifted once so that it
/// reads Unix time (ns) at process start — clock-aligned rate-limit windows then start on
/// wall-clock second/minute/hour boundaries, and NTP steps never move it.
[[nodiscard]] core::TimePoint monotonicNow() noexcept;

class Server {
 public:
  /// `config` must be valid (config::loadConfig*); start() builds its runtime.
  Server(std::shared_ptr<const config::GatewayConfig> config, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Builds the runtime, binds the listeners and starts the I/O threads. Returns an error text
  /// (the runtime's diagnostics, a bind failure, a bad address) or an empty string.
  [[nodiscard]] std::string start();
  struct ReloadResult {
    bool ok = false;
    std::uint64_t generation = 0;  ///< the generation now serving (ok)
    std::string message;           ///< what was kept, or why the config was refused (with every error)
  };
  /// Swaps in `next` without dropping connections: requests in flight finish on the config they
  /// started with; new ones use `next`; rate-limit policies that count the same way keep their
  /// counts (LiveGateway::swap). A config that does not build is refused and the running one
  /// keeps serving. listen/admin changes need a restart (the message says so). Thread-safe.
  ReloadResult reload(std::shared_ptr<const config::GatewayConfig> next);

  /// The bound ports (after start()); adminPort() is 0 without the admin listener.
  [[nodiscard]] std::uint16_t port() const noexcept;
  [[nodiscard]] std::uint16_t adminPort() const noexcept;
  /// The bound port of the TLS listener (config `tls`), 0 without one.
  [[nodiscard]] std::uint16_t tlsPort() const noexcept;
  /// The bound ports of ServerOptions::alsoListen, in order.
  [[nodiscard]] std::vector<std::uint16_t> alsoPorts() const;
  /// The /metrics text (Prometheus exposition format).
  [[nodiscard]] std::string metricsText() const;
  /// Graceful stop: stops accepting, closes connections waiting for a request, lets the requests
  /// in flight finish (their answers say `Connection: close`), then stop(). Returns true when
  /// every connection finished within `timeout`, false when stop() cut the rest. Blocks.
  bool drain(std::chrono::milliseconds timeout);
  /// Stops at once: stops accepting, abandons requests in flight, closes connections and joins
  /// the threads. Idempotent.
  void stop();

  struct Stats {
    std::uint64_t connections = 0;   ///< accepted
    std::uint64_t requests = 0;      ///< answered (any status)
    std::uint64_t upstreamTries = 0;
    std::uint64_t upstreamConnects = 0;  ///< new upstream connections (the rest were reused)
  };
  [[nodiscard]] Stats stats() const;  ///< from the metrics (ProxyMetrics::totals)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gatelab::proxy
