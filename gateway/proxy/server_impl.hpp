#pragma once
// The proxy server's internals, shared by its .cpp files (server.cpp: listeners, sessions, the
// request path, tries and tunnels; control.cpp: policy wake-ups, health checks, the live feed, the
// metrics scrape and the admin listener). Not a public header: Asio and Beast types throughout.

#include "gateway/proxy/server.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <functional>
#include <future>
#include <set>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "gateway/core/rate_limit/headers.hpp"
#include "gateway/core/resilience/timeouts.hpp"
#include "gateway/proxy/access_log.hpp"
#include "gateway/proxy/event_stream.hpp"
#include "gateway/proxy/http_fields.hpp"
#include "gateway/proxy/io_deadline.hpp"
#include "gateway/proxy/resolve.hpp"
#include "gateway/proxy/timed_socket.hpp"
#include "gateway/proxy/live_gateway.hpp"
#include "gateway/proxy/metrics.hpp"
#include "gateway/proxy/redis_client.hpp"
#include "gateway/proxy/response_head.hpp"
#include "gateway/proxy/tls.hpp"
#include "gateway/proxy/upstream.hpp"

namespace gatelab::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

/// The core's timeline in the proxy: the steady clock, shifted once so that it reads Unix time
/// when the process starts. It never jumps (NTP steps do not move it), and clock-aligned windows
/// (fixed_window `align: clock`, minute windows) start on wall-clock boundaries, as in Kong.
inline core::Duration steadyToTimeline() noexcept {
  static const core::Duration offset =
      std::chrono::duration_cast<core::Duration>(std::chrono::system_clock::now().time_since_epoch()) -
      std::chrono::duration_cast<core::Duration>(SteadyClock::now().time_since_epoch());
  return offset;
}



inline SteadyClock::time_point toSteady(core::TimePoint t) noexcept {
  return SteadyClock::time_point{
      std::chrono::duration_cast<SteadyClock::duration>(t.time_since_epoch() - steadyToTimeline())};
}

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

/// A short text/plain answer from the gateway itself (`close`: Connection: close).
Response plainResponse(unsigned version, http::status status, std::string_view body, bool close);

/// A target URL split once: host, port, and the Host header value to send.
struct TargetAddress {
  std::string host;
  std::string port;
  std::string hostHeader;  ///< host[:port] as the URL wrote it (port omitted when default)
  std::string key;         ///< pool key
  /// The address itself when the host is an IP literal (connected to without resolving).
  std::optional<tcp::endpoint> literal;
  /// https:// targets: the client context (owned by the generation; a connection keeps its
  /// OpenSSL context alive by itself) and the name for SNI and verification.
  std::shared_ptr<asio::ssl::context> tls;
  std::string serverName;
  bool verify = true;
};

/// A validated target URL as the proxy connects to it (no TLS context: the generation sets it).
TargetAddress targetAddress(const config::TargetUrl& url);

/// What the proxy keeps per config generation (Generation::host): parsed target addresses and the
/// config's metric ids.
struct GenerationHost {
  std::vector<std::vector<TargetAddress>> serviceTargets;  // [service][target]
  ProxyMetrics::Ids ids;
  std::shared_ptr<ServerTls> serverTls;      // config tls: the listener's certificates
  std::shared_ptr<UpstreamTls> upstreamTls;  // https:// targets' client contexts
};

inline const GenerationHost& hostOf(const Generation& g) { return *static_cast<const GenerationHost*>(g.host.get()); }

/// How connecting to an upstream target failed (connectUpstream): the stage and its error.
struct ConnectFailure {
  enum class Stage { kResolve, kConnect, kHandshake } stage = Stage::kConnect;
  beast::error_code ec;
  bool timedOut = false;  ///< the stream's expiry cut it
  /// As a try's outcome: the try's deadline passed (timeout), else a connect failure (a failed
  /// handshake included: bad certificate, wrong name, no common protocol).
  [[nodiscard]] core::resilience::CallOutcome outcome(core::Duration took) const {
    return timedOut ? core::resilience::CallOutcome::timeout(took) : core::resilience::CallOutcome::connectFailure(took);
  }
};

