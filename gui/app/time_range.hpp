#pragma once
// The one time-range selection every time chart shares (seconds from the run start). A chart
// that the user zooms calls select(); every chart follows `changed`. `extent` is the whole run.
// GUI thread only.

#include <QObject>

namespace gatelab::gui {

class TimeRange : public QObject {
  Q_OBJECT
 public:
  using QObject::QObject;

  [[nodiscard]] double from() const { return from_; }
  [[nodiscard]] double to() const { return to_; }
  [[nodiscard]] double extentFrom() const { return extentFrom_; }
  [[nodiscard]] double extentTo() const { return extentTo_; }
  /// True when the whole extent is shown (a live window then keeps following its end).
  [[nodiscard]] bool showsAll() const { return all_; }

  /// A new run or a grown live window. Keeps a user selection unless `resetSelection`.
  void setExtent(double from, double to, bool resetSelection);
  /// Selects [from, to] clamped to the extent; ignores empty or inverted ranges.
  void select(double from, double to);
  void reset();

 signals:
  void changed(double from, double to);

 private:
  double extentFrom_ = 0;
  double extentTo_ = 1;
  double from_ = 0;
  double to_ = 1;
  bool all_ = true;
};

}  // namespace gatelab::gui
