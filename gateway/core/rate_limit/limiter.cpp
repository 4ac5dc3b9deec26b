#include "gateway/core/rate_limit/limiter.hpp"

#include <numeric>

#include "gateway/core/rate_limit/algorithms.hpp"
#include "gateway/core/int128.hpp"

namespace gatelab::core::ratelimit {

namespace {

template <class Algo>
class LocalLimiter final : public Limiter {
 public:
  using State = typename Algo::State;

  LocalLimiter(const LimitSpec& spec, std::uint64_t maxKeys) : spec_(spec), algo_(spec), store_(maxKeys) {}

  Decision acquire(const Hash128& key, TimePoint now, std::uint64_t cost) override {
    const std::int64_t t = toNanos(now);
    bool inserted = false;
    State& s = store_.upsert(key, State{}, [&](const State& st) { return algo_.idle(st, t); }, inserted);
    return algo_.decide(s, t, cost, true);
  }

  Decision peek(const Hash128& key, TimePoint now, std::uint64_t cost) override {
    const std::int64_t t = toNanos(now);
    if (State* s = store_.find(key)) return algo_.decide(*s, t, cost, false);
    State fresh{};
    return algo_.decide(fresh, t, cost, false);
  }

  const LimitSpec& spec() const noexcept override { return spec_; }
  StoreStats stats() const noexcept override { return store_.stats(); }
  std::size_t entryBytes() const noexcept override { return KeyedStore<State>::entryBytes(); }

  bool adoptState(Limiter& from) override {
    auto* other = dynamic_cast<LocalLimiter*>(&from);
    if (other == nullptr || other == this || !(other->spec_ == spec_) || other->store_.maxKeys() != store_.maxKeys())
      return false;
    store_ = std::move(other->store_);
    other->store_ = KeyedStore<State>(store_.maxKeys());
    return true;
  }

 private:
  LimitSpec spec_;
  Algo algo_;
  KeyedStore<State> store_;
};

constexpr std::uint64_t kMaxUnits = std::uint64_t{1} << 62;

}  // namespace

std::optional<std::string> validateLimitSpec(const LimitSpec& spec, std::uint64_t cost) {
  const Rate& r = spec.rate;
  if (r.count == 0) return "the rate's count must be at least 1";
  if (r.period.count() <= 0) return "the rate's period must be positive";
  if (r.count > (std::uint64_t{1} << 40)) return "the rate's count must be at most 2^40";
  if (cost == 0) return "cost must be at least 1";
  const std::uint64_t burst = spec.burst == 0 ? r.count : spec.burst;
  const auto period = static_cast<std::uint64_t>(r.period.count());
  const std::uint64_t unitsPerEvent = period / std::gcd(r.count, period);
  switch (spec.algorithm) {
    case Algorithm::kTokenBucket:
    case Algorithm::kGcra:
      if (cost > burst) return "cost " + std::to_string(cost) + " exceeds the burst " + std::to_string(burst) + ": no request could ever pass";
      if (burst > kMaxUnits / unitsPerEvent)
        return "burst " + std::to_string(burst) + " with this rate exceeds exact 62-bit arithmetic; use a smaller burst or a rate whose count divides the period in nanoseconds";
      return std::nullopt;
    case Algorithm::kTokenBucketDiscrete:
      if (cost > burst) return "cost " + std::to_string(cost) + " exceeds the bucket's max tokens " + std::to_string(burst);
      if (burst > kMaxUnits) return "burst is too large";
      return std::nullopt;
    case Algorithm::kLeakyBucket: {
      // nginx keeps the rate in milli-requests per second, truncated.
      const U128 milli = static_cast<U128>(r.count) * 1000u * 1'000'000'000u / period;
      if (milli == 0) return "rate is below 0.001 requests per second, which nginx's leaky bucket cannot represent";
      if (milli > kMaxUnits / 1000) return "rate is too high for the leaky bucket";
      if (spec.burst > (kMaxUnits / 1000) / 4) return "burst is too large";
      if (spec.delay != LimitSpec::kNoDelay && spec.delay > spec.burst)
        return "delay " + std::to_string(spec.delay) + " exceeds burst " + std::to_string(spec.burst) + "; delay counts requests within the burst";
      if (cost > spec.burst + 1) return "cost " + std::to_string(cost) + " exceeds burst + 1: no request could ever pass";
      return std::nullopt;
    }
    case Algorithm::kFixedWindow:
    case Algorithm::kSlidingWindowLog:
    case Algorithm::kSlidingWindowCounter:
      if (cost > r.count) return "cost " + std::to_string(cost) + " exceeds the limit " + std::to_string(r.count) + " per window: no request could ever pass";
      if (spec.algorithm == Algorithm::kSlidingWindowLog && r.count > (std::uint64_t{1} << 31))
        return "sliding_window_log keeps one record per request; a limit above 2^31 per window is not supported";
      if (period > kMaxUnits / 2) return "window is too long";
      return std::nullopt;
  }
  return "unknown algorithm";
}

std::unique_ptr<Limiter> makeLocalLimiter(const LimitSpec& spec, std::uint64_t maxKeys) {
  switch (spec.algorithm) {
    case Algorithm::kTokenBucket: return std::make_unique<LocalLimiter<TokenBucket>>(spec, maxKeys);
    case Algorithm::kTokenBucketDiscrete: return std::make_unique<LocalLimiter<DiscreteTokenBucket>>(spec, maxKeys);
    case Algorithm::kLeakyBucket: return std::make_unique<LocalLimiter<LeakyBucket>>(spec, maxKeys);
    case Algorithm::kFixedWindow: return std::make_unique<LocalLimiter<FixedWindow>>(spec, maxKeys);
    case Algorithm::kSlidingWindowLog: return std::make_unique<LocalLimiter<SlidingWindowLog>>(spec, maxKeys);
    case Algorithm::kSlidingWindowCounter: return std::make_unique<LocalLimiter<SlidingWindowCounter>>(spec, maxKeys);
    case Algorithm::kGcra: return std::make_unique<LocalLimiter<Gcra>>(spec, maxKeys);
  }
  return nullptr;
}

}  // namespace gatelab::core::ratelimit
