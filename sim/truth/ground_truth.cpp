#include "sim/truth/ground_truth.hpp"

#include <algorithm>
#include <iterator>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "gateway/config/runtime.hpp"
#include "gateway/core/rate_limit/policy.hpp"

namespace gatelab::sim {
namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);
constexpr std::size_t kMinSweep = 1024;

/// One log entry: `units` admitted at `at`; `cum` is the running total of units up to and
/// including this entry (admission logs only), so the units between two entries are a subtraction.
struct Entry {
  std::int64_t at = 0;
  std::uint64_t units = 0;
  std::uint64_t cum = 0;
};

/// A ring buffer of entries sorted by time, capacity a power of two, grown on demand. Smaller than
/// std::deque for the many short logs a trace has (an empty ring holds no memory).
class Ring {
 public:
  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  Entry& operator[](std::uint32_t i) noexcept { return buf_[(head_ + i) & mask()]; }
  const Entry& operator[](std::uint32_t i) const noexcept { return buf_[(head_ + i) & mask()]; }
  Entry& front() noexcept { return (*this)[0]; }
  Entry& back() noexcept { return (*this)[size_ - 1]; }
  void clear() noexcept { head_ = size_ = 0; }  // keeps the buffer for reuse
  void popFront() noexcept {
    head_ = (head_ + 1) & mask();
    --size_;
    if (size_ == 0) head_ = 0;
  }
  void pushBack(const Entry& e) {
    if (size_ == buf_.size()) grow();
    buf_[(head_ + size_) & mask()] = e;
    ++size_;
  }
  /// Inserts keeping the order by `at` (after equal times); returns the position.
  std::uint32_t insertSorted(const Entry& e) {
    pushBack(e);
    std::uint32_t i = size_ - 1;
    while (i > 0 && (*this)[i - 1].at > e.at) {
      std::swap((*this)[i - 1], (*this)[i]);
      --i;
    }
    return i;
  }
  /// The first position whose time is > t (size() when none).
  [[nodiscard]] std::uint32_t firstAfter(std::int64_t t) const noexcept {
    std::uint32_t lo = 0;
    std::uint32_t hi = size_;
    while (lo < hi) {
      const std::uint32_t mid = lo + (hi - lo) / 2;
      if ((*this)[mid].at > t)
        hi = mid;
      else
        lo = mid + 1;
    }
    return lo;
  }

 private:
  [[nodiscard]] std::uint32_t mask() const noexcept { return buf_.empty() ? 0 : static_cast<std::uint32_t>(buf_.size() - 1); }
  void grow() {
    std::vector<Entry> next(buf_.empty() ? 4 : buf_.size() * 2);
    for (std::uint32_t i = 0; i < size_; ++i) next[i] = (*this)[i];
    buf_ = std::move(next);
    head_ = 0;
  }

  std::vector<Entry> buf_;
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
};

struct LimitLogs {
  Ring reference;              // what the reference admitted in the last period
  std::uint64_t referenceUnits = 0;
  Ring admitted;               // what the policy admitted (by admission time), last period
  std::uint64_t admittedCum = 0;
};

struct KeyState {
  std::vector<LimitLogs> limits;
  void clear() noexcept {
    for (LimitLogs& l : limits) {
      l.reference.clear();
      l.referenceUnits = 0;
      l.admitted.clear();
      l.admittedCum = 0;
    }
  }
  [[nodiscard]] bool empty() const noexcept {
    return std::all_of(limits.begin(), limits.end(),
                       [](const LimitLogs& l) { return l.reference.empty() && l.admitted.empty(); });
  }
};

struct HashKey {
  std::size_t operator()(const core::Hash128& h) const noexcept {
    return static_cast<std::size_t>(h.lo ^ (h.hi * 0x9e3779b97f4a7c15ULL));
  }
};

