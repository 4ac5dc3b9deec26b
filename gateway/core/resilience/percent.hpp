#pragma once
// Percent: an exact percentage for thresholds and budgets ("50%", "12.5%").
//
// Stored as an integer number of thousandths of a percent (12.5% = 12'500), so every comparison
// against a ratio of counts is exact integer arithmetic: "failures/calls >= 50%" is
// failures * 100'000 >= 50'000 * calls. No floating point reaches a decision.
// Thread safety: a value type. Complexity: O(1) everywhere.

#include <cstdint>
#include <string>

namespace gatelab::core::resilience {

struct Percent {
  static constexpr std::uint32_t kScale = 1'000;            ///< units per percent
  static constexpr std::uint32_t kHundred = 100 * kScale;    ///< 100%

  std::uint32_t milli = 0;  ///< thousandths of a percent; valid range [0, kHundred]

  /// A whole percentage: Percent::of(50) is 50%.
  static constexpr Percent of(std::uint32_t whole) noexcept { return Percent{whole * kScale}; }

  /// True iff num / den >= this percentage (exact). A zero denominator never reaches it.
  [[nodiscard]] constexpr bool reachedBy(std::uint64_t num, std::uint64_t den) const noexcept {
    return den != 0 && num * kHundred >= static_cast<std::uint64_t>(milli) * den;
  }
  /// floor(n x this / 100%): e.g. 20% of 17 active requests is 3. Precondition: n < 2^44.
  [[nodiscard]] constexpr std::uint64_t floorOf(std::uint64_t n) const noexcept {
    return n * milli / kHundred;
  }

  friend constexpr bool operator==(Percent, Percent) = default;
  friend constexpr auto operator<=>(Percent, Percent) = default;
};

/// "50%", "12.5%", "0.125%": the shortest exact spelling.
std::string formatPercent(Percent p);

/// num / den as a percentage rounded *down* to one decimal ("62.5%", "66.6%", "100%"), so a rate
/// shown next to a threshold is never displayed as reaching it when it does not. den > 0.
std::string formatRatio(std::uint64_t num, std::uint64_t den);

/// The Percent nearest to `percent` (a config value such as 12.5), clamped to [0%, 100%].
Percent percentFromDouble(double percent) noexcept;

}  // namespace gatelab::core::resilience
