#include "gateway/core/resilience/outlier_detection.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include "gateway/core/resilience/time_math.hpp"

namespace gatelab::core::resilience {

namespace {

constexpr Duration kMaxEjection = std::chrono::hours{24 * 365};

std::string causeText(EjectionCause cause, std::uint32_t run, std::uint32_t threshold) {
  const char* what = cause == EjectionCause::kConsecutive5xx ? " consecutive 5xx >= " : " consecutive gateway failures >= ";
  return std::to_string(run) + what + std::to_string(threshold);
}

}  // namespace

std::optional<std::string> validateOutlierConfig(const OutlierConfig& c) {
  if (c.consecutive5xx == 0 && c.consecutiveGatewayFailure == 0)
    return "outlier_detection: set consecutive_5xx and/or consecutive_gateway_failure";
  if (c.baseEjectionTime <= Duration{0} || c.baseEjectionTime > kMaxEjection)
    return "outlier_detection.base_ejection_time: must be positive and at most 365 days";
  if (c.maxEjectionTime < c.baseEjectionTime || c.maxEjectionTime > kMaxEjection)
    return "outlier_detection.max_ejection_time: must be at least base_ejection_time and at most 365 days";
  if (c.maxEjectionPercent.milli > Percent::kHundred)
    return "outlier_detection.max_ejection_percent: must be at most 100%";
  if (c.interval < Duration{0}) return "outlier_detection.interval: must not be negative";
  return std::nullopt;
}

OutlierDetector::OutlierDetector(OutlierConfig config, TargetSet& targets, EventSink& sink)
    : config_(std::move(config)), targets_(&targets), sink_(&sink), state_(targets.size()) {
  assert(!validateOutlierConfig(config_).has_value());
}

std::optional<TimePoint> OutlierDetector::nextReturnAt() const noexcept {
  if (ejectedCount_ == 0) return std::nullopt;
  return nextReturn_;
}

void OutlierDetector::advance(TimePoint now) {
  if (ejectedCount_ == 0 || now < nextReturn_) return;
  struct Due {
    TimePoint at;
    std::size_t target;
  };
  std::vector<Due> due;
  TimePoint next = TimePoint::max();
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (!state_[i].ejected) continue;
    const TimePoint until = targets_->ejectedUntil(i);
    if (now >= until) {
      due.push_back(Due{until, i});
    } else {
      next = std::min(next, until);
    }
  }
  std::sort(due.begin(), due.end(), [](const Due& a, const Due& b) {
    return a.at != b.at ? a.at < b.at : a.target < b.target;
  });
  for (const Due& d : due) {
    TargetState& s = state_[d.target];
    s.ejected = false;
    s.lastReturn = d.at;
    s.run5xx = 0;  // a fresh start, so a few new errors cannot re-eject at once (as Envoy)
    s.runGateway = 0;
    --ejectedCount_;
    ++stats_.returns;
    OutlierReturned ev;
    ev.at = d.at;
    ev.subject = EventSubject{targets_->service(), targets_->target(d.target).name};
    ev.reason = "ejection time elapsed (multiplier " + std::to_string(s.multiplier) + ")";
    sink_->onEvent(Event{std::move(ev)});
  }
  nextReturn_ = next;
}

OutlierAction OutlierDetector::onResult(std::size_t target, const CallOutcome& outcome, TimePoint now) {
  advance(now);
  TargetState& s = state_[target];
  if (s.ejected) {
    ++stats_.ignoredWhileEjected;
    return OutlierAction::kNone;
  }
  s.run5xx = outcome.isServerError() ? s.run5xx + 1 : 0;
  s.runGateway = outcome.isGatewayError() ? s.runGateway + 1 : 0;
  if (config_.consecutive5xx > 0 && s.run5xx >= config_.consecutive5xx) {
    const std::uint32_t run = s.run5xx;
    s.run5xx = 0;  // Envoy resets the run that fired, whether or not the ejection happens
    return tryEject(target, EjectionCause::kConsecutive5xx, run, config_.consecutive5xx, now);
  }
  if (config_.consecutiveGatewayFailure > 0 && s.runGateway >= config_.consecutiveGatewayFailure) {
    const std::uint32_t run = s.runGateway;
    s.runGateway = 0;
    return tryEject(target, EjectionCause::kConsecutiveGatewayFailure, run, config_.consecutiveGatewayFailure, now);
  }
  return OutlierAction::kNone;
}

OutlierAction OutlierDetector::tryEject(std::size_t target, EjectionCause cause, std::uint32_t run,
                                        std::uint32_t threshold, TimePoint now) {
  const auto total = static_cast<std::uint32_t>(state_.size());
  // Envoy: eject iff (ejected + 1) / total <= max%; always_eject_one_host also allows the first.
  const bool withinShare = (std::uint64_t{ejectedCount_} + 1) * Percent::kHundred <=
                           std::uint64_t{config_.maxEjectionPercent.milli} * total;
  const bool allowed = withinShare || (config_.alwaysEjectOne && ejectedCount_ == 0);
  const EventSubject subject{targets_->service(), targets_->target(target).name};
  if (!allowed) {
    ++stats_.skipped;
    OutlierEjectionSkipped ev;
    ev.at = now;
    ev.subject = subject;
    ev.cause = cause;
    ev.reason = causeText(cause, run, threshold) + ", but " + std::to_string(ejectedCount_) + " of " +
                std::to_string(total) + " targets already ejected (max " +
                formatPercent(config_.maxEjectionPercent) + ")";
    ev.ejectedTargets = ejectedCount_;
    ev.totalTargets = total;
    ev.maxEjectionPercent = config_.maxEjectionPercent;
    sink_->onEvent(Event{std::move(ev)});
    return OutlierAction::kSkipped;
  }

  TargetState& s = state_[target];
  if (s.lastReturn && config_.interval > Duration{0} && s.multiplier > 0) {
    const auto periods = static_cast<std::uint64_t>((now - *s.lastReturn) / config_.interval);
    s.multiplier = periods >= s.multiplier ? 0 : s.multiplier - static_cast<std::uint32_t>(periods);
  }
  // Both are at most 365 days (validated), so the sum cannot overflow.
  if (mulSaturating(config_.baseEjectionTime, s.multiplier) < config_.maxEjectionTime + config_.baseEjectionTime)
    ++s.multiplier;
  const Duration ejectedFor = std::min(mulSaturating(config_.baseEjectionTime, s.multiplier), config_.maxEjectionTime);
  const TimePoint until = addSaturating(now, ejectedFor);
  targets_->setEjectedUntil(target, until);
  s.ejected = true;
  ++ejectedCount_;
  nextReturn_ = std::min(nextReturn_, until);
  ++stats_.ejections;

  OutlierEjected ev;
  ev.at = now;
  ev.subject = subject;
  ev.cause = cause;
  ev.reason = causeText(cause, run, threshold);
  ev.ejectedFor = ejectedFor;
  ev.multiplier = s.multiplier;
  ev.ejectedTargets = ejectedCount_;
  ev.totalTargets = total;
  sink_->onEvent(Event{std::move(ev)});
  return OutlierAction::kEjected;
}

}  // namespace gatelab::core::resilience
