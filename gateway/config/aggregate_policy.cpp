// The `aggregate` policy: builds a core::shaping::AggregateSpec, the parts a backend-for-frontend
// route calls in parallel and merges (docs/security.md, "Aggregation"). A part without `service`
// calls the route's own service; the service names are checked with the route's (unknown service,
// did you mean). The core's rules run last and report at the YAML node they concern.

#include <array>

#include "gateway/config/detail/policy_support.hpp"
#include "gateway/config/detail/sections.hpp"
#include "gateway/core/shaping/aggregate.hpp"

namespace gatelab::config::detail {
namespace {

constexpr std::array<std::string_view, 2> kAggregateKeys{"parts", "on_part_failure"};
constexpr std::array<std::string_view, 6> kPartKeys{"name", "service", "path", "forward_query", "timeout", "on_failure"};

constexpr std::string_view kPartsAllowed =
    "a list of 1 to 16 parts, each {name, path, service, forward_query, timeout, on_failure}";
constexpr std::string_view kNameAllowed = "1 to 64 letters, digits, '_' or '-', unique in the aggregate (the part's key)";
constexpr std::string_view kPathAllowed =
    "a URL path from '/', without a query ('?'): RFC 3986 path characters and %-escapes";
constexpr std::string_view kServiceAllowed = "a service defined under services (default: the route's)";
constexpr std::string_view kTimeoutAllowed = "a duration more than 0 and at most 1h, e.g. 300ms";

constexpr std::array<EnumName<core::shaping::PartFailure>, 3> kFailures{{
    {"fail", core::shaping::PartFailure::kFail},
    {"null", core::shaping::PartFailure::kNull},
    {"omit", core::shaping::PartFailure::kOmit},
}};

// `null` written plainly is YAML's null, not the string: both mean PartFailure::kNull.
std::optional<core::shaping::PartFailure> readFailure(Sink& sink, const Node& node) {
  if (node.yaml.IsNull()) return core::shaping::PartFailure::kNull;
  return readEnum(sink, node, kFailures);
}

}  // namespace

BuiltPolicy buildAggregatePolicy(Sink& sink, const Node& body, const PolicyContext& context) {
  BuiltPolicy built;
  auto m = Mapping::open(sink, body, kAggregateKeys, "an aggregate policy");
  if (!m) return built;
  const std::size_t before = sink.count();
  core::shaping::AggregateSpec spec;
  SpecFieldMap fields(body, "an aggregate the core accepts (docs/security.md#aggregation)");

  core::shaping::PartFailure defaultFailure = core::shaping::PartFailure::kFail;
  if (auto n = m->get("on_part_failure")) {
    if (auto f = readFailure(sink, *n)) defaultFailure = *f;
  }
  if (auto n = m->require(sink, "parts", kPartsAllowed)) {
    fields.add("parts", *n, std::string(kPartsAllowed));
    if (auto items = readList(sink, *n, kPartsAllowed)) {
      for (std::size_t i = 0; i < items->size(); ++i) {
        const Node& item = (*items)[i];
        auto pm = Mapping::open(sink, item, kPartKeys, "a part");
        if (!pm) continue;
        core::shaping::AggregatePart part;
        part.onFailure = defaultFailure;
        const std::string field = "parts[" + std::to_string(spec.parts.size()) + "]";
        if (auto v = pm->require(sink, "name", kNameAllowed)) {
          fields.add(field + ".name", *v, std::string(kNameAllowed));
          if (auto s = readString(sink, *v, kNameAllowed)) part.name = *s;
        }
        if (auto v = pm->require(sink, "path", kPathAllowed)) {
          fields.add(field + ".path", *v, std::string(kPathAllowed));
          if (auto s = readString(sink, *v, kPathAllowed)) part.path = *s;
        }
        if (auto v = pm->get("service")) {
          fields.add(field + ".service", *v, std::string(kServiceAllowed));
          if (auto s = readString(sink, *v, kServiceAllowed)) {
            part.service = *s;
            built.serviceRefs.push_back(Located{*s, v->mark, v->path});
          }
        } else {
          part.service = context.routeService;
        }
        if (auto v = pm->get("forward_query")) {
          if (auto b = readBool(sink, *v)) part.forwardQuery = *b;
        }
        if (auto v = pm->get("timeout")) {
          fields.add(field + ".timeout", *v, std::string(kTimeoutAllowed));
          if (auto d = readPositiveDuration(sink, *v)) part.timeout = *d;
        }
        if (auto v = pm->get("on_failure")) {
          if (auto f = readFailure(sink, *v)) part.onFailure = *f;
        }
        spec.parts.push_back(std::move(part));
      }
    }
  }

  if (sink.count() == before) {
    core::SpecErrors errors;
    // A part defaulting to a route service that is itself missing is reported with the route.
    for (auto& p : spec.parts) {
      if (p.service.empty()) p.service = "?";
    }
    (void)core::shaping::validateAggregate(spec, errors);
    fields.report(sink, errors);
  }
  if (sink.count() == before) built.spec = PolicySpec{std::move(spec)};
  return built;
}

}  // namespace gatelab::config::detail
