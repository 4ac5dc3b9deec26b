#pragma once
// JSON for a run's metrics (report.json's metrics part) and for one timeline bucket (one line of
// timeline.ndjson). Field names are snake_case and stable; docs/outputs.md lists them.
//
// Conventions (deterministic output: the same results give byte-identical dumps):
//   - objects are nlohmann::json (keys sorted by the std::map it uses);
//   - durations and instants are MILLISECONDS as numbers rounded to 3 decimals (microsecond
//     resolution), in fields ending in `_ms`; instants are offsets from the run start;
//   - shares are fractions in [0, 1], ratios plain factors; null when undefined (no denominator,
//     no data), never NaN;
//   - counts are integers.

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "gateway/core/time.hpp"
#include "sim/metrics/collector.hpp"

namespace gatelab::sim {

/// The whole results object.
[[nodiscard]] nlohmann::json metricsToJson(const MetricsResults& results);

/// One timeline bucket; `origin` is the run start (bucket times are offsets from it).
[[nodiscard]] nlohmann::json timelineBucketToJson(const TimelineBucket& bucket, core::TimePoint origin);

/// The bucket as one NDJSON line (compact, ending in '\n').
[[nodiscard]] std::string timelineBucketLine(const TimelineBucket& bucket, core::TimePoint origin);

/// A duration as milliseconds rounded to 3 decimals (the convention above).
[[nodiscard]] double toMillis(core::Duration d) noexcept;

}  // namespace gatelab::sim
