#pragma once
// The dashboard's colours, in one place so every view means the same thing by a colour:
// green admitted / closed, amber delayed / half-open, red rejected / open.

#include <QColor>

#include "gui/model/run_data.hpp"

namespace gatelab::gui::palette {

inline QColor allowed() { return QColor(0x2e, 0x9d, 0x4f); }
inline QColor delayed() { return QColor(0xe0, 0xa4, 0x00); }
inline QColor rejected() { return QColor(0xd6, 0x27, 0x28); }
inline QColor requests() { return QColor(0x1f, 0x77, 0xb4); }
inline QColor errors() { return QColor(0x8c, 0x1d, 0x40); }
inline QColor breakerRejected() { return QColor(0x94, 0x67, 0xbd); }
inline QColor p50() { return QColor(0x1f, 0x77, 0xb4); }
inline QColor p90() { return QColor(0xff, 0x7f, 0x0e); }
inline QColor p99() { return QColor(0xd6, 0x27, 0x28); }
inline QColor failureFill() { return QColor(255, 140, 0, 45); }
inline QColor failureEdge() { return QColor(230, 110, 0, 160); }
inline QColor ejected() { return QColor(0x94, 0x67, 0xbd); }
inline QColor inService() { return QColor(0xd9, 0xee, 0xdc); }

inline QColor breaker(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed:
      return QColor(0x5c, 0xb8, 0x5c);
    case BreakerState::kOpen:
      return QColor(0xd6, 0x27, 0x28);
    case BreakerState::kHalfOpen:
      return QColor(0xf0, 0xad, 0x4e);
    case BreakerState::kForcedOpen:
      return QColor(0x7a, 0x12, 0x12);
    case BreakerState::kDisabled:
      return QColor(0x99, 0x99, 0x99);
    case BreakerState::kUnknown:
      break;
  }
  return QColor(0xee, 0xee, 0xee);
}

/// A distinct colour for the i-th variant or policy.
inline QColor series(std::size_t i) {
  static const QColor colors[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
                                  QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                                  QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f), QColor(0xbc, 0xbd, 0x22),
                                  QColor(0x17, 0xbe, 0xcf)};
  return colors[i % (sizeof colors / sizeof colors[0])];
}

}  // namespace gatelab::gui::palette
