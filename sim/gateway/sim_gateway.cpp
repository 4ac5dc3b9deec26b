#include "sim/gateway/sim_gateway.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "sim/engine/check.hpp"

namespace gatelab::sim {

namespace {

using core::TimePoint;
using core::resilience::CallOutcome;

constexpr std::size_t index(RequestOutcome o) noexcept { return static_cast<std::size_t>(o); }

}  // namespace

class SimGateway::Hooks final : public flow::FlowHooks, public flow::FlowDraws {
 public:
  Hooks(SimGateway& gw, std::uint64_t request, ClientId client, TimePoint now)
      : gw_(gw), request_(request), client_(client), now_(now) {}

  std::uint64_t next() override { return gw_.rng_(); }
  void onRateLimit(const flow::RateLimitEvaluation& ev) override {
    RateLimitReport rl;
    rl.at = now_;
    rl.request = request_;
    rl.route = ev.route;
    rl.policy = ev.policy;
    rl.client = client_;
    rl.cost = ev.cost;
    rl.decision = ev.decision;
    gw_.observer_.onRateLimit(rl);
  }
  void willDecide(std::uint32_t route, std::uint32_t policy, const core::Hash128& key) override {
    gw_.observer_.willDecide(route, policy, client_, key);
  }
  void wakeAt(std::uint32_t service, TimePoint at) override { gw_.armWake(service, at); }

