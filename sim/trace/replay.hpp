#pragma once
// Replay helpers: what the simulator applies to a trace's records before it feeds them to the
// gateway core. Pure functions and classes over records; no clock, no threads, no I/O of their own
// (ReplayStream pulls from a TraceReader it is given).
//
//   ReplayStream = reader -> reorder window -> time window -> sub-second spreading -> time scale
//
// * Reorder window: access logs are written in completion order, so a slow request appears after
//   faster ones that started later. Records are re-sorted (stably: equal times keep their order in
//   the file) within a window of ReorderOptions::window of trace time or maxRecords records,
//   whichever is reached first. A record older than the newest record already released is "late":
//   it is clamped to that record's time (default; kept, counted) or dropped (counted).
// * Time window: [start, end) of trace time, absolute or relative to the first record.
// * Spreading: timestamps with 1-second resolution put a page and its images at the same instant.
//   Records sharing a second can be spread inside it: kEven puts the k-th of n at k/n s (k = 0..n-1,
//   rounded down to whole nanoseconds); kJitter draws n uniform offsets in [0, 1 s) from the
//   caller's seeded generator, sorts them and gives them out in file order (so the order of the log
//   is kept); kNone leaves times alone. Spreading replaces the sub-second part of the time, so use
//   kNone for traces that have sub-second times.
// * Time scale: offsets from the origin (the window start, or the first record) are divided by the
//   speedup (an exact decimal: "10", "2.5", "0.5") and placed on the host's timeline at
//   ReplayOptions::timelineStart.
//
// Memory: the reorder buffer holds at most maxRecords records, the spreader one second's records;
// both recycle their storage, so steady-state replay does not allocate.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/units.hpp"
#include "gateway/core/time.hpp"
#include "sim/trace/reader.hpp"
#include "sim/trace/trace_record.hpp"

namespace gatelab::sim::trace {

/// Which value of a record identifies its client (the rate-limit key in a replay).
class ClientSelector {
 public:
  enum class Source : std::uint8_t {
    kClient,     ///< TraceRecord::client ($remote_addr, the host column): "ip" or "client"
    kHost,       ///< TraceRecord::host
    kUser,       ///< TraceRecord::user
    kUserAgent,  ///< TraceRecord::userAgent
    kHeader,     ///< a request header: "header:X-Tenant-Id"
    kExtra,      ///< an extra field: "field:tenant"
  };

  ClientSelector() = default;
  /// "ip" | "client" | "host" | "user" | "user_agent" | "header:NAME" | "field:NAME".
  [[nodiscard]] static config::UnitResult<ClientSelector> parse(std::string_view spec);
  /// The identity of `r`; empty when the record lacks it. O(headers) for kHeader/kExtra.
  [[nodiscard]] std::string_view select(const TraceRecord& r) const noexcept;
  /// The spec it was made from ("ip", "header:X-Tenant-Id").
  [[nodiscard]] std::string describe() const;

 private:
  Source source_ = Source::kClient;
  std::string name_;
};

/// Speedup as an exact rational (numerator / denominator), so scaled times are reproducible.
class TimeScale {
 public:
  TimeScale() = default;
  /// "1", "10", "2.5", "0.25", optionally followed by 'x' ("10x"). Must be > 0, at most 6 decimals
  /// and at most 1e9.
  [[nodiscard]] static config::UnitResult<TimeScale> parse(std::string_view text);
  /// offset / speedup, rounded down to whole nanoseconds (exact 128-bit arithmetic). Offsets are >= 0.
  [[nodiscard]] core::Duration scale(core::Duration offset) const noexcept;
  [[nodiscard]] double factor() const noexcept { return static_cast<double>(num_) / static_cast<double>(den_); }

