#include "gateway/core/router.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <cstring>
#include <functional>
#include <unordered_map>
#include <utility>

namespace gatelab::core {

namespace {

// Keys are short (path segments, host names): an inlined word-at-a-time multiply-xorshift hash
// is several times cheaper than the out-of-line std::hash, and plenty for hash-table buckets.
// Not meant to resist hash flooding: keys come from the config, lookups only probe them.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15u;
    std::uint64_t h = kMul ^ s.size();
    const char* p = s.data();
    std::size_t n = s.size();
    while (n >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      h = (h ^ word) * kMul;
      h ^= h >> 32;
      p += 8;
      n -= 8;
    }
    // The 1-7 byte tail is read with fixed-size loads (overlapping when needed): a variable-size
    // memcpy into a word would stall on store-to-load forwarding.
    if (n > 0) {
      std::uint64_t word = 0;
      if (s.size() >= 8) {
        std::memcpy(&word, s.data() + s.size() - 8, 8);
      } else if (n >= 4) {
        std::uint32_t first;
        std::uint32_t last;
        std::memcpy(&first, p, 4);
        std::memcpy(&last, p + n - 4, 4);
        word = (std::uint64_t{first} << 32) | last;
      } else {
        const auto byte = [p](std::size_t i) { return static_cast<std::uint64_t>(
                                                   static_cast<unsigned char>(p[i])); };
        word = (byte(0) << 16) | (byte(n / 2) << 8) | byte(n - 1);
      }
      h = (h ^ word) * kMul;
      h ^= h >> 29;
    }
    return static_cast<std::size_t>(h);
  }
};

// Heterogeneous lookup: find(std::string_view) without building a std::string. Build-time only;
// lookups on the request path go through FlatTable.
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// An immutable open-addressing hash table from (scope, string) to a 32-bit value: the trie's
// edges (scope = parent node, key = segment) and the host maps (scope 0). One contiguous slot
// array with a power-of-two mask and the full 64-bit hash stored, so a lookup is usually one
// cache line and one key comparison; load factor <= 1/2 keeps probe sequences short.
class FlatTable {
 public:
  struct Entry {
    std::uint32_t scope;
    std::string_view key;
    std::uint32_t value;
  };

  explicit FlatTable(const std::vector<Entry>& entries = {}) {
    if (entries.empty()) return;
    std::size_t capacity = 8;
    while (capacity < entries.size() * 2) capacity *= 2;
    slots_.resize(capacity);
    mask_ = capacity - 1;
    for (const Entry& e : entries) {
      const std::uint64_t h = hash(e.scope, e.key);
      std::size_t i = static_cast<std::size_t>(h) & mask_;
      while (slots_[i].value != kNoRoute) i = (i + 1) & mask_;
      slots_[i] = Slot{h, e.scope, e.value, static_cast<std::uint32_t>(keys_.size()),
                       static_cast<std::uint32_t>(e.key.size())};
      keys_.append(e.key);
    }
  }

  [[nodiscard]] bool empty() const noexcept { return slots_.empty(); }

  /// The value stored for (scope, key), or kNoRoute.
  [[nodiscard]] std::uint32_t find(std::uint32_t scope, std::string_view key) const noexcept {
    if (slots_.empty()) return kNoRoute;
    const std::uint64_t h = hash(scope, key);
    for (std::size_t i = static_cast<std::size_t>(h) & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.value == kNoRoute) return kNoRoute;
      if (slot.hash == h && slot.scope == scope && slot.keyLength == key.size() &&
          std::memcmp(keys_.data() + slot.keyOffset, key.data(), key.size()) == 0) {
        return slot.value;
      }
    }
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t scope = 0;
    std::uint32_t value = kNoRoute;  // kNoRoute marks an empty slot
    std::uint32_t keyOffset = 0;
    std::uint32_t keyLength = 0;
  };

  static std::uint64_t hash(std::uint32_t scope, std::string_view key) noexcept {
    std::uint64_t h = StringHash{}(key) ^ (std::uint64_t{scope} * 0xC2B2AE3D27D4EB4Fu);
    h ^= h >> 32;  // the mask keeps low bits: fold the well-mixed high bits into them
    h *= 0xD6E8FEB86659FD93u;
    h ^= h >> 32;
    return h;
  }

  std::vector<Slot> slots_;
  std::string keys_;  // all keys back to back
  std::size_t mask_ = 0;
};