struct Counts {
  std::uint64_t decisions = 0;
  std::uint64_t policyAdmitted = 0;
  std::uint64_t referenceAdmitted = 0;
  std::uint64_t falseAllows = 0;
  std::uint64_t falseBlocks = 0;
  std::optional<Overshoot> worst;
  std::unordered_set<ClientId> wronglyBlocked;

  void offer(const Overshoot& o) {
    if (!worst || o.ratio > worst->ratio) worst = o;
  }
};

void pruneBefore(Ring& ring, std::int64_t cutoff, std::uint64_t* units) {
  // Entries at or before `cutoff` have left every window that can still matter.
  while (!ring.empty() && ring.front().at <= cutoff) {
    if (units != nullptr) *units -= ring.front().units;
    ring.popFront();
  }
}

}  // namespace

struct GroundTruth::PolicyState {
  using Keys = std::unordered_map<core::Hash128, KeyState, HashKey>;
  Keys keys;
  // Nodes of swept keys, reused for new keys so a key that comes back after idling costs no
  // allocation; never more than the live keys, so memory still follows the active keys.
  std::vector<Keys::node_type> pool;
  std::size_t nextSweep = kMinSweep;
  Counts run;
  std::vector<Counts> windows;
};

std::optional<double> TruthCounts::falseAllowShare() const noexcept {
  if (decisions == 0) return std::nullopt;
  return static_cast<double>(falseAllows) / static_cast<double>(decisions);
}

std::optional<double> TruthCounts::falseBlockShare() const noexcept {
  if (decisions == 0) return std::nullopt;
  return static_cast<double>(falseBlocks) / static_cast<double>(decisions);
}

GroundTruth::GroundTruth(std::vector<TruthPolicy> policies, TruthOptions options)
    : policies_(std::move(policies)), options_(std::move(options)) {
  for (std::size_t i = 0; i < policies_.size(); ++i) {
    const TruthPolicy& p = policies_[i];
    if (index_.size() <= p.route) index_.resize(std::size_t{p.route} + 1);
    auto& row = index_[p.route];
    if (row.size() <= p.policy) row.resize(std::size_t{p.policy} + 1, kNone);
    row[p.policy] = i;
    auto state = std::make_unique<PolicyState>();
    state->windows.resize(options_.windows.size());
    states_.push_back(std::move(state));
  }
}

GroundTruth::~GroundTruth() = default;

std::vector<TruthPolicy> GroundTruth::policiesOf(const config::GatewayRuntime& runtime) {
  std::vector<TruthPolicy> out;
  for (std::size_t r = 0; r < runtime.routes.size(); ++r) {
    const auto& limits = runtime.routes[r].rateLimits;
    for (std::size_t p = 0; p < limits.size(); ++p) {
      const auto& spec = limits[p]->spec();
      TruthPolicy t;
      t.route = static_cast<std::uint32_t>(r);
      t.policy = static_cast<std::uint32_t>(p);
      t.name = spec.name;
      t.shadow = spec.shadow;
      for (const auto& l : spec.limits) t.limits.push_back(TruthLimit{l.rate, l.algorithm});
      out.push_back(std::move(t));
    }
  }
  return out;
}

std::optional<std::size_t> GroundTruth::indexOf(std::uint32_t route, std::uint32_t policy) const noexcept {
  if (route >= index_.size() || policy >= index_[route].size() || index_[route][policy] == kNone) return std::nullopt;
  return index_[route][policy];
}

