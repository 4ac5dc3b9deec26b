#include "sim/trace/replay.hpp"

#include <algorithm>
#include <cassert>
#include <numeric>
#include <utility>

#include "gateway/core/int128.hpp"

namespace gatelab::sim::trace {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::size_t kPrefetchFar = 16;
constexpr std::size_t kPrefetchNear = 8;

TraceTime floorSecond(TraceTime t) noexcept { return std::chrono::floor<std::chrono::seconds>(t); }

}  // namespace

// ---- ClientSelector --------------------------------------------------------------------------------

config::UnitResult<ClientSelector> ClientSelector::parse(std::string_view spec) {
  static constexpr std::string_view kAllowed = "ip, client, host, user, user_agent, header:NAME, field:NAME";
  ClientSelector s;
  if (spec == "ip" || spec == "client" || spec == "remote_addr") {
    s.source_ = Source::kClient;
  } else if (spec == "host") {
    s.source_ = Source::kHost;
  } else if (spec == "user") {
    s.source_ = Source::kUser;
  } else if (spec == "user_agent" || spec == "ua") {
    s.source_ = Source::kUserAgent;
  } else if (spec.starts_with("header:") && spec.size() > 7) {
    s.source_ = Source::kHeader;
    s.name_ = std::string(spec.substr(7));
  } else if (spec.starts_with("field:") && spec.size() > 6) {
    s.source_ = Source::kExtra;
    s.name_ = std::string(spec.substr(6));
  } else {
    return config::UnitError{"invalid client identity \"" + std::string(spec) + "\"", std::string(kAllowed)};
  }
  return s;
}

std::string_view ClientSelector::select(const TraceRecord& r) const noexcept {
  switch (source_) {
    case Source::kClient: return r.client;
    case Source::kHost: return r.host;
    case Source::kUser: return r.user;
    case Source::kUserAgent: return r.userAgent;
    case Source::kHeader: return r.header(name_).value_or(std::string_view{});
    case Source::kExtra: return r.extra(name_).value_or(std::string_view{});
  }
  return {};
}

std::string ClientSelector::describe() const {
  switch (source_) {
    case Source::kClient: return "ip";
    case Source::kHost: return "host";
    case Source::kUser: return "user";
    case Source::kUserAgent: return "user_agent";
    case Source::kHeader: return "header:" + name_;
    case Source::kExtra: return "field:" + name_;
  }
  return "?";
}

// ---- TimeScale -------------------------------------------------------------------------------------

config::UnitResult<TimeScale> TimeScale::parse(std::string_view text) {
  static constexpr std::string_view kAllowed = "a positive decimal speedup such as 1, 10, 2.5 or 0.25 (optionally 10x)";
  const auto bad = [&](std::string_view why) {
    return config::UnitError{"invalid speedup \"" + std::string(text) + "\": " + std::string(why), std::string(kAllowed)};
  };
  std::string_view s = text;
  if (!s.empty() && (s.back() == 'x' || s.back() == 'X')) s.remove_suffix(1);
  if (s.empty()) return bad("empty");
  std::uint64_t whole = 0, frac = 0, den = 1;
  std::size_t i = 0;
  bool digits = false;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    whole = whole * 10 + static_cast<std::uint64_t>(s[i] - '0');
    digits = true;
    if (whole > 1'000'000'000) return bad("larger than 1e9");
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (den == 1'000'000) return bad("more than 6 decimals");
      frac = frac * 10 + static_cast<std::uint64_t>(s[i] - '0');
      den *= 10;
      digits = true;
    }
  }
  if (!digits || i != s.size()) return bad("not a number");
  TimeScale t;
  t.num_ = whole * den + frac;
  t.den_ = den;
  if (t.num_ == 0) return bad("must be greater than 0");
  const std::uint64_t g = std::gcd(t.num_, t.den_);
  t.num_ /= g;
  t.den_ /= g;
  return t;
}

core::Duration TimeScale::scale(core::Duration offset) const noexcept {
  if (offset.count() <= 0) return core::Duration{0};
  // num_/den_ is in lowest terms: equal means 1, the usual replay speed, and spares a 128-bit division.
  if (num_ == den_) return offset;
  const core::U128 v = static_cast<core::U128>(offset.count()) * den_ / num_;
  return core::Duration{static_cast<std::int64_t>(v)};
}

std::optional<SpreadMode> parseSpreadMode(std::string_view text) noexcept {
  if (text == "none") return SpreadMode::kNone;
  if (text == "even") return SpreadMode::kEven;
  if (text == "jitter" || text == "uniform") return SpreadMode::kJitter;
  return std::nullopt;
}

