#include "sim/workload/spec.hpp"

#include <cmath>
#include <cstdio>
#include <set>

#include "gateway/config/units.hpp"
#include "gateway/core/request.hpp"

namespace gatelab::sim::workload {
namespace {

constexpr double kMaxRatePerSecond = 1e7;
constexpr std::string_view kNameAllowed = "1 to 64 characters from A-Z a-z 0-9 _ . -, unique among groups and abusive entries";
constexpr std::string_view kWeightAllowed = "a finite weight >= 0; the weights of a list must not all be 0";
constexpr std::string_view kTextAllowed = "1 to 512 printable ASCII characters without '\"' or '\\'";
constexpr std::string_view kHeaderAllowed = "an HTTP header name (letters, digits and !#$%&'*+-.^_`|~), or empty for none";

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string at(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}
std::string index(std::string_view parent, std::size_t i) { return std::string(parent) + "[" + std::to_string(i) + "]"; }

class Checker {
 public:
  void problem(std::string path, std::string message, std::string_view allowed) {
    problems.push_back(SpecProblem{std::move(path), std::move(message), std::string(allowed)});
  }

  void name(const std::string& path, const std::string& n) {
    bool ok = !n.empty() && n.size() <= 64;
    for (const char c : n) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-');
    }
    if (!ok) {
      problem(path, "invalid name \"" + n.substr(0, 64) + "\"", kNameAllowed);
    } else if (!names_.insert(n).second) {
      problem(path, "duplicate name \"" + n + "\"", kNameAllowed);
    }
  }

  void rate(const std::string& path, const core::Rate& r, bool allowZero = false) {
    const double v = perSecond(r);
    if (!std::isfinite(v) || v < 0 || (!allowZero && v <= 0) || r.period.count() <= 0) {
      problem(path, "the rate must be " + std::string(allowZero ? ">= 0" : "> 0"), config::kRateAllowed);
    } else if (v > kMaxRatePerSecond) {
      problem(path, "rate " + core::formatRate(r) + " is above the limit of 10000000/s", "at most 10000000/s");
    }
  }

  template <typename T, typename Valid>
  void weighted(const std::string& path, const std::vector<Weighted<T>>& items, Valid valid, std::string_view allowedValue) {
    if (items.empty()) {
      problem(path, "the list must not be empty", allowedValue);
      return;
    }
    if (items.size() > kMaxChoices) {
      problem(path, std::to_string(items.size()) + " entries is more than the limit of " + std::to_string(kMaxChoices),
              "at most 1000 entries");
      return;
    }
    double sum = 0.0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!std::isfinite(items[i].weight) || items[i].weight < 0) {
        problem(index(path, i), "weight " + num(items[i].weight) + " is not a finite number >= 0", kWeightAllowed);
      } else {
        sum += items[i].weight;
      }
      if (auto why = valid(items[i].value)) problem(index(path, i), *why, allowedValue);
    }
    if (!(sum > 0)) problem(path, "all weights are 0", kWeightAllowed);
  }

  void size(const std::string& path, const SizeSpec& s) {
    if (s.median < 1 || s.median > 1'000'000'000'000ULL) problem(at(path, "median"), "must be 1 byte to 1 TB", "an integer number of bytes, 1 to 10^12");
    if (s.p99 < s.median) problem(at(path, "p99"), "must be >= the median (" + std::to_string(s.median) + ")", "an integer number of bytes >= median");
    if (s.p99 > 1'000'000'000'000ULL) problem(at(path, "p99"), "must be at most 1 TB", "an integer number of bytes, at most 10^12");
  }

  void latency(const std::string& path, const LatencySpec& l) {
    if (l.median.count() <= 0 || l.median > std::chrono::hours(1)) problem(at(path, "median"), "must be > 0 and at most 1h", "a duration, e.g. 25ms");
    if (l.p99 < l.median) problem(at(path, "p99"), "must be >= the median (" + core::formatDuration(l.median) + ")", "a duration >= median");
    if (l.p99 > std::chrono::hours(1)) problem(at(path, "p99"), "must be at most 1h", "a duration, at most 1h");
  }

  void content(const std::string& path, const ContentSpec& c, const ContentSpec* base);

  std::vector<SpecProblem> problems;

 private:
  std::set<std::string> names_;
};