void GroundTruth::onRateLimit(const RateLimitReport& report) {
  if (report.decision == nullptr) return;
  const auto found = indexOf(report.route, report.policy);
  if (!found) return;
  const std::size_t index = *found;
  const TruthPolicy& policy = policies_[index];
  PolicyState& state = *states_[index];
  const core::ratelimit::PolicyDecision& decision = *report.decision;
  const std::int64_t now = core::toNanos(report.at);
  const std::uint64_t cost = std::max<std::uint32_t>(report.cost, 1);
  const std::size_t limitCount = policy.limits.size();

  auto it = state.keys.find(decision.key);
  if (it == state.keys.end()) {
    if (!state.pool.empty()) {
      PolicyState::Keys::node_type node = std::move(state.pool.back());
      state.pool.pop_back();
      node.key() = decision.key;
      node.mapped().clear();
      it = state.keys.insert(std::move(node)).position;
    } else {
      it = state.keys.try_emplace(decision.key).first;
      it->second.limits.resize(limitCount);
    }
  }
  KeyState& key = it->second;

  // The reference decides on its own log: admitted iff every limit has room for `cost` units.
  bool referenceAdmits = true;
  for (std::size_t l = 0; l < limitCount; ++l) {
    LimitLogs& logs = key.limits[l];
    const std::int64_t period = policy.limits[l].rate.period.count();
    pruneBefore(logs.reference, now - period, &logs.referenceUnits);
    if (logs.referenceUnits + cost > policy.limits[l].rate.count) referenceAdmits = false;
  }
  if (referenceAdmits) {
    for (std::size_t l = 0; l < limitCount; ++l) {
      LimitLogs& logs = key.limits[l];
      if (!logs.reference.empty() && logs.reference.back().at == now)
        logs.reference.back().units += cost;  // same instant: one entry
      else
        logs.reference.pushBack(Entry{now, cost, 0});
      logs.referenceUnits += cost;
    }
  }

  const bool policyAdmits = decision.wouldBe != core::ratelimit::Verdict::kReject;
  const bool falseAllow = policyAdmits && !referenceAdmits;
  const bool falseBlock = !policyAdmits && referenceAdmits;

  auto count = [&](Counts& c) {
    ++c.decisions;
    if (policyAdmits) ++c.policyAdmitted;
    if (referenceAdmits) ++c.referenceAdmitted;
    if (falseAllow) ++c.falseAllows;
    if (falseBlock) {
      ++c.falseBlocks;
      c.wronglyBlocked.insert(report.client);
    }
  };
  count(state.run);
  for (std::size_t w = 0; w < options_.windows.size(); ++w) {
    const MetricWindow& win = options_.windows[w];
    if (report.at >= options_.start + win.from && report.at < options_.start + win.to) count(state.windows[w]);
  }

  // The policy's admissions, by the time they actually went through; the most units in any window
  // of each limit's period is the overshoot.
  const std::int64_t admittedAt =
      now + (decision.wouldBe == core::ratelimit::Verdict::kDelay ? std::max<std::int64_t>(decision.delay.count(), 0) : 0);
  for (std::size_t l = 0; l < limitCount; ++l) {
    LimitLogs& logs = key.limits[l];
    const std::int64_t period = policy.limits[l].rate.period.count();
    pruneBefore(logs.admitted, now - period, nullptr);
    if (!policyAdmits) continue;

    auto offer = [&](std::uint32_t end) {
      const Entry& last = logs.admitted[end];
      const std::uint32_t first = logs.admitted.firstAfter(last.at - period);
      const std::uint64_t units = last.cum - logs.admitted[first].cum + logs.admitted[first].units;
      Overshoot o;
      o.admitted = units;
      o.limit = policy.limits[l].rate.count;
      o.ratio = static_cast<double>(units) / static_cast<double>(o.limit);
      o.period = policy.limits[l].rate.period;
      o.policy = index;
      o.limitIndex = static_cast<std::uint32_t>(l);
      o.client = report.client;
      o.at = core::TimePoint{core::Duration{last.at}};
      state.run.offer(o);
      for (std::size_t w = 0; w < options_.windows.size(); ++w) {
        const MetricWindow& win = options_.windows[w];
        if (o.at >= options_.start + win.from && o.at < options_.start + win.to) state.windows[w].offer(o);
      }
    };

    if (logs.admitted.empty() || logs.admitted.back().at <= admittedAt) {
      logs.admittedCum += cost;
      logs.admitted.pushBack(Entry{admittedAt, cost, logs.admittedCum});
      offer(logs.admitted.size() - 1);
    } else {
      // A shorter delay than an earlier request's: insert in order, renumber the running totals
      // after it, and re-examine every window the new entry falls into.
      const std::uint32_t pos = logs.admitted.insertSorted(Entry{admittedAt, cost, 0});
      // The running total before `pos`: the previous entry's, or (at the front) what the old front
      // entry, now at pos + 1, started from.
      std::uint64_t cum = pos > 0 ? logs.admitted[pos - 1].cum : logs.admitted[1].cum - logs.admitted[1].units;
      for (std::uint32_t i = pos; i < logs.admitted.size(); ++i) {
        cum += logs.admitted[i].units;
        logs.admitted[i].cum = cum;
      }
      logs.admittedCum = cum;
      for (std::uint32_t i = pos; i < logs.admitted.size() && logs.admitted[i].at < admittedAt + period; ++i) offer(i);
    }
  }

  // Amortised sweep of idle keys: memory follows the keys active within one period.
  if (state.keys.size() >= state.nextSweep) {
    for (auto k = state.keys.begin(); k != state.keys.end();) {
      for (std::size_t l = 0; l < limitCount; ++l) {
        LimitLogs& logs = k->second.limits[l];
        const std::int64_t period = policy.limits[l].rate.period.count();
        pruneBefore(logs.reference, now - period, &logs.referenceUnits);
        pruneBefore(logs.admitted, now - period, nullptr);
      }
      if (k->second.empty()) {
        const auto next = std::next(k);
        auto node = state.keys.extract(k);
        if (state.pool.size() < state.keys.size()) state.pool.push_back(std::move(node));
        k = next;
      } else {
        ++k;
      }
    }
    if (state.pool.size() > state.keys.size()) state.pool.resize(state.keys.size());
    state.nextSweep = std::max(kMinSweep, state.keys.size() * 2);
  }
}