std::optional<LatePolicy> parseLatePolicy(std::string_view text) noexcept {
  if (text == "clamp") return LatePolicy::kClamp;
  if (text == "drop") return LatePolicy::kDrop;
  return std::nullopt;
}

// ---- ReplayStream ------------------------------------------------------------------------------------

ReplayStream::ReplayStream(TraceReader& reader, ReplayOptions options, std::function<std::uint64_t()> random)
    : reader_(reader), options_(std::move(options)), random_(std::move(random)) {
  options_.reorder.maxRecords = std::max<std::size_t>(options_.reorder.maxRecords, 1);
  if (options_.reorder.window.count() < 0) options_.reorder.window = core::Duration{0};
  assert(options_.spread != SpreadMode::kJitter || random_);
  if (options_.spread == SpreadMode::kJitter && !random_) options_.spread = SpreadMode::kEven;  // release builds
}

std::uint32_t ReplayStream::allocate() {
  std::uint32_t slot = 0;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
    free_.reserve(slots_.capacity());  // so that release() never allocates
  }
  stats_.maxBuffered = std::max(stats_.maxBuffered, slots_.size() - free_.size());
  return slot;
}

void ReplayStream::release(std::uint32_t slot) {
  if (slot != kDirect) free_.push_back(slot);
}

void ReplayStream::PendingRing::pushBack(const Pending& p) {
  if (count_ == ring_.size()) {
    std::vector<Pending> grown(ring_.empty() ? 64 : ring_.size() * 2);
    for (std::size_t i = 0; i < count_; ++i) grown[i] = ring_[(head_ + i) & (ring_.size() - 1)];
    ring_ = std::move(grown);
    head_ = 0;
  }
  ring_[(head_ + count_) & (ring_.size() - 1)] = p;
  ++count_;
}

namespace {
// Min-heap on (time, sequence): std heap functions keep the "largest" first, so invert.
constexpr auto kLater = [](const auto& a, const auto& b) { return a.time != b.time ? a.time > b.time : a.seq > b.seq; };
}  // namespace

void ReplayStream::readOne() {
  if (!reader_.next(scratch_)) {
    readerDone_ = true;
    return;
  }
  TraceTime t = scratch_.time;
  if (released_ && t < *released_) {
    ++stats_.late;
    stats_.maxLateness = std::max(stats_.maxLateness, core::Duration{*released_ - t});
    if (options_.reorder.late == LatePolicy::kDrop) {
      ++stats_.lateDropped;
      return;
    }
    ++stats_.lateClamped;
    t = *released_;
  }
  const std::uint32_t slot = allocate();
  slots_[slot].assign(scratch_);
  slots_[slot].setTime(t);
  const Pending pending{t, seq_++, slot};
  if (inOrder_.empty() || !(inOrder_.back().time > t)) {
    inOrder_.pushBack(pending);
  } else {
    heap_.push_back(pending);
    std::push_heap(heap_.begin(), heap_.end(), kLater);
  }
  if (!newest_ || t > *newest_) newest_ = t;
}

bool ReplayStream::readDirect(std::uint32_t& slot) {
  // Without a reorder window a record is released the moment it is read, and without spreading
  // nothing else is read before the caller is done with it: it can stay in scratch_ uncopied.
  while (reader_.next(scratch_)) {
    if (released_ && scratch_.time < *released_) {
      ++stats_.late;
      stats_.maxLateness = std::max(stats_.maxLateness, core::Duration{*released_ - scratch_.time});
      if (options_.reorder.late == LatePolicy::kDrop) {
        ++stats_.lateDropped;
        continue;
      }
      ++stats_.lateClamped;
      scratch_.time = *released_;
    }
    released_ = scratch_.time;
    newest_ = scratch_.time;
    stats_.maxBuffered = std::max<std::size_t>(stats_.maxBuffered, 1);
    slot = kDirect;
    return true;
  }
  readerDone_ = true;
  return false;
}