// Route indices, kept sorted best-first by (static key desc, index asc), so a scan can stop at
// the first route that cannot beat the best match found so far.
using RouteList = std::vector<std::uint32_t>;

// Host specificity of the way a route matched the request's Host: 0 for routes without hosts,
// 1 + wildcard suffix length for "*.example.com" (longer wildcards are more specific), and this
// for an exact host.
constexpr std::uint32_t kExactHostRank = 0xFFFFFFFFu;

constexpr char lowerAscii(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lowerAscii(c);
  return out;
}

// High 64 bits of a 64x64-bit product: maps a uniform 64-bit draw onto [0, bound).
constexpr std::uint64_t mulHigh64(std::uint64_t a, std::uint64_t b) noexcept {
  constexpr std::uint64_t kLow = 0xFFFFFFFFu;
  const std::uint64_t aLo = a & kLow;
  const std::uint64_t aHi = a >> 32;
  const std::uint64_t bLo = b & kLow;
  const std::uint64_t bHi = b >> 32;
  const std::uint64_t ll = aLo * bLo;
  const std::uint64_t lh = aLo * bHi;
  const std::uint64_t hl = aHi * bLo;
  const std::uint64_t hh = aHi * bHi;
  const std::uint64_t mid = (ll >> 32) + (lh & kLow) + (hl & kLow);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

// Canonical request host: port and IPv6 brackets removed, one trailing dot removed, lower-cased
// into `buf`. Empty when there is no usable host (missing, malformed bracket, too long).
std::string_view canonicalRequestHost(std::string_view raw,
                                      std::array<char, kMaxHostLength>& buf) noexcept {
  std::string_view host = raw;
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) return {};
    host = host.substr(1, close - 1);
  } else {
    const std::size_t colon = host.find(':');
    // Exactly one ':' is "name:port"; more are an unbracketed IPv6 literal, kept whole.
    if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
      host = host.substr(0, colon);
    }
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > kMaxHostLength) return {};
  for (std::size_t i = 0; i < host.size(); ++i) buf[i] = lowerAscii(host[i]);
  return {buf.data(), host.size()};
}

struct HostPattern {
  std::string text;  // exact: "api.example.com"; wildcard: the suffix ".example.com"
  bool wildcard = false;
};

// Parses one entry of RouteSpec::hosts into the same canonical form as request hosts. Returns
// an error message, or an empty string on success.
std::string parseRouteHost(std::string_view raw, HostPattern& out) {
  if (raw.empty()) return "empty host";
  std::string_view host = raw;
  out.wildcard = false;
  if (host.size() >= 2 && host[0] == '*' && host[1] == '.') {
    out.wildcard = true;
    host.remove_prefix(1);  // keep the dot: the suffix must start on a label boundary
  }
  if (host.find('*') != std::string_view::npos) {
    return "host '" + std::string(raw) +
           "': '*' is only allowed as the whole leftmost label, as in \"*.example.com\" (omit "
           "hosts to match any host)";
  }
  if (!out.wildcard && host.front() == '[') {
    if (host.back() != ']') return "host '" + std::string(raw) + "': unterminated IPv6 literal";
    host = host.substr(1, host.size() - 2);
  } else {
    const std::size_t colons = static_cast<std::size_t>(std::count(host.begin(), host.end(), ':'));
    if (colons == 1 || (out.wildcard && colons > 0)) {
      return "host '" + std::string(raw) + "': hosts must not include a port";
    }
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || (out.wildcard && host.size() < 2)) {
    return "host '" + std::string(raw) + "': empty host name";
  }
  if (host.size() > kMaxHostLength) {
    return "host '" + std::string(raw) + "': longer than " + std::to_string(kMaxHostLength) +
           " bytes";
  }
  out.text = lowerCopy(host);
  return {};
}