TruthCounts GroundTruth::counts(std::size_t policy, std::optional<std::size_t> window) const {
  const std::size_t one[] = {policy};
  return counts(std::span<const std::size_t>(one), window);
}

TruthCounts GroundTruth::counts(std::span<const std::size_t> policies, std::optional<std::size_t> window) const {
  TruthCounts out;
  std::unordered_set<ClientId> clients;
  for (std::size_t p : policies) {
    const PolicyState& state = *states_.at(p);
    const Counts& c = window ? state.windows.at(*window) : state.run;
    out.decisions += c.decisions;
    out.policyAdmitted += c.policyAdmitted;
    out.referenceAdmitted += c.referenceAdmitted;
    out.falseAllows += c.falseAllows;
    out.falseBlocks += c.falseBlocks;
    if (c.worst && (!out.worst || c.worst->ratio > out.worst->ratio)) out.worst = c.worst;
    clients.insert(c.wronglyBlocked.begin(), c.wronglyBlocked.end());
  }
  out.wronglyBlockedClients = clients.size();
  return out;
}

TruthCounts GroundTruth::total(std::optional<std::size_t> window) const {
  std::vector<std::size_t> all(policies_.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  return counts(std::span<const std::size_t>(all), window);
}

std::vector<ClientId> GroundTruth::wronglyBlocked(std::span<const std::size_t> policies,
                                                  std::optional<std::size_t> window) const {
  std::unordered_set<ClientId> clients;
  for (std::size_t p : policies) {
    const PolicyState& state = *states_.at(p);
    const Counts& c = window ? state.windows.at(*window) : state.run;
    clients.insert(c.wronglyBlocked.begin(), c.wronglyBlocked.end());
  }
  std::vector<ClientId> out(clients.begin(), clients.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t GroundTruth::trackedKeys() const noexcept {
  std::size_t n = 0;
  for (const auto& s : states_) n += s->keys.size();
  return n;
}

}  // namespace gatelab::sim
