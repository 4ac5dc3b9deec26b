#include "sim/gateway/observer.hpp"

namespace gatelab::sim {

const char* toString(RequestOutcome outcome) noexcept {
  switch (outcome) {
    case RequestOutcome::kUpstream: return "upstream";
    case RequestOutcome::kRateLimited: return "rate_limited";
    case RequestOutcome::kNotFound: return "not_found";
    case RequestOutcome::kBadRequest: return "bad_request";
    case RequestOutcome::kBreakerOpen: return "breaker_open";
    case RequestOutcome::kNoTarget: return "no_target";
    case RequestOutcome::kConnectFailure: return "connect_failure";
    case RequestOutcome::kTimeout: return "timeout";
    case RequestOutcome::kReset: return "reset";
  }
  return "unknown";
}

}  // namespace gatelab::sim
