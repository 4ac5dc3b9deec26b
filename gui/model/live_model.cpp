#include "gui/model/live_model.hpp"

#include <QMetaObject>

namespace gatelab::gui {

LiveModel::LiveModel(std::size_t maxBuckets, std::size_t maxEvents, QObject* parent)
    : QObject(parent), maxBuckets_(maxBuckets), maxEvents_(maxEvents) {
  thread_.setObjectName(QStringLiteral("gatelab-live-feed"));
}

LiveModel::~LiveModel() {
  stop();
  thread_.quit();
  thread_.wait();
}

void LiveModel::follow(const QString& url) {
  stop();
  url_ = eventStreamUrl(url).toString();
  window_ = Window{};
  totalRequests_ = 0;
  bucketsReceived_ = eventsReceived_ = eventsDropped_ = malformed_ = batches_ = restarts_ = 0;
  firstMalformed_.clear();
  policyTotals_.clear();
  snapshot_.reset();
  if (!thread_.isRunning()) thread_.start();
  feed_ = new LiveFeed(QUrl(url_));
  feed_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, feed_, &QObject::deleteLater);
  connect(feed_, &LiveFeed::batchReady, this, &LiveModel::onBatch, Qt::QueuedConnection);
  connect(
      feed_, &LiveFeed::stateChanged, this,
      [this](LiveState state, const QString& detail) {
        state_ = state;
        stateDetail_ = detail;
        emit stateChanged(state, detail);
      },
      Qt::QueuedConnection);
  QMetaObject::invokeMethod(feed_, &LiveFeed::start, Qt::QueuedConnection);
}

void LiveModel::stop() {
  if (!feed_) return;
  LiveFeed* feed = feed_;
  feed_ = nullptr;
  feed->disconnect(this);
  // stop() and deletion run on the feed's own thread, where its sockets live; wait for them so a
  // following follow() never overlaps with the old connection.
  QMetaObject::invokeMethod(
      feed,
      [feed] {
        feed->stop();
        delete feed;
      },
      Qt::BlockingQueuedConnection);
  state_ = LiveState::kStopped;
  stateDetail_ = QStringLiteral("stopped");
  emit stateChanged(state_, stateDetail_);
}

void LiveModel::onBatch(const LiveBatch& batch) {
  ++batches_;
  for (const Bucket& b : batch.buckets) {
    // A restarted gateway counts from 0 again: continue the window's axis where it stopped.
    if (b.startMs + window_.offsetMs < window_.lastEndMs - 1e-6) {
      window_.offsetMs = window_.lastEndMs - b.startMs;
      ++restarts_;
    }
    window_.timeline.append(b, window_.offsetMs);
    window_.lastEndMs = b.endMs + window_.offsetMs;
    totalRequests_ += b.requests;
    for (const BucketPolicy& p : b.policies) {
      LivePolicyTotals& t = policyTotals_[p.route + QLatin1Char('/') + p.name];
      t.allowed += p.allowed;
      t.delayed += p.delayed;
      t.rejected += p.rejected;
    }
  }
  bucketsReceived_ += batch.buckets.size();
  if (window_.timeline.size() > maxBuckets_) window_.timeline.dropFront(window_.timeline.size() - maxBuckets_);
  for (ResilienceEvent e : batch.events) {
    e.atMs += window_.offsetMs;
    window_.events.push_back(std::move(e));
  }
  while (window_.events.size() > maxEvents_) window_.events.pop_front();
  eventsReceived_ += batch.events.size();
  eventsDropped_ += batch.dropped;
  if (malformed_ == 0 && batch.malformed > 0) firstMalformed_ = batch.firstMalformed;
  malformed_ += batch.malformed;
  snapshot_.reset();
  emit updated();
}

std::shared_ptr<const RunData> LiveModel::snapshot() {
  if (snapshot_) return snapshot_;
  auto run = std::make_shared<RunData>();
  run->source = url_;
  run->live = true;
  VariantData v;
  v.name = QStringLiteral("live");
  v.timeline = window_.timeline;
  v.report.variant = v.name;
  v.report.requests = totalRequests_;
  v.report.events.assign(window_.events.begin(), window_.events.end());
  for (const ResilienceEvent& e : window_.events) {
    if (e.kind == u"breaker" && e.to == u"open") v.report.breakerOpens += 1;
    if (e.kind == u"ejection") v.report.ejections += 1;
  }
  for (const auto& [label, t] : policyTotals_) {
    PolicySummary p;
    p.route = label.section(QLatin1Char('/'), 0, 0);
    p.name = label.section(QLatin1Char('/'), 1);
    p.allowed = t.allowed;
    p.delayed = t.delayed;
    p.rejected = t.rejected;
    p.decisions = t.allowed + t.delayed + t.rejected;
    v.report.policies.push_back(std::move(p));
  }
  run->variants.push_back(std::move(v));
  snapshot_ = run;
  return snapshot_;
}

}  // namespace gatelab::gui
