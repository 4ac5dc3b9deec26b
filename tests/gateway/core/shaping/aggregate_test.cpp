// Aggregation's pure pieces: the spec's rules, which part answers count as a success, the
// status given each part's fate (fail / null / omit), and the merged body.

#include <gtest/gtest.h>

#include <array>
#include <nlohmann/json.hpp>
#include <string>

#include "gateway/core/shaping/aggregate.hpp"

namespace gatelab::core::shaping {
namespace {

using namespace std::chrono_literals;

AggregateSpec spec3() {
  AggregateSpec s;
  s.parts.push_back({"profile", "users", "/me", false, 300ms, PartFailure::kFail});
  s.parts.push_back({"orders", "orders", "/orders", true, {}, PartFailure::kNull});
  s.parts.push_back({"ads", "ads", "/ads/home", false, 50ms, PartFailure::kOmit});
  return s;
}

TEST(Aggregate, AValidSpecHasNoErrors) {
  SpecErrors errors;
  EXPECT_TRUE(validateAggregate(spec3(), errors));
  EXPECT_TRUE(errors.empty());
}

TEST(Aggregate, EachRuleNamesItsField) {
  AggregateSpec s = spec3();
  s.parts[1].name = "profile";      // twice
  s.parts[2].name = "a.b";          // not a key character
  s.parts[0].path = "/me?x=1";      // a query
  s.parts[1].path = "me";           // not from '/'
  s.parts[2].path = "/a%zz";        // a broken escape
  s.parts[2].timeout = 2h;          // too long
  s.parts[1].service.clear();
  SpecErrors errors;
  EXPECT_FALSE(validateAggregate(s, errors));
  std::vector<std::string> fields;
  for (const SpecError& e : errors) fields.push_back(e.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"parts[0].path", "parts[1].name", "parts[1].service", "parts[1].path",
                                              "parts[2].name", "parts[2].path", "parts[2].timeout"}));
  EXPECT_NE(errors[0].message.find("forward_query"), std::string::npos);

  SpecErrors none;
  EXPECT_FALSE(validateAggregate(AggregateSpec{}, none));
  ASSERT_EQ(none.size(), 1U);
  EXPECT_EQ(none[0].field, "parts");
}

TEST(Aggregate, APartSucceedsWith2xxAndOneJsonValue) {
  EXPECT_TRUE(partSucceeded(200, R"({"id": 7})"));
  EXPECT_TRUE(partSucceeded(204 + 2, " [1, 2] \n"));
  EXPECT_TRUE(partSucceeded(200, "\"text\""));
  EXPECT_FALSE(partSucceeded(200, ""));
  EXPECT_FALSE(partSucceeded(200, "{\"id\": 7"));      // truncated
  EXPECT_FALSE(partSucceeded(200, "{} {}"));           // two values
  EXPECT_FALSE(partSucceeded(200, "<html></html>"));
  EXPECT_FALSE(partSucceeded(500, R"({"id": 7})"));
  EXPECT_FALSE(partSucceeded(304, R"({"id": 7})"));
}

TEST(Aggregate, TheStatusFollowsTheFailedPartsPolicies) {
  const AggregateSpec s = spec3();
  std::array<bool, 3> all{true, true, true};
  EXPECT_EQ(decide(s, all).status, 200);
  std::array<bool, 3> soft{true, false, false};  // orders -> null, ads -> omitted
  AggregateVerdict v = decide(s, soft);
  EXPECT_EQ(v.status, 200);
  EXPECT_EQ(v.failedParts, 2U);
  EXPECT_EQ(v.failedPart, -1);
  std::array<bool, 3> hard{false, true, true};
  v = decide(s, hard);
  EXPECT_EQ(v.status, 502);
  EXPECT_EQ(v.failedPart, 0);
  std::string body;
  failureBody(s, v, body);
  EXPECT_EQ(body, R"({"error":"part_failed","part":"profile"})");
}

TEST(Aggregate, TheMergedBodyHoldsEachPartUnderItsName) {
  const AggregateSpec s = spec3();
  const std::array<std::string_view, 3> bodies{" {\"name\":\"Ada\"}\n", "garbage", "[1]"};
  std::array<bool, 3> ok{true, false, false};
  std::string out;
  mergeBodies(s, bodies, ok, out);
  EXPECT_EQ(out, R"({"profile":{"name":"Ada"},"orders":null})");
  EXPECT_TRUE(nlohmann::json::accept(out));
  ok = {true, true, true};
  const std::array<std::string_view, 3> good{"{\"name\":\"Ada\"}", "[{\"id\":1}]", "[1]"};
  mergeBodies(s, good, ok, out);
  EXPECT_EQ(nlohmann::json::parse(out),
            nlohmann::json::parse(R"({"profile":{"name":"Ada"},"orders":[{"id":1}],"ads":[1]})"));
}

}  // namespace
}  // namespace gatelab::core::shaping
