#include "gateway/core/resilience/load_balancer.hpp"

#include <algorithm>
#include <cassert>
#include <numeric>
#include <string>
#include <vector>

#include "gateway/core/hash.hpp"
#include "gateway/core/int128.hpp"

namespace gatelab::core::resilience {

namespace {

constexpr std::uint32_t kMaxRingReplicas = 10'000;
constexpr std::uint64_t kMaxRingPoints = std::uint64_t{1} << 22;

// Maps a uniform 64-bit draw onto [0, bound): the high half of draw x bound.
inline std::uint64_t uniformBelow(std::uint64_t draw, std::uint64_t bound) noexcept {
  return static_cast<std::uint64_t>((static_cast<U128>(draw) * bound) >> 64);
}

// SplitMix64's output function: a fresh, well-mixed value derived from a draw, for redraws.
inline std::uint64_t remix(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Should `avoid` be skipped in this pick? Only when it is a candidate and not the only one.
inline bool skipAvoid(const TargetView& v, std::uint32_t avoid) noexcept {
  return avoid != kNoTarget && v.candidates.size() > 1 && avoid < v.eligible.size() && v.eligible[avoid] != 0;
}

// ---------------------------------------------------------------------------------------------

class RoundRobin final : public LoadBalancer {
 public:
  Pick pick(TargetSet& targets, const PickRequest& r) override {
    const TargetView& v = targets.view(r.now);
    const std::size_t m = v.candidates.size();
    if (m == 0) return Pick{};
    if (pos_ >= m) pos_ %= m;  // the candidate list shrank
    std::uint32_t t = next(v);
    if (t == r.avoid && skipAvoid(v, r.avoid)) t = next(v);
    return Pick{t, v.panic};
  }
  LbAlgorithm algorithm() const noexcept override { return LbAlgorithm::kRoundRobin; }

 private:
  std::uint32_t next(const TargetView& v) noexcept {
    const std::uint32_t t = v.candidates[pos_];
    pos_ = pos_ + 1 == v.candidates.size() ? 0 : pos_ + 1;
    return t;
  }
  std::size_t pos_ = 0;
};

// nginx's smooth weighted round robin: every candidate gains its weight, the largest current
// value wins and pays the total back. The candidates' weights and current values are kept in
// contiguous arrays (rebuilt when the candidate set changes, carrying the current values over)
// so the O(n) pass is a tight branch-free loop.
class SmoothWeightedRoundRobin final : public LoadBalancer {
 public:
  explicit SmoothWeightedRoundRobin(const TargetSet& targets)
      : weight_(targets.size()), current_(targets.size(), 0) {
    for (std::size_t i = 0; i < targets.size(); ++i) weight_[i] = targets.target(i).weight;
  }
  Pick pick(TargetSet& targets, const PickRequest& r) override {
    const TargetView& v = targets.view(r.now);
    const std::size_t m = v.candidates.size();
    if (m == 0) return Pick{};
    if (v.version != version_) rebuild(v);
    std::size_t skip = m;  // position of the avoided candidate, if it is to be skipped
    if (skipAvoid(v, r.avoid))
      skip = static_cast<std::size_t>(std::lower_bound(v.candidates.begin(), v.candidates.end(), r.avoid) -
                                      v.candidates.begin());
    Best best;
    scan(0, skip < m ? skip : m, best);
    if (skip < m) scan(skip + 1, m, best);
    const std::int64_t total = skip < m ? total_ - posWeight_[skip] : total_;
    posCurrent_[best.pos] -= total;
    return Pick{v.candidates[best.pos], v.panic};
  }
  LbAlgorithm algorithm() const noexcept override { return LbAlgorithm::kWeightedRoundRobin; }

 private:
  struct Best {
    std::size_t pos = 0;
    std::int64_t current = std::numeric_limits<std::int64_t>::min();
  };
  void scan(std::size_t from, std::size_t to, Best& best) noexcept {
    for (std::size_t k = from; k < to; ++k) {
      const std::int64_t c = posCurrent_[k] + posWeight_[k];
      posCurrent_[k] = c;
      const bool better = c > best.current;  // strict: the first of equals wins, as in nginx
      best.pos = better ? k : best.pos;
      best.current = better ? c : best.current;
    }
  }
  void rebuild(const TargetView& v) {
    for (std::size_t k = 0; k < posTarget_.size(); ++k) current_[posTarget_[k]] = posCurrent_[k];
    posTarget_.assign(v.candidates.begin(), v.candidates.end());
    posWeight_.resize(posTarget_.size());
    posCurrent_.resize(posTarget_.size());
    total_ = 0;
    for (std::size_t k = 0; k < posTarget_.size(); ++k) {
      posWeight_[k] = weight_[posTarget_[k]];
      posCurrent_[k] = current_[posTarget_[k]];
      total_ += posWeight_[k];
    }
    version_ = v.version;
  }
  std::vector<std::int64_t> weight_;   ///< per target
  std::vector<std::int64_t> current_;  ///< per target, for targets not currently candidates
  std::vector<std::uint32_t> posTarget_;
  std::vector<std::int64_t> posWeight_;
  std::vector<std::int64_t> posCurrent_;
  std::int64_t total_ = 0;
  std::uint64_t version_ = 0;
};

class WeightedRandom final : public LoadBalancer {
 public:
  explicit WeightedRandom(const TargetSet& targets) : weight_(targets.size()) {
    for (std::size_t i = 0; i < targets.size(); ++i) weight_[i] = targets.target(i).weight;
    cumulative_.reserve(targets.size());
  }
  Pick pick(TargetSet& targets, const PickRequest& r) override {
    const TargetView& v = targets.view(r.now);
    const std::size_t m = v.candidates.size();
    if (m == 0) return Pick{};
    if (v.version != version_) rebuild(v);
    std::uint64_t draw = r.draw;
    std::size_t idx = locate(draw);
    if (v.candidates[idx] == r.avoid && skipAvoid(v, r.avoid)) {
      // Rejection sampling keeps the other candidates' shares exact; after a few unlucky redraws
      // (the avoided target holds nearly all the weight) take its neighbour.
      for (int k = 0; k < 8 && v.candidates[idx] == r.avoid; ++k) {
        draw = remix(draw);
        idx = locate(draw);
      }
      if (v.candidates[idx] == r.avoid) idx = idx + 1 == m ? 0 : idx + 1;
    }
    return Pick{v.candidates[idx], v.panic};
  }
  LbAlgorithm algorithm() const noexcept override { return LbAlgorithm::kWeightedRandom; }

 private:
  void rebuild(const TargetView& v) {
    cumulative_.clear();
    std::uint64_t sum = 0;
    for (std::uint32_t t : v.candidates) {
      sum += weight_[t];
      cumulative_.push_back(sum);
    }
    version_ = v.version;
  }
  std::size_t locate(std::uint64_t draw) const noexcept {
    const std::uint64_t x = uniformBelow(draw, cumulative_.back());
    return static_cast<std::size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), x) - cumulative_.begin());
  }
  std::vector<std::uint64_t> weight_;
  std::vector<std::uint64_t> cumulative_;
  std::uint64_t version_ = 0;
};

