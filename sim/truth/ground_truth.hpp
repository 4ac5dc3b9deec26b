#pragma once
// GroundTruth: judges every rate-limit decision of a run against an exact reference, the
// measures Cloudflare used to evaluate its sliding-window counter (false allows, false blocks,
// overshoot of the nominal limit, clients wrongly blocked).
//
// The reference. For each policy, each key (PolicyDecision::key) and each limit of the policy, an
// exact sliding log with window = limit.rate.period and limit = limit.rate.count, run on its own
// (it never sees what the policy decided): a request at time t with cost c is admitted by the
// reference iff, for every limit, the units it admitted in (t - period, t] plus c are <= count; when
// admitted, every limit's log is charged c units. That is the sliding-window-log algorithm with
// the policy's multi-limit semantics (gateway/core/rate_limit/policy.hpp).
//
// The same reference is used for every algorithm. Token buckets, GCRA and nginx's leaky bucket
// with burst admit bursts above the nominal rate on purpose: those show up here as false allows
// and as an overshoot above 1 *by design*; the figures then say how far the algorithm departs from
// "at most count per any period", not that it is broken. A sliding window log policy gives zero
// false allows and zero false blocks (unless it evicted keys under max_keys).
//
// Comparison. The policy's decision is `wouldBe` (shadow policies are judged as if enforcing);
// kDelay counts as admitted. False allow: the policy admitted, the reference rejected. False block:
// the policy rejected, the reference admitted. Shares are over the policy's applied decisions.
//
// Overshoot. For each key and limit, the most units the POLICY admitted within any window of
// length period, admission time = arrival + delay, divided by count (1.0 = exactly the limit; a
// fixed window admits 2x at a window boundary). Units = requests x the policy's cost, the same
// units the limit counts. The worst value is reported with its client, limit and the time the
// window ended (the admission time of the last request in it).
//
// Windows. Decisions are attributed to a registered window (offsets from `start`, [from, to)) by
// their arrival time; the overshoot of a window that ends at time e by e. Queries with a window
// therefore count only what fell in it, while the reference itself runs over the whole run.
//
// Memory. A key's logs hold only the last period's entries; keys whose logs are all empty are
// dropped by an amortised sweep, so memory is bounded by the keys active within one period, not
// by the trace length. Wrongly blocked clients are kept as sets of ClientIds (one per policy and
// per policy x window).
//
// Complexity: O(limits x log entries-per-window) per decision (amortised; an out-of-order admission
// time, possible with delays, costs O(entries in one window)). Thread safety: none.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gateway/core/rate.hpp"
#include "gateway/core/rate_limit/limit_spec.hpp"
#include "gateway/core/time.hpp"
#include "sim/gateway/observer.hpp"
#include "sim/metrics/metric_ref.hpp"

namespace gatelab::config {
struct GatewayRuntime;
}

namespace gatelab::sim {

/// One limit of a judged policy: its nominal rate is the reference's window and limit.
struct TruthLimit {
  core::Rate rate;
  core::ratelimit::Algorithm algorithm = core::ratelimit::Algorithm::kSlidingWindowLog;
};

/// One judged policy: route index and policy index within the route, as RateLimitReport names them.
struct TruthPolicy {
  std::uint32_t route = 0;
  std::uint32_t policy = 0;
  std::string name;
  bool shadow = false;
  std::vector<TruthLimit> limits;  ///< 1..kMaxLimitsPerPolicy
};

struct TruthOptions {
  core::TimePoint start{};           ///< origin of the windows' offsets
  std::vector<MetricWindow> windows; ///< windows that get their own counts
};

/// The worst overshoot found: most units admitted for one key in one window of a limit.
struct Overshoot {
  double ratio = 0.0;             ///< admitted / limit
  std::uint64_t admitted = 0;     ///< units admitted in the window
  std::uint64_t limit = 0;        ///< the limit's count
  core::Duration period{0};       ///< the limit's period (the window length)
  std::size_t policy = 0;         ///< index into GroundTruth::policies()
  std::uint32_t limitIndex = 0;   ///< which limit of the policy
  ClientId client = 0;            ///< the client whose admission ended the window
  core::TimePoint at{};           ///< end of the window: admission time of its last request
};

/// Totals over a set of policies (and optionally one window).
struct TruthCounts {
  std::uint64_t decisions = 0;          ///< applied decisions judged
  std::uint64_t policyAdmitted = 0;     ///< allowed or delayed by the policy (wouldBe)
  std::uint64_t referenceAdmitted = 0;  ///< admitted by the reference
  std::uint64_t falseAllows = 0;
  std::uint64_t falseBlocks = 0;
  std::uint64_t wronglyBlockedClients = 0;  ///< distinct clients with >= 1 false block
  std::optional<Overshoot> worst;           ///< nullopt when nothing was admitted

  /// falseAllows / decisions; nullopt without decisions.
  [[nodiscard]] std::optional<double> falseAllowShare() const noexcept;
  /// falseBlocks / decisions; nullopt without decisions.
  [[nodiscard]] std::optional<double> falseBlockShare() const noexcept;
};

class GroundTruth final : public GatewayObserver {
 public:
  explicit GroundTruth(std::vector<TruthPolicy> policies, TruthOptions options = {});
  ~GroundTruth() override;
  GroundTruth(GroundTruth&&) = delete;

  /// Every rate-limit policy of `runtime`, in route then policy order.
  [[nodiscard]] static std::vector<TruthPolicy> policiesOf(const config::GatewayRuntime& runtime);

  /// Judges one decision. Reports naming no known policy, or without a decision, are ignored.
  /// Precondition: reports arrive in nondecreasing `at`.
  void onRateLimit(const RateLimitReport& report) override;
  /// Hints the processor to load the index slot `key` starts probing at in the policy's table,
  /// so that the lookup in onRateLimit finds it in cache. Changes nothing.
  void willDecide(std::uint32_t route, std::uint32_t policy, ClientId client, const core::Hash128& key) override;

  [[nodiscard]] std::span<const TruthPolicy> policies() const noexcept { return policies_; }
  /// The index into policies() of (route, policy), or nullopt.
  [[nodiscard]] std::optional<std::size_t> indexOf(std::uint32_t route, std::uint32_t policy) const noexcept;
  [[nodiscard]] std::span<const MetricWindow> windows() const noexcept { return options_.windows; }

  /// Totals of one policy (index into policies()), over the run or one registered window
  /// (index into windows()). Precondition: indices in range.
  [[nodiscard]] TruthCounts counts(std::size_t policy, std::optional<std::size_t> window = std::nullopt) const;
  /// Totals over several policies: sums, the worst overshoot among them, distinct wrongly blocked
  /// clients across them.
  [[nodiscard]] TruthCounts counts(std::span<const std::size_t> policies,
                                   std::optional<std::size_t> window = std::nullopt) const;
  /// Totals over every policy.
  [[nodiscard]] TruthCounts total(std::optional<std::size_t> window = std::nullopt) const;
  /// The distinct clients with a false block in any of `policies`, sorted.
  [[nodiscard]] std::vector<ClientId> wronglyBlocked(std::span<const std::size_t> policies,
                                                     std::optional<std::size_t> window = std::nullopt) const;

  /// Keys currently tracked over all policies (memory-bound tests).
  [[nodiscard]] std::size_t trackedKeys() const noexcept;

 private:
  struct PolicyState;
  std::vector<TruthPolicy> policies_;
  TruthOptions options_;
  std::vector<std::vector<std::size_t>> index_;  // [route][policy] -> index into policies_
  std::vector<std::unique_ptr<PolicyState>> states_;
};

}  // namespace gatelab::sim