// Priority key of a route, independent of the request: explicit priority, path kind, path
// length, number of conditions, packed so that a greater integer means a better route. The two
// request-dependent parts (host specificity, then config order) are compared after it.
std::uint64_t makeStaticKey(const RouteSpec& spec) noexcept {
  const auto priority = static_cast<std::uint32_t>(spec.priority.value_or(0));
  const std::uint64_t biasedPriority = priority ^ 0x80000000u;  // order-preserving int32->uint32
  std::uint64_t kindRank = 0;
  std::size_t length = 0;
  switch (spec.pathKind) {
    case PathMatch::kExact:
      kindRank = 2;
      length = spec.path.size();
      break;
    case PathMatch::kRegex:
      kindRank = 1;
      break;
    case PathMatch::kPrefix:
      kindRank = 0;
      length = spec.path.size();
      break;
  }
  const std::size_t conditions =
      (spec.hosts.empty() ? 0U : 1U) + (spec.methods.empty() ? 0U : 1U) + spec.headers.size();
  // Lengths are <= kMaxPathLength (< 2^16) and conditions <= kMaxHeaderPredicates + 2 (< 2^14),
  // both checked by build(), so the fields never overflow into each other.
  return (biasedPriority << 32) | (kindRank << 30) | (static_cast<std::uint64_t>(length) << 14) |
         static_cast<std::uint64_t>(conditions);
}

struct CompiledHeader {
  std::string name;
  HeaderPredicate::Kind kind = HeaderPredicate::Kind::kPresent;
  std::vector<std::string> values;
  std::unique_ptr<re2::RE2> regex;
};

struct CompiledRoute {
  std::uint64_t staticKey = 0;
  std::unique_ptr<re2::RE2> pathRegex;  // kRegex routes only
  std::vector<CompiledHeader> headers;
  std::vector<std::uint64_t> cumulativeWeights;  // running sums of the services' weights
};

// A trie over path segments holding exact and prefix routes; a node stands for the path of the
// segments leading to it ("" for the root, "/api" for the child "api").
// - A prefix without trailing slash ("/api") is in `here` of its node and matches "/api",
//   "/api/", "/api/x". A prefix with a trailing slash ("/api/", and "/" at the root) is in
//   `below` and needs at least one more segment, possibly empty: "/api/" and "/api/x", not "/api".
// - An exact path is in `exact` ("/api") or `exactSlash` ("/api/", and "/" at the root) of its
//   node, so one walk down the trie finds exact and prefix candidates without hashing the path.
struct TrieNode {
  StringMap<std::uint32_t> children;  // build-time; frozen into PathIndex::edges
  std::uint32_t parent = 0;
  std::uint32_t childCount = 0;
  RouteList here;
  RouteList below;
  RouteList exact;
  RouteList exactSlash;
};

// Everything needed to find path candidates among one set of routes (one host group).
struct PathIndex {
  std::vector<TrieNode> nodes = std::vector<TrieNode>(1);  // nodes[0] is the root
  FlatTable edges;  // (parent node, segment) -> child node
  RouteList regex;
  std::uint32_t lastInserted = kNoRoute;  // build-time: avoids inserting a route twice

  // Moves the children maps into the flat edge table once all routes are inserted.
  void freeze() {
    std::vector<FlatTable::Entry> entries;
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      nodes[n].childCount = static_cast<std::uint32_t>(nodes[n].children.size());
      for (const auto& [segment, child] : nodes[n].children) {
        entries.push_back({static_cast<std::uint32_t>(n), segment, child});
      }
    }
    edges = FlatTable(entries);
    for (TrieNode& node : nodes) StringMap<std::uint32_t>().swap(node.children);
  }
};

FlatTable freezeMap(const StringMap<std::uint32_t>& map) {
  std::vector<FlatTable::Entry> entries;
  for (const auto& [key, value] : map) entries.push_back({0, key, value});
  return FlatTable(entries);
}

struct Best {
  std::uint64_t key = 0;
  std::uint32_t hostRank = 0;
  std::uint32_t index = kNoRoute;

  [[nodiscard]] bool found() const noexcept { return index != kNoRoute; }
  // True when a route with this key, host rank and index would win over the current best.
  [[nodiscard]] bool losesTo(std::uint64_t k, std::uint32_t rank, std::uint32_t i) const noexcept {
    if (!found()) return true;
    if (k != key) return k > key;
    if (rank != hostRank) return rank > hostRank;
    return i < index;
  }
};

re2::RE2::Options regexOptions() {
  re2::RE2::Options options;
  options.set_log_errors(false);  // the core does no I/O: errors are returned as data
  return options;
}

