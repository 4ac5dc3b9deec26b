#pragma once
// One Qt Charts time chart (x: seconds from the run start) bound to the shared TimeRange:
// - draws each line from the run's columns, min/max-downsampled to the chart's pixel width for the
//   visible range (redone on zoom and resize, so 86,400 points draw as ~4 per pixel column);
// - a horizontal rubber band selects a range for every chart; right-click or double-click resets;
// - failure-injection windows are shaded over the plot, with their description on hover;
// - a hidden chart only remembers that it is stale and redraws when shown (live updates then cost
//   nothing for tabs nobody looks at).
// GUI thread only.

#include <QChartView>
#include <QString>
#include <memory>
#include <vector>

#include "gui/model/run_data.hpp"

class QLineSeries;
class QValueAxis;

namespace gatelab::gui {

class TimeRange;

struct ChartLine {
  QString name;
  QColor color;
  Qt::PenStyle style = Qt::SolidLine;
  const std::vector<double>* values = nullptr;  // one per bucket; owned by the RunData held below
  qreal width = 1.5;
  const std::vector<double>* x = nullptr;  // this line's bucket times when not the chart's (variants)
};

class TimeChart : public QChartView {
  Q_OBJECT
 public:
  TimeChart(const QString& title, const QString& yTitle, TimeRange& range, QWidget* parent = nullptr);

  /// Shows `lines` over `x` (bucket start times, seconds); `keepAlive` owns the vectors.
  void setLines(std::shared_ptr<const RunData> keepAlive, const std::vector<double>* x, std::vector<ChartLine> lines,
                std::vector<FailureWindow> windows);
  void setTitle(const QString& title);
  /// Points currently handed to Qt Charts over every line (for tests and the benchmark).
  [[nodiscard]] qsizetype pointsDrawn() const { return pointsDrawn_; }
  /// The x axis range shown (seconds).
  [[nodiscard]] std::pair<double, double> visibleRange() const;

 protected:
  void resizeEvent(QResizeEvent* event) override;
  void showEvent(QShowEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void drawForeground(QPainter* painter, const QRectF& rect) override;

 private:
  void refresh();

  TimeRange& range_;
  QValueAxis* axisX_;
  QValueAxis* axisY_;
  std::shared_ptr<const RunData> keepAlive_;
  const std::vector<double>* x_ = nullptr;
  std::vector<ChartLine> lines_;
  std::vector<QLineSeries*> series_;
  std::vector<FailureWindow> windows_;
  bool stale_ = true;
  qsizetype pointsDrawn_ = 0;
};

}  // namespace gatelab::gui