/// Resolves `target` (unless it is an IP literal), connects `conn` to it (TCP_NODELAY) and, for an
/// https:// target, does the TLS handshake (SNI, verification), all under the stream's current
/// expiry: a resolve still running when it passes is abandoned (resolveUntil) and the try is a
/// timeout, as is one that ends after it (the expiry closes the socket, which is not open while
/// resolving). nullopt on success.
Task<std::optional<ConnectFailure>> connectUpstream(asio::io_context& ioc, const TargetAddress& target,
                                                              upstream::Conn& conn);

/// A client connection as drain() sees it (touched only on its worker's thread).
struct SessionState {
  Socket* socket = nullptr;
  bool idle = true;  ///< waiting for the next request (no request being read or answered)
};

/// The rest of a request body still on the client connection, when it is larger than the body
/// buffer: the first try relays it to the upstream in blocks.
struct ClientBody {
  std::optional<std::uint64_t> length;  ///< Content-Length; none: chunked
  /// Reads the next block (upstream::readBodySome on the client connection, under bodyTimeout).
  std::function<Task<std::pair<beast::error_code, std::size_t>>(char*, std::size_t)> read;
  std::function<bool()> done;  ///< the whole body was read
  bool started = false;        ///< a block was read past the buffered part: it cannot be sent again
  /// Set when reading failed: the answer for the client (408, 413, 400; null: the client is gone).
  std::optional<Response> failure;
  bool failed = false;
};

/// Buffers handle() fills for each request, kept by the session so that their memory is reused
/// from one request to the next (one request at a time per session).
/// An upstream answer's fields as they came, for requests whose answer no policy reads or edits
/// (no response_headers, no CORS for this request, no projection, cache or compression; see
/// RouteRuntime::editsAnswerFields and readsAnswerBodies): kept as their wire lines, the
/// hop-by-hop ones dropped, instead of in the message's field set, and written to the client before
/// the message's own fields (which replace lines of the same name, as set() would).
struct RawAnswerFields {
  std::string lines;  ///< "Name: value\r\n" each
  bool used = false;  ///< the last try's answer has its fields here, not in the message
  /// Bit (n mod 64) set for each line's name length n: a field of another length cannot replace any.
  std::uint64_t nameLengths = 0;
};

/// The rate-limit policies' fields of an answer as lines (written after the message's own fields,
/// which they replace when the names are the same), with their names.
struct PolicyLines {
  std::string lines;  ///< "Name: value\r\n" each
  std::array<std::string_view, 8> names{};  ///< static literals; a policy sends at most 6
  std::size_t count = 0;
  std::uint64_t nameLengths = 0;  ///< as RawAnswerFields::nameLengths
  void clear() noexcept {
    lines.clear();
    count = 0;
    nameLengths = 0;
  }
};

struct SessionScratch {
  std::vector<core::Header> headers;  // the core's view of the request's fields
  std::string head;                   // the upstream request up to its Host field
  std::string wire;                   // one try's bytes
  flow::AccessState access;           // what the route's access policies found (this request's)
  core::HeaderList fields;            // forwarded or answered fields, when a policy edits them
  std::string query;                  // the forwarded query without hidden credentials
  std::string value;                  // one gateway-made field value
  RawAnswerFields answerFields;       // the upstream answer's fields, when they pass as they came
  PolicyLines policyLines;            // the rate-limit fields as lines (RequestInfo::policyLines)
  core::ratelimit::HeaderScratch rateLimitFields;  // where rate-limit fields' values are formatted
};

