#pragma once
// CircuitBreaker: a pure state machine that stops sending calls to a failing service (or target)
// and lets a few probe calls find out when it has recovered.
//
//   closed --trip--> open --open_for elapsed--> half-open --M probe successes--> closed
//                      ^                            |
//                      +------any probe failure-----+
//   plus operator states: forced-open, disabled (left with reset()); and a dry-run flag
//   ("metrics only") that computes and reports every transition but admits every call.
//
// Trip conditions, any combination, checked after each call recorded while closed:
//   - consecutive failures >= N (no minimum; a success resets the run);
//   - failure rate >= X% and/or slow-call rate >= Y% (a call is slow when its latency > D) over
//     a count-based window (last N calls) or a time-based window (last T, bucketed), evaluated
//     only once the window holds at least `minimumCalls` calls (resilience4j: 9 failures out of
//     9 calls with minimum 10 do not trip; the 10th call is evaluated).
// Open lasts open_for x multiplier^(trips-1), capped (APISIX doubles 2s, 4s, 8s... up to
// max_breaker_sec); the trip count resets when the breaker closes.
// Half-open admits exactly `halfOpenProbes` (K) probe calls, however many callers ask at the same
// time: tryAcquire hands out at most K probe permits per half-open period (a released permit is
// handed out again). `halfOpenSuccesses` (M <= K) successful probes close the breaker; any failed
// probe (or a slow one, when slow-call detection is configured) reopens it.
//
// Time: every call takes `now`. State is computed lazily: the breaker becomes half-open at
// exactly opened_at + open_for, noticed at the next call; nextTransitionAt() tells the host when
// to call advance() if it wants the event on time (an Asio timer live, an event in the sim).
// Events: every state change is reported to the EventSink given at construction, with a reason
// carrying the numbers that fired. Semantics and the gateway equivalents: docs/resilience.md.
//
// Thread safety: not thread-safe; calls must be serialised (one breaker per event loop, or a
// mutex in the host). "Concurrent callers" means many requests in flight at once, which the
// permit accounting handles.
// Complexity: tryAcquire, onResult, release, advance are O(1) (a time window after a long idle
// period: O(buckets)); events allocate their reason string.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/events.hpp"
#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/resilience/percent.hpp"
#include "gateway/core/resilience/sliding_window.hpp"
#include "gateway/core/resilience/states.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::resilience {

enum class WindowKind : std::uint8_t {
  kCount,  ///< the last `windowSize` calls (resilience4j COUNT_BASED)
  kTime,   ///< the calls of the last `windowDuration` (resilience4j TIME_BASED)
};

const char* toString(WindowKind k) noexcept;

struct FallbackHeader {
  std::string name;
  std::string value;
  friend bool operator==(const FallbackHeader&, const FallbackHeader&) = default;
};

/// What the host answers instead of calling upstream while the breaker fails fast (APISIX
/// api-breaker's break_response_code / _headers / _body). The default is a bare 503.
struct FallbackResponse {
  std::uint16_t status = 503;
  std::vector<FallbackHeader> headers;
  std::string body;
  friend bool operator==(const FallbackResponse&, const FallbackResponse&) = default;
};

/// Validated by validateBreakerConfig(). Defaults follow resilience4j where it has the knob.
struct BreakerConfig {
  // Trip conditions: any combination, at least one.
  std::uint32_t consecutiveFailures = 0;              ///< 0: off
  std::optional<Percent> failureRate = Percent::of(50);
  std::optional<Percent> slowCallRate;                ///< nullopt: off
  Duration slowCallDuration{std::chrono::seconds{60}};  ///< a call is slow when latency > this

  // The window the rates are computed over.
  WindowKind window = WindowKind::kCount;
  std::uint32_t windowSize = 100;                      ///< kCount: calls
  Duration windowDuration{std::chrono::seconds{60}};  ///< kTime: length T
  Duration bucketWidth{std::chrono::seconds{1}};      ///< kTime: bucket size (T % bucket == 0)
  std::uint32_t minimumCalls = 100;                    ///< rates are evaluated from this many calls

