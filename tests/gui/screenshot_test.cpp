// `gatelab-dashboard --screenshot` end to end: on a real compare run every view renders to a PNG
// that is not blank (many colours, much non-background), and bad input exits 1 (usage 2) with a
// message instead of crashing.
#include <QImage>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/gui/run_fixture.hpp"

namespace {

struct Outcome {
  int exitCode = -1;
  bool crashed = true;
  QString stderrText;
};

Outcome dashboard(const QStringList& args) {
  QProcess p;
  p.start(QStringLiteral(GATELAB_DASHBOARD_BIN), args);
  Outcome o;
  if (!p.waitForFinished(60'000)) return o;
  o.crashed = p.exitStatus() != QProcess::NormalExit;
  o.exitCode = p.exitCode();
  o.stderrText = QString::fromUtf8(p.readAllStandardError());
  return o;
}

}  // namespace

class ScreenshotTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QVERIFY(run_.isValid());
    const QString error = gatelab::gui::testing::runGatelab(
        QStringLiteral("compare"), QStringLiteral("scenarios/compare-limiters.yaml"), run_.path());
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const QString error2 = gatelab::gui::testing::runGatelab(
        QStringLiteral("sim"), QStringLiteral("scenarios/backend-outage.yaml"), outage_.path());
    QVERIFY2(error2.isEmpty(), qPrintable(error2));
  }

  void rendersEveryViewNotBlank_data() {
    QTest::addColumn<QString>("view");
    QTest::addColumn<bool>("outage");
    for (const char* v : {"overview", "rate-limits", "breakers", "latency", "variants", "clients"}) {
      QTest::newRow((std::string("compare ") + v).c_str()) << QString::fromLatin1(v) << false;
      QTest::newRow((std::string("outage ") + v).c_str()) << QString::fromLatin1(v) << true;
    }
  }

  void rendersEveryViewNotBlank() {
    QFETCH(QString, view);
    QFETCH(bool, outage);
    const QString file = out_.filePath(view + (outage ? QStringLiteral("-outage.png") : QStringLiteral(".png")));
    const Outcome o =
        dashboard({QStringLiteral("--screenshot"), file, QStringLiteral("--view"), view, QStringLiteral("--size"),
                   QStringLiteral("1200x800"), outage ? outage_.path() : run_.path()});
    QVERIFY2(!o.crashed && o.exitCode == 0, qPrintable(o.stderrText));
    const QImage image(file);
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), QSize(1200, 800));
    // Not blank: the most common colour (the background) covers well under all of it, and charts,
    // text and lanes bring many distinct colours.
    QHash<QRgb, int> counts;
    for (int y = 0; y < image.height(); ++y)
      for (int x = 0; x < image.width(); ++x) ++counts[image.pixel(x, y)];
    int background = 0;
    for (int c : counts) background = std::max(background, c);
    const double other = 1.0 - static_cast<double>(background) / (image.width() * image.height());
    QVERIFY2(counts.size() > 100, qPrintable(QStringLiteral("%1 colours").arg(counts.size())));
    QVERIFY2(other > 0.05, qPrintable(QStringLiteral("%1 non-background").arg(other)));
  }

  void refusesBadInputWithAMessage_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing run") << QStringList{QStringLiteral("--screenshot"), QStringLiteral("x.png"),
                                                QStringLiteral("/nonexistent/run")}
                                 << 1 << "no such file or directory";
    QTest::newRow("unknown view") << QStringList{QStringLiteral("--screenshot"), QStringLiteral("x.png"),
                                                 QStringLiteral("--view"), QStringLiteral("pie"), QStringLiteral(".")}
                                  << 2 << "unknown view \"pie\"";
    QTest::newRow("no run dir") << QStringList{QStringLiteral("--screenshot"), QStringLiteral("x.png")} << 2
                                << "needs a RUN_DIR";
  }

  void refusesBadInputWithAMessage() {
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    for (QString& a : args)
      if (a == u"x.png") a = out_.filePath(a);
    const Outcome o = dashboard(args);
    QVERIFY(!o.crashed);
    QCOMPARE(o.exitCode, exitCode);
    QVERIFY2(o.stderrText.contains(message), qPrintable(o.stderrText));
  }

  // A damaged timeline: exit 1 naming the file and line.
  void refusesATruncatedTimeline() {
    QTemporaryDir tmp;
    const QString dir = tmp.filePath(QStringLiteral("v"));
    QDir().mkpath(dir);
    QFile::copy(outage_.filePath(QStringLiteral("breaker/report.json")), dir + QStringLiteral("/report.json"));
    QFile in(outage_.filePath(QStringLiteral("breaker/timeline.ndjson")));
    QVERIFY(in.open(QIODevice::ReadOnly));
    QByteArray text = in.readAll();
    text.truncate(text.indexOf('\n', text.size() / 2) + 20);  // 20 bytes into a line
    QFile out(dir + QStringLiteral("/timeline.ndjson"));
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(text);
    out.close();
    const Outcome o = dashboard({QStringLiteral("--screenshot"), tmp.filePath(QStringLiteral("x.png")), dir});
    QVERIFY(!o.crashed);
    QCOMPARE(o.exitCode, 1);
    QVERIFY2(
        o.stderrText.contains(QStringLiteral("timeline.ndjson:")) && o.stderrText.contains(QStringLiteral("truncated")),
        qPrintable(o.stderrText));
  }

 private:
  QTemporaryDir run_;
  QTemporaryDir outage_;
  QTemporaryDir out_;
};

QTEST_GUILESS_MAIN(ScreenshotTest)
#include "screenshot_test.moc"
