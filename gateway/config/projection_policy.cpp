// The `response_projection` policy: builds a core::shaping::ProjectionSpec (fields kept and
// dropped from a JSON response body, array caps) for backend-for-frontend routes. Semantics:
// docs/security.md, "Response projection"; the path syntax is the core's
// (gateway/core/shaping/json_projection.hpp).
//
//   - response_projection:
//       keep: [id, name, "items[].id", "items[].price", owner.login]
//       drop: ["items[].debug"]
//       max_array_items: 20
//       array_limits: {items: 5, owner.repos: 3}
//
// Each path is checked where it is written; the core's rules between the lists (a path both kept
// and dropped, a keep inside a keep, a limit on an array that is never sent...) run last and
// their errors are reported at the YAML node they concern.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/config/detail/policy_support.hpp"
#include "gateway/config/detail/sections.hpp"
#include "gateway/core/shaping/json_projection.hpp"

namespace gatelab::config::detail {
namespace {

// Allowed keys, in documentation order.
constexpr std::array<std::string_view, 4> kProjectionKeys{"keep", "drop", "max_array_items", "array_limits"};

constexpr std::string_view kBodyAllowed =
    "a mapping with at least one of keep, drop (lists of paths), max_array_items (0..1000000), "
    "array_limits ({PATH: N})";
constexpr std::string_view kKeepAllowed =
    "a non-empty list of field paths: key, key.sub, key[].sub (each element of an array), [].key (top-level "
    "array); '\\' before '.', '[', ']' or '\\' in a key; quote paths that start with '[' and, in a [flow, list], "
    "paths holding '[]'; no path inside another kept one";
constexpr std::string_view kDropAllowed =
    "a non-empty list of field paths (key, key.sub, key[].sub, [].key), each not ending in [], not kept, "
    "and with keep only inside a kept path; quote paths that start with '[' or, in a [flow, list], hold '[]'";
constexpr std::string_view kMaxItemsAllowed = "an integer from 0 to 1000000: every array keeps its first N elements";
constexpr std::string_view kLimitsAllowed =
    "a mapping from array paths (items, owner.repos, \"items[].tags\", $ for the top-level value) to integers "
    "0..1000000; each path once, not dropped, and with keep an array that is sent";
constexpr std::string_view kLimitAllowed = "an integer from 0 to 1000000 (elements kept)";
constexpr std::string_view kPolicyAllowed = "a projection the core accepts (docs/security.md#response-projection)";

std::string checkPath(const std::string& path) { return core::shaping::parseProjectionPath(path).error; }

void readPaths(Sink& sink, const Mapping& m, std::string_view key, std::string_view allowed,
               std::vector<std::string>& out, SpecFieldMap& fields) {
  auto n = m.get(key);
  if (!n) return;
  if (auto list = readStringList(sink, *n, "path", allowed, /*allowEmpty=*/false, checkPath)) {
    addItems(fields, std::string(key), *n, *list, allowed);
    out = valuesOf(*list);
  }
}

}  // namespace

BuiltPolicy buildResponseProjectionPolicy(Sink& sink, const Node& body, const PolicyContext& /*context*/) {
  BuiltPolicy built;
  if (body.yaml.IsNull()) {
    sink.error(body.mark, body.path, "a response_projection needs at least one of keep, drop, max_array_items, array_limits",
               std::string(kBodyAllowed));
    return built;
  }
  auto m = Mapping::open(sink, body, kProjectionKeys, "a response_projection policy");
  if (!m) return built;
  const std::size_t before = sink.count();
  core::shaping::ProjectionSpec spec;
  SpecFieldMap fields(body, std::string(kPolicyAllowed));

  readPaths(sink, *m, "keep", kKeepAllowed, spec.keep, fields);
  readPaths(sink, *m, "drop", kDropAllowed, spec.drop, fields);
  if (auto n = m->get("max_array_items")) {
    fields.add("maxArrayItems", *n, std::string(kMaxItemsAllowed));
    if (auto v = readInt(sink, *n, 0, core::shaping::kMaxProjectionArrayItems)) {
      spec.maxArrayItems = static_cast<std::uint32_t>(*v);
    }
  }
  if (auto n = m->get("array_limits")) {
    fields.add("arrayLimits", *n, std::string(kLimitsAllowed));
    if (!n->yaml.IsMap()) {
      sink.error(n->mark, n->path, "expected array_limits as a mapping, got " + describe(n->yaml), std::string(kLimitsAllowed));
    } else if (n->yaml.size() == 0) {
      sink.error(n->mark, n->path, "array_limits is empty; remove it or name an array", std::string(kLimitsAllowed));
    } else {
      for (auto it = n->yaml.begin(); it != n->yaml.end(); ++it) {
        const YAML::Node keyNode = it->first;
        const Mark keyMark = markOf(keyNode, n->mark);
        if (!keyNode.IsScalar() || keyNode.Scalar().empty()) {
          sink.error(keyMark, n->path, "an array path must be a non-empty string, got " + describe(keyNode),
                     std::string(kLimitsAllowed));
          continue;
        }
        const std::string& path = keyNode.Scalar();
        const Node keyAt{keyNode, childPath(n->path, path), keyMark};
        const Node valueAt{it->second, keyAt.path, it->second.IsNull() ? keyMark : markOf(it->second, keyMark)};
        if (std::string error = core::shaping::parseProjectionPath(path, /*allowRoot=*/true).error; !error.empty()) {
          sink.error(keyMark, keyAt.path, inQuotes(path) + ": " + error, std::string(kLimitsAllowed));
          continue;
        }
        const auto limit = readInt(sink, valueAt, 0, core::shaping::kMaxProjectionArrayItems);
        if (!limit) continue;
        const std::string field = "arrayLimits[" + std::to_string(spec.arrayLimits.size()) + "]";
        fields.add(field + ".path", keyAt, std::string(kLimitsAllowed));
        fields.add(field + ".maxItems", valueAt, std::string(kLimitAllowed));
        // Core messages name another limit by its spec field; in the YAML it is a key.
        fields.renameInMessages(field + ".path", "array_limits." + path + " at " + at(keyMark));
        spec.arrayLimits.push_back({path, static_cast<std::uint32_t>(*limit)});
      }
    }
  }
  fields.renameInMessages("maxArrayItems", "max_array_items");
  fields.renameInMessages("arrayLimits", "array_limits");

  if (sink.count() == before) {
    core::SpecErrors errors;
    (void)core::shaping::JsonProjection::create(spec, errors);
    fields.report(sink, errors);
  }
  if (sink.count() == before) built.spec = PolicySpec{ResponseProjectionConfig{std::move(spec)}};
  return built;
}

}  // namespace gatelab::config::detail