 private:
  std::uint64_t num_ = 1;
  std::uint64_t den_ = 1;
};

enum class SpreadMode : std::uint8_t { kNone, kEven, kJitter };
enum class LatePolicy : std::uint8_t { kClamp, kDrop };

/// "none" | "even" | "jitter".
[[nodiscard]] std::optional<SpreadMode> parseSpreadMode(std::string_view text) noexcept;
/// "clamp" | "drop".
[[nodiscard]] std::optional<LatePolicy> parseLatePolicy(std::string_view text) noexcept;

struct ReorderOptions {
  core::Duration window = std::chrono::seconds(10);  ///< of trace time; 0 disables reordering
  std::size_t maxRecords = 65536;                     ///< records held at most (>= 1)
  LatePolicy late = LatePolicy::kClamp;
};

struct ReplayOptions {
  ReorderOptions reorder;
  SpreadMode spread = SpreadMode::kNone;
  TimeScale speedup;
  std::optional<TraceTime> start;            ///< absolute window start (inclusive)
  std::optional<TraceTime> end;              ///< absolute window end (exclusive)
  std::optional<core::Duration> skip;        ///< window start relative to the first record (if no `start`)
  std::optional<core::Duration> duration;    ///< window length from the window start (if no `end`)
  ClientSelector client;
  core::TimePoint timelineStart{};           ///< where the window start (or first record) lands
};

/// One replayed request. Valid until the next ReplayStream::next() call.
struct ReplayItem {
  core::TimePoint at;           ///< on the host's timeline: after window, spreading and scaling
  TraceTime time;               ///< trace time after reordering (clamping) and spreading, before scaling
  const TraceRecord* record = nullptr;  ///< the record (its time equals `time`)
  std::string_view client;      ///< ReplayOptions::client applied to the record; may be empty
};

struct ReplayStats {
  std::uint64_t records = 0;         ///< items produced
  std::uint64_t late = 0;            ///< records older than an already released one
  std::uint64_t lateDropped = 0;     ///< of which dropped (LatePolicy::kDrop)
  std::uint64_t lateClamped = 0;     ///< of which clamped (LatePolicy::kClamp)
  core::Duration maxLateness{0};     ///< how far behind the latest late record was
  std::uint64_t reorderOverflows = 0;  ///< records released early because maxRecords was reached
  std::uint64_t beforeWindow = 0;    ///< records skipped before the window start
  bool endedByWindow = false;        ///< reading stopped at the window end (the rest was not read)
  std::uint64_t missingClient = 0;   ///< items whose client identity is empty
  std::size_t maxBuffered = 0;       ///< most records held at once (reorder + spreading)
};

/// The full replay pipeline over a reader (see the file comment). Not thread-safe.
class ReplayStream {
 public:
  /// `reader` must outlive the stream. `random` supplies uniform 64-bit values for
  /// SpreadMode::kJitter (e.g. [&rng] { return rng(); } with a seeded generator); it is required
  /// for kJitter and unused otherwise.
  ReplayStream(TraceReader& reader, ReplayOptions options, std::function<std::uint64_t()> random = {});

  /// The next item in time order; false when the trace (or the window) is exhausted.
  [[nodiscard]] bool next(ReplayItem& out);
  [[nodiscard]] const ReplayStats& stats() const noexcept { return stats_; }
  /// The time that maps to options.timelineStart; set once the first record has been read.
  [[nodiscard]] std::optional<TraceTime> origin() const noexcept { return origin_; }

 private:
  struct Pending {
    TraceTime time;
    std::uint64_t seq;
    std::uint32_t slot;
  };

  /// The slot number of the record read straight into scratch_ (no copy; see pullSorted()).
  static constexpr std::uint32_t kDirect = 0xFFFFFFFFu;
  [[nodiscard]] const TraceRecord& record(std::uint32_t slot) const noexcept {
    return slot == kDirect ? scratch_ : slots_[slot].view();
  }
  std::uint32_t allocate();
  void release(std::uint32_t slot);
  bool readDirect(std::uint32_t& slot);
  void readOne();
  bool pullSorted(std::uint32_t& slot);
  bool pullWindowed(std::uint32_t& slot);
  void spreadGroup();

  TraceReader& reader_;
  ReplayOptions options_;
  std::function<std::uint64_t()> random_;
  ReplayStats stats_;
  TraceRecord scratch_;
  std::vector<OwnedRecord> slots_;
  std::vector<std::uint32_t> free_;
  /// A FIFO on a power-of-two ring that only grows (no allocation once warm, unlike std::deque).
  class PendingRing {
   public:
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] const Pending& front() const noexcept { return ring_[head_]; }
    [[nodiscard]] const Pending& back() const noexcept { return ring_[(head_ + count_ - 1) & (ring_.size() - 1)]; }
    /// The i-th pending record from the front. Precondition: i < size().
    [[nodiscard]] const Pending& at(std::size_t i) const noexcept { return ring_[(head_ + i) & (ring_.size() - 1)]; }
    void pushBack(const Pending& p);
    void popFront() noexcept {
      head_ = (head_ + 1) & (ring_.size() - 1);
      --count_;
    }

   private:
    std::vector<Pending> ring_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
  };

  // Records waiting for the reorder window, split in two: `inOrder_` takes every record not
  // older than the last one it holds (a sorted trace never touches the heap: O(1) per record),
  // `heap_` the others. The next record is the earlier (time, seq) of the two fronts.
  PendingRing inOrder_;
  std::vector<Pending> heap_;
  std::uint64_t seq_ = 0;
  std::optional<TraceTime> newest_;
  std::optional<TraceTime> released_;
  bool readerDone_ = false;
  bool windowDone_ = false;
  std::optional<TraceTime> origin_;
  std::optional<TraceTime> windowEnd_;
  std::optional<TraceTime> windowStart_;
  std::vector<std::uint32_t> group_;
  std::size_t groupPos_ = 0;
  std::optional<std::uint32_t> lookahead_;
  std::optional<std::uint32_t> current_;
  std::vector<std::int64_t> offsets_;
};

}  // namespace gatelab::sim::trace