constexpr std::string_view kRootPath = "/";

}  // namespace

struct Router::Impl {
  std::vector<RouteSpec> specs;
  std::vector<CompiledRoute> compiled;
  std::vector<PathIndex> groups = std::vector<PathIndex>(1);  // groups[0]: routes without hosts
  FlatTable exactHosts;     // canonical host -> group
  FlatTable wildcardHosts;  // ".example.com" -> group
  std::bitset<kMaxHostLength + 1> wildcardLengths;  // lengths of the wildcardHosts keys
  // All path regexes in one automaton: a single pass tells whether any regex route can match,
  // so the common request (no regex matches) pays for one DFA walk instead of one per regex.
  // Null when there are no regex routes or the set could not be compiled (then each is tried).
  std::unique_ptr<re2::RE2::Set> regexSet;

  [[nodiscard]] bool methodsHold(const RouteSpec& spec, std::string_view method) const noexcept {
    if (spec.methods.empty()) return true;
    return std::any_of(spec.methods.begin(), spec.methods.end(),
                       [method](const std::string& m) { return m == method; });
  }

  [[nodiscard]] static bool headerHolds(const CompiledHeader& predicate,
                                        const RequestView& request) noexcept {
    // A header may be repeated: the predicate holds if any occurrence satisfies it (Kong's rule).
    bool present = false;
    for (const Header& h : request.headers) {
      if (!equalsIgnoreCase(h.name, predicate.name)) continue;
      present = true;
      switch (predicate.kind) {
        case HeaderPredicate::Kind::kPresent:
          return true;
        case HeaderPredicate::Kind::kAbsent:
          return false;
        case HeaderPredicate::Kind::kIn:
          if (std::find(predicate.values.begin(), predicate.values.end(), h.value) !=
              predicate.values.end()) {
            return true;
          }
          break;
        case HeaderPredicate::Kind::kRegex:
          if (re2::RE2::FullMatch(h.value, *predicate.regex)) return true;
          break;
      }
    }
    return !present && predicate.kind == HeaderPredicate::Kind::kAbsent;
  }

  // Methods, then (for regex routes) the path, then header predicates: cheapest first.
  [[nodiscard]] bool routeHolds(std::uint32_t index, const RequestView& request,
                                std::string_view path) const noexcept {
    const RouteSpec& spec = specs[index];
    const CompiledRoute& route = compiled[index];
    if (!methodsHold(spec, request.method)) return false;
    if (route.pathRegex && !re2::RE2::FullMatch(path, *route.pathRegex)) return false;
    return std::all_of(route.headers.begin(), route.headers.end(),
                       [&request](const CompiledHeader& p) { return headerHolds(p, request); });
  }

  void visit(const RouteList& list, std::uint32_t hostRank, const RequestView& request,
             std::string_view path, Best& best) const noexcept {
    for (const std::uint32_t index : list) {
      const std::uint64_t key = compiled[index].staticKey;
      // The list is sorted best-first and hostRank is fixed: once one route cannot win, none of
      // the following can.
      if (!best.losesTo(key, hostRank, index)) return;
      if (routeHolds(index, request, path)) best = Best{key, hostRank, index};
    }
  }

  // False only when no path regex of any route can match `path`.
  [[nodiscard]] bool anyRegexMayMatch(std::string_view path) const noexcept {
    if (!regexSet) return true;
    re2::RE2::Set::ErrorInfo error{};
    if (regexSet->Match(path, nullptr, &error)) return true;
    return error.kind != re2::RE2::Set::kNoError;  // DFA out of memory: cannot rule anything out
  }

