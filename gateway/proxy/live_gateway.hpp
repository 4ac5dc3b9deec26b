#pragma once
// LiveGateway: the decision state the proxy's I/O threads share — one config::GatewayRuntime (every
// limiter, breaker, retry budget, target set) and the RequestFlow that applies it, behind one mutex.
//
// One runtime for all threads, not one per thread: a `10/s` limit must mean 10 per second for the
// gateway, not per I/O thread (nginx's limit_req zones are shared memory under a mutex for the same
// reason). Calls hold the mutex for the core's work only (a route match, the policies, a few
// counters: well under a microsecond); no I/O, no waiting under it.
//
// Random draws (weighted picks, back-off jitter) come from one splitmix64 stream seeded at start.
// Thread safety: every member function may be called from any thread.

#include <cstdint>
#include <memory>
#include <mutex>

#include "gateway/config/runtime.hpp"
#include "gateway/core/events.hpp"
#include "gateway/flow/request_flow.hpp"

namespace gatelab::proxy {

class LiveGateway {
 public:
  /// Takes a built runtime (config::buildRuntime). `seed` starts the draw stream.
  LiveGateway(std::unique_ptr<config::GatewayRuntime> runtime, std::uint64_t seed);

  flow::Step start(flow::FlowRequest& r, const core::RequestView& request, core::TimePoint now, flow::FlowHooks& hooks);
  flow::Step resume(flow::FlowRequest& r, core::TimePoint now, flow::FlowHooks& hooks);
  flow::Step tryDone(flow::FlowRequest& r, const core::resilience::CallOutcome& outcome, core::TimePoint now,
                     flow::FlowHooks& hooks);
  void abandon(flow::FlowRequest& r);
  void wake(std::uint32_t service, core::TimePoint now, flow::FlowHooks& hooks);

  /// Immutable after construction: safe to read without the mutex.
  [[nodiscard]] const config::GatewayConfig& config() const noexcept { return *config_; }
  [[nodiscard]] std::shared_ptr<const config::GatewayConfig> configPtr() const noexcept { return config_; }

 private:
  class Draws final : public flow::FlowDraws {
   public:
    explicit Draws(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() override;

   private:
    std::uint64_t state_;
  };

  std::mutex mutex_;
  std::unique_ptr<config::GatewayRuntime> runtime_;
  std::shared_ptr<const config::GatewayConfig> config_;
  flow::RequestFlow flow_;
  Draws draws_;
};

}  // namespace gatelab::proxy
