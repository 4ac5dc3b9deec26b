// The `cors` policy: builds a core::shaping::CorsSpec (allowed origins, methods and request
// fields, exposed response fields, credentials, preflight max age). Semantics: docs/security.md,
// "CORS". The core's rules (origin syntax, `*` alone, no `*` with credentials...) run last and
// their errors are reported at the YAML node they concern.

#include <array>

#include "gateway/config/detail/policy_support.hpp"
#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"
#include "gateway/core/shaping/cors.hpp"

namespace gatelab::config::detail {
namespace {

// Allowed keys, in documentation order.
constexpr std::array<std::string_view, 6> kCorsKeys{"origins",     "methods", "allow_headers", "expose_headers",
                                                    "credentials", "max_age"};

constexpr std::string_view kOriginsAllowed =
    "[\"*\"] alone, or origins scheme://host[:port] (https://app.example.com) and patterns "
    "scheme://*.domain[:port] (https://*.example.com); no path, no trailing '/', not null";
constexpr std::string_view kMethodsAllowed =
    "[\"*\"] alone (any method, echoed), or upper-case HTTP methods; GET, HEAD and POST are always allowed";
constexpr std::string_view kHeadersAllowed = "[\"*\"] alone (any, echoed), or header field names (RFC 9110 tokens)";
constexpr std::string_view kExposeAllowed =
    "header field names (RFC 9110 tokens), or [\"*\"] alone without credentials";
constexpr std::string_view kMaxAgeAllowed = "a duration from 0s to 24h in whole seconds, e.g. 10m";
constexpr std::string_view kCredentialsAllowed =
    "credentials: true only with listed origins (not \"*\"); false (the default) otherwise";

std::string checkStarOrMethod(const std::string& m) { return m == "*" ? std::string{} : checkMethodName(m); }

}  // namespace

BuiltPolicy buildCorsPolicy(Sink& sink, const Node& body, const PolicyContext& /*context*/) {
  BuiltPolicy built;
  auto m = Mapping::open(sink, body, kCorsKeys, "a cors policy");
  if (!m) return built;
  const std::size_t before = sink.count();
  core::shaping::CorsSpec spec;
  SpecFieldMap fields(body, "a CORS policy the core accepts (docs/security.md#cors)");

  if (auto n = m->require(sink, "origins", kOriginsAllowed)) {
    if (auto list = readStringList(sink, *n, "origin", kOriginsAllowed, false, {}, /*ignoreCase=*/true)) {
      addItems(fields, "origins", *n, *list, kOriginsAllowed);
      spec.origins = valuesOf(*list);
    }
  }
  if (auto n = m->get("methods")) {
    if (auto list = readStringList(sink, *n, "method", kMethodsAllowed, false, checkStarOrMethod)) {
      addItems(fields, "methods", *n, *list, kMethodsAllowed);
      spec.methods = valuesOf(*list);
    }
  }
  if (auto n = m->get("allow_headers")) {
    if (auto list = readStringList(sink, *n, "header", kHeadersAllowed, true, {}, /*ignoreCase=*/true)) {
      addItems(fields, "allowHeaders", *n, *list, kHeadersAllowed);
      spec.allowHeaders = valuesOf(*list);
    }
  }
  if (auto n = m->get("expose_headers")) {
    if (auto list = readStringList(sink, *n, "header", kExposeAllowed, true, {}, /*ignoreCase=*/true)) {
      addItems(fields, "exposeHeaders", *n, *list, kExposeAllowed);
      spec.exposeHeaders = valuesOf(*list);
    }
  }
  if (auto n = m->get("credentials")) {
    fields.add("credentials", *n, std::string(kCredentialsAllowed));
    spec.credentials = readBool(sink, *n).value_or(false);
  }
  if (auto n = m->get("max_age")) {
    fields.add("maxAge", *n, std::string(kMaxAgeAllowed));
    if (auto d = readDuration(sink, *n)) spec.maxAge = *d;
  }

  if (sink.count() == before) {
    core::SpecErrors errors;
    (void)core::shaping::CorsPolicy::create(spec, errors);
    fields.report(sink, errors);
  }
  if (sink.count() == before) built.spec = PolicySpec{std::move(spec)};
  return built;
}

}  // namespace gatelab::config::detail
