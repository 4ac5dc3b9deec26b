#pragma once
// ResponseCache: a shared HTTP cache (RFC 9111) for one route, bounded in bytes with LRU
// eviction, serving stale entries when the upstream fails (nginx proxy_cache_use_stale, RFC 5861
// stale-if-error). Semantics, and where they differ from nginx and Kong: docs/caching.md.
//
// How a host uses it, per request (the proxy and the simulator alike):
//
//   CacheLookup l = cache.lookup(request, now);
//   switch (l.status) {
//     case CacheStatus::kHit:    answer with *l.response (no body for HEAD: l.headOnly), Age: l.age
//                                (ageHeaderValue), X-Cache-Status: Hit; 304 when l.notModified.
//     case CacheStatus::kBypass:
//     case CacheStatus::kMiss:   if l.onlyIfCached: answer 504 (RFC 9111 §5.2.1.7), do not forward.
//                                forward; then
//                                - upstream failed (connect error, timeout, 500/502/503/504):
//                                  if (auto s = cache.staleOnError(l, failure, status, now)) answer with
//                                  s->response, Age: s->age, X-Cache-Status: Stale;
//                                - got a response and l.mayStore: cache.store(l, request, response, sentAt, now);
//                                - l.invalidates (unsafe method): cache.invalidate(l, status).
//                                X-Cache-Status: Miss or Bypass (as l.status says).
//   }
//
// The request given to lookup()/store() is what the cache keys on: `path` as given (hosts pass
// the normalized path the router matched), `host` (lower-cased, port kept), `query` (see
// CacheKeySpec), the configured key headers and cookies, and the response's Vary fields.
//
// Thread safety: none. A ResponseCache is a single-threaded data structure (lookup() updates
// the LRU order and counters); a multi-threaded host wraps each one in its own lock. Stored
// responses are immutable and shared (std::shared_ptr<const CachedResponse>): a hit hands out a
// reference, never a copy of the body, and it stays valid after the entry is evicted or purged.
// Complexity: lookup O(key length + headers + variants of the key); store O(key + headers) plus
// O(1) per evicted entry; purge O(number of distinct keys).

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/core/cache/cache_control.hpp"
#include "gateway/core/hash.hpp"
#include "gateway/core/http_field.hpp"
#include "gateway/core/request.hpp"
#include "gateway/core/spec_error.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::cache {

/// The response header that tells clients what the cache did (Kong's and common CDN practice).
inline constexpr std::string_view kCacheStatusHeader = "X-Cache-Status";

/// Bounds of the spec's sizes.
inline constexpr std::uint64_t kMinCacheMemory = 64 * 1024;                      ///< 64 KiB
inline constexpr std::uint64_t kMaxCacheMemory = std::uint64_t{64} << 30;         ///< 64 GiB
/// Bookkeeping counted per entry on top of its bytes (list node, shared_ptr control block, map
/// slot share, vectors): an estimate, so that many tiny entries cannot exceed the bound unseen.
inline constexpr std::size_t kEntryOverheadBytes = 256;
/// Variants (different Vary values) kept per key; one more evicts the key's least recently used.
inline constexpr std::size_t kMaxVariantsPerKey = 32;
/// Most query arguments, key headers or key cookies a spec may list.
inline constexpr std::size_t kMaxKeyItems = 32;

/// Which query arguments are part of the key.
enum class QueryKey : std::uint8_t {
  kAll,     ///< every argument, sorted (so "b=2&a=1" and "a=1&b=2" share an entry)
  kNone,    ///< the query is ignored
  kListed,  ///< only the arguments named in CacheKeySpec::queryArgs, sorted
};

struct CacheKeySpec {
  QueryKey query = QueryKey::kAll;
  /// kListed: argument names (exact, as sent: not percent-decoded). Not empty for kListed.
  std::vector<std::string> queryArgs{};
  /// Request fields whose values are part of the key (case-insensitive names, RFC 9110 tokens).
  std::vector<std::string> headers{};
  /// Cookie names (case-sensitive, RFC 6265) whose values are part of the key.
  std::vector<std::string> cookies{};
  /// The authenticated consumer (RequestView::consumer) is part of the key: every consumer gets
  /// its own entries (requests without a consumer share theirs). Answers to requests with
  /// Authorization and a consumer are then stored (the key keeps one consumer's answers from
  /// another), where RFC 9111 §3.5 would otherwise need the response to be public. Responses
  /// marked private or no-store are still never stored.
  bool consumer = false;
};

