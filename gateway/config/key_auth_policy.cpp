// The `key_auth` policy: builds a KeyAuthPolicyConfig (where the key is looked for, whether it is
// hidden from the upstream, the anonymous consumer, the realm). The keys are the top-level
// consumers' (consumers.cpp); the loader checks that consumers exist and that `anonymous` names
// one. Semantics: docs/security.md, "API keys".

#include <algorithm>
#include <array>
#include <memory>

#include "gateway/config/detail/policy_support.hpp"
#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"
#include "gateway/core/auth/api_key.hpp"
#include "gateway/core/auth/consumer.hpp"

namespace gatelab::config::detail {
namespace {

using core::auth::KeyLocation;
using core::auth::KeySource;

// Allowed keys, in documentation order.
constexpr std::array<std::string_view, 4> kKeyAuthKeys{"key_sources", "hide_credentials", "anonymous", "realm"};

constexpr std::string_view kSourcesAllowed =
    "a list of 1-8 header:NAME or query:NAME, tried in order (default [header:apikey])";
constexpr std::string_view kAnonymousAllowed = "the id of a consumer defined under consumers";

std::optional<std::vector<KeySource>> readKeySources(Sink& sink, const Node& node, SpecFieldMap& fields) {
  auto items = readList(sink, node, kSourcesAllowed);
  if (!items) return std::nullopt;
  const std::size_t before = sink.count();
  std::vector<KeySource> out;
  for (const Node& item : *items) {
    auto text = readString(sink, item, kSourcesAllowed);
    if (!text) continue;
    const std::size_t colon = text->find(':');
    const std::string kind = text->substr(0, colon);
    KeySource s;
    if (kind == "header") {
      s.location = KeyLocation::kHeader;
    } else if (kind == "query") {
      s.location = KeyLocation::kQuery;
    } else {
      constexpr std::array<std::string_view, 2> kKinds{"header", "query"};
      sink.error(item.mark, item.path, "unknown key source " + inQuotes(*text) + didYouMean(kind, kKinds),
                 std::string(kSourcesAllowed));
      continue;
    }
    s.name = colon == std::string::npos ? std::string{} : text->substr(colon + 1);
    if (s.name.empty()) {
      sink.error(item.mark, item.path, kind + " needs a name, e.g. " + kind + (kind == "header" ? ":X-API-Key" : ":apikey"),
                 std::string(kSourcesAllowed));
      continue;
    }
    fields.add("sources[" + std::to_string(out.size()) + "]", item, std::string(kSourcesAllowed));
    out.push_back(std::move(s));
  }
  if (sink.count() != before) return std::nullopt;
  return out;
}

}  // namespace

BuiltPolicy buildKeyAuthPolicy(Sink& sink, const Node& body, const PolicyContext& /*context*/) {
  BuiltPolicy built;
  // `key_auth:` with nothing under it: every default.
  const Node effective = body.yaml.IsNull() ? Node{YAML::Node(YAML::NodeType::Map), body.path, body.mark} : body;
  auto m = Mapping::open(sink, effective, kKeyAuthKeys, "a key_auth policy");
  if (!m) return built;
  const std::size_t before = sink.count();
  built.usesConsumers = Located{"key_auth", body.mark, body.path};
  KeyAuthPolicyConfig spec;
  SpecFieldMap fields(body, "a key_auth policy the core accepts (docs/security.md#api-keys)");
  fields.renameInMessages("sources[", "key_sources[");

  if (auto n = m->get("key_sources")) {
    fields.add("sources", *n, std::string(kSourcesAllowed));
    if (auto sources = readKeySources(sink, *n, fields)) spec.sources = std::move(*sources);
  }
  if (auto n = m->get("hide_credentials")) spec.hideCredentials = readBool(sink, *n).value_or(false);
  if (auto n = m->get("anonymous")) {
    if (auto id = readString(sink, *n, kAnonymousAllowed)) {
      spec.anonymous = *id;
      built.consumerRef = Located{*id, n->mark, n->path};
    }
  }
  if (auto n = m->get("realm")) {
    if (auto realm = readRealm(sink, *n)) spec.realm = std::move(*realm);
  }

  if (sink.count() == before) {
    // The core's checks of the sources (names, duplicates, count). The keys and the anonymous
    // consumer are checked against the consumers by the loader.
    core::auth::ApiKeyAuthSpec probe;
    probe.sources = spec.sources;
    core::SpecErrors errors;
    auto none = core::auth::ConsumerRegistry::create({}, errors);
    if (none != nullptr) (void)core::auth::ApiKeyAuth::create(std::move(probe), none, errors);
    fields.report(sink, errors);
  }
  if (sink.count() == before) built.spec = PolicySpec{std::move(spec)};
  return built;
}

}  // namespace gatelab::config::detail
