#pragma once
// What the simulated gateway reports about each request, for metrics, ground truth and reports.
//
// SimGateway (sim/gateway/sim_gateway.hpp) calls a GatewayObserver synchronously, in simulated
// time order, from inside the event that caused the report:
//   onRateLimit   once per applied rate-limit policy evaluation (the request's arrival time);
//   onTry         once per finished upstream try (attempts and retries alike);
//   onComplete    exactly once per submitted request, when the client gets its answer.
// Circuit-breaker and outlier events arrive separately through core::EventSink (the runtime's
// sink); a metrics collector usually implements both interfaces.
//
// Identifiers are small integers so the per-request path does not hash strings:
//   route    index into GatewayRuntime::routes / Router::routes() (kNoRouteIndex when unrouted);
//   policy   index of the rate-limit policy within its route's RouteRuntime::rateLimits;
//   service  index into GatewayRuntime::services (kNoServiceIndex when none);
//   target   index into that service's TargetSet;
//   client   ClientId from the run's ClientTable (the replayed client identity).
//
// Thread safety: none; one simulation, one thread. Events reference data valid only during the call.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/rate_limit/policy.hpp"
#include "gateway/core/resilience/outcome.hpp"
#include "gateway/core/time.hpp"
#include "gateway/flow/request_flow.hpp"

namespace gatelab::sim {

using ClientId = std::uint32_t;
using flow::kNoRouteIndex;
using flow::kNoServiceIndex;
using flow::kNoTargetIndex;

/// Interns client identities: the first distinct identity gets 0, the next 1, ... Memory grows with
/// distinct clients, never with requests.
///
/// Open addressing (linear probing, load <= 1/2) over 24-byte slots holding the id, a hash tag and,
/// for identities of up to 16 bytes (any IPv4 address, short keys), the identity itself: a lookup
/// touches one slot and no string. Longer identities are compared with the stored name. This is on
/// every replayed request's path and, with tens of thousands of clients, bound by cache misses;
/// hash() + prefetch() let a caller start the slot's load early and do other work meanwhile.
class ClientTable {
 public:
  /// The identity's hash, for prefetch() and intern(identity, hash).
  [[nodiscard]] static std::uint64_t hash(std::string_view identity) noexcept;
  /// Hints the processor to load the slot `hash` starts probing at. No effect on the table.
  void prefetch(std::uint64_t hash) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
  }
  ClientId intern(std::string_view identity) { return intern(identity, hash(identity)); }
  /// Precondition: `hash` == hash(identity).
  ClientId intern(std::string_view identity, std::uint64_t hash);
  /// The id of `identity` if it was interned.
  [[nodiscard]] std::optional<ClientId> find(std::string_view identity) const noexcept;
  [[nodiscard]] std::string_view name(ClientId id) const noexcept { return names_[id]; }
  [[nodiscard]] std::size_t size() const noexcept { return names_.size(); }

 private:
  static constexpr std::size_t kInline = 16;
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
  struct Slot {
    std::uint32_t id = kEmpty;
    std::uint32_t tag = 0;         // high 24 bits of the hash, then min(length, 255)
    char bytes[kInline] = {};      // the identity when it has at most kInline bytes, zero-padded
  };
  static std::uint32_t tagOf(std::uint64_t hash, std::size_t length) noexcept {
    return static_cast<std::uint32_t>(hash >> 40) << 8 | static_cast<std::uint32_t>(length < 255 ? length : 255);
  }
  [[nodiscard]] bool matches(const Slot& s, std::uint32_t tag, std::string_view identity) const noexcept;
  [[nodiscard]] std::size_t probe(std::string_view identity, std::uint64_t hash, bool& found) const noexcept;
  void place(ClientId id);
  void grow();

  std::vector<std::string> names_;
  std::vector<std::uint64_t> hashes_;  // per id, for rehashing without rereading names
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

/// How the gateway answered a request (the first reason that applies): the flow's outcome, the same
/// in both hosts. toString() comes with it (gateway/flow/request_flow.hpp).
using RequestOutcome = flow::Outcome;
using flow::toString;

/// One applied rate-limit policy decision (PolicyDecision::applied is true).
struct RateLimitReport {
  core::TimePoint at;               ///< arrival time of the request (when the policy decided)
  std::uint64_t request = 0;        ///< SimRequest::id
  std::uint32_t route = 0;
  std::uint32_t policy = 0;
  ClientId client = 0;
  std::uint32_t cost = 1;           ///< what the policy charged per request
  const core::ratelimit::PolicyDecision* decision = nullptr;  ///< never null during the call
};

/// One finished upstream try.
struct TryReport {
  core::TimePoint start;            ///< when the try was sent
  core::TimePoint end;              ///< when its outcome was known
  std::uint64_t request = 0;
  std::uint32_t route = 0;
  std::uint32_t service = 0;
  std::uint32_t target = 0;
  std::uint32_t attempt = 0;        ///< 0 for the first try, n for the n-th retry
  ClientId client = 0;
  core::resilience::CallOutcome outcome;
};

/// The client's answer. Latency = done - arrival: time spent delayed by a limiter, waiting in
/// backoff and in every try counts (no coordinated omission).
struct CompletionReport {
  core::TimePoint arrival;
  core::TimePoint done;
  std::uint64_t request = 0;
  std::uint32_t route = kNoRouteIndex;
  std::uint32_t service = kNoServiceIndex;
  std::uint32_t target = kNoTargetIndex;   ///< target of the last try, if any
  ClientId client = 0;
  std::uint16_t status = 0;                ///< what the client got
  RequestOutcome outcome = RequestOutcome::kUpstream;
  std::uint32_t tries = 0;                 ///< upstream tries made (0 when none was sent)
  core::Duration rateLimitDelay{0};        ///< time held by kDelay decisions
  bool shadowRejected = false;             ///< a shadow (dry-run) policy would have rejected it
};

class GatewayObserver {
 public:
  virtual ~GatewayObserver() = default;
  GatewayObserver() = default;
  GatewayObserver(const GatewayObserver&) = delete;
  GatewayObserver& operator=(const GatewayObserver&) = delete;

  virtual void onRateLimit(const RateLimitReport&) {}
  /// Before the decision that onRateLimit will report: policy `policy` of `route` decides for
  /// `key` on behalf of `client`. A prefetch hint (see FlowHooks::willDecide); no report of its own.
  virtual void willDecide(std::uint32_t /*route*/, std::uint32_t /*policy*/, ClientId /*client*/,
                          const core::Hash128& /*key*/) {}
  virtual void onTry(const TryReport&) {}
  virtual void onComplete(const CompletionReport&) {}
};

}  // namespace gatelab::sim
