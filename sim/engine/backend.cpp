#include "sim/engine/backend.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <utility>

namespace gatelab::sim {

using core::resilience::CallOutcome;

const char* toString(AbandonPolicy p) noexcept {
  switch (p) {
    case AbandonPolicy::kKeepWorking: return "keep_working";
    case AbandonPolicy::kDropQueued: return "drop_queued";
    case AbandonPolicy::kStopWork: return "stop_work";
  }
  return "?";
}

std::optional<std::string> validateBackendConfig(const BackendConfig& config) {
  std::string errors;
  auto fail = [&errors](const std::string& msg) {
    if (!errors.empty()) errors += '\n';
    errors += msg;
  };
  auto validStatus = [](std::uint16_t s) { return s >= 100 && s <= 599; };
  if (config.service.empty()) fail("service: must not be empty");
  if (config.servers < 1) fail("servers: must be >= 1, got 0");
  if (auto e = config.serviceTime.validate()) fail("service_time: " + *e);
  if (!(config.errorProbability >= 0.0 && config.errorProbability <= 1.0))
    fail("error_probability: must be in [0, 1], got " + std::to_string(config.errorProbability));
  if (!validStatus(config.errorStatus))
    fail("error_status: must be an HTTP status 100..599, got " + std::to_string(config.errorStatus));
  if (!validStatus(config.okStatus))
    fail("ok_status: must be an HTTP status 100..599, got " + std::to_string(config.okStatus));
  if (config.refusalLatency < core::Duration{0})
    fail("refusal_latency: must be >= 0, got " + core::formatDuration(config.refusalLatency));
  if (errors.empty()) return std::nullopt;
  return errors;
}

MockBackend::MockBackend(Simulation& sim, BackendConfig config)
    : sim_(sim),
      config_(std::move(config)),
      name_(config_.target.empty() ? config_.service : config_.service + "/" + config_.target),
      serviceRng_(sim.random().stream("backend/" + name_ + "/service")),
      errorRng_(sim.random().stream("backend/" + name_ + "/errors")),
      busyTw_(sim.now()),
      queueTw_(sim.now()),
      usable_(config_.servers) {
  assert(!validateBackendConfig(config_).has_value());
}

MockBackend::~MockBackend() {
  for (const Call& c : calls_)
    if (c.state != CallState::kFree) sim_.cancel(c.event);
  for (EventId id : boundaryEvents_) sim_.cancel(id);
}

// --- call records ------------------------------------------------------------------------------

std::uint32_t MockBackend::allocateCall() {
  if (!freeCalls_.empty()) {
    const std::uint32_t i = freeCalls_.back();
    freeCalls_.pop_back();
    return i;
  }
  calls_.emplace_back();
  return static_cast<std::uint32_t>(calls_.size() - 1);
}

void MockBackend::freeCall(std::uint32_t i) noexcept {
  Call& c = calls_[i];
  c.done.reset();
  c.state = CallState::kFree;
  c.abandoned = false;
  c.event = EventId{};
  if (++c.generation == 0) c.generation = 1;
  freeCalls_.push_back(i);
}

void MockBackend::setBusy(std::uint32_t busy, core::TimePoint now) noexcept {
  busy_ = busy;
  busyTw_.set(busy, now);
}

void MockBackend::setQueued(std::uint32_t queued, core::TimePoint now) noexcept {
  queued_ = queued;
  queueTw_.set(queued, now);
}

// --- the caller's side -----------------------------------------------------------------------

CallHandle MockBackend::call(Completion done) {
  const core::TimePoint now = sim_.now();
  refresh(now);
  ++stats_.calls;
  const std::uint32_t i = allocateCall();
  Call& c = calls_[i];
  c.arrival = now;
  c.done = std::move(done);
  const CallHandle handle{i, c.generation};
  if (down_) {
    ++stats_.refusedDown;
    refuse(i, now);
  } else if (blackHole_) {
    c.state = CallState::kSwallowed;
    ++stats_.swallowed;
  } else if (busy_ < usable_) {
    // No live call waits while a usable server is free (startQueued runs whenever one frees up
    // or capacity grows), so this call is not overtaking anyone.
    ++stats_.accepted;
    startService(i, now);
  } else if (queued_ < config_.queueCapacity) {
    ++stats_.accepted;
    c.state = CallState::kQueued;
    waiting_.push_back(i);
    setQueued(queued_ + 1, now);
  } else {
    ++stats_.refusedQueueFull;
    refuse(i, now);
  }
  return handle;
}

bool MockBackend::cancel(CallHandle handle) {
  if (!handle.valid() || handle.index_ >= calls_.size()) return false;
  const core::TimePoint now = sim_.now();
  refresh(now);  // a Down starting now may have turned the call into a reset; handled below
  Call& c = calls_[handle.index_];
  if (c.generation != handle.generation_ || c.abandoned) return false;
  switch (c.state) {
    case CallState::kFree:
    case CallState::kDropped: return false;
    case CallState::kRefusing:
    case CallState::kResetting:
      sim_.cancel(c.event);
      freeCall(handle.index_);
      break;
    case CallState::kSwallowed: freeCall(handle.index_); break;
    case CallState::kQueued:
      c.abandoned = true;
      c.done.reset();
      if (config_.onAbandon != AbandonPolicy::kKeepWorking) {
        c.state = CallState::kDropped;  // skipped (and freed) when it reaches the queue's head
        setQueued(queued_ - 1, now);
      }
      break;
    case CallState::kInService:
      c.abandoned = true;
      c.done.reset();
      if (config_.onAbandon == AbandonPolicy::kStopWork) {
        sim_.cancel(c.event);
        setBusy(busy_ - 1, now);
        freeCall(handle.index_);
        startQueued(now);
      }
      break;
  }
  ++stats_.abandoned;
  return true;
}

// --- the server's side -----------------------------------------------------------------------

void MockBackend::refuse(std::uint32_t i, core::TimePoint) {
  Call& c = calls_[i];
  c.state = CallState::kRefusing;
  const std::uint32_t gen = c.generation;
  c.event = sim_.schedule(config_.refusalLatency, [this, i, gen] { deliverTerminal(i, gen); }, kBackendRefusal);
}

void MockBackend::startService(std::uint32_t i, core::TimePoint now) {
  Call& c = calls_[i];
  c.state = CallState::kInService;
  setBusy(busy_ + 1, now);
  const core::Duration wait = now - c.arrival;
  stats_.totalWait += wait;
  if (wait > stats_.maxWait) stats_.maxWait = wait;
  ++stats_.servicesStarted;
  const core::Duration service = scaledServiceTime(config_.serviceTime.sample(serviceRng_), now);
  stats_.totalService += service;
  c.status = decideStatus(now);
  const std::uint32_t gen = c.generation;
  c.event = sim_.schedule(service, [this, i, gen] { onServiceEnd(i, gen); }, kBackendServiceEnd);
}

void MockBackend::startQueued(core::TimePoint now) {
  while (busy_ < usable_ && !waiting_.empty()) {
    const std::uint32_t i = waiting_.front();
    waiting_.pop_front();
    if (calls_[i].state == CallState::kDropped) {
      freeCall(i);
      continue;
    }
    assert(calls_[i].state == CallState::kQueued);
    setQueued(queued_ - 1, now);
    startService(i, now);
  }
}

void MockBackend::onServiceEnd(std::uint32_t i, std::uint32_t generation) {
  const core::TimePoint now = sim_.now();
  refresh(now);  // a Down starting exactly now resets this call instead
  Call& c = calls_[i];
  if (c.generation != generation || c.state != CallState::kInService) return;
  setBusy(busy_ - 1, now);
  ++stats_.servicesCompleted;
  if (c.abandoned) {
    freeCall(i);
    startQueued(now);
    return;
  }
  if (blackHole_) {
    c.state = CallState::kSwallowed;  // waits for the caller's cancel()
    ++stats_.responsesLost;
    startQueued(now);
    return;
  }
  const CallOutcome outcome = CallOutcome::response(c.status, now - c.arrival);
  Completion done = std::move(c.done);
  freeCall(i);
  // Next queued call first: a completion that calls again must queue behind it.
  startQueued(now);
  ++stats_.responses;
  if (outcome.status != config_.okStatus) ++stats_.errorResponses;
  done(outcome);
}

void MockBackend::deliverTerminal(std::uint32_t i, std::uint32_t generation) {
  Call& c = calls_[i];
  if (c.generation != generation) return;
  const core::Duration took = sim_.now() - c.arrival;
  const CallOutcome outcome = c.state == CallState::kRefusing ? CallOutcome::connectFailure(took) : CallOutcome::reset(took);
  Completion done = std::move(c.done);
  freeCall(i);
  done(outcome);
}

void MockBackend::resetInFlight(core::TimePoint now) {
  std::vector<std::uint32_t> victims;
  for (std::uint32_t i = 0; i < calls_.size(); ++i) {
    const CallState s = calls_[i].state;
    if (s == CallState::kInService || s == CallState::kQueued) victims.push_back(i);
    else if (s == CallState::kDropped) freeCall(i);
  }
  // Oldest call first, so the resets are delivered in arrival order.
  std::sort(victims.begin(), victims.end(), [this](std::uint32_t a, std::uint32_t b) {
    return calls_[a].arrival < calls_[b].arrival || (calls_[a].arrival == calls_[b].arrival && a < b);
  });
  waiting_.clear();
  setQueued(0, now);
  setBusy(0, now);
  for (std::uint32_t i : victims) {
    Call& c = calls_[i];
    if (c.state == CallState::kInService) {
      sim_.cancel(c.event);  // no-op for the call whose service end is running now
    }
    if (c.abandoned) {
      freeCall(i);
      continue;
    }
    c.state = CallState::kResetting;
    ++stats_.resets;
    const std::uint32_t gen = c.generation;
    c.event = sim_.schedule(now, [this, i, gen] { deliverTerminal(i, gen); }, kBackendReset);
  }
}

// --- failure conditions ----------------------------------------------------------------------

void MockBackend::addFailure(core::TimePoint start, core::TimePoint end, const FailureEffect& effect) {
  assert(kindOf(effect) != FailureKind::kFlapping);
  assert(start >= sim_.now() && end > start);
  assert(!validateFailureEffect(effect).has_value());
  if (nextWindow_ == windows_.size()) {
    windows_.clear();
    nextWindow_ = 0;
  }
  const auto pos = std::upper_bound(windows_.begin() + static_cast<std::ptrdiff_t>(nextWindow_), windows_.end(), start,
                                    [](core::TimePoint t, const Window& w) { return t < w.start; });
  const Window& w = *windows_.insert(pos, Window{start, end, effect, 0});
  nextChange_ = std::min(nextChange_, start);

  std::erase_if(boundaryEvents_, [this](EventId id) { return !sim_.isPending(id); });
  auto boundary = [this](core::TimePoint at) {
    boundaryEvents_.push_back(sim_.schedule(at, [this] { refresh(sim_.now()); }, kBackendFailureBoundary));
  };
  boundary(start);
  if (kindOf(effect) == FailureKind::kSlowRecovery) {
    core::TimePoint last = start;
    for (std::uint32_t step = 1; step < config_.servers; ++step) {
      const core::TimePoint t = stepTime(w, step);
      if (t > last && t < end) boundary(t);
      last = std::max(last, t);
    }
  }
  boundary(end);
}

core::TimePoint MockBackend::stepTime(const Window& w, std::uint32_t step) const noexcept {
  const auto& r = std::get<SlowRecovery>(w.effect);
  const std::uint32_t c = config_.servers;
  if (step >= c) return w.end;
  const double share = static_cast<double>(step) / static_cast<double>(c);
  if (share <= r.startCapacity) return w.start;
  const auto ramp = static_cast<double>((w.end - w.start).count());
  const double offset = std::ceil(ramp * (share - r.startCapacity) / (1.0 - r.startCapacity));
  const auto ns = static_cast<std::int64_t>(std::min(offset, ramp));
  return w.start + core::Duration{ns};
}

void MockBackend::refresh(core::TimePoint now) {
  if (now < nextChange_) return;
  bool resetNow = false;
  std::erase_if(active_, [now](const Window& w) { return w.end <= now; });
  while (nextWindow_ < windows_.size() && windows_[nextWindow_].start <= now) {
    const Window& w = windows_[nextWindow_++];
    if (w.end <= now) continue;  // every window gets a boundary event at its start, so only a
                                 // window added and ended within one instant lands here
    if (const auto* d = std::get_if<Down>(&w.effect); d != nullptr && d->resetInFlight) resetNow = true;
    active_.push_back(w);
  }
  recomputeConditions(now);
  if (resetNow) resetInFlight(now);
  startQueued(now);
}

void MockBackend::recomputeConditions(core::TimePoint now) {
  down_ = false;
  blackHole_ = false;
  latencyActive_ = false;
  burstActive_ = false;
  std::uint32_t usable = config_.servers;
  core::TimePoint next = nextWindow_ < windows_.size() ? windows_[nextWindow_].start : core::TimePoint::max();
  for (Window& w : active_) {
    next = std::min(next, w.end);
    switch (kindOf(w.effect)) {
      case FailureKind::kDown: down_ = true; break;
      case FailureKind::kBlackHole: blackHole_ = true; break;
      case FailureKind::kLatency: latencyActive_ = true; break;
      case FailureKind::kErrorBurst: burstActive_ = true; break;
      case FailureKind::kSlowRecovery: {
        if (std::get<SlowRecovery>(w.effect).startLatencyFactor != 1.0) latencyActive_ = true;
        while (w.stepsReached < config_.servers && stepTime(w, w.stepsReached + 1) <= now) ++w.stepsReached;
        usable = std::min(usable, std::max<std::uint32_t>(1, w.stepsReached));
        if (w.stepsReached < config_.servers) next = std::min(next, stepTime(w, w.stepsReached + 1));
        break;
      }
      case FailureKind::kFlapping: assert(false && "flapping is expanded by FailureInjector"); break;
    }
  }
  usable_ = usable;
  nextChange_ = next;
}

core::Duration MockBackend::scaledServiceTime(core::Duration base, core::TimePoint now) const noexcept {
  if (!latencyActive_) return base;
  double factor = 1.0;
  core::Duration added{0};
  for (const Window& w : active_) {
    if (const auto* s = std::get_if<LatencySpike>(&w.effect)) {
      factor *= s->factor;
      added += s->added;
    } else if (const auto* r = std::get_if<SlowRecovery>(&w.effect)) {
      const double progress = static_cast<double>((now - w.start).count()) / static_cast<double>((w.end - w.start).count());
      factor *= r->startLatencyFactor + (1.0 - r->startLatencyFactor) * progress;
    }
  }
  const double scaled = std::round(static_cast<double>(base.count()) * factor);
  return core::Duration{static_cast<std::int64_t>(std::max(0.0, scaled))} + added;
}

std::uint16_t MockBackend::decideStatus(core::TimePoint) {
  if (errorRng_.bernoulli(config_.errorProbability)) return config_.errorStatus;
  if (burstActive_)
    for (const Window& w : active_)
      if (const auto* b = std::get_if<ErrorBurst>(&w.effect); b != nullptr && errorRng_.bernoulli(b->probability))
        return b->status;
  return config_.okStatus;
}

double MockBackend::utilization() const noexcept {
  return busyTw_.mean(sim_.now()) / static_cast<double>(config_.servers);
}

void MockBackend::resetStatistics() noexcept {
  const core::TimePoint now = sim_.now();
  stats_ = BackendStats{};
  busyTw_ = TimeWeighted(now);
  busyTw_.set(busy_, now);
  queueTw_ = TimeWeighted(now);
  queueTw_.set(queued_, now);
}

double MockBackend::meanWaitSeconds() const noexcept {
  if (stats_.servicesStarted == 0) return 0.0;
  return static_cast<double>(stats_.totalWait.count()) / 1e9 / static_cast<double>(stats_.servicesStarted);
}

}  // namespace gatelab::sim
