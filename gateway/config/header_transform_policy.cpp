// The `request_headers` and `response_headers` policies: each builds a
// core::shaping::HeaderTransformSpec, an ordered list of operations on header fields with value
// templates. Semantics: docs/security.md, "Header transforms".
//
//   - request_headers:
//       - { set: X-Request-ID, value: "$(uuid)" }
//       - { remove: X-Internal-Debug }
//       - { rename: X-Legacy-Tenant, to: X-Tenant }
//
// One mapping per operation: the operation's key names the field, `value` is the template (add,
// set, append), `to` the new name (rename). The core compiles every template now (CR/LF and other
// control characters in literal text, unknown variables, fields the proxy owns are errors), so a
// config that loads always builds.

#include <algorithm>
#include <array>

#include "gateway/config/detail/policy_support.hpp"
#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"
#include "gateway/core/shaping/header_transform.hpp"
#include "gateway/core/shaping/value_template.hpp"

namespace gatelab::config::detail {
namespace {

using core::shaping::HeaderOp;

// Allowed keys of one operation, in documentation order.
constexpr std::array<std::string_view, 7> kOpKeys{"add", "set", "append", "remove", "rename", "value", "to"};
constexpr std::array<std::string_view, 5> kOps{"add", "set", "append", "remove", "rename"};

constexpr std::string_view kListAllowed =
    "a non-empty list of operations: {add: NAME, value: V}, {set: NAME, value: V}, {append: NAME, value: V}, "
    "{remove: NAME}, {rename: NAME, to: NEW}";
constexpr std::string_view kOpAllowed =
    "exactly one of add, set, append (each with value), remove, rename (with to)";
constexpr std::string_view kFieldNameAllowed =
    "a header field name (RFC 9110 token), not one the proxy manages (Content-Length, Transfer-Encoding, "
    "Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade)";
constexpr std::string_view kValueAllowed =
    "a template: text without control characters, $(uuid), $(client_ip), $(consumer), $(route), $(service), "
    "$(method), $(host), $(jwt.CLAIM), $(header.NAME), $$ for '$'; at most 4096 bytes";

BuiltPolicy buildHeaderTransform(Sink& sink, const Node& body, bool request) {
  BuiltPolicy built;
  auto items = readList(sink, body, kListAllowed);
  if (!items) return built;
  const std::size_t before = sink.count();
  core::shaping::HeaderTransformSpec spec;
  SpecFieldMap fields(body, std::string(kListAllowed));
  fields.add("operations", body, std::string(kListAllowed));
  std::vector<Node> valueNodes;  // per operation: its value node (add/set/append), else the item

  for (const Node& item : *items) {
    auto m = Mapping::open(sink, item, kOpKeys, "a header operation");
    if (!m) continue;
    const Mapping::Entry* chosen = nullptr;
    for (const Mapping::Entry& e : m->entries()) {
      if (std::find(kOps.begin(), kOps.end(), std::string_view{e.key}) == kOps.end()) continue;
      if (chosen != nullptr) {
        sink.error(e.keyMark, e.value.path,
                   chosen->key + " and " + e.key + " cannot be combined; write each operation as its own list item",
                   std::string(kOpAllowed));
        continue;
      }
      chosen = &e;
    }
    if (chosen == nullptr) {
      bool typo = false;
      for (std::string_view k : kOps) typo = typo || m->misspelled(k);
      if (!typo) sink.error(item.mark, item.path, "a header operation needs one of add, set, append, remove, rename",
                            std::string(kOpAllowed));
      continue;
    }
    const HeaderOp op = *core::shaping::headerOpFromName(chosen->key);
    const bool takesValue = op == HeaderOp::kAdd || op == HeaderOp::kSet || op == HeaderOp::kAppend;
    core::shaping::HeaderOpSpec s;
    s.op = op;
    const std::size_t itemErrors = sink.count();
    if (auto name = readString(sink, chosen->value, kFieldNameAllowed)) s.name = *name;
    std::optional<Node> valueNode;
    if (auto v = m->get("value")) {
      if (!takesValue) {
        sink.error(m->keyMark("value"), v->path, chosen->key + " takes no value",
                   op == HeaderOp::kRename ? "{rename: NAME, to: NEW}" : "{remove: NAME}");
      } else if (auto text = readString(sink, *v, kValueAllowed, /*allowEmpty=*/true)) {
        s.value = *text;
        valueNode = *v;
      }
    } else if (takesValue && !m->misspelled("value")) {
      sink.error(item.mark, childPath(item.path, "value"), "missing required key \"value\": " + chosen->key + " writes a value",
                 "{" + chosen->key + ": NAME, value: TEMPLATE}");
    }
    if (auto t = m->get("to")) {
      if (op != HeaderOp::kRename) {
        sink.error(m->keyMark("to"), t->path, "to applies only to rename", std::string(kOpAllowed));
      } else if (auto text = readString(sink, *t, kFieldNameAllowed)) {
        s.value = *text;
        valueNode = *t;
      }
    } else if (op == HeaderOp::kRename && !m->misspelled("to")) {
      sink.error(item.mark, childPath(item.path, "to"), "missing required key \"to\": the new name",
                 "{rename: NAME, to: NEW}");
    }
    if (sink.count() != itemErrors) continue;
    const std::string field = "operations[" + std::to_string(spec.operations.size()) + "]";
    fields.add(field, item, std::string(kOpAllowed));
    fields.add(field + ".name", chosen->value, std::string(kFieldNameAllowed));
    if (valueNode) {
      fields.add(field + ".value", *valueNode, op == HeaderOp::kRename ? std::string(kFieldNameAllowed) : std::string(kValueAllowed));
    }
    valueNodes.push_back(valueNode.value_or(item));
    spec.operations.push_back(std::move(s));
  }

  if (sink.count() == before) {
    core::SpecErrors errors;
    (void)core::shaping::HeaderTransform::create(spec, errors);
    fields.report(sink, errors);
  }
  if (sink.count() != before) return built;

  // A request transform that writes the consumer or a claim must run after authentication.
  if (request) {
    for (std::size_t i = 0; i < spec.operations.size() && !built.readsIdentity; ++i) {
      const core::shaping::HeaderOpSpec& s = spec.operations[i];
      if (s.op == HeaderOp::kRemove || s.op == HeaderOp::kRename) continue;
      core::shaping::TemplateError error;
      const auto t = core::shaping::ValueTemplate::compile(s.value, error);
      if (!t) continue;
      if (t->uses(core::shaping::TemplateVariable::kConsumer)) {
        built.readsIdentity = Located{"$(consumer)", valueNodes[i].mark, valueNodes[i].path};
      } else if (t->uses(core::shaping::TemplateVariable::kClaim)) {
        built.readsIdentity = Located{"a $(jwt.CLAIM) variable", valueNodes[i].mark, valueNodes[i].path};
      }
    }
  }
  built.spec = request ? PolicySpec{RequestHeadersConfig{std::move(spec)}} : PolicySpec{ResponseHeadersConfig{std::move(spec)}};
  return built;
}

}  // namespace

BuiltPolicy buildRequestHeadersPolicy(Sink& sink, const Node& body, const PolicyContext& /*context*/) {
  return buildHeaderTransform(sink, body, true);
}

BuiltPolicy buildResponseHeadersPolicy(Sink& sink, const Node& body, const PolicyContext& /*context*/) {
  return buildHeaderTransform(sink, body, false);
}

}  // namespace gatelab::config::detail