/// The plain facts of RequestInfo (no memory of their own: reset by assigning a new one).
struct RequestFacts {
  std::uint32_t route = flow::kNoRouteIndex;
  std::uint32_t service = flow::kNoServiceIndex;
  std::uint32_t target = flow::kNoTargetIndex;  // of the last try
  unsigned upstreamStatus = 0;                  // 0: no upstream answer
  std::uint32_t tries = 0;
  const char* outcome = nullptr;                // flow::toString, or a reading-stage reason
  int outcomeIndex = ProxyMetrics::kRefused;    // flow::Outcome, or refused while reading
  const char* storeFailure = nullptr;  // a store: redis policy's call failed: ProxyMetrics::toString(result)
  const char* accessPolicy = nullptr;  // the access policy that answered on its own (flow::toString)
  std::string_view accessReason;       // its reason code (a static string)
  /// The answer's upstream fields, when they stayed lines (written before the answer's own).
  const RawAnswerFields* rawFields = nullptr;
  /// The rate-limit policies' fields as lines, written after the answer's own fields and replacing
  /// those of the same name (null: none, or they went into the message).
  const PolicyLines* policyLines = nullptr;
};
static_assert(std::is_trivially_copyable_v<RequestFacts>);

/// What the access log says about one request beyond the request itself.
struct RequestInfo : RequestFacts {
  std::shared_ptr<const Generation> generation;  // the config the request ran on (null: refused while reading)
  std::string requestId;
  std::string consumer;  // who authentication (or the anonymous fallback) identified
  struct Decision {
    const std::string* policy = nullptr;
    core::ratelimit::Verdict result = core::ratelimit::Verdict::kAllow;
    bool shadow = false;
  };
  std::vector<Decision> decisions;
  /// A WebSocket upgrade the upstream accepted (101): its connection and any bytes it sent after
  /// the 101, for the session to relay both ways once the 101 is written.
  std::unique_ptr<upstream::Conn> tunnel;
  std::string tunnelLeftover;

  /// As a new RequestInfo, but the strings and the decision list keep their memory (one session
  /// reuses its RequestInfo for every request). A member added here must be reset here too.
  void reset() {
    static_cast<RequestFacts&>(*this) = RequestFacts{};
    generation.reset();
    requestId.clear();
    consumer.clear();
    decisions.clear();
    tunnel.reset();
    tunnelLeftover.clear();
  }
};
static_assert(sizeof(RequestInfo) == sizeof(RequestFacts) + sizeof(std::shared_ptr<const Generation>) +
                                         3 * sizeof(std::string) + sizeof(std::vector<RequestInfo::Decision>) +
                                         sizeof(std::unique_ptr<upstream::Conn>),
              "a member was added to RequestInfo: reset() must reset it");

/// An aggregate route's calls in flight (Server::Impl::runPart): shared by the parts and the
/// request that waits for them, so a part never outlives what it writes to.
struct FanOut {
  explicit FanOut(asio::io_context& ioc) : done(ioc) {}
  SteadyTimer done;  // cancelled when the last part has answered
  std::size_t left = 0;
  Ticket parent;            // the request that fanned out (its generation and flow state)
  std::string fields;       // the forwarded header block (gateway fields included), no Host
  std::string query;        // the client's query, for parts with forward_query
  struct Part {
    std::uint16_t status = 0;  // the part's answer (0: none)
    std::string body;          // a 2xx upstream answer's body, read whole
  };
  std::vector<Part> parts;
  std::uint32_t tries = 0;  // upstream tries of every part
};

struct Worker {
  unsigned index = 0;  // metrics shard
  std::set<SessionState*> sessions;
  SplitMix64 ids;  // request and trace ids: one stream per thread (no lock)
  /// Run by this worker's thread alone, and every socket on it is used only from that thread (the
  /// other threads post to it: drain, stop, reload), so the reactor's per-socket locks are off
  /// (UNSAFE_IO: two lock/unlock pairs per read and write); posting and registration stay locked.
  asio::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  std::unique_ptr<upstream::Pool> pool;
  /// The Redis connection of this thread (store: redis policies), made on first use and remade
  /// when a reload changes the redis settings.
  std::unique_ptr<RedisClient> redis;
  core::ratelimit::redis::Call redisCall;  // reused arguments
  /// An upstream answer's head as sendTry parses it (read and copied out before the next
  /// suspension: never held across one).
  ResponseHead responseHead;
  RedisClient& redisFor(const config::RedisConfig& cfg) {
    RedisEndpoint ep;
    ep.host = cfg.address.host;
    ep.port = cfg.address.port;
    ep.username = cfg.username;
    ep.password = cfg.password;
    ep.database = cfg.database;
    ep.connectTimeout = cfg.connectTimeout;
    ep.stuckAfter = std::max<core::Duration>(std::chrono::seconds(1), cfg.timeout * 10);
    if (!redis || !(redis->endpoint() == ep)) redis = std::make_unique<RedisClient>(ioc, std::move(ep));
    return *redis;
  }
};

