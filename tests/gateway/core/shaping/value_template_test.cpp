// Value templates: every variable, the $$ escape, precise compile errors (unknown variables,
// syntax, bad names, control characters), run-time refusal of unsafe and oversized values, UUIDs.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/core/shaping/value_template.hpp"

namespace gatelab::core::shaping {
namespace {

struct Fixture {
  std::vector<Header> headers = {{"X-Tenant", "acme"}, {"x-tenant", "second"}, {"X-Evil", "a\r\nInjected: 1"}};
  std::vector<Header> claims = {{"sub", "user-7"}, {"https://example.com/role", "ops"}, {"name", "Eve\nX: y"}};
  TemplateContext ctx() const {
    TemplateContext c;
    c.request.method = "POST";
    c.request.host = "api.example.com";
    c.request.clientAddress = "203.0.113.9";
    c.request.consumer = "alice";
    c.request.headers = headers;
    c.request.claims = claims;
    c.route = "orders";
    c.service = "orders-svc";
    c.uuid = "5f0c7a3e-1b2d-4c5e-8f90-0123456789ab";
    return c;
  }
};

std::string render(std::string_view source, const TemplateContext& ctx) {
  TemplateError error;
  auto t = ValueTemplate::compile(source, error);
  EXPECT_TRUE(t.has_value()) << source << ": " << error.message;
  if (!t) return "<compile error>";
  std::string out;
  const RenderResult r = t->render(ctx, out);
  EXPECT_TRUE(r.ok()) << source;
  return out;
}

TEST(ValueTemplate, Variables) {
  const Fixture f;
  // Table: template -> rendered value.
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"plain", "plain"},
      {"", ""},
      {"$(uuid)", "5f0c7a3e-1b2d-4c5e-8f90-0123456789ab"},
      {"ip=$(client_ip)", "ip=203.0.113.9"},
      {"$(consumer)@$(route)/$(service)", "alice@orders/orders-svc"},
      {"$(method) $(host)", "POST api.example.com"},
      {"$(jwt.sub)", "user-7"},
      {"$(jwt.https://example.com/role)", "ops"},
      {"[$(jwt.missing)]", "[]"},
      {"$(header.x-tenant)", "acme"},  // first field, case-insensitive name
      {"[$(header.X-None)]", "[]"},
      {"cost: $$5", "cost: $5"},
      {"$$(uuid)", "$(uuid)"},
      {"$$$(consumer)", "$alice"},
      {"tab\tok", "tab\tok"},
  };
  for (const auto& [source, expected] : rows) EXPECT_EQ(render(source, f.ctx()), expected) << source;
}

TEST(ValueTemplate, CompileErrorsArePrecise) {
  // Table: template -> offset and a phrase the message must contain.
  struct Row {
    std::string source;
    std::size_t offset;
    std::string phrase;
  };
  const std::vector<Row> rows = {
      {"$(nope)", 2, "unknown variable \"nope\""},
      {"ab $(uuid", 3, "not closed"},
      {"x$", 1, "must start a variable"},
      {"$x", 0, "must start a variable"},
      {"$()", 0, "empty variable"},
      {"$(jwt.)", 6, "names no claim"},
      {"$(jwt.a b)", 7, "claim name"},
      {"$(header.bad name)", 9, "not an RFC 9110 token"},
      {"$(header.)", 9, "not an RFC 9110 token"},
      {"$(Uuid)", 2, "unknown variable"},
      {"a\r\nInjected: 1", 1, "CR at offset 1"},
      {"line\nbreak", 4, "LF at offset 4"},
      {std::string("nul\0", 4), 3, "NUL at offset 3"},
      {"bell\x07", 4, "control byte 0x07"},
      {"$(jwt.$(x))", 6, "claim name"},
  };
  for (const Row& row : rows) {
    TemplateError error;
    EXPECT_FALSE(ValueTemplate::compile(row.source, error).has_value()) << row.source;
    EXPECT_EQ(error.offset, row.offset) << row.source << ": " << error.message;
    EXPECT_NE(error.message.find(row.phrase), std::string::npos) << row.source << ": " << error.message;
  }
  TemplateError error;
  EXPECT_FALSE(ValueTemplate::compile(std::string(kMaxTemplateBytes + 1, 'a'), error).has_value());
  EXPECT_TRUE(ValueTemplate::compile(std::string(kMaxTemplateBytes, 'a'), error).has_value());
}

