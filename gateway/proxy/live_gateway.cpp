#include "gateway/proxy/live_gateway.hpp"

#include <utility>

namespace gatelab::proxy {

LiveGateway::LiveGateway(std::shared_ptr<Generation> first, std::uint64_t seed)
    : current_(std::move(first)), draws_(seed) {
  current_->number = 1;
}

flow::Step LiveGateway::start(Ticket& t, const core::RequestView& request, core::TimePoint now, flow::FlowHooks& hooks,
                              flow::AccessState& access) {
  const std::lock_guard lock(mutex_);
  t.generation = current_;
  return t.generation->flow->start(t.request, request, now, draws_, hooks, access);
}

flow::Step LiveGateway::storeAnswered(Ticket& t, const core::RequestView& request,
                                      const core::ratelimit::PolicyDecision* decision, core::TimePoint now,
                                      flow::FlowHooks& hooks, flow::AccessState& access) {
  const std::lock_guard lock(mutex_);
  return t.generation->flow->storeAnswered(t.request, request, decision, now, draws_, hooks, access);
}

flow::Step LiveGateway::resume(Ticket& t, core::TimePoint now, flow::FlowHooks& hooks) {
  const std::lock_guard lock(mutex_);
  return t.generation->flow->resume(t.request, now, draws_, hooks);
}

flow::Step LiveGateway::tryDone(Ticket& t, const core::resilience::CallOutcome& outcome, core::TimePoint now,
                                flow::FlowHooks& hooks) {
  const std::lock_guard lock(mutex_);
  return t.generation->flow->tryDone(t.request, outcome, now, draws_, hooks);
}

flow::Step LiveGateway::startPart(Ticket& part, const Ticket& parent, std::uint32_t index, core::TimePoint now,
                                  flow::FlowHooks& hooks) {
  const std::lock_guard lock(mutex_);
  part.generation = parent.generation;
  return part.generation->flow->startPart(part.request, parent.request, index, now, draws_, hooks);
}

flow::Step LiveGateway::fanInDone(Ticket& t, std::span<const bool> partOk) {
  const std::lock_guard lock(mutex_);
  return t.generation->flow->fanInDone(t.request, partOk);
}

core::cache::StoreResult LiveGateway::cacheStore(const Ticket& t, const core::cache::CacheLookup& lookup,
                                                const core::RequestView& request, core::cache::UpstreamResponse response,
                                                core::TimePoint sentAt, core::TimePoint now) {
  const std::lock_guard lock(mutex_);
  return t.generation->flow->cacheStore(t.request, lookup, request, std::move(response), sentAt, now);
}

std::optional<core::cache::StaleResponse> LiveGateway::cacheStale(const Ticket& t, const core::cache::CacheLookup& lookup,
                                                                  const flow::Step& answer, core::TimePoint now) {
  // Most answers (every success) cannot be replaced: no lock for them.
  if (!flow::RequestFlow::staleCandidate(answer)) return std::nullopt;
  const std::lock_guard lock(mutex_);
  return t.generation->flow->cacheStale(t.request, lookup, answer, now);
}

std::optional<std::size_t> LiveGateway::cachePurge(std::string_view route, std::string_view host, std::string_view path,
                                                   bool prefix) {
  const std::lock_guard lock(mutex_);
  std::optional<std::size_t> removed;
  const auto& routes = current_->config->routes;
  for (std::size_t r = 0; r < routes.size(); ++r) {
    core::cache::ResponseCache* cache = current_->runtime->routes[r].cache.get();
    if (cache == nullptr || (!route.empty() && routes[r].name() != route)) continue;
    std::size_t n = 0;
    if (path.empty()) {
      n = host.empty() ? cache->purgeAll() : cache->purgePrefix(host, "/");
    } else if (prefix) {
      n = cache->purgePrefix(host, path);
    } else {
      n = cache->purge(host, path, "");
    }
    removed = removed.value_or(0) + n;
  }
  return removed;
}

void LiveGateway::abandon(Ticket& t) {
  const std::lock_guard lock(mutex_);
  if (t.generation) t.generation->flow->abandon(t.request);
}

void LiveGateway::wake(std::uint32_t service, core::TimePoint now, flow::FlowHooks& hooks) {
  const std::lock_guard lock(mutex_);
  if (service < current_->runtime->services.size()) current_->flow->wake(service, now, hooks);
}

bool LiveGateway::setHealthy(std::uint64_t generation, std::uint32_t service, std::uint32_t target, bool up) {
  const std::lock_guard lock(mutex_);
  if (current_->number != generation || service >= current_->runtime->services.size()) return false;
  auto& targets = *current_->runtime->services[service].targets;
  if (target >= targets.size()) return false;
  targets.setHealthy(target, up);
  return true;
}

SwapResult LiveGateway::swap(std::shared_ptr<Generation> next) {
  const std::lock_guard lock(mutex_);
  SwapResult r;
  next->number = current_->number + 1;
  r.generation = next->number;
  // Policies are matched by name (unique in a config); adoptStateFrom checks the counting rules.
  for (auto& route : next->runtime->routes) {
    for (auto& policy : route.rateLimits) {
      bool kept = false;
      for (auto& oldRoute : current_->runtime->routes) {
        for (auto& old : oldRoute.rateLimits) {
          if (!kept && old->spec().name == policy->spec().name) kept = policy->adoptStateFrom(*old);
        }
      }
      ++(kept ? r.policiesKept : r.policiesFresh);
    }
  }
  current_ = std::move(next);
  return r;
}

std::shared_ptr<const Generation> LiveGateway::current() const {
  const std::lock_guard lock(mutex_);
  return current_;
}

}  // namespace gatelab::proxy
