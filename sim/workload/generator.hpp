#pragma once
// WorkloadGenerator: turns a WorkloadSpec into a time-ordered stream of requests (TraceRecords),
// ready for a TraceWriter or for the simulator directly.
//
// Sources and streams. Each client group is one arrival stream (its process generates the
// group's aggregate arrivals; each arrival goes to client firstClient + Zipf rank, which is the
// same as every client having its own process with rate p_k * lambda). Each abusive client is
// its own stream. The streams are merged in time order with a binary min-heap keyed by (time,
// stream index): ties go to the lower index, so the order never depends on anything but the spec
// and seed. Heap size = groups + abusive clients.
//
// Randomness: RandomStreams(RunSeed{spec.seed, 0}), one named stream per purpose:
//   workload/group/<name>/arrivals, .../clients, .../content;
//   workload/abusive/<name>/arrivals and .../content, indexed by the client's number in the entry;
//   workload/identity (API keys, tenants, sticky user agents).
// A stream's draws depend only on its own name, so adding an abusive client does not change the
// base workload (tests check it).
//
// Clients are numbered globally: groups in order (client i of a group has rank i + 1 in it), then
// abusive clients. Addresses: group client n -> 10.a.b.c, abusive client m -> 172.(16+a).b.c, with
// c = n mod 254 + 1 (never .0 or .255), b = (n / 254) mod 256, a = n / (254 * 256).
//
// Memory: Zipf tables (8 bytes per group client), one bit per client for the distinct-client
// count, the heap; independent of the number of requests. Not thread-safe. next() O(log streams +
// log clients).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/engine/random.hpp"
#include "sim/trace/line_parser.hpp"
#include "sim/trace/trace_record.hpp"
#include "sim/workload/arrival.hpp"
#include "sim/workload/content.hpp"
#include "sim/workload/spec.hpp"
#include "sim/workload/zipf.hpp"

namespace gatelab::sim::workload {

struct GeneratedRequest {
  trace::TraceRecord record;    ///< views valid until the next next() call; record.line = request number (1-based)
  core::Duration offset{0};     ///< since the workload's start
  std::uint64_t client = 0;     ///< global client index
  std::uint32_t source = 0;     ///< index into WorkloadGenerator::sources()
  bool abusive = false;
};

/// A group or an abusive entry, for summaries and tests.
struct SourceInfo {
  std::string name;
  bool abusive = false;
  std::uint64_t firstClient = 0;  ///< global index of its first client
  std::uint64_t clients = 0;
  double meanRate = 0.0;          ///< long-run requests per second of the whole source
  std::string process;            ///< "poisson(200/s)", "mmpp(...)", "constant(50/s)" per client
};

struct GeneratorStats {
  std::uint64_t requests = 0;
  std::uint64_t distinctClients = 0;
  std::vector<std::uint64_t> perSource;  ///< requests per SourceInfo
  core::Duration first{0};
  core::Duration last{0};
};

/// "10.0.0.1" / "172.16.0.1" for a global client index (see the header comment); writes at most
/// 15 bytes to `out` and returns the end.
char* clientAddress(char* out, std::uint64_t index, bool abusive) noexcept;

class WorkloadGenerator {
 public:
  /// Precondition: checkWorkloadSpec(spec) is empty (make() checks it).
  explicit WorkloadGenerator(const WorkloadSpec& spec);
  WorkloadGenerator(const WorkloadGenerator&) = delete;
  WorkloadGenerator& operator=(const WorkloadGenerator&) = delete;
  ~WorkloadGenerator();

  /// Checks the spec and builds a generator; the first problem as the error otherwise.
  [[nodiscard]] static trace::Made<WorkloadGenerator> make(const WorkloadSpec& spec);

  /// The next request in time order; false at the end (duration reached, count reached, or every
  /// source exhausted).
  [[nodiscard]] bool next(GeneratedRequest& out);

  [[nodiscard]] const std::vector<SourceInfo>& sources() const noexcept { return sources_; }
  [[nodiscard]] const GeneratorStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::uint64_t totalClients() const noexcept { return totalClients_; }
  /// Expected number of requests in [0, duration) from the processes' rates (the diurnal profile
  /// integrated over the window, on-off cycles and windows included); nullopt without a duration.
  [[nodiscard]] std::optional<double> expectedRequests() const noexcept { return expected_; }
  /// Header names any request may carry (for JSON/CSV writers' columns), in a fixed order.
  [[nodiscard]] std::vector<std::string> headerNames() const;
  [[nodiscard]] const WorkloadSpec& spec() const noexcept { return spec_; }

 private:
  struct Stream;
  struct HeapEntry {
    std::int64_t at;
    std::uint32_t stream;
  };

  void push(std::uint32_t stream, core::Duration at);

  WorkloadSpec spec_;
  std::vector<SourceInfo> sources_;
  std::vector<std::unique_ptr<ContentModel>> contents_;  // per source
  std::vector<std::unique_ptr<ZipfDistribution>> zipfs_;  // per group
  std::vector<Stream> streams_;
  std::vector<HeapEntry> heap_;
  std::vector<bool> seen_;
  core::Duration end_ = kNever;
  std::optional<std::uint64_t> count_;
  std::uint64_t groupClients_ = 0;
  std::uint64_t totalClients_ = 0;
  std::optional<double> expected_;
  GeneratorStats stats_;
  RequestContent content_;
  char address_[16]{};
};

}  // namespace gatelab::sim::workload
