#include "gateway/core/rate_limit/algorithms.hpp"

#include <algorithm>
#include <numeric>
#include "gateway/core/int128.hpp"

namespace gatelab::core::ratelimit {

namespace {

constexpr std::int64_t kNsPerMs = 1'000'000;

constexpr std::int64_t floorDiv(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

constexpr std::int64_t ceilDivPos(std::int64_t a, std::int64_t b) noexcept {  // a >= 0, b > 0
  return a / b + (a % b != 0 ? 1 : 0);
}

constexpr std::int64_t toI64(std::uint64_t v) noexcept {
  return v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
             ? std::numeric_limits<std::int64_t>::max()
             : static_cast<std::int64_t>(v);
}

constexpr std::uint64_t toU64(std::int64_t v) noexcept { return v < 0 ? 0 : static_cast<std::uint64_t>(v); }

/// Rate count/period reduced by their gcd: one event is `p` units, `c` units accrue per ns.
struct Scaled {
  std::int64_t c;
  std::int64_t p;
};
Scaled reduce(const Rate& r) noexcept {
  const std::int64_t count = toI64(r.count);
  const std::int64_t period = r.period.count();
  const std::int64_t g = std::gcd(count, period);
  return Scaled{count / g, period / g};
}

std::uint64_t defaultedBurst(const LimitSpec& spec) noexcept {
  return spec.burst == 0 ? spec.rate.count : spec.burst;
}

Decision base(std::uint64_t limit, std::int64_t windowNs) noexcept {
  Decision d;
  d.limit = limit;
  d.window = Duration{windowNs};
  return d;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TokenBucket

TokenBucket::TokenBucket(const LimitSpec& spec) : capacity_(defaultedBurst(spec)) {
  const Scaled s = reduce(spec.rate);
  unitsPerNs_ = s.c;
  unitsPerToken_ = s.p;
  capacityUnits_ = toI64(capacity_) * s.p;
}

std::int64_t TokenBucket::levelAt(const State& s, std::int64_t now) const noexcept {
  if (s.last == kNever) return capacityUnits_;
  const std::int64_t elapsed = now > s.last ? now - s.last : 0;
  const std::int64_t deficit = capacityUnits_ - s.level;
  if (deficit <= 0 || elapsed >= ceilDivPos(deficit, unitsPerNs_)) return capacityUnits_;
  return s.level + elapsed * unitsPerNs_;  // < level + deficit: no overflow
}

Decision TokenBucket::decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const noexcept {
  Decision d = base(capacity_, ceilDivPos(capacityUnits_, unitsPerNs_));
  std::int64_t level = levelAt(s, now);
  const std::int64_t need = toI64(cost) * unitsPerToken_;
  if (level >= need) {
    level -= need;
    if (commit) {
      s.level = level;
      s.last = (s.last == kNever || now > s.last) ? now : s.last;
    }
  } else {
    d.verdict = Verdict::kReject;
    d.retryAfter = Duration{ceilDivPos(need - level, unitsPerNs_)};
  }
  d.remaining = toU64(level / unitsPerToken_);
  d.reset = Duration{ceilDivPos(capacityUnits_ - level, unitsPerNs_)};
  return d;
}

bool TokenBucket::idle(const State& s, std::int64_t now) const noexcept {
  return levelAt(s, now) == capacityUnits_;
}

// ---------------------------------------------------------------------------------------------
// DiscreteTokenBucket

DiscreteTokenBucket::DiscreteTokenBucket(const LimitSpec& spec)
    : interval_(spec.rate.period.count()),
      perFill_(toI64(spec.rate.count)),
      capacity_(toI64(defaultedBurst(spec))) {}

std::int64_t DiscreteTokenBucket::tokensAt(const State& s, std::int64_t fillIndex) const noexcept {
  if (s.fill == kNever) return capacity_;
  if (fillIndex <= s.fill) return s.tokens;
  const std::int64_t fills = fillIndex - s.fill;
  const std::int64_t needed = ceilDivPos(capacity_ - s.tokens, perFill_);
  return fills >= needed ? capacity_ : s.tokens + fills * perFill_;
}

Decision DiscreteTokenBucket::decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const noexcept {
  Decision d = base(toU64(capacity_), ceilDivPos(capacity_, perFill_) * interval_);
  const std::int64_t k = floorDiv(now, interval_);
  const std::int64_t fillIndex = (s.fill == kNever || k > s.fill) ? k : s.fill;
  std::int64_t tokens = tokensAt(s, fillIndex);
  const std::int64_t need = toI64(cost);
  const std::int64_t nextFillAt = (fillIndex + 1) * interval_;
  if (tokens >= need) {
    tokens -= need;
    if (commit) {
      s.tokens = tokens;
      s.fill = fillIndex;
    }
  } else {
    d.verdict = Verdict::kReject;
    const std::int64_t fills = ceilDivPos(need - tokens, perFill_);
    d.retryAfter = Duration{nextFillAt - now + (fills - 1) * interval_};
  }
  d.remaining = toU64(tokens);
  const std::int64_t fillsToFull = ceilDivPos(capacity_ - tokens, perFill_);
  d.reset = Duration{fillsToFull == 0 ? 0 : nextFillAt - now + (fillsToFull - 1) * interval_};
  return d;
}

bool DiscreteTokenBucket::idle(const State& s, std::int64_t now) const noexcept {
  return tokensAt(s, floorDiv(now, interval_)) == capacity_;
}

// ---------------------------------------------------------------------------------------------
// LeakyBucket (nginx limit_req)

LeakyBucket::LeakyBucket(const LimitSpec& spec) : burst_(spec.burst) {
  // nginx stores rate as requests * 1000 / scale with integer truncation (rate=1r/m -> 16).
  // For a general period this is floor(count * 1000 * 1s / period).
  const U128 num = static_cast<U128>(spec.rate.count) * 1000u * 1'000'000'000u;
  rateMilli_ = static_cast<std::int64_t>(num / static_cast<U128>(spec.rate.period.count()));
  burstMilli_ = toI64(spec.burst) * 1000;
  delayMilli_ = spec.delay == LimitSpec::kNoDelay ? std::numeric_limits<std::int64_t>::max()
                                                  : toI64(spec.delay) * 1000;
}

std::int64_t LeakyBucket::drained(std::int64_t ms) const noexcept {
  // nginx: rate * ms / 1000, truncated. Saturate instead of overflowing after long idle periods.
  const U128 prod = static_cast<U128>(rateMilli_) * static_cast<U128>(ms) / 1000u;
  return prod > static_cast<U128>(std::numeric_limits<std::int64_t>::max())
             ? std::numeric_limits<std::int64_t>::max()
             : static_cast<std::int64_t>(prod);
}

Decision LeakyBucket::decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const noexcept {
  const std::int64_t windowMs = ceilDivPos(toI64(burst_ + 1) * 1'000'000, rateMilli_);
  Decision d = base(burst_ + 1, windowMs * kNsPerMs);
  const std::int64_t nowMs = floorDiv(now, kNsPerMs);
  const std::int64_t charge = toI64(cost) * 1000;
  std::int64_t excess = 0;
  std::int64_t newLast = nowMs;
  std::int64_t ms = 0;
  std::int64_t before = 0;  // excess at `now` without this request
  if (s.lastMs == kNever) {
    excess = charge - 1000;  // a new key's first request is not counted (one unit of it)
  } else {
    ms = nowMs - s.lastMs;
    if (ms < -60000) {
      ms = 1;  // nginx: the clock jumped back a lot; treat as 1 ms
    } else if (ms < 0) {
      ms = 0;
    }
    const std::int64_t drain = drained(ms);
    before = drain >= s.excess ? 0 : s.excess - drain;
    // nginx clamps after adding the request: excess = max(0, excess - drain + 1000).
    excess = drain >= s.excess + charge ? 0 : s.excess - drain + charge;
    newLast = ms != 0 ? nowMs : s.lastMs;
  }
  if (excess > burstMilli_) {
    d.verdict = Verdict::kReject;
    // Smallest total elapsed m (ms since lastMs) with excess - floor(rate*m/1000) + charge <= burst.
    const std::int64_t need = s.excess + charge - burstMilli_;
    const std::int64_t m = ceilDivPos(need * 1000, rateMilli_);
    const std::int64_t waitMs = std::max<std::int64_t>(1, m - ms);
    d.retryAfter = Duration{waitMs * kNsPerMs - (now - nowMs * kNsPerMs)};
    d.remaining = toU64((burstMilli_ - before) / 1000);
    d.reset = Duration{ceilDivPos(before * 1000, rateMilli_) * kNsPerMs};
    return d;
  }
  if (commit) {
    s.excess = excess;
    s.lastMs = newLast;
  }
  if (excess > delayMilli_) {
    d.verdict = Verdict::kDelay;
    d.delay = Duration{(excess - delayMilli_) * 1000 / rateMilli_ * kNsPerMs};
    if (d.delay.count() == 0) d.verdict = Verdict::kAllow;  // nginx: a 0 ms delay is no delay
  }
  d.remaining = toU64((burstMilli_ - excess) / 1000);
  d.reset = Duration{ceilDivPos(excess * 1000, rateMilli_) * kNsPerMs};
  return d;
}

bool LeakyBucket::idle(const State& s, std::int64_t now) const noexcept {
  if (s.lastMs == kNever) return true;
  std::int64_t ms = floorDiv(now, kNsPerMs) - s.lastMs;
  if (ms < 0) ms = -ms;
  return ms >= 60000 && s.excess - drained(ms) <= 0;
}

// ---------------------------------------------------------------------------------------------
// FixedWindow

FixedWindow::FixedWindow(const LimitSpec& spec)
    : window_(spec.rate.period.count()), limit_(spec.rate.count), alignToClock_(spec.align == WindowAlign::kClock) {}

Decision FixedWindow::decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const noexcept {
  Decision d = base(limit_, window_);
  std::int64_t start = s.start;
  std::uint64_t count = s.count;
  if (start == kNever || now >= start + window_) {
    start = alignToClock_ ? floorDiv(now, window_) * window_ : now;
    count = 0;
  }
  const std::int64_t end = start + window_;
  if (count + cost <= limit_) {
    count += cost;
    if (commit) {
      s.start = start;
      s.count = count;
    }
  } else {
    d.verdict = Verdict::kReject;
    d.retryAfter = Duration{end - now};
  }
  d.remaining = limit_ - count;
  d.reset = Duration{count == 0 ? 0 : end - now};
  return d;
}

bool FixedWindow::idle(const State& s, std::int64_t now) const noexcept {
  return s.start == kNever || s.count == 0 || now >= s.start + window_;
}

// ---------------------------------------------------------------------------------------------
// SlidingWindowLog

SlidingWindowLog::SlidingWindowLog(const LimitSpec& spec) : window_(spec.rate.period.count()), limit_(spec.rate.count) {}

Decision SlidingWindowLog::decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const {
  Decision d = base(limit_, window_);
  const auto cap = static_cast<std::uint32_t>(s.ring.size());
  auto at = [&](std::uint32_t i) -> Record& { return s.ring[(s.head + i) % cap]; };
  // Records with now - at >= window have left the window (window is (now - W, now]).
  std::uint32_t expired = 0;
  std::uint64_t expiredUnits = 0;
  while (expired < s.size && now - at(expired).at >= window_) {
    expiredUnits += at(expired).cost;
    ++expired;
  }
  const std::uint64_t total = s.total - expiredUnits;
  if (total + cost <= limit_) {
    if (commit) {
      s.head = cap == 0 ? 0 : (s.head + expired) % cap;
      s.size -= expired;
      s.total = total + cost;
      const std::int64_t t = (s.size > 0 && at(s.size - 1).at > now) ? at(s.size - 1).at : now;
      if (s.size > 0 && at(s.size - 1).at == t) {
        at(s.size - 1).cost += cost;  // same instant: one record
      } else {
        if (s.size == cap) {
          // Grow (at most to the limit: every record holds >= 1 unit) and unwrap the ring.
          const std::uint64_t grown = std::min<std::uint64_t>(limit_, std::max<std::uint64_t>(4, cap * 2ull));
          std::vector<Record> next;
          next.reserve(grown);
          for (std::uint32_t i = 0; i < s.size; ++i) next.push_back(at(i));
          next.resize(grown, Record{0, 0});
          s.ring = std::move(next);
          s.head = 0;
        }
        s.ring[(s.head + s.size) % s.ring.size()] = Record{t, cost};
        ++s.size;
      }
      d.remaining = limit_ - s.total;
      d.reset = Duration{t + window_ - now};
    } else {
      d.remaining = limit_ - total - cost;
      d.reset = Duration{window_};
    }
    return d;
  }
  d.verdict = Verdict::kReject;
  // Wait until enough of the oldest records leave the window to make room for `cost`.
  const std::uint64_t mustFree = total + cost - limit_;
  std::uint64_t freed = 0;
  std::int64_t retryAt = now + window_;
  for (std::uint32_t i = expired; i < s.size; ++i) {
    freed += at(i).cost;
    if (freed >= mustFree) {
      retryAt = at(i).at + window_;
      break;
    }
  }
  d.retryAfter = Duration{retryAt - now};
  d.remaining = limit_ - std::min(total, limit_);
  d.reset = Duration{s.size > expired ? at(s.size - 1).at + window_ - now : 0};
  return d;
}

bool SlidingWindowLog::idle(const State& s, std::int64_t now) const noexcept {
  if (s.size == 0) return true;
  const Record& newest = s.ring[(s.head + s.size - 1) % s.ring.size()];
  return now - newest.at >= window_;
}

// ---------------------------------------------------------------------------------------------
// SlidingWindowCounter

SlidingWindowCounter::SlidingWindowCounter(const LimitSpec& spec)
    : window_(spec.rate.period.count()), limit_(spec.rate.count), countRejected_(spec.countRejected) {}

Decision SlidingWindowCounter::decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const noexcept {
  Decision d = base(limit_, window_);
  const std::int64_t w = window_;
  std::int64_t start = s.start;
  std::uint64_t prev = s.prev;
  std::uint64_t curr = s.curr;
  if (start == kNever) {
    start = floorDiv(now, w) * w;
    prev = curr = 0;
  } else if (now >= start + w) {
    if (now < start + 2 * w) {
      prev = curr;
      start += w;
    } else {
      prev = 0;
      start = floorDiv(now, w) * w;
    }
    curr = 0;
  }
  const std::int64_t elapsed = now > start ? now - start : 0;
  const auto weightPrev = static_cast<std::uint64_t>(w - elapsed);  // in (0, w]
  const auto uw = static_cast<std::uint64_t>(w);
  // estimate + cost <= limit  <=>  prev*(w-elapsed) + (curr+cost)*w <= limit*w, exactly.
  const U128 used = static_cast<U128>(prev) * weightPrev + static_cast<U128>(curr + cost) * uw;
  const U128 quota = static_cast<U128>(limit_) * uw;
  const bool admit = used <= quota;
  if (admit || countRejected_) curr += cost;
  if (commit) {
    s.start = start;
    s.prev = prev;
    s.curr = curr;
  }
  const U128 nowUsed = static_cast<U128>(prev) * weightPrev + static_cast<U128>(curr) * uw;
  d.remaining = nowUsed >= quota ? 0 : static_cast<std::uint64_t>((quota - nowUsed) / uw);
  d.reset = Duration{curr > 0 ? start + 2 * w - now : (prev > 0 ? start + w - now : 0)};
  if (!admit) {
    d.verdict = Verdict::kReject;
    // Earliest time a request of `cost` passes if nothing else arrives.
    std::int64_t retryAt = start + w;  // fallback: next window
    if (curr + cost <= limit_ && prev > 0) {
      // Inside this window: prev*(w - e) <= (limit - curr - cost)*w.
      const U128 room = static_cast<U128>(limit_ - curr - cost) * uw;
      const auto maxWeight = static_cast<std::uint64_t>(room / prev);  // largest w - e allowed
      if (maxWeight < uw) retryAt = start + w - static_cast<std::int64_t>(maxWeight);
    }
    if (retryAt >= start + w) {
      // In the next window prev' = curr: curr*(w - e) <= (limit - cost)*w.
      std::int64_t e = 0;
      if (curr > 0) {
        const U128 room = static_cast<U128>(limit_ - cost) * uw;
        const U128 maxWeight = room / curr;
        e = maxWeight >= uw ? 0 : w - static_cast<std::int64_t>(maxWeight);
      }
      retryAt = start + w + e;
    }
    d.retryAfter = Duration{retryAt - now};
  }
  return d;
}

bool SlidingWindowCounter::idle(const State& s, std::int64_t now) const noexcept {
  return s.start == kNever || (s.prev == 0 && s.curr == 0) || now >= s.start + 2 * window_;
}

// ---------------------------------------------------------------------------------------------
// Gcra

Gcra::Gcra(const LimitSpec& spec) : burst_(defaultedBurst(spec)) {
  const Scaled s = reduce(spec.rate);
  unitsPerNs_ = s.c;
  unitsPerEmission_ = s.p;
  limitUnits_ = toI64(burst_) * s.p;
}

Decision Gcra::decide(State& s, std::int64_t now, std::uint64_t cost, bool commit) const noexcept {
  Decision d = base(burst_, ceilDivPos(limitUnits_, unitsPerNs_));
  // How far the theoretical arrival time runs ahead of now, in units of 1/c ns.
  std::int64_t ahead = 0;
  if (s.tat != kNever && (s.tat > now || (s.tat == now && s.frac > 0))) {
    ahead = (s.tat - now) * unitsPerNs_ + s.frac;
  }
  const std::int64_t after = ahead + toI64(cost) * unitsPerEmission_;
  if (after <= limitUnits_) {
    if (commit) {
      s.tat = now + after / unitsPerNs_;
      s.frac = after % unitsPerNs_;
    }
    d.remaining = toU64((limitUnits_ - after) / unitsPerEmission_);
    d.reset = Duration{ceilDivPos(after, unitsPerNs_)};
  } else {
    d.verdict = Verdict::kReject;
    d.retryAfter = Duration{ceilDivPos(after - limitUnits_, unitsPerNs_)};
    d.remaining = toU64((limitUnits_ - ahead) / unitsPerEmission_);
    d.reset = Duration{ceilDivPos(ahead, unitsPerNs_)};
  }
  return d;
}

bool Gcra::idle(const State& s, std::int64_t now) const noexcept {
  return s.tat == kNever || s.tat < now || (s.tat == now && s.frac == 0);
}

}  // namespace gatelab::core::ratelimit
