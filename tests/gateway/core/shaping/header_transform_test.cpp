// Header transforms: each operation's semantics, order of application, case-insensitive names,
// fail-closed handling of values that cannot be rendered, config validation (tokens, templates,
// CR/LF, proxy-owned fields).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/core/shaping/header_transform.hpp"

namespace gatelab::core::shaping {
namespace {

HeaderTransform make(std::vector<HeaderOpSpec> ops) {
  SpecErrors errors;
  auto t = HeaderTransform::create({std::move(ops)}, errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].field + ": " + errors[0].message);
  return std::move(*t);
}

TEST(HeaderTransform, EachOperation) {
  // Table: one operation applied to the same fields -> the fields after it.
  const HeaderList base = {{"Accept", "a"}, {"X-Tag", "one"}, {"x-tag", "two"}, {"Vary", ""}};
  struct Row {
    const char* what;
    HeaderOpSpec op;
    HeaderList expected;
  };
  const std::vector<Row> rows = {
      {"add appends a line even when present",
       {HeaderOp::kAdd, "X-Tag", "three"},
       {{"Accept", "a"}, {"X-Tag", "one"}, {"x-tag", "two"}, {"Vary", ""}, {"X-Tag", "three"}}},
      {"add of an absent field", {HeaderOp::kAdd, "X-New", "v"}, {{"Accept", "a"}, {"X-Tag", "one"}, {"x-tag", "two"}, {"Vary", ""}, {"X-New", "v"}}},
      {"set replaces every line, at the first one's place",
       {HeaderOp::kSet, "X-TAG", "only"},
       {{"Accept", "a"}, {"X-Tag", "only"}, {"Vary", ""}}},
      {"set of an absent field adds it", {HeaderOp::kSet, "X-New", "v"}, {{"Accept", "a"}, {"X-Tag", "one"}, {"x-tag", "two"}, {"Vary", ""}, {"X-New", "v"}}},
      {"append joins to the last line", {HeaderOp::kAppend, "X-Tag", "three"}, {{"Accept", "a"}, {"X-Tag", "one"}, {"x-tag", "two, three"}, {"Vary", ""}}},
      {"append to an empty value", {HeaderOp::kAppend, "Vary", "Origin"}, {{"Accept", "a"}, {"X-Tag", "one"}, {"x-tag", "two"}, {"Vary", "Origin"}}},
      {"append of an absent field adds it", {HeaderOp::kAppend, "X-New", "v"}, {{"Accept", "a"}, {"X-Tag", "one"}, {"x-tag", "two"}, {"Vary", ""}, {"X-New", "v"}}},
      {"remove every line", {HeaderOp::kRemove, "x-TAG", ""}, {{"Accept", "a"}, {"Vary", ""}}},
      {"remove of an absent field", {HeaderOp::kRemove, "X-None", ""}, base},
      {"rename keeps values and places", {HeaderOp::kRename, "X-Tag", "X-Label"}, {{"Accept", "a"}, {"X-Label", "one"}, {"X-Label", "two"}, {"Vary", ""}}},
      {"rename drops existing lines of the new name", {HeaderOp::kRename, "X-Tag", "accept"}, {{"accept", "one"}, {"accept", "two"}, {"Vary", ""}}},
      {"rename of an absent field does nothing", {HeaderOp::kRename, "X-None", "Accept"}, base},
  };
  for (const Row& row : rows) {
    const HeaderTransform t = make({row.op});
    HeaderList fields = base;
    EXPECT_TRUE(t.apply(fields, {}).ok()) << row.what;
    EXPECT_EQ(fields, row.expected) << row.what;
  }
}

TEST(HeaderTransform, AppendNeverCommaJoinsSetCookie) {
  const HeaderTransform t = make({{HeaderOp::kAppend, "Set-Cookie", "b=2"}});
  HeaderList fields = {{"set-cookie", "a=1; Path=/"}};
  t.apply(fields, {});
  EXPECT_EQ(fields, (HeaderList{{"set-cookie", "a=1; Path=/"}, {"Set-Cookie", "b=2"}}));
}

TEST(HeaderTransform, OperationsRunInTheOrderWritten) {
  const std::vector<Header> claims = {{"sub", "u-1"}};
  TemplateContext ctx;
  ctx.request.claims = claims;
  ctx.request.clientAddress = "198.51.100.4";
  ctx.uuid = "req-1";
  const HeaderTransform t = make({{HeaderOp::kRemove, "X-User", ""},
                                  {HeaderOp::kAdd, "X-User", "$(jwt.sub)"},
                                  {HeaderOp::kRename, "X-User", "X-End-User"},
                                  {HeaderOp::kSet, "X-Request-ID", "$(uuid)"},
                                  {HeaderOp::kAppend, "X-Forwarded-For", "$(client_ip)"}});
  EXPECT_TRUE(t.usesUuid());
  HeaderList fields = {{"X-User", "forged"}, {"X-Forwarded-For", "10.0.0.1"}, {"X-Request-ID", "client-chosen"}};
  EXPECT_TRUE(t.apply(fields, ctx).ok());
  const HeaderList expected = {{"X-Forwarded-For", "10.0.0.1, 198.51.100.4"}, {"X-Request-ID", "req-1"}, {"X-End-User", "u-1"}};
  EXPECT_EQ(fields, expected);
}

TEST(HeaderTransform, EmptyRenderMeansNoValue) {
  // A variable without a value: add/append write nothing, set removes (a client value never survives).
  const HeaderTransform t = make({{HeaderOp::kSet, "X-Tenant", "$(jwt.tenant)"},
                                  {HeaderOp::kAdd, "X-A", "$(jwt.tenant)"},
                                  {HeaderOp::kAppend, "X-B", "$(consumer)"}});
  HeaderList fields = {{"X-Tenant", "forged"}, {"X-B", "keep"}};
  EXPECT_TRUE(t.apply(fields, {}).ok());
  EXPECT_EQ(fields, (HeaderList{{"X-B", "keep"}}));
}

TEST(HeaderTransform, UnsafeRuntimeValuesFailClosed) {
  // A claim with CR/LF: nothing unsafe is written, set removes its field, the failures are reported.
  const std::vector<Header> claims = {{"name", "Eve\r\nX-Admin: true"}, {"sub", "u-1"}};
  TemplateContext ctx;
  ctx.request.claims = claims;
  const HeaderTransform t = make({{HeaderOp::kSet, "X-User-Name", "$(jwt.name)"},
                                  {HeaderOp::kAdd, "X-Greeting", "hi $(jwt.name)"},
                                  {HeaderOp::kAppend, "X-List", "$(jwt.name)"},
                                  {HeaderOp::kSet, "X-User", "$(jwt.sub)"}});
  HeaderList fields = {{"X-User-Name", "client-supplied"}, {"X-List", "a"}};
  const TransformReport report = t.apply(fields, ctx);
  EXPECT_EQ(fields, (HeaderList{{"X-List", "a"}, {"X-User", "u-1"}}));
  const std::vector<OpFailure> expected = {{0, RenderStatus::kUnsafeValue, "jwt.name"},
                                           {1, RenderStatus::kUnsafeValue, "jwt.name"},
                                           {2, RenderStatus::kUnsafeValue, "jwt.name"}};
  EXPECT_EQ(report.failures, expected);
  for (const HeaderField& f : fields) {
    EXPECT_EQ(f.value.find_first_of("\r\n"), std::string::npos);
  }
}

TEST(HeaderTransform, ValidationCollectsEveryProblem) {
  SpecErrors errors;
  const HeaderTransformSpec spec{{
      {HeaderOp::kSet, "X-Ok", "fine $(uuid)"},
      {HeaderOp::kSet, "Bad Name", "v"},
      {HeaderOp::kAdd, "X-Inject", "a\r\nEvil: 1"},
      {HeaderOp::kAdd, "X-Var", "$(nope)"},
      {HeaderOp::kRemove, "X-R", "unexpected"},
      {HeaderOp::kRename, "X-From", "bad:name"},
      {HeaderOp::kRename, "X-Same", "x-same"},
      {HeaderOp::kSet, "Content-Length", "0"},
      {HeaderOp::kRename, "X-Len", "transfer-encoding"},
      {HeaderOp::kRemove, "", ""},
  }};
  EXPECT_FALSE(HeaderTransform::create(spec, errors).has_value());
  std::vector<std::string> fields;
  for (const SpecError& e : errors) fields.push_back(e.field);
  const std::vector<std::string> expected = {"operations[1].name",  "operations[2].value", "operations[3].value",
                                             "operations[4].value", "operations[5].value", "operations[6].value",
                                             "operations[7].name",  "operations[8].value", "operations[9].name"};
  EXPECT_EQ(fields, expected);
  EXPECT_NE(errors[1].message.find("CR at offset 1"), std::string::npos) << errors[1].message;
  EXPECT_NE(errors[2].message.find("unknown variable \"nope\""), std::string::npos) << errors[2].message;
  EXPECT_NE(errors[6].message.find("proxy manages"), std::string::npos) << errors[6].message;

  errors.clear();
  HeaderTransformSpec tooMany;
  tooMany.operations.assign(kMaxHeaderOperations + 1, {HeaderOp::kRemove, "X", ""});
  EXPECT_FALSE(HeaderTransform::create(tooMany, errors).has_value());
}

TEST(HeaderTransform, OperationNames) {
  for (HeaderOp op : {HeaderOp::kAdd, HeaderOp::kSet, HeaderOp::kAppend, HeaderOp::kRemove, HeaderOp::kRename}) {
    EXPECT_EQ(headerOpFromName(toString(op)), op);
  }
  EXPECT_EQ(headerOpFromName("replace"), std::nullopt);
  EXPECT_TRUE(isProxyOwnedField("connection"));
  EXPECT_FALSE(isProxyOwnedField("Host"));
}

}  // namespace
}  // namespace gatelab::core::shaping
