#pragma once
// The dashboard window: a tab per view (views.hpp), a toolbar to open a run, follow a live gateway,
// pick the variant and reset the time range, and a status bar saying what is shown and how the
// live connection is. Runs load on a pool thread (AsyncRunLoader); live data arrives in batches
// from LiveModel. GUI thread only.

#include <QMainWindow>
#include <QString>
#include <QStringList>
#include <memory>
#include <vector>

#include "gui/app/time_range.hpp"
#include "gui/model/async_loader.hpp"
#include "gui/model/live_model.hpp"
#include "gui/model/run_data.hpp"

class QComboBox;
class QLabel;
class QTabWidget;
class QElapsedTimer;

namespace gatelab::gui {

class DashboardView;
class OverviewView;
class RateLimitsView;
class BreakersView;
class LatencyView;
class VariantsView;
class ClientsView;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  /// View names as `--view` takes them, in tab order.
  static QStringList viewNames();
  /// Shows the named view; false for an unknown name.
  bool showView(const QString& name);

  /// Loads a run directory in the background; `runLoaded` tells when it is shown.
  void openRun(const QString& path);
  /// Follows a gateway's event stream ("http://127.0.0.1:9901" or the full /admin/events URL).
  void followLive(const QString& url);

  [[nodiscard]] std::shared_ptr<const RunData> run() const { return run_; }
  [[nodiscard]] LiveModel& live() { return live_; }
  [[nodiscard]] TimeRange& timeRange() { return range_; }
  [[nodiscard]] QString statusText() const;
  [[nodiscard]] VariantsView* variantsView() const { return variants_; }
  [[nodiscard]] ClientsView* clientsView() const { return clients_; }
  [[nodiscard]] BreakersView* breakersView() const { return breakers_; }
  [[nodiscard]] RateLimitsView* rateLimitsView() const { return rateLimits_; }

 signals:
  /// A run finished loading: shown (ok) or refused (error says why, with file and line).
  void runLoaded(bool ok, QString error);

 private:
  void showRun(std::shared_ptr<const RunData> run, bool newRun);
  void onLoaded(const LoadResult& result, const QString& path);
  void onLiveUpdated();
  void onLiveState(LiveState state, const QString& detail);
  void refreshViews();
  void askOpenRun();
  void askFollowLive();

  TimeRange range_;
  AsyncRunLoader loader_;
  LiveModel live_;
  std::shared_ptr<const RunData> run_;
  QTabWidget* tabs_;
  QComboBox* variantBox_;
  QLabel* status_;
  QLabel* liveStatus_;
  OverviewView* overview_;
  RateLimitsView* rateLimits_;
  BreakersView* breakers_;
  LatencyView* latency_;
  VariantsView* variants_;
  ClientsView* clients_;
  std::vector<DashboardView*> views_;
  std::unique_ptr<QElapsedTimer> rateClock_;
  std::size_t eventsAtRateStart_ = 0;
  double eventsPerSecond_ = 0;
};

}  // namespace gatelab::gui
