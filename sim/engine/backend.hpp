#pragma once
// MockBackend: one simulated upstream target (a service's replica). `servers` servers work on
// calls in FIFO order from a bounded queue: an M/M/c/K queue when the service time is exponential
// and arrivals are Poisson, so results can be checked against queueing theory.
//
// A call, from the caller's side:
//   CallHandle h = backend.call([](const CallOutcome& o) { ... });   // at sim.now()
//   ... later, e.g. when the caller's timeout fires: backend.cancel(h);
// The completion is always delivered from an event of the backend (never inside call() or
// cancel()), exactly once, unless the caller cancelled first; after cancel() it is never called.
//
//   arrival   refused (connect failure, delivered after refusalLatency) when a Down window is in
//             force, or when every usable server is busy and the queue holds queueCapacity calls;
//             swallowed (never answered) in a BlackHole window; otherwise served at once when a
//             usable server is free, else queued (FIFO).
//   service   starts when a server frees up; the service time is drawn then (stream
//             "backend/<service>/<target>/service"), scaled by the latency failures in force
//             then; the status is decided then: errorStatus with errorProbability (stream
//             ".../errors"), then each ErrorBurst in force, else okStatus.
//   response  delivered when the service ends, as CallOutcome::response(status, now - arrival),
//             unless a BlackHole window is in force then (the response is lost).
//   abandon   cancel(): the completion is dropped at once. With AbandonPolicy::kKeepWorking
//             (default) the backend does not notice, like a real server: a queued call is still
//             served and a call in service holds its server until its service would have ended.
//             kDropQueued removes abandoned queued calls from the queue; kStopWork also frees the
//             server of an abandoned call in service at once.
// Failure windows (addFailure, usually through FailureInjector) are evaluated by time, not by the
// order of same-time events: a window [start, end) is in force for anything happening at
// start <= t < end. Semantics of each kind: failure_effect.hpp and docs/simulator.md.
//
// Statistics: counters, waiting time (arrival -> service start), and exact time integrals of busy
// servers and queue length (utilization over any interval = difference of integrals).
// Thread safety: none (belongs to one Simulation). Complexity: call/cancel O(1) amortised plus
// one event schedule; a Down start with resetInFlight is O(calls ever in flight at once).

#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/time.hpp"
#include "sim/engine/failure_effect.hpp"
#include "sim/engine/random.hpp"
#include "sim/engine/service_time.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/engine/small_function.hpp"
#include "sim/engine/time_average.hpp"

namespace gatelab::sim {

/// Event kinds scheduled by mock backends (see EventKind).
inline constexpr EventKind kBackendServiceEnd = 0x0101;
inline constexpr EventKind kBackendRefusal = 0x0102;
inline constexpr EventKind kBackendReset = 0x0103;
inline constexpr EventKind kBackendFailureBoundary = 0x0104;

enum class AbandonPolicy : std::uint8_t {
  kKeepWorking,  ///< the backend never learns the caller left (default; a real HTTP/1.1 server)
  kDropQueued,   ///< abandoned calls leave the queue; a call in service still runs to its end
  kStopWork,     ///< kDropQueued, and an abandoned call in service frees its server at once
};

const char* toString(AbandonPolicy p) noexcept;

inline constexpr std::uint32_t kUnboundedQueue = std::numeric_limits<std::uint32_t>::max();

struct BackendConfig {
  std::string service;  ///< the service name (events, stream names, failure targeting)
  std::string target;   ///< the target (replica) name; may be empty for a one-target service
  std::uint32_t servers = 1;                        ///< c >= 1
  std::uint32_t queueCapacity = kUnboundedQueue;    ///< waiting room beyond the servers (K - c)
  ServiceTime serviceTime = ServiceTime::exponential(std::chrono::milliseconds{10});
  double errorProbability = 0.0;                    ///< [0, 1]: base share of error responses
  std::uint16_t errorStatus = 500;                  ///< status of those errors (100..599)
  std::uint16_t okStatus = 200;                     ///< status of the other responses
  core::Duration refusalLatency{0};                 ///< how long a refused connect takes to fail
  AbandonPolicy onAbandon = AbandonPolicy::kKeepWorking;
};

/// nullopt when usable, else every problem found, one per line, naming the field
/// ("servers: must be >= 1, got 0").
std::optional<std::string> validateBackendConfig(const BackendConfig& config);

/// Identifies one call of one backend. Default-constructed: refers to nothing.
class CallHandle {
 public:
  constexpr CallHandle() noexcept = default;
  [[nodiscard]] constexpr bool valid() const noexcept { return generation_ != 0; }
  friend constexpr bool operator==(const CallHandle&, const CallHandle&) = default;

