#include "sim/truth/ground_truth.hpp"

#include <algorithm>
#include <iterator>
#include <memory>
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

/// A ring buffer of entries sorted by time. The first kInline entries live in the object itself:
/// most keys of a real trace hold one or two entries per period, so their logs cost no allocation
/// and no pointer chase; busier keys move to a heap buffer (capacity a power of two, grown on
/// demand) and return to the inline one when cleared.
class Ring {
 public:
  static constexpr std::uint32_t kInline = 2;

  Ring() = default;
  Ring(Ring&& other) noexcept { *this = std::move(other); }
  Ring& operator=(Ring&& other) noexcept {
    heap_ = std::move(other.heap_);
    for (std::uint32_t i = 0; i < kInline; ++i) inline_[i] = other.inline_[i];
    cap_ = other.cap_;
    head_ = other.head_;
    size_ = other.size_;
    other.cap_ = kInline;
    other.head_ = other.size_ = 0;
    return *this;
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() = default;

  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  Entry& operator[](std::uint32_t i) noexcept { return data()[(head_ + i) & (cap_ - 1)]; }
  const Entry& operator[](std::uint32_t i) const noexcept { return data()[(head_ + i) & (cap_ - 1)]; }
  Entry& front() noexcept { return (*this)[0]; }
  Entry& back() noexcept { return (*this)[size_ - 1]; }
  void clear() noexcept {
    heap_.reset();
    cap_ = kInline;
    head_ = size_ = 0;
  }
  void popFront() noexcept {
    head_ = (head_ + 1) & (cap_ - 1);
    --size_;
    if (size_ == 0) head_ = 0;
  }
  void pushBack(const Entry& e) {
    if (size_ == cap_) grow();
    data()[(head_ + size_) & (cap_ - 1)] = e;
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
  [[nodiscard]] Entry* data() noexcept { return heap_ ? heap_.get() : inline_; }
  [[nodiscard]] const Entry* data() const noexcept { return heap_ ? heap_.get() : inline_; }
  void grow() {
    const std::uint32_t next = cap_ * 2;
    auto buf = std::make_unique<Entry[]>(next);
    for (std::uint32_t i = 0; i < size_; ++i) buf[i] = (*this)[i];
    heap_ = std::move(buf);
    cap_ = next;
    head_ = 0;
  }

  std::unique_ptr<Entry[]> heap_;
  Entry inline_[kInline];
  std::uint32_t cap_ = kInline;  // a power of two
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
};

struct LimitLogs {
  Ring reference;              // what the reference admitted in the last period
  std::uint64_t referenceUnits = 0;
  Ring admitted;               // what the policy admitted (by admission time), last period
  std::uint64_t admittedCum = 0;

  void clear() noexcept {
    reference.clear();
    referenceUnits = 0;
    admitted.clear();
    admittedCum = 0;
  }
  [[nodiscard]] bool empty() const noexcept { return reference.empty() && admitted.empty(); }
};

/// The judged keys of one policy: an open-addressing index (linear probing, load <= 1/2) whose
/// slots hold the key's hash and the number of its record; a record is the key's `limits`
/// consecutive LimitLogs in one dense array. A lookup touches the index slot and the logs, no
/// node chains. Records of swept keys are reused through a free list.
class KeyTable {
 public:
  explicit KeyTable(std::size_t limits) : limits_(limits) {}

  /// The logs of `key` (limits() consecutive entries), inserted empty when absent.
  LimitLogs* findOrInsert(const core::Hash128& key) {
    if ((live_ + 1) * 2 > slots_.size()) rebuild(std::max<std::size_t>(64, slots_.size() * 2));
    std::size_t i = key.lo & mask_;
    for (;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.record == kEmpty) break;
      if (s.key == key) return &logs_[std::size_t{s.record} * limits_];
    }
    std::uint32_t record = 0;
    if (!free_.empty()) {
      record = free_.back();
      free_.pop_back();
    } else {
      record = static_cast<std::uint32_t>(keys_.size());
      keys_.emplace_back();
      alive_.push_back(0);
      logs_.resize(logs_.size() + limits_);
    }
    keys_[record] = key;
    alive_[record] = 1;
    slots_[i] = Slot{key, record};
    ++live_;
    return &logs_[std::size_t{record} * limits_];
  }

  [[nodiscard]] std::size_t size() const noexcept { return live_; }

  /// Hints the processor to load the slot a lookup of `key` probes first. No effect on the table.
  void prefetch(const core::Hash128& key) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[key.lo & mask_]);
  }

  /// Calls `prune(LimitLogs*)` on every live key, drops the keys whose logs are then all empty
  /// (their records go to the free list; most of the array free: it shrinks), and rebuilds the
  /// index. O(records).
  template <class Prune>
  void sweep(Prune&& prune) {
    live_ = 0;
    free_.clear();
    for (std::uint32_t r = 0; r < keys_.size(); ++r) {
      if (alive_[r] != 0) {
        LimitLogs* logs = &logs_[std::size_t{r} * limits_];
        prune(logs);
        bool empty = true;
        for (std::size_t l = 0; l < limits_; ++l) empty = empty && logs[l].empty();
        if (!empty) {
          ++live_;
          continue;
        }
        for (std::size_t l = 0; l < limits_; ++l) logs[l].clear();
        alive_[r] = 0;
      }
      free_.push_back(r);
    }
    if (keys_.size() > kMinRecords && live_ * 4 < keys_.size()) compact();
    std::size_t n = 64;
    while (n < (live_ + 1) * 2) n *= 2;
    rebuild(n);
  }

 private:
  struct Slot {
    core::Hash128 key;
    std::uint32_t record = kEmpty;
  };
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
  static constexpr std::size_t kMinRecords = 1024;

  void compact() {
    std::vector<core::Hash128> keys;
    std::vector<std::uint8_t> alive;
    std::vector<LimitLogs> logs;
    keys.reserve(live_);
    logs.reserve(live_ * limits_);
    for (std::uint32_t r = 0; r < keys_.size(); ++r) {
      if (alive_[r] == 0) continue;
      keys.push_back(keys_[r]);
      for (std::size_t l = 0; l < limits_; ++l) logs.push_back(std::move(logs_[std::size_t{r} * limits_ + l]));
    }
    alive.assign(keys.size(), 1);
    keys_ = std::move(keys);
    alive_ = std::move(alive);
    logs_ = std::move(logs);
    free_.clear();
  }

  void rebuild(std::size_t n) {
    slots_.assign(n, Slot{});
    mask_ = n - 1;
    for (std::uint32_t r = 0; r < keys_.size(); ++r) {
      if (alive_[r] == 0) continue;
      std::size_t i = keys_[r].lo & mask_;
      while (slots_[i].record != kEmpty) i = (i + 1) & mask_;
      slots_[i] = Slot{keys_[r], r};
    }
  }

  std::size_t limits_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::vector<core::Hash128> keys_;   // per record
  std::vector<std::uint8_t> alive_;   // per record: 1 while the key is tracked
  std::vector<LimitLogs> logs_;       // limits_ per record
  std::vector<std::uint32_t> free_;
  std::size_t live_ = 0;
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
  explicit PolicyState(std::size_t limits) : keys(limits) {}
  KeyTable keys;
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
    auto state = std::make_unique<PolicyState>(p.limits.size());
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

