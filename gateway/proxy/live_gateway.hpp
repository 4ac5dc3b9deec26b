#pragma once
// LiveGateway: the decision state the proxy's I/O threads share — the current Generation (one
// config, its runtime with every limiter, breaker, retry budget and target set, and the
// RequestFlow that applies it) behind one mutex — and config reloads between generations.
//
// One runtime for all threads, not one per thread: a `10/s` limit must mean 10 per second for the
// gateway, not per I/O thread (nginx's limit_req zones are shared memory under a mutex for the same
// reason). Calls hold the mutex for the core's work only (a route match, the policies, a few
// counters: well under a microsecond); no I/O, no waiting under it.
//
// Reload: swap() makes a new generation current. Each request keeps the generation it started on
// (its Ticket) to the end, so requests in flight finish with the config they began with; the old
// generation is freed with its last request. Rate-limit policies of the new config that count the
// same way as one of the old (same name and counting rules) take over its per-key state, under the
// mutex, so no request is counted twice or lost; changed or new policies start empty. Breakers,
// outlier state and retry budgets start afresh with the new runtime.
//
// Random draws (weighted picks, back-off jitter) come from one SplitMix64 stream seeded at start.
// Thread safety: every member function may be called from any thread.

#include <cstdint>
#include <memory>
#include <mutex>

#include "gateway/config/runtime.hpp"
#include "gateway/core/events.hpp"
#include "gateway/flow/request_flow.hpp"

namespace gatelab::proxy {

/// splitmix64: a full-period 64-bit stream, one add and three multiply-xorshifts per value. The
/// proxy's draws (LiveGateway) and its request/trace ids (one per I/O thread) come from it.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed = 0) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

/// One config in service.
struct Generation {
  std::uint64_t number = 0;  ///< 1 for the first config, +1 per reload
  std::shared_ptr<const config::GatewayConfig> config;
  std::unique_ptr<config::GatewayRuntime> runtime;
  std::unique_ptr<flow::RequestFlow> flow;
  std::shared_ptr<const void> host;  ///< what the host keeps per generation (the proxy: addresses, metric ids)
};

/// One request's hold on its generation and its flow state.
struct Ticket {
  std::shared_ptr<Generation> generation;
  flow::FlowRequest request;
};

/// What a reload kept.
struct SwapResult {
  std::uint64_t generation = 0;
  std::size_t policiesKept = 0;   ///< rate-limit policies that took over their predecessor's counts
  std::size_t policiesFresh = 0;  ///< new or changed policies, starting empty
};

class LiveGateway {
 public:
  /// `first` must hold a built runtime and its flow. `seed` starts the draw stream.
  LiveGateway(std::shared_ptr<Generation> first, std::uint64_t seed);

  /// Starts a request on the current generation (the ticket keeps it). `access` is filled by the
  /// route's access policies (its unixNow: the time for JWT checks); keep it with the request.
  flow::Step start(Ticket& t, const core::RequestView& request, core::TimePoint now, flow::FlowHooks& hooks,
                   flow::AccessState& access);
  /// The store (Redis) answered the ticket's kAskStore step (nullptr: it failed).
  flow::Step storeAnswered(Ticket& t, const core::RequestView& request, const core::ratelimit::PolicyDecision* decision,
                           core::TimePoint now, flow::FlowHooks& hooks, flow::AccessState& access);
  flow::Step resume(Ticket& t, core::TimePoint now, flow::FlowHooks& hooks);
  /// Part `index` of `parent`'s aggregate (after kFanOut) starts in `part` (same generation).
  flow::Step startPart(Ticket& part, const Ticket& parent, std::uint32_t index, core::TimePoint now,
                       flow::FlowHooks& hooks);
  /// The route's response cache (RequestFlow::cacheStore / cacheStale), under the lock.
  core::cache::StoreResult cacheStore(const Ticket& t, const core::cache::CacheLookup& lookup,
                                      const core::RequestView& request, core::cache::UpstreamResponse response,
                                      core::TimePoint sentAt, core::TimePoint now);
  std::optional<core::cache::StaleResponse> cacheStale(const Ticket& t, const core::cache::CacheLookup& lookup,
                                                       const flow::Step& answer, core::TimePoint now);
  /// Admin purge of the current generation's cache of route `route` (empty: every route): the
  /// URL host+path (with `prefix`, every path under it; empty path: everything). Returns the
  /// entries removed, or nullopt when no such route has a cache.
  std::optional<std::size_t> cachePurge(std::string_view route, std::string_view host, std::string_view path,
                                        bool prefix);
  /// Every part of `t`'s fan-out answered (partOk[i]: part i succeeded): the parent's answer.
  flow::Step fanInDone(Ticket& t, std::span<const bool> partOk);
  flow::Step tryDone(Ticket& t, const core::resilience::CallOutcome& outcome, core::TimePoint now,
                     flow::FlowHooks& hooks);
  void abandon(Ticket& t);
  /// Advances the current generation's time-driven policies of `service`.
  void wake(std::uint32_t service, core::TimePoint now, flow::FlowHooks& hooks);

  /// Active health checks: marks `target` of `service` up or down in generation `generation` if it
  /// is still the current one (a check begun before a reload says nothing about the new one).
  /// Returns whether it applied.
  bool setHealthy(std::uint64_t generation, std::uint32_t service, std::uint32_t target, bool up);

  /// Makes `next` current (see the file comment); numbers it.
  SwapResult swap(std::shared_ptr<Generation> next);
  [[nodiscard]] std::shared_ptr<const Generation> current() const;

 private:
  class Draws final : public flow::FlowDraws {
   public:
    explicit Draws(std::uint64_t seed) : stream_(seed) {}
    std::uint64_t next() override { return stream_.next(); }

   private:
    SplitMix64 stream_;
  };

  mutable std::mutex mutex_;
  std::shared_ptr<Generation> current_;
  Draws draws_;
};

}  // namespace gatelab::proxy
