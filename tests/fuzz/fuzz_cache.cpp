// Fuzz target: the response cache's parsers and state (gateway/core/cache/). The input is split
// into lines: request Cache-Control, response Cache-Control, Expires, Date, Vary, Age, the query,
// a key header's value. Any bytes parse without crashing; the cache stores and looks up with them
// and keeps its invariants: accounted bytes within max_memory, entry counts consistent with
// purges, a hit only for a stored response, a stale answer only inside its window.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/cache/cache_control.hpp"
#include "gateway/core/cache/response_cache.hpp"

namespace {

using namespace gatelab::core;
using namespace gatelab::core::cache;

std::vector<std::string_view> lines(std::string_view in) {
  std::vector<std::string_view> out;
  while (out.size() < 8) {
    const std::size_t nl = in.find('\n');
    out.push_back(in.substr(0, nl));
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  while (out.size() < 8) out.emplace_back();
  return out;
}

ResponseCache makeCache() {
  CacheSpec spec;
  spec.ttl = std::chrono::seconds(60);
  spec.contentTypes = {"application/json", "text/*"};
  spec.key.headers = {"X-K"};
  spec.key.cookies = {"c"};
  spec.maxMemory = 64 * 1024;
  spec.maxEntryBytes = 8 * 1024;
  spec.staleIfError = std::chrono::seconds(30);
  SpecErrors errors;
  auto c = ResponseCache::create(spec, errors);
  if (!c) std::abort();
  return std::move(*c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  {
    CacheControl cc;
    parseCacheControlValue(in, cc);
    if (cc.maxAge && (cc.maxAge->count() < 0 || *cc.maxAge > std::chrono::seconds(kMaxDeltaSeconds))) std::abort();
    (void)parseHttpDate(in);
  }
  const std::vector<std::string_view> l = lines(in);
  static ResponseCache cache = makeCache();  // state carries over between inputs, as in a proxy
  static std::int64_t clock = 0;
  clock += 1 + static_cast<std::int64_t>(size % 50);
  const TimePoint now = atOffset(std::chrono::seconds(clock));

  const std::vector<Header> headers = {{"Cache-Control", l[0]}, {"X-K", l[7]}, {"Accept", l[4]},
                                       {"Cookie", l[6]},        {"If-None-Match", l[5]}};
  RequestView req;
  req.method = size % 7 == 0 ? "HEAD" : (size % 11 == 0 ? "POST" : "GET");
  req.host = "h";
  req.path = std::string_view("/p").substr(0, 1 + size % 2);
  req.query = l[6];
  req.headers = headers;

  const CacheLookup look = cache.lookup(req, now);
  if (look.status == CacheStatus::kHit && look.response == nullptr) std::abort();
  UpstreamResponse r;
  r.status = size % 5 == 0 ? 404 : 200;
  r.headers = {{"Content-Type", "application/json"},
               {"Cache-Control", std::string(l[1])},
               {"Expires", std::string(l[2])},
               {"Date", std::string(l[3])},
               {"Vary", std::string(l[4])},
               {"Age", std::string(l[5])}};
  r.body = std::make_shared<const std::string>(in.substr(0, 4096));
  (void)cache.store(look, req, std::move(r), now, now);
  if (cache.stats().bytes > cache.spec().maxMemory) std::abort();

  const CacheLookup again = cache.lookup(req, now);
  if (again.status == CacheStatus::kHit && again.age < Duration::zero()) std::abort();
  if (auto s = cache.staleOnError(again, UpstreamFailure::kConnect, 0, now)) {
    if (again.status != CacheStatus::kMiss || s->response == nullptr) std::abort();
  }
  if (req.method == std::string_view("POST")) (void)cache.invalidate(look, 204);
  if (size % 13 == 0) {
    const std::uint64_t before = cache.stats().entries;
    const std::size_t removed = cache.purgePrefix("", "/");
    if (removed != before || cache.stats().entries != 0 || cache.stats().bytes != 0) std::abort();
  }
  (void)cache.sweep(now);
  return 0;
}