bool ReplayStream::pullSorted(std::uint32_t& slot) {
  if (options_.reorder.window.count() == 0 && options_.spread == SpreadMode::kNone) return readDirect(slot);
  while (true) {
    const bool haveFifo = !inOrder_.empty();
    const bool haveHeap = !heap_.empty();
    if (haveFifo || haveHeap) {
      // The earliest pending record by (time, seq): the front of the FIFO or the heap's top.
      const bool fromHeap = haveHeap && (!haveFifo || kLater(inOrder_.front(), heap_.front()));
      const Pending& top = fromHeap ? heap_.front() : inOrder_.front();
      const bool full = inOrder_.size() + heap_.size() > options_.reorder.maxRecords;
      const bool settled = top.time + options_.reorder.window <= *newest_;
      if (readerDone_ || full || settled) {
        if (full && !settled && !readerDone_) ++stats_.reorderOverflows;
        slot = top.slot;
        released_ = top.time;
        if (fromHeap) {
          std::pop_heap(heap_.begin(), heap_.end(), kLater);
          heap_.pop_back();
        } else {
          inOrder_.popFront();
          // Records come out of a long window long after they went in, from memory rather than
          // cache: start loading the ones a few places behind this one (the record object first,
          // its strings once the object is likely there).
          if (inOrder_.size() > kPrefetchFar) slots_[inOrder_.at(kPrefetchFar).slot].prefetchObject();
          if (inOrder_.size() > kPrefetchNear) slots_[inOrder_.at(kPrefetchNear).slot].prefetch();
        }
        return true;
      }
    } else if (readerDone_) {
      return false;
    }
    readOne();
  }
}

bool ReplayStream::pullWindowed(std::uint32_t& slot) {
  if (windowDone_) return false;
  while (pullSorted(slot)) {
    const TraceTime t = record(slot).time;
    if (!origin_) {
      if (options_.start) windowStart_ = options_.start;
      else if (options_.skip) windowStart_ = t + *options_.skip;
      origin_ = windowStart_ ? *windowStart_ : t;
      if (options_.end) windowEnd_ = options_.end;
      else if (options_.duration) windowEnd_ = *origin_ + *options_.duration;
      // Spreading moves a record to the start of its second at the earliest: keep offsets >= 0.
      if (options_.spread != SpreadMode::kNone) origin_ = floorSecond(*origin_);
    }
    if (windowStart_ && t < *windowStart_) {
      ++stats_.beforeWindow;
      release(slot);
      continue;
    }
    if (windowEnd_ && t >= *windowEnd_) {
      stats_.endedByWindow = true;
      windowDone_ = true;
      release(slot);
      return false;
    }
    return true;
  }
  return false;
}

void ReplayStream::spreadGroup() {
  const std::size_t n = group_.size();
  const TraceTime base = floorSecond(slots_[group_.front()].view().time);
  offsets_.resize(n);
  if (options_.spread == SpreadMode::kEven) {
    for (std::size_t k = 0; k < n; ++k) {
      offsets_[k] = static_cast<std::int64_t>(k) * kNanosPerSecond / static_cast<std::int64_t>(n);
    }
  } else {
    for (std::size_t k = 0; k < n; ++k) {
      // Lemire's multiply-shift: a uniform value in [0, 1e9) without a modulo bias worth noting.
      const core::U128 wide = static_cast<core::U128>(random_()) * static_cast<core::U128>(kNanosPerSecond);
      offsets_[k] = static_cast<std::int64_t>(wide >> 64);
    }
    std::sort(offsets_.begin(), offsets_.end());
  }
  for (std::size_t k = 0; k < n; ++k) slots_[group_[k]].setTime(base + std::chrono::nanoseconds{offsets_[k]});
}

bool ReplayStream::next(ReplayItem& out) {
  if (current_) {
    release(*current_);
    current_.reset();
  }
  std::uint32_t slot = 0;
  if (options_.spread == SpreadMode::kNone) {
    // Without spreading every record is a group of its own: hand it out directly.
    if (!pullWindowed(slot)) return false;
  } else {
    if (groupPos_ >= group_.size()) {
      group_.clear();
      groupPos_ = 0;
      if (lookahead_) {
        slot = *lookahead_;
        lookahead_.reset();
      } else if (!pullWindowed(slot)) {
        return false;
      }
      group_.push_back(slot);
      const TraceTime second = floorSecond(slots_[slot].view().time);
      while (pullWindowed(slot)) {
        if (floorSecond(slots_[slot].view().time) != second) {
          lookahead_ = slot;
          break;
        }
        group_.push_back(slot);
      }
      spreadGroup();
    }
    slot = group_[groupPos_++];
  }
  current_ = slot;
  const TraceRecord& r = record(slot);
  out.time = r.time;
  out.record = &r;
  out.at = options_.timelineStart + options_.speedup.scale(r.time - *origin_);
  out.client = options_.client.select(r);
  if (out.client.empty()) ++stats_.missingClient;
  ++stats_.records;
  return true;
}

}  // namespace gatelab::sim::trace
