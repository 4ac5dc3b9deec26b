#include "sim/workload/arrival.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

namespace gatelab::sim::workload {
namespace {

constexpr double kDay = 86'400.0;
constexpr double kMaxSeconds = 9.2e9;  // just under INT64_MAX nanoseconds

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Index of the first cumulative weight above u * total (entries with zero weight are never picked).
std::size_t pick(const std::vector<double>& cumulative, double u) noexcept {
  const double target = u * cumulative.back();
  const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), target);
  if (it != cumulative.end()) return static_cast<std::size_t>(it - cumulative.begin());
  // u * total rounded up to total: the last entry with a positive weight.
  std::size_t i = cumulative.size() - 1;
  while (i > 0 && cumulative[i] == cumulative[i - 1]) --i;
  return i;
}

double wrapDay(double s) noexcept {
  double r = std::fmod(s, kDay);
  if (r < 0) r += kDay;
  return r;
}

}  // namespace

core::Duration secondsToDuration(double seconds) noexcept {
  if (!(seconds < kMaxSeconds)) return kNever;
  if (seconds <= 0) return core::Duration{0};
  return core::Duration{std::llround(seconds * 1e9)};
}

// ---- Poisson ----------------------------------------------------------------------------------

core::Duration PoissonProcess::next(Rng& rng) noexcept {
  now_ += rng.exponential(1.0 / rate_);
  return secondsToDuration(now_);
}

std::string PoissonProcess::describe() const { return "poisson(" + num(rate_) + "/s)"; }

// ---- MMPP -------------------------------------------------------------------------------------

MmppProcess::MmppProcess(MmppModel model, std::optional<std::size_t> initialState)
    : model_(std::move(model)), initial_(initialState) {
  const std::size_t n = model_.states();
  jumpCdf_.assign(n, std::vector<double>(n, 0.0));
  for (std::size_t i = 0; i < n; ++i) {
    double sum = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      sum += model_.jumpProbability(i, j);
      jumpCdf_[i][j] = sum;
    }
  }
  double sum = 0.0;
  for (const double p : model_.stationary()) {
    sum += p;
    piCdf_.push_back(sum);
  }
  if (initial_ && *initial_ >= n) initial_.reset();
}

void MmppProcess::enter(std::size_t state, Rng& rng) noexcept {
  state_ = state;
  const double exit = model_.exitRate(state);
  stateEnd_ = exit > 0 ? now_ + rng.exponential(1.0 / exit) : std::numeric_limits<double>::infinity();
}

core::Duration MmppProcess::next(Rng& rng) noexcept {
  if (!started_) {
    started_ = true;
    enter(initial_ ? *initial_ : pick(piCdf_, rng.uniform()), rng);
  }
  while (true) {
    if (!(now_ < kMaxSeconds)) return kNever;
    const double rate = model_.rates()[state_];
    const double candidate = rate > 0 ? now_ + rng.exponential(1.0 / rate) : std::numeric_limits<double>::infinity();
    if (candidate < stateEnd_) {
      now_ = candidate;
      return secondsToDuration(now_);
    }
    // The state ends first: the candidate is discarded (memoryless), the chain jumps.
    now_ = stateEnd_;
    enter(pick(jumpCdf_[state_], rng.uniform()), rng);
  }
}

// ---- diurnal ----------------------------------------------------------------------------------

RateProfile RateProfile::sinusoid(double mean, double peakHour, double ratio) {
  RateProfile p;
  p.sinusoid_ = true;
  p.mean_ = mean;
  p.ratio_ = ratio;
  p.amplitude_ = (ratio - 1.0) / (ratio + 1.0);
  p.peakSecond_ = peakHour * 3600.0;
  p.max_ = mean * (1.0 + p.amplitude_);
  return p;
}

RateProfile RateProfile::piecewise(std::vector<Point> points) {
  RateProfile p;
  p.sinusoid_ = false;
  p.points_ = std::move(points);
  for (const Point& pt : p.points_) p.max_ = std::max(p.max_, pt.rate);
  const double r0 = p.rateAt(0.0);
  const Point& first = p.points_.front();
  double acc = (r0 + first.rate) / 2.0 * first.secondOfDay;
  p.cumulative_.push_back(acc);
  for (std::size_t k = 1; k < p.points_.size(); ++k) {
    const Point& a = p.points_[k - 1];
    const Point& b = p.points_[k];
    acc += (a.rate + b.rate) / 2.0 * (b.secondOfDay - a.secondOfDay);
    p.cumulative_.push_back(acc);
  }
  const Point& last = p.points_.back();
  acc += (last.rate + r0) / 2.0 * (kDay - last.secondOfDay);
  p.mean_ = acc / kDay;
  return p;
}