  void searchGroup(const PathIndex& group, std::uint32_t hostRank, const RequestView& request,
                   std::string_view path, bool regexMayMatch, Best& best) const noexcept {
    // Descend the trie as far as the path's segments go.
    std::uint32_t node = 0;
    std::size_t deepestEnd = 0;
    std::size_t pos = 1;
    while (group.nodes[node].childCount != 0) {
      const std::size_t slash = path.find('/', pos);
      const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
      const std::uint32_t child = group.edges.find(node, path.substr(pos, end - pos));
      if (child == kNoRoute) break;
      node = child;
      deepestEnd = end;
      if (slash == std::string_view::npos) break;
      pos = slash + 1;
    }
    // Exact routes first (they outrank regexes and prefixes unless priorities say otherwise),
    // then regexes, then prefixes longest first: the best candidates early prune the rest.
    const TrieNode& deepest = group.nodes[node];
    if (deepestEnd == path.size()) {
      visit(deepest.exact, hostRank, request, path, best);
    } else if (deepestEnd + 1 == path.size() && path.back() == '/') {
      visit(deepest.exactSlash, hostRank, request, path, best);
    }
    if (regexMayMatch && !group.regex.empty()) visit(group.regex, hostRank, request, path, best);

    // `below` needs a further segment: every ancestor of the deepest node has one, and so has the
    // deepest if the path continues after it (the root always: "/" is one empty segment).
    bool hasMoreSegments = deepestEnd < path.size();
    for (;;) {
      const TrieNode& t = group.nodes[node];
      if (hasMoreSegments) visit(t.below, hostRank, request, path, best);
      visit(t.here, hostRank, request, path, best);
      if (node == 0) break;
      node = t.parent;
      hasMoreSegments = true;
    }
  }

  void insert(PathIndex& group, std::uint32_t index) const {
    if (group.lastInserted == index) return;
    group.lastInserted = index;
    const RouteSpec& spec = specs[index];
    if (spec.pathKind == PathMatch::kRegex) {
      group.regex.push_back(index);
      return;
    }
    const std::string_view path = spec.path;  // normalized: "/", "/a", "/a/", "/a/b", ...
    const bool trailingSlash = path.back() == '/';
    const std::string_view body =
        path.substr(1, path.size() - 1 - (trailingSlash && path.size() > 1 ? 1 : 0));
    std::uint32_t node = 0;
    std::size_t pos = 0;
    while (pos < body.size()) {
      const std::size_t slash = body.find('/', pos);
      const std::size_t end = slash == std::string_view::npos ? body.size() : slash;
      const std::string segment(body.substr(pos, end - pos));
      const auto it = group.nodes[node].children.find(segment);
      if (it != group.nodes[node].children.end()) {
        node = it->second;
      } else {
        const auto child = static_cast<std::uint32_t>(group.nodes.size());
        group.nodes[node].children.emplace(segment, child);
        group.nodes.emplace_back();
        group.nodes.back().parent = node;
        node = child;
      }
      pos = end + 1;
    }
    TrieNode& target = group.nodes[node];
    if (spec.pathKind == PathMatch::kExact) {
      (trailingSlash ? target.exactSlash : target.exact).push_back(index);
    } else {
      (trailingSlash ? target.below : target.here).push_back(index);
    }
  }

  void sortLists() {
    const auto better = [this](std::uint32_t a, std::uint32_t b) {
      if (compiled[a].staticKey != compiled[b].staticKey) {
        return compiled[a].staticKey > compiled[b].staticKey;
      }
      return a < b;
    };
    for (PathIndex& group : groups) {
      std::sort(group.regex.begin(), group.regex.end(), better);
      for (TrieNode& node : group.nodes) {
        for (RouteList* list : {&node.here, &node.below, &node.exact, &node.exactSlash}) {
          std::sort(list->begin(), list->end(), better);
        }
      }
    }
  }

