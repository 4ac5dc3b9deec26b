// The dashboard following a real gateway: `gatelab serve` runs as a child process on loopback
// (listen and admin on 127.0.0.1), requests go through it to an in-test upstream, and the window's
// live model must count exactly what was sent, per rate-limit decision. Killing and restarting
// the gateway on the same admin port must be followed by a reconnect, with counting going on.
// Waits are bounded (QTRY_*), never sleeps.
#include <QImage>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

#include "gui/app/main_window.hpp"

using namespace gatelab::gui;

namespace {

/// An HTTP/1.1 upstream on 127.0.0.1:0 that answers every request "200 ok" (keep-alive).
class Upstream : public QObject {
 public:
  Upstream() {
    server_.listen(QHostAddress::LocalHost, 0);
    connect(&server_, &QTcpServer::newConnection, this, [this] {
      while (QTcpSocket* s = server_.nextPendingConnection()) {
        connect(s, &QTcpSocket::readyRead, s, [s] {
          QByteArray& pending = buffers()[s];
          pending += s->readAll();
          // Requests without bodies: each ends at the blank line.
          for (qsizetype end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
            pending.remove(0, end + 4);
            s->write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");
          }
        });
        connect(s, &QTcpSocket::disconnected, s, [s] {
          buffers().remove(s);
          s->deleteLater();
        });
      }
    });
  }
  [[nodiscard]] quint16 port() const { return server_.serverPort(); }

 private:
  static QHash<QTcpSocket*, QByteArray>& buffers() {
    static QHash<QTcpSocket*, QByteArray> b;
    return b;
  }
  QTcpServer server_;
};

/// A loopback port free right now (bound and released), for an admin address that must survive a
/// gateway restart.
quint16 freePort() {
  QTcpServer s;
  s.listen(QHostAddress::LocalHost, 0);
  return s.serverPort();
}

/// `gatelab serve CONFIG` with its stderr collected; knows its ports once it says them.
class Gateway {
 public:
  explicit Gateway(const QString& config) {
    process_.setProcessChannelMode(QProcess::SeparateChannels);
    process_.start(QStringLiteral(GATELAB_BIN),
                   {QStringLiteral("serve"), config, QStringLiteral("--threads"), QStringLiteral("1")});
  }
  ~Gateway() {
    process_.kill();
    process_.waitForFinished(5000);
  }
  /// Reads stderr until the "serving ... on H:P, admin on H:P" line (bounded by the caller's QTRY).
  bool ready() {
    stderr_ += QString::fromUtf8(process_.readAllStandardError());
    static const QRegularExpression re(QStringLiteral(R"(on 127\.0\.0\.1:(\d+), admin on 127\.0\.0\.1:(\d+))"));
    const auto m = re.match(stderr_);
    if (!m.hasMatch()) return false;
    port_ = m.captured(1).toUShort();
    admin_ = m.captured(2).toUShort();
    return true;
  }
  void kill() {
    process_.kill();
    process_.waitForFinished(5000);
  }
  [[nodiscard]] quint16 port() const { return port_; }
  [[nodiscard]] quint16 admin() const { return admin_; }
  [[nodiscard]] QString output() const { return stderr_; }

 private:
  QProcess process_;
  QString stderr_;
  quint16 port_ = 0;
  quint16 admin_ = 0;
};

}  // namespace

class LiveTest : public QObject {
  Q_OBJECT

