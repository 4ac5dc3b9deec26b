#include "gateway/core/resilience/percent.hpp"

#include <cmath>

namespace gatelab::core::resilience {

namespace {

// "<whole>" or "<whole>.<frac digits, trailing zeros dropped>" + "%".
std::string fixedPoint(std::uint64_t value, std::uint64_t scale, int digits) {
  std::string out = std::to_string(value / scale);
  std::uint64_t frac = value % scale;
  if (frac != 0) {
    std::string f(static_cast<std::size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i) {
      f[static_cast<std::size_t>(i)] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += '.';
    out += f;
  }
  out += '%';
  return out;
}

}  // namespace

std::string formatPercent(Percent p) { return fixedPoint(p.milli, Percent::kScale, 3); }

std::string formatRatio(std::uint64_t num, std::uint64_t den) {
  if (den == 0) return "0%";
  const std::uint64_t tenths = num * 1000 / den;  // floor(1000 x num / den): percent x 10
  return fixedPoint(tenths, 10, 1);
}

Percent percentFromDouble(double percent) noexcept {
  if (!(percent > 0.0)) return Percent{0};  // also NaN
  if (percent >= 100.0) return Percent{Percent::kHundred};
  return Percent{static_cast<std::uint32_t>(std::llround(percent * Percent::kScale))};
}

}  // namespace gatelab::core::resilience
