#pragma once
// Text forms of the typed quantities in configs: durations ("250ms", "1h30m"), rates ("100/min",
// "10r/s") and percentages ("50%").
//
// Every parser returns a UnitResult: the value, or a message saying what is wrong with the text and
// a short description of what is allowed. Nothing throws. All functions are pure and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "gateway/core/rate.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::config {

/// Why a text could not be parsed: `message` names the rule that failed (it quotes the input),
/// `allowed` lists the accepted forms. Both are single-line, for Diagnostic.
struct UnitError {
  std::string message;
  std::string allowed;
};

/// A parsed value or a UnitError. Small and copyable; check with ok() (or operator bool) first.
template <typename T>
class UnitResult {
 public:
  UnitResult(T value) : value_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  UnitResult(UnitError error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  /// Precondition: ok().
  [[nodiscard]] const T& value() const { return *value_; }
  /// Precondition: !ok().
  [[nodiscard]] const UnitError& error() const { return error_; }

 private:
  std::optional<T> value_;
  UnitError error_;
};

/// What parseDuration accepts, for messages and docs.
inline constexpr std::string_view kDurationAllowed =
    "a number with a unit: ns, us, ms, s, m (minute), h, d; units combine as in 1h30m; "
    "fractions as in 1.5s";
/// What parseRate accepts, for messages and docs.
inline constexpr std::string_view kRateAllowed =
    "N/s, N/min, N/h, N/day, N/<duration>, nginx Nr/s, Nr/m";
/// What parsePercent accepts.
inline constexpr std::string_view kPercentAllowed = "a percentage from 0% to 100%, e.g. 50% or 12.5%";

/// The largest count a rate may have. Keeps every derived quantity (count * 1000 for nginx
/// milli-requests, count * cost) far from 64-bit overflow.
inline constexpr std::uint64_t kMaxRateCount = 1'000'000'000;

/// Parses a Go/Envoy-style duration: one or more <number><unit> groups, e.g. "250ms", "1.5s",
/// "1h30m", "100us", "10ns", "1d". Units: ns, us (or µs), ms, s, m (minute), h, d (24h). A bare
/// number is an error (even "0": write "0s"); so are negative values and durations above
/// INT64_MAX nanoseconds (~292 years). Fractions finer than a nanosecond are truncated. Zero
/// ("0s") parses; callers that need a positive duration check it themselves.
[[nodiscard]] UnitResult<core::Duration> parseDuration(std::string_view text);

/// Parses a rate "COUNT/PERIOD": PERIOD is s, min, h, day or a duration ("100/1m", "5/30s");
/// nginx spellings "10r/s" and "60r/m" are accepted too. COUNT is an integer in
/// [1, kMaxRateCount]; the period must be positive.
[[nodiscard]] UnitResult<core::Rate> parseRate(std::string_view text);

/// Parses "50%" or "12.5%" into 50.0 / 12.5. Range [0, 100]. The '%' is required.
[[nodiscard]] UnitResult<double> parsePercent(std::string_view text);

}  // namespace gatelab::config
