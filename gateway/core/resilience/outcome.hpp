#pragma once
// What happened to one upstream call, and which outcomes a policy counts as failures.
//
// The host (proxy session or simulated gateway) describes every finished try as a CallOutcome
// and hands the same value to the circuit breaker, the outlier detector and the retry policy.
// Each policy classifies it with its own configured rules (a breaker may count 429 as a failure
// while the outlier detector looks only at 5xx).
// Thread safety: value types; all member functions are const and pure. Complexity: O(1).

#include <bitset>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/core/time.hpp"

namespace gatelab::core::resilience {

enum class OutcomeKind : std::uint8_t {
  kResponse,        ///< the upstream answered with an HTTP status (any status, 2xx included)
  kConnectFailure,  ///< no connection could be made (refused, unreachable, connect timeout);
                    ///< the request was never sent, so retrying it is always safe
  kTimeout,         ///< the try's deadline passed before the response headers arrived
  kReset,           ///< the connection broke after the request was (possibly) sent
};

const char* toString(OutcomeKind k) noexcept;

/// One finished try.
struct CallOutcome {
  OutcomeKind kind = OutcomeKind::kResponse;
  std::uint16_t status = 0;            ///< kResponse: the HTTP status (100..599); else 0
  Duration latency{0};                 ///< how long the try took (slow-call detection)
  std::optional<Duration> retryAfter;  ///< kResponse: the upstream's Retry-After, if it sent one
                                       ///< (see parseRetryAfterSeconds)

  static constexpr CallOutcome response(std::uint16_t httpStatus, Duration took = Duration{0}) noexcept {
    return CallOutcome{OutcomeKind::kResponse, httpStatus, took, std::nullopt};
  }
  static constexpr CallOutcome connectFailure(Duration took = Duration{0}) noexcept {
    return CallOutcome{OutcomeKind::kConnectFailure, 0, took, std::nullopt};
  }
  static constexpr CallOutcome timeout(Duration took = Duration{0}) noexcept {
    return CallOutcome{OutcomeKind::kTimeout, 0, took, std::nullopt};
  }
  static constexpr CallOutcome reset(Duration took = Duration{0}) noexcept {
    return CallOutcome{OutcomeKind::kReset, 0, took, std::nullopt};
  }

  /// Any 5xx response, or a local-origin error (connect failure, timeout, reset): what Envoy's
  /// outlier detection counts as "5xx" when local and external errors are not split.
  [[nodiscard]] constexpr bool isServerError() const noexcept {
    return kind != OutcomeKind::kResponse || (status >= 500 && status <= 599);
  }
  /// 502, 503, 504, or a local-origin error: Envoy's "gateway failure".
  [[nodiscard]] constexpr bool isGatewayError() const noexcept {
    return kind != OutcomeKind::kResponse || status == 502 || status == 503 || status == 504;
  }
};

/// "HTTP 503", "connect failure", "timeout", "reset" (for event reasons).
std::string describe(const CallOutcome& o);

/// A set of HTTP status codes 100..599. Codes outside that range are ignored by add() and never
/// contained. 64 bytes.
class StatusSet {
 public:
  StatusSet() = default;
  StatusSet(std::initializer_list<std::uint16_t> codes) noexcept {
    for (std::uint16_t c : codes) add(c);
  }
  void add(std::uint16_t code) noexcept {
    if (code >= kFirst && code <= kLast) bits_.set(code - kFirst);
  }
  /// Adds every code in [lo, hi].
  void addRange(std::uint16_t lo, std::uint16_t hi) noexcept {
    for (std::uint32_t c = lo; c <= hi; ++c) add(static_cast<std::uint16_t>(c));
  }
  [[nodiscard]] bool contains(std::uint16_t code) const noexcept {
    return code >= kFirst && code <= kLast && bits_.test(code - kFirst);
  }
  [[nodiscard]] bool empty() const noexcept { return bits_.none(); }
  [[nodiscard]] std::size_t size() const noexcept { return bits_.count(); }
  friend bool operator==(const StatusSet&, const StatusSet&) = default;

 private:
  static constexpr std::uint16_t kFirst = 100;
  static constexpr std::uint16_t kLast = 599;
  std::bitset<kLast - kFirst + 1> bits_;
};

/// Which outcomes count as failures (for the circuit breaker). The default counts every 5xx and
/// every local-origin error, as resilience4j counts every exception and APISIX's api-breaker
/// counts its `unhealthy.http_statuses`.
struct FailureClassifier {
  bool serverErrors = true;    ///< any 5xx response
  StatusSet statuses;          ///< further statuses counted as failures (e.g. 429)
  bool connectFailure = true;  ///< OutcomeKind::kConnectFailure
  bool timeout = true;         ///< OutcomeKind::kTimeout
  bool reset = true;           ///< OutcomeKind::kReset

  [[nodiscard]] bool isFailure(const CallOutcome& o) const noexcept {
    switch (o.kind) {
      case OutcomeKind::kResponse:
        return (serverErrors && o.status >= 500 && o.status <= 599) || statuses.contains(o.status);
      case OutcomeKind::kConnectFailure: return connectFailure;
      case OutcomeKind::kTimeout: return timeout;
      case OutcomeKind::kReset: return reset;
    }
    return true;  // unreachable for valid enumerators
  }
};

/// Parses a Retry-After header value in its delta-seconds form ("120"): digits only, no sign,
/// no spaces; values above one day are clamped to one day. The HTTP-date form needs wall-clock
/// time, so the host converts it (date minus its own wall clock) and passes the Duration.
/// Returns nullopt for anything else. O(length).
std::optional<Duration> parseRetryAfterSeconds(std::string_view value) noexcept;

}  // namespace gatelab::core::resilience
