#include "sim/run/runner.hpp"

#include <algorithm>
#include <utility>

#include "gateway/config/runtime.hpp"
#include "gateway/core/request.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/gateway/sim_gateway.hpp"

namespace gatelab::sim {
namespace {

constexpr std::uint64_t kProgressEvery = 65536;

/// The runtime needs its event sink when it is built; the collector needs the built runtime (for
/// names). This sink sits in between: events emitted while the runtime is being built (a breaker
/// configured `forced_open`, for instance) are kept and delivered, in order, when the collector
/// is attached; later ones are forwarded directly.
class ForwardingSink final : public core::EventSink {
 public:
  void onEvent(const core::Event& event) override {
    if (target_ != nullptr) {
      target_->onEvent(event);
    } else {
      early_.push_back(event);
    }
  }
  void setTarget(core::EventSink* target) {
    target_ = target;
    for (const auto& e : early_) target_->onEvent(e);
    early_.clear();
  }

 private:
  core::EventSink* target_ = nullptr;
  std::vector<core::Event> early_;
};

}  // namespace

struct RunResult::State {
  ForwardingSink sink;
  std::unique_ptr<config::GatewayRuntime> runtime;
  ClientTable clients;
  std::unique_ptr<MetricsCollector> collector;
};

const MetricsCollector& RunResult::metrics() const { return *state->collector; }
const ClientTable& RunResult::clients() const { return state->clients; }
const config::GatewayRuntime& RunResult::runtime() const { return *state->runtime; }

namespace {

/// The per-run machinery that does not outlive runSimulation().
class Run {
 public:
  Run(const RunPlan& plan, const RunHooks& hooks, RunResult& result)
      : plan_(plan), hooks_(hooks), result_(result), sim_(plan.seed), injector_(sim_) {}

  bool start() {
    auto& state = *result_.state;
    auto built = config::buildRuntime(plan_.config, state.sink, start_);
    if (!built.ok()) {
      result_.error = "the gateway config could not be built:\n" + config::formatDiagnostics(built.diagnostics);
      return false;
    }
    state.runtime = std::move(built.runtime);
    auto& runtime = *state.runtime;

    CollectorOptions collectorOptions;
    collectorOptions.start = start_;
    collectorOptions.bucket = plan_.bucket;
    collectorOptions.windows = plan_.windows;
    collectorOptions.watch = plan_.watch;
    state.collector = std::make_unique<MetricsCollector>(runtime, state.clients, std::move(collectorOptions));
    state.sink.setTarget(state.collector.get());
    if (hooks_.timeline) state.collector->setTimelineSink(hooks_.timeline);

    // One backend per (service, target), in runtime order.
    std::vector<std::vector<MockBackend*>> table(runtime.services.size());
    for (std::size_t s = 0; s < runtime.services.size(); ++s) {
      const auto& service = runtime.services[s];
      const auto& targets = *service.targets;
      for (std::size_t t = 0; t < targets.size(); ++t) {
        BackendConfig cfg = plan_.backendFor(service.config->name, targets.target(t).name, t);
        cfg.service = service.config->name;
        cfg.target = targets.target(t).name;
        if (auto err = validateBackendConfig(cfg)) {
          result_.error = "backend " + cfg.service + " " + cfg.target + ": " + *err;
          return false;
        }
        backends_.push_back(std::make_unique<MockBackend>(sim_, std::move(cfg)));
        table[s].push_back(backends_.back().get());
        injector_.addBackend(*backends_.back());
      }
    }
    if (plan_.injectFailures) {
      for (const auto& planned : plan_.failures) {
        FailureSpec spec = planned.spec;
        spec.start = start_ + planned.at;
        if (auto err = injector_.inject(spec)) {
          result_.error = "failure on " + spec.service + (spec.target.empty() ? "" : " " + spec.target) + ": " + *err;
          return false;
        }
      }
    }

    gateway_ = std::make_unique<SimGateway>(sim_, runtime, std::move(table), *state.collector,
                                            sim_.random().stream("gateway"));
    return true;
  }