struct CacheSpec {
  /// Freshness lifetime of responses that state none (no s-maxage, max-age or Expires), and of
  /// every response when respectCacheControl is false. > 0.
  Duration ttl = std::chrono::minutes(5);
  /// Response statuses that may be stored. 200..599 except 206 (partial) and 304 (not a full
  /// response); not empty. Default: Kong proxy-cache's.
  std::vector<std::uint16_t> statuses{200, 301, 404};
  /// Media types (lower case, no parameters) that may be stored: "application/json", or a
  /// whole type "text/*". Not empty. A response without Content-Type is stored only when its
  /// body is empty. Default: Kong proxy-cache's.
  std::vector<std::string> contentTypes{"text/plain", "application/json"};
  /// Request methods served from the cache: "GET" and/or "HEAD" (HEAD is answered from the GET
  /// entry). Not empty.
  std::vector<std::string> methods{"GET", "HEAD"};
  CacheKeySpec key{};
  /// Bound on the bytes of all entries (body + header fields + key + kEntryOverheadBytes each).
  std::uint64_t maxMemory = std::uint64_t{64} << 20;
  /// Largest entry stored (same accounting); <= maxMemory.
  std::uint64_t maxEntryBytes = std::uint64_t{1} << 20;
  /// How long after expiry an entry may still be served when the upstream fails (0: never).
  /// A response's own stale-if-error=N replaces it for that response.
  Duration staleIfError{0};
  /// Honour the request's Cache-Control (no-cache, no-store, max-age, min-fresh,
  /// only-if-cached; Pragma: no-cache) and the response's freshness (s-maxage, max-age,
  /// Expires, must-revalidate, stale-if-error). false: requests cannot bypass the cache and
  /// every stored response lives `ttl` (nginx's default for requests, Kong's cache_control:
  /// false). Either way, responses with no-store, private, no-cache, Set-Cookie or Vary: * are
  /// never stored, nor answers to requests with Authorization unless the response is public (or
  /// key.consumer holds the consumer).
  bool respectCacheControl = true;
};

/// What the cache did for a request; the value of X-Cache-Status.
enum class CacheStatus : std::uint8_t {
  kHit,     ///< "Hit": served from a fresh entry, the upstream was not asked
  kMiss,    ///< "Miss": forwarded (no entry, or only an expired one); the answer may be stored
  kStale,   ///< "Stale": forwarded, the upstream failed, an expired entry was served instead
  kBypass,  ///< "Bypass": the request is not one the cache answers (method, Range, request Cache-Control)
};
inline constexpr std::size_t kCacheStatusCount = 4;
/// "Hit", "Miss", "Stale", "Bypass".
const char* toString(CacheStatus s) noexcept;

/// Why lookup() decided as it did; stable snake_case names (toString) for metrics and logs.
enum class LookupReason : std::uint8_t {
  kFresh,           ///< "fresh": a fresh entry (Hit)
  kNotCached,       ///< "not_cached": no entry for the key and Vary values (Miss)
  kExpired,         ///< "expired": only an expired entry (Miss; it may serve on error)
  kTooOld,          ///< "too_old": fresh, but older than the request's max-age/min-fresh allow (Miss)
  kMethod,          ///< "method": not a configured method (Bypass)
  kRange,           ///< "range": a Range request (Bypass)
  kRequestNoStore,  ///< "request_no_store": request Cache-Control: no-store (Bypass, nothing stored)
  kRequestNoCache,  ///< "request_no_cache": request no-cache, max-age=0 or Pragma: no-cache (Bypass; the answer refreshes the entry)
};
inline constexpr std::size_t kLookupReasonCount = 8;
const char* toString(LookupReason r) noexcept;

/// Why store() did (not) store; stable snake_case names (toString) for metrics.
enum class StoreOutcome : std::uint8_t {
  kStored,             ///< "stored"
  kNotAllowed,         ///< "not_allowed": the lookup said mayStore == false (method, Range, request no-store)
  kHeadResponse,       ///< "head_response": an answer to HEAD has no body to serve GETs with
  kStatus,             ///< "status": not a configured status
  kContentType,        ///< "content_type": not a configured media type
  kNoStore,            ///< "no_store": response Cache-Control: no-store
  kPrivate,            ///< "private": response Cache-Control: private
  kNoCache,            ///< "no_cache": response Cache-Control: no-cache (would need revalidation on every use)
  kAuthorization,      ///< "authorization": request had Authorization, response not public/s-maxage/must-revalidate, key without consumer
  kSetCookie,          ///< "set_cookie": the response sets a cookie
  kVaryStar,           ///< "vary_star": Vary: *
  kTooLarge,           ///< "too_large": entry larger than maxEntryBytes
  kNotFresh,           ///< "not_fresh": zero freshness and no stale-if-error window: useless to keep
};
inline constexpr std::size_t kStoreOutcomeCount = 13;
const char* toString(StoreOutcome o) noexcept;

