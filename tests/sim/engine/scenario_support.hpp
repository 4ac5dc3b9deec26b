#pragma once
// A small but complete simulation for the determinism tests and the benchmark's sanity: Poisson
// arrivals spread over three replicas of one service, a caller timeout per call (cancelled when
// the answer comes first, cancelling the call when it fires), and one failure of every kind.

#include <memory>
#include <string>
#include <vector>

#include "sim/engine/backend.hpp"
#include "sim/engine/failures.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/sim/engine/test_support.hpp"

namespace gatelab::sim::testing {

class MiniScenario {
 public:
  MiniScenario(RunSeed seed, std::uint64_t arrivals, std::unique_ptr<EventQueue> queue = nullptr)
      : sim(SimulationOptions{seed, std::move(queue), true}), pick_(sim.random().stream("test/pick")) {
    for (int i = 0; i < 3; ++i) {
      BackendConfig c;
      c.service = "users";
      c.target = std::to_string(i);
      c.servers = 2;
      c.queueCapacity = 20;
      c.serviceTime = ServiceTime::lognormal(4ms, 40ms);
      c.errorProbability = 0.01;
      backends.push_back(std::make_unique<MockBackend>(sim, c));
      failures.addBackend(*backends.back());
    }
    auto add = [this](std::string target, Duration start, Duration length, FailureEffect e) {
      (void)failures.inject({"users", std::move(target), at(start), length, e, std::nullopt});
    };
    add("0", 2s, 1s, Down{});
    add("1", 3s, 2s, ErrorBurst{0.5, 503});
    add("", 6s, 1s, LatencySpike{5.0, 1ms});
    add("2", 8s, 1s, BlackHole{});
    add("1", 10s, 3s, Flapping{500ms, 0.3, true});
    add("0", 14s, 2s, SlowRecovery{0.0, 4.0});
    source_ = std::make_unique<PoissonSource>(sim, sim.random().stream("test/arrivals"), 2ms, arrivals, [this] { arrive(); });
    source_->start();
  }

  /// A printable summary of everything countable (compared byte for byte).
  [[nodiscard]] std::string summary() const {
    std::string s = toString(sim.runSeed()) + " now=" + std::to_string(core::toNanos(sim.now())) +
                    " executed=" + std::to_string(sim.stats().executed) + " cancelled=" + std::to_string(sim.stats().cancelled) +
                    " ok=" + std::to_string(ok) + " errors=" + std::to_string(errors) + " timeouts=" + std::to_string(timeouts) +
                    " failed=" + std::to_string(failed) + " latencySum=" + std::to_string(latencySum.count());
    for (const auto& b : backends)
      s += " [" + b->name() + " responses=" + std::to_string(b->stats().responses) +
           " wait=" + std::to_string(b->stats().totalWait.count()) + "]";
    return s;
  }

  Simulation sim;
  FailureInjector failures{sim};
  std::vector<std::unique_ptr<MockBackend>> backends;
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t failed = 0;
  Duration latencySum{0};

 private:
  struct Pending {
    MockBackend* backend = nullptr;
    CallHandle call;
    EventId timeout;
  };

  void arrive() {
    MockBackend& b = *backends[pick_.below(backends.size())];
    auto p = std::make_shared<Pending>();
    p->backend = &b;
    p->call = b.call([this, p](const CallOutcome& o) {
      sim.cancel(p->timeout);
      latencySum += o.latency;
      if (o.kind != OutcomeKind::kResponse) ++failed;
      else if (o.status >= 500) ++errors;
      else ++ok;
    });
    p->timeout = sim.schedule(100ms, [this, p] {
      p->backend->cancel(p->call);
      ++timeouts;
    }, 3);
  }

  Rng pick_;
  std::unique_ptr<PoissonSource> source_;
};

}  // namespace gatelab::sim::testing
