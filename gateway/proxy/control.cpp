#include "gateway/proxy/server_impl.hpp"

namespace gatelab::proxy {

// ---- Policy wake-ups ------------------------------------------------------------------------------

void Server::Impl::requestWake(std::uint32_t service, core::TimePoint at) {
  // A test clock runs on its own time: its transitions stay lazy (no decision changes).
  if (options.clock) return;
  {
    const std::lock_guard lock(wakeMutex);
    if (service >= wakeAt.size() || at >= wakeAt[service]) return;
    wakeAt[service] = at;
    if (at >= wakeArmed) return;
  }
  asio::post(acceptContext, [this] { armWakeTimer(); });
}

void Server::Impl::armWakeTimer() {
  if (stopped || !wakeTimer) return;
  core::TimePoint earliest = core::TimePoint::max();
  {
    const std::lock_guard lock(wakeMutex);
    for (const core::TimePoint t : wakeAt) earliest = std::min(earliest, t);
    if (earliest == wakeArmed) return;
    wakeArmed = earliest;
  }
  if (earliest == core::TimePoint::max()) {
    wakeTimer->cancel();
    return;
  }
  wakeTimer->expires_at(toSteady(earliest));
  wakeTimer->async_wait([this](const beast::error_code& ec) {
    if (!ec) onWakeTimer();
  });
}

void Server::Impl::onWakeTimer() {
  const core::TimePoint t = now();
  std::vector<std::uint32_t> due;
  {
    const std::lock_guard lock(wakeMutex);
    wakeArmed = core::TimePoint::max();
    for (std::uint32_t sv = 0; sv < wakeAt.size(); ++sv) {
      if (wakeAt[sv] <= t) {
        wakeAt[sv] = core::TimePoint::max();
        due.push_back(sv);
      }
    }
  }
  SessionHooks hooks(*metrics, 0, [this](std::uint32_t service, core::TimePoint at) { requestWake(service, at); });
  for (const std::uint32_t sv : due) gateway->wake(sv, t, hooks);
  armWakeTimer();
}

// ---- Active health checks -----------------------------------------------------------------------

void Server::Impl::startHealthChecks(const Generation& g) {
  const std::uint64_t epoch = ++healthEpoch;
  const GenerationHost& host = hostOf(g);
  for (std::uint32_t sv = 0; sv < g.config->services.size(); ++sv) {
    const auto& service = g.config->services[sv];
    if (!service.healthChecks) continue;
    for (std::uint32_t t = 0; t < service.targets.size(); ++t) {
      asio::co_spawn(acceptContext,
                     healthCheckLoop(epoch, g.number, sv, t, service.name, host.serviceTargets[sv][t],
                                     *service.healthChecks),
                     asio::detached);
    }
  }
}

Task<std::string> Server::Impl::probe(const TargetAddress& address, const config::HealthCheckConfig& check) {
  // One GET on its own connection (not the pool's: a check must see what a new connection sees).
  auto conn = upstream::Conn::make(acceptContext, address.tls.get());
  TimedSocket& stream = conn->lowest();
  stream.expires_after(check.timeout);
  if (const auto failure = co_await connectUpstream(acceptContext, address, *conn)) {
    const beast::error_code& ec = failure->ec;
    switch (failure->stage) {
      case ConnectFailure::Stage::kResolve:
        co_return failure->timedOut ? std::string("resolve timed out") : "cannot resolve: " + ec.message();
      case ConnectFailure::Stage::kConnect:
        co_return failure->timedOut ? std::string("connect timed out") : "connect failed: " + ec.message();
      case ConnectFailure::Stage::kHandshake: co_return "TLS handshake failed: " + ec.message();
    }
  }
  const std::string request = "GET " + check.path + " HTTP/1.1\r\nHost: " + address.hostHeader +
                              "\r\nUser-Agent: gatelab-health-check\r\nConnection: close\r\n\r\n";
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  auto [wec, wn] = co_await upstream::write(*conn, request);
  (void)wn;
  beast::error_code hec;
  if (!wec) {
    auto [rec, rn] = co_await upstream::readWhole(*conn, buffer, parser);
    (void)rn;
    hec = rec;
  }
  if (wec) co_return stream.timedOut(wec) ? std::string("timed out") : "write failed: " + wec.message();
  beast::error_code ignored;
  stream.socket().close(ignored);
  if (hec) co_return stream.timedOut(hec) ? std::string("timed out") : "no valid answer: " + hec.message();
  const unsigned status = parser.get().result_int();
  if (status >= 200 && status < 400) co_return std::string{};
  co_return "status " + std::to_string(status);
}

Task<void> Server::Impl::healthCheckLoop(std::uint64_t epoch, std::uint64_t generation, std::uint32_t service,
                                                    std::uint32_t target, std::string serviceName, TargetAddress address,
                                                    config::HealthCheckConfig check) {
  SteadyTimer timer(acceptContext);
  bool up = true;  // targets start healthy (TargetSet), as Envoy's do until checks say otherwise
  std::uint32_t streak = 0;  // consecutive results against the current state
  while (!stopped && healthEpoch == epoch) {
    const std::string failure = co_await probe(address, check);
    if (stopped || healthEpoch != epoch) co_return;
    const bool ok = failure.empty();
    if (ok == up) {
      streak = 0;
    } else if (++streak >= (up ? check.unhealthyThreshold : check.healthyThreshold)) {
      up = ok;
      streak = 0;
      if (gateway->setHealthy(generation, service, target, up)) {
        metrics->targetHealth(serviceName, address.key, up);
        metrics->publishResilience(now(), "health", serviceName, address.key, up ? "down" : "up", up ? "up" : "down",
                                   up ? std::to_string(check.healthyThreshold) + " consecutive checks passed"
                                      : std::to_string(check.unhealthyThreshold) +
                                            " consecutive checks failed, last: " + failure,
                                   0, false);
      }
    }
    timer.expires_after(check.interval);
    co_await timer.async_wait(kAwait);
  }
}

// ---- Live event feed ----------------------------------------------------------------------------

void Server::Impl::scheduleTimeline() {
  timelineTimer->expires_after(options.timelineInterval);
  timelineTimer->async_wait([this](const beast::error_code& ec) {
    if (ec || stopped) return;
    // Buckets close every interval whether anyone listens or not, so each covers one interval.
    const std::string bucket = metrics->takeTimelineBucket(timelineIndex++, now());
    if (events.subscribers() > 0) events.publish("timeline", bucket);
    scheduleTimeline();
  });
}

Task<void> Server::Impl::eventStreamSession(TimedSocket& stream, unsigned version) {
  // Server-sent events: one response that never ends; each event is flushed as it comes.
  struct Wake {
    SteadyTimer timer;
    explicit Wake(asio::io_context& ioc) : timer(ioc) {}
  };
  auto wake = std::make_shared<Wake>(acceptContext);
  wake->timer.expires_at(SteadyTimer::time_point::max());
  std::weak_ptr<Wake> weak = wake;
  auto sub = events.subscribe([this, weak] {
    asio::post(acceptContext, [weak] {
      if (auto w = weak.lock()) w->timer.cancel();
    });
  });
  struct Unsubscribe {
    EventStream& e;
    std::shared_ptr<EventStream::Subscriber> s;
    ~Unsubscribe() { e.unsubscribe(s); }
  } unsubscribeOnExit{events, sub};
  std::string head = version == 10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n";
  head += "Server: gatelab\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n";
  head += "X-Accel-Buffering: no\r\n\r\n: gatelab live events (timeline, resilience)\n\n";
  stream.expires_after(options.idleTimeout);
  auto [hec, hn] = co_await asio::async_write(stream, asio::buffer(head), kAwait);
  (void)hn;
  if (hec) co_return;
  while (!stopped) {
    bool cutOff = false;
    std::string batch = events.take(*sub, cutOff);
    if (cutOff) co_return;  // too slow a reader: end the stream, the client reconnects
    if (!batch.empty()) {
      stream.expires_after(options.idleTimeout);
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(batch), kAwait);
      (void)wn;
      if (wec) co_return;
      continue;
    }
    wake->timer.expires_at(SteadyTimer::time_point::max());
    co_await wake->timer.async_wait(kAwait);  // cancelled by publish (or at stop)
  }
}

