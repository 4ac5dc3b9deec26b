// The top-level `identity_headers:` section: the names of the header fields that tell the upstream
// who the gateway authenticated (core::auth::IdentitySpec). One set for the whole gateway, applied
// on every route with a jwt or key_auth policy; Kong's names by default, so upstreams written for
// Kong work unchanged. Semantics: docs/security.md, "Identity headers".
//
//   identity_headers:
//     consumer_id: X-Consumer-ID
//     groups: ""                  # "" = not sent (and not stripped unless listed in strip_only)
//     strip_only: [X-Consumer-Custom-ID, X-Consumer-Username, X-Credential-Username]

#include <array>

#include "gateway/config/detail/policy_support.hpp"
#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"
#include "gateway/core/auth/identity.hpp"

namespace gatelab::config::detail {
namespace {

using core::auth::IdentityField;

// Allowed keys, in documentation order: one per IdentityField (toString spelling), then strip_only.
constexpr std::array<std::string_view, 7> kIdentityKeys{"consumer_id", "groups", "credential", "anonymous",
                                                        "user_id",     "scopes", "strip_only"};

constexpr std::string_view kFieldNameAllowed =
    "a header field name (RFC 9110 token), or \"\" to not send this fact; each name once";
constexpr std::string_view kStripAllowed = "a list of header field names (RFC 9110 tokens), each once";

}  // namespace

void readIdentityHeaders(Sink& sink, const Node& node, core::auth::IdentitySpec& spec) {
  auto m = Mapping::open(sink, node, kIdentityKeys, "the identity header names");
  if (!m) return;
  const std::size_t before = sink.count();
  core::auth::IdentitySpec out;  // Kong's defaults
  SpecFieldMap fields(node, std::string(kFieldNameAllowed));
  for (std::size_t i = 0; i < core::auth::kIdentityFieldCount; ++i) {
    const std::string_view key = kIdentityKeys[i];
    const std::string field = "names[" + std::to_string(i) + "]";
    fields.renameInMessages(field, std::string(key));
    auto n = m->get(key);
    if (!n) continue;
    if (auto name = readString(sink, *n, kFieldNameAllowed, /*allowEmpty=*/true)) {
      out.names[i] = *name;
      fields.add(field, *n, std::string(kFieldNameAllowed));
    }
  }
  fields.renameInMessages("stripOnly[", "strip_only[");
  if (auto n = m->get("strip_only")) {
    if (auto list = readStringList(sink, *n, "header", kStripAllowed, /*allowEmpty=*/true, {}, /*ignoreCase=*/true)) {
      out.stripOnly = valuesOf(*list);
      fields.add("stripOnly", *n, std::string(kStripAllowed));
      for (std::size_t i = 0; i < list->size(); ++i) {
        fields.add("stripOnly[" + std::to_string(i) + "]", (*list)[i].node, std::string(kStripAllowed));
      }
    }
  }
  if (sink.count() != before) return;
  core::SpecErrors errors;
  (void)core::auth::IdentityPolicy::create(out, errors);
  fields.report(sink, errors);
  if (sink.count() == before) spec = std::move(out);
}

}  // namespace gatelab::config::detail
