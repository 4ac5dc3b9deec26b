#pragma once
// The live side of the dashboard: runs a LiveFeed on its own thread, folds its batches into a
// bounded window (the last `maxBuckets` timeline buckets, the last `maxEvents` resilience events)
// plus running totals, and publishes a RunData snapshot the views draw like a simulator run.
//
// A gateway restart restarts its bucket clock at 0; the model shifts the new buckets so the
// window's time axis keeps going forward (a restart shows as a jump, not as a rewind).
//
// Threading: a LiveModel and its snapshots belong to the GUI thread; only the feed runs on the
// worker thread, and its batches arrive by queued signal. Memory is bounded by the two limits.

#include <QObject>
#include <QString>
#include <QThread>
#include <deque>
#include <map>
#include <memory>

#include "gui/model/live_feed.hpp"
#include "gui/model/run_data.hpp"

namespace gatelab::gui {

struct LivePolicyTotals {
  double allowed = 0;
  double delayed = 0;
  double rejected = 0;
};

class LiveModel : public QObject {
  Q_OBJECT
 public:
  explicit LiveModel(std::size_t maxBuckets = 3600, std::size_t maxEvents = 10'000, QObject* parent = nullptr);
  ~LiveModel() override;

  /// Starts following `url` (see eventStreamUrl), replacing any previous feed; clears the window.
  void follow(const QString& url);
  void stop();
  [[nodiscard]] bool following() const { return feed_ != nullptr; }
  [[nodiscard]] QString url() const { return url_; }

  // Totals since follow() (not bounded by the window).
  [[nodiscard]] double totalRequests() const { return totalRequests_; }
  [[nodiscard]] std::size_t bucketsReceived() const { return bucketsReceived_; }
  [[nodiscard]] std::size_t eventsReceived() const { return eventsReceived_; }
  [[nodiscard]] std::size_t eventsDropped() const { return eventsDropped_; }
  [[nodiscard]] std::size_t malformed() const { return malformed_; }
  [[nodiscard]] QString firstMalformed() const { return firstMalformed_; }
  [[nodiscard]] std::size_t batchesReceived() const { return batches_; }
  [[nodiscard]] std::size_t restartsSeen() const { return restarts_; }
  /// Per policy ("route/name"): decisions since follow().
  [[nodiscard]] const std::map<QString, LivePolicyTotals>& policyTotals() const { return policyTotals_; }
  [[nodiscard]] LiveState state() const { return state_; }
  [[nodiscard]] QString stateDetail() const { return stateDetail_; }

  /// The window as a one-variant run ("live"); rebuilt at most once per batch. O(window).
  [[nodiscard]] std::shared_ptr<const RunData> snapshot();

 signals:
  /// After each batch was folded in (at most every batch interval).
  void updated();
  void stateChanged(gatelab::gui::LiveState state, QString detail);

 private:
  void onBatch(const LiveBatch& batch);

  std::size_t maxBuckets_;
  std::size_t maxEvents_;
  QString url_;
  QThread thread_;
  LiveFeed* feed_ = nullptr;
  /// Everything follow() starts afresh.
  struct Window {
    Timeline timeline;
    std::deque<ResilienceEvent> events;
    double offsetMs = 0;
    double lastEndMs = 0;
  } window_;
  double totalRequests_ = 0;
  std::size_t bucketsReceived_ = 0;
  std::size_t eventsReceived_ = 0;
  std::size_t eventsDropped_ = 0;
  std::size_t malformed_ = 0;
  std::size_t batches_ = 0;
  std::size_t restarts_ = 0;
  QString firstMalformed_;
  std::map<QString, LivePolicyTotals> policyTotals_;
  LiveState state_ = LiveState::kStopped;
  QString stateDetail_;
  std::shared_ptr<const RunData> snapshot_;
};

}  // namespace gatelab::gui