// ---- Metrics scrape ------------------------------------------------------------------------------

std::string Server::Impl::renderMetrics() {
  std::string out = metrics->render();
  struct Counts {
    std::mutex mutex;
    std::map<std::string, std::size_t> idle;
  };
  auto counts = std::make_shared<Counts>();
  std::vector<std::future<void>> answers;
  if (!stopped) {
    for (auto& w : workers) {
      auto done = std::make_shared<std::promise<void>>();
      answers.push_back(done->get_future());
      Worker* worker = w.get();
      asio::post(worker->ioc, [worker, counts, done] {
        std::map<std::string, std::size_t> mine;
        worker->pool->countIdle(mine);
        {
          const std::lock_guard lock(counts->mutex);
          for (const auto& [k, v] : mine) counts->idle[k] += v;
        }
        done->set_value();
      });
    }
  }
  const auto giveUp = SteadyClock::now() + std::chrono::milliseconds(100);
  for (auto& a : answers) a.wait_until(giveUp);
  out += "# HELP gatelab_upstream_pool_idle Idle keep-alive connections to each target, over all I/O threads.\n"
         "# TYPE gatelab_upstream_pool_idle gauge\n";
  const std::lock_guard lock(counts->mutex);
  for (const auto& [target, n] : counts->idle)
    out += "gatelab_upstream_pool_idle{target=\"" + escapeLabelValue(target) + "\"} " + std::to_string(n) + "\n";
  return out;
}

