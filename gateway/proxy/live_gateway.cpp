#include "gateway/proxy/live_gateway.hpp"

#include <utility>

namespace gatelab::proxy {

std::uint64_t LiveGateway::Draws::next() {
  // splitmix64: a full-period 64-bit stream, one add and three multiply-xorshifts per draw.
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

LiveGateway::LiveGateway(std::unique_ptr<config::GatewayRuntime> runtime, std::uint64_t seed)
    : runtime_(std::move(runtime)), config_(runtime_->config), flow_(*runtime_), draws_(seed) {}

flow::Step LiveGateway::start(flow::FlowRequest& r, const core::RequestView& request, core::TimePoint now,
                              flow::FlowHooks& hooks) {
  const std::lock_guard lock(mutex_);
  return flow_.start(r, request, now, draws_, hooks);
}

flow::Step LiveGateway::resume(flow::FlowRequest& r, core::TimePoint now, flow::FlowHooks& hooks) {
  const std::lock_guard lock(mutex_);
  return flow_.resume(r, now, draws_, hooks);
}

flow::Step LiveGateway::tryDone(flow::FlowRequest& r, const core::resilience::CallOutcome& outcome,
                                core::TimePoint now, flow::FlowHooks& hooks) {
  const std::lock_guard lock(mutex_);
  return flow_.tryDone(r, outcome, now, draws_, hooks);
}

void LiveGateway::abandon(flow::FlowRequest& r) {
  const std::lock_guard lock(mutex_);
  flow_.abandon(r);
}

void LiveGateway::wake(std::uint32_t service, core::TimePoint now, flow::FlowHooks& hooks) {
  const std::lock_guard lock(mutex_);
  flow_.wake(service, now, hooks);
}

}  // namespace gatelab::proxy
