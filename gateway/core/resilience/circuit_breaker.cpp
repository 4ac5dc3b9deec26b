#include "gateway/core/resilience/circuit_breaker.hpp"

#include <cassert>
#include <limits>
#include <utility>

#include "gateway/core/resilience/time_math.hpp"

namespace gatelab::core::resilience {

namespace {

constexpr std::uint32_t kMaxWindowSize = 1'000'000;
constexpr std::int64_t kMaxBuckets = 3'600;
constexpr Duration kMaxOpenFor = std::chrono::hours{24 * 365};

}  // namespace

std::optional<std::string> validateBreakerConfig(const BreakerConfig& c) {
  const bool anyTrip = c.consecutiveFailures > 0 || c.failureRate.has_value() || c.slowCallRate.has_value();
  if (!anyTrip)
    return "circuit_breaker: set at least one of consecutive_failures, failure_rate, slow_call_rate";
  if (c.failureRate && (c.failureRate->milli == 0 || c.failureRate->milli > Percent::kHundred))
    return "circuit_breaker.failure_rate: must be above 0% and at most 100%";
  if (c.slowCallRate) {
    if (c.slowCallRate->milli == 0 || c.slowCallRate->milli > Percent::kHundred)
      return "circuit_breaker.slow_call_rate: must be above 0% and at most 100%";
    if (c.slowCallDuration <= Duration{0})
      return "circuit_breaker.slow_call_duration: must be positive when slow_call_rate is set";
  }
  if (c.failureRate || c.slowCallRate) {
    if (c.minimumCalls == 0) return "circuit_breaker.minimum_calls: must be at least 1";
    if (c.window == WindowKind::kCount) {
      if (c.windowSize == 0 || c.windowSize > kMaxWindowSize)
        return "circuit_breaker.window: a count window holds 1 to 1000000 calls";
      if (c.minimumCalls > c.windowSize)
        return "circuit_breaker.minimum_calls: cannot exceed the window size of a count window (" +
               std::to_string(c.windowSize) + " calls)";
    } else {
      if (c.bucketWidth <= Duration{0}) return "circuit_breaker.window_bucket: must be positive";
      if (c.windowDuration < c.bucketWidth || c.windowDuration % c.bucketWidth != Duration{0})
        return "circuit_breaker.window: a time window must be a whole number of buckets (" +
               formatDuration(c.bucketWidth) + ")";
      if (c.windowDuration / c.bucketWidth > kMaxBuckets)
        return "circuit_breaker.window: a time window holds at most 3600 buckets";
    }
  }
  if (c.openFor <= Duration{0} || c.openFor > kMaxOpenFor)
    return "circuit_breaker.open_for: must be positive and at most 365 days";
  if (c.openForMultiplier == 0) return "circuit_breaker.open_for_multiplier: must be at least 1";
  if (c.openForMultiplier > 1 && (c.maxOpenFor < c.openFor || c.maxOpenFor > kMaxOpenFor))
    return "circuit_breaker.max_open_for: must be at least open_for and at most 365 days";
  if (c.halfOpenProbes == 0) return "circuit_breaker.half_open_calls: must be at least 1";
  if (c.halfOpenSuccesses == 0 || c.halfOpenSuccesses > c.halfOpenProbes)
    return "circuit_breaker.half_open_successes: must be between 1 and half_open_calls (" +
           std::to_string(c.halfOpenProbes) + ")";
  if (c.halfOpenMaxWait < Duration{0}) return "circuit_breaker.half_open_max_wait: must not be negative";
  if (c.fallback.status < 100 || c.fallback.status > 599)
    return "circuit_breaker.fallback.status: must be an HTTP status 100..599";
  return std::nullopt;
}

CircuitBreaker::CircuitBreaker(BreakerConfig config, EventSubject subject, EventSink& sink)
    : config_(std::move(config)),
      subject_(std::move(subject)),
      sink_(&sink),
      countWindow_(config_.window == WindowKind::kCount ? config_.windowSize : 1),
      timeWindow_(config_.window == WindowKind::kTime ? config_.windowDuration : std::chrono::seconds{1},
                  config_.window == WindowKind::kTime ? config_.bucketWidth : std::chrono::seconds{1}) {
  assert(!validateBreakerConfig(config_).has_value());
}

// ---------------------------------------------------------------------------------------------
// Lazy time-driven transitions

std::optional<CircuitBreaker::Due> CircuitBreaker::due(TimePoint now) const noexcept {
  if (state_ == BreakerState::kOpen && now >= openUntil_) return Due{BreakerState::kHalfOpen, openUntil_};
  if (state_ == BreakerState::kHalfOpen && config_.halfOpenMaxWait > Duration{0} && firstProbeAt_ &&
      probesPending_ > 0) {
    const TimePoint deadline = addSaturating(*firstProbeAt_, config_.halfOpenMaxWait);
    if (now >= deadline) return Due{BreakerState::kOpen, deadline};
  }
  return std::nullopt;
}

void CircuitBreaker::refresh(TimePoint now) {
  // At most two steps: a stuck half-open period reopens, and that open period may itself have
  // ended; the new half-open period has no probes, so it has no deadline.
  while (const std::optional<Due> d = due(now)) {
    if (d->to == BreakerState::kHalfOpen) {
      transition(BreakerState::kHalfOpen, d->at, "open for " + formatDuration(openFor_) + " elapsed");
    } else {
      transition(BreakerState::kOpen, d->at,
                 std::to_string(probesPending_) + " probe call(s) without an outcome " +
                     formatDuration(config_.halfOpenMaxWait) + " after the first (half_open_max_wait)");
    }
  }
}

void CircuitBreaker::advance(TimePoint now) { refresh(now); }

BreakerState CircuitBreaker::stateAt(TimePoint now) const noexcept {
  BreakerState s = state_;
  TimePoint openUntil = openUntil_;
  if (const std::optional<Due> d = due(now)) {
    s = d->to;
    if (s == BreakerState::kOpen) {
      openUntil = addSaturating(d->at, openForTrip(trips_ + 1));
      if (now >= openUntil) s = BreakerState::kHalfOpen;
    }
  }
  return s;
}

std::optional<TimePoint> CircuitBreaker::nextTransitionAt() const noexcept {
  if (state_ == BreakerState::kOpen) return openUntil_;
  if (state_ == BreakerState::kHalfOpen && config_.halfOpenMaxWait > Duration{0} && firstProbeAt_ &&
      probesPending_ > 0)
    return addSaturating(*firstProbeAt_, config_.halfOpenMaxWait);
  return std::nullopt;
}

TimePoint CircuitBreaker::blockedUntil() const noexcept {
  if (config_.dryRun) return TimePoint::min();
  switch (state_) {
    case BreakerState::kOpen: return openUntil_;
    case BreakerState::kForcedOpen: return TimePoint::max();
    case BreakerState::kHalfOpen:
      return probesOut_ < config_.halfOpenProbes ? TimePoint::min() : TimePoint::max();
    case BreakerState::kClosed:
    case BreakerState::kDisabled: return TimePoint::min();
  }
  return TimePoint::min();
}

Duration CircuitBreaker::openForTrip(std::uint32_t trip) const noexcept {
  if (config_.openForMultiplier <= 1 || trip <= 1) return config_.openFor;
  const std::int64_t cap = config_.maxOpenFor.count();
  const auto mult = static_cast<std::int64_t>(config_.openForMultiplier);
  std::int64_t d = config_.openFor.count();
  for (std::uint32_t i = 1; i < trip && d < cap; ++i) d = d > cap / mult ? cap : d * mult;
  return Duration{d < cap ? d : cap};
}

// ---------------------------------------------------------------------------------------------
// Admission

Admission CircuitBreaker::tryAcquire(TimePoint now) {
  refresh(now);
  Admission a;
  a.state = state_;
  auto admit = [&](PermitKind kind) {
    a.verdict = BreakerVerdict::kAdmit;
    a.permit = Permit{epoch_, kind};
    ++stats_.admitted;
  };
  auto reject = [&](std::optional<Duration> retryAfter) {
    if (config_.dryRun) {
      admit(PermitKind::kUntracked);
      a.dryRunWouldReject = true;
      a.retryAfter = retryAfter;
      ++stats_.dryRunWouldReject;
      return;
    }
    a.verdict = BreakerVerdict::kFailFast;
    a.retryAfter = retryAfter;
    a.fallback = &config_.fallback;
    ++stats_.failedFast;
  };
  switch (state_) {
    case BreakerState::kClosed: admit(PermitKind::kTracked); break;
    case BreakerState::kDisabled: admit(PermitKind::kUntracked); break;
    case BreakerState::kOpen: reject(openUntil_ - now); break;
    case BreakerState::kForcedOpen: reject(std::nullopt); break;
    case BreakerState::kHalfOpen:
      if (probesOut_ < config_.halfOpenProbes) {
        ++probesOut_;
        ++probesPending_;
        if (!firstProbeAt_) firstProbeAt_ = now;
        ++stats_.probes;
        admit(PermitKind::kProbe);
      } else {
        reject(std::nullopt);
      }
      break;
  }
  return a;
}

void CircuitBreaker::release(const Permit& permit) noexcept {
  ++stats_.released;
  if (permit.kind == PermitKind::kProbe && permit.epoch == epoch_ && state_ == BreakerState::kHalfOpen) {
    assert(probesOut_ > 0 && probesPending_ > 0);
    --probesOut_;
    --probesPending_;
  }
}

// ---------------------------------------------------------------------------------------------
// Outcomes

void CircuitBreaker::onResult(const Permit& permit, const CallOutcome& outcome, TimePoint now) {
  handleResult(permit, config_.classifier.isFailure(outcome), outcome.latency, &outcome, now);
}

void CircuitBreaker::onResult(const Permit& permit, bool failure, Duration latency, TimePoint now) {
  handleResult(permit, failure, latency, nullptr, now);
}

void CircuitBreaker::handleResult(const Permit& permit, bool failure, Duration latency,
                                  const CallOutcome* outcome, TimePoint now) {
  refresh(now);
  const bool stale = permit.epoch != epoch_ ||
                     (permit.kind == PermitKind::kTracked && state_ != BreakerState::kClosed) ||
                     (permit.kind == PermitKind::kProbe && state_ != BreakerState::kHalfOpen);
  if (permit.kind == PermitKind::kNone || permit.kind == PermitKind::kUntracked || stale) {
    ++stats_.ignoredResults;
    return;
  }
  const bool slow = config_.slowCallRate.has_value() && latency > config_.slowCallDuration;
  ++(failure ? stats_.failures : stats_.successes);
  if (slow) ++stats_.slowCalls;
  if (permit.kind == PermitKind::kTracked) {
    recordClosed(failure, slow, now);
  } else {
    recordProbe(failure, slow, latency, outcome, now);
  }
}

std::string CircuitBreaker::windowText(std::uint64_t calls) const {
  if (config_.window == WindowKind::kCount) return "over the last " + std::to_string(calls) + " calls";
  return "over the last " + formatDuration(config_.windowDuration) + " (" + std::to_string(calls) + " calls)";
}

void CircuitBreaker::recordClosed(bool failure, bool slow, TimePoint now) {
  consecutiveFailures_ = failure ? consecutiveFailures_ + 1 : 0;
  const bool rates = config_.failureRate.has_value() || config_.slowCallRate.has_value();
  if (rates) {
    if (config_.window == WindowKind::kCount) {
      countWindow_.record(failure, slow);
    } else {
      timeWindow_.record(now, failure, slow);
    }
  }
  if (config_.consecutiveFailures > 0 && consecutiveFailures_ >= config_.consecutiveFailures) {
    transition(BreakerState::kOpen, now,
               std::to_string(consecutiveFailures_) + " consecutive failures >= " +
                   std::to_string(config_.consecutiveFailures));
    return;
  }
  if (!rates) return;
  const WindowTotals t = totals(now);
  if (t.calls < config_.minimumCalls) return;
  if (config_.failureRate && config_.failureRate->reachedBy(t.failures, t.calls)) {
    transition(BreakerState::kOpen, now,
               "failure rate " + formatRatio(t.failures, t.calls) + " (" + std::to_string(t.failures) + "/" +
                   std::to_string(t.calls) + ") >= " + formatPercent(*config_.failureRate) + " " +
                   windowText(t.calls));
    return;
  }
  if (config_.slowCallRate && config_.slowCallRate->reachedBy(t.slowCalls, t.calls)) {
    transition(BreakerState::kOpen, now,
               "slow-call rate " + formatRatio(t.slowCalls, t.calls) + " (" + std::to_string(t.slowCalls) +
                   "/" + std::to_string(t.calls) + " slower than " + formatDuration(config_.slowCallDuration) +
                   ") >= " + formatPercent(*config_.slowCallRate) + " " + windowText(t.calls));
  }
}

void CircuitBreaker::recordProbe(bool failure, bool slow, Duration latency, const CallOutcome* outcome,
                                 TimePoint now) {
  assert(probesPending_ > 0);
  --probesPending_;
  if (failure) {
    transition(BreakerState::kOpen, now,
               "probe call failed" + (outcome != nullptr ? ": " + describe(*outcome) : std::string{}));
    return;
  }
  if (slow) {
    transition(BreakerState::kOpen, now,
               "probe call slow: " + formatDuration(latency) + " > " + formatDuration(config_.slowCallDuration));
    return;
  }
  ++probeSuccesses_;
  if (probeSuccesses_ >= config_.halfOpenSuccesses) {
    transition(BreakerState::kClosed, now,
               std::to_string(probeSuccesses_) + " of " + std::to_string(config_.halfOpenSuccesses) +
                   " required probe calls succeeded");
  }
}

WindowTotals CircuitBreaker::totals(TimePoint now) noexcept {
  return config_.window == WindowKind::kCount ? countWindow_.totals() : timeWindow_.totals(now);
}

WindowTotals CircuitBreaker::lastTotals() const noexcept {
  return config_.window == WindowKind::kCount ? countWindow_.totals() : timeWindow_.lastTotals();
}

BreakerCounters CircuitBreaker::counters() const noexcept {
  const WindowTotals t = lastTotals();
  BreakerCounters c;
  c.windowCalls = t.calls;
  c.windowFailures = t.failures;
  c.windowSlowCalls = t.slowCalls;
  c.consecutiveFailures = consecutiveFailures_;
  c.probeSuccesses = probeSuccesses_;
  c.trips = trips_;
  return c;
}

// ---------------------------------------------------------------------------------------------
// Transitions

void CircuitBreaker::transition(BreakerState to, TimePoint at, std::string reason) {
  BreakerStateChanged ev;
  ev.at = at;
  ev.subject = subject_;
  ev.from = state_;
  ev.to = to;
  ev.reason = std::move(reason);
  ev.counters = counters();  // the numbers that fired, before this transition resets anything
  ev.dryRun = config_.dryRun;

  const BreakerState from = state_;
  state_ = to;
  ++epoch_;
  ++stats_.transitions;
  probesOut_ = 0;
  probesPending_ = 0;
  probeSuccesses_ = 0;
  firstProbeAt_.reset();
  if (from == BreakerState::kClosed || to == BreakerState::kClosed) {
    countWindow_.clear();
    timeWindow_.clear();
    consecutiveFailures_ = 0;
  }
  switch (to) {
    case BreakerState::kOpen:
      ++trips_;
      ++stats_.trips;
      openFor_ = openForTrip(trips_);
      openUntil_ = addSaturating(at, openFor_);
      ev.openFor = openFor_;
      ev.counters.trips = trips_;
      break;
    case BreakerState::kClosed: trips_ = 0; break;
    case BreakerState::kHalfOpen:
    case BreakerState::kForcedOpen:
    case BreakerState::kDisabled: break;
  }
  sink_->onEvent(Event{std::move(ev)});
}

void CircuitBreaker::forceOpen(TimePoint now, std::string_view why) {
  refresh(now);
  if (state_ == BreakerState::kForcedOpen) return;
  transition(BreakerState::kForcedOpen, now,
             why.empty() ? std::string{"forced open by operator"} : "forced open by operator: " + std::string{why});
}

void CircuitBreaker::disable(TimePoint now, std::string_view why) {
  refresh(now);
  if (state_ == BreakerState::kDisabled) return;
  transition(BreakerState::kDisabled, now,
             why.empty() ? std::string{"disabled by operator"} : "disabled by operator: " + std::string{why});
}

void CircuitBreaker::reset(TimePoint now, std::string_view why) {
  refresh(now);
  const std::string reason =
      why.empty() ? std::string{"reset by operator"} : "reset by operator: " + std::string{why};
  if (state_ == BreakerState::kClosed) {
    // Already closed: forget history without an event (nothing observable changed state).
    countWindow_.clear();
    timeWindow_.clear();
    consecutiveFailures_ = 0;
    trips_ = 0;
    return;
  }
  transition(BreakerState::kClosed, now, reason);
}

}  // namespace gatelab::core::resilience
