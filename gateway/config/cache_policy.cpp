// The `cache` policy: builds a core::cache::CacheSpec (freshness default, cacheable statuses,
// media types and methods, the key, the memory bound, serve-stale window, Cache-Control
// handling). Semantics: docs/caching.md. The core's rules (status ranges, media-type syntax,
// duplicates, size relations) run last and their errors are reported at the YAML node they
// concern.

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "gateway/config/detail/policy_support.hpp"
#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"
#include "gateway/core/cache/response_cache.hpp"

namespace gatelab::config::detail {
namespace {

// Allowed keys, in documentation order.
constexpr std::array<std::string_view, 9> kCacheKeys{"ttl",        "statuses",       "content_types",
                                                     "methods",    "key",            "max_memory",
                                                     "max_entry_size", "stale_if_error", "respect_cache_control"};
constexpr std::array<std::string_view, 4> kKeyKeys{"query", "headers", "cookies", "consumer"};

constexpr std::string_view kTtlAllowed = "a duration > 0, e.g. 5m (used when the response states no freshness)";
constexpr std::string_view kStatusesAllowed =
    "a list of final statuses 200..599 such as [200, 301, 404]; not 206 or 304, each once";
constexpr std::string_view kTypesAllowed =
    "a list of media types in lower case without parameters: application/json, or a whole type text/*";
constexpr std::string_view kMethodsAllowed = "[GET, HEAD], [GET] or [HEAD] (HEAD is answered from the GET entry)";
constexpr std::string_view kKeyAllowed =
    "a mapping {query: all | none | [names], headers: [names], cookies: [names], consumer: true | false}";
constexpr std::string_view kQueryAllowed =
    "all (every argument, order ignored), none (query ignored), or a list of argument names to keep";
constexpr std::string_view kHeadersAllowed = "a list of request header names (RFC 9110 tokens), not Cookie";
constexpr std::string_view kCookiesAllowed = "a list of cookie names (RFC 6265 tokens)";
constexpr std::string_view kMemoryAllowed =
    "a size from 64KiB to 64GiB: bytes as an integer, or with a unit B, KiB, MiB, GiB (nginx k, m, g also)";
constexpr std::string_view kEntryAllowed =
    "a size from 1KiB up to max_memory: bytes as an integer, or with a unit B, KiB, MiB, GiB (nginx k, m, g also)";
constexpr std::string_view kStaleAllowed = "a duration, 0s (the default) to never serve stale, e.g. 1m";
constexpr std::string_view kRespectAllowed =
    "true (default: honour request and response Cache-Control) or false (ttl for everything, clients cannot bypass)";

/// A size in bytes: an integer, or a number with a binary unit ("64MiB", "512KiB", "1GiB", "100B",
/// nginx "64m", "512k", "1g"). Decimal SI units (MB, kB) are refused: they differ from MiB by 5%
/// and nginx reads "m" as MiB, so the spelling must be unambiguous.
std::optional<std::uint64_t> readByteSize(Sink& sink, const Node& node, std::string_view allowed) {
  if (!node.yaml.IsScalar()) {
    sink.error(node.mark, node.path, "expected a size, got " + describe(node.yaml), std::string(allowed));
    return std::nullopt;
  }
  const std::string& text = node.yaml.Scalar();
  std::size_t i = 0;
  std::uint64_t n = 0;
  constexpr std::uint64_t kLimit = std::numeric_limits<std::uint64_t>::max() / 10;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > kLimit) {
      sink.error(node.mark, node.path, inQuotes(text) + " is too large", std::string(allowed));
      return std::nullopt;
    }
    n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) {
    sink.error(node.mark, node.path, inQuotes(text) + " is not a size", std::string(allowed));
    return std::nullopt;
  }
  std::string_view unit = std::string_view(text).substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  struct Unit {
    std::string_view name;
    unsigned shift;
  };
  static constexpr std::array<Unit, 11> kUnits{{{"", 0},
                                                {"B", 0},
                                                {"KiB", 10},
                                                {"MiB", 20},
                                                {"GiB", 30},
                                                {"k", 10},
                                                {"K", 10},
                                                {"m", 20},
                                                {"M", 20},
                                                {"g", 30},
                                                {"G", 30}}};
  for (const Unit& u : kUnits) {
    if (unit != u.name) continue;
    if (u.shift > 0 && n > (std::numeric_limits<std::uint64_t>::max() >> u.shift)) {
      sink.error(node.mark, node.path, inQuotes(text) + " is too large", std::string(allowed));
      return std::nullopt;
    }
    return n << u.shift;
  }
  std::string message = "unknown size unit " + inQuotes(unit) + " in " + inQuotes(text);
  const std::string lowerUnit = toLowerAscii(std::string(unit));
  if (lowerUnit == "kb" || lowerUnit == "mb" || lowerUnit == "gb") {
    const char prefix = lowerUnit[0] == 'k' ? 'K' : (lowerUnit[0] == 'm' ? 'M' : 'G');
    message += " (did you mean '" + std::string(1, prefix) + "iB'? sizes are binary: 1MiB = 1048576 bytes)";
  }
  sink.error(node.mark, node.path, message, std::string(allowed));
  return std::nullopt;
}

