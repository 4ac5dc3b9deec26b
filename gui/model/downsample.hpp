#pragma once
// Min/max downsampling for drawing: a series with more points than pixel columns keeps, per
// column, its first, lowest, highest and last points (in time order), so every spike and dip stays
// visible while a 86,400-point series becomes at most 4 points per column.
//
// Thread safety: pure. Complexity: O(log n + points in the range).

#include <QList>
#include <QPointF>
#include <span>

namespace gatelab::gui {

/// Points of (x[i], y[i]) with x in [from, to] (plus one neighbour on each side, so lines reach
/// the chart's edges), reduced to at most ~4 per column when the range holds more than
/// 4 * `columns` points. `x` must be sorted ascending; NaN y values (no data) are skipped.
QList<QPointF> downsampleMinMax(std::span<const double> x, std::span<const double> y, double from, double to,
                                int columns);

}  // namespace gatelab::gui