  // Open.
  Duration openFor{std::chrono::seconds{60}};      ///< first open period
  std::uint32_t openForMultiplier = 1;             ///< 2: doubles on every further trip (APISIX)
  Duration maxOpenFor{std::chrono::seconds{300}};  ///< cap when openForMultiplier > 1

  // Half-open.
  std::uint32_t halfOpenProbes = 10;     ///< K: probe calls admitted per half-open period
  std::uint32_t halfOpenSuccesses = 10;  ///< M <= K: successful probes that close the breaker
  Duration halfOpenMaxWait{0};           ///< > 0: reopen if the period has not concluded this long
                                         ///< after its first probe (stuck probes); 0: wait forever

  bool dryRun = false;            ///< metrics only: transitions computed and reported, calls admitted
  FailureClassifier classifier;   ///< what onResult(CallOutcome) counts as a failure
  FallbackResponse fallback;      ///< what the host answers while failing fast
};

/// Why `config` cannot be built (naming the proposed YAML field), or nullopt.
std::optional<std::string> validateBreakerConfig(const BreakerConfig& config);

enum class PermitKind : std::uint8_t {
  kNone,       ///< no call admitted (fail fast)
  kTracked,    ///< a call admitted while closed: its outcome feeds the window
  kProbe,      ///< one of the K half-open probes
  kUntracked,  ///< admitted, outcome ignored (disabled, or a dry run past a would-be rejection)
};

const char* toString(PermitKind k) noexcept;

/// Handed out by tryAcquire and given back with the call's outcome (or to release()). A permit
/// from an earlier state period (the breaker changed state while the call was in flight) is
/// recognised and its outcome ignored.
struct Permit {
  std::uint64_t epoch = 0;
  PermitKind kind = PermitKind::kNone;
};

enum class BreakerVerdict : std::uint8_t {
  kAdmit,     ///< send the call
  kFailFast,  ///< do not call upstream; answer with `fallback`
};

const char* toString(BreakerVerdict v) noexcept;

/// The breaker's answer for one call.
struct Admission {
  BreakerVerdict verdict = BreakerVerdict::kAdmit;
  Permit permit;                           ///< pass back to onResult()/release()
  BreakerState state = BreakerState::kClosed;  ///< state at `now` (after lazy transitions)
  std::optional<Duration> retryAfter;      ///< kFailFast while open: time until half-open (> 0);
                                           ///< nullopt when unknown (forced open, probes busy)
  bool dryRunWouldReject = false;          ///< dry run: a live breaker would have failed this fast
  const FallbackResponse* fallback = nullptr;  ///< kFailFast: the configured answer (lives as long
                                               ///< as the breaker)

  [[nodiscard]] bool admitted() const noexcept { return verdict == BreakerVerdict::kAdmit; }
};

/// Counters for metrics and tests (monotonic since construction).
struct BreakerStats {
  std::uint64_t admitted = 0;           ///< permits handed out (probes included)
  std::uint64_t failedFast = 0;         ///< calls answered with kFailFast
  std::uint64_t dryRunWouldReject = 0;  ///< dry run: calls a live breaker would have failed fast
  std::uint64_t probes = 0;             ///< probe permits handed out
  std::uint64_t successes = 0;          ///< outcomes recorded as successes
  std::uint64_t failures = 0;           ///< outcomes recorded as failures
  std::uint64_t slowCalls = 0;          ///< outcomes recorded as slow
  std::uint64_t ignoredResults = 0;     ///< untracked permits and permits from an earlier period
  std::uint64_t released = 0;           ///< permits given back without an outcome
  std::uint64_t trips = 0;              ///< transitions into kOpen
  std::uint64_t transitions = 0;        ///< every state change
};

class CircuitBreaker {
 public:
  /// Precondition: validateBreakerConfig(config) == nullopt. `sink` must outlive the breaker.
  CircuitBreaker(BreakerConfig config, EventSubject subject, EventSink& sink);

  /// May a call go upstream at `now`? Applies due lazy transitions first. O(1).
  [[nodiscard]] Admission tryAcquire(TimePoint now);