TEST(ValueTemplate, UnknownVariableMessageListsTheKnownOnes) {
  TemplateError error;
  ASSERT_FALSE(ValueTemplate::compile("$(clientip)", error));
  EXPECT_NE(error.message.find("client_ip"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("jwt.<claim>"), std::string::npos) << error.message;
}

TEST(ValueTemplate, RunTimeInjectionIsRefused) {
  // A claim or a field carrying CR/LF/NUL cannot reach a header: render refuses and names it.
  const Fixture f;
  struct Row {
    std::string source;
    RenderStatus status;
    std::string variable;
  };
  const std::vector<Row> rows = {
      {"hello $(jwt.name)", RenderStatus::kUnsafeValue, "jwt.name"},
      {"$(header.X-Evil)", RenderStatus::kUnsafeValue, "header.X-Evil"},
      {"$(jwt.sub)", RenderStatus::kOk, ""},
  };
  for (const Row& row : rows) {
    TemplateError error;
    auto t = ValueTemplate::compile(row.source, error);
    ASSERT_TRUE(t.has_value());
    std::string out = "stale";
    const RenderResult r = t->render(f.ctx(), out);
    EXPECT_EQ(r.status, row.status) << row.source;
    EXPECT_EQ(r.variable, row.variable) << row.source;
    if (!r.ok()) {
      EXPECT_TRUE(out.empty()) << "nothing partial is left behind";
    }
  }
  // NUL from the host's own context is refused as well.
  TemplateContext ctx = f.ctx();
  ctx.route = std::string_view("r\0", 2);
  TemplateError error;
  std::string out;
  EXPECT_EQ(ValueTemplate::compile("$(route)", error)->render(ctx, out).status, RenderStatus::kUnsafeValue);
}

TEST(ValueTemplate, OversizedResultIsRefused) {
  const std::string big(kMaxRenderedBytes / 2 + 1, 'x');
  const std::vector<Header> claims = {{"big", big}};
  TemplateContext ctx;
  ctx.request.claims = claims;
  TemplateError error;
  std::string out;
  const auto once = ValueTemplate::compile("$(jwt.big)", error);
  EXPECT_TRUE(once->render(ctx, out).ok());
  const auto doubled = ValueTemplate::compile("$(jwt.big)$(jwt.big)", error);  // `variable` points into it
  const RenderResult twice = doubled->render(ctx, out);
  EXPECT_EQ(twice.status, RenderStatus::kTooLong);
  EXPECT_EQ(twice.variable, "jwt.big");
}

TEST(ValueTemplate, Introspection) {
  TemplateError error;
  const auto lit = ValueTemplate::compile("a$$b", error);
  EXPECT_TRUE(lit->isLiteral());
  EXPECT_FALSE(lit->usesUuid());
  EXPECT_EQ(lit->source(), "a$$b");
  const auto var = ValueTemplate::compile("$(uuid)-$(jwt.sub)", error);
  EXPECT_FALSE(var->isLiteral());
  EXPECT_TRUE(var->usesUuid());
  EXPECT_TRUE(var->uses(TemplateVariable::kClaim));
  EXPECT_FALSE(var->uses(TemplateVariable::kHeader));
}

TEST(Uuid, VersionAndVariantBits) {
  const auto text = [](std::uint64_t hi, std::uint64_t lo) {
    const auto a = formatUuidV4(hi, lo);
    return std::string(a.begin(), a.end());
  };
  EXPECT_EQ(text(0, 0), "00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(text(~0ull, ~0ull), "ffffffff-ffff-4fff-bfff-ffffffffffff");
  EXPECT_EQ(text(0x0123456789abcdefull, 0xfedcba9876543210ull), "01234567-89ab-4def-bedc-ba9876543210");
}

}  // namespace
}  // namespace gatelab::core::shaping
