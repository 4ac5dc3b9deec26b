// The `routes:` section: match conditions, destination services and the route's policies.

#include <algorithm>
#include <array>
#include <limits>

#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"
#include "gateway/core/router.hpp"

namespace gatelab::config::detail {
namespace {

using core::HeaderPredicate;
using core::PathMatch;

// Allowed keys, in documentation order.
constexpr std::array<std::string_view, 7> kRouteKeys{"name",    "match",    "priority", "strip_path",
                                                     "service", "services", "policies"};
constexpr std::array<std::string_view, 6> kMatchKeys{"path", "path_prefix", "path_regex", "methods", "hosts", "headers"};
constexpr std::array<std::string_view, 3> kPathKeys{"path", "path_prefix", "path_regex"};
constexpr std::array<std::string_view, 4> kHeaderKeys{"name", "present", "in", "regex"};
constexpr std::array<std::string_view, 3> kHeaderTests{"present", "in", "regex"};
constexpr std::array<std::string_view, 2> kWeightedServiceKeys{"name", "weight"};

constexpr std::array<std::string_view, 9> kKnownMethods{"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                        "CONNECT", "OPTIONS", "TRACE", "PATCH"};

constexpr std::int64_t kMinWeight = 1;
constexpr std::int64_t kMaxWeight = 1000;

constexpr std::string_view kMatchAllowed =
    "exactly one of path, path_prefix, path_regex; optional methods, hosts, headers";
constexpr std::string_view kMethodsAllowed =
    "a list of upper-case HTTP methods: GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH, or another "
    "upper-case HTTP token";
constexpr std::string_view kHostsAllowed = "a non-empty list of host names; *.example.com matches any subdomain";
constexpr std::string_view kHeadersAllowed =
    "a list of {name: NAME, present: true|false}, {name: NAME, in: [v1, v2]} or {name: NAME, regex: RE}";
constexpr std::string_view kDestinationAllowed = "service: NAME, or services: [{name: NAME, weight: 1..1000}, ...]";
constexpr std::string_view kPoliciesAllowed = "a list of policies, each a mapping with one key naming its kind";

std::string joined(std::span<const std::string_view> names) { return joinNames(names); }

// -- match --------------------------------------------------------------------------------------

void readPath(Sink& sink, const Mapping& match, core::RouteSpec& spec, bool& complete) {
  const Mapping::Entry* chosen = nullptr;
  for (const Mapping::Entry& e : match.entries()) {
    if (std::find(kPathKeys.begin(), kPathKeys.end(), std::string_view{e.key}) == kPathKeys.end()) continue;
    if (chosen != nullptr) {
      sink.error(e.keyMark, e.value.path, chosen->key + " and " + e.key + " cannot be combined; a route matches one path",
                 std::string(kMatchAllowed));
      complete = false;
      continue;
    }
    chosen = &e;
  }
  if (chosen == nullptr) {
    complete = false;
    if (std::any_of(kPathKeys.begin(), kPathKeys.end(), [&](std::string_view k) { return match.misspelled(k); })) {
      return;  // the unknown-key report already suggested the path key
    }
    sink.error(match.self().mark, match.self().path, "missing path condition: add path, path_prefix or path_regex",
               std::string(kMatchAllowed));
    complete = false;
    return;
  }
  const Node& node = chosen->value;
  if (chosen->key == "path_regex") {
    auto re = readString(sink, node, "a non-empty regular expression (RE2 syntax) matched against the whole path");
    if (!re) {
      complete = false;
      return;
    }
    spec.pathKind = PathMatch::kRegex;
    spec.path = *re;
    return;
  }
  auto path = readString(sink, node, kPathAllowed);
  if (!path) {
    complete = false;
    return;
  }
  if (std::string reason = checkNormalizedPath(*path); !reason.empty()) {
    sink.error(node.mark, node.path, "invalid path " + inQuotes(*path) + ": " + reason, std::string(kPathAllowed));
    complete = false;
    return;
  }
  spec.pathKind = chosen->key == "path" ? PathMatch::kExact : PathMatch::kPrefix;
  spec.path = *path;
}

void readMethods(Sink& sink, const Node& node, core::RouteSpec& spec, bool& complete) {
  auto items = readList(sink, node, kMethodsAllowed);
  if (!items) {
    complete = false;
    return;
  }
  for (const Node& item : *items) {
    auto method = readString(sink, item, kMethodsAllowed);
    if (!method) {
      complete = false;
      continue;
    }
    if (!isToken(*method)) {
      sink.error(item.mark, item.path, inQuotes(*method) + " is not an HTTP method (not an RFC 9110 token)",
                 std::string(kMethodsAllowed));
      complete = false;
      continue;
    }
    if (const std::string upper = toUpperAscii(*method); upper != *method) {
      sink.error(item.mark, item.path,
                 "method " + inQuotes(*method) + " must be upper case; methods are case-sensitive (did you mean '" +
                     upper + "'?)",
                 std::string(kMethodsAllowed));
      complete = false;
      continue;
    }
    if (std::find(spec.methods.begin(), spec.methods.end(), *method) != spec.methods.end()) {
      sink.error(item.mark, item.path, "duplicate method " + inQuotes(*method), std::string(kMethodsAllowed));
      complete = false;
      continue;
    }
    spec.methods.push_back(*method);
  }
}

void readHosts(Sink& sink, const Node& node, core::RouteSpec& spec, bool& complete) {
  auto items = readList(sink, node, kHostsAllowed);
  if (!items) {
    complete = false;
    return;
  }
  for (const Node& item : *items) {
    auto host = readString(sink, item, kHostPatternAllowed);
    if (!host) {
      complete = false;
      continue;
    }
    if (std::string reason = checkHostPattern(*host); !reason.empty()) {
      sink.error(item.mark, item.path, "invalid host " + inQuotes(*host) + ": " + reason, std::string(kHostPatternAllowed));
      complete = false;
      continue;
    }
    std::string lower = toLowerAscii(*host);  // host names are case-insensitive
    if (std::find(spec.hosts.begin(), spec.hosts.end(), lower) != spec.hosts.end()) {
      sink.error(item.mark, item.path, "duplicate host " + inQuotes(*host), std::string(kHostsAllowed));
      complete = false;
      continue;
    }
    spec.hosts.push_back(std::move(lower));
  }
}

std::optional<HeaderPredicate> readHeaderCondition(Sink& sink, const Node& node) {
  auto m = Mapping::open(sink, node, kHeaderKeys, "a header condition");
  if (!m) return std::nullopt;
  const std::size_t before = sink.count();
  HeaderPredicate p;
  if (auto n = m->require(sink, "name", kTokenAllowed)) {
    if (auto name = readString(sink, *n, kTokenAllowed)) {
      if (isToken(*name)) {
        p.name = *name;
      } else {
        sink.error(n->mark, n->path, "invalid header name " + inQuotes(*name), std::string(kTokenAllowed));
      }
    }
  }
  const Mapping::Entry* chosen = nullptr;
  for (const Mapping::Entry& e : m->entries()) {
    if (std::find(kHeaderTests.begin(), kHeaderTests.end(), std::string_view{e.key}) == kHeaderTests.end()) continue;
    if (chosen != nullptr) {
      sink.error(e.keyMark, e.value.path, chosen->key + " and " + e.key + " cannot be combined in one header condition",
                 "exactly one of " + joined(kHeaderTests));
      continue;
    }
    chosen = &e;
  }
  if (chosen == nullptr) {
    sink.error(node.mark, node.path, "a header condition needs one of present, in, regex",
               "exactly one of " + joined(kHeaderTests));
  } else if (chosen->key == "present") {
    if (auto b = readBool(sink, chosen->value)) p.kind = *b ? HeaderPredicate::Kind::kPresent : HeaderPredicate::Kind::kAbsent;
  } else if (chosen->key == "in") {
    p.kind = HeaderPredicate::Kind::kIn;
    if (auto items = readList(sink, chosen->value, "a non-empty list of header values")) {
      for (const Node& item : *items) {
        if (auto v = readString(sink, item, "a header value", /*allowEmpty=*/true)) p.values.push_back(*v);
      }
    }
  } else {
    p.kind = HeaderPredicate::Kind::kRegex;
    if (auto re = readString(sink, chosen->value, "a non-empty regular expression (RE2 syntax) for the whole value")) {
      p.regex = *re;
    }
  }
  if (sink.count() != before) return std::nullopt;
  return p;
}

void readHeaders(Sink& sink, const Node& node, core::RouteSpec& spec, bool& complete) {
  auto items = readList(sink, node, kHeadersAllowed);
  if (!items) {
    complete = false;
    return;
  }
  if (items->size() > core::kMaxHeaderPredicates) {
    sink.error(node.mark, node.path,
               std::to_string(items->size()) + " header conditions; a route may have at most " +
                   std::to_string(core::kMaxHeaderPredicates),
               std::string(kHeadersAllowed));
    complete = false;
    return;
  }
  for (const Node& item : *items) {
    if (auto p = readHeaderCondition(sink, item)) {
      spec.headers.push_back(std::move(*p));
    } else {
      complete = false;
    }
  }
}

bool readMatch(Sink& sink, const Node& node, core::RouteSpec& spec) {
  auto m = Mapping::open(sink, node, kMatchKeys, "the match conditions");
  if (!m) return false;
  const std::size_t before = sink.count();
  bool complete = true;
  readPath(sink, *m, spec, complete);
  if (auto n = m->get("methods")) readMethods(sink, *n, spec, complete);
  if (auto n = m->get("hosts")) readHosts(sink, *n, spec, complete);
  if (auto n = m->get("headers")) readHeaders(sink, *n, spec, complete);
  return complete && sink.count() == before;
}

// -- destination --------------------------------------------------------------------------------

void readDestination(Sink& sink, const Mapping& route, RouteDraft& draft) {
  const auto single = route.get("service");
  const auto several = route.get("services");
  if (single && several) {
    sink.error(route.keyMark("services"), several->path, "service and services cannot be combined",
               "exactly one of: " + std::string(kDestinationAllowed));
    return;
  }
  if (!single && !several) {
    sink.error(route.self().mark, childPath(route.self().path, "service"),
               "missing destination: add service or services", std::string(kDestinationAllowed));
    return;
  }
  if (single) {
    auto name = readString(sink, *single, "the name of a service defined under services");
    if (!name) return;
    draft.config.spec.services.push_back(core::WeightedService{*name, 1});
    draft.serviceRefs.push_back(Located{*name, single->mark, single->path});
    return;
  }
  auto items = readList(sink, *several, kDestinationAllowed);
  if (!items) return;
  for (const Node& item : *items) {
    core::WeightedService ws;
    Located ref;
    if (item.yaml.IsScalar()) {  // shorthand: "- users" is {name: users, weight: 1}
      auto name = readString(sink, item, "the name of a service defined under services");
      if (!name) continue;
      ws.service = *name;
      ref = Located{*name, item.mark, item.path};
    } else {
      auto m = Mapping::open(sink, item, kWeightedServiceKeys, "a weighted service");
      if (!m) continue;
      const std::size_t before = sink.count();
      if (auto n = m->require(sink, "name", "the name of a service defined under services")) {
        if (auto name = readString(sink, *n, "the name of a service defined under services")) {
          ws.service = *name;
          ref = Located{*name, n->mark, n->path};
        }
      }
      if (auto n = m->get("weight")) {
        if (auto w = readInt(sink, *n, kMinWeight, kMaxWeight)) ws.weight = static_cast<std::uint32_t>(*w);
      }
      if (sink.count() != before) continue;
    }
    bool duplicate = false;
    for (const Located& prev : draft.serviceRefs) {
      if (prev.value == ws.service) {
        sink.error(ref.mark, ref.path, "service " + inQuotes(ws.service) + " is listed twice; first at " + at(prev.mark),
                   "each service once; give it a larger weight instead");
        duplicate = true;
        break;
      }
    }
    if (duplicate) continue;
    draft.config.spec.services.push_back(ws);
    draft.serviceRefs.push_back(ref);
  }
}

// -- policies -----------------------------------------------------------------------------------

// The kind of a policy list item: its single key, if it is a well-formed `- KIND: {...}`.
struct PolicyItem {
  const PolicyKind* kind = nullptr;
  Node body;
  Mark keyMark;  ///< where the kind's key is written
};

std::optional<PolicyItem> readPolicyItem(Sink& sink, const Node& item, std::span<const std::string_view> kindNames) {
  const std::string allowed = "a mapping with one key, the policy kind: " + joinNames(kindNames);
  if (!item.yaml.IsMap()) {
    sink.error(item.mark, item.path, "expected a policy as a mapping {KIND: {...}}, got " + describe(item.yaml), allowed);
    return std::nullopt;
  }
  if (item.yaml.size() == 0) {
    sink.error(item.mark, item.path, "empty policy; name its kind", allowed);
    return std::nullopt;
  }
  std::optional<PolicyItem> out;
  std::string firstKey;
  for (auto it = item.yaml.begin(); it != item.yaml.end(); ++it) {
    const YAML::Node key = it->first;
    const Mark keyMark = markOf(key, item.mark);
    if (!key.IsScalar()) {
      sink.error(keyMark, item.path, "a policy kind must be a string, got " + describe(key), allowed);
      return std::nullopt;
    }
    const std::string& kind = key.Scalar();
    const std::string path = childPath(item.path, kind);
    if (!firstKey.empty()) {
      sink.error(keyMark, path,
                 "a policy has exactly one key, its kind; found " + inQuotes(firstKey) + " and " + inQuotes(kind) +
                     "; write each policy as its own list item",
                 allowed);
      return std::nullopt;
    }
    firstKey = kind;
    const PolicyKind* found = nullptr;
    for (const PolicyKind& k : policyKinds()) {
      if (k.name == kind) found = &k;
    }
    if (found == nullptr) {
      sink.error(keyMark, path, "unknown policy kind " + inQuotes(kind) + didYouMean(kind, kindNames),
                 "known kinds: " + joinNames(kindNames));
      return std::nullopt;
    }
    const YAML::Node body = it->second;
    out = PolicyItem{found, Node{body, path, body.IsNull() ? keyMark : markOf(body, keyMark)}, keyMark};
  }
  return out;
}

std::string where(const Sink& sink, const PolicyItem& p) { return p.body.path + " at " + sink.file() + ":" + at(p.keyMark); }

// The rules on where policies stand in a route's list (the order they run in): at most one of
// some kinds; cors before authentication; acl (and whatever reads the consumer or claims) after
// it; acl and claim readers need an authentication policy to read from; cache after every
// access check.
void checkPlacement(Sink& sink, const std::vector<std::optional<PolicyItem>>& parsed,
                    const std::vector<BuiltPolicy>& built) {
  const PolicyItem* firstAuth = nullptr;
  const PolicyItem* lastAuth = nullptr;
  const PolicyItem* jwt = nullptr;
  for (const std::optional<PolicyItem>& p : parsed) {
    if (!p || p->kind->placement != PolicyPlacement::kAuthentication) continue;
    if (firstAuth == nullptr) firstAuth = &*p;
    lastAuth = &*p;
    if (p->kind->name == "jwt" && jwt == nullptr) jwt = &*p;
  }
  auto indexOf = [&](const PolicyItem* item) {
    for (std::size_t i = 0; i < parsed.size(); ++i) {
      if (parsed[i] && &*parsed[i] == item) return i;
    }
    return parsed.size();
  };
  const std::size_t firstAuthIndex = firstAuth != nullptr ? indexOf(firstAuth) : parsed.size();
  const std::size_t lastAuthIndex = lastAuth != nullptr ? indexOf(lastAuth) : 0;

  for (std::size_t i = 0; i < parsed.size(); ++i) {
    if (!parsed[i]) continue;
    const PolicyItem& p = *parsed[i];
    const std::string kind(p.kind->name);
    if (p.kind->oncePerRoute) {
      for (std::size_t j = 0; j < i; ++j) {
        if (!parsed[j] || parsed[j]->kind != p.kind) continue;
        sink.error(p.keyMark, p.body.path,
                   "a route has at most one " + kind + " policy; the first is " + where(sink, *parsed[j]),
                   "one " + kind + " policy per route: merge the two");
        break;
      }
    }
    switch (p.kind->placement) {
      case PolicyPlacement::kBeforeAuthentication:
        if (firstAuth != nullptr && firstAuthIndex < i) {
          sink.error(p.keyMark, p.body.path,
                     kind + " must come before " + std::string(firstAuth->kind->name) + " (" + where(sink, *firstAuth) +
                         "): browsers send CORS preflight requests without credentials, so authentication would "
                         "refuse them before " + kind + " could answer",
                     kind + " listed before the route's jwt and key_auth policies");
        }
        break;
      case PolicyPlacement::kAfterAuthentication:
        if (firstAuth == nullptr) {
          sink.error(p.keyMark, p.body.path,
                     kind + " needs an authentication policy on the route: without jwt or key_auth nobody is ever "
                            "authenticated, so every request would get the same answer",
                     "a jwt or key_auth policy listed before the " + kind);
        } else if (lastAuthIndex > i) {
          sink.error(p.keyMark, p.body.path,
                     kind + " must come after " + std::string(lastAuth->kind->name) + " (" + where(sink, *lastAuth) +
                         "): it judges who authentication established",
                     kind + " listed after the route's jwt and key_auth policies");
        }
        break;
      case PolicyPlacement::kAfterAccessChecks:
        // A cached answer skips every policy after the cache, so an access check there would
        // never run for a hit.
        for (std::size_t j = i + 1; j < parsed.size(); ++j) {
          if (!parsed[j]) continue;
          const PolicyPlacement later = parsed[j]->kind->placement;
          if (later != PolicyPlacement::kAuthentication && later != PolicyPlacement::kAfterAuthentication) continue;
          sink.error(p.keyMark, p.body.path,
                     kind + " must come after " + std::string(parsed[j]->kind->name) + " (" + where(sink, *parsed[j]) +
                         "): a cached answer is served without running the policies after the cache, so " +
                         std::string(parsed[j]->kind->name) + " would never check it",
                     kind + " listed after the route's jwt, key_auth and acl policies");
          break;
        }
        break;
      case PolicyPlacement::kAnywhere:
      case PolicyPlacement::kAuthentication:
        break;
    }
    if (i >= built.size()) continue;
    if (const auto& reads = built[i].readsIdentity; reads && lastAuth != nullptr && lastAuthIndex > i) {
      sink.error(reads->mark, reads->path,
                 kind + " reads " + reads->value + " before " + std::string(lastAuth->kind->name) + " (" +
                     where(sink, *lastAuth) + ") has established it, so it would always be missing",
                 kind + " listed after the route's jwt and key_auth policies");
    }
    if (const auto& reads = built[i].readsClaims; reads && jwt == nullptr && firstAuth != nullptr) {
      sink.error(reads->mark, reads->path,
                 kind + " reads " + reads->value + " from a verified JWT's claims, but the route has no jwt policy (only " +
                     std::string(firstAuth->kind->name) + "), so they would never be found",
                 "a jwt policy on the route, or no " + reads->value);
    }
  }
}

void readPolicies(Sink& sink, const Node& node, RouteDraft& draft) {
  auto items = readList(sink, node, kPoliciesAllowed, /*allowEmpty=*/true);
  if (!items) return;
  std::vector<std::string_view> kindNames;
  for (const PolicyKind& k : policyKinds()) kindNames.push_back(k.name);

  std::vector<std::optional<PolicyItem>> parsed;
  parsed.reserve(items->size());
  for (const Node& item : *items) parsed.push_back(readPolicyItem(sink, item, kindNames));

  std::vector<BuiltPolicy> built(parsed.size());
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    const std::optional<PolicyItem>& p = parsed[i];
    if (!p) continue;
    PolicyContext context{draft.name ? draft.name->value : std::string{}, 0, 0,
                          draft.config.spec.services.empty() ? std::string{} : draft.config.spec.services[0].service};
    for (const std::optional<PolicyItem>& q : parsed) {
      if (!q || q->kind != p->kind) continue;
      if (&q == &p) context.kindIndex = context.kindCount;
      ++context.kindCount;
    }
    built[i] = p->kind->build(sink, p->body, context);
  }
  checkPlacement(sink, parsed, built);
  for (BuiltPolicy& b : built) {
    if (b.name) draft.policyNames.push_back(std::move(*b.name));
    if (b.redisStore) draft.redisStores.push_back(std::move(*b.redisStore));
    if (b.usesConsumers) draft.consumerUsers.push_back(std::move(*b.usesConsumers));
    if (b.consumerRef) draft.consumerRefs.push_back(std::move(*b.consumerRef));
    for (Located& ref : b.serviceRefs) draft.serviceRefs.push_back(std::move(ref));
    if (b.spec) draft.config.policies.push_back(std::move(*b.spec));
  }
}

RouteDraft readRoute(Sink& sink, const Mapping& m) {
  RouteDraft draft;
  core::RouteSpec& spec = draft.config.spec;
  if (auto n = m.require(sink, "name", kNameAllowed)) {
    if (auto name = readString(sink, *n, kNameAllowed)) {
      if (std::string reason = checkName(*name); !reason.empty()) {
        sink.error(n->mark, n->path, "invalid name " + inQuotes(*name) + ": " + reason, std::string(kNameAllowed));
      } else {
        spec.name = *name;
        draft.name = Located{*name, n->mark, n->path};
      }
    }
  }
  if (auto n = m.require(sink, "match", kMatchAllowed)) {
    draft.matchMark = n->mark;
    draft.matchPath = n->path;
    draft.matchComplete = readMatch(sink, *n, spec);
  }
  if (auto n = m.get("priority")) {
    if (auto p = readInt(sink, *n, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max())) {
      spec.priority = static_cast<std::int32_t>(*p);
    }
  }
  if (auto n = m.get("strip_path")) {
    if (auto b = readBool(sink, *n)) {
      spec.stripPath = *b;
      if (*b && draft.matchComplete && spec.pathKind != PathMatch::kPrefix) {
        sink.error(n->mark, n->path, "strip_path only works with match.path_prefix (it removes the matched prefix)",
                   "strip_path: true with path_prefix; false otherwise");
      }
    }
  }
  readDestination(sink, m, draft);
  if (auto n = m.get("policies")) readPolicies(sink, *n, draft);
  return draft;
}

}  // namespace

std::span<const PolicyKind> policyKinds() noexcept {
  using enum PolicyPlacement;
  static constexpr std::array<PolicyKind, 10> kKinds{{
      {"rate_limit", &buildRateLimitPolicy, false, kAnywhere},
      {"jwt", &buildJwtPolicy, true, kAuthentication},
      {"key_auth", &buildKeyAuthPolicy, true, kAuthentication},
      {"acl", &buildAclPolicy, true, kAfterAuthentication},
      {"cors", &buildCorsPolicy, true, kBeforeAuthentication},
      {"request_headers", &buildRequestHeadersPolicy, true, kAnywhere},
      {"response_headers", &buildResponseHeadersPolicy, true, kAnywhere},
      {"cache", &buildCachePolicy, true, kAfterAccessChecks},
      {"aggregate", &buildAggregatePolicy, true, kAnywhere},
      {"response_projection", &buildResponseProjectionPolicy, true, kAnywhere},
  }};
  return kKinds;
}

std::string checkMethodName(const std::string& method) {
  if (!isToken(method)) return inQuotes(method) + " is not an HTTP method (not an RFC 9110 token)";
  const std::string upper = toUpperAscii(method);
  if (upper != method && std::find(kKnownMethods.begin(), kKnownMethods.end(), upper) != kKnownMethods.end()) {
    return "method " + inQuotes(method) + " must be upper case; methods are case-sensitive (did you mean '" + upper +
           "'?)";
  }
  return {};
}

std::vector<RouteDraft> readRoutes(Sink& sink, const Node& list) {
  std::vector<RouteDraft> out;
  auto items = readList(sink, list, "a list of routes, each {name, match, service|services, policies}",
                        /*allowEmpty=*/true);
  if (!items) return out;
  for (const Node& item : *items) {
    auto m = Mapping::open(sink, item, kRouteKeys, "a route");
    if (!m) continue;
    out.push_back(readRoute(sink, *m));
  }
  return out;
}

}  // namespace gatelab::config::detail
