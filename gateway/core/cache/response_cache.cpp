#include "gateway/core/cache/response_cache.hpp"

#include <algorithm>
#include <cassert>
#include <span>
#include <utility>

namespace gatelab::core::cache {

namespace {

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr bool isOws(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trimOws(std::string_view s) noexcept {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// Key parts are framed as a 4-byte length followed by the bytes, so no part can pose as another
// (a query argument cannot imitate a key header's value); an absent field is a single marker
// byte, distinct from every framed part. Keys are internal: never shown, never persisted.
constexpr char kAbsent = '\xff';

/// Reserves a length slot; finishPart() fills it once the part's bytes are appended.
std::size_t beginPart(std::string& out) {
  const std::size_t at = out.size();
  out.append(4, '\0');
  return at;
}

void finishPart(std::string& out, std::size_t at) {
  const auto n = static_cast<std::uint32_t>(out.size() - at - 4);
  out[at] = static_cast<char>(n & 0xFF);
  out[at + 1] = static_cast<char>((n >> 8) & 0xFF);
  out[at + 2] = static_cast<char>((n >> 16) & 0xFF);
  out[at + 3] = static_cast<char>((n >> 24) & 0xFF);
}

void appendPart(std::string& out, std::string_view s) {
  const std::size_t at = beginPart(out);
  out += s;
  finishPart(out, at);
}

/// The values of every request line named `name`, joined with ',' and without whitespace
/// around the commas (RFC 9111 §4.1 allows this normalization), appended as one part.
void appendFieldValue(std::string& out, std::span<const Header> headers, std::string_view name) {
  std::size_t at = 0;
  bool found = false;
  for (const Header& h : headers) {
    if (!equalsIgnoreCase(h.name, name)) continue;
    if (found) {
      out.push_back(',');
    } else {
      at = beginPart(out);
      found = true;
    }
    std::string_view v = h.value;
    while (true) {
      const std::size_t comma = v.find(',');
      out += trimOws(v.substr(0, comma));
      if (comma == std::string_view::npos) break;
      out.push_back(',');
      v.remove_prefix(comma + 1);
    }
  }
  if (found) {
    finishPart(out, at);
  } else {
    out.push_back(kAbsent);
  }
}

/// The value of cookie `name` in the request's Cookie lines (first occurrence), if any.
std::optional<std::string_view> cookieValue(std::span<const Header> headers, std::string_view name) {
  for (const Header& h : headers) {
    if (!equalsIgnoreCase(h.name, "cookie")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      const std::size_t semi = v.find(';');
      const std::string_view pair = trimOws(v.substr(0, semi));
      const std::size_t eq = pair.find('=');
      if (eq != std::string_view::npos && trimOws(pair.substr(0, eq)) == name) {
        std::string_view value = trimOws(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        return value;
      }
      if (semi == std::string_view::npos) break;
      v.remove_prefix(semi + 1);
    }
  }
  return std::nullopt;
}

/// The media type of a Content-Type value, lower case, without parameters.
std::string mediaType(std::string_view contentType) {
  const std::size_t semi = contentType.find(';');
  return toLower(trimOws(contentType.substr(0, semi)));
}

bool mediaTypeAllowed(const std::vector<std::string>& allowed, std::string_view type) noexcept {
  const std::size_t slash = type.find('/');
  for (const std::string& a : allowed) {
    if (a == type) return true;
    if (slash != std::string_view::npos && a.size() == slash + 2 && a.ends_with("/*") &&
        type.substr(0, slash + 1) == std::string_view(a).substr(0, slash + 1)) {
      return true;
    }
  }
  return false;
}

/// `type/subtype` or `type/*`, lower-case RFC 9110 tokens.
bool validMediaRange(std::string_view s) noexcept {
  const std::size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  const std::string_view type = s.substr(0, slash);
  const std::string_view sub = s.substr(slash + 1);
  if (type == "*" || !isToken(type) || !(sub == "*" || isToken(sub))) return false;
  return std::none_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

/// Opaque part of an entity tag (weak prefix dropped), for the weak comparison of RFC 9110 §8.8.3.2.
std::string_view opaqueTag(std::string_view tag) noexcept {
  tag = trimOws(tag);
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  return tag;
}

/// True when If-None-Match `value` lists `etag` (weak comparison) or is "*".
bool noneMatchHits(std::string_view value, std::string_view etag) noexcept {
  value = trimOws(value);
  if (value == "*") return true;
  if (etag.empty()) return false;
  const std::string_view want = opaqueTag(etag);
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && (isOws(value[i]) || value[i] == ',')) ++i;
    const std::size_t start = i;
    if (value.substr(i).starts_with("W/")) i += 2;
    if (i < value.size() && value[i] == '"') {
      const std::size_t close = value.find('"', i + 1);
      if (close == std::string_view::npos) return false;
      i = close + 1;
    } else {
      while (i < value.size() && value[i] != ',') ++i;
    }
    if (opaqueTag(value.substr(start, i - start)) == want) return true;
  }
  return false;
}

bool isHopByHop(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 8> kHop{"connection", "keep-alive",        "proxy-connection", "te",
                                                        "trailer",    "transfer-encoding", "upgrade",          "age"};
  return std::any_of(kHop.begin(), kHop.end(), [&](std::string_view h) { return equalsIgnoreCase(name, h); });
}

bool listedIn(const std::vector<std::string>& lowerNames, std::string_view name) noexcept {
  return std::any_of(lowerNames.begin(), lowerNames.end(), [&](const std::string& n) { return equalsIgnoreCase(n, name); });
}

Duration nonNegative(Duration d) noexcept { return d < Duration::zero() ? Duration::zero() : d; }

bool isUnsafeMethod(std::string_view m) noexcept {
  return !(m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE");
}

}  // namespace

const char* toString(CacheStatus s) noexcept {
  switch (s) {
    case CacheStatus::kHit: return "Hit";
    case CacheStatus::kMiss: return "Miss";
    case CacheStatus::kStale: return "Stale";
    case CacheStatus::kBypass: return "Bypass";
  }
  return "?";
}

const char* toString(LookupReason r) noexcept {
  switch (r) {
    case LookupReason::kFresh: return "fresh";
    case LookupReason::kNotCached: return "not_cached";
    case LookupReason::kExpired: return "expired";
    case LookupReason::kTooOld: return "too_old";
    case LookupReason::kMethod: return "method";
    case LookupReason::kRange: return "range";
    case LookupReason::kRequestNoStore: return "request_no_store";
    case LookupReason::kRequestNoCache: return "request_no_cache";
  }
  return "?";
}

const char* toString(StoreOutcome o) noexcept {
  switch (o) {
    case StoreOutcome::kStored: return "stored";
    case StoreOutcome::kNotAllowed: return "not_allowed";
    case StoreOutcome::kHeadResponse: return "head_response";
    case StoreOutcome::kStatus: return "status";
    case StoreOutcome::kContentType: return "content_type";
    case StoreOutcome::kNoStore: return "no_store";
    case StoreOutcome::kPrivate: return "private";
    case StoreOutcome::kNoCache: return "no_cache";
    case StoreOutcome::kAuthorization: return "authorization";
    case StoreOutcome::kSetCookie: return "set_cookie";
    case StoreOutcome::kVaryStar: return "vary_star";
    case StoreOutcome::kTooLarge: return "too_large";
    case StoreOutcome::kNotFresh: return "not_fresh";
  }
  return "?";
}

// ---- create ---------------------------------------------------------------------------------------

std::optional<ResponseCache> ResponseCache::create(CacheSpec spec, SpecErrors& errors) {
  const std::size_t before = errors.size();
  auto item = [](std::string_view list, std::size_t i) { return std::string(list) + "[" + std::to_string(i) + "]"; };

  if (spec.ttl <= Duration::zero()) errors.push_back({"ttl", "must be greater than 0s"});
  if (spec.staleIfError < Duration::zero()) errors.push_back({"staleIfError", "must not be negative"});

  if (spec.statuses.empty()) errors.push_back({"statuses", "list at least one status"});
  for (std::size_t i = 0; i < spec.statuses.size(); ++i) {
    const std::uint16_t s = spec.statuses[i];
    if (s < 200 || s > 599) {
      errors.push_back({item("statuses", i), "status " + std::to_string(s) + " is not a final status (200..599)"});
    } else if (s == 206 || s == 304) {
      errors.push_back({item("statuses", i), "status " + std::to_string(s) + " cannot be cached: " +
                                                 (s == 206 ? "a partial response is not the whole representation"
                                                           : "a 304 has no body to serve")});
    } else if (std::find(spec.statuses.begin(), spec.statuses.begin() + static_cast<std::ptrdiff_t>(i), s) !=
               spec.statuses.begin() + static_cast<std::ptrdiff_t>(i)) {
      errors.push_back({item("statuses", i), "duplicate status " + std::to_string(s)});
    }
  }

  if (spec.contentTypes.empty()) errors.push_back({"contentTypes", "list at least one media type"});
  for (std::size_t i = 0; i < spec.contentTypes.size(); ++i) {
    std::string& t = spec.contentTypes[i];
    if (!validMediaRange(t)) {
      errors.push_back({item("contentTypes", i), "\"" + t + "\" is not a media type: write type/subtype (application/json) "
                                                 "or type/* (text/*) in lower case, without parameters"});
    } else if (std::find(spec.contentTypes.begin(), spec.contentTypes.begin() + static_cast<std::ptrdiff_t>(i), t) !=
               spec.contentTypes.begin() + static_cast<std::ptrdiff_t>(i)) {
      errors.push_back({item("contentTypes", i), "duplicate media type \"" + t + "\""});
    }
  }

  if (spec.methods.empty()) errors.push_back({"methods", "list GET, HEAD or both"});
  bool get = false;
  bool head = false;
  for (std::size_t i = 0; i < spec.methods.size(); ++i) {
    const std::string& m = spec.methods[i];
    bool& seen = m == "GET" ? get : head;
    if (m != "GET" && m != "HEAD") {
      errors.push_back({item("methods", i), "method \"" + m + "\" cannot be cached: only GET and HEAD answers are reused"});
    } else if (seen) {
      errors.push_back({item("methods", i), "duplicate method \"" + m + "\""});
    } else {
      seen = true;
    }
  }

  CacheKeySpec& key = spec.key;
  if (key.query == QueryKey::kListed && key.queryArgs.empty()) {
    errors.push_back({"key.queryArgs", "list at least one argument name (or use all / none)"});
  }
  if (key.query != QueryKey::kListed && !key.queryArgs.empty()) {
    errors.push_back({"key.queryArgs", "argument names are only used with QueryKey::kListed"});
  }
  auto checkList = [&](std::vector<std::string>& list, std::string_view field, std::string_view what, auto valid,
                       bool ignoreCase) {
    if (list.size() > kMaxKeyItems) {
      errors.push_back({std::string(field), "at most " + std::to_string(kMaxKeyItems) + " " + std::string(what) + "s"});
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (std::string why = valid(list[i]); !why.empty()) {
        errors.push_back({item(field, i), why});
        continue;
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (ignoreCase ? equalsIgnoreCase(list[j], list[i]) : list[j] == list[i]) {
          errors.push_back({item(field, i), "duplicate " + std::string(what) + " \"" + list[i] + "\""});
          break;
        }
      }
    }
  };
  checkList(key.queryArgs, "key.queryArgs", "query argument", [](const std::string& a) -> std::string {
    if (a.empty()) return "an argument name must not be empty";
    if (a.find_first_of("&=#") != std::string::npos) return "an argument name cannot contain '&', '=' or '#'";
    return {};
  }, false);
  checkList(key.headers, "key.headers", "header", [](const std::string& h) -> std::string {
    if (!isToken(h)) return "\"" + h + "\" is not a header field name (an RFC 9110 token)";
    if (equalsIgnoreCase(h, "cookie")) return "key on individual cookies with key.cookies, not on the whole Cookie field";
    return {};
  }, true);
  checkList(key.cookies, "key.cookies", "cookie", [](const std::string& c) -> std::string {
    if (!isToken(c)) return "\"" + c + "\" is not a cookie name (an RFC 6265 token)";
    return {};
  }, false);

  const bool memoryValid = spec.maxMemory >= kMinCacheMemory && spec.maxMemory <= kMaxCacheMemory;
  if (!memoryValid) {
    errors.push_back({"maxMemory", "must be between 64 KiB and 64 GiB, got " + std::to_string(spec.maxMemory) + " bytes"});
  }
  if (spec.maxEntryBytes < 1024) {
    errors.push_back({"maxEntryBytes", "must be at least 1 KiB (an entry's header fields and bookkeeping count too)"});
  } else if (memoryValid && spec.maxEntryBytes > spec.maxMemory) {
    errors.push_back({"maxEntryBytes", "must not exceed maxMemory (" + std::to_string(spec.maxMemory) + " bytes)"});
  }

  if (errors.size() != before) return std::nullopt;
  ResponseCache cache;
  for (std::string& h : key.headers) h = toLower(h);
  cache.getAllowed_ = get;
  cache.headAllowed_ = head;
  cache.spec_ = std::move(spec);
  return cache;
}

// ---- keys -----------------------------------------------------------------------------------------

void ResponseCache::normalizeQuery(std::string_view query, std::string& out) {
  out.clear();
  if (spec_.key.query == QueryKey::kNone) return;
  scratchArgs_.clear();
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view arg = query.substr(0, amp);
    if (!arg.empty()) {
      const std::string_view name = arg.substr(0, arg.find('='));
      if (spec_.key.query == QueryKey::kAll ||
          std::find(spec_.key.queryArgs.begin(), spec_.key.queryArgs.end(), name) != spec_.key.queryArgs.end()) {
        scratchArgs_.push_back(arg);
      }
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  // Sorted whole arguments: order-insensitive, and repeated names keep their values in order.
  std::sort(scratchArgs_.begin(), scratchArgs_.end());
  for (std::string_view a : scratchArgs_) {
    if (!out.empty()) out.push_back('&');
    out += a;
  }
}

void ResponseCache::buildKey(const RequestView& request) {
  scratchHost_.assign(request.host);
  for (char& c : scratchHost_) c = lower(c);
  normalizeQuery(request.query, scratchQuery_);
  std::string& key = scratchKey_;
  key.clear();
  appendPart(key, scratchHost_);
  appendPart(key, request.path);
  appendPart(key, scratchQuery_);
  for (const std::string& h : spec_.key.headers) appendFieldValue(key, request.headers, h);
  for (const std::string& c : spec_.key.cookies) {
    if (auto v = cookieValue(request.headers, c)) {
      appendPart(key, *v);
    } else {
      key.push_back(kAbsent);
    }
  }
  if (spec_.key.consumer) {
    if (request.consumer.empty()) {
      key.push_back(kAbsent);  // anonymous requests share their entries
    } else {
      appendPart(key, request.consumer);
    }
  }
}

void ResponseCache::varyValues(const RequestView& request, const std::vector<std::string>& names, std::string& out) const {
  out.clear();
  for (const std::string& n : names) appendFieldValue(out, request.headers, n);
}

// ---- lookup ---------------------------------------------------------------------------------------

CacheLookup ResponseCache::lookup(const RequestView& request, TimePoint now) {
  CacheLookup out;
  auto finish = [&](CacheStatus status, LookupReason reason) {
    out.status = status;
    out.reason = reason;
    ++stats_.lookups[static_cast<std::size_t>(status)];
    ++stats_.reasons[static_cast<std::size_t>(reason)];
    return std::move(out);
  };
  auto keepKey = [&] {
    out.key = scratchKey_;
    out.host = scratchHost_;
    out.path = std::string(request.path);
    out.query = scratchQuery_;
  };

  const bool isGet = request.method == "GET";
  const bool isHead = request.method == "HEAD";
  out.headOnly = isHead;
  if (!((isGet && getAllowed_) || (isHead && headAllowed_))) {
    if (isUnsafeMethod(request.method)) {
      out.invalidates = true;
      buildKey(request);
      keepKey();
    }
    return finish(CacheStatus::kBypass, LookupReason::kMethod);
  }
  // One pass over the fields this function reads (a lookup is on every request's path).
  bool range = false;
  bool hasCacheControl = false;
  std::optional<std::string_view> pragma;
  std::optional<std::string_view> ifNoneMatch;
  CacheControl cc;
  for (const Header& h : request.headers) {
    if (equalsIgnoreCase(h.name, "range")) {
      range = true;
    } else if (equalsIgnoreCase(h.name, "cache-control")) {
      hasCacheControl = true;
      if (spec_.respectCacheControl) parseCacheControlValue(h.value, cc);
    } else if (equalsIgnoreCase(h.name, "pragma")) {
      if (!pragma) pragma = h.value;
    } else if (equalsIgnoreCase(h.name, "if-none-match")) {
      if (!ifNoneMatch) ifNoneMatch = h.value;
    }
  }
  if (range) return finish(CacheStatus::kBypass, LookupReason::kRange);

  if (spec_.respectCacheControl) {
    if (cc.noStore) return finish(CacheStatus::kBypass, LookupReason::kRequestNoStore);
    out.onlyIfCached = cc.onlyIfCached;
    bool noCache = cc.noCache || (cc.maxAge && *cc.maxAge == Duration::zero());
    // Pragma: no-cache counts only without Cache-Control (RFC 9111 §5.4).
    if (!noCache && !hasCacheControl && pragma) noCache = hasListMember(*pragma, "no-cache");
    if (noCache) {
      // The client wants a fresh answer: forward, and let it refresh the entry.
      buildKey(request);
      keepKey();
      out.mayStore = !out.onlyIfCached;
      return finish(CacheStatus::kBypass, LookupReason::kRequestNoCache);
    }
  }

  buildKey(request);
  auto miss = [&](LookupReason reason) {
    keepKey();
    out.mayStore = !out.onlyIfCached;
    return finish(CacheStatus::kMiss, reason);
  };
  const auto g = groups_.find(hash128(scratchKey_));
  if (g == groups_.end() || g->second.key != scratchKey_) return miss(LookupReason::kNotCached);
  Group& group = g->second;
  varyValues(request, group.varyNames, scratchVary_);
  const auto v = std::find_if(group.variants.begin(), group.variants.end(),
                              [&](const Lru::iterator& it) { return it->varyValues == scratchVary_; });
  if (v == group.variants.end()) return miss(LookupReason::kNotCached);

  const Lru::iterator it = *v;
  const Duration age = it->initialAge + nonNegative(now - it->storedAt);
  if (age < it->freshFor) {
    const bool tooOld = (cc.maxAge && age > *cc.maxAge) || (cc.minFresh && it->freshFor - age < *cc.minFresh);
    if (tooOld) return miss(LookupReason::kTooOld);
    lru_.splice(lru_.begin(), lru_, it);
    out.response = it->response;
    out.age = age;
    if (ifNoneMatch) out.notModified = noneMatchHits(*ifNoneMatch, it->etag);
    out.onlyIfCached = false;
    if (!isHead && it->response->body) stats_.hitBytes += it->response->body->size();
    return finish(CacheStatus::kHit, LookupReason::kFresh);
  }
  if (age < it->freshFor + it->staleWindow) {
    out.stale = it->response;
    out.staleStoredAt = it->storedAt;
    out.staleInitialAge = it->initialAge;
    out.staleUntil = it->storedAt + (it->freshFor + it->staleWindow - it->initialAge);
  } else {
    ++stats_.expired;
    removeEntry(it);
  }
  return miss(LookupReason::kExpired);
}

// ---- store ----------------------------------------------------------------------------------------

StoreResult ResponseCache::store(const CacheLookup& lookup, const RequestView& request, UpstreamResponse response,
                                 TimePoint sentAt, TimePoint now) {
  StoreResult result;
  auto done = [&](StoreOutcome o) {
    result.outcome = o;
    ++stats_.stores[static_cast<std::size_t>(o)];
    return result;
  };
  if (!lookup.mayStore || lookup.key.empty()) return done(StoreOutcome::kNotAllowed);
  if (request.method == "HEAD") return done(StoreOutcome::kHeadResponse);
  if (std::find(spec_.statuses.begin(), spec_.statuses.end(), response.status) == spec_.statuses.end()) {
    return done(StoreOutcome::kStatus);
  }

  const CacheControl cc = parseCacheControl(response.headers);
  if (cc.noStore) return done(StoreOutcome::kNoStore);
  if (cc.isPrivate) return done(StoreOutcome::kPrivate);
  if (cc.noCache) return done(StoreOutcome::kNoCache);
  // RFC 9111 §3.5: an answer to a request with credentials is stored only when the response
  // says a shared cache may reuse it, or when the key holds the consumer those credentials
  // established (an anonymous request's credentials established nobody: no exception then).
  const bool keyedByConsumer = spec_.key.consumer && !request.consumer.empty();
  if (request.header("authorization") && !keyedByConsumer && !(cc.isPublic || cc.sMaxAge || cc.mustRevalidate)) {
    return done(StoreOutcome::kAuthorization);
  }
  if (findField(response.headers, "set-cookie") && !listedIn(cc.noCacheFields, "set-cookie") &&
      !listedIn(cc.privateFields, "set-cookie")) {
    return done(StoreOutcome::kSetCookie);
  }

  std::vector<std::string> vary;
  for (const HeaderField& f : response.headers) {
    if (!equalsIgnoreCase(f.name, "vary")) continue;
    std::string_view v = f.value;
    while (!v.empty()) {
      const std::size_t comma = v.find(',');
      const std::string_view name = trimOws(v.substr(0, comma));
      if (name == "*") return done(StoreOutcome::kVaryStar);
      if (!name.empty()) vary.push_back(toLower(name));
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  std::sort(vary.begin(), vary.end());
  vary.erase(std::unique(vary.begin(), vary.end()), vary.end());

  const std::size_t bodySize = response.body ? response.body->size() : 0;
  if (auto ct = findField(response.headers, "content-type")) {
    if (!mediaTypeAllowed(spec_.contentTypes, mediaType(response.headers[*ct].value))) {
      return done(StoreOutcome::kContentType);
    }
  } else if (bodySize != 0) {
    return done(StoreOutcome::kContentType);
  }

  // Freshness lifetime for a shared cache (RFC 9111 §4.2.1): s-maxage, max-age, Expires - Date,
  // else the configured ttl (in place of a heuristic).
  Duration freshFor = spec_.ttl;
  Duration staleWindow = spec_.staleIfError;
  if (spec_.respectCacheControl) {
    if (cc.invalidFreshness) {
      freshFor = Duration::zero();
    } else if (cc.sMaxAge) {
      freshFor = *cc.sMaxAge;
    } else if (cc.maxAge) {
      freshFor = *cc.maxAge;
    } else if (auto e = findField(response.headers, "expires")) {
      const auto expires = parseHttpDate(response.headers[*e].value);
      const auto d = findField(response.headers, "date");
      const auto date = d ? parseHttpDate(response.headers[*d].value) : std::nullopt;
      if (!expires) {
        freshFor = Duration::zero();  // Expires: 0 and other invalid dates mean "already expired"
      } else if (date) {
        freshFor = std::chrono::seconds(std::max<std::int64_t>(0, *expires - *date));
      }
      // A valid Expires without Date: no clock to compare with; the ttl applies (docs/caching.md).
    }
    // RFC 9111 §4.2.4: must-revalidate, proxy-revalidate and s-maxage forbid serving stale without
    // revalidation; an explicit stale-if-error (RFC 5861) is the origin's permission to.
    if (cc.staleIfError) {
      staleWindow = *cc.staleIfError;
    } else if (cc.mustRevalidate || cc.proxyRevalidate || cc.sMaxAge) {
      staleWindow = Duration::zero();
    }
  }
  Duration initialAge = nonNegative(now - sentAt);
  if (auto a = findField(response.headers, "age")) {
    std::string_view text = trimOws(response.headers[*a].value);
    std::int64_t secs = 0;
    bool ok = !text.empty();
    for (char c : text) {
      if (c < '0' || c > '9') {
        ok = false;
        break;
      }
      if (secs < kMaxDeltaSeconds) secs = secs * 10 + (c - '0');
    }
    if (ok) initialAge += std::chrono::seconds(std::min(secs, kMaxDeltaSeconds));
  }
  if (initialAge >= freshFor + staleWindow) return done(StoreOutcome::kNotFresh);

  // The stored copy: without hop-by-hop fields, Age, and what a qualified no-cache / private names.
  auto stored = std::make_shared<CachedResponse>();
  stored->status = response.status;
  stored->body = response.body ? std::move(response.body) : std::make_shared<const std::string>();
  std::vector<std::string> connectionListed;
  for (const HeaderField& f : response.headers) {
    if (equalsIgnoreCase(f.name, "connection")) {
      std::string_view v = f.value;
      while (!v.empty()) {
        const std::size_t comma = v.find(',');
        connectionListed.push_back(toLower(trimOws(v.substr(0, comma))));
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
      }
    }
  }
  std::string etag;
  std::size_t bytes = kEntryOverheadBytes + stored->body->size() + lookup.key.size() + lookup.host.size() +
                      lookup.path.size() + lookup.query.size();
  for (HeaderField& f : response.headers) {
    if (isHopByHop(f.name) || listedIn(cc.noCacheFields, f.name) || listedIn(cc.privateFields, f.name) ||
        listedIn(connectionListed, f.name)) {
      continue;
    }
    if (equalsIgnoreCase(f.name, "etag") && etag.empty()) etag = f.value;
    bytes += f.name.size() + f.value.size();
    stored->headers.push_back(std::move(f));
  }
  varyValues(request, vary, scratchVary_);
  bytes += scratchVary_.size() + etag.size();
  for (const std::string& n : vary) bytes += n.size();
  if (bytes > spec_.maxEntryBytes) return done(StoreOutcome::kTooLarge);

  // Replace what the key held for these Vary values; a changed Vary list replaces every variant.
  const Hash128 id = hash128(lookup.key);
  if (auto g = groups_.find(id); g != groups_.end()) {
    Group& group = g->second;
    if (group.key != lookup.key || group.varyNames != vary) {
      const std::vector<Lru::iterator> old = group.variants;
      for (Lru::iterator it : old) removeEntry(it);  // may erase the group
    } else {
      auto same = std::find_if(group.variants.begin(), group.variants.end(),
                               [&](const Lru::iterator& it) { return it->varyValues == scratchVary_; });
      if (same != group.variants.end()) {
        removeEntry(*same);
      } else if (group.variants.size() >= kMaxVariantsPerKey) {
        ++stats_.evictions;
        ++result.evicted;
        removeEntry(group.variants.front());  // the key's oldest variant
      }
    }
  }
  while (stats_.bytes + bytes > spec_.maxMemory && !lru_.empty()) {
    ++stats_.evictions;
    ++result.evicted;
    removeEntry(std::prev(lru_.end()));
  }

  auto [g, created] = groups_.try_emplace(id);
  Group& group = g->second;
  if (created) {
    group.key = lookup.key;
    group.host = lookup.host;
    group.path = lookup.path;
    group.query = lookup.query;
    group.varyNames = std::move(vary);
  }
  lru_.push_front(Entry{id, scratchVary_, std::move(stored), now, initialAge, freshFor, staleWindow, bytes, std::move(etag)});
  group.variants.push_back(lru_.begin());
  stats_.bytes += bytes;
  ++stats_.entries;
  return done(StoreOutcome::kStored);
}

// ---- stale, invalidation, purge ---------------------------------------------------------------------

std::optional<StaleResponse> ResponseCache::staleOnError(const CacheLookup& lookup, UpstreamFailure failure,
                                                         std::uint16_t status, TimePoint now) {
  const bool qualifies =
      failure != UpstreamFailure::kStatus || status == 500 || status == 502 || status == 503 || status == 504;
  if (!lookup.stale || !qualifies || now >= lookup.staleUntil) {
    ++stats_.staleRefused;
    return std::nullopt;
  }
  ++stats_.lookups[static_cast<std::size_t>(CacheStatus::kStale)];
  if (!lookup.headOnly && lookup.stale->body) stats_.hitBytes += lookup.stale->body->size();
  return StaleResponse{lookup.stale, lookup.staleInitialAge + nonNegative(now - lookup.staleStoredAt)};
}

void ResponseCache::removeEntry(Lru::iterator it) {
  const auto g = groups_.find(it->group);
  assert(g != groups_.end());
  std::vector<Lru::iterator>& variants = g->second.variants;
  variants.erase(std::find(variants.begin(), variants.end(), it));
  if (variants.empty()) groups_.erase(g);
  stats_.bytes -= it->bytes;
  --stats_.entries;
  lru_.erase(it);
}

std::size_t ResponseCache::removeGroups(const std::function<bool(const Group&)>& match) {
  std::vector<Lru::iterator> doomed;
  for (const auto& [id, group] : groups_) {
    if (match(group)) doomed.insert(doomed.end(), group.variants.begin(), group.variants.end());
  }
  for (Lru::iterator it : doomed) removeEntry(it);
  stats_.purged += doomed.size();
  return doomed.size();
}

std::size_t ResponseCache::invalidate(const CacheLookup& lookup, std::uint16_t status) {
  if (!lookup.invalidates || status < 200 || status >= 400) return 0;
  return removeGroups([&](const Group& g) { return g.host == lookup.host && g.path == lookup.path; });
}

std::size_t ResponseCache::purge(std::string_view host, std::string_view path, std::string_view query) {
  const std::string h = toLower(host);
  std::string q;
  normalizeQuery(query, q);
  return removeGroups([&](const Group& g) { return g.host == h && g.path == path && g.query == q; });
}

std::size_t ResponseCache::purgePrefix(std::string_view host, std::string_view pathPrefix) {
  const std::string h = toLower(host);
  return removeGroups(
      [&](const Group& g) { return (h.empty() || g.host == h) && std::string_view(g.path).starts_with(pathPrefix); });
}

std::size_t ResponseCache::purgeAll() {
  const std::size_t n = lru_.size();
  lru_.clear();
  groups_.clear();
  stats_.bytes = 0;
  stats_.entries = 0;
  stats_.purged += n;
  return n;
}

std::size_t ResponseCache::sweep(TimePoint now) {
  std::size_t removed = 0;
  for (auto it = lru_.begin(); it != lru_.end();) {
    const auto next = std::next(it);
    if (it->initialAge + nonNegative(now - it->storedAt) >= it->freshFor + it->staleWindow) {
      removeEntry(it);
      ++removed;
    }
    it = next;
  }
  stats_.expired += removed;
  return removed;
}

std::string ResponseCache::ageHeaderValue(Duration age) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(nonNegative(age)).count();
  return std::to_string(std::min<std::int64_t>(secs, kMaxDeltaSeconds));
}

}  // namespace gatelab::core::cache