void GroundTruth::willDecide(std::uint32_t route, std::uint32_t policy, ClientId /*client*/, const core::Hash128& key) {
  if (const auto found = indexOf(route, policy)) states_[*found]->keys.prefetch(key);
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

  LimitLogs* const keyLogs = state.keys.findOrInsert(decision.key);
  // The reference decides on its own log: admitted iff every limit has room for `cost` units.
  bool referenceAdmits = true;
  for (std::size_t l = 0; l < limitCount; ++l) {
    LimitLogs& logs = keyLogs[l];
    const std::int64_t period = policy.limits[l].rate.period.count();
    pruneBefore(logs.reference, now - period, &logs.referenceUnits);
    if (logs.referenceUnits + cost > policy.limits[l].rate.count) referenceAdmits = false;
  }
  if (referenceAdmits) {
    for (std::size_t l = 0; l < limitCount; ++l) {
      LimitLogs& logs = keyLogs[l];
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
    LimitLogs& logs = keyLogs[l];
    const std::int64_t period = policy.limits[l].rate.period.count();
    pruneBefore(logs.admitted, now - period, nullptr);
    if (!policyAdmits) continue;

    auto offer = [&](std::uint32_t end) {
      const Entry& last = logs.admitted[end];
      // The log was just pruned to entries after now - period: when the window ends now (no
      // delay, the common case) it starts at the front, and the search can be skipped.
      const std::uint32_t first = last.at == now ? 0 : logs.admitted.firstAfter(last.at - period);
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
    state.keys.sweep([&](LimitLogs* logs) {
      for (std::size_t l = 0; l < limitCount; ++l) {
        const std::int64_t period = policy.limits[l].rate.period.count();
        pruneBefore(logs[l].reference, now - period, &logs[l].referenceUnits);
        pruneBefore(logs[l].admitted, now - period, nullptr);
      }
    });
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