  std::uint32_t groupFor(StringMap<std::uint32_t>& map, const std::string& key) {
    const auto it = map.find(key);
    if (it != map.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(groups.size());
    groups.emplace_back();
    map.emplace(key, id);
    return id;
  }
};

const char* toString(MatchStatus status) noexcept {
  switch (status) {
    case MatchStatus::kMatched: return "matched";
    case MatchStatus::kNotFound: return "not_found";
    case MatchStatus::kBadPath: return "bad_path";
  }
  return "unknown";
}

Router::Router() : impl_(std::make_shared<const Impl>()) {}

Router::Router(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}

std::span<const RouteSpec> Router::routes() const noexcept { return impl_->specs; }

RouterBuild Router::build(std::vector<RouteSpec> routes) {
  RouterBuild result;
  auto impl = std::make_shared<Impl>();
  std::vector<std::vector<HostPattern>> hostPatterns(routes.size());
  StringMap<std::size_t> names;
  std::string normalized;

  if (routes.size() >= kNoRoute) {
    result.errors.push_back("too many routes");
    return result;
  }

  impl->compiled.resize(routes.size());
  for (std::size_t i = 0; i < routes.size(); ++i) {
    RouteSpec& spec = routes[i];
    CompiledRoute& route = impl->compiled[i];
    const std::string where = "routes[" + std::to_string(i) + "] '" + spec.name + "': ";
    const auto fail = [&](const std::string& message) { result.errors.push_back(where + message); };

    if (spec.name.empty()) {
      fail("name must not be empty");
    } else if (const auto [it, inserted] = names.emplace(spec.name, i); !inserted) {
      fail("duplicate route name (first used by routes[" + std::to_string(it->second) + "])");
    }

    if (spec.pathKind == PathMatch::kRegex) {
      if (spec.path.empty()) {
        fail("path regex must not be empty");
      } else {
        route.pathRegex = std::make_unique<re2::RE2>(spec.path, regexOptions());
        if (!route.pathRegex->ok()) fail("invalid path regex: " + route.pathRegex->error());
      }
    } else {
      const PathStatus status = normalizePath(spec.path, normalized);
      if (status != PathStatus::kOk) {
        fail("path '" + spec.path + "' is not a valid absolute path (" + toString(status) + ")");
      } else {
        spec.path = normalized;
      }
    }

    for (const std::string& method : spec.methods) {
      if (method.empty()) fail("empty method");
    }

    for (const std::string& host : spec.hosts) {
      HostPattern pattern;
      if (std::string error = parseRouteHost(host, pattern); !error.empty()) {
        fail(error);
      } else {
        hostPatterns[i].push_back(std::move(pattern));
      }
    }

    if (spec.headers.size() > kMaxHeaderPredicates) {
      fail("more than " + std::to_string(kMaxHeaderPredicates) + " header predicates");
    }
    for (const HeaderPredicate& predicate : spec.headers) {
      CompiledHeader header;
      header.name = predicate.name;
      header.kind = predicate.kind;
      header.values = predicate.values;
      if (predicate.name.empty()) fail("header predicate with an empty name");
      if (predicate.kind == HeaderPredicate::Kind::kIn && predicate.values.empty()) {
        fail("header '" + predicate.name + "': 'in' needs at least one value");
      }
      if (predicate.kind == HeaderPredicate::Kind::kRegex) {
        header.regex = std::make_unique<re2::RE2>(predicate.regex, regexOptions());
        if (!header.regex->ok()) {
          fail("header '" + predicate.name + "': invalid regex: " + header.regex->error());
        }
      }
      route.headers.push_back(std::move(header));
    }

    if (spec.services.empty()) fail("no services");
    std::uint64_t total = 0;
    for (const WeightedService& service : spec.services) {
      if (service.service.empty()) fail("service with an empty name");
      total += service.weight;
      route.cumulativeWeights.push_back(total);
    }
    if (!spec.services.empty() && total == 0) fail("the services' weights sum to 0");

    route.staticKey = makeStaticKey(spec);
  }
  if (!result.errors.empty()) return result;

  impl->specs = std::move(routes);
  StringMap<std::uint32_t> exactHosts;
  StringMap<std::uint32_t> wildcardHosts;
  for (std::size_t i = 0; i < impl->specs.size(); ++i) {
    const auto index = static_cast<std::uint32_t>(i);
    if (hostPatterns[i].empty()) {
      impl->insert(impl->groups[0], index);
      continue;
    }
    for (const HostPattern& pattern : hostPatterns[i]) {
      const std::uint32_t group =
          impl->groupFor(pattern.wildcard ? wildcardHosts : exactHosts, pattern.text);
      if (pattern.wildcard) impl->wildcardLengths.set(pattern.text.size());
      impl->insert(impl->groups[group], index);
    }
  }
  impl->sortLists();
  for (PathIndex& group : impl->groups) group.freeze();
  impl->exactHosts = freezeMap(exactHosts);
  impl->wildcardHosts = freezeMap(wildcardHosts);

  // The regex prefilter. Anything going wrong here only costs speed: without the set every
  // regex route is tried on its own.
  auto set = std::make_unique<re2::RE2::Set>(regexOptions(), re2::RE2::ANCHOR_BOTH);
  bool setUsable = false;
  for (const RouteSpec& spec : impl->specs) {
    if (spec.pathKind != PathMatch::kRegex) continue;
    setUsable = set->Add(spec.path, nullptr) >= 0;
    if (!setUsable) break;
  }
  if (setUsable && set->Compile()) impl->regexSet = std::move(set);
  result.router = Router(std::move(impl));
  return result;
}

RouteMatch Router::match(const RequestView& request, std::string& pathScratch) const noexcept {
  std::string_view path;
  const PathStatus status = normalizePathView(request.path, pathScratch, path);  // (normal ones not copied)
  if (status != PathStatus::kOk) {
    RouteMatch result;
    result.status = MatchStatus::kBadPath;
    result.pathStatus = status;
    return result;
  }
  return matchNormalized(request, path);
}

RouteMatch Router::matchNormalized(const RequestView& request,
                                   std::string_view normalizedPath) const noexcept {
  RouteMatch result;
  if (normalizedPath.empty() || normalizedPath.front() != '/') {
    result.status = MatchStatus::kBadPath;
    result.pathStatus = PathStatus::kNotAbsolute;
    return result;
  }
  result.normalizedPath = normalizedPath;

  const Impl& impl = *impl_;
  const bool regexMayMatch = impl.anyRegexMayMatch(normalizedPath);
  Best best;
  if (!impl.exactHosts.empty() || !impl.wildcardHosts.empty()) {
    std::array<char, kMaxHostLength> buffer;
    const std::string_view host = canonicalRequestHost(request.host, buffer);
    if (!host.empty()) {
      if (const std::uint32_t group = impl.exactHosts.find(0, host); group != kNoRoute) {
        impl.searchGroup(impl.groups[group], kExactHostRank, request, normalizedPath,
                         regexMayMatch, best);
      }
      if (!impl.wildcardHosts.empty()) {
        // "*.example.com" is stored as ".example.com"; try every suffix starting at a dot that
        // leaves a non-empty label in front (the wildcard never matches the empty string).
        for (std::size_t dot = 1; dot < host.size(); ++dot) {
          if (host[dot] != '.' || !impl.wildcardLengths.test(host.size() - dot)) continue;
          const std::uint32_t group = impl.wildcardHosts.find(0, host.substr(dot));
          if (group == kNoRoute) continue;
          const auto rank = static_cast<std::uint32_t>(1 + host.size() - dot);
          impl.searchGroup(impl.groups[group], rank, request, normalizedPath, regexMayMatch, best);
        }
      }
    }
  }
  impl.searchGroup(impl.groups[0], 0, request, normalizedPath, regexMayMatch, best);

  if (!best.found()) return result;

  const RouteSpec& spec = impl.specs[best.index];
  result.status = MatchStatus::kMatched;
  result.routeIndex = best.index;
  result.route = &spec;
  result.upstreamPath = normalizedPath;
  if (spec.stripPath && spec.pathKind == PathMatch::kPrefix) {
    // "/api" on "/api/x" leaves "/x"; "/api/" on "/api/x" leaves "x", so keep its slash.
    const std::string& prefix = spec.path;
    if (prefix.back() == '/') {
      result.upstreamPath = normalizedPath.substr(prefix.size() - 1);
    } else {
      result.upstreamPath = normalizedPath.substr(prefix.size());
      if (result.upstreamPath.empty()) result.upstreamPath = kRootPath;
    }
  }
  return result;
}

const WeightedService* Router::pickService(std::uint32_t routeIndex,
                                           std::uint64_t draw) const noexcept {
  if (routeIndex >= impl_->specs.size()) return nullptr;
  const std::vector<std::uint64_t>& cumulative = impl_->compiled[routeIndex].cumulativeWeights;
  const std::uint64_t target = mulHigh64(draw, cumulative.back());
  const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), target);
  return &impl_->specs[routeIndex].services[static_cast<std::size_t>(it - cumulative.begin())];
}

std::size_t pickWeighted(std::span<const WeightedService> services, std::uint64_t draw) noexcept {
  std::uint64_t total = 0;
  for (const WeightedService& s : services) total += s.weight;
  if (total == 0) return services.size();
  const std::uint64_t target = mulHigh64(draw, total);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < services.size(); ++i) {
    running += services[i].weight;
    if (target < running) return i;
  }
  return services.size();  // unreachable: target < total
}

}  // namespace gatelab::core