 private:
  SimGateway& gw_;
  std::uint64_t request_;
  ClientId client_;
  TimePoint now_;
};

SimGateway::SimGateway(Simulation& sim, config::GatewayRuntime& runtime,
                       std::vector<std::vector<MockBackend*>> backends, GatewayObserver& observer, Rng rng)
    : sim_(sim), observer_(observer), rng_(rng), flow_(runtime), backends_(std::move(backends)) {
  detail::check(backends_.size() == runtime.services.size(), "SimGateway: one backend row per service");
  for (std::size_t s = 0; s < runtime.services.size(); ++s) {
    detail::check(backends_[s].size() == runtime.services[s].targets->size(), "SimGateway: one backend per target");
    for (MockBackend* b : backends_[s]) detail::check(b != nullptr, "SimGateway: null backend");
  }
  wakes_.resize(runtime.services.size());
}

SimGateway::~SimGateway() {
  // Pending events and backend calls capture `this`: drop them so nothing calls into a dead object.
  for (ServiceWake& w : wakes_) sim_.cancel(w.event);
  for (Request& r : slab_) {
    if (r.phase == Phase::kFree) continue;
    sim_.cancel(r.timer);
    if (r.phase == Phase::kInTry && r.backend != nullptr) r.backend->cancel(r.call);
  }
}

std::uint32_t SimGateway::allocate() {
  std::uint32_t slot;
  if (freeHead_ != kNoSlot) {
    slot = freeHead_;
    freeHead_ = slab_[slot].nextFree;
  } else {
    slot = static_cast<std::uint32_t>(slab_.size());
    slab_.emplace_back();
  }
  return slot;
}

void SimGateway::release(std::uint32_t slot) noexcept {
  Request& r = slab_[slot];
  const std::uint32_t generation = r.generation + 1;
  r = Request{};
  r.generation = generation == 0 ? 1 : generation;
  r.nextFree = freeHead_;
  freeHead_ = slot;
}

SimGateway::Request& SimGateway::live(std::uint32_t slot, std::uint32_t generation) noexcept {
  detail::check(slot < slab_.size() && slab_[slot].generation == generation && slab_[slot].phase != Phase::kFree,
                "SimGateway: event for a finished request");
  return slab_[slot];
}

std::uint64_t SimGateway::submit(const core::RequestView& request, ClientId client,
                                 std::optional<core::TimePoint> unixTime, std::uint64_t responseBytes) {
  const TimePoint now = sim_.now();
  const std::uint64_t id = ++nextId_;
  ++stats_.submitted;
  ++stats_.inFlight;
  const std::uint32_t slot = allocate();
  Request& r = slab_[slot];
  r.id = id;
  r.client = client;
  r.phase = Phase::kDelayed;  // not free while the flow runs; apply() sets the real phase
  Hooks hooks(*this, id, client, now);
  access_.unixNow = unixTime.value_or(now);
  const flow::Step step = flow_.start(r.flow, request, now, hooks, hooks, access_);
  if (access_.cache && step.outcome != flow::Outcome::kCacheHit &&
      (access_.cache->mayStore || access_.cache->invalidates)) {
    r.cache = std::make_unique<core::cache::CacheLookup>(std::move(*access_.cache));
    r.responseBytes = responseBytes;
    r.hadAuthorization = request.header("Authorization").has_value();
  }
  apply(slot, step);
  return id;
}

void SimGateway::apply(std::uint32_t slot, const flow::Step& step) {
  Request& r = slab_[slot];
  const std::uint32_t generation = r.generation;
  switch (step.kind) {
    case flow::StepKind::kAnswer: complete(slot, step); return;
    case flow::StepKind::kWait: {
      const bool delayed = r.flow.phase == flow::FlowPhase::kDelayed;
      r.phase = delayed ? Phase::kDelayed : Phase::kBackoff;
      r.timer = sim_.schedule(
          step.until, [this, slot, generation] { onWaitOver(slot, generation); },
          delayed ? kGatewayRateLimitDelayEnd : kGatewayBackoffEnd);
      return;
    }
    case flow::StepKind::kSendTry: {
      r.phase = Phase::kInTry;
      r.backend = backends_[r.flow.service][step.target];
      r.call = r.backend->call([this, slot, generation](const CallOutcome& o) { onBackendDone(slot, generation, o); });
      if (step.deadline != core::resilience::kNoDeadline) {
        r.timer = sim_.schedule(
            std::max(step.deadline, sim_.now()), [this, slot, generation] { onTryTimeout(slot, generation); },
            kGatewayTryTimeout);
      } else {
        r.timer = EventId{};
      }
      return;
    }
    case flow::StepKind::kFanOut: fanOut(slot); return;
    case flow::StepKind::kAskStore:
      // The simulated gateway's flow evaluates stored policies in place (StoreMode::kLocal), so
      // this step never comes; reaching it is a bug in the wiring, not in the input.
      std::fprintf(stderr, "gatelab: SimGateway: a store step from a flow built with StoreMode::kLocal\n");
      std::abort();
  }
}

void SimGateway::onWaitOver(std::uint32_t slot, std::uint32_t generation) {
  Request& r = live(slot, generation);
  r.timer = EventId{};
  Hooks hooks(*this, r.id, r.client, sim_.now());
  const flow::Step step = flow_.resume(r.flow, sim_.now(), hooks, hooks);
  apply(slot, step);
}

void SimGateway::onBackendDone(std::uint32_t slot, std::uint32_t generation, const CallOutcome& outcome) {
  Request& r = live(slot, generation);
  sim_.cancel(r.timer);
  r.timer = EventId{};
  finishTry(slot, outcome);
}

void SimGateway::onTryTimeout(std::uint32_t slot, std::uint32_t generation) {
  Request& r = live(slot, generation);
  r.timer = EventId{};
  r.backend->cancel(r.call);
  finishTry(slot, CallOutcome::timeout(sim_.now() - r.flow.tryStart));
}

void SimGateway::finishTry(std::uint32_t slot, const CallOutcome& outcome) {
  Request& r = slab_[slot];
  const TimePoint now = sim_.now();
  r.backend = nullptr;
  r.call = CallHandle{};

  TryReport tr;
  tr.start = r.flow.tryStart;
  tr.end = now;
  tr.request = r.id;
  tr.route = r.flow.route;
  tr.service = r.flow.service;
  tr.target = r.flow.target;
  tr.attempt = r.flow.retriesDone;
  tr.client = r.client;
  tr.outcome = outcome;

  Hooks hooks(*this, r.id, r.client, now);
  const flow::Step step = flow_.tryDone(r.flow, outcome, now, hooks, hooks);
  observer_.onTry(tr);
  apply(slot, step);
}

void SimGateway::fanOut(std::uint32_t slot) {
  const TimePoint now = sim_.now();
  const core::shaping::AggregateSpec& spec = *flow_.runtime().routes[slab_[slot].flow.route].aggregate;
  const auto parts = static_cast<std::uint32_t>(spec.parts.size());
  {
    Request& r = slab_[slot];
    r.phase = Phase::kFanOut;
    r.partsLeft = parts;
    r.partsOk = 0;
    r.partTries = 0;
  }
  for (std::uint32_t i = 0; i < parts; ++i) {
    const std::uint32_t p = allocate();  // may move the slab: index it afresh below
    Request& part = slab_[p];
    const Request& parent = slab_[slot];
    part.id = parent.id;
    part.client = parent.client;
    part.parent = slot;
    part.parentGeneration = parent.generation;
    part.phase = Phase::kDelayed;  // not free while the flow runs; apply() sets the real phase
    Hooks hooks(*this, parent.id, parent.client, now);
    const flow::Step step = flow_.startPart(part.flow, parent.flow, i, now, hooks, hooks);
    apply(p, step);  // may answer at once (no target, breaker open)
  }
}

void SimGateway::partDone(std::uint32_t slot, const flow::Step& answer) {
  Request& part = slab_[slot];
  const std::uint32_t parentSlot = part.parent;
  const std::uint32_t parentGeneration = part.parentGeneration;
  const std::uint32_t index = part.flow.part;
  const std::uint32_t tries = part.flow.tries;
  // No bodies in simulation: a part succeeds with a 2xx upstream answer.
  const bool ok = answer.outcome == flow::Outcome::kUpstream && answer.status >= 200 && answer.status <= 299;
  release(slot);
  Request& parent = live(parentSlot, parentGeneration);
  if (ok) parent.partsOk |= 1u << index;
  parent.partTries += tries;
  if (--parent.partsLeft != 0) return;
  std::array<bool, core::shaping::kMaxAggregateParts> oks{};
  const std::size_t n = flow_.runtime().routes[parent.flow.route].aggregate->parts.size();
  for (std::size_t i = 0; i < n; ++i) oks[i] = (parent.partsOk >> i & 1u) != 0;
  const flow::Step step = flow_.fanInDone(parent.flow, std::span<const bool>(oks.data(), n));
  complete(parentSlot, step);
}

flow::Step SimGateway::cacheAnswer(Request& r, const flow::Step& answer) {
  const std::unique_ptr<core::cache::CacheLookup> lookup = std::move(r.cache);
  if (auto stale = flow_.cacheStale(r.flow, *lookup, answer, sim_.now())) {
    flow::Step s = answer;
    s.status = stale->response->status;
    s.outcome = flow::Outcome::kCacheStale;
    return s;
  }
  if (answer.outcome != flow::Outcome::kUpstream) return answer;
  // No bodies or headers in simulation: the answer is taken as one of the configured content
  // types without Cache-Control, of the size the trace logged.
  const core::cache::CacheSpec& spec = flow_.runtime().routes[r.flow.route].cache->spec();
  std::string type = spec.contentTypes.empty() ? std::string("application/octet-stream") : spec.contentTypes.front();
  if (type.size() > 2 && type.compare(type.size() - 2, 2, "/*") == 0) type.replace(type.size() - 1, 1, "plain");
  core::cache::UpstreamResponse response;
  response.status = answer.status;
  response.headers.push_back(core::HeaderField{"Content-Type", std::move(type)});
  response.body = std::make_shared<const std::string>(static_cast<std::size_t>(r.responseBytes), '\0');
  const core::Header authorization{"Authorization", "(from the trace)"};
  core::RequestView view;
  view.method = lookup->invalidates ? std::string_view("POST") : std::string_view("GET");
  view.host = lookup->host;
  view.path = lookup->path;
  view.query = lookup->query;
  if (r.hadAuthorization) view.headers = std::span<const core::Header>(&authorization, 1);
  (void)flow_.cacheStore(r.flow, *lookup, view, std::move(response), r.flow.tryStart, sim_.now());
  return answer;
}

void SimGateway::complete(std::uint32_t slot, const flow::Step& given) {
  if (slab_[slot].parent != kNoSlot) {
    partDone(slot, given);
    return;
  }
  const flow::Step answer = slab_[slot].cache ? cacheAnswer(slab_[slot], given) : given;
  Request& r = slab_[slot];
  const flow::FlowRequest& f = r.flow;
  CompletionReport done;
  done.arrival = f.arrival;
  done.done = sim_.now();
  done.request = r.id;
  done.route = f.route;
  done.service = f.service;
  done.target = f.tries > 0 ? f.target : kNoTargetIndex;
  done.client = r.client;
  done.status = answer.status;
  done.tries = f.tries + r.partTries;
  done.rateLimitDelay = f.rateLimitDelay;
  done.shadowRejected = f.shadowRejected;
  release(slot);
  report(done, answer.outcome);
}

void SimGateway::report(CompletionReport& done, RequestOutcome outcome) {
  done.outcome = outcome;
  ++stats_.completed;
  --stats_.inFlight;
  ++stats_.byOutcome[index(outcome)];
  observer_.onComplete(done);
}

void SimGateway::armWake(std::uint32_t service, TimePoint at) {
  ServiceWake& w = wakes_[service];
  const TimePoint now = sim_.now();
  if (at <= now || at >= w.at) return;
  sim_.cancel(w.event);
  w.at = at;
  w.event = sim_.schedule(at, [this, service] { onWake(service); }, kGatewayPolicyWake);
}

void SimGateway::onWake(std::uint32_t service) {
  ServiceWake& w = wakes_[service];
  w.event = EventId{};
  w.at = TimePoint::max();
  Hooks hooks(*this, 0, 0, sim_.now());
  flow_.wake(service, sim_.now(), hooks);
}

}  // namespace gatelab::sim
