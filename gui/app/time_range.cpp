#include "gui/app/time_range.hpp"

#include <algorithm>
#include <cmath>

namespace gatelab::gui {

void TimeRange::setExtent(double from, double to, bool resetSelection) {
  if (!(to > from)) to = from + 1;  // an empty run still gets a drawable axis
  extentFrom_ = from;
  extentTo_ = to;
  if (resetSelection || all_) {
    all_ = true;
    from_ = from;
    to_ = to;
  } else {
    from_ = std::clamp(from_, from, to);
    to_ = std::clamp(to_, from_, to);
  }
  emit changed(from_, to_);
}

void TimeRange::select(double from, double to) {
  from = std::max(from, extentFrom_);
  to = std::min(to, extentTo_);
  if (!(to > from) || (std::abs(from - from_) < 1e-9 && std::abs(to - to_) < 1e-9)) return;
  from_ = from;
  to_ = to;
  all_ = from <= extentFrom_ && to >= extentTo_;
  emit changed(from_, to_);
}

void TimeRange::reset() {
  all_ = true;
  from_ = extentFrom_;
  to_ = extentTo_;
  emit changed(from_, to_);
}

}  // namespace gatelab::gui
