#include "gui/app/resilience_timeline.hpp"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <map>

#include "gui/app/palette.hpp"
#include "gui/app/time_range.hpp"

namespace gatelab::gui {
namespace {
constexpr int kMaxLabelWidth = 230;
constexpr int kLaneHeight = 22;
constexpr int kLaneGap = 4;
constexpr int kTop = 24;
constexpr int kLegendHeight = 24;
}  // namespace

ResilienceTimeline::ResilienceTimeline(TimeRange& range, QWidget* parent) : QWidget(parent), range_(range) {
  setMouseTracking(true);
  setMinimumHeight(120);
  connect(&range_, &TimeRange::changed, this, qOverload<>(&QWidget::update));
}

QSize ResilienceTimeline::sizeHint() const {
  const int lanes = std::max<int>(1, static_cast<int>(lanes_.size()));
  return {800, kTop + lanes * (kLaneHeight + kLaneGap) + kLegendHeight + 8};
}

void ResilienceTimeline::setVariant(std::shared_ptr<const RunData> keepAlive, const VariantData* variant) {
  keepAlive_ = std::move(keepAlive);
  variant_ = variant;
  stale_ = true;
  if (isVisible()) rebuild();  // hidden (another tab): a live batch costs nothing until shown
}

void ResilienceTimeline::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (stale_) rebuild();
}

void ResilienceTimeline::rebuild() {
  stale_ = false;
  lanes_.clear();
  if (!variant_) {
    update();
    return;
  }
  const Timeline& tl = variant_->timeline;
  for (const BreakerSeries& b : tl.breakers) {
    Lane lane;
    lane.label = QStringLiteral("breaker ") + b.label();
    lane.service = b.service;
    lane.target = b.target;
    for (std::size_t i = 0; i < b.states.size(); ++i) {
      const int s = static_cast<int>(b.states[i]);
      if (!lane.segments.empty() && lane.segments.back().state == s)
        lane.segments.back().to = tl.endS[i];
      else
        lane.segments.push_back(Segment{tl.startS[i], tl.endS[i], s});
    }
    lanes_.push_back(std::move(lane));
  }
  // Ejections: one lane per target that was ever ejected, from the events.
  std::map<std::pair<QString, QString>, std::size_t> ejectionLane;  // (service, target) -> lane
  for (const ResilienceEvent& e : variant_->report.events) {
    if (e.kind == u"breaker") {
      for (Lane& lane : lanes_)
        if (!lane.ejection && lane.service == e.service && lane.target == e.target) lane.events.push_back(&e);
      continue;
    }
    if (e.kind != u"ejection" && e.kind != u"return" && e.kind != u"ejection_skipped") continue;
    const std::pair<QString, QString> key(e.service, e.target);
    auto it = ejectionLane.find(key);
    if (it == ejectionLane.end()) {
      if (e.kind != u"ejection") continue;  // a lane starts with an ejection
      Lane lane;
      lane.label = QStringLiteral("ejected ") + e.target;
      lane.ejection = true;
      lane.service = e.service;
      lane.target = e.target;
      lanes_.push_back(std::move(lane));
      it = ejectionLane.emplace(key, lanes_.size() - 1).first;
    }
    Lane& lane = lanes_[it->second];
    lane.events.push_back(&e);
    const double at = e.atMs / 1000.0;
    if (e.kind == u"ejection") {
      const double until = at + std::max(e.durationMs, 1.0) / 1000.0;
      if (!lane.segments.empty() && at <= lane.segments.back().to)
        lane.segments.back().to = std::max(lane.segments.back().to, until);  // still ejected: one segment
      else
        lane.segments.push_back(Segment{at, until, 1});
    } else if (e.kind == u"return" && !lane.segments.empty() && lane.segments.back().to > at) {
      lane.segments.back().to = at;  // returned before its ejection time ran out
    }
  }
  // Buckets give the state at each bucket's end only, so a half-open phase shorter than a bucket
  // would vanish: where the transitions are known (and none were dropped), draw them at their exact
  // times instead.
  if (variant_->report.droppedEvents == 0 && !tl.startS.empty()) {
    for (Lane& lane : lanes_) {
      if (lane.ejection || lane.events.empty()) continue;
      const auto first = parseBreakerState(lane.events.front()->from);
      if (!first) continue;
      std::vector<Segment> exact;
      double at = tl.startS.front();
      int state = static_cast<int>(*first);
      for (const ResilienceEvent* e : lane.events) {
        const auto to = parseBreakerState(e->to);
        if (!to) continue;
        const double t = std::max(at, e->atMs / 1000.0);
        if (t > at) exact.push_back(Segment{at, t, state});
        at = t;
        state = static_cast<int>(*to);
      }
      exact.push_back(Segment{at, std::max(at, tl.endS.back()), state});
      lane.segments = std::move(exact);
    }
  }
  // As tall as its lanes, no taller: the rest of the view goes to the charts and the event list.
  setMaximumHeight(std::max(minimumHeight(), sizeHint().height()));
  updateGeometry();
  update();
}