class LeastRequestP2C final : public LoadBalancer {
 public:
  Pick pick(TargetSet& targets, const PickRequest& r) override {
    const TargetView& v = targets.view(r.now);
    const std::size_t m = v.candidates.size();
    if (m == 0) return Pick{};
    if (m == 1) return Pick{v.candidates[0], v.panic};
    const std::uint64_t i = uniformBelow(r.draw, m);
    std::uint64_t j = uniformBelow(r.draw2, m - 1);
    if (j >= i) ++j;  // two distinct candidates, each pair equally likely
    const std::uint32_t a = v.candidates[i];
    const std::uint32_t b = v.candidates[j];
    if (a == r.avoid) return Pick{b, v.panic};
    if (b == r.avoid) return Pick{a, v.panic};
    return Pick{targets.outstanding(b) < targets.outstanding(a) ? b : a, v.panic};
  }
  LbAlgorithm algorithm() const noexcept override { return LbAlgorithm::kLeastRequest; }
};

class RingHash final : public LoadBalancer {
 public:
  RingHash(const TargetSet& targets, std::uint32_t replicas) {
    std::uint32_t g = 0;
    for (const TargetSpec& t : targets.targets()) g = std::gcd(g, t.weight);
    std::vector<std::uint64_t> counts;
    std::uint64_t total = 0;
    for (const TargetSpec& t : targets.targets()) {
      counts.push_back(std::uint64_t{replicas} * (t.weight / g));
      total += counts.back();
    }
    if (total > kMaxRingPoints)  // scale down proportionally, keeping at least one point each
      for (std::uint64_t& c : counts) c = std::max<std::uint64_t>(1, c * kMaxRingPoints / total);

    struct Point {
      std::uint64_t hash;
      std::uint32_t owner;
    };
    std::vector<Point> ring;
    ring.reserve(static_cast<std::size_t>(std::min(total, kMaxRingPoints + targets.size())));
    std::string key;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const std::string& name = targets.target(i).name;
      for (std::uint64_t k = 0; k < counts[i]; ++k) {
        key.assign(name);
        key += '#';
        key += std::to_string(k);
        ring.push_back(Point{hash128(key).lo, static_cast<std::uint32_t>(i)});
      }
    }
    std::sort(ring.begin(), ring.end(),
              [](const Point& a, const Point& b) { return a.hash != b.hash ? a.hash < b.hash : a.owner < b.owner; });
    points_.reserve(ring.size());
    owners_.reserve(ring.size());
    for (const Point& p : ring) {
      points_.push_back(p.hash);
      owners_.push_back(p.owner);
    }
    // Index by the top `bits` of the hash: bucketStart_[b] is the first point whose top bits are
    // >= b, so a lookup searches only its own bucket (about one point) instead of the whole ring.
    int bits = 1;
    while (bits < 20 && (std::size_t{1} << bits) < points_.size()) ++bits;
    shift_ = 64 - bits;
    bucketStart_.assign((std::size_t{1} << bits) + 1, 0);
    std::size_t p = 0;
    for (std::size_t b = 0; b + 1 < bucketStart_.size(); ++b) {
      while (p < points_.size() && (points_[p] >> shift_) < b) ++p;
      bucketStart_[b] = static_cast<std::uint32_t>(p);
    }
    bucketStart_.back() = static_cast<std::uint32_t>(points_.size());
  }
  Pick pick(TargetSet& targets, const PickRequest& r) override {
    const TargetView& v = targets.view(r.now);
    if (v.candidates.empty() || points_.empty()) return Pick{};
    const bool skip = skipAvoid(v, r.avoid);
    std::size_t pos = firstAtOrAfter(r.hash);
    for (std::size_t step = 0; step < points_.size(); ++step) {
      if (pos == points_.size()) pos = 0;
      const std::uint32_t t = owners_[pos];
      if (v.eligible[t] != 0 && !(skip && t == r.avoid)) return Pick{t, v.panic};
      ++pos;
    }
    return Pick{};  // unreachable: every target owns at least one point
  }
  LbAlgorithm algorithm() const noexcept override { return LbAlgorithm::kConsistentHash; }

 private:
  // Index of the first ring point >= h (points_.size() when h is above every point).
  std::size_t firstAtOrAfter(std::uint64_t h) const noexcept {
    const std::uint64_t b = h >> shift_;
    const auto lo = points_.begin() + bucketStart_[b];
    const auto hi = points_.begin() + bucketStart_[b + 1];
    return static_cast<std::size_t>(std::lower_bound(lo, hi, h) - points_.begin());
  }
  std::vector<std::uint64_t> points_;
  std::vector<std::uint32_t> owners_;
  std::vector<std::uint32_t> bucketStart_;
  int shift_ = 63;
};

}  // namespace

std::optional<std::string> validateLbConfig(const LbConfig& c) {
  if (c.algorithm == LbAlgorithm::kConsistentHash && (c.ringReplicas == 0 || c.ringReplicas > kMaxRingReplicas))
    return "load_balancer.ring_replicas: must be 1..10000";
  return std::nullopt;
}

std::unique_ptr<LoadBalancer> makeLoadBalancer(const LbConfig& config, const TargetSet& targets) {
  assert(!validateLbConfig(config).has_value());
  switch (config.algorithm) {
    case LbAlgorithm::kRoundRobin: return std::make_unique<RoundRobin>();
    case LbAlgorithm::kWeightedRoundRobin: return std::make_unique<SmoothWeightedRoundRobin>(targets);
    case LbAlgorithm::kWeightedRandom: return std::make_unique<WeightedRandom>(targets);
    case LbAlgorithm::kLeastRequest: return std::make_unique<LeastRequestP2C>();
    case LbAlgorithm::kConsistentHash: return std::make_unique<RingHash>(targets, config.ringReplicas);
  }
  return std::make_unique<RoundRobin>();
}

}  // namespace gatelab::core::resilience
