#include "gateway/core/resilience/target_set.hpp"

#include <algorithm>
#include <cassert>
#include <unordered_set>
#include <utility>

namespace gatelab::core::resilience {

namespace {
constexpr std::uint32_t kMaxWeight = 1'000'000;
constexpr std::size_t kMaxTargets = 100'000;
}  // namespace

std::optional<std::string> validateTargets(std::span<const TargetSpec> targets) {
  if (targets.empty()) return "targets: a service needs at least one target";
  if (targets.size() > kMaxTargets) return "targets: at most 100000 targets per service";
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const TargetSpec& t = targets[i];
    const std::string where = "targets[" + std::to_string(i) + "]";
    if (t.name.empty()) return where + ".url: must not be empty";
    if (t.weight == 0 || t.weight > kMaxWeight) return where + ".weight: must be 1..1000000";
    if (!seen.insert(t.name).second) return where + ".url: duplicate target '" + t.name + "'";
  }
  return std::nullopt;
}

TargetSet::TargetSet(std::string service, std::vector<TargetSpec> targets, Percent panicThreshold)
    : service_(std::move(service)),
      specs_(std::move(targets)),
      state_(specs_.size()),
      panicThreshold_(panicThreshold),
      eligible_(specs_.size(), 0) {
  assert(!validateTargets(specs_).has_value());
  candidates_.reserve(specs_.size());
  scratch_.reserve(specs_.size());
}

std::optional<std::uint32_t> TargetSet::indexOf(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < specs_.size(); ++i)
    if (specs_[i].name == name) return static_cast<std::uint32_t>(i);
  return std::nullopt;
}

void TargetSet::setHealthy(std::size_t i, bool up) noexcept {
  if (state_[i].healthy != up) {
    state_[i].healthy = up;
    dirty_ = true;
  }
}

void TargetSet::setEjectedUntil(std::size_t i, TimePoint until) noexcept {
  if (state_[i].ejectedUntil != until) {
    state_[i].ejectedUntil = until;
    dirty_ = true;
  }
}

void TargetSet::setBlockedUntil(std::size_t i, TimePoint until) noexcept {
  if (state_[i].blockedUntil != until) {
    state_[i].blockedUntil = until;
    dirty_ = true;
  }
}

bool TargetSet::available(std::size_t i, TimePoint now) const noexcept {
  const State& s = state_[i];
  return s.healthy && now >= s.ejectedUntil && now >= s.blockedUntil;
}

std::uint32_t TargetSet::ejectedCount(TimePoint now) const noexcept {
  std::uint32_t n = 0;
  for (const State& s : state_)
    if (now < s.ejectedUntil) ++n;
  return n;
}

const TargetView& TargetSet::view(TimePoint now) noexcept {
  if (dirty_ || now >= validUntil_ || now < computedAt_) recompute(now);
  return view_;
}

void TargetSet::recompute(TimePoint now) noexcept {
  scratch_.clear();
  TimePoint nextChange = TimePoint::max();
  for (std::size_t i = 0; i < state_.size(); ++i) {
    const State& s = state_[i];
    if (now < s.ejectedUntil) nextChange = std::min(nextChange, s.ejectedUntil);
    if (now < s.blockedUntil) nextChange = std::min(nextChange, s.blockedUntil);
    if (available(i, now)) scratch_.push_back(static_cast<std::uint32_t>(i));
  }
  const auto availableCount = static_cast<std::uint32_t>(scratch_.size());
  const auto total = static_cast<std::uint64_t>(state_.size());
  // Panic below the threshold (strictly): Envoy's "less than X% healthy".
  const bool panic = panicThreshold_.milli > 0 && !panicThreshold_.reachedBy(availableCount, total);
  if (panic) {
    scratch_.resize(state_.size());
    for (std::size_t i = 0; i < scratch_.size(); ++i) scratch_[i] = static_cast<std::uint32_t>(i);
  }
  if (scratch_ != candidates_ || panic != view_.panic || view_.version == 0) {
    candidates_.swap(scratch_);
    std::fill(eligible_.begin(), eligible_.end(), std::uint8_t{0});
    for (std::uint32_t i : candidates_) eligible_[i] = 1;
    ++view_.version;
  }
  view_.candidates = candidates_;
  view_.eligible = eligible_;
  view_.availableCount = availableCount;
  view_.panic = panic;
  dirty_ = false;
  computedAt_ = now;
  validUntil_ = nextChange;
}

}  // namespace gatelab::core::resilience