void readKey(Sink& sink, const Node& node, core::cache::CacheKeySpec& key, SpecFieldMap& fields, BuiltPolicy& built) {
  auto m = Mapping::open(sink, node, kKeyKeys, "the cache key");
  if (!m) return;
  if (auto n = m->get("query")) {
    fields.add("key.queryArgs", *n, std::string(kQueryAllowed));
    if (n->yaml.IsSequence()) {
      if (auto list = readStringList(sink, *n, "query argument", kQueryAllowed, false)) {
        addItems(fields, "key.queryArgs", *n, *list, kQueryAllowed);
        key.query = core::cache::QueryKey::kListed;
        key.queryArgs = valuesOf(*list);
      }
    } else if (auto word = readString(sink, *n, kQueryAllowed)) {
      static constexpr std::array<std::string_view, 2> kWords{"all", "none"};
      if (*word == "all") {
        key.query = core::cache::QueryKey::kAll;
      } else if (*word == "none") {
        key.query = core::cache::QueryKey::kNone;
      } else {
        sink.error(n->mark, n->path,
                   "unknown value " + inQuotes(*word) + didYouMean(*word, std::span<const std::string_view>(kWords)) +
                       "; a list of names is written [" + *word + "]",
                   std::string(kQueryAllowed));
      }
    }
  }
  if (auto n = m->get("headers")) {
    if (auto list = readStringList(sink, *n, "header", kHeadersAllowed, true, checkFieldName, /*ignoreCase=*/true)) {
      addItems(fields, "key.headers", *n, *list, kHeadersAllowed);
      key.headers = valuesOf(*list);
    }
  }
  if (auto n = m->get("cookies")) {
    if (auto list = readStringList(sink, *n, "cookie", kCookiesAllowed, true)) {
      addItems(fields, "key.cookies", *n, *list, kCookiesAllowed);
      key.cookies = valuesOf(*list);
    }
  }
  if (auto n = m->get("consumer")) {
    if (auto b = readBool(sink, *n)) {
      key.consumer = *b;
      // The consumer is what jwt / key_auth established: the loader checks they stand before.
      if (*b) built.readsIdentity = Located{"key consumer", n->mark, n->path};
    }
  }
}

}  // namespace

BuiltPolicy buildCachePolicy(Sink& sink, const Node& body, const PolicyContext& /*context*/) {
  BuiltPolicy built;
  // `- cache: {}` and `- cache:` (null) both mean "all defaults".
  Node bodyOrEmpty = body;
  if (body.yaml.IsNull()) bodyOrEmpty.yaml = YAML::Node(YAML::NodeType::Map);
  auto m = Mapping::open(sink, bodyOrEmpty, kCacheKeys, "a cache policy");
  if (!m) return built;
  const std::size_t before = sink.count();
  core::cache::CacheSpec spec;
  SpecFieldMap fields(body, "a cache policy the core accepts (docs/caching.md)");

  if (auto n = m->get("ttl")) {
    fields.add("ttl", *n, std::string(kTtlAllowed));
    if (auto d = readPositiveDuration(sink, *n)) spec.ttl = *d;
  }
  if (auto n = m->get("statuses")) {
    fields.add("statuses", *n, std::string(kStatusesAllowed));
    if (auto items = readList(sink, *n, kStatusesAllowed)) {
      spec.statuses.clear();
      for (std::size_t i = 0; i < items->size(); ++i) {
        const Node& item = (*items)[i];
        if (auto s = readInt(sink, item, 0, 65535)) {  // the core names the allowed range
          fields.add("statuses[" + std::to_string(spec.statuses.size()) + "]", item, std::string(kStatusesAllowed));
          spec.statuses.push_back(static_cast<std::uint16_t>(*s));
        }
      }
    }
  }
  if (auto n = m->get("content_types")) {
    if (auto list = readStringList(sink, *n, "media type", kTypesAllowed, false, {}, /*ignoreCase=*/true)) {
      addItems(fields, "contentTypes", *n, *list, kTypesAllowed);
      spec.contentTypes = valuesOf(*list);
    }
  }
  if (auto n = m->get("methods")) {
    if (auto list = readStringList(sink, *n, "method", kMethodsAllowed, false, checkMethodName)) {
      addItems(fields, "methods", *n, *list, kMethodsAllowed);
      spec.methods = valuesOf(*list);
    }
  }
  if (auto n = m->get("key")) readKey(sink, *n, spec.key, fields, built);
  if (auto n = m->get("max_memory")) {
    fields.add("maxMemory", *n, std::string(kMemoryAllowed));
    if (auto b = readByteSize(sink, *n, kMemoryAllowed)) spec.maxMemory = *b;
  }
  if (auto n = m->get("max_entry_size")) {
    fields.add("maxEntryBytes", *n, std::string(kEntryAllowed));
    if (auto b = readByteSize(sink, *n, kEntryAllowed)) spec.maxEntryBytes = *b;
  }
  if (auto n = m->get("stale_if_error")) {
    fields.add("staleIfError", *n, std::string(kStaleAllowed));
    if (auto d = readDuration(sink, *n)) spec.staleIfError = *d;
  }
  if (auto n = m->get("respect_cache_control")) {
    fields.add("respectCacheControl", *n, std::string(kRespectAllowed));
    if (auto b = readBool(sink, *n)) spec.respectCacheControl = *b;
  }

  if (sink.count() == before) {
    core::SpecErrors errors;
    (void)core::cache::ResponseCache::create(spec, errors);
    fields.renameInMessages("maxMemory", "max_memory");
    fields.renameInMessages("maxEntryBytes", "max_entry_size");
    fields.renameInMessages("QueryKey::kListed", "a list under query");
    fields.report(sink, errors);
  }
  if (sink.count() == before) built.spec = PolicySpec{CachePolicyConfig{std::move(spec)}};
  return built;
}

}  // namespace gatelab::config::detail
