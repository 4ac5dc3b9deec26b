#include "gui/model/run_data.hpp"

#include <algorithm>

namespace gatelab::gui {

std::optional<BreakerState> parseBreakerState(QStringView text) {
  if (text == u"closed") return BreakerState::kClosed;
  if (text == u"open") return BreakerState::kOpen;
  if (text == u"half-open") return BreakerState::kHalfOpen;
  if (text == u"forced-open") return BreakerState::kForcedOpen;
  if (text == u"disabled") return BreakerState::kDisabled;
  return std::nullopt;
}

QString breakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return QStringLiteral("closed");
    case BreakerState::kOpen:
      return QStringLiteral("open");
    case BreakerState::kHalfOpen:
      return QStringLiteral("half-open");
    case BreakerState::kForcedOpen:
      return QStringLiteral("forced-open");
    case BreakerState::kDisabled:
      return QStringLiteral("disabled");
    case BreakerState::kUnknown:
      break;
  }
  return QStringLiteral("unknown");
}

void Timeline::reserve(std::size_t buckets) {
  for (auto* v : {&startS, &endS, &requests, &errors5xx, &rateLimited, &breakerRejected, &breakerOpens, &ejections,
                  &p50Ms, &p90Ms, &p99Ms})
    v->reserve(buckets);
}

void Timeline::append(const Bucket& bucket, double offsetMs) {
  const std::size_t before = size();
  startS.push_back((bucket.startMs + offsetMs) / 1000.0);
  endS.push_back((bucket.endMs + offsetMs) / 1000.0);
  requests.push_back(bucket.requests);
  errors5xx.push_back(bucket.errors5xx);
  rateLimited.push_back(bucket.rateLimited);
  breakerRejected.push_back(bucket.breakerRejected);
  breakerOpens.push_back(bucket.breakerOpens);
  ejections.push_back(bucket.ejections);
  p50Ms.push_back(bucket.p50Ms);
  p90Ms.push_back(bucket.p90Ms);
  p99Ms.push_back(bucket.p99Ms);

  // Every policy and breaker series keeps exactly size() entries: found ones get this bucket's
  // value, new ones are back-filled, and ones missing from this bucket get zero / kUnknown.
  for (const BucketPolicy& p : bucket.policies) {
    auto it = std::find_if(policies.begin(), policies.end(),
                           [&](const PolicySeries& s) { return s.name == p.name && s.route == p.route; });
    if (it == policies.end()) {
      PolicySeries s{p.route, p.name, std::vector<double>(before, 0.0), std::vector<double>(before, 0.0),
                     std::vector<double>(before, 0.0)};
      policies.push_back(std::move(s));
      it = policies.end() - 1;
    }
    if (it->allowed.size() > before) continue;  // the same policy twice in one bucket: keep the first
    it->allowed.push_back(p.allowed);
    it->delayed.push_back(p.delayed);
    it->rejected.push_back(p.rejected);
  }
  for (PolicySeries& s : policies) {
    if (s.allowed.size() == before) {
      s.allowed.push_back(0);
      s.delayed.push_back(0);
      s.rejected.push_back(0);
    }
  }
  for (const BucketBreaker& b : bucket.breakers) {
    auto it = std::find_if(breakers.begin(), breakers.end(),
                           [&](const BreakerSeries& s) { return s.service == b.service && s.target == b.target; });
    if (it == breakers.end()) {
      breakers.push_back(BreakerSeries{b.service, b.target, std::vector<BreakerState>(before, BreakerState::kUnknown)});
      it = breakers.end() - 1;
    }
    if (it->states.size() > before) continue;
    it->states.push_back(b.state);
  }
  for (BreakerSeries& s : breakers)
    if (s.states.size() == before) s.states.push_back(BreakerState::kUnknown);
}

void Timeline::dropFront(std::size_t count) {
  count = std::min(count, size());
  if (count == 0) return;
  const auto cut = [count](auto& v) { v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(count)); };
  for (auto* v : {&startS, &endS, &requests, &errors5xx, &rateLimited, &breakerRejected, &breakerOpens, &ejections,
                  &p50Ms, &p90Ms, &p99Ms})
    cut(*v);
  for (PolicySeries& s : policies) {
    cut(s.allowed);
    cut(s.delayed);
    cut(s.rejected);
  }
  for (BreakerSeries& s : breakers) cut(s.states);
}

namespace {
double sumPolicies(const std::vector<PolicySummary>& policies, double PolicySummary::*field) {
  double total = 0;
  for (const PolicySummary& p : policies)
    if (!p.shadow) total += p.*field;
  return total;
}
}  // namespace

double ReportSummary::decisions() const { return sumPolicies(policies, &PolicySummary::decisions); }
double ReportSummary::allowed() const { return sumPolicies(policies, &PolicySummary::allowed); }
double ReportSummary::delayed() const { return sumPolicies(policies, &PolicySummary::delayed); }
double ReportSummary::rejected() const { return sumPolicies(policies, &PolicySummary::rejected); }

double RunData::endSeconds() const {
  double end = 0;
  for (const VariantData& v : variants) end = std::max(end, v.timeline.endSeconds());
  return end;
}

}  // namespace gatelab::gui