/// How the upstream failed, for staleOnError().
enum class UpstreamFailure : std::uint8_t {
  kConnect,  ///< no connection, reset, or no valid response (nginx `error`, `invalid_header`)
  kTimeout,  ///< nginx `timeout`
  kStatus,   ///< an answer with a status: 500, 502, 503 and 504 qualify (nginx http_5xx, RFC 5861)
};

/// An immutable stored response. The header fields are as the upstream sent them, minus Age
/// (the host sends a fresh one) and the fields a qualified no-cache / private names.
struct CachedResponse {
  std::uint16_t status = 200;
  HeaderList headers{};
  std::shared_ptr<const std::string> body{};
};

/// The upstream's answer, as given to store().
struct UpstreamResponse {
  std::uint16_t status = 200;
  HeaderList headers{};
  std::shared_ptr<const std::string> body{};
};

struct CacheLookup {
  CacheStatus status = CacheStatus::kBypass;
  LookupReason reason = LookupReason::kMethod;
  /// Hit: the entry to answer with (never null then). Otherwise null.
  std::shared_ptr<const CachedResponse> response{};
  /// Hit: the entry's current age (for the Age field).
  Duration age{0};
  /// The request was HEAD: answer a hit without its body.
  bool headOnly = false;
  /// Hit and the request's If-None-Match matches the entry's ETag (weak comparison): the host
  /// may answer 304 Not Modified with the entry's header fields.
  bool notModified = false;
  /// Miss or Bypass with request Cache-Control: only-if-cached: answer 504 without forwarding.
  bool onlyIfCached = false;
  /// The host should give the upstream's answer to store() (Miss, and Bypass for no-cache).
  bool mayStore = false;
  /// An unsafe method (POST, PUT, PATCH, DELETE...): call invalidate() with the answer's status.
  bool invalidates = false;

  // ---- for store() / staleOnError() / invalidate(); opaque to hosts ----------------------------
  std::string key{};   ///< primary key (host, path, query, key headers and cookies)
  std::string host{};  ///< lower case
  std::string path{};
  std::string query{};  ///< normalized as the key does
  std::shared_ptr<const CachedResponse> stale{};  ///< Miss on an expired entry still in its stale window
  TimePoint staleStoredAt{};
  Duration staleInitialAge{0};
  TimePoint staleUntil{};
};

/// What staleOnError() hands back.
struct StaleResponse {
  std::shared_ptr<const CachedResponse> response;
  Duration age{0};
};

struct StoreResult {
  StoreOutcome outcome = StoreOutcome::kStored;
  std::size_t evicted = 0;  ///< entries evicted (LRU) to make room
};

/// Counters for metrics; monotonic except `entries` and `bytes` (current values).
struct CacheStats {
  std::array<std::uint64_t, kCacheStatusCount> lookups{};  ///< by CacheStatus (kStale counted by staleOnError)
  std::array<std::uint64_t, kLookupReasonCount> reasons{};  ///< by LookupReason
  std::array<std::uint64_t, kStoreOutcomeCount> stores{};  ///< by StoreOutcome
  std::uint64_t evictions = 0;     ///< entries removed to respect maxMemory or kMaxVariantsPerKey
  std::uint64_t expired = 0;       ///< entries dropped past their stale window (lookup, sweep)
  std::uint64_t purged = 0;        ///< entries removed by purge*() and invalidate()
  std::uint64_t staleRefused = 0;  ///< staleOnError() found nothing usable
  std::uint64_t hitBytes = 0;      ///< body bytes served from the cache (hits and stale), HEAD excluded
  std::uint64_t entries = 0;       ///< current number of entries (variants)
  std::uint64_t bytes = 0;         ///< current accounted bytes
};

class ResponseCache {
 public:
  /// Builds the cache, or nullopt after appending every problem to `errors` (fields "ttl",
  /// "statuses[i]", "contentTypes[i]", "methods[i]", "key.queryArgs[i]", "key.headers[i]",
  /// "key.cookies[i]", "maxMemory", "maxEntryBytes", "staleIfError"). Rules: see CacheSpec;
  /// list items unique.
  static std::optional<ResponseCache> create(CacheSpec spec, SpecErrors& errors);

