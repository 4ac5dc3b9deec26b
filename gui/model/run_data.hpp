#pragma once
// What the dashboard shows, in the shapes docs/outputs.md defines: one run (a simulator --out
// directory, or the live feed) is a list of variants; each has its report figures and its timeline
// stored column by column (one vector per quantity, one entry per bucket), so a 86,400-bucket
// timeline is a few flat arrays that downsampling can scan without touching JSON again.
//
// Plain values, no Qt widgets; built by run_loader (files) or live_model (the SSE feed) and then
// shared read-only (std::shared_ptr<const RunData>) with every view. Not synchronized: a RunData is
// built on one thread and only read once published.

#include <QString>
#include <QVector>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace gatelab::gui {

inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

/// A breaker's state at a bucket's end (timeline `breakers[].state`). kUnknown: the breaker did not
/// exist yet in that bucket (a live config reload can add one).
enum class BreakerState : std::uint8_t { kUnknown, kClosed, kOpen, kHalfOpen, kForcedOpen, kDisabled };

/// "closed", "open", "half-open", "forced-open", "disabled"; anything else is nullopt.
std::optional<BreakerState> parseBreakerState(QStringView text);
QString breakerStateName(BreakerState state);

/// One policy's decisions in one bucket (timeline `policies[]`).
struct BucketPolicy {
  QString route;
  QString name;
  double allowed = 0;
  double delayed = 0;
  double rejected = 0;
};

/// One breaker's state at a bucket's end (timeline `breakers[]`); target "" is service-wide.
struct BucketBreaker {
  QString service;
  QString target;
  BreakerState state = BreakerState::kUnknown;
};

/// One timeline bucket: a timeline.ndjson line or a live `event: timeline`.
struct Bucket {
  double startMs = 0;
  double endMs = 0;
  double requests = 0;
  double errors5xx = 0;        // status["5xx"]
  double rateLimited = 0;      // outcomes.rate_limited
  double breakerRejected = 0;  // outcomes.breaker_open
  double breakerOpens = 0;
  double ejections = 0;
  double p50Ms = kNoValue;  // NaN: no answers in the bucket (latency null)
  double p90Ms = kNoValue;
  double p99Ms = kNoValue;
  std::vector<BucketPolicy> policies;
  std::vector<BucketBreaker> breakers;
};

/// A policy's decisions over the timeline, one entry per bucket.
struct PolicySeries {
  QString route;
  QString name;
  std::vector<double> allowed;
  std::vector<double> delayed;
  std::vector<double> rejected;
  [[nodiscard]] QString label() const { return route + QLatin1Char('/') + name; }
};

/// A breaker's state over the timeline, one entry per bucket.
struct BreakerSeries {
  QString service;
  QString target;
  std::vector<BreakerState> states;
  [[nodiscard]] QString label() const { return target.isEmpty() ? service : service + QLatin1Char(' ') + target; }
};

/// Column-wise timeline. Times in seconds from the run start (the charts' x unit).
struct Timeline {
  std::vector<double> startS;
  std::vector<double> endS;
  std::vector<double> requests;
  std::vector<double> errors5xx;
  std::vector<double> rateLimited;
  std::vector<double> breakerRejected;
  std::vector<double> breakerOpens;
  std::vector<double> ejections;
  std::vector<double> p50Ms;
  std::vector<double> p90Ms;
  std::vector<double> p99Ms;
  std::vector<PolicySeries> policies;
  std::vector<BreakerSeries> breakers;

  [[nodiscard]] std::size_t size() const { return startS.size(); }
  [[nodiscard]] double endSeconds() const { return endS.empty() ? 0.0 : endS.back(); }
  /// Appends one bucket; a policy or breaker seen for the first time gets zeros / kUnknown for the
  /// buckets before it. `offsetMs` shifts the bucket's times (the live feed after a restart).
  /// Amortized O(policies + breakers).
  void append(const Bucket& bucket, double offsetMs = 0.0);
  /// Drops the first `count` buckets (the live feed's bounded window). O(size).
  void dropFront(std::size_t count);
  void reserve(std::size_t buckets);
};

/// A breaker transition, an ejection or a return (report.json `metrics.events[]`, live
/// `event: resilience`).
struct ResilienceEvent {
  double atMs = 0;
  QString kind;  // breaker, ejection, return, ejection_skipped, health
  QString service;
  QString target;
  QString from;
  QString to;
  QString reason;
  double durationMs = 0;
  bool dryRun = false;
};

/// An injected failure (report.json `failure_windows[]`).
struct FailureWindow {
  QString service;
  QString target;
  QString what;
  double startMs = 0;
  double endMs = 0;
};

/// One of the busiest clients (report.json `metrics.clients.top[]`).
struct ClientRow {
  QString name;
  double requests = 0;
  double rejected = 0;
  double delayed = 0;
  double errors = 0;
  double rejectedShare = kNoValue;
};

/// Ground truth of one policy or of all (report.json `truth`). NaN shares: no denominator.
struct Truth {
  bool present = false;
  double decisions = 0;
  double falseAllows = 0;
  double falseAllowShare = kNoValue;
  double falseBlocks = 0;
  double falseBlockShare = kNoValue;
  double wronglyBlockedClients = 0;
  double worstOvershoot = kNoValue;  // worst_overshoot.ratio
};

/// One rate-limit policy's totals (report.json `metrics.policies[]`).
struct PolicySummary {
  QString route;
  QString name;
  bool shadow = false;
  double decisions = 0;
  double allowed = 0;
  double delayed = 0;
  double rejected = 0;
  Truth truth;
};

/// report.json figures the views use; the comparison table's columns.
struct ReportSummary {
  QString scenario;
  QString variant;
  double seed = 0;
  double requests = 0;
  double errors = 0;
  double errorRate = kNoValue;
  double timeouts = 0;
  double retries = 0;
  double p50Ms = kNoValue;
  double p90Ms = kNoValue;
  double p99Ms = kNoValue;
  double p999Ms = kNoValue;
  double breakerOpens = 0;
  double ejections = 0;
  double checks = 0;
  double checksFailed = 0;
  double clientCount = 0;
  double heavyRejectedShare = kNoValue;
  double lightRejectedShare = kNoValue;
  double droppedEvents = 0;
  Truth truth;  // over every policy
  std::vector<PolicySummary> policies;
  std::vector<ClientRow> topClients;          // the busiest (report clients.top)
  std::vector<ClientRow> topRejectedClients;  // the most rejected (clients.top_rejected; empty in older runs)
  std::vector<ResilienceEvent> events;
  std::vector<FailureWindow> failureWindows;

  /// Sums over the enforcing (non-shadow) policies.
  [[nodiscard]] double decisions() const;
  [[nodiscard]] double allowed() const;
  [[nodiscard]] double delayed() const;
  [[nodiscard]] double rejected() const;
};

struct VariantData {
  QString name;
  QString directory;  // "" for the live feed
  ReportSummary report;
  Timeline timeline;
};

struct RunData {
  QString source;  // the directory or the live URL
  bool live = false;
  std::vector<VariantData> variants;
  /// Seconds covered by the longest variant's timeline.
  [[nodiscard]] double endSeconds() const;
};

}  // namespace gatelab::gui
