#include "sim/workload/generator.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "sim/workload/time_format.hpp"

namespace gatelab::sim::workload {
namespace {

double seconds(core::Duration d) noexcept { return std::chrono::duration<double>(d).count(); }

// Min-heap order on (time, stream).
bool later(const auto& a, const auto& b) noexcept { return a.at != b.at ? a.at > b.at : a.stream > b.stream; }

}  // namespace

struct WorkloadGenerator::Stream {
  std::unique_ptr<ArrivalProcess> process;
  Rng arrivals;
  Rng clients;   // groups: Zipf draws
  Rng content;
  std::uint32_t source = 0;
  std::uint64_t firstClient = 0;
  const ZipfDistribution* zipf = nullptr;  // groups; abusive streams have one client
  bool abusive = false;
};

char* clientAddress(char* out, std::uint64_t index, bool abusive) noexcept {
  const std::uint64_t c = index % 254 + 1;
  const std::uint64_t b = index / 254 % 256;
  const std::uint64_t a = index / (254 * 256);
  const auto put = [&out](std::uint64_t v) { out = std::to_chars(out, out + 4, v).ptr; };
  put(abusive ? 172 : 10);
  *out++ = '.';
  put(abusive ? 16 + a : a);
  *out++ = '.';
  put(b);
  *out++ = '.';
  put(c);
  return out;
}

WorkloadGenerator::~WorkloadGenerator() = default;

trace::Made<WorkloadGenerator> WorkloadGenerator::make(const WorkloadSpec& spec) {
  const std::vector<SpecProblem> problems = checkWorkloadSpec(spec);
  if (!problems.empty()) {
    return config::UnitError{problems.front().path + ": " + problems.front().message, problems.front().allowed};
  }
  return std::make_unique<WorkloadGenerator>(spec);
}

WorkloadGenerator::WorkloadGenerator(const WorkloadSpec& spec) : spec_(spec) {
  const RandomStreams streams(RunSeed{spec.seed, 0});
  const std::uint64_t identitySalt = streams.stream("workload/identity")();
  if (spec.duration) end_ = *spec.duration;
  count_ = spec.count;
  const double startSecondOfDay = secondOfDay(spec.start, spec.zone);
  const double window = spec.duration ? seconds(*spec.duration) : 0.0;
  double expected = 0.0;

  for (const GroupSpec& g : spec.groups) {
    const auto source = static_cast<std::uint32_t>(sources_.size());
    const std::string base = "workload/group/" + g.name;
    std::unique_ptr<ArrivalProcess> process;
    switch (g.arrivals.kind) {
      case ArrivalKind::kPoisson: process = std::make_unique<PoissonProcess>(perSecond(g.arrivals.rate)); break;
      case ArrivalKind::kMmpp: process = std::make_unique<MmppProcess>(mmppModel(g.arrivals).value(), g.arrivals.initialState); break;
      case ArrivalKind::kDiurnal: process = std::make_unique<DiurnalProcess>(rateProfile(g.arrivals), startSecondOfDay); break;
    }
    if (g.arrivals.kind == ArrivalKind::kDiurnal) {
      expected += rateProfile(g.arrivals).integral(startSecondOfDay, startSecondOfDay + window);
    } else {
      expected += process->meanRate() * window;
    }
    sources_.push_back(SourceInfo{g.name, false, groupClients_, g.clients, process->meanRate(), process->describe()});
    zipfs_.push_back(std::make_unique<ZipfDistribution>(g.clients, g.zipf));
    contents_.push_back(std::make_unique<ContentModel>(g.content, identitySalt));
    Stream s{std::move(process), streams.stream(base + "/arrivals"), streams.stream(base + "/clients"),
             streams.stream(base + "/content"), source, groupClients_, zipfs_.back().get(), false};
    streams_.push_back(std::move(s));
    groupClients_ += g.clients;
  }
  std::uint64_t abusiveIndex = 0;
  for (const AbusiveSpec& a : spec.abusive) {
    const auto source = static_cast<std::uint32_t>(sources_.size());
    const std::string base = "workload/abusive/" + a.name;
    OnOffOptions o;
    o.rate = perSecond(a.rate);
    o.pattern = a.pattern;
    if (a.on && a.off) {
      o.onSeconds = seconds(*a.on);
      o.offSeconds = seconds(*a.off);
    }
    o.fromSeconds = seconds(a.from);
    if (a.until) o.untilSeconds = seconds(*a.until);
    contents_.push_back(std::make_unique<ContentModel>(a.content, identitySalt));
    std::string described;
    double rate = 0.0;
    for (std::uint64_t i = 0; i < a.count; ++i) {
      auto process = std::make_unique<OnOffProcess>(o);
      if (i == 0) {
        described = process->describe() + " per client";
        rate = process->meanRate();
      }
      Stream s{std::move(process), streams.stream(base + "/arrivals", i), Rng(0), streams.stream(base + "/content", i),
               source, groupClients_ + abusiveIndex + i, nullptr, true};
      streams_.push_back(std::move(s));
    }
    // Expected requests: the on fraction over [from, min(until, duration)) (cycle positions are
    // uniform, so the expectation is exact even for a window shorter than a cycle).
    if (spec.duration) {
      const double stop = std::min(window, a.until ? seconds(*a.until) : window);
      expected += static_cast<double>(a.count) * rate * std::max(0.0, stop - o.fromSeconds);
    }
    sources_.push_back(SourceInfo{a.name, true, groupClients_ + abusiveIndex, a.count, rate * static_cast<double>(a.count), described});
    abusiveIndex += a.count;
  }
  totalClients_ = groupClients_ + abusiveIndex;
  if (spec.duration) expected_ = expected;
  seen_.assign(totalClients_, false);
  stats_.perSource.assign(sources_.size(), 0);
  heap_.reserve(streams_.size());
  for (std::uint32_t i = 0; i < streams_.size(); ++i) push(i, streams_[i].process->next(streams_[i].arrivals));
}

void WorkloadGenerator::push(std::uint32_t stream, core::Duration at) {
  if (at == kNever || at >= end_) return;
  heap_.push_back(HeapEntry{at.count(), stream});
  std::push_heap(heap_.begin(), heap_.end(), [](const HeapEntry& a, const HeapEntry& b) { return later(a, b); });
}

bool WorkloadGenerator::next(GeneratedRequest& out) {
  if (count_ && stats_.requests >= *count_) return false;
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), [](const HeapEntry& a, const HeapEntry& b) { return later(a, b); });
  const HeapEntry e = heap_.back();
  heap_.pop_back();
  Stream& s = streams_[e.stream];
  const core::Duration at{e.at};
  const std::uint64_t client = s.zipf != nullptr ? s.firstClient + s.zipf->sample(s.clients) : s.firstClient;
  contents_[s.source]->draw(s.content, client, content_);

  trace::TraceRecord& r = out.record;
  r = trace::TraceRecord{};
  r.time = spec_.start + at;
  const std::uint64_t addressIndex = s.abusive ? client - groupClients_ : client;
  r.client = std::string_view(address_, static_cast<std::size_t>(clientAddress(address_, addressIndex, s.abusive) - address_));
  r.method = content_.method;
  r.path = content_.path;
  r.query = content_.query;
  r.protocol = content_.protocol;
  r.referer = content_.referer;
  r.userAgent = content_.userAgent;
  r.status = content_.status;
  r.bytes = content_.bytes;
  r.requestTime = content_.requestTime;
  r.headers = std::span<const trace::Field>(content_.headers, content_.headerCount);
  r.line = stats_.requests + 1;
  out.offset = at;
  out.client = client;
  out.source = s.source;
  out.abusive = s.abusive;

  if (stats_.requests == 0) stats_.first = at;
  stats_.last = at;
  ++stats_.requests;
  ++stats_.perSource[s.source];
  if (!seen_[client]) {
    seen_[client] = true;
    ++stats_.distinctClients;
  }
  push(e.stream, s.process->next(s.arrivals));
  return true;
}

std::vector<std::string> WorkloadGenerator::headerNames() const {
  std::vector<std::string> out;
  for (const auto& c : contents_) {
    for (std::string& h : c->headerNames()) {
      const bool known = std::any_of(out.begin(), out.end(), [&h](const std::string& o) { return core::equalsIgnoreCase(o, h); });
      if (!known) out.push_back(std::move(h));
    }
  }
  return out;
}

}  // namespace gatelab::sim::workload
