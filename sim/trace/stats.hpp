#pragma once
// Trace statistics: the figures a user needs before choosing rate limits for a trace (what
// `gatelab trace stats` prints). Definitions (the same as in ../shared/traces/README.md):
//
//   peak req/s            most requests whose times fall in the same whole second (floor(t / 1 s))
//   per client per second / fixed minute
//                         most requests from one client in one floor(t / 1 s) / floor(t / 60 s)
//   per client sliding 60 s
//                         most requests from one client in any window [t, t + 60 s)
//   same-second repeats   requests that are the 2nd or later from their client in one second
//   top 1 %               the ceil(1 % of distinct clients) busiest clients and their share
//
// Memory grows with the number of distinct clients (one entry each, plus each client's times in
// the last 60 s), never with the number of requests. Input must come in non-decreasing time order
// (ReplayStream guarantees it); an earlier time is counted as out of order and treated as the
// latest time seen. Not thread-safe. O(1) amortized per request; finish() is O(clients log clients).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/core/time.hpp"
#include "sim/trace/reader.hpp"
#include "sim/trace/replay.hpp"
#include "sim/trace/trace_record.hpp"

namespace gatelab::sim::trace {

struct ClientCount {
  std::string client;
  std::uint64_t requests = 0;
  friend bool operator==(const ClientCount&, const ClientCount&) = default;
};

/// A per-client peak: how many, by whom (the first client to reach it), and the start of the
/// second / minute / 60 s window where it was reached.
struct ClientPeak {
  std::uint64_t count = 0;
  std::string client;
  TraceTime at{};
};

struct TraceStats {
  std::uint64_t requests = 0;
  std::optional<TraceTime> first;       ///< time of the first request (none for an empty trace)
  std::optional<TraceTime> last;
  std::uint64_t distinctClients = 0;    ///< distinct non-empty identities
  std::uint64_t missingClient = 0;      ///< requests with an empty identity (not in the client figures)
  std::uint64_t peakPerSecond = 0;
  TraceTime peakSecond{};               ///< the first second with peakPerSecond requests
  ClientPeak clientPerSecond;
  ClientPeak clientFixedMinute;
  ClientPeak clientSliding60s;
  std::uint64_t sameSecondRepeats = 0;
  std::vector<ClientCount> topClients;  ///< busiest first; ties by name
  std::uint64_t topPercentClients = 0;  ///< ceil(1 % of distinctClients)
  std::uint64_t topPercentRequests = 0; ///< requests those clients sent
  double medianPerClient = 0;           ///< median requests per client
  std::vector<std::pair<int, std::uint64_t>> statuses;          ///< most frequent first; status 0 = none logged
  std::vector<std::pair<std::string, std::uint64_t>> methods;   ///< most frequent first; "" = none logged
  std::uint64_t outOfOrder = 0;         ///< add() calls with a time before the previous one

  /// last - first (0 for fewer than two requests).
  [[nodiscard]] core::Duration span() const noexcept;
  /// requests / span in seconds (requests itself when the span is under a second).
  [[nodiscard]] double meanPerSecond() const noexcept;
};

class TraceStatsCollector {
 public:
  /// `topN`: how many busiest clients finish() lists. At most kMaxMethods distinct methods are
  /// counted by name; the rest are counted as "(other)".
  explicit TraceStatsCollector(std::size_t topN = 10);
  ~TraceStatsCollector();
  TraceStatsCollector(TraceStatsCollector&&) noexcept;
  TraceStatsCollector& operator=(TraceStatsCollector&&) noexcept;
  TraceStatsCollector(const TraceStatsCollector&) = delete;
  TraceStatsCollector& operator=(const TraceStatsCollector&) = delete;

  static constexpr std::size_t kMaxMethods = 32;

  /// Counts one request. `client` may be empty (counted in missingClient only).
  void add(TraceTime time, std::string_view client, int status, std::string_view method);
  /// The figures so far (can be called more than once).
  [[nodiscard]] TraceStats finish() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Everything `gatelab trace stats` reports about one trace.
struct TraceStatsReport {
  TraceStats stats;
  ReaderStats reader;
  ReplayStats replay;
};

/// Reads `reader` to the end through a ReplayStream with `options` (its reorder window, time
/// window and client identity; spreading and speedup are ignored: statistics are over the trace's
/// own times) and collects the statistics. Memory: see TraceStatsCollector and ReplayStream.
[[nodiscard]] TraceStatsReport collectTraceStats(TraceReader& reader, ReplayOptions options, std::size_t topN = 10);

}  // namespace gatelab::sim::trace