 private:
  friend class MockBackend;
  constexpr CallHandle(std::uint32_t index, std::uint32_t generation) noexcept : index_(index), generation_(generation) {}
  std::uint32_t index_ = 0;
  std::uint32_t generation_ = 0;
};

struct BackendStats {
  std::uint64_t calls = 0;             ///< call() invocations
  std::uint64_t accepted = 0;          ///< calls served at once or queued
  std::uint64_t refusedQueueFull = 0;  ///< connect failures: servers busy and queue full
  std::uint64_t refusedDown = 0;       ///< connect failures: a Down window was in force
  std::uint64_t swallowed = 0;         ///< calls that arrived in a BlackHole window
  std::uint64_t responsesLost = 0;     ///< services that ended in a BlackHole window
  std::uint64_t resets = 0;            ///< calls ended by a Down window's start (resetInFlight)
  std::uint64_t responses = 0;         ///< responses delivered (any status)
  std::uint64_t errorResponses = 0;    ///< of which not okStatus
  std::uint64_t abandoned = 0;         ///< successful cancel() calls
  std::uint64_t servicesStarted = 0;
  std::uint64_t servicesCompleted = 0;  ///< services that ran to their end (abandoned calls'
                                        ///< included; not those cut by a reset or kStopWork)
  core::Duration totalWait{0};         ///< sum over started services of (start - arrival)
  core::Duration maxWait{0};
  core::Duration totalService{0};      ///< sum of the service times drawn (scaled by failures)
};

class MockBackend {
 public:
  using Completion = SmallFunction<void(const core::resilience::CallOutcome&), 40>;

  /// Precondition: validateBackendConfig(config) returned nullopt (asserted). The backend keeps a
  /// reference to `sim`, which must outlive it.
  MockBackend(Simulation& sim, BackendConfig config);
  /// Cancels the backend's pending events (completions are not called).
  ~MockBackend();
  MockBackend(const MockBackend&) = delete;
  MockBackend& operator=(const MockBackend&) = delete;

  /// Starts a call at sim.now(). `done` is called once, from a later event (possibly at the same
  /// time), unless cancel() comes first.
  CallHandle call(Completion done);
  /// The caller gives up on the call (its timeout): `done` will not be called. Returns false when
  /// the call had already been answered or cancelled. See AbandonPolicy for the server's side.
  bool cancel(CallHandle handle);

  /// Puts `effect` in force over [start, end). Preconditions: start >= sim.now(), end > start, the
  /// effect is not Flapping (FailureInjector expands it) and is valid (validateFailureEffect).
  void addFailure(core::TimePoint start, core::TimePoint end, const FailureEffect& effect);

  [[nodiscard]] const BackendConfig& config() const noexcept { return config_; }
  [[nodiscard]] const BackendStats& stats() const noexcept { return stats_; }
  /// "users/0" (or "users" without a target).
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  [[nodiscard]] std::uint32_t busyServers() const noexcept { return busy_; }
  /// Calls waiting for a server (abandoned ones still queued under kKeepWorking included).
  [[nodiscard]] std::uint32_t queueLength() const noexcept { return queued_; }
  /// Servers usable now (fewer than `servers` during a SlowRecovery capacity ramp).
  [[nodiscard]] std::uint32_t usableServers() const noexcept { return usable_; }
  /// Conditions as of the last time the backend was touched (arrival, service end, boundary).
  [[nodiscard]] bool isDown() const noexcept { return down_; }
  [[nodiscard]] bool isBlackHole() const noexcept { return blackHole_; }

