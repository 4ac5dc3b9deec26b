#pragma once
// Follows a live gateway's event stream (GET /admin/events, docs/operations.md): reads the SSE
// body as it arrives, parses `timeline` buckets and `resilience` events, and hands them over in
// batches at most every `batchInterval` (10 Hz by default), so a feed of thousands of events per
// second costs the receiver one queued signal per batch. When the stream ends or fails (the gateway
// restarted, the network dropped) it reconnects by itself with exponential back-off (0.25 s doubling
// to 8 s; reset once data flows again).
//
// Threading: a LiveFeed lives on the thread that calls start() (LiveModel gives it a worker
// thread); connect to its signals with queued connections. Bounded: at most `maxPending` events
// wait between two batches; beyond that the oldest are dropped and counted.

#include <QByteArray>
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QUrl>
#include <chrono>
#include <cstddef>
#include <vector>

#include "gui/model/json_lite.hpp"
#include "gui/model/run_data.hpp"
#include "gui/model/sse_parser.hpp"

class QNetworkAccessManager;
class QNetworkReply;
class QTimer;

namespace gatelab::gui {

/// What one batch carries (a value: moved across threads in a queued signal).
struct LiveBatch {
  std::vector<Bucket> buckets;
  std::vector<ResilienceEvent> events;
  std::size_t dropped = 0;    // events dropped because the receiver fell behind
  std::size_t malformed = 0;  // events that were not valid JSON of the documented shape
  QString firstMalformed;     // what was wrong with the first of them
};

enum class LiveState { kConnecting, kConnected, kWaitingToReconnect, kStopped };

/// "http://h:p" or "h:p" -> "http://h:p/admin/events"; a URL with a path is kept as given.
QUrl eventStreamUrl(const QString& text);

class LiveFeed : public QObject {
  Q_OBJECT
 public:
  explicit LiveFeed(QUrl url, std::chrono::milliseconds batchInterval = std::chrono::milliseconds(100),
                    std::size_t maxPending = 200'000);
  ~LiveFeed() override;

 public slots:
  void start();
  void stop();

 signals:
  void batchReady(gatelab::gui::LiveBatch batch);
  /// State changes, with a human-readable detail (the error, the retry delay).
  void stateChanged(gatelab::gui::LiveState state, QString detail);

 private:
  void connectNow();
  void onReadyRead();
  void onFinished();
  void flush();
  void handle(const SseEvent& event);
  void readEvent(const QByteArray& data, QString& error);

  QUrl url_;
  std::chrono::milliseconds batchInterval_;
  std::size_t maxPending_;
  QNetworkAccessManager* network_ = nullptr;
  QNetworkReply* reply_ = nullptr;
  QTimer* flushTimer_ = nullptr;
  QTimer* retryTimer_ = nullptr;
  std::chrono::milliseconds backoff_{250};
  SseParser parser_;
  jsonlite::Document scratch_;
  std::vector<SseEvent> parsed_;
  LiveBatch pending_;
  bool stopped_ = true;
  bool receivedSinceConnect_ = false;
};

}  // namespace gatelab::gui

Q_DECLARE_METATYPE(gatelab::gui::LiveBatch)
Q_DECLARE_METATYPE(gatelab::gui::LiveState)
