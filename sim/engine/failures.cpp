#include "sim/engine/failures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

namespace gatelab::sim {

namespace {

// Shortest "%g" rendering: 0.25 -> "0.25", 10 -> "10".
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string percent(double share) { return number(share * 100.0) + "%"; }

bool validStatus(std::uint16_t s) { return s >= 100 && s <= 599; }

}  // namespace

const char* toString(FailureKind k) noexcept {
  switch (k) {
    case FailureKind::kDown: return "down";
    case FailureKind::kErrorBurst: return "error_burst";
    case FailureKind::kLatency: return "latency";
    case FailureKind::kBlackHole: return "black_hole";
    case FailureKind::kFlapping: return "flapping";
    case FailureKind::kSlowRecovery: return "slow_recovery";
  }
  return "?";
}

std::optional<std::string> validateFailureEffect(const FailureEffect& effect) {
  struct Visitor {
    std::optional<std::string> operator()(const Down&) const { return std::nullopt; }
    std::optional<std::string> operator()(const BlackHole&) const { return std::nullopt; }
    std::optional<std::string> operator()(const ErrorBurst& e) const {
      if (!(e.probability >= 0.0 && e.probability <= 1.0))
        return "error_burst.probability: must be in [0, 1], got " + number(e.probability);
      if (!validStatus(e.status)) return "error_burst.status: must be an HTTP status 100..599, got " + std::to_string(e.status);
      return std::nullopt;
    }
    std::optional<std::string> operator()(const LatencySpike& e) const {
      if (!(e.factor > 0.0) || !std::isfinite(e.factor)) return "latency.factor: must be > 0, got " + number(e.factor);
      if (e.added < core::Duration{0}) return "latency.added: must be >= 0, got " + core::formatDuration(e.added);
      return std::nullopt;
    }
    std::optional<std::string> operator()(const Flapping& e) const {
      if (e.period <= core::Duration{0}) return "flapping.period: must be > 0, got " + core::formatDuration(e.period);
      if (!(e.downFraction > 0.0 && e.downFraction <= 1.0))
        return "flapping.down_fraction: must be in (0, 1], got " + number(e.downFraction);
      return std::nullopt;
    }
    std::optional<std::string> operator()(const SlowRecovery& e) const {
      if (!(e.startCapacity >= 0.0 && e.startCapacity <= 1.0))
        return "slow_recovery.start_capacity: must be in [0, 1], got " + number(e.startCapacity);
      if (!(e.startLatencyFactor >= 1.0) || !std::isfinite(e.startLatencyFactor))
        return "slow_recovery.start_latency_factor: must be >= 1, got " + number(e.startLatencyFactor);
      return std::nullopt;
    }
  };
  return std::visit(Visitor{}, effect);
}

std::string describe(const FailureEffect& effect) {
  struct Visitor {
    std::string operator()(const Down& e) const { return e.resetInFlight ? "down" : "down (draining)"; }
    std::string operator()(const BlackHole&) const { return "black_hole"; }
    std::string operator()(const ErrorBurst& e) const {
      return "error_burst " + percent(e.probability) + " -> " + std::to_string(e.status);
    }
    std::string operator()(const LatencySpike& e) const {
      std::string s = "latency";
      if (e.factor != 1.0) s += " x" + number(e.factor);
      if (e.added > core::Duration{0}) s += " +" + core::formatDuration(e.added);
      return s;
    }
    std::string operator()(const Flapping& e) const {
      return "flapping period " + core::formatDuration(e.period) + " down " + percent(e.downFraction);
    }
    std::string operator()(const SlowRecovery& e) const {
      std::string s = "slow_recovery";
      if (e.startCapacity != 1.0) s += " capacity " + percent(e.startCapacity) + "->100%";
      if (e.startLatencyFactor != 1.0) s += " latency x" + number(e.startLatencyFactor) + "->x1";
      return s;
    }
  };
  return std::visit(Visitor{}, effect);
}

std::optional<std::string> validateFailureSpec(const FailureSpec& spec) {
  std::string errors;
  auto fail = [&errors](const std::string& msg) {
    if (!errors.empty()) errors += '\n';
    errors += msg;
  };
  if (spec.service.empty()) fail("service: must not be empty");
  if (spec.duration <= core::Duration{0}) fail("duration: must be > 0, got " + core::formatDuration(spec.duration));
  if (auto e = validateFailureEffect(spec.effect)) fail(*e);
  if (spec.recovery) {
    if (spec.recovery->ramp <= core::Duration{0})
      fail("recovery.ramp: must be > 0, got " + core::formatDuration(spec.recovery->ramp));
    if (auto e = validateFailureEffect(spec.recovery->shape)) fail("recovery: " + *e);
  }
  if (errors.empty()) return std::nullopt;
  return errors;
}

std::optional<std::string> FailureInjector::inject(const FailureSpec& spec) {
  if (auto e = validateFailureSpec(spec)) return e;
  if (spec.start < sim_.now())
    return "start: " + core::formatDuration(spec.start.time_since_epoch()) + " is before the simulation's now (" +
           core::formatDuration(sim_.now().time_since_epoch()) + ")";

  std::vector<MockBackend*> targets;
  for (MockBackend* b : backends_)
    if (b->config().service == spec.service && (spec.target.empty() || b->config().target == spec.target))
      targets.push_back(b);
  if (targets.empty()) {
    std::string known;
    for (const MockBackend* b : backends_) known += (known.empty() ? "" : ", ") + b->name();
    return "no backend matches " + spec.service + (spec.target.empty() ? "" : "/" + spec.target) + " (known: " +
           (known.empty() ? "none" : known) + ")";
  }

  std::erase_if(notifications_, [this](EventId id) { return !sim_.isPending(id); });
  const std::size_t specIndex = specs_++;
  const core::TimePoint end = spec.start + spec.duration;  // durations in scenarios are far from overflow
  struct Piece {
    core::TimePoint start;
    core::TimePoint end;
    FailureEffect effect;
    FailureKind kind;
    std::string description;
  };
  std::vector<Piece> pieces;
  if (const auto* f = std::get_if<Flapping>(&spec.effect)) {
    const auto downNs = std::max<std::int64_t>(
        1, std::llround(static_cast<double>(f->period.count()) * f->downFraction));
    const auto phases = (spec.duration.count() + f->period.count() - 1) / f->period.count();
    std::int64_t phase = 0;
    for (core::TimePoint s = spec.start; s < end; s += f->period, ++phase) {
      const core::TimePoint e = std::min(s + core::Duration{downNs}, end);
      pieces.push_back({s, e, Down{f->resetInFlight}, FailureKind::kFlapping,
                        describe(spec.effect) + ": down phase " + std::to_string(phase + 1) + "/" + std::to_string(phases)});
    }
  } else {
    pieces.push_back({spec.start, end, spec.effect, kindOf(spec.effect), describe(spec.effect)});
  }
  if (spec.recovery)
    pieces.push_back({end, end + spec.recovery->ramp, spec.recovery->shape, FailureKind::kSlowRecovery,
                      describe(spec.recovery->shape) + " over " + core::formatDuration(spec.recovery->ramp)});

  for (Piece& p : pieces) {
    for (MockBackend* b : targets) b->addFailure(p.start, p.end, p.effect);
    const std::size_t index = windows_.size();
    windows_.push_back(FailureWindow{specIndex, p.kind, spec.service, spec.target, p.start, p.end, std::move(p.description)});
    notifications_.push_back(sim_.schedule(p.start, [this, index] { notify(index, true); }, kFailureWindowStart));
    notifications_.push_back(sim_.schedule(p.end, [this, index] { notify(index, false); }, kFailureWindowEnd));
  }
  return std::nullopt;
}

FailureInjector::~FailureInjector() {
  for (EventId id : notifications_) sim_.cancel(id);
}

void FailureInjector::notify(std::size_t window, bool started) {
  if (listener_) listener_(windows_[window], started);
}

}  // namespace gatelab::sim
