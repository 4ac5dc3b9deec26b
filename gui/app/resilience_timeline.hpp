#pragma once
// Circuit-breaker states and outlier ejections as coloured lanes over time, bound to the shared
// TimeRange: one lane per breaker (its state at each bucket's end, from the timeline: green
// closed, red open, amber half-open), then one lane per ejected target (purple while ejected, from
// the ejection / return events). Ticks mark transitions; hovering a lane shows the state and the
// transition's reason (report.json `metrics.events[]`, the live `resilience` events). Failure
// windows are shaded as on the charts. Dragging selects a time range for every chart.
//
// Lanes are run-length encoded once per data change, so painting is O(transitions on screen),
// not O(buckets). GUI thread only.

#include <QString>
#include <QWidget>
#include <memory>
#include <vector>

#include "gui/model/run_data.hpp"

namespace gatelab::gui {

class TimeRange;

class ResilienceTimeline : public QWidget {
  Q_OBJECT
 public:
  explicit ResilienceTimeline(TimeRange& range, QWidget* parent = nullptr);

  void setVariant(std::shared_ptr<const RunData> keepAlive, const VariantData* variant);
  [[nodiscard]] int laneCount() {
    if (stale_) rebuild();
    return static_cast<int>(lanes_.size());
  }
  /// The tooltip text for a point in widget coordinates ("" when none): what hovering shows.
  [[nodiscard]] QString describeAt(QPoint pos) const;
  /// Where lane `lane` shows time `seconds` (the point to hover for it), in widget coordinates.
  [[nodiscard]] QPoint pointAt(int lane, double seconds) const;
  [[nodiscard]] QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  void showEvent(QShowEvent* event) override;
  bool event(QEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;

 private:
  struct Segment {
    double from;  // seconds
    double to;
    int state;  // BreakerState, or 1 = ejected for ejection lanes
  };
  struct Lane {
    QString label;
    bool ejection = false;
    QString service;
    QString target;
    std::vector<Segment> segments;
    std::vector<const ResilienceEvent*> events;  // transitions of this lane, by time
  };

  void rebuild();
  [[nodiscard]] int labelWidth() const;
  [[nodiscard]] QRect plotRect() const;
  [[nodiscard]] double timeAt(int x) const;
  [[nodiscard]] double xAt(double seconds) const;
  [[nodiscard]] int laneAt(int y) const;

  TimeRange& range_;
  std::shared_ptr<const RunData> keepAlive_;
  const VariantData* variant_ = nullptr;
  std::vector<Lane> lanes_;
  bool stale_ = false;  // data changed while hidden: lanes are rebuilt when shown
  int dragFrom_ = -1;
  int dragTo_ = -1;
};

}  // namespace gatelab::gui