  /// Time integrals since construction (busy servers, queue length); see TimeWeighted.
  [[nodiscard]] const TimeWeighted& busyIntegral() const noexcept { return busyTw_; }
  [[nodiscard]] const TimeWeighted& queueIntegral() const noexcept { return queueTw_; }
  /// Mean busy servers / servers from construction to sim.now().
  [[nodiscard]] double utilization() const noexcept;
  /// Mean queue length from construction to sim.now().
  [[nodiscard]] double meanQueueLength() const noexcept { return queueTw_.mean(sim_.now()); }
  /// Mean waiting time (arrival -> service start) of the services started so far, in seconds.
  [[nodiscard]] double meanWaitSeconds() const noexcept;

  /// Zeroes the counters and restarts the time integrals at sim.now() (end of a warm-up period).
  /// Calls in flight are unaffected.
  void resetStatistics() noexcept;

 private:
  enum class CallState : std::uint8_t { kFree, kRefusing, kQueued, kDropped, kInService, kSwallowed, kResetting };

  struct Call {
    Completion done;
    core::TimePoint arrival;
    EventId event;
    std::uint32_t generation = 1;
    std::uint16_t status = 0;
    CallState state = CallState::kFree;
    bool abandoned = false;
  };

  struct Window {
    core::TimePoint start;
    core::TimePoint end;
    FailureEffect effect;
    std::uint32_t stepsReached = 0;  // SlowRecovery: capacity steps whose time has come
  };

  std::uint32_t allocateCall();
  void freeCall(std::uint32_t i) noexcept;
  void refuse(std::uint32_t i, core::TimePoint now);
  void startService(std::uint32_t i, core::TimePoint now);
  void startQueued(core::TimePoint now);
  void onServiceEnd(std::uint32_t i, std::uint32_t generation);
  void deliverTerminal(std::uint32_t i, std::uint32_t generation);
  void resetInFlight(core::TimePoint now);
  void setBusy(std::uint32_t busy, core::TimePoint now) noexcept;
  void setQueued(std::uint32_t queued, core::TimePoint now) noexcept;

  // Brings the failure conditions up to `now` (activates/expires windows, capacity steps), resets
  // in-flight calls when a resetting Down starts, and starts queued calls a server can now take.
  // Never calls a completion.
  void refresh(core::TimePoint now);
  void recomputeConditions(core::TimePoint now);
  [[nodiscard]] core::TimePoint stepTime(const Window& w, std::uint32_t step) const noexcept;
  [[nodiscard]] core::Duration scaledServiceTime(core::Duration base, core::TimePoint now) const noexcept;
  [[nodiscard]] std::uint16_t decideStatus(core::TimePoint now);

  Simulation& sim_;
  BackendConfig config_;
  std::string name_;
  Rng serviceRng_;
  Rng errorRng_;

  std::vector<Call> calls_;
  std::vector<std::uint32_t> freeCalls_;
  std::deque<std::uint32_t> waiting_;  // FIFO of call indices (kQueued, or kDropped to skip)
  std::uint32_t busy_ = 0;
  std::uint32_t queued_ = 0;
  TimeWeighted busyTw_;
  TimeWeighted queueTw_;
  BackendStats stats_;

  // Failure windows: pending ones sorted by start from nextWindow_ on; active ones apart.
  std::vector<Window> windows_;
  std::size_t nextWindow_ = 0;
  std::vector<Window> active_;
  std::vector<EventId> boundaryEvents_;  // cancelled on destruction
  core::TimePoint nextChange_ = core::TimePoint::max();
  std::uint32_t usable_ = 1;
  bool down_ = false;
  bool blackHole_ = false;
  bool latencyActive_ = false;  // a LatencySpike or a SlowRecovery latency ramp is in force
  bool burstActive_ = false;
};

}  // namespace gatelab::sim
