// Fuzz target: value templates (gateway/core/shaping/value_template.hpp). Any bytes compile or are
// refused with an offset inside the input; a compiled template renders to a safe field value (no
// CR, LF, NUL or other control byte) whatever the request holds, or refuses; literal templates
// render to their unescaped text.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/http_field.hpp"
#include "gateway/core/shaping/value_template.hpp"

namespace {

using gatelab::core::Header;
using gatelab::core::shaping::RenderResult;
using gatelab::core::shaping::RenderStatus;
using gatelab::core::shaping::TemplateContext;
using gatelab::core::shaping::TemplateError;
using gatelab::core::shaping::ValueTemplate;

/// The text a literal template stands for: "$$" -> "$".
std::string unescaped(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    out.push_back(s[i]);
    if (s[i] == '$') ++i;
  }
  return out;
}

void checkRender(const ValueTemplate& t, const TemplateContext& ctx) {
  std::string out = "stale";
  const RenderResult r = t.render(ctx, out);
  if (r.ok()) {
    if (!gatelab::core::isSafeFieldValue(out)) std::abort();
    if (out.size() > gatelab::core::shaping::kMaxRenderedBytes) std::abort();
  } else if (!out.empty()) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  TemplateError error;
  const auto t = ValueTemplate::compile(in, error);
  if (!t) {
    if (error.message.empty() || error.offset > in.size()) std::abort();
    return 0;
  }
  if (t->source() != in) std::abort();
  if (in.find('$') == std::string_view::npos && !t->isLiteral()) std::abort();

  // A benign request, a hostile one (control bytes everywhere), and the input itself as every value.
  const std::vector<Header> safeHeaders = {{"X-Tenant", "acme"}, {"Host", "api"}};
  const std::vector<Header> safeClaims = {{"sub", "user-1"}, {"scope", "a b"}};
  const std::vector<Header> evilHeaders = {{"X-Tenant", "a\r\nb"}, {"X-Nul", std::string_view("\0", 1)}};
  const std::vector<Header> evilClaims = {{"sub", "x\ny"}, {"name", "\x7f"}};
  const std::vector<Header> echoHeaders = {{"X-Tenant", in}};
  const std::vector<Header> echoClaims = {{"sub", in}};

  TemplateContext ctx;
  ctx.request.method = "GET";
  ctx.request.clientAddress = "192.0.2.1";
  ctx.request.consumer = "alice";
  ctx.route = "r";
  ctx.service = "s";
  ctx.uuid = "00000000-0000-4000-8000-000000000000";
  ctx.request.headers = safeHeaders;
  ctx.request.claims = safeClaims;
  std::string out;
  const RenderResult benign = t->render(ctx, out);
  if (!benign.ok() && benign.status != RenderStatus::kTooLong) std::abort();  // every benign value is safe
  if (t->isLiteral() && (!benign.ok() || out != unescaped(in))) std::abort();
  checkRender(*t, ctx);

  ctx.request.headers = evilHeaders;
  ctx.request.claims = evilClaims;
  ctx.route = std::string_view("r\r\n", 3);
  checkRender(*t, ctx);

  ctx.request.headers = echoHeaders;
  ctx.request.claims = echoClaims;
  ctx.request.consumer = in;
  ctx.request.host = in;
  checkRender(*t, ctx);

  // Compiling the same source again gives a template that renders the same.
  const auto again = ValueTemplate::compile(t->source(), error);
  if (!again) std::abort();
  std::string a;
  std::string b;
  if (t->render(ctx, a).status != again->render(ctx, b).status || a != b) std::abort();
  return 0;
}