  bool replay() {
    auto opened = trace::openTraceFile(plan_.traceFile, plan_.traceFormat, plan_.readerOptions);
    if (!opened) {
      result_.error = "trace " + plan_.traceFile + ": " + opened.error.message;
      return false;
    }
    reader_ = std::move(opened.ptr);
    trace::ReplayOptions options = plan_.replay;
    options.timelineStart = start_;
    Rng spreadRng = sim_.random().stream("trace.spread");
    trace::ReplayStream stream(*reader_, std::move(options), [&spreadRng] { return spreadRng(); });

    scheduleBucket(start_ + plan_.bucket);

    auto& clients = result_.state->clients;
    trace::ReplayItem item;
    std::vector<core::Header> headers;
    // One view for the whole loop, every member but `claims` (always empty here) assigned per
    // record: a view declared in the loop was zeroed first on every record (128 bytes by
    // `rep stos`, whose start-up cost is most of the work for so few bytes).
    core::RequestView view;
    while (stream.next(item)) {
      const trace::TraceRecord& r = *item.record;
      // The replayed client identity stands in for the peer address, so `key: [ip]` limits
      // whatever identity the scenario selected (an IP, an API key header, a user field).
      const std::string_view identity = item.client.empty() ? r.client : item.client;
      // Start loading the client's slot now; the events before this arrival run meanwhile.
      const std::uint64_t identityHash = ClientTable::hash(identity);
      clients.prefetch(identityHash);
      sim_.runUntil(item.at);
      headers.clear();
      for (const auto& f : r.headers) headers.push_back(core::Header{f.name, f.value});
      for (const auto& [name, value] : plan_.headers) headers.push_back(core::Header{name, value});
      view.method = r.method.empty() ? std::string_view{"GET"} : r.method;
      view.path = r.path;
      view.query = r.query;
      view.host = r.host.empty() ? std::string_view{plan_.defaultHost} : r.host;
      view.headers = headers;
      view.clientAddress = identity;
      view.consumer = r.user;
      const ClientId client = clients.intern(identity, identityHash);
      gateway_->submit(view, client, core::TimePoint{item.time.time_since_epoch()}, r.bytes.value_or(0));
      ++result_.submitted;
      if (hooks_.progress && result_.submitted % kProgressEvery == 0)
        hooks_.progress(RunProgress{result_.submitted, sim_.now() - start_, reader_->stats().bytesRead,
                                    reader_->stats().compressed});
    }
    result_.reader = reader_->stats();
    result_.replay = stream.stats();
    result_.traceOrigin = stream.origin();
    if (!result_.reader.error.empty()) {
      result_.error = "reading " + plan_.traceFile + ": " + result_.reader.error;
      return false;
    }
    return true;
  }

  void drain() {
    // Answer everything in flight (their timeouts, retries and backoffs run as events). The run
    // ends with the last answer (or the last arrival); later events — the rest of a failure
    // window, backend bookkeeping — have nothing left to affect and are not run.
    while (gateway_->stats().inFlight != 0 && sim_.step()) {
    }
    const core::TimePoint end = sim_.now();
    sim_.cancel(tick_);
    closeBucketAt(end);
    result_.state->collector->finish(end);
    result_.simulated = end - start_;
    result_.events = sim_.stats().executed;
    result_.failureWindows = injector_.windows();
    for (const auto& b : backends_) {
      BackendSummary summary;
      summary.service = b->config().service;
      summary.target = b->config().target;
      summary.stats = b->stats();
      summary.utilization = b->utilization();
      summary.meanQueue = b->meanQueueLength();
      result_.backends.push_back(std::move(summary));
    }
    if (hooks_.progress)
      hooks_.progress(RunProgress{result_.submitted, result_.simulated, result_.reader.bytesRead, result_.reader.compressed});
  }

 private:
  void scheduleBucket(core::TimePoint at) {
    tick_ = sim_.schedule(at, [this, at] {
      closeBucketAt(at);
      scheduleBucket(at + plan_.bucket);
    });
  }

  void closeBucketAt(core::TimePoint end) {
    if (bucketsClosed_ != 0 && end <= lastBucketEnd_) return;
    GaugeSample gauges;
    const auto& runtime = *result_.state->runtime;
    std::size_t b = 0;
    for (const auto& service : runtime.services) {
      for (std::size_t i = 0; i < service.breakers.size(); ++i) {
        const auto& breaker = *service.breakers[i];
        BreakerGauge g;
        g.service = service.config->name;
        g.target = service.config->circuitBreaker && service.config->circuitBreaker->perTarget
                       ? service.targets->target(i).name
                       : std::string{};
        g.state = breaker.stateAt(end);
        gauges.breakers.push_back(std::move(g));
      }
      for (std::size_t t = 0; t < service.targets->size(); ++t, ++b) {
        const auto& backend = *backends_[b];
        QueueGauge q;
        q.service = service.config->name;
        q.target = service.targets->target(t).name;
        q.queued = backend.queueLength();
        q.busy = backend.busyServers();
        q.servers = backend.usableServers();
        gauges.backends.push_back(std::move(q));
      }
    }
    result_.state->collector->closeBucket(end, gauges);
    lastBucketEnd_ = end;
    ++bucketsClosed_;
  }

  const RunPlan& plan_;
  const RunHooks& hooks_;
  RunResult& result_;
  core::TimePoint start_{};
  Simulation sim_;
  FailureInjector injector_;
  std::vector<std::unique_ptr<MockBackend>> backends_;
  std::unique_ptr<SimGateway> gateway_;
  std::unique_ptr<trace::TraceReader> reader_;
  EventId tick_;
  core::TimePoint lastBucketEnd_{};
  std::uint64_t bucketsClosed_ = 0;
};

}  // namespace

RunResult runSimulation(const RunPlan& plan, const RunHooks& hooks) {
  RunResult result;
  result.label = plan.label;
  result.seed = plan.seed;
  result.state = std::make_shared<RunResult::State>();
  if (plan.config == nullptr || !plan.backendFor || plan.bucket <= core::Duration::zero()) {
    result.error = "invalid run plan (no config, no backends or a non-positive timeline bucket)";
    return result;
  }
  {
    Run run(plan, hooks, result);
    if (!run.start() || !run.replay()) return result;
    run.drain();
  }
  result.ok = true;
  return result;
}

}  // namespace gatelab::sim
