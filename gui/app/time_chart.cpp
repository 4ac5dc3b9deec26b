#include "gui/app/time_chart.hpp"

#include <QLineSeries>
#include <QMouseEvent>
#include <QToolTip>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

#include "gui/app/palette.hpp"
#include "gui/app/time_range.hpp"
#include "gui/model/downsample.hpp"

namespace gatelab::gui {

TimeChart::TimeChart(const QString& title, const QString& yTitle, TimeRange& range, QWidget* parent)
    : QChartView(parent), range_(range), axisX_(new QValueAxis), axisY_(new QValueAxis) {
  auto* c = new QChart;
  c->setTitle(title);
  c->legend()->setAlignment(Qt::AlignBottom);
  c->setMargins(QMargins(4, 4, 4, 4));
  c->setAnimationOptions(QChart::NoAnimation);  // animations replay on every live batch
  axisX_->setTitleText(QStringLiteral("seconds since start"));
  axisX_->setLabelFormat(QStringLiteral("%.0f"));
  axisY_->setTitleText(yTitle);
  axisY_->setLabelFormat(QStringLiteral("%.0f"));
  c->addAxis(axisX_, Qt::AlignBottom);
  c->addAxis(axisY_, Qt::AlignLeft);
  setChart(c);
  setRenderHint(QPainter::Antialiasing, false);  // thousands of segments: crisp and faster
  setRubberBand(QChartView::HorizontalRubberBand);
  setMouseTracking(true);
  setMinimumSize(320, 200);
  connect(&range_, &TimeRange::changed, this, [this] {
    stale_ = true;
    if (isVisible()) refresh();
  });
}

std::pair<double, double> TimeChart::visibleRange() const { return {axisX_->min(), axisX_->max()}; }

void TimeChart::setTitle(const QString& title) { chart()->setTitle(title); }

void TimeChart::setLines(std::shared_ptr<const RunData> keepAlive, const std::vector<double>* x,
                         std::vector<ChartLine> lines, std::vector<FailureWindow> windows) {
  keepAlive_ = std::move(keepAlive);
  x_ = x;
  windows_ = std::move(windows);
  // Rebuild the series only when their set changed; a live batch keeps them and replaces points.
  bool same = lines.size() == lines_.size();
  for (std::size_t i = 0; same && i < lines.size(); ++i) same = lines[i].name == lines_[i].name;
  lines_ = std::move(lines);
  if (!same) {
    chart()->removeAllSeries();
    series_.clear();
    for (const ChartLine& line : lines_) {
      auto* s = new QLineSeries;
      s->setName(line.name);
      QPen pen(line.color);
      pen.setWidthF(line.width);
      pen.setStyle(line.style);
      s->setPen(pen);
      chart()->addSeries(s);
      s->attachAxis(axisX_);
      s->attachAxis(axisY_);
      series_.push_back(s);
    }
  }
  stale_ = true;
  if (isVisible()) refresh();
}

void TimeChart::refresh() {
  stale_ = false;
  axisX_->setRange(range_.from(), range_.to());
  const int columns = std::max(50, static_cast<int>(chart()->plotArea().width()));
  double yMax = 0;
  pointsDrawn_ = 0;
  for (std::size_t i = 0; i < series_.size(); ++i) {
    QList<QPointF> points;
    const std::vector<double>* x = lines_[i].x ? lines_[i].x : x_;
    if (x && lines_[i].values) points = downsampleMinMax(*x, *lines_[i].values, range_.from(), range_.to(), columns);
    for (const QPointF& p : points)
      if (p.x() >= range_.from() && p.x() <= range_.to()) yMax = std::max(yMax, p.y());
    pointsDrawn_ += points.size();
    series_[i]->replace(points);  // one replace per batch: a single repaint, not one per point
  }
  const double top = yMax <= 0 ? 1.0 : yMax * 1.08;
  axisY_->setRange(0, top);
  axisY_->setLabelFormat(top < 10 ? QStringLiteral("%.1f") : QStringLiteral("%.0f"));
  viewport()->update();
}

void TimeChart::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::RightButton) {
    event->accept();
    return;
  }
  const double before = axisX_->min(), beforeMax = axisX_->max();
  QChartView::mouseReleaseEvent(event);  // the rubber band zooms this chart's axes...
  if (axisX_->min() != before || axisX_->max() != beforeMax)
    range_.select(axisX_->min(), axisX_->max());  // ...and every chart follows
}

void TimeChart::resizeEvent(QResizeEvent* event) {
  QChartView::resizeEvent(event);
  stale_ = true;
  if (isVisible()) refresh();
}

void TimeChart::showEvent(QShowEvent* event) {
  QChartView::showEvent(event);
  if (stale_) refresh();
}

void TimeChart::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::RightButton) {  // Qt Charts would zoom out one step; we show all
    range_.reset();
    event->accept();
    return;
  }
  QChartView::mousePressEvent(event);
}

void TimeChart::mouseDoubleClickEvent(QMouseEvent* event) {
  range_.reset();
  event->accept();
}

void TimeChart::mouseMoveEvent(QMouseEvent* event) {
  QChartView::mouseMoveEvent(event);
  const QRectF plot = chart()->plotArea();
  const QPointF pos = chart()->mapFromScene(mapToScene(event->position().toPoint()));
  if (!plot.contains(pos) || windows_.empty()) return;
  const double t = axisX_->min() + (pos.x() - plot.left()) / plot.width() * (axisX_->max() - axisX_->min());
  QString tip;
  for (const FailureWindow& w : windows_) {
    if (t * 1000.0 >= w.startMs && t * 1000.0 < w.endMs) {
      if (!tip.isEmpty()) tip += QLatin1Char('\n');
      tip += QStringLiteral("failure injected [%1 s, %2 s): %3 %4 %5")
                 .arg(w.startMs / 1000.0)
                 .arg(w.endMs / 1000.0)
                 .arg(w.service, w.target, w.what);
    }
  }
  if (tip.isEmpty())
    QToolTip::hideText();
  else
    QToolTip::showText(event->globalPosition().toPoint(), tip, this);
}

void TimeChart::drawForeground(QPainter* painter, const QRectF& rect) {
  QChartView::drawForeground(painter, rect);
  if (windows_.empty()) return;
  const QRectF plot = chart()->plotArea();
  const double span = axisX_->max() - axisX_->min();
  if (span <= 0) return;
  painter->save();
  for (const FailureWindow& w : windows_) {
    const double a = std::max(w.startMs / 1000.0, axisX_->min());
    const double b = std::min(w.endMs / 1000.0, axisX_->max());
    if (b <= a) continue;
    const double left = plot.left() + (a - axisX_->min()) / span * plot.width();
    const double right = plot.left() + (b - axisX_->min()) / span * plot.width();
    const QRectF band =
        chart()->mapRectToScene(QRectF(QPointF(left, plot.top()), QPointF(std::max(right, left + 1), plot.bottom())));
    painter->fillRect(band, palette::failureFill());
    painter->setPen(QPen(palette::failureEdge(), 1, Qt::DashLine));
    painter->drawLine(band.topLeft(), band.bottomLeft());
    painter->drawLine(band.topRight(), band.bottomRight());
  }
  painter->restore();
}

}  // namespace gatelab::gui
