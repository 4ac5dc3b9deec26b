#include "sim/trace/stats.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <unordered_map>

namespace gatelab::sim::trace {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMinute = 60 * kSecond;

std::int64_t floorDiv(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct ClientState {
  std::uint64_t count = 0;
  std::int64_t second = std::numeric_limits<std::int64_t>::min();
  std::uint64_t inSecond = 0;
  std::int64_t minute = std::numeric_limits<std::int64_t>::min();
  std::uint64_t inMinute = 0;
  std::vector<std::int64_t> window;  // times (ns) of the last 60 s, oldest at `head`
  std::size_t head = 0;
};

struct PeakHolder {
  std::uint64_t count = 0;
  const std::string* client = nullptr;
  std::int64_t at = 0;

  void offer(std::uint64_t n, const std::string& who, std::int64_t when) {
    if (n > count) {
      count = n;
      client = &who;
      at = when;
    }
  }
  ClientPeak value() const {
    return ClientPeak{count, client != nullptr ? *client : std::string(), TraceTime{std::chrono::nanoseconds{at}}};
  }
};

}  // namespace

struct TraceStatsCollector::State {
  std::size_t topN = 10;
  std::uint64_t requests = 0;
  std::optional<std::int64_t> first;
  std::int64_t last = 0;
  std::uint64_t missingClient = 0;
  std::uint64_t outOfOrder = 0;
  std::int64_t second = std::numeric_limits<std::int64_t>::min();
  std::uint64_t inSecond = 0;
  std::uint64_t peakPerSecond = 0;
  std::int64_t peakSecond = 0;
  std::uint64_t sameSecondRepeats = 0;
  PeakHolder perSecond, fixedMinute, sliding;
  std::unordered_map<std::string, ClientState, StringHash, std::equal_to<>> clients;
  std::array<std::uint64_t, 1000> statuses{};
  std::vector<std::pair<std::string, std::uint64_t>> methods;
  std::uint64_t otherMethods = 0;
};

TraceStatsCollector::TraceStatsCollector(std::size_t topN) : state_(std::make_unique<State>()) { state_->topN = topN; }
TraceStatsCollector::~TraceStatsCollector() = default;
TraceStatsCollector::TraceStatsCollector(TraceStatsCollector&&) noexcept = default;
TraceStatsCollector& TraceStatsCollector::operator=(TraceStatsCollector&&) noexcept = default;

void TraceStatsCollector::add(TraceTime time, std::string_view client, int status, std::string_view method) {
  State& s = *state_;
  std::int64_t ns = time.time_since_epoch().count();
  if (s.first && ns < s.last) {
    ++s.outOfOrder;
    ns = s.last;
  }
  if (!s.first) s.first = ns;
  s.last = ns;
  ++s.requests;

  const std::int64_t sec = floorDiv(ns, kSecond);
  if (sec == s.second) {
    ++s.inSecond;
  } else {
    s.second = sec;
    s.inSecond = 1;
  }
  if (s.inSecond > s.peakPerSecond) {
    s.peakPerSecond = s.inSecond;
    s.peakSecond = sec * kSecond;
  }

  if (status >= 0 && status < static_cast<int>(s.statuses.size())) ++s.statuses[static_cast<std::size_t>(status)];
  auto m = std::find_if(s.methods.begin(), s.methods.end(), [method](const auto& p) { return p.first == method; });
  if (m != s.methods.end()) {
    ++m->second;
  } else if (s.methods.size() < kMaxMethods) {
    s.methods.emplace_back(std::string(method), 1);
  } else {
    ++s.otherMethods;
  }

  if (client.empty()) {
    ++s.missingClient;
    return;
  }
  auto it = s.clients.find(client);
  if (it == s.clients.end()) it = s.clients.emplace(std::string(client), ClientState{}).first;
  const std::string& name = it->first;
  ClientState& c = it->second;
  ++c.count;

  if (sec == c.second) {
    ++c.inSecond;
    ++s.sameSecondRepeats;
  } else {
    c.second = sec;
    c.inSecond = 1;
  }
  s.perSecond.offer(c.inSecond, name, sec * kSecond);

  const std::int64_t minute = floorDiv(ns, kMinute);
  if (minute == c.minute) {
    ++c.inMinute;
  } else {
    c.minute = minute;
    c.inMinute = 1;
  }
  s.fixedMinute.offer(c.inMinute, name, minute * kMinute);

  // Window (ns - 60 s, ns]: the count of a window [t, t + 60 s) is largest when it ends on a request.
  while (c.head < c.window.size() && c.window[c.head] <= ns - kMinute) ++c.head;
  if (c.head == c.window.size()) {
    c.window.clear();
    c.head = 0;
  } else if (c.head >= 64 && c.head * 2 >= c.window.size()) {
    c.window.erase(c.window.begin(), c.window.begin() + static_cast<std::ptrdiff_t>(c.head));
    c.head = 0;
  }
  c.window.push_back(ns);
  s.sliding.offer(c.window.size() - c.head, name, c.window[c.head]);
}

TraceStats TraceStatsCollector::finish() const {
  const State& s = *state_;
  TraceStats out;
  out.requests = s.requests;
  if (s.first) {
    out.first = TraceTime{std::chrono::nanoseconds{*s.first}};
    out.last = TraceTime{std::chrono::nanoseconds{s.last}};
  }
  out.distinctClients = s.clients.size();
  out.missingClient = s.missingClient;
  out.outOfOrder = s.outOfOrder;
  out.peakPerSecond = s.peakPerSecond;
  out.peakSecond = TraceTime{std::chrono::nanoseconds{s.peakSecond}};
  out.clientPerSecond = s.perSecond.value();
  out.clientFixedMinute = s.fixedMinute.value();
  out.clientSliding60s = s.sliding.value();
  out.sameSecondRepeats = s.sameSecondRepeats;

  std::vector<std::pair<const std::string*, std::uint64_t>> ranked;
  ranked.reserve(s.clients.size());
  for (const auto& [name, c] : s.clients) ranked.emplace_back(&name, c.count);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : *a.first < *b.first;
  });
  for (std::size_t i = 0; i < ranked.size() && i < s.topN; ++i) out.topClients.push_back({*ranked[i].first, ranked[i].second});
  out.topPercentClients = (ranked.size() + 99) / 100;
  for (std::size_t i = 0; i < out.topPercentClients; ++i) out.topPercentRequests += ranked[i].second;
  if (!ranked.empty()) {
    const std::size_t n = ranked.size();
    // ranked is descending; the median is the same either way.
    out.medianPerClient = n % 2 == 1 ? static_cast<double>(ranked[n / 2].second)
                                     : (static_cast<double>(ranked[n / 2 - 1].second) + static_cast<double>(ranked[n / 2].second)) / 2;
  }

  for (std::size_t st = 0; st < s.statuses.size(); ++st) {
    if (s.statuses[st] != 0) out.statuses.emplace_back(static_cast<int>(st), s.statuses[st]);
  }
  std::stable_sort(out.statuses.begin(), out.statuses.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  out.methods = s.methods;
  if (s.otherMethods != 0) out.methods.emplace_back("(other)", s.otherMethods);
  std::stable_sort(out.methods.begin(), out.methods.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

core::Duration TraceStats::span() const noexcept {
  if (!first || !last) return core::Duration{0};
  return *last - *first;
}

TraceStatsReport collectTraceStats(TraceReader& reader, ReplayOptions options, std::size_t topN) {
  options.spread = SpreadMode::kNone;
  options.speedup = TimeScale{};
  ReplayStream stream(reader, std::move(options));
  TraceStatsCollector collector(topN);
  ReplayItem item;
  while (stream.next(item)) collector.add(item.time, item.client, item.record->status, item.record->method);
  return TraceStatsReport{collector.finish(), reader.stats(), stream.stats()};
}

double TraceStats::meanPerSecond() const noexcept {
  const double secs = static_cast<double>(span().count()) / 1e9;
  return secs < 1 ? static_cast<double>(requests) : static_cast<double>(requests) / secs;
}

}  // namespace gatelab::sim::trace
