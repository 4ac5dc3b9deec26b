#include "sim/metrics/metrics_json.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

namespace gatelab::sim {
namespace {

using nlohmann::json;


json share(std::uint64_t num, std::uint64_t den) {
  if (den == 0) return nullptr;
  return static_cast<double>(num) / static_cast<double>(den);
}

json optionalShare(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json optionalMillis(const std::optional<core::Duration>& d) { return d ? json(toMillis(*d)) : json(nullptr); }

json statusJson(const std::array<std::uint64_t, kStatusClassCount>& counts) {
  json j = json::object();
  for (std::size_t i = 0; i < kStatusClassCount; ++i) j[flow::statusClassName(i)] = counts[i];
  return j;
}

json outcomesJson(const std::array<std::uint64_t, kOutcomeCount>& counts) {
  json j = json::object();
  for (std::size_t i = 0; i < kOutcomeCount; ++i) j[toString(static_cast<RequestOutcome>(i))] = counts[i];
  return j;
}

json latencyJson(const LatencySummary& l) {
  const bool any = l.count > 0;
  auto ms = [any](core::Duration d) { return any ? json(toMillis(d)) : json(nullptr); };
  return json{{"count", l.count}, {"min_ms", ms(l.min)},   {"mean_ms", ms(l.mean)}, {"p50_ms", ms(l.p50)},
              {"p90_ms", ms(l.p90)}, {"p99_ms", ms(l.p99)}, {"p999_ms", ms(l.p999)}, {"max_ms", ms(l.max)}};
}

void addTotals(json& j, const RequestTotals& t) {
  j["requests"] = t.requests;
  j["status"] = statusJson(t.statusClasses);
  j["outcomes"] = outcomesJson(t.outcomes);
  j["errors"] = t.errors;
  j["error_rate"] = share(t.errors, t.requests);
  j["timeouts"] = t.timeouts;
  j["delayed"] = t.delayed;
  j["shadow_rejected"] = t.shadowRejected;
  j["tries"] = t.tries;
  j["first_tries"] = t.firstTries;
  j["retries"] = t.retries;
  j["retry_rate"] = share(t.retries, t.firstTries);
  j["try_failures"] = t.tryFailures;
  j["try_error_rate"] = share(t.tryFailures, t.tries);
  j["latency"] = latencyJson(t.latency);
}

json truthJson(const TruthCounts& t, const MetricsResults& r, const std::string& worstClient) {
  json j{{"decisions", t.decisions},
         {"policy_admitted", t.policyAdmitted},
         {"reference_admitted", t.referenceAdmitted},
         {"false_allows", t.falseAllows},
         {"false_blocks", t.falseBlocks},
         {"false_allow_share", optionalShare(t.falseAllowShare())},
         {"false_block_share", optionalShare(t.falseBlockShare())},
         {"wrongly_blocked_clients", t.wronglyBlockedClients}};
  if (t.worst) {
    const Overshoot& o = *t.worst;
    json w{{"ratio", o.ratio},
           {"admitted", o.admitted},
           {"limit", o.limit},
           {"period_ms", toMillis(o.period)},
           {"limit_index", o.limitIndex},
           {"client", worstClient},
           {"at_ms", toMillis(o.at - r.start)}};
    if (o.policy < r.policies.size()) {
      w["route"] = r.policies[o.policy].route;
      w["policy"] = r.policies[o.policy].name;
    }
    j["worst_overshoot"] = std::move(w);
  } else {
    j["worst_overshoot"] = nullptr;
  }
  return j;
}

json groupJson(std::uint64_t clients, std::uint64_t requests, std::uint64_t rejected) {
  return json{{"clients", clients}, {"requests", requests}, {"rejected", rejected}, {"rejected_share", share(rejected, requests)}};
}

}  // namespace

double toMillis(core::Duration d) noexcept {
  // Round to whole microseconds first (exact in integers), then scale: 3 decimals, no float noise
  // beyond what the shortest round-trip printing of the double shows.
  const std::int64_t ns = d.count();
  const std::int64_t us = ns >= 0 ? (ns + 500) / 1000 : -((-ns + 500) / 1000);
  return static_cast<double>(us) / 1000.0;
}

json metricsToJson(const MetricsResults& r) {
  json j = json::object();
  j["duration_ms"] = toMillis(r.end - r.start);
  json overall = json::object();
  addTotals(overall, r.overall);
  j["overall"] = std::move(overall);

  json routes = json::array();
  for (const auto& route : r.routes) {
    json o{{"name", route.name}};
    addTotals(o, route.totals);
    routes.push_back(std::move(o));
  }
  j["routes"] = std::move(routes);

  json services = json::array();
  for (const auto& s : r.services) {
    json o{{"name", s.name}, {"breaker_opens", s.breakerOpens}, {"ejections", s.ejections}};
    addTotals(o, s.totals);
    json targets = json::array();
    for (const auto& t : s.targets)
      targets.push_back(json{{"name", t.name},
                             {"tries", t.tries},
                             {"failures", t.failures},
                             {"failure_rate", share(t.failures, t.tries)},
                             {"responses_5xx", t.responses5xx},
                             {"connect_failures", t.connectFailures},
                             {"timeouts", t.timeouts},
                             {"resets", t.resets},
                             {"breaker_opens", t.breakerOpens},
                             {"ejections", t.ejections},
                             {"returns", t.returns},
                             {"skipped_ejections", t.skippedEjections}});
    o["targets"] = std::move(targets);
    services.push_back(std::move(o));
  }
  j["services"] = std::move(services);

  json policies = json::array();
  for (const auto& p : r.policies) {
    json o{{"route", p.route},
           {"name", p.name},
           {"shadow", p.shadow},
           {"decisions", p.decisions},
           {"allowed", p.allowed},
           {"delayed", p.delayed},
           {"rejected", p.rejected},
           {"enforced_rejected", p.enforcedRejected},
           {"allowed_share", share(p.allowed, p.decisions)},
           {"delayed_share", share(p.delayed, p.decisions)},
           {"rejected_share", share(p.rejected, p.decisions)}};
    json truth = truthJson(p.truth, r, p.worstClient);
    truth["wrongly_blocked_sample"] = p.wronglyBlocked;
    o["truth"] = std::move(truth);
    policies.push_back(std::move(o));
  }
  j["policies"] = std::move(policies);
  j["truth"] = truthJson(r.truth, r, r.truthWorstClient);

  const auto clientList = [](const std::vector<ClientResult>& list) {
    json out = json::array();
    for (const auto& c : list)
      out.push_back(json{{"name", c.name},
                         {"requests", c.requests},
                         {"rejected", c.rejected},
                         {"delayed", c.delayed},
                         {"errors", c.errors},
                         {"rejected_share", share(c.rejected, c.requests)}});
    return out;
  };
  j["clients"] = json{{"count", r.clientCount},
                      {"top", clientList(r.topClients)},
                      {"top_rejected", clientList(r.topRejectedClients)},
                      {"heavy", groupJson(r.load.heavyClients, r.load.heavyRequests, r.load.heavyRejected)},
                      {"light", groupJson(r.load.lightClients, r.load.lightRequests, r.load.lightRejected)}};

  j["unrouted_requests"] = r.unroutedRequests;
  j["breaker_opens"] = r.breakerOpens;
  j["ejections"] = r.ejections;
  json events = json::array();
  for (const auto& e : r.events)
    events.push_back(json{{"at_ms", toMillis(e.at - r.start)},
                          {"kind", toString(e.kind)},
                          {"service", e.service},
                          {"target", e.target},
                          {"from", e.from},
                          {"to", e.to},
                          {"reason", e.reason},
                          {"duration_ms", toMillis(e.duration)},
                          {"dry_run", e.dryRun}});
  j["events"] = std::move(events);
  j["dropped_events"] = r.droppedEvents;
  return j;
}

json timelineBucketToJson(const TimelineBucket& b, core::TimePoint origin) {
  json j = json::object();
  j["index"] = b.index;
  j["start_ms"] = toMillis(b.start - origin);
  j["end_ms"] = toMillis(b.end - origin);
  j["requests"] = b.requests;
  j["status"] = statusJson(b.statusClasses);
  j["outcomes"] = outcomesJson(b.outcomes);
  j["tries"] = b.tries;
  j["retries"] = b.retries;
  j["try_failures"] = b.tryFailures;
  j["breaker_opens"] = b.breakerOpens;
  j["ejections"] = b.ejections;
  j["latency"] = json{{"p50_ms", optionalMillis(b.p50)},
                      {"p90_ms", optionalMillis(b.p90)},
                      {"p99_ms", optionalMillis(b.p99)},
                      {"max_ms", optionalMillis(b.max)}};
  json policies = json::array();
  for (const auto& p : b.policies)
    policies.push_back(
        json{{"route", p.route}, {"name", p.name}, {"allowed", p.allowed}, {"delayed", p.delayed}, {"rejected", p.rejected}});
  j["policies"] = std::move(policies);
  json breakers = json::array();
  for (const auto& g : b.gauges.breakers)
    breakers.push_back(json{{"service", g.service}, {"target", g.target}, {"state", core::resilience::toString(g.state)}});
  j["breakers"] = std::move(breakers);
  json backends = json::array();
  for (const auto& q : b.gauges.backends)
    backends.push_back(json{{"service", q.service},
                            {"target", q.target},
                            {"queued", q.queued},
                            {"busy", q.busy},
                            {"servers", q.servers}});
  j["backends"] = std::move(backends);
  return j;
}

std::string timelineBucketLine(const TimelineBucket& bucket, core::TimePoint origin) {
  std::string line = timelineBucketToJson(bucket, origin).dump();
  line += '\n';
  return line;
}

}  // namespace gatelab::sim
