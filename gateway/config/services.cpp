// The `services:` section: upstream services and their targets.

#include <algorithm>
#include <array>

#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"

namespace gatelab::config::detail {
namespace {

// Allowed keys, in documentation order. The resilience keys are read in service_resilience.cpp.
constexpr std::array<std::string_view, 10> kServiceKeys{"name",          "targets",           "timeout",
                                                        "timeouts",      "retries",           "circuit_breaker",
                                                        "outlier_detection", "load_balancer", "health_checks",
                                                        "tls"};
constexpr std::array<std::string_view, 2> kTargetKeys{"url", "weight"};

constexpr std::int64_t kMinWeight = 1;
constexpr std::int64_t kMaxWeight = 1000;
constexpr std::string_view kTargetsAllowed =
    "a non-empty list of targets, each {url: http://HOST:PORT, weight: 1..1000} or just \"http://HOST:PORT\"";

std::optional<std::string> readName(Sink& sink, const Node& node) {
  auto name = readString(sink, node, kNameAllowed);
  if (!name) return std::nullopt;
  if (std::string reason = checkName(*name); !reason.empty()) {
    sink.error(node.mark, node.path, "invalid name " + inQuotes(*name) + ": " + reason, std::string(kNameAllowed));
    return std::nullopt;
  }
  return name;
}

std::optional<TargetUrl> readUrl(Sink& sink, const Node& node) {
  auto text = readString(sink, node, kTargetUrlAllowed);
  if (!text) return std::nullopt;
  auto url = parseTargetUrl(*text);
  if (!url) {
    sink.error(node.mark, node.path, url.error().message, url.error().allowed);
    return std::nullopt;
  }
  return url.value();
}

std::optional<Target> readTarget(Sink& sink, const Node& node) {
  if (node.yaml.IsScalar()) {
    auto url = readUrl(sink, node);
    if (!url) return std::nullopt;
    return Target{*url, 1};
  }
  if (!node.yaml.IsMap()) {
    sink.error(node.mark, node.path, "expected a target URL or a mapping {url, weight}, got " + describe(node.yaml),
               std::string(kTargetsAllowed));
    return std::nullopt;
  }
  auto m = Mapping::open(sink, node, kTargetKeys, "a target");
  if (!m) return std::nullopt;
  const std::size_t before = sink.count();
  Target target;
  if (auto n = m->require(sink, "url", kTargetUrlAllowed)) {
    if (auto url = readUrl(sink, *n)) target.url = *url;
  }
  if (auto n = m->get("weight")) {
    if (auto w = readInt(sink, *n, kMinWeight, kMaxWeight)) target.weight = static_cast<std::uint32_t>(*w);
  }
  if (sink.count() != before) return std::nullopt;
  return target;
}

ServiceDraft readService(Sink& sink, const Mapping& m) {
  ServiceDraft draft;
  if (auto n = m.require(sink, "name", kNameAllowed)) {
    if (auto name = readName(sink, *n)) {
      draft.config.name = *name;
      draft.name = Located{*name, n->mark, n->path};
    }
  }
  const std::size_t beforeTargets = sink.count();
  bool targetsRead = false;
  if (auto n = m.require(sink, "targets", kTargetsAllowed)) {
    targetsRead = true;
    if (auto items = readList(sink, *n, kTargetsAllowed)) {
      std::vector<Mark> marks;
      for (const Node& item : *items) {
        auto target = readTarget(sink, item);
        if (!target) continue;
        bool duplicate = false;
        for (std::size_t i = 0; i < draft.config.targets.size(); ++i) {
          if (draft.config.targets[i].url == target->url) {
            sink.error(item.mark, item.path,
                       "duplicate target " + target->url.toString() + "; first listed at " + at(marks[i]),
                       "each target URL once per service (use weight to give it a larger share)");
            duplicate = true;
          }
        }
        if (duplicate) continue;
        draft.config.targets.push_back(*target);
        marks.push_back(item.mark);
      }
    }
  }
  const bool targetsValid = targetsRead && sink.count() == beforeTargets;
  readServiceResilience(sink, m, draft.config, targetsValid);
  if (auto n = m.get("tls")) {
    if (auto tls = readUpstreamTls(sink, *n)) {
      const bool https = std::any_of(draft.config.targets.begin(), draft.config.targets.end(),
                                     [](const Target& t) { return t.url.scheme == "https"; });
      if (targetsValid && !https) {
        sink.error(n->mark, n->path, "tls applies to https:// targets and this service has none",
                   "https://HOST[:PORT] targets, or no tls");
      } else {
        draft.config.tls = *tls;
      }
    }
  }
  return draft;
}

}  // namespace

std::vector<ServiceDraft> readServices(Sink& sink, const Node& list) {
  std::vector<ServiceDraft> out;
  auto items = readList(sink, list, "a list of services, each {name, targets, ...}", /*allowEmpty=*/true);
  if (!items) return out;
  for (const Node& item : *items) {
    auto m = Mapping::open(sink, item, kServiceKeys, "a service");
    if (!m) continue;
    out.push_back(readService(sink, *m));
  }
  return out;
}

}  // namespace gatelab::config::detail
