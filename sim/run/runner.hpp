#pragma once
// Runner: one simulation run of one gateway config over one trace — the composition root of the
// simulator. It owns the engine, the runtime built from the config, the mock backends, the failure
// schedule, the simulated gateway and the metrics, and drives them:
//
//   trace reader -> ReplayStream -> (runUntil(arrival); SimGateway::submit) ... -> drain
//
// Arrivals are pulled from the stream one at a time and submitted at their replay time, so the
// event queue holds only in-flight work and memory does not grow with the trace length. The
// timeline is closed by a periodic event every `bucket` of simulated time; buckets are handed to
// the caller's sink as they close.
//
// Determinism: every random draw comes from streams derived from RunPlan::seed by stable names, so
// the same plan and seed give the same results, bit for bit (tests/sim/run/golden_test.cpp).
//
// Thread safety: a run is single-threaded and self-contained; two runs may proceed in two threads.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/config/model.hpp"
#include "gateway/config/runtime.hpp"
#include "gateway/core/time.hpp"
#include "sim/engine/backend.hpp"
#include "sim/engine/failures.hpp"
#include "sim/engine/random.hpp"
#include "sim/metrics/collector.hpp"
#include "sim/metrics/metric_ref.hpp"
#include "sim/trace/reader.hpp"
#include "sim/trace/replay.hpp"
#include "sim/trace/trace_format.hpp"

namespace gatelab::sim {

/// A failure at an offset from the start of the run (FailureSpec::start is set by the runner).
struct PlannedFailure {
  core::Duration at{0};
  FailureSpec spec;
};

/// Everything one run needs, already validated (the scenario loader builds it).
struct RunPlan {
  std::string label;                                  ///< the variant's name, for messages
  std::shared_ptr<const config::GatewayConfig> config;
  RunSeed seed;

  std::string traceFile;
  trace::TraceFormat traceFormat;
  trace::ReaderOptions readerOptions;
  trace::ReplayOptions replay;   ///< timelineStart is set by the runner
  std::string defaultHost;       ///< Host for records that have none (routing by host)
  /// Headers added to every replayed request, after the record's own (e.g. an API key).
  std::vector<std::pair<std::string, std::string>> headers;

  /// The backend of `service`'s target `index` (named `target`, its URL).
  std::function<BackendConfig(const std::string& service, const std::string& target, std::size_t index)> backendFor;
  std::vector<PlannedFailure> failures;
  bool injectFailures = true;

  core::Duration bucket = std::chrono::seconds(1);  ///< timeline bucket width (> 0)
  std::vector<MetricWindow> windows;                ///< windows the caller will query
  std::vector<MetricRef> watch;                     ///< metrics evaluated per timeline bucket (CollectorOptions::watch)
};

/// Figures of one backend (service/target) at the end of a run.
struct BackendSummary {
  std::string service;
  std::string target;
  BackendStats stats;
  double utilization = 0.0;     ///< mean busy servers / servers
  double meanQueue = 0.0;       ///< time-averaged queue length
};

/// Progress, for a progress bar: trace records submitted and the simulated time reached.
struct RunProgress {
  std::uint64_t records = 0;
  core::Duration simulated{0};
  std::uint64_t bytesRead = 0;   ///< trace bytes consumed (after decompression)
  bool compressed = false;       ///< the trace is gzip (bytesRead is then not comparable to its size)
};

struct RunHooks {
  std::function<void(const TimelineBucket&)> timeline;  ///< each closed bucket, in time order
  std::function<void(const RunProgress&)> progress;     ///< every 65536 records
};

struct RunResult {
  bool ok = false;
  std::string error;                       ///< when !ok: why the run could not start or failed

  std::string label;
  RunSeed seed;
  core::Duration simulated{0};             ///< from the run start to the last event
  std::uint64_t submitted = 0;
  trace::ReaderStats reader;               ///< lines read, malformed (with the first few lines)
  trace::ReplayStats replay;
  std::optional<trace::TraceTime> traceOrigin;  ///< trace time mapped to the run start
  std::vector<FailureWindow> failureWindows;
  std::vector<BackendSummary> backends;
  std::uint64_t events = 0;                ///< engine events executed

  /// The run's objects that reports read (kept alive together: the collector refers to the
  /// runtime's names and the client table). Valid when ok.
  struct State;
  std::shared_ptr<State> state;
  [[nodiscard]] const MetricsCollector& metrics() const;
  [[nodiscard]] const ClientTable& clients() const;
  [[nodiscard]] const config::GatewayRuntime& runtime() const;
};

/// Runs `plan` to completion (the trace is exhausted and every request answered).
RunResult runSimulation(const RunPlan& plan, const RunHooks& hooks = {});

}  // namespace gatelab::sim
