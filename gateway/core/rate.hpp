#pragma once
// Rate: a count of events per period ("100/min"). Typed so limits are never bare integers.

#include <cstdint>
#include <string>

#include "gateway/core/time.hpp"

namespace gatelab::core {

struct Rate {
  std::uint64_t count = 0;  ///< events allowed per period (> 0 for a valid rate)
  Duration period{0};       ///< length of the period (> 0 for a valid rate)

  /// Average spacing between events, rounded down to whole nanoseconds.
  [[nodiscard]] Duration interval() const noexcept { return period / static_cast<std::int64_t>(count); }
  /// Events per second, for display and for algorithms specified in that unit.
  [[nodiscard]] double perSecond() const noexcept {
    return static_cast<double>(count) * 1e9 / static_cast<double>(period.count());
  }
  friend bool operator==(const Rate&, const Rate&) = default;
};

/// "100/min", "10/s", "5000/h", "1/500ms" (the shortest faithful spelling).
std::string formatRate(const Rate& r);

}  // namespace gatelab::core