double RateProfile::rateAt(double secondOfDay) const noexcept {
  const double s = wrapDay(secondOfDay);
  if (sinusoid_) return mean_ * (1.0 + amplitude_ * std::cos(2.0 * std::numbers::pi * (s - peakSecond_) / kDay));
  if (points_.size() == 1) return points_.front().rate;
  // The segment [a, b) around s; before the first point it starts at the last point of the day before.
  const auto it = std::upper_bound(points_.begin(), points_.end(), s,
                                   [](double v, const Point& p) { return v < p.secondOfDay; });
  Point a;
  Point b;
  if (it == points_.begin()) {
    a = points_.back();
    a.secondOfDay -= kDay;
    b = points_.front();
  } else if (it == points_.end()) {
    a = points_.back();
    b = points_.front();
    b.secondOfDay += kDay;
  } else {
    a = *(it - 1);
    b = *it;
  }
  const double f = (s - a.secondOfDay) / (b.secondOfDay - a.secondOfDay);
  return a.rate + (b.rate - a.rate) * f;
}

double RateProfile::cumulativeInDay(double s) const noexcept {
  if (sinusoid_) {
    const double w = 2.0 * std::numbers::pi / kDay;
    return mean_ * s + mean_ * amplitude_ / w * (std::sin(w * (s - peakSecond_)) - std::sin(-w * peakSecond_));
  }
  if (points_.size() == 1) return points_.front().rate * s;
  const auto it = std::upper_bound(points_.begin(), points_.end(), s,
                                   [](double v, const Point& p) { return v < p.secondOfDay; });
  if (it == points_.begin()) return (rateAt(0.0) + rateAt(s)) / 2.0 * s;
  const auto k = static_cast<std::size_t>(it - points_.begin()) - 1;
  return cumulative_[k] + (points_[k].rate + rateAt(s)) / 2.0 * (s - points_[k].secondOfDay);
}

double RateProfile::integral(double from, double to) const noexcept {
  const auto total = [this](double s) {
    const double days = std::floor(s / kDay);
    return days * mean_ * kDay + cumulativeInDay(s - days * kDay);
  };
  return total(to) - total(from);
}

std::string RateProfile::describe() const {
  if (sinusoid_) {
    return "diurnal(mean " + num(mean_) + "/s, peak " + num(max_) + "/s at " + num(peakSecond_ / 3600.0) +
           "h, peak/trough " + num(ratio_) + ")";
  }
  return "diurnal(" + std::to_string(points_.size()) + "-point profile, mean " + num(mean_) + "/s, peak " + num(max_) + "/s)";
}

core::Duration DiurnalProcess::next(Rng& rng) noexcept {
  const double peak = profile_.maxRate();
  if (!(peak > 0)) return kNever;
  while (true) {
    now_ += rng.exponential(1.0 / peak);
    if (!(now_ < kMaxSeconds)) return kNever;
    const double rate = profile_.rateAt(start_ + now_);
    if (rng.uniform() * peak < rate) return secondsToDuration(now_);
  }
}

// ---- on-off -----------------------------------------------------------------------------------

double OnOffProcess::wallTime(double active) const noexcept {
  if (std::isinf(o_.onSeconds)) return o_.fromSeconds + active;
  const double a = activeBefore_ + active;
  const double cycles = std::floor(a / o_.onSeconds);
  return cycleStart_ + cycles * (o_.onSeconds + o_.offSeconds) + (a - cycles * o_.onSeconds);
}

core::Duration OnOffProcess::next(Rng& rng) noexcept {
  if (!started_) {
    started_ = true;
    if (std::isinf(o_.onSeconds)) {
      cycleStart_ = o_.fromSeconds;
      activeBefore_ = 0.0;
    } else {
      // Where in its cycle the client is at `from`: uniform over on + off.
      const double position = rng.uniform() * (o_.onSeconds + o_.offSeconds);
      cycleStart_ = o_.fromSeconds - position;
      activeBefore_ = std::min(position, o_.onSeconds);
    }
    phase_ = o_.pattern == AbusePattern::kConstant ? rng.uniform() / o_.rate : 0.0;
  }
  if (done_) return kNever;
  double active = 0.0;
  if (o_.pattern == AbusePattern::kConstant) {
    active = phase_ + static_cast<double>(sent_) / o_.rate;  // from the count: no accumulated rounding
    ++sent_;
  } else {
    active_ += rng.exponential(1.0 / o_.rate);
    active = active_;
  }
  const double wall = wallTime(active);
  if (!(wall < o_.untilSeconds) || !(wall < kMaxSeconds)) {
    done_ = true;
    return kNever;
  }
  return secondsToDuration(wall);
}

double OnOffProcess::meanRate() const noexcept {
  if (std::isinf(o_.onSeconds)) return o_.rate;
  return o_.rate * o_.onSeconds / (o_.onSeconds + o_.offSeconds);
}

std::string OnOffProcess::describe() const {
  std::string out = (o_.pattern == AbusePattern::kConstant ? "constant(" : "poisson(") + num(o_.rate) + "/s";
  if (!std::isinf(o_.onSeconds)) out += ", on " + num(o_.onSeconds) + "s / off " + num(o_.offSeconds) + "s";
  if (o_.fromSeconds > 0) out += ", from " + num(o_.fromSeconds) + "s";
  if (!std::isinf(o_.untilSeconds)) out += ", until " + num(o_.untilSeconds) + "s";
  return out + ")";
}

}  // namespace gatelab::sim::workload