  /// Decides for `request` at `now` (reads the method, host, path, query, Cache-Control,
  /// Pragma, Range, If-None-Match, Cookie and the key and Vary fields). Moves a hit to the front
  /// of the LRU order; drops an entry found past its stale window.
  [[nodiscard]] CacheLookup lookup(const RequestView& request, TimePoint now);

  /// Stores the upstream's answer to `request` (the one given to lookup(), which produced
  /// `lookup`) when it is cacheable (see StoreOutcome), replacing the key's entry for the same
  /// Vary values, evicting least recently used entries to stay within maxMemory.
  /// `sentAt`: when the request was sent upstream (its round trip is added to the entry's age,
  /// RFC 9111 §4.2.3); `now`: when the answer arrived.
  StoreResult store(const CacheLookup& lookup, const RequestView& request, UpstreamResponse response, TimePoint sentAt,
                    TimePoint now);

  /// The expired entry to serve instead of a failed upstream answer, if the lookup found one
  /// whose stale window has not closed at `now` (for kStatus, only 500, 502, 503, 504 qualify).
  /// Counts it as a kStale lookup (hits stay what lookup() counted: a Miss).
  [[nodiscard]] std::optional<StaleResponse> staleOnError(const CacheLookup& lookup, UpstreamFailure failure,
                                                          std::uint16_t status, TimePoint now);

  /// After an unsafe method's answer: a 2xx or 3xx invalidates every entry of the request's host
  /// and path, any query (RFC 9111 §4.4). Returns how many entries were removed.
  std::size_t invalidate(const CacheLookup& lookup, std::uint16_t status);

  /// Removes every entry of the URL `host` + `path` + `query` (any key headers, cookies, Vary
  /// values; the query normalized as the key does). Returns how many.
  std::size_t purge(std::string_view host, std::string_view path, std::string_view query);
  /// Removes every entry whose path starts with `pathPrefix` (plain byte prefix), on `host`, or
  /// on any host when `host` is empty. Returns how many.
  std::size_t purgePrefix(std::string_view host, std::string_view pathPrefix);
  /// Removes everything. Returns how many entries.
  std::size_t purgeAll();
  /// Drops every entry past its stale window at `now` (lookups do it lazily; a host may call this
  /// from a timer to give memory back sooner). O(entries).
  std::size_t sweep(TimePoint now);

  [[nodiscard]] const CacheStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const CacheSpec& spec() const noexcept { return spec_; }

  /// "Age" field value for `age`: whole seconds, rounded down, capped at 2^31 (RFC 9111 §5.1).
  [[nodiscard]] static std::string ageHeaderValue(Duration age);

 private:
  struct Entry {
    Hash128 group;             // key of groups_
    std::string varyValues;    // the request's values of the group's Vary fields at store time
    std::shared_ptr<const CachedResponse> response;
    TimePoint storedAt;
    Duration initialAge;       // Age when stored (upstream Age + round trip)
    Duration freshFor;         // freshness lifetime
    Duration staleWindow;      // after expiry, usable on upstream error
    std::size_t bytes;
    std::string etag;          // for If-None-Match
  };
  using Lru = std::list<Entry>;
  struct Group {
    std::string key;
    std::string host;
    std::string path;
    std::string query;
    std::vector<std::string> varyNames;  // lower case, sorted, unique
    std::vector<Lru::iterator> variants;
  };
  struct HashOf {
    std::size_t operator()(const Hash128& h) const noexcept { return static_cast<std::size_t>(h.lo ^ h.hi); }
  };

  ResponseCache() = default;

  /// Fills scratchKey_, scratchHost_ and scratchQuery_ for `request`.
  void buildKey(const RequestView& request);
  void normalizeQuery(std::string_view query, std::string& out);
  void varyValues(const RequestView& request, const std::vector<std::string>& names, std::string& out) const;
  void removeEntry(Lru::iterator it);
  std::size_t removeGroups(const std::function<bool(const Group&)>& match);

  CacheSpec spec_;
  bool getAllowed_ = false;
  bool headAllowed_ = false;
  Lru lru_;  // front: most recently used
  std::unordered_map<Hash128, Group, HashOf> groups_;
  CacheStats stats_;
  // Reused buffers: a hit allocates nothing once they have grown.
  std::string scratchKey_;
  std::string scratchHost_;
  std::string scratchQuery_;
  std::string scratchVary_;
  std::vector<std::string_view> scratchArgs_;
};

}  // namespace gatelab::core::cache
