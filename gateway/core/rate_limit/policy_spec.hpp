#pragma once
// RateLimitPolicySpec: one validated `rate_limit` policy of a route, as the config layer builds it.

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/core/rate_limit/limit_spec.hpp"

namespace gatelab::core::ratelimit {

/// One component of a rate-limit key. A key is the concatenation of its components, so
/// `[ip, header:X-Tenant-Id]` limits each (client, tenant) pair separately.
enum class KeyPart : std::uint8_t {
  kClientIp,  ///< RequestView::clientAddress
  kHeader,    ///< a request header (name in KeyComponent::name, case-insensitive)
  kConsumer,  ///< RequestView::consumer (set by authentication)
  kJwtClaim,  ///< a verified JWT claim (name in KeyComponent::name)
  kRoute,     ///< the matched route's name: one bucket per route for all clients
  kService,   ///< the route's service name
  kGlobal,    ///< one bucket for everything the policy sees
};

const char* toString(KeyPart p) noexcept;

struct KeyComponent {
  KeyPart part = KeyPart::kClientIp;
  std::string name;  ///< header or claim name; empty for other parts
  friend bool operator==(const KeyComponent&, const KeyComponent&) = default;
};

/// What happens when a request lacks a key component (no such header, no consumer...).
enum class MissingKey : std::uint8_t {
  kSkip,      ///< the policy does not apply to the request
  kShared,    ///< the missing component is replaced by one shared "anonymous" value
  kClientIp,  ///< the missing component is replaced by the client IP (Kong's fallback)
};

const char* toString(MissingKey m) noexcept;

/// Which response headers a decision produces.
enum class HeaderStyle : std::uint8_t {
  kNone,
  kLegacy,  ///< X-RateLimit-Limit / -Remaining / -Reset (Kong, GitHub, Traefik style)
  kIetf,    ///< RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers)
  kBoth,
};

/// Where a policy's counters live.
enum class StoreKind : std::uint8_t {
  kLocal,  ///< in the gateway process (per instance)
  kRedis,  ///< in Redis, shared by every gateway instance (redis_script.hpp); the simulator
           ///< evaluates such a policy locally with the same arithmetic
};

/// What a Redis-stored policy decides when the store does not answer (down, timeout, error).
enum class StoreFailure : std::uint8_t {
  kAllow,   ///< fail open: the request passes unlimited (Kong's fault_tolerant)
  kReject,  ///< fail closed: the request is rejected with the policy's reject status
};

const char* toString(StoreKind s) noexcept;
const char* toString(StoreFailure f) noexcept;

struct RateLimitPolicySpec {
  std::string name;                         ///< unique in the config; used in metrics and events
  std::vector<KeyComponent> key;            ///< at least one component
  MissingKey onMissingKey = MissingKey::kClientIp;
  std::vector<LimitSpec> limits;            ///< all must admit; at least one
  std::uint32_t cost = 1;                   ///< units charged per request (>= 1)
  std::uint16_t rejectStatus = 429;         ///< 4xx or 5xx (nginx uses 503)
  bool shadow = false;                      ///< dry run: decide and count, never reject or delay
  std::uint64_t maxKeys = 100'000;          ///< tracked keys per limit; least recently used evicted
  HeaderStyle headers = HeaderStyle::kBoth;
  StoreKind store = StoreKind::kLocal;
  StoreFailure onStoreError = StoreFailure::kAllow;  ///< kRedis only
};

}  // namespace gatelab::core::ratelimit