std::optional<std::string> checkText(const std::string& s) {
  if (s.empty() || s.size() > 512) return "must be 1 to 512 characters long";
  for (const char c : s) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return "contains a character that access logs would have to escape";
  }
  return std::nullopt;
}

std::optional<std::string> checkMethod(const std::string& m) {
  bool ok = !m.empty() && m.size() <= 20;
  for (const char c : m) ok = ok && c >= 'A' && c <= 'Z';
  if (!ok) return "invalid method \"" + m.substr(0, 20) + "\"";
  return std::nullopt;
}

std::optional<std::string> checkStatus(int s) {
  if (s < 100 || s > 599) return "status " + std::to_string(s) + " is not 100 to 599";
  return std::nullopt;
}

std::optional<std::string> checkProtocol(const std::string& p) {
  if (p.empty() || p.size() > 16) return "invalid protocol \"" + p.substr(0, 16) + "\"";
  for (const char c : p) {
    if (c <= 0x20 || c > 0x7e || c == '"' || c == '\\') return "invalid protocol \"" + p + "\"";
  }
  return std::nullopt;
}

bool isToken(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

void Checker::content(const std::string& path, const ContentSpec& c, const ContentSpec* base) {
  // With a base (a group's copy of the workload-wide content), only the keys it replaced are new.
  const auto changed = [base](const auto& mine, const auto& theirs) { return base == nullptr || !(mine == theirs); };
  if (changed(c.methods, base ? base->methods : c.methods)) {
    weighted(at(path, "methods"), c.methods, checkMethod, "HTTP methods (GET, POST, ...) with weights");
  }
  if (changed(c.paths, base ? base->paths : c.paths)) {
    const std::string pp = at(path, "paths");
    if (c.paths.empty()) problem(pp, "the list must not be empty", "path templates with weights");
    if (c.paths.size() > kMaxChoices) problem(pp, "more than 1000 path templates", "at most 1000 entries");
    double sum = 0.0;
    for (std::size_t i = 0; i < c.paths.size() && i < kMaxChoices; ++i) {
      const PathSpec& p = c.paths[i];
      const std::string ip = index(pp, i);
      if (auto why = checkPathTemplate(p.pattern)) problem(at(ip, "path"), *why, kPathTemplateAllowed);
      if (!std::isfinite(p.weight) || p.weight < 0) {
        problem(at(ip, "weight"), "weight " + num(p.weight) + " is not a finite number >= 0", kWeightAllowed);
      } else {
        sum += p.weight;
      }
      if (!p.methods.empty()) weighted(at(ip, "methods"), p.methods, checkMethod, "HTTP methods (GET, POST, ...) with weights");
      if (!p.statuses.empty()) weighted(at(ip, "statuses"), p.statuses, checkStatus, "HTTP statuses 100-599 with weights");
      if (p.bytes) size(at(ip, "bytes"), *p.bytes);
      if (p.requestTime) latency(at(ip, "request_time"), *p.requestTime);
    }
    if (!c.paths.empty() && !(sum > 0)) problem(pp, "all weights are 0", kWeightAllowed);
  }
  if (changed(c.statuses, base ? base->statuses : c.statuses)) {
    weighted(at(path, "statuses"), c.statuses, checkStatus, "HTTP statuses 100-599 with weights");
  }
  if (changed(c.bytes, base ? base->bytes : c.bytes)) size(at(path, "bytes"), c.bytes);
  if (changed(c.requestTime, base ? base->requestTime : c.requestTime)) latency(at(path, "request_time"), c.requestTime);
  if (changed(c.userAgents, base ? base->userAgents : c.userAgents)) weighted(at(path, "user_agents"), c.userAgents, checkText, kTextAllowed);
  if (changed(c.referers, base ? base->referers : c.referers)) weighted(at(path, "referers"), c.referers, checkText, kTextAllowed);
  if (changed(c.protocols, base ? base->protocols : c.protocols)) {
    weighted(at(path, "protocols"), c.protocols, checkProtocol, "protocols such as HTTP/1.1, HTTP/2.0 with weights");
  }
  if (changed(c.apiKeyHeader, base ? base->apiKeyHeader : c.apiKeyHeader) && !c.apiKeyHeader.empty() && !isToken(c.apiKeyHeader)) {
    problem(at(path, "headers.api_key"), "invalid header name \"" + c.apiKeyHeader.substr(0, 64) + "\"", kHeaderAllowed);
  }
  if (changed(c.tenantHeader, base ? base->tenantHeader : c.tenantHeader) && !c.tenantHeader.empty() && !isToken(c.tenantHeader)) {
    problem(at(path, "headers.tenant"), "invalid header name \"" + c.tenantHeader.substr(0, 64) + "\"", kHeaderAllowed);
  }
  if ((changed(c.apiKeyHeader, base ? base->apiKeyHeader : c.apiKeyHeader) || changed(c.tenantHeader, base ? base->tenantHeader : c.tenantHeader)) &&
      !c.apiKeyHeader.empty() && core::equalsIgnoreCase(c.apiKeyHeader, c.tenantHeader)) {
    problem(at(path, "headers.tenant"), "the tenant header is the same as the API key header", "two different header names");
  }
  if (changed(c.tenants, base ? base->tenants : c.tenants) && (c.tenants < 1 || c.tenants > 1'000'000)) {
    problem(at(path, "headers.tenants"), std::to_string(c.tenants) + " is out of range", "an integer from 1 to 1000000");
  }
  if (changed(c.ids, base ? base->ids : c.ids) && (c.ids < 1 || c.ids > 1'000'000'000'000'000ULL)) {
    problem(at(path, "ids"), std::to_string(c.ids) + " is out of range", "an integer from 1 to 10^18");
  }
}

void checkArrivals(Checker& ck, const std::string& path, const ArrivalSpec& a) {
  const std::size_t before = ck.problems.size();
  switch (a.kind) {
    case ArrivalKind::kPoisson:
      ck.rate(at(path, "rate"), a.rate);
      return;
    case ArrivalKind::kMmpp: {
      if (a.states.empty()) {
        ck.rate(at(path, "rate"), a.rate);
        if (!std::isfinite(a.burstFactor) || a.burstFactor < 1 || a.burstFactor > 1e6) {
          ck.problem(at(path, "burst_factor"), "burst factor " + num(a.burstFactor) + " is out of range", "a number from 1 to 1000000");
        }
        if (a.burstLength.count() <= 0) ck.problem(at(path, "burst_length"), "must be longer than zero", "a positive duration");
        if (a.burstGap.count() <= 0) ck.problem(at(path, "burst_gap"), "must be longer than zero", "a positive duration");
        if (!a.generator.empty() || !a.transitions.empty()) {
          ck.problem(at(path, "states"), "a generator or transition matrix needs the states it refers to", "states: [{rate, sojourn}, ...]");
        }
        break;
      }
      if (a.states.size() > kMaxMmppStates) {
        ck.problem(at(path, "states"), std::to_string(a.states.size()) + " states is more than the limit of 32", "1 to 32 states");
        return;
      }
      std::size_t withSojourn = 0;
      for (std::size_t i = 0; i < a.states.size(); ++i) {
        ck.rate(at(index(at(path, "states"), i), "rate"), a.states[i].rate, true);
        if (a.states[i].sojourn) {
          ++withSojourn;
          if (a.states[i].sojourn->count() <= 0) ck.problem(at(index(at(path, "states"), i), "sojourn"), "must be longer than zero", "a positive duration");
        }
      }
      if (a.generator.empty() && withSojourn != a.states.size()) {
        ck.problem(at(path, "states"), "every state needs a mean sojourn time (or give a generator matrix)",
                   "states: [{rate: 100/s, sojourn: 50s}, ...] or a generator matrix");
        return;
      }
      if (!a.generator.empty() && withSojourn != 0) {
        ck.problem(at(path, "generator"), "give either the states' sojourn times or a generator matrix, not both",
                   "sojourn per state (with optional transitions), or generator");
        return;
      }
      if (!a.generator.empty() && !a.transitions.empty()) {
        ck.problem(at(path, "transitions"), "transitions go with sojourn times, not with a generator matrix",
                   "sojourn per state (with optional transitions), or generator");
        return;
      }
      break;
    }
    case ArrivalKind::kDiurnal: {
      if (a.profile.empty()) {
        ck.rate(at(path, "rate"), a.rate);
        if (!std::isfinite(a.peakHour) || a.peakHour < 0 || a.peakHour >= 24) {
          ck.problem(at(path, "peak_hour"), "peak hour " + num(a.peakHour) + " is out of range", "a number of hours from 0 to 24 (excluded), e.g. 14 or 13.5");
        }
        if (!std::isfinite(a.peakRatio) || a.peakRatio < 1 || a.peakRatio > 1e6) {
          ck.problem(at(path, "peak_ratio"), "peak/trough ratio " + num(a.peakRatio) + " is out of range", "a number from 1 (flat) to 1000000");
        }
        return;
      }
      const std::string pp = at(path, "profile");
      if (a.profile.size() > kMaxProfilePoints) {
        ck.problem(pp, "more than 1000 profile points", "1 to 1000 points");
        return;
      }
      bool positive = false;
      for (std::size_t i = 0; i < a.profile.size(); ++i) {
        const ProfilePointSpec& p = a.profile[i];
        if (p.at.count() < 0 || p.at >= std::chrono::hours(24)) {
          ck.problem(at(index(pp, i), "at"), "time of day " + core::formatDuration(p.at) + " is not within a day", "HH:MM or HH:MM:SS from 00:00 to 23:59:59");
        } else if (i > 0 && p.at <= a.profile[i - 1].at) {
          ck.problem(at(index(pp, i), "at"), "times of day must be strictly increasing", "points sorted by time of day, each time once");
        }
        ck.rate(at(index(pp, i), "rate"), p.rate, true);
        positive = positive || perSecond(p.rate) > 0;
      }
      if (!positive) ck.problem(pp, "every point has rate 0, so no request would ever arrive", "at least one rate > 0");
      return;
    }
  }
  // MMPP: the chain itself (rates, rows, irreducibility).
  if (ck.problems.size() == before) {
    auto model = mmppModel(a);
    if (!model) {
      const std::string where = !a.generator.empty() ? "generator" : !a.transitions.empty() ? "transitions" : "states";
      ck.problem(at(path, a.states.empty() ? "burst_factor" : where), model.error().message, model.error().allowed);
    } else if (a.initialState && *a.initialState >= model.value().states()) {
      // The model's states, not a.states: the shorthand form has two (0 quiet, 1 burst) and no list.
      ck.problem(at(path, "initial_state"), "state " + std::to_string(*a.initialState) + " does not exist",
                 "a state index from 0 to " + std::to_string(model.value().states() - 1));
    }
  }
}

}  // namespace

ContentSpec abusiveContent(ContentSpec base) {
  base.userAgents = scriptUserAgents();
  return base;
}

trace::TraceTime WorkloadSpec::defaultStart() noexcept {
  return trace::TraceTime{std::chrono::seconds(trace::daysFromCivil(2024, 1, 1) * 86'400)};
}

config::UnitResult<MmppModel> mmppModel(const ArrivalSpec& a) {
  if (a.states.empty()) {
    const double mean = perSecond(a.rate);
    const double burst = std::chrono::duration<double>(a.burstLength).count();
    const double gap = std::chrono::duration<double>(a.burstGap).count();
    const double inBurst = burst / (burst + gap);
    const double quiet = mean / (1.0 - inBurst + a.burstFactor * inBurst);
    return MmppModel::fromSojourns({quiet, quiet * a.burstFactor}, {gap, burst}, {});
  }
  std::vector<double> rates;
  for (const MmppStateSpec& s : a.states) rates.push_back(perSecond(s.rate));
  if (!a.generator.empty()) return MmppModel::fromGenerator(std::move(rates), a.generator);
  std::vector<double> sojourns;
  for (const MmppStateSpec& s : a.states) sojourns.push_back(s.sojourn ? std::chrono::duration<double>(*s.sojourn).count() : 0.0);
  return MmppModel::fromSojourns(std::move(rates), std::move(sojourns), a.transitions);
}

RateProfile rateProfile(const ArrivalSpec& a) {
  if (a.profile.empty()) return RateProfile::sinusoid(perSecond(a.rate), a.peakHour, a.peakRatio);
  std::vector<RateProfile::Point> points;
  for (const ProfilePointSpec& p : a.profile) points.push_back({std::chrono::duration<double>(p.at).count(), perSecond(p.rate)});
  return RateProfile::piecewise(std::move(points));
}

std::vector<SpecProblem> checkWorkloadSpec(const WorkloadSpec& spec) {
  Checker ck;
  const std::int64_t startNs = spec.start.time_since_epoch().count();
  const std::int64_t maxStart = trace::daysFromCivil(2200, 1, 1) * 86'400 * 1'000'000'000LL;
  if (startNs < 0 || startNs > maxStart) ck.problem("start", "the start must be between 1970 and 2200", "an RFC 3339 time such as 2024-03-05T08:00:00Z");
  if (spec.zone.count() <= -24 * 60 || spec.zone.count() >= 24 * 60) ck.problem("time_zone", "offset out of range", "Z, +02:00, -0400");
  if (!spec.duration && !spec.count) {
    ck.problem("duration", "neither a duration nor a request count bounds the trace", "duration (e.g. 10m) and/or count (e.g. 100000)");
  }
  if (spec.duration && (spec.duration->count() <= 0 || *spec.duration > std::chrono::hours(24 * 3650))) {
    ck.problem("duration", "the duration must be longer than zero and at most 3650 days", "a positive duration, e.g. 10m or 24h");
  }
  if (spec.count && *spec.count < 1) ck.problem("count", "the count must be at least 1", "an integer >= 1");
  if (spec.groups.empty() && spec.abusive.empty()) {
    ck.problem("groups", "no clients: give at least one client group or abusive entry", "groups: [{clients, zipf, arrivals}], abusive: [...]");
  }
  if (spec.groups.size() > kMaxGroups) ck.problem("groups", "more than 64 groups", "at most 64 groups");
  if (spec.abusive.size() > kMaxAbusiveEntries) ck.problem("abusive", "more than 64 abusive entries", "at most 64 entries");

  ck.content("content", spec.content, nullptr);
  std::uint64_t totalClients = 0;
  for (std::size_t g = 0; g < spec.groups.size() && g < kMaxGroups; ++g) {
    const GroupSpec& group = spec.groups[g];
    const std::string path = index("groups", g);
    ck.name(at(path, "name"), group.name);
    if (group.clients < 1 || group.clients > kMaxClients) {
      ck.problem(at(path, "clients"), std::to_string(group.clients) + " is out of range", "an integer from 1 to 10000000");
    } else {
      totalClients += group.clients;
    }
    if (!std::isfinite(group.zipf) || group.zipf < 0 || group.zipf > 10) {
      ck.problem(at(path, "zipf"), "Zipf exponent " + num(group.zipf) + " is out of range", "a number from 0 (uniform) to 10; about 1 for web traffic");
    }
    checkArrivals(ck, at(path, "arrivals"), group.arrivals);
    ck.content(at(path, "content"), group.content, &spec.content);
  }
  if (totalClients > kMaxClients) {
    ck.problem("groups", std::to_string(totalClients) + " clients in all groups is more than the limit of 10000000", "at most 10000000 clients");
  }
  std::uint64_t abusers = 0;
  for (std::size_t k = 0; k < spec.abusive.size() && k < kMaxAbusiveEntries; ++k) {
    const AbusiveSpec& a = spec.abusive[k];
    const std::string path = index("abusive", k);
    ck.name(at(path, "name"), a.name);
    if (a.count < 1 || a.count > kMaxAbusiveClients) {
      ck.problem(at(path, "count"), std::to_string(a.count) + " is out of range", "an integer from 1 to 100000");
    } else {
      abusers += a.count;
    }
    ck.rate(at(path, "rate"), a.rate);
    if (a.on.has_value() != a.off.has_value()) {
      ck.problem(at(path, a.on ? "off" : "on"), "on and off go together", "both on and off (durations), or neither");
    }
    if (a.on && a.on->count() <= 0) ck.problem(at(path, "on"), "must be longer than zero", "a positive duration");
    if (a.off && a.off->count() < 0) ck.problem(at(path, "off"), "must not be negative", "a duration >= 0");
    if (a.from.count() < 0) ck.problem(at(path, "from"), "must not be negative", "an offset from the start, e.g. 2m");
    if (a.until && *a.until <= a.from) ck.problem(at(path, "until"), "must be later than from", "an offset from the start later than from");
    if (spec.duration && a.from >= *spec.duration) {
      ck.problem(at(path, "from"), "starts at or after the end of the trace (" + core::formatDuration(*spec.duration) + ")",
                 "an offset within the duration");
    }
    const ContentSpec base = abusiveContent(spec.content);
    ck.content(at(path, "content"), a.content, &base);
  }
  if (abusers > kMaxAbusiveClients) {
    ck.problem("abusive", std::to_string(abusers) + " abusive clients is more than the limit of 100000", "at most 100000 abusive clients");
  }
  return std::move(ck.problems);
}

config::UnitResult<AbusiveSpec> parseAbusiveFlag(std::string_view text, const ContentSpec& base) {
  const auto fail = [text](const std::string& why) {
    return config::UnitError{"invalid --abusive \"" + std::string(text) + "\": " + why, std::string(kAbusiveFlagAllowed)};
  };
  AbusiveSpec a;
  a.content = abusiveContent(base);
  const std::size_t atSign = text.find('@');
  if (atSign == std::string_view::npos) return fail("expected K@RATE");
  const std::string_view k = text.substr(0, atSign);
  std::uint64_t count = 0;
  if (k.empty() || k.size() > 9) return fail("the client count must be an integer");
  for (const char c : k) {
    if (c < '0' || c > '9') return fail("the client count must be an integer");
    count = count * 10 + static_cast<std::uint64_t>(c - '0');
  }
  a.count = count;
  std::string_view rest = text.substr(atSign + 1);
  const std::size_t comma = rest.find(',');
  auto rate = config::parseRate(rest.substr(0, comma));
  if (!rate) return fail(rate.error().message);
  a.rate = rate.value();
  rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  while (!rest.empty()) {
    const std::size_t c = rest.find(',');
    const std::string_view item = rest.substr(0, c);
    rest = c == std::string_view::npos ? std::string_view{} : rest.substr(c + 1);
    if (item == "poisson") {
      a.pattern = AbusePattern::kPoisson;
      continue;
    }
    if (item == "constant") {
      a.pattern = AbusePattern::kConstant;
      continue;
    }
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return fail("unknown option \"" + std::string(item) + "\"");
    const std::string_view key = item.substr(0, eq);
    auto d = config::parseDuration(item.substr(eq + 1));
    if (!d) return fail(d.error().message);
    if (key == "on") a.on = d.value();
    else if (key == "off") a.off = d.value();
    else if (key == "from") a.from = d.value();
    else if (key == "until") a.until = d.value();
    else return fail("unknown option \"" + std::string(key) + "\"");
  }
  return a;
}

}  // namespace gatelab::sim::workload