/// Collects the applied rate-limit decisions of one request, for its response fields.
class SessionHooks final : public flow::FlowHooks {
 public:
  /// `log`: where the applied decisions are listed for the access log (a request's own
  /// RequestInfo::decisions, whose memory the session reuses); null: a list of its own.
  SessionHooks(ProxyMetrics& metrics, unsigned shard, std::function<void(std::uint32_t, core::TimePoint)> wake,
               const Ticket* ticket = nullptr, std::vector<RequestInfo::Decision>* log = nullptr)
      : metrics_(metrics), shard_(shard), wake_(std::move(wake)), ticket_(ticket), logged(log != nullptr ? *log : own_) {}
  void wakeAt(std::uint32_t service, core::TimePoint at) override { wake_(service, at); }
  struct Applied {
    core::ratelimit::PolicyDecision decision;
    const core::ratelimit::RateLimitPolicy* policy = nullptr;
  };
  void onRateLimit(const flow::RateLimitEvaluation& ev) override {
    if (ticket_ != nullptr && ticket_->generation) {
      const auto& ids = hostOf(*ticket_->generation).ids;
      if (ev.route < ids.policies.size() && ev.policy < ids.policies[ev.route].size())
        metrics_.rateLimit(shard_, ids.policies[ev.route][ev.policy], ev.decision->wouldBe);
    }
    logged.push_back(RequestInfo::Decision{&ev.spec->spec().name, ev.decision->wouldBe, ev.spec->spec().shadow});
    if (ev.spec->spec().shadow) return;  // a dry run is invisible to clients
    // The binding decision so far: the first rejecting one, else the first with the least quota
    // left (as a share of its limit). Only it is kept (a decision is 488 bytes).
    if (bindingRejects_) return;
    if (ev.decision->verdict == core::ratelimit::Verdict::kReject) {
      binding_.emplace(Applied{*ev.decision, ev.spec});
      bindingRejects_ = true;
      return;
    }
    const auto& d = ev.decision->bindingDecision();
    const double share = d.limit == 0 ? 1.0 : static_cast<double>(d.remaining) / static_cast<double>(d.limit);
    if (share < bindingShare_) {
      binding_.emplace(Applied{*ev.decision, ev.spec});
      bindingShare_ = share;
    }
  }
  /// Gives the fields of the binding decision (see onRateLimit) to `sink`. `scratch`: where values
  /// are formatted.
  void visitFields(core::ratelimit::HeaderScratch& scratch, core::ratelimit::HeaderSink& sink) const {
    if (binding_) core::ratelimit::visitRateLimitHeaders(binding_->decision, binding_->policy->spec(), scratch, sink);
  }

 private:
  ProxyMetrics& metrics_;
  unsigned shard_;
  std::function<void(std::uint32_t, core::TimePoint)> wake_;
  const Ticket* ticket_;
  std::optional<Applied> binding_;
  double bindingShare_ = 2.0;
  bool bindingRejects_ = false;
  std::vector<RequestInfo::Decision> own_;

 public:
  std::vector<RequestInfo::Decision>& logged;  ///< every applied decision, shadow ones included
};

struct Server::Impl {
  Impl(std::shared_ptr<const config::GatewayConfig> cfg, ServerOptions o)
      : options(std::move(o)), config(std::move(cfg)) {}

  /// A runtime, flow and host data for `cfg` (not yet current). Error text in `error`.
  std::shared_ptr<Generation> buildGeneration(std::shared_ptr<const config::GatewayConfig> cfg, std::string& error);
  std::mutex reloadMutex;  // one reload at a time
  Server* owner = nullptr;