// ---- Admin listener ----------------------------------------------------------------------------

Task<void> Server::Impl::adminLoop() {
  while (!stopped) {
    auto [ec, socket] = co_await adminAcceptor->async_accept(acceptContext, kAwait);
    if (ec) {
      if (stopped || ec == asio::error::operation_aborted) co_return;
      continue;
    }
    asio::co_spawn(acceptContext, adminSession(std::move(socket)), asio::detached);
  }
}

Task<void> Server::Impl::adminSession(Socket socket) {
  TimedSocket stream(std::move(socket));
  beast::flat_buffer buffer;
  while (!stopped) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(8 * 1024);
    parser.body_limit(0);
    stream.expires_after(options.idleTimeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kAwait);
    (void)n;
    if (ec) break;
    const auto& req = parser.get();
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    Response res;
    if (path == "/admin/events" && req.method() == http::verb::get) {
      co_await eventStreamSession(stream, req.version());
      break;
    }
    if (path == "/admin/cache/purge") {
      if (req.method() != http::verb::post) {
        res = plainResponse(req.version(), http::status::method_not_allowed, "use POST", false);
        res.set(http::field::allow, "POST");
      } else {
        // ?route=NAME&host=HOST&path=/p[&prefix=1]: every parameter optional; values as written.
        std::string_view routeName, hostName, purgePath;
        bool prefix = false;
        std::string_view query = target.size() > path.size() ? target.substr(path.size() + 1) : std::string_view{};
        while (!query.empty()) {
          const std::string_view item = query.substr(0, query.find('&'));
          query.remove_prefix(std::min(query.size(), item.size() + 1));
          const std::size_t eq = item.find('=');
          const std::string_view key = item.substr(0, eq);
          const std::string_view value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
          if (key == "route") routeName = value;
          if (key == "host") hostName = value;
          if (key == "path") purgePath = value;
          if (key == "prefix") prefix = value == "1" || value == "true";
        }
        const std::optional<std::size_t> purged = gateway->cachePurge(routeName, hostName, purgePath, prefix);
        if (!purged) {
          res = plainResponse(req.version(), http::status::not_found,
                              routeName.empty() ? "no route has a response cache"
                                                : "no route named \"" + std::string(routeName) + "\" with a response cache",
                              false);
        } else {
          res = plainResponse(req.version(), http::status::ok, "", false);
          res.set(http::field::content_type, "application/json");
          res.body() = "{\"purged\":" + std::to_string(*purged) + "}\n";
        }
      }
    } else if (path == "/admin/reload") {
      if (req.method() != http::verb::post) {
        res = plainResponse(req.version(), http::status::method_not_allowed, "use POST", false);
        res.set(http::field::allow, "POST");
      } else if (!options.configLoader) {
        res = plainResponse(req.version(), http::status::not_implemented, "no config source to reload from", false);
      } else {
        // Loading and building take milliseconds, here on the accept thread: new client
        // connections wait that long; requests in flight run on the I/O threads undisturbed.
        const config::LoadResult loaded = options.configLoader();
        if (!loaded.ok()) {
          metrics->reloaded(false);
          res = plainResponse(req.version(), http::status::unprocessable_entity,
                              "the new config was refused; the running one keeps serving:\n" + loaded.errorText(), false);
        } else {
          const ReloadResult r = owner->reload(loaded.config);
          res = plainResponse(req.version(), r.ok ? http::status::ok : http::status::unprocessable_entity, r.message, false);
        }
      }
    } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res = plainResponse(req.version(), http::status::method_not_allowed, "use GET", false);
      res.set(http::field::allow, "GET, HEAD");
    } else if (path == "/metrics") {
      res = plainResponse(req.version(), http::status::ok, "", false);
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = renderMetrics();
    } else if (path == "/healthz") {
      res = plainResponse(req.version(), http::status::ok, "ok", false);
    } else if (path == "/readyz") {
      res = ready ? plainResponse(req.version(), http::status::ok, "ready", false)
                  : plainResponse(req.version(), http::status::service_unavailable, "not ready", false);
    } else {
      res = plainResponse(req.version(), http::status::not_found,
                          "admin endpoints: GET /metrics /healthz /readyz /admin/events, POST /admin/reload "
                          "/admin/cache/purge",
                          false);
    }
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();
    auto [wec, wn] = co_await http::async_write(stream, res, kAwait);
    (void)wn;
    if (wec || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace gatelab::proxy