  /// The outcome of a call admitted with `permit`, classified by config().classifier; latency is
  /// outcome.latency. Applies due lazy transitions first, then may change state. O(1).
  void onResult(const Permit& permit, const CallOutcome& outcome, TimePoint now);
  /// As above with the host's own classification (a custom rule, a gRPC status...).
  void onResult(const Permit& permit, bool failure, Duration latency, TimePoint now);

  /// The call admitted with `permit` was not made or was abandoned without an outcome (client
  /// went away before sending): a probe slot becomes available again. O(1).
  void release(const Permit& permit) noexcept;

  /// Applies transitions due at `now` (open -> half-open, stuck half-open -> open) and reports
  /// them. Hosts call it at nextTransitionAt() to get events on time; calling it is optional.
  void advance(TimePoint now);

  /// Operator actions (admin endpoint, scenario scripts). Each reports an event when the state
  /// changes; `why` (may be empty) is appended to the reason.
  void forceOpen(TimePoint now, std::string_view why = {});
  void disable(TimePoint now, std::string_view why = {});
  /// Back to closed with an empty window and no trip history, from any state.
  void reset(TimePoint now, std::string_view why = {});

  /// The state as of the last call (no lazy transition applied).
  [[nodiscard]] BreakerState state() const noexcept { return state_; }
  /// The state the breaker would be in at `now` (lazy transitions applied to a copy; no events).
  [[nodiscard]] BreakerState stateAt(TimePoint now) const noexcept;
  /// When the next time-driven transition is due, if any: the end of the open period, or the
  /// half-open max-wait deadline while probes are outstanding.
  [[nodiscard]] std::optional<TimePoint> nextTransitionAt() const noexcept;
  /// Until when a load balancer should skip this breaker's target: TimePoint::min() when calls
  /// would be admitted, the end of the open period while open, TimePoint::max() while forced
  /// open or while every probe slot is taken (re-read it after every call). Always min() in a dry
  /// run.
  [[nodiscard]] TimePoint blockedUntil() const noexcept;

  /// The counters as of the last call (the time window is not moved forward).
  [[nodiscard]] BreakerCounters counters() const noexcept;
  [[nodiscard]] const BreakerStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const BreakerConfig& config() const noexcept { return config_; }
  [[nodiscard]] const EventSubject& subject() const noexcept { return subject_; }
  /// The open period the next trip would get (grows with consecutive trips).
  [[nodiscard]] Duration nextOpenFor() const noexcept { return openForTrip(trips_ + 1); }

 private:
  struct Due {
    BreakerState to;
    TimePoint at;
  };
  [[nodiscard]] std::optional<Due> due(TimePoint now) const noexcept;
  void refresh(TimePoint now);
  void transition(BreakerState to, TimePoint at, std::string reason);
  void recordClosed(bool failure, bool slow, TimePoint now);
  void recordProbe(bool failure, bool slow, Duration latency, const CallOutcome* outcome, TimePoint now);
  [[nodiscard]] WindowTotals totals(TimePoint now) noexcept;
  [[nodiscard]] WindowTotals lastTotals() const noexcept;
  [[nodiscard]] std::string windowText(std::uint64_t calls) const;
  [[nodiscard]] Duration openForTrip(std::uint32_t trip) const noexcept;
  void handleResult(const Permit& permit, bool failure, Duration latency, const CallOutcome* outcome,
                    TimePoint now);

  BreakerConfig config_;
  EventSubject subject_;
  EventSink* sink_;
  CountWindow countWindow_;
  TimeWindow timeWindow_;

  BreakerState state_ = BreakerState::kClosed;
  std::uint64_t epoch_ = 1;  ///< bumped on every transition; 0 never names a period
  std::uint32_t consecutiveFailures_ = 0;
  std::uint32_t trips_ = 0;  ///< trips since the last close
  TimePoint openUntil_{};
  Duration openFor_{0};
  std::uint32_t probesOut_ = 0;        ///< probe permits handed out and not released this period
  std::uint32_t probesPending_ = 0;    ///< of those, still without an outcome
  std::uint32_t probeSuccesses_ = 0;
  std::optional<TimePoint> firstProbeAt_;
  BreakerStats stats_;
};

}  // namespace gatelab::core::resilience
