// Dashboard speed, measured whole (docs/performance.md, "Dashboard"):
//  1. a synthetic 24 h run at 1 s resolution (86,400 timeline.ndjson lines in the simulator's
//     shape, two policies, two breakers, three backends): parse alone, and open -> first paint of
//     the overview in a real MainWindow (offscreen), median of 3;
//  2. a synthetic live feed of 5,000 resilience events/s (plus a timeline bucket every second)
//     served by a local QTcpServer on its own thread: how late a 10 ms GUI timer fires while the
//     window follows it, against the same timer with no feed.
//
//   dashboard_bench [--seconds-live N]   (prints a Markdown table)
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "gui/app/main_window.hpp"
#include "gui/model/downsample.hpp"
#include "gui/model/run_loader.hpp"

using namespace gatelab::gui;

namespace {

constexpr int kBuckets = 86'400;

QByteArray bucketLine(int i, std::mt19937& rng, bool outage) {
  std::uniform_int_distribution<int> load(80, 140);
  const int requests = load(rng);
  const int rejected = requests / 5 + static_cast<int>(rng() % 7);
  const int rejected2 = static_cast<int>(rng() % 4);
  const double p50 = 10.0 + static_cast<double>(rng() % 1000) / 100.0;
  const char* state = outage ? "open" : "closed";
  return QStringLiteral(
             "{\"backends\":[{\"busy\":%1,\"queued\":0,\"servers\":16,\"service\":\"api\",\"target\":\"http://"
             "10.0.0.11:8080\"},"
             "{\"busy\":%2,\"queued\":0,\"servers\":16,\"service\":\"api\",\"target\":\"http://10.0.0.12:8080\"},"
             "{\"busy\":0,\"queued\":0,\"servers\":8,\"service\":\"static\",\"target\":\"http://10.0.0.21:8080\"}],"
             "\"breaker_opens\":0,\"breakers\":[{\"service\":\"api\",\"state\":\"%3\",\"target\":\"\"},"
             "{\"service\":\"static\",\"state\":\"closed\",\"target\":\"\"}],\"ejections\":0,\"end_ms\":%4.0,\"index\":"
             "%5,"
             "\"latency\":{\"max_ms\":%6,\"p50_ms\":%7,\"p90_ms\":%8,\"p99_ms\":%9},")
             .arg(rng() % 16)
             .arg(rng() % 16)
             .arg(QLatin1String(state))
             .arg((i + 1) * 1000)
             .arg(i)
             .arg(p50 * 12, 0, 'f', 3)
             .arg(p50, 0, 'f', 3)
             .arg(p50 * 3, 0, 'f', 3)
             .arg(p50 * 9, 0, 'f', 3)
             .toUtf8() +
         QStringLiteral(
             "\"outcomes\":{\"bad_request\":0,\"breaker_open\":%1,\"connect_failure\":0,\"no_target\":0,\"not_found\":"
             "0,"
             "\"rate_limited\":%2,\"reset\":0,\"timeout\":0,\"upstream\":%3},\"policies\":[{\"allowed\":%4,\"delayed\":"
             "0,"
             "\"name\":\"per-client\",\"rejected\":%5,\"route\":\"api\"},{\"allowed\":%6,\"delayed\":0,\"name\":"
             "\"global\","
             "\"rejected\":%7,\"route\":\"api\"}],\"requests\":%8,\"retries\":0,\"start_ms\":%9.0,")
             .arg(outage ? requests - rejected : 0)
             .arg(rejected + rejected2)
             .arg(outage ? 0 : requests - rejected - rejected2)
             .arg(requests - rejected)
             .arg(rejected)
             .arg(requests - rejected - rejected2)
             .arg(rejected2)
             .arg(requests)
             .arg(i * 1000)
             .toUtf8() +
         QStringLiteral(
             "\"status\":{\"1xx\":0,\"2xx\":%1,\"3xx\":0,\"4xx\":%2,\"5xx\":0,\"other\":0},\"tries\":%1,\"try_"
             "failures\":0}\n")
             .arg(requests - rejected - rejected2)
             .arg(rejected + rejected2)
             .toUtf8();
}

/// DIR/day/{report.json,timeline.ndjson}: a 24 h run with an outage every 2 hours.
QString writeDay(const QString& dir) {
  const QString variant = dir + QStringLiteral("/day");
  QDir().mkpath(variant);
  std::mt19937 rng(42);
  QFile timeline(variant + QStringLiteral("/timeline.ndjson"));
  if (!timeline.open(QIODevice::WriteOnly)) return {};
  QByteArray events = "[";
  QByteArray windows = "[";
  for (int i = 0; i < kBuckets; ++i) {
    const bool outage = i % 7200 >= 3600 && i % 7200 < 3660;
    timeline.write(bucketLine(i, rng, outage));
    if (i % 7200 == 3600) {
      if (windows.size() > 1) windows += ',';
      windows +=
          QStringLiteral("{\"end_ms\":%1.0,\"service\":\"api\",\"start_ms\":%2.0,\"target\":\"\",\"what\":\"down\"}")
              .arg((i + 60) * 1000)
              .arg(i * 1000)
              .toUtf8();
      if (events.size() > 1) events += ',';
      events +=
          QStringLiteral(
              "{\"at_ms\":%1.5,\"dry_run\":false,\"duration_ms\":60000.0,\"from\":\"closed\",\"kind\":\"breaker\","
              "\"reason\":\"failure rate 50%% (10/20) >= 50%% over the last 20 calls\",\"service\":\"api\","
              "\"target\":\"\",\"to\":\"open\"},{\"at_ms\":%2.5,\"dry_run\":false,\"duration_ms\":0.0,\"from\":"
              "\"open\","
              "\"kind\":\"breaker\",\"reason\":\"3 of 3 required probe calls succeeded\",\"service\":\"api\","
              "\"target\":\"\",\"to\":\"closed\"}")
              .arg(i * 1000)
              .arg((i + 60) * 1000)
              .toUtf8();
    }
  }
  QFile report(variant + QStringLiteral("/report.json"));
  if (!report.open(QIODevice::WriteOnly)) return {};
  report.write("{\"scenario\":\"synthetic-24h\",\"variant\":\"day\",\"seed\":1,\"failure_windows\":" + windows +
               "],\"checks\":[],\"metrics\":{\"breaker_opens\":12,\"ejections\":0,\"dropped_events\":0,"
               "\"overall\":{\"requests\":9504000,\"errors\":0,\"error_rate\":0.0,\"latency\":{\"p50_ms\":15.0,\"p99_"
               "ms\":140.0}},"
               "\"policies\":[],\"clients\":{\"count\":0,\"top\":[]},\"events\":" +
               events + "]}}\n");
  return dir;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Serves GET /admin/events as SSE: 50 resilience events every 10 ms (5,000/s) and a timeline
/// bucket every second, on the thread it is created on.
class FeedServer : public QObject {
 public:
  FeedServer() {
    server_.listen(QHostAddress::LocalHost, 0);
    connect(&server_, &QTcpServer::newConnection, this, [this] {
      while (QTcpSocket* s = server_.nextPendingConnection()) {
        connect(s, &QTcpSocket::readyRead, s, [this, s] {
          s->readAll();
          if (clients_.contains(s)) return;
          s->write(
              "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n: synthetic\n\n");
          clients_.append(s);
        });
        connect(s, &QTcpSocket::disconnected, s, [this, s] {
          clients_.removeAll(s);
          s->deleteLater();
        });
      }
    });
    tick_.setTimerType(Qt::PreciseTimer);
    connect(&tick_, &QTimer::timeout, this, [this] { emitEvents(); });
    tick_.start(10);
    clock_.start();
  }
  [[nodiscard]] quint16 port() const { return server_.serverPort(); }
  [[nodiscard]] qint64 sent() const { return sent_; }

 private:
  void emitEvents() {
    // Keep the rate exact even when a tick is late: send what the elapsed time is owed.
    const qint64 due = clock_.elapsed() * 5;  // 5 per ms
    QByteArray batch;
    static const char* const targets[] = {"http://10.0.0.11:8080", "http://10.0.0.12:8080", "http://10.0.0.13:8080",
                                          "http://10.0.0.14:8080"};
    for (; sent_ < due; ++sent_) {
      const bool eject = sent_ % 2 == 0;
      batch +=
          QStringLiteral(
              "event: resilience\ndata: {\"at_ms\":%1,\"dry_run\":false,\"duration_ms\":%2,\"from\":\"\","
              "\"kind\":\"%3\",\"reason\":\"5 consecutive 5xx\",\"service\":\"api\",\"target\":\"%4\",\"to\":\"\"}\n\n")
              .arg(static_cast<double>(sent_) / 5.0, 0, 'f', 3)
              .arg(eject ? 30000.0 : 0.0)
              .arg(eject ? QStringLiteral("ejection") : QStringLiteral("return"))
              .arg(QLatin1String(targets[(sent_ / 2) % 4]))
              .toUtf8();
    }
    const qint64 second = clock_.elapsed() / 1000;
    std::mt19937 rng(static_cast<unsigned>(second));
    for (; bucket_ < second; ++bucket_)
      batch += "event: timeline\ndata: " + bucketLine(static_cast<int>(bucket_), rng, false) + "\n";
    for (QTcpSocket* c : clients_) c->write(batch);
  }

  QTcpServer server_;
  QTimer tick_;
  QElapsedTimer clock_;
  QList<QTcpSocket*> clients_;
  qint64 sent_ = 0;
  qint64 bucket_ = 0;
};

struct Lateness {
  double maxMs = 0;
  double p99Ms = 0;
  double meanMs = 0;
};

/// Runs the GUI event loop for `seconds` with a 10 ms timer and measures how late it fires.
Lateness measureTimer(double seconds) {
  std::vector<double> late;
  QElapsedTimer clock;
  clock.start();
  qint64 last = clock.nsecsElapsed();
  QTimer timer;
  timer.setTimerType(Qt::PreciseTimer);
  QEventLoop loop;
  QObject::connect(&timer, &QTimer::timeout, [&] {
    const qint64 now = clock.nsecsElapsed();
    late.push_back(std::max(0.0, static_cast<double>(now - last) / 1e6 - 10.0));
    last = now;
    if (static_cast<double>(now) / 1e9 >= seconds) loop.quit();
  });
  timer.start(10);
  loop.exec();
  Lateness r;
  std::sort(late.begin(), late.end());
  r.maxMs = late.back();
  r.p99Ms = late[late.size() * 99 / 100];
  double sum = 0;
  for (double l : late) sum += l;
  r.meanMs = sum / static_cast<double>(late.size());
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  double liveSeconds = 10;
  for (int i = 1; i + 1 < argc; ++i)
    if (QByteArray(argv[i]) == "--seconds-live") liveSeconds = QByteArray(argv[i + 1]).toDouble();

  QTemporaryDir tmp;
  QElapsedTimer t;
  t.start();
  const QString run = writeDay(tmp.path());
  const double generateMs = static_cast<double>(t.elapsed());
  const qint64 bytes = QFileInfo(run + QStringLiteral("/day/timeline.ndjson")).size();

  // Parse alone (the worker thread's part).
  std::vector<double> parse;
  std::shared_ptr<RunData> data;
  for (int i = 0; i < 3; ++i) {
    t.restart();
    LoadResult r = loadRun(run);
    parse.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
    if (!r.run) {
      std::fprintf(stderr, "%s\n", qPrintable(r.error));
      return 1;
    }
    data = r.run;
  }
  // Downsampling one series of 86,400 points to 1,200 columns.
  const Timeline& tl = data->variants[0].timeline;
  t.restart();
  qsizetype points = 0;
  for (int i = 0; i < 100; ++i) points += downsampleMinMax(tl.startS, tl.requests, 0, kBuckets, 1200).size();
  const double downsampleUs = static_cast<double>(t.nsecsElapsed()) / 1e3 / 100;

  // Open -> first paint in the real window.
  std::vector<double> firstPaint;
  for (int i = 0; i < 3; ++i) {
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    QApplication::processEvents();
    QEventLoop loop;
    QObject::connect(&window, &MainWindow::runLoaded, &loop, [&loop] { loop.quit(); });
    t.restart();
    window.openRun(run);
    loop.exec();
    (void)window.grab();  // paints every visible widget of the overview now
    firstPaint.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
  }

  // GUI timer lateness: idle, then following 5,000 events/s.
  MainWindow window;
  window.resize(1400, 900);
  window.show();
  const Lateness idle = measureTimer(std::min(liveSeconds, 5.0));

  // The feed runs on its own thread, as a gateway would in its own process.
  QThread serverThread;
  QObject serverContext;
  serverContext.moveToThread(&serverThread);
  serverThread.start();
  FeedServer* server = nullptr;
  QMetaObject::invokeMethod(
      &serverContext, [&server] { server = new FeedServer; }, Qt::BlockingQueuedConnection);
  window.showView(QStringLiteral("breakers"));  // the busiest view under resilience events
  window.followLive(QStringLiteral("http://127.0.0.1:%1").arg(server->port()));
  const Lateness live = measureTimer(liveSeconds);
  const std::size_t received = window.live().eventsReceived();
  const std::size_t dropped = window.live().eventsDropped();
  const std::size_t batches = window.live().batchesReceived();
  window.live().stop();
  QMetaObject::invokeMethod(
      &serverContext, [&server] { delete server; }, Qt::BlockingQueuedConnection);
  serverThread.quit();
  serverThread.wait();

  std::printf("| measurement | value |\n|---|---|\n");
  std::printf("| synthetic timeline | %d lines, %.1f MB (generated in %.0f ms) |\n", kBuckets,
              static_cast<double>(bytes) / 1e6, generateMs);
  std::printf("| parse report + timeline (loadRun), median of 3 | %.0f ms |\n", median(parse));
  std::printf("| downsample 86,400 points to 1,200 columns | %.0f us (%lld points) |\n", downsampleUs,
              static_cast<long long>(points / 100));
  std::printf("| open -> first paint of the overview, median of 3 | %.0f ms (runs: %.0f, %.0f, %.0f) |\n",
              median(firstPaint), firstPaint[0], firstPaint[1], firstPaint[2]);
  std::printf("| 10 ms GUI timer lateness, idle window | mean %.2f ms, p99 %.2f ms, max %.2f ms |\n", idle.meanMs,
              idle.p99Ms, idle.maxMs);
  std::printf(
      "| 10 ms GUI timer lateness, following 5,000 events/s for %.0f s | mean %.2f ms, p99 %.2f ms, max %.2f ms |\n",
      liveSeconds, live.meanMs, live.p99Ms, live.maxMs);
  std::printf("| events received / dropped, batches | %zu / %zu (%.0f events/s), %zu batches |\n", received, dropped,
              static_cast<double>(received) / liveSeconds, batches);
  return 0;
}