int ResilienceTimeline::labelWidth() const { return std::clamp(width() / 5, 90, kMaxLabelWidth); }

QRect ResilienceTimeline::plotRect() const {
  return QRect(labelWidth(), kTop, std::max(10, width() - labelWidth() - 12),
               std::max(10, height() - kTop - kLegendHeight - 4));
}

double ResilienceTimeline::timeAt(int x) const {
  const QRect plot = plotRect();
  return range_.from() + (x - plot.left()) * (range_.to() - range_.from()) / std::max(1, plot.width());
}

double ResilienceTimeline::xAt(double seconds) const {
  const QRect plot = plotRect();
  return plot.left() + (seconds - range_.from()) / std::max(1e-9, range_.to() - range_.from()) * plot.width();
}

QPoint ResilienceTimeline::pointAt(int lane, double seconds) const {
  return QPoint(static_cast<int>(std::lround(xAt(seconds))), kTop + lane * (kLaneHeight + kLaneGap) + kLaneHeight / 2);
}

int ResilienceTimeline::laneAt(int y) const {
  if (y < kTop) return -1;
  const int lane = (y - kTop) / (kLaneHeight + kLaneGap);
  return lane < static_cast<int>(lanes_.size()) ? lane : -1;
}

void ResilienceTimeline::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  const QRect plot = plotRect();
  p.setPen(palette().text().color());
  QFont bold = font();
  bold.setBold(true);
  p.setFont(bold);
  p.drawText(QRect(8, 2, width() - 16, kTop - 4), Qt::AlignLeft | Qt::AlignVCenter,
             QStringLiteral("Circuit breakers and outlier ejections  (%1 s – %2 s)")
                 .arg(range_.from(), 0, 'f', 0)
                 .arg(range_.to(), 0, 'f', 0));
  p.setFont(font());
  if (lanes_.empty()) {
    p.drawText(plot, Qt::AlignCenter, QStringLiteral("no circuit breakers or ejections in this run"));
  }
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    const Lane& lane = lanes_[i];
    const int y = kTop + static_cast<int>(i) * (kLaneHeight + kLaneGap);
    const QRect laneRect(plot.left(), y, plot.width(), kLaneHeight);
    p.setPen(palette().text().color());
    p.drawText(QRect(8, y, labelWidth() - 14, kLaneHeight), Qt::AlignRight | Qt::AlignVCenter,
               p.fontMetrics().elidedText(lane.label, Qt::ElideMiddle, labelWidth() - 14));
    p.fillRect(laneRect, lane.ejection ? palette::inService() : palette::breaker(BreakerState::kUnknown));
    // Segments overlapping the range; each at least a pixel wide so short opens stay visible.
    auto first = std::lower_bound(lane.segments.begin(), lane.segments.end(), range_.from(),
                                  [](const Segment& s, double t) { return s.to < t; });
    for (auto it = first; it != lane.segments.end() && it->from <= range_.to(); ++it) {
      const double x0 = std::max<double>(plot.left(), xAt(it->from));
      const double x1 = std::min<double>(plot.right() + 1, xAt(it->to));
      const QColor c = lane.ejection ? palette::ejected() : palette::breaker(static_cast<BreakerState>(it->state));
      p.fillRect(QRectF(x0, y, std::max(1.0, x1 - x0), kLaneHeight), c);
    }
    p.setPen(QPen(QColor(0, 0, 0, 140), 1));
    for (const ResilienceEvent* e : lane.events) {
      const double t = e->atMs / 1000.0;
      if (t < range_.from() || t > range_.to()) continue;
      const double x = xAt(t);
      p.drawLine(QPointF(x, y), QPointF(x, y + 4));
    }
  }
  // Failure windows over every lane.
  if (variant_) {
    for (const FailureWindow& w : variant_->report.failureWindows) {
      const double x0 = std::max<double>(plot.left(), xAt(w.startMs / 1000.0));
      const double x1 = std::min<double>(plot.right() + 1, xAt(w.endMs / 1000.0));
      if (x1 <= x0) continue;
      const int lanesBottom = kTop + static_cast<int>(lanes_.size()) * (kLaneHeight + kLaneGap);
      const QRectF band(x0, kTop - 2, x1 - x0, std::max(lanesBottom - kTop, kLaneHeight));
      p.fillRect(band, palette::failureFill());
      p.setPen(QPen(palette::failureEdge(), 1, Qt::DashLine));
      p.drawRect(band);
    }
  }
  if (dragFrom_ >= 0 && dragTo_ >= 0) {
    p.fillRect(
        QRect(QPoint(std::min(dragFrom_, dragTo_), plot.top()), QPoint(std::max(dragFrom_, dragTo_), plot.bottom())),
        QColor(30, 120, 220, 50));
  }
  // Legend.
  const int ly = height() - kLegendHeight + 4;
  int lx = 8;
  const auto swatch = [&](const QColor& c, const QString& text) {
    p.fillRect(QRect(lx, ly + 3, 14, 12), c);
    p.setPen(palette().text().color());
    p.drawText(QPoint(lx + 18, ly + 14), text);
    lx += 26 + p.fontMetrics().horizontalAdvance(text);
  };
  swatch(palette::breaker(BreakerState::kClosed), QStringLiteral("closed"));
  swatch(palette::breaker(BreakerState::kHalfOpen), QStringLiteral("half-open"));
  swatch(palette::breaker(BreakerState::kOpen), QStringLiteral("open"));
  swatch(palette::breaker(BreakerState::kForcedOpen), QStringLiteral("forced-open"));
  swatch(palette::ejected(), QStringLiteral("target ejected"));
  swatch(palette::failureFill(), QStringLiteral("failure injected"));
}

