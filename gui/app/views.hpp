#pragma once
// The dashboard's views, one widget each (names as `--view` takes them):
//   overview     traffic, rate-limit decisions, breakers/ejections and latency at a glance
//   rate-limits  allowed / delayed / rejected per policy over time; one chart per variant, side by
//                side, titled with its false-allow / false-block shares
//   breakers     breaker state lanes and ejections with reasons, resilience counts, the event list
//   latency      p50 / p90 / p99 over time; p99 of every variant together
//   variants     the comparison table (the compare figures of every variant) + rate-limited
//                answers per variant over time
//   clients      top rejected clients (of the 20 busiest the simulator reports) and heavy/light
// Every view takes a RunData snapshot and the index of the variant the toolbar selects; time
// charts share the window's TimeRange. GUI thread only.

#include <QWidget>
#include <memory>
#include <vector>

#include "gui/app/time_chart.hpp"
#include "gui/model/run_data.hpp"

class QLabel;
class QGridLayout;
class QTableView;
class QChartView;

namespace gatelab::gui {

class TimeRange;
class ResilienceTimeline;
class VariantTableModel;
class ClientTableModel;
class EventTableModel;

class DashboardView : public QWidget {
  Q_OBJECT
 public:
  using QWidget::QWidget;
  /// `variant` indexes run->variants (valid when the run has any).
  virtual void setRun(const std::shared_ptr<const RunData>& run, std::size_t variant) = 0;
};

class OverviewView : public DashboardView {
  Q_OBJECT
 public:
  OverviewView(TimeRange& range, QWidget* parent = nullptr);
  void setRun(const std::shared_ptr<const RunData>& run, std::size_t variant) override;

 private:
  QLabel* summary_;
  TimeChart* traffic_;
  TimeChart* rateLimits_;
  ResilienceTimeline* resilience_;
  TimeChart* latency_;
};

class RateLimitsView : public DashboardView {
  Q_OBJECT
 public:
  RateLimitsView(TimeRange& range, QWidget* parent = nullptr);
  void setRun(const std::shared_ptr<const RunData>& run, std::size_t variant) override;
  [[nodiscard]] std::size_t chartCount() const { return charts_.size(); }
  [[nodiscard]] TimeChart* chart(std::size_t i) const { return charts_.at(i); }

 private:
  TimeRange& range_;
  QLabel* summary_;
  QGridLayout* grid_;
  std::vector<TimeChart*> charts_;
};

class BreakersView : public DashboardView {
  Q_OBJECT
 public:
  BreakersView(TimeRange& range, QWidget* parent = nullptr);
  void setRun(const std::shared_ptr<const RunData>& run, std::size_t variant) override;
  [[nodiscard]] ResilienceTimeline* timeline() const { return timeline_; }

 private:
  ResilienceTimeline* timeline_;
  TimeChart* counts_;
  EventTableModel* eventModel_;
  QTableView* events_;
};

class LatencyView : public DashboardView {
  Q_OBJECT
 public:
  LatencyView(TimeRange& range, QWidget* parent = nullptr);
  void setRun(const std::shared_ptr<const RunData>& run, std::size_t variant) override;

 private:
  TimeChart* percentiles_;
  TimeChart* byVariant_;
};

class VariantsView : public DashboardView {
  Q_OBJECT
 public:
  VariantsView(TimeRange& range, QWidget* parent = nullptr);
  void setRun(const std::shared_ptr<const RunData>& run, std::size_t variant) override;
  [[nodiscard]] VariantTableModel* model() const { return model_; }

 private:
  VariantTableModel* model_;
  QTableView* table_;
  TimeChart* rejected_;
};

class ClientsView : public DashboardView {
  Q_OBJECT
 public:
  ClientsView(QWidget* parent = nullptr);
  void setRun(const std::shared_ptr<const RunData>& run, std::size_t variant) override;
  [[nodiscard]] ClientTableModel* model() const { return model_; }

 private:
  QLabel* summary_;
  ClientTableModel* model_;
  QTableView* table_;
  QChartView* chart_;
};

/// Lines for a variant's rate-limit decisions: allowed / delayed / rejected per policy (a delayed
/// line only when the policy ever delayed).
std::vector<ChartLine> rateLimitLines(const VariantData& variant);

}  // namespace gatelab::gui
