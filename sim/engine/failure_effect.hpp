#pragma once
// What an injected failure does to a mock backend while its window [start, end) is in force.
// The exact semantics, per kind (docs/simulator.md, "Failures"):
//
//   Down          connections are refused: a call arriving in the window ends as a connect
//                 failure. With resetInFlight (default) every call queued or in service when the
//                 window starts ends as a reset at that instant (the process died); without it
//                 the backend drains what it had accepted (a graceful shutdown).
//   ErrorBurst    a call whose service starts in the window answers `status` with probability
//                 `probability` (after its normal service time), on top of the base error rate.
//   LatencySpike  a call whose service starts in the window works factor x S + added instead of
//                 S, holding its server that long (a slow dependency: throughput drops too).
//   BlackHole     accepts, never answers: a call arriving in the window is swallowed (it uses no
//                 server and no queue slot), and a response that would be delivered in the window
//                 is lost (the server is freed). Only the caller's timeout (cancel) ends such a
//                 call. Calls swallowed stay unanswered after the window ends.
//   Flapping      alternates Down and up: each `period` starting at the window start begins with
//                 round(period x downFraction) of Down (same resetInFlight rule), then up; the
//                 last cycle is cut at the window end. Expanded into Down windows when injected.
//   SlowRecovery  over the window (the ramp), capacity and/or latency return linearly to normal:
//                 capacity(t) = startCapacity + (1 - startCapacity) x (t - start) / ramp (a share
//                 of the servers; at least one server is usable), latency factor(t) =
//                 startLatencyFactor + (1 - startLatencyFactor) x (t - start) / ramp, applied like
//                 a LatencySpike factor. Servers busy above the reduced capacity finish their call.
//
// Overlapping windows combine: any Down refuses; latency factors multiply and added latencies
// add; error bursts draw one after the other (the first that fires decides the status); the
// smallest capacity applies.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "gateway/core/time.hpp"

namespace gatelab::sim {

enum class FailureKind : std::uint8_t { kDown, kErrorBurst, kLatency, kBlackHole, kFlapping, kSlowRecovery };

/// "down", "error_burst", "latency", "black_hole", "flapping", "slow_recovery" (the scenario names).
const char* toString(FailureKind k) noexcept;

struct Down {
  bool resetInFlight = true;
  friend bool operator==(const Down&, const Down&) = default;
};

struct ErrorBurst {
  double probability = 1.0;    ///< [0, 1]
  std::uint16_t status = 503;  ///< 100..599
  friend bool operator==(const ErrorBurst&, const ErrorBurst&) = default;
};

struct LatencySpike {
  double factor = 1.0;        ///< > 0 (usually >= 1)
  core::Duration added{0};    ///< >= 0
  friend bool operator==(const LatencySpike&, const LatencySpike&) = default;
};

struct BlackHole {
  friend bool operator==(const BlackHole&, const BlackHole&) = default;
};

struct Flapping {
  core::Duration period{0};   ///< > 0
  double downFraction = 0.5;  ///< (0, 1]: the duty cycle, share of each period spent down
  bool resetInFlight = true;
  friend bool operator==(const Flapping&, const Flapping&) = default;
};

struct SlowRecovery {
  double startCapacity = 1.0;       ///< [0, 1]: share of the servers usable at the ramp's start
  double startLatencyFactor = 1.0;  ///< >= 1: latency factor at the ramp's start
  friend bool operator==(const SlowRecovery&, const SlowRecovery&) = default;
};

using FailureEffect = std::variant<Down, ErrorBurst, LatencySpike, BlackHole, Flapping, SlowRecovery>;

/// The kind of an effect (the variant's alternative).
constexpr FailureKind kindOf(const FailureEffect& e) noexcept { return static_cast<FailureKind>(e.index()); }

/// nullopt when the parameters are usable, else what is wrong, naming the field
/// ("error_burst.probability: must be in [0, 1], got 1.5").
std::optional<std::string> validateFailureEffect(const FailureEffect& effect);

/// One line for reports and dashboards: "down", "error_burst 30% -> 503", "latency x10 +50ms",
/// "black_hole", "flapping period 1m down 25%", "slow_recovery capacity 10%->100% latency x4->x1".
std::string describe(const FailureEffect& effect);

}  // namespace gatelab::sim