QString ResilienceTimeline::describeAt(QPoint pos) const {
  const int index = laneAt(pos.y());
  const QRect plot = plotRect();
  if (index < 0 || pos.x() < plot.left() || pos.x() > plot.right()) return {};
  const Lane& lane = lanes_[static_cast<std::size_t>(index)];
  const double t = timeAt(pos.x());
  QString text = lane.label;
  auto seg = std::find_if(lane.segments.begin(), lane.segments.end(),
                          [t](const Segment& s) { return s.from <= t && t < s.to; });
  if (lane.ejection) {
    text += seg != lane.segments.end()
                ? QStringLiteral(": ejected [%1 s, %2 s)").arg(seg->from, 0, 'f', 1).arg(seg->to, 0, 'f', 1)
                : QStringLiteral(": in service at %1 s").arg(t, 0, 'f', 1);
  } else if (seg != lane.segments.end()) {
    text += QStringLiteral(": %1 from %2 s to %3 s")
                .arg(breakerStateName(static_cast<BreakerState>(seg->state)))
                .arg(seg->from, 0, 'f', 1)
                .arg(seg->to, 0, 'f', 1);
  }
  // The transition that explains what is under the cursor: the nearest within a few pixels, else
  // the last one before it.
  const double slack = 4.0 * (range_.to() - range_.from()) / std::max(1, plot.width());
  const ResilienceEvent* best = nullptr;
  for (const ResilienceEvent* e : lane.events) {
    const double at = e->atMs / 1000.0;
    if (at <= t + slack) best = e;
  }
  if (best) {
    text += QStringLiteral("\n%1 at %2 s: %3%4%5")
                .arg(best->kind)
                .arg(best->atMs / 1000.0, 0, 'f', 3)
                .arg(best->from.isEmpty() ? QString() : best->from + QStringLiteral(" → ") + best->to)
                .arg(best->reason.isEmpty() ? QString() : QStringLiteral(": ") + best->reason)
                .arg(best->dryRun ? QStringLiteral(" (dry run)") : QString());
  }
  if (variant_ && variant_->report.droppedEvents > 0)
    text += QStringLiteral("\n(report kept the first events only; %1 more were counted)")
                .arg(variant_->report.droppedEvents);
  return text;
}

bool ResilienceTimeline::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(e);
    const QString text = describeAt(help->pos());
    if (text.isEmpty())
      QToolTip::hideText();
    else
      QToolTip::showText(help->globalPos(), text, this);
    return true;
  }
  return QWidget::event(e);
}

void ResilienceTimeline::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::RightButton) {
    range_.reset();
    return;
  }
  if (event->button() == Qt::LeftButton && plotRect().contains(event->position().toPoint()))
    dragFrom_ = dragTo_ = event->position().toPoint().x();
}

void ResilienceTimeline::mouseMoveEvent(QMouseEvent* event) {
  if (dragFrom_ >= 0) {
    dragTo_ = std::clamp(event->position().toPoint().x(), plotRect().left(), plotRect().right());
    update();
  }
}

void ResilienceTimeline::mouseReleaseEvent(QMouseEvent* event) {
  if (dragFrom_ >= 0 && event->button() == Qt::LeftButton) {
    if (std::abs(dragTo_ - dragFrom_) > 4)
      range_.select(timeAt(std::min(dragFrom_, dragTo_)), timeAt(std::max(dragFrom_, dragTo_)));
    dragFrom_ = dragTo_ = -1;
    update();
  }
}

void ResilienceTimeline::mouseDoubleClickEvent(QMouseEvent*) { range_.reset(); }

}  // namespace gatelab::gui
