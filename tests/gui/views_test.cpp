// The window on real simulator output: the tables show the report's numbers, a breaker lane's
// hover text names the transition's reason from report.json, one time-range selection reaches
// every chart, and a compare run gets one rate-limit chart per variant.
#include "gui/app/views.hpp"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "gui/app/main_window.hpp"
#include "gui/app/resilience_timeline.hpp"
#include "gui/app/table_models.hpp"
#include "gui/app/time_chart.hpp"
#include "tests/gui/run_fixture.hpp"

using namespace gatelab::gui;

namespace {

/// Opens `dir` in `window` and waits for it (bounded).
bool open(MainWindow& window, const QString& dir) {
  QSignalSpy loaded(&window, &MainWindow::runLoaded);
  window.openRun(dir);
  if (!loaded.wait(30'000)) return false;
  return loaded.at(0).at(0).toBool();
}

/// The cell's value as the table shows it (through the view's sort proxy, as a user sees it).
QVariant cell(QAbstractItemModel* model, int row, int column, int role = Qt::UserRole) {
  return model->data(model->index(row, column), role);
}

}  // namespace

class ViewsTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QVERIFY(outage_.isValid() && compare_.isValid());
    QString e =
        testing::runGatelab(QStringLiteral("sim"), QStringLiteral("scenarios/backend-outage.yaml"), outage_.path());
    QVERIFY2(e.isEmpty(), qPrintable(e));
    e = testing::runGatelab(QStringLiteral("compare"), QStringLiteral("scenarios/compare-limiters.yaml"),
                            compare_.path());
    QVERIFY2(e.isEmpty(), qPrintable(e));
  }

  // Hovering an open stretch of the breaker lane explains it with the event's own reason.
  void breakerLaneHoverShowsTheTransitionReason() {
    MainWindow window;
    window.resize(1200, 800);
    window.show();
    window.showView(QStringLiteral("breakers"));
    QVERIFY(open(window, outage_.path()));
    const VariantData& v = window.run()->variants.at(0);
    const auto it = std::find_if(v.report.events.begin(), v.report.events.end(),
                                 [](const ResilienceEvent& e) { return e.kind == u"breaker" && e.to == u"open"; });
    QVERIFY(it != v.report.events.end());
    ResilienceTimeline* lanes = window.breakersView()->timeline();
    QVERIFY(lanes->laneCount() >= 1);
    // A moment after the transition: the lane is open and the tip quotes that transition.
    const QString tip = lanes->describeAt(lanes->pointAt(0, it->atMs / 1000.0 + 0.3));
    QVERIFY2(tip.contains(QStringLiteral("open from")), qPrintable(tip));
    QVERIFY2(tip.contains(it->reason), qPrintable(tip + QStringLiteral("\n  expected the reason: ") + it->reason));
  }

  // The comparison table holds each variant's report figures; sorting is numeric.
  void variantTableShowsTheReportFigures() {
    MainWindow window;
    window.resize(1200, 800);
    QVERIFY(open(window, compare_.path()));
    VariantTableModel* model = window.variantsView()->model();
    const auto& variants = window.run()->variants;
    QCOMPARE(model->rowCount(), static_cast<int>(variants.size()));
    for (int row = 0; row < model->rowCount(); ++row) {
      const ReportSummary& r = variants[static_cast<std::size_t>(row)].report;
      QCOMPARE(cell(model, row, VariantTableModel::kVariant).toString(), variants[static_cast<std::size_t>(row)].name);
      QCOMPARE(cell(model, row, VariantTableModel::kRequests).toDouble(), r.requests);
      QCOMPARE(cell(model, row, VariantTableModel::kFalseAllows).toDouble(), r.truth.falseAllowShare);
      QCOMPARE(cell(model, row, VariantTableModel::kFalseBlocks).toDouble(), r.truth.falseBlockShare);
      QCOMPARE(cell(model, row, VariantTableModel::kRejected).toDouble(), r.rejected() / r.decisions());
      QCOMPARE(cell(model, row, VariantTableModel::kP99).toDouble(), r.p99Ms);
      // What the user reads: a share as a percentage.
      QCOMPARE(cell(model, row, VariantTableModel::kFalseBlocks, Qt::DisplayRole).toString(),
               formatShare(r.truth.falseBlockShare));
    }
    // The clients table: the report's most rejected clients, the most rejected first.
    ClientTableModel* clients = window.clientsView()->model();
    const auto& top = variants.at(0).report.topRejectedClients;
    QVERIFY(!top.empty());
    QCOMPARE(clients->rowCount(), static_cast<int>(top.size()));
    double most = 0;
    for (const ClientRow& c : top) most = std::max(most, c.rejected);
    QCOMPARE(cell(clients, 0, ClientTableModel::kRejected).toDouble(), most);
  }

  // One chart per variant; selecting a range anywhere moves every chart's axis to it.
  void oneTimeRangeForEveryChart() {
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    window.showView(QStringLiteral("rate-limits"));
    QVERIFY(open(window, compare_.path()));
    RateLimitsView* view = window.rateLimitsView();
    QCOMPARE(view->chartCount(), window.run()->variants.size());
    window.timeRange().select(120, 240);
    // Charts made for a new run are shown by the next event-loop pass; then they follow at once.
    for (std::size_t i = 0; i < view->chartCount(); ++i) {
      QTRY_COMPARE(view->chart(i)->visibleRange().first, 120.0);
      QCOMPARE(view->chart(i)->visibleRange().second, 240.0);
      QVERIFY(view->chart(i)->pointsDrawn() > 0);
    }
    window.timeRange().select(300, 360);
    for (std::size_t i = 0; i < view->chartCount(); ++i) QCOMPARE(view->chart(i)->visibleRange().first, 300.0);
    // Hidden tabs follow when shown.
    window.showView(QStringLiteral("breakers"));
    QCOMPARE(window.timeRange().from(), 300.0);
    window.timeRange().reset();  // while the rate-limit charts are hidden: they catch up when shown
    window.showView(QStringLiteral("rate-limits"));
    QTRY_COMPARE(view->chart(0)->visibleRange().second, window.run()->endSeconds());
  }

 private:
  QTemporaryDir outage_;
  QTemporaryDir compare_;
};

QTEST_MAIN(ViewsTest)
#include "views_test.moc"
