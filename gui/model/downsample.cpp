#include "gui/model/downsample.hpp"

#include <algorithm>
#include <cmath>

namespace gatelab::gui {

QList<QPointF> downsampleMinMax(std::span<const double> x, std::span<const double> y, double from, double to,
                                int columns) {
  QList<QPointF> out;
  const std::size_t n = std::min(x.size(), y.size());
  if (n == 0 || !(to >= from)) return out;
  auto first = static_cast<std::size_t>(std::lower_bound(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n), from) -
                                        x.begin());
  auto last =
      static_cast<std::size_t>(std::upper_bound(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n), to) - x.begin());
  if (first > 0) --first;
  if (last < n) ++last;
  const std::size_t count = last - first;
  columns = std::max(columns, 1);
  if (count <= static_cast<std::size_t>(columns) * 4) {
    out.reserve(static_cast<qsizetype>(count));
    for (std::size_t i = first; i < last; ++i)
      if (!std::isnan(y[i])) out.append(QPointF(x[i], y[i]));
    return out;
  }
  out.reserve(static_cast<qsizetype>(columns) * 4 + 4);
  const double width = (to - from) / columns;
  std::size_t i = first;
  while (i < last) {
    // The column of x[i]; points left of `from` (the neighbour) fall into column 0.
    const double column = width > 0 ? std::floor((x[i] - from) / width) : 0.0;
    const double columnEnd = from + (column + 1) * width;
    std::size_t firstIdx = i, lastIdx = i, minIdx = i, maxIdx = i;
    bool any = false;
    for (; i < last && (x[i] < columnEnd || width <= 0); ++i) {
      if (std::isnan(y[i])) continue;
      if (!any) {
        firstIdx = minIdx = maxIdx = i;
        any = true;
      }
      lastIdx = i;
      if (y[i] < y[minIdx]) minIdx = i;
      if (y[i] > y[maxIdx]) maxIdx = i;
    }
    if (i == lastIdx && i < last) ++i;  // guarantees progress on a degenerate column
    if (!any) continue;
    std::size_t picks[4] = {firstIdx, minIdx, maxIdx, lastIdx};
    std::sort(std::begin(picks), std::end(picks));
    for (std::size_t k = 0; k < 4; ++k)
      if (k == 0 || picks[k] != picks[k - 1]) out.append(QPointF(x[picks[k]], y[picks[k]]));
  }
  return out;
}

}  // namespace gatelab::gui