 private slots:
  void countsWhatTheGatewayServedAndFollowsARestart() {
    Upstream upstream;
    const quint16 adminPort = freePort();
    QTemporaryDir dir;
    const QString config = dir.filePath(QStringLiteral("gateway.yaml"));
    {
      QFile f(config);
      QVERIFY(f.open(QIODevice::WriteOnly));
      // 10 requests per minute per client: of 25 requests, 10 are allowed and 15 rejected.
      f.write(QStringLiteral("version: 1\nlisten: 127.0.0.1:0\nadmin: 127.0.0.1:%1\nservices:\n"
                             "  - name: app\n    targets: [http://127.0.0.1:%2]\nroutes:\n"
                             "  - name: all\n    match: { path_prefix: / }\n    service: app\n    policies:\n"
                             "      - rate_limit: { name: per-ip, algorithm: fixed_window, limit: 10/min, key: ip }\n")
                  .arg(adminPort)
                  .arg(upstream.port())
                  .toUtf8());
    }
    auto gateway = std::make_unique<Gateway>(config);
    QTRY_VERIFY_WITH_TIMEOUT(gateway->ready(), 15'000);

    MainWindow window;
    window.resize(1000, 700);
    window.show();
    QSignalSpy states(&window.live(), &LiveModel::stateChanged);
    window.followLive(QStringLiteral("http://127.0.0.1:%1").arg(gateway->admin()));
    QTRY_COMPARE_WITH_TIMEOUT(window.live().state(), LiveState::kConnected, 10'000);

    QNetworkAccessManager client;
    const auto send = [&](int n, quint16 port) {
      int done = 0;
      for (int i = 0; i < n; ++i) {
        QNetworkReply* r =
            client.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/item/%2").arg(port).arg(i))));
        connect(r, &QNetworkReply::finished, r, [r, &done] {
          ++done;
          r->deleteLater();
        });
      }
      QTRY_COMPARE_WITH_TIMEOUT(done, n, 15'000);
    };
    send(25, gateway->port());

    // Buckets close every second on the gateway: the counts arrive within a few.
    QTRY_COMPARE_WITH_TIMEOUT(window.live().totalRequests(), 25.0, 15'000);
    const auto& totals = window.live().policyTotals();
    QVERIFY2(totals.count(QStringLiteral("all/per-ip")) == 1, "policy all/per-ip not seen");
    QCOMPARE(totals.at(QStringLiteral("all/per-ip")).allowed, 10.0);
    QCOMPARE(totals.at(QStringLiteral("all/per-ip")).rejected, 15.0);
    // The window shows the same numbers (the snapshot the views draw).
    QVERIFY(window.run() && window.run()->live);
    const Timeline& tl = window.run()->variants.at(0).timeline;
    QCOMPARE(std::accumulate(tl.requests.begin(), tl.requests.end(), 0.0), 25.0);
    QCOMPARE(std::accumulate(tl.policies.at(0).rejected.begin(), tl.policies.at(0).rejected.end(), 0.0), 15.0);
    QCOMPARE(std::accumulate(tl.rateLimited.begin(), tl.rateLimited.end(), 0.0), 15.0);

    // The command line renders the same stream headless (--screenshot --live).
    {
      const QString png = dir.filePath(QStringLiteral("live.png"));
      QProcess shot;
      shot.start(QStringLiteral(GATELAB_DASHBOARD_BIN),
                 {QStringLiteral("--screenshot"), png, QStringLiteral("--live"),
                  QStringLiteral("http://127.0.0.1:%1").arg(gateway->admin()), QStringLiteral("--wait"),
                  QStringLiteral("2.5"), QStringLiteral("--size"), QStringLiteral("800x600")});
      QVERIFY(shot.waitForFinished(30'000));
      QVERIFY2(shot.exitStatus() == QProcess::NormalExit && shot.exitCode() == 0, shot.readAllStandardError().constData());
      const QImage image(png);
      QCOMPARE(image.size(), QSize(800, 600));
    }

    // The gateway dies and comes back on the same admin port: the dashboard reconnects by itself.
    gateway->kill();
    QTRY_COMPARE_WITH_TIMEOUT(window.live().state(), LiveState::kWaitingToReconnect, 10'000);
    gateway = std::make_unique<Gateway>(config);
    QTRY_VERIFY_WITH_TIMEOUT(gateway->ready(), 15'000);
    QTRY_COMPARE_WITH_TIMEOUT(window.live().state(), LiveState::kConnected, 20'000);
    send(5, gateway->port());
    QTRY_COMPARE_WITH_TIMEOUT(window.live().totalRequests(), 30.0, 15'000);
    QTRY_VERIFY_WITH_TIMEOUT(window.live().restartsSeen() >= 1, 5'000);
    QVERIFY(window.statusText().startsWith(QStringLiteral("live:")));
  }
};

QTEST_MAIN(LiveTest)
#include "live_test.moc"
