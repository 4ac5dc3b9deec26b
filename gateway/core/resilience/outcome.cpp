#include "gateway/core/resilience/outcome.hpp"

namespace gatelab::core::resilience {

std::string describe(const CallOutcome& o) {
  switch (o.kind) {
    case OutcomeKind::kResponse: return "HTTP " + std::to_string(o.status);
    case OutcomeKind::kConnectFailure: return "connect failure";
    case OutcomeKind::kTimeout: return "timeout";
    case OutcomeKind::kReset: return "reset";
  }
  return "unknown outcome";
}

std::optional<Duration> parseRetryAfterSeconds(std::string_view value) noexcept {
  constexpr std::int64_t kMaxSeconds = 24 * 60 * 60;
  if (value.empty()) return std::nullopt;
  std::int64_t seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    if (seconds < kMaxSeconds) seconds = seconds * 10 + (c - '0');
  }
  if (seconds > kMaxSeconds) seconds = kMaxSeconds;
  return std::chrono::seconds{seconds};
}

}  // namespace gatelab::core::resilience
