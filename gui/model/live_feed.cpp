#include "gui/model/live_feed.hpp"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>
#include <algorithm>
#include <utility>

#include "gui/model/output_json.hpp"

namespace gatelab::gui {

namespace {
constexpr std::chrono::milliseconds kFirstBackoff{250};
constexpr std::chrono::milliseconds kMaxBackoff{8000};
}  // namespace

QUrl eventStreamUrl(const QString& text) {
  QString t = text.trimmed();
  if (!t.contains(QStringLiteral("://"))) t.prepend(QStringLiteral("http://"));
  QUrl url(t);
  if (url.path().isEmpty() || url.path() == QStringLiteral("/")) url.setPath(QStringLiteral("/admin/events"));
  return url;
}

LiveFeed::LiveFeed(QUrl url, std::chrono::milliseconds batchInterval, std::size_t maxPending)
    : url_(std::move(url)), batchInterval_(batchInterval), maxPending_(maxPending) {
  qRegisterMetaType<LiveBatch>();
  qRegisterMetaType<LiveState>();
}

LiveFeed::~LiveFeed() { stop(); }

void LiveFeed::start() {
  if (!stopped_) return;
  stopped_ = false;
  // Created here, not in the constructor: they must belong to the thread the feed runs on.
  if (!network_) {
    network_ = new QNetworkAccessManager(this);
    flushTimer_ = new QTimer(this);
    flushTimer_->setInterval(batchInterval_);
    connect(flushTimer_, &QTimer::timeout, this, &LiveFeed::flush);
    retryTimer_ = new QTimer(this);
    retryTimer_->setSingleShot(true);
    connect(retryTimer_, &QTimer::timeout, this, &LiveFeed::connectNow);
  }
  flushTimer_->start();
  backoff_ = kFirstBackoff;
  connectNow();
}

void LiveFeed::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (retryTimer_) retryTimer_->stop();
  if (flushTimer_) flushTimer_->stop();
  if (reply_) {
    QNetworkReply* reply = reply_;
    reply_ = nullptr;
    reply->disconnect(this);
    reply->abort();
    reply->deleteLater();
  }
  flush();
  emit stateChanged(LiveState::kStopped, QStringLiteral("stopped"));
}

void LiveFeed::connectNow() {
  if (stopped_) return;
  parser_.reset();
  receivedSinceConnect_ = false;
  QNetworkRequest request(url_);
  request.setRawHeader("Accept", "text/event-stream");
  request.setRawHeader("Cache-Control", "no-cache");
  // A stream never ends: no transfer timeout; a dead peer is noticed when the gateway closes.
  request.setTransferTimeout(0);
  request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
  reply_ = network_->get(request);
  // Keep the socket's buffer small so back-pressure reaches the gateway (it cuts slow readers).
  reply_->setReadBufferSize(1 << 20);
  connect(reply_, &QNetworkReply::readyRead, this, &LiveFeed::onReadyRead);
  connect(reply_, &QNetworkReply::finished, this, &LiveFeed::onFinished);
  emit stateChanged(LiveState::kConnecting, url_.toString());
}

void LiveFeed::onReadyRead() {
  if (!reply_) return;
  if (!receivedSinceConnect_) {
    const int status = reply_->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 200) return;  // finished() reports it
    receivedSinceConnect_ = true;
    backoff_ = kFirstBackoff;
    emit stateChanged(LiveState::kConnected, url_.toString());
  }
  const QByteArray bytes = reply_->readAll();
  parsed_.clear();
  parser_.feed(bytes, parsed_);
  for (const SseEvent& e : parsed_) handle(e);
}

void LiveFeed::handle(const SseEvent& event) {
  const bool timeline = event.type == "timeline";
  if (!timeline && event.type != "resilience") return;  // other event types: not ours to show
  QString error;
  if (timeline) {
    Bucket bucket;
    if (parseBucket(event.data, scratch_, bucket, error)) pending_.buckets.push_back(std::move(bucket));
  } else {
    readEvent(event.data, error);
  }
  if (!error.isEmpty()) {
    if (pending_.malformed++ == 0)
      pending_.firstMalformed = QString::fromLatin1(event.type) + QStringLiteral(" event: ") + error;
  }
  // Bounded: a receiver that falls behind loses the oldest resilience events, never memory.
  if (pending_.events.size() > maxPending_) {
    const std::size_t excess = pending_.events.size() - maxPending_;
    pending_.events.erase(pending_.events.begin(), pending_.events.begin() + static_cast<std::ptrdiff_t>(excess));
    pending_.dropped += excess;
  }
}

void LiveFeed::readEvent(const QByteArray& data, QString& error) {
  QJsonParseError parseError{};
  const QJsonDocument doc = QJsonDocument::fromJson(data, &parseError);
  if (parseError.error != QJsonParseError::NoError) {
    error = QStringLiteral("invalid JSON: ") + parseError.errorString();
  } else if (!doc.isObject()) {
    error = QStringLiteral("expected a JSON object");
  } else {
    ResilienceEvent e;
    if (readResilienceEvent(doc.object(), e, error)) pending_.events.push_back(std::move(e));
  }
}

void LiveFeed::onFinished() {
  QNetworkReply* reply = reply_;
  reply_ = nullptr;
  if (!reply) return;
  QString why;
  const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  if (reply->error() != QNetworkReply::NoError)
    why = reply->errorString();
  else if (status != 200)
    why = QStringLiteral("HTTP %1").arg(status);
  else
    why = QStringLiteral("the stream ended");
  reply->deleteLater();
  flush();
  if (stopped_) return;
  emit stateChanged(
      LiveState::kWaitingToReconnect,
      QStringLiteral("%1; reconnecting in %2 s").arg(why).arg(static_cast<double>(backoff_.count()) / 1000.0));
  retryTimer_->start(backoff_);
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

void LiveFeed::flush() {
  if (pending_.buckets.empty() && pending_.events.empty() && pending_.malformed == 0 && pending_.dropped == 0) return;
  emit batchReady(std::exchange(pending_, LiveBatch{}));
}

}  // namespace gatelab::gui