  ~Impl() {
    // I/O objects before the contexts they belong to (declaration order does not give that for
    // the wake timer), and the workers (their io_contexts hold the sessions' coroutine frames).
    wakeTimer.reset();
    timelineTimer.reset();
    adminAcceptor.reset();
    acceptor.reset();
    alsoAcceptors.clear();
    tlsAcceptor.reset();
    workers.clear();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ServerOptions options;
  std::shared_ptr<const config::GatewayConfig> config;
  std::unique_ptr<ProxyMetrics> metrics;  // the runtime's event sink: declared before the gateway
  std::unique_ptr<LiveGateway> gateway;
  AccessLog accessLog;
  EventStream events;
  // Active health checks: one coroutine per checked target on the accept thread, for the current
  // generation; a reload bumps the epoch, which ends the old checks, and starts new ones.
  std::atomic<std::uint64_t> healthEpoch{0};
  void startHealthChecks(const Generation& g);
  Task<void> healthCheckLoop(std::uint64_t epoch, std::uint64_t generation, std::uint32_t service,
                                        std::uint32_t target, std::string serviceName, TargetAddress address,
                                        config::HealthCheckConfig check);
  core::TimePoint startedAt{};
  Task<std::string> probe(const TargetAddress& address, const config::HealthCheckConfig& check);
  std::optional<SteadyTimer> timelineTimer;
  std::uint64_t timelineIndex = 0;
  void scheduleTimeline();
  Task<void> eventStreamSession(TimedSocket& stream, unsigned version);

  // Policy wake-ups (breaker open -> half-open, outlier returns) on a timer of the accept thread,
  // so their events and the breaker gauges are on time even when no request arrives.
  std::mutex wakeMutex;
  std::vector<core::TimePoint> wakeAt;  // per service; TimePoint::max(): none
  std::optional<SteadyTimer> wakeTimer;
  core::TimePoint wakeArmed = core::TimePoint::max();
  void requestWake(std::uint32_t service, core::TimePoint at);  // from flow hooks (gateway mutex held)
  void armWakeTimer();                                          // on the accept thread
  void onWakeTimer();
  void logLine(const Request* req, const std::string& peer, const Response& res, const RequestInfo& info,
               std::chrono::system_clock::time_point arrivalWall, core::Duration took);
  [[nodiscard]] core::TimePoint now() const { return options.clock ? options.clock() : monotonicNow(); }
  asio::io_context acceptContext{1};
  std::optional<Acceptor> acceptor;
  std::vector<std::unique_ptr<Acceptor>> alsoAcceptors;  // ServerOptions::alsoListen
  std::optional<Acceptor> adminAcceptor;
  std::uint16_t adminBoundPort = 0;
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  std::mutex drainMutex;
  std::condition_variable drainCv;
  std::int64_t liveSessions = 0;  // guarded by drainMutex
  std::atomic<std::size_t> openConnections{0};  // accepted and not yet closed (the cap)
  std::vector<std::unique_ptr<Worker>> workers;
  std::thread acceptThread;
  std::atomic<std::size_t> nextWorker{0};
  std::atomic<bool> stopped{false};
  std::uint16_t boundPort = 0;



  /// Accepts on `listener` and hands connections to the I/O threads in turn; `tls`: the TLS
  /// listener (sessions start with a handshake on the current certificates).
  Task<void> acceptLoop(Acceptor& listener, bool tls);
  /// /metrics: the shared counters plus the pools' idle connections, asked of each I/O thread on
  /// its own thread at scrape time (nothing on the request path); a busy thread that does not
  /// answer within 100 ms is left out of the gauge.
  std::string renderMetrics();
  Task<void> adminLoop();
  Task<void> adminSession(Socket socket);
  Task<void> session(Socket socket, Worker& worker, std::shared_ptr<ServerTls> tls);
  template <class Stream>
  Task<void> serve(Stream& stream, Worker& worker, const std::string& peer, bool secure);
  /// Runs one request through the flow to its answer. `more`: the rest of a body larger than the
  /// buffer, still on the client connection (null: req.body() is all of it). `pending`: set when
  /// the answer's body is larger than the buffer (its first block is in the answer's body).
  /// Answers `req` into `out` (the session's answer: written in place, not moved through).
  Task<void> handle(Request& req, const std::string& peer, Worker& worker, RequestInfo& info, bool secure,
                    ClientBody* more, std::unique_ptr<upstream::PendingBody>& pending, SessionScratch& scratch,
                    Response& out);
  // TLS listener (config `tls`): its acceptor, and the certificates new connections get (those of
  // the latest generation that has a tls section).
  std::optional<Acceptor> tlsAcceptor;
  std::uint16_t tlsBoundPort = 0;
  std::mutex tlsMutex;
  std::shared_ptr<ServerTls> serverTls;
  std::uint16_t redirectPort = 0;  // the TLS port as clients reach it (config tls.listen)
  bool redirectToTls = false;      // the plain listener answers 308 to https
  Response redirectResponse(const Request& req) const;
  std::atomic<std::size_t> openTunnels{0};
  Task<core::resilience::CallOutcome> upgradeTry(Worker& worker, const TargetAddress& target,
                                                           const std::string& wire, core::TimePoint deadline,
                                                           Response& out, RequestInfo& info);
  template <class ClientStream>
  Task<void> relay(ClientStream& client, beast::flat_buffer& clientBuffer, RequestInfo& info);
  template <class ClientStream, class UpstreamStream>
  Task<void> tunnel(ClientStream& client, beast::flat_buffer& clientBuffer, UpstreamStream& upstream,
                               std::string leftover);
  /// One try: the request (`wire`: head and buffered body; `more`: the rest of a large body,
  /// relayed with `framing`), then the answer's header and a body that fits the buffer into
  /// `out`; a larger body's first block goes to `out`, the rest stays in `pending`.
  /// Runs part `index` of `fan`'s aggregate to its answer (tries, back-offs, retries), then counts
  /// it down; the last part wakes the waiting request.
  Task<void> runPart(std::shared_ptr<FanOut> fan, Worker& worker, std::uint32_t index);
  /// Reads the rest of a streamed answer into `body` while it stays within `cap` bytes; true when
  /// the body ended (the answer is then whole), false when it is longer or broke off (what was
  /// read stays in `body`, the rest on `pending`).
  Task<bool> readRest(upstream::PendingBody& pending, std::string& body, std::size_t cap);
  Task<core::resilience::CallOutcome> sendTry(Worker& worker, const TargetAddress& target,
                                                        const std::string& wire, bool headRequest,
                                                        core::TimePoint deadline, Response& out, ClientBody* more,
                                                        upstream::Framing framing,
                                                        std::unique_ptr<upstream::PendingBody>& pending,
                                                        RawAnswerFields* raw = nullptr);
  /// How uploadRest ended: all sent (no error), the client's body broke off (clientFailed; `more`
  /// says why), or the upstream write failed (error).
  struct Upload {
    beast::error_code error;
    bool clientFailed = false;
  };
  /// The rest of a large request body, block by block from the client to the upstream on `conn`,
  /// each write under the body timeout (the stream's expiry). Its own coroutine, so that sendTry's
  /// frame does not carry the upload's buffers and awaits on the common path.
  Task<Upload> uploadRest(upstream::Conn& conn, ClientBody& more, upstream::Framing framing);
  /// What readOtherAnswer read: an error (the try failed), or an answer in `out`, whole or with
  /// the rest of its body left on `pending` (streamed).
  struct OtherAnswer {
    beast::error_code error;
    bool streamed = false;
    std::optional<std::chrono::seconds> retryAfter;  ///< a whole answer's Retry-After in seconds
  };
  /// Reads an upstream answer whose head is not of the shape sendTry parses itself (chunked or
  /// large bodies, bodies read to the close, anything unusual) with Beast's parser, starting from
  /// what `conn`'s buffer holds. A body up to the body buffer is read whole; a longer one is read up
  /// to it and the connection moves to `pending`. Its own coroutine, so that sendTry's frame does
  /// not carry Beast's parser on the common path.
  Task<OtherAnswer> readOtherAnswer(std::unique_ptr<upstream::Conn>& conn, bool headRequest, Response& out,
                                    const std::string& poolKey, std::unique_ptr<upstream::PendingBody>& pending);
};


}  // namespace gatelab::proxy
