// JSON response projection: keep / drop / both, nested and top-level arrays, array caps, missing
// paths and shape mismatches, byte-exact copies of numbers and strings, strict JSON (anything
// else passes through with a status), limits, spec validation; and a fixed-seed property test
// against nlohmann::json as the reference.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "gateway/core/shaping/json_projection.hpp"

namespace gatelab::core::shaping {
namespace {

using ::testing::HasSubstr;

JsonProjection make(ProjectionSpec spec) {
  SpecErrors errors;
  auto p = JsonProjection::create(std::move(spec), errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].field + ": " + errors[0].message);
  EXPECT_TRUE(p.has_value());
  return std::move(*p);
}

JsonProjection keep(std::vector<std::string> paths) {
  ProjectionSpec s;
  s.keep = std::move(paths);
  return make(std::move(s));
}

JsonProjection drop(std::vector<std::string> paths) {
  ProjectionSpec s;
  s.drop = std::move(paths);
  return make(std::move(s));
}

// The projected body; fails the test when the status is not kApplied.
std::string project(const JsonProjection& p, std::string_view body) {
  std::string out;
  const ProjectionResult r = p.apply(body, out);
  EXPECT_EQ(r.status, ProjectionStatus::kApplied) << toString(r.status) << " at " << r.errorOffset << " for " << body;
  EXPECT_EQ(r.bytesIn, body.size());
  EXPECT_EQ(r.bytesOut, out.size());
  return out;
}

std::vector<std::string> errorsOf(ProjectionSpec spec) {
  SpecErrors errors;
  EXPECT_FALSE(JsonProjection::create(std::move(spec), errors).has_value());
  std::vector<std::string> out;
  for (const SpecError& e : errors) out.push_back(e.field + ": " + e.message);
  return out;
}

const char* kRepo = R"({"id": 1, "name": "gatelab", "internal": {"shard": 7},
  "owner": {"login": "ada", "email": "ada@example.com", "repos": [1, 2, 3, 4]},
  "items": [{"id": 10, "price": 1.10, "debug": "x"}, {"id": 11, "price": 2, "debug": "y"}]})";

TEST(JsonProjection, KeepListedPathsWithTheirAncestors) {
  // Table: keep list -> projected kRepo.
  struct Row {
    std::vector<std::string> keep;
    std::string expected;
  };
  const std::vector<Row> rows = {
      {{"id"}, R"({"id":1})"},
      {{"id", "name"}, R"({"id":1,"name":"gatelab"})"},
      {{"name", "id"}, R"({"id":1,"name":"gatelab"})"},  // body order, not list order
      {{"owner.login"}, R"({"owner":{"login":"ada"}})"},
      {{"owner"}, R"({"owner":{"login":"ada","email":"ada@example.com","repos":[1,2,3,4]}})"},
      {{"items[].id", "items[].price"}, R"({"items":[{"id":10,"price":1.10},{"id":11,"price":2}]})"},
      {{"items"}, R"({"items":[{"id":10,"price":1.10,"debug":"x"},{"id":11,"price":2,"debug":"y"}]})"},
      {{"missing", "owner.missing"}, R"({"owner":{}})"},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(project(keep(row.keep), kRepo), row.expected) << ::testing::PrintToString(row.keep);
  }
}

TEST(JsonProjection, DropListedPaths) {
  EXPECT_EQ(project(drop({"internal", "items[].debug", "owner.email"}), kRepo),
            R"({"id":1,"name":"gatelab","owner":{"login":"ada","repos":[1,2,3,4]},)"
            R"("items":[{"id":10,"price":1.10},{"id":11,"price":2}]})");
  // Missing paths are ignored.
  EXPECT_EQ(project(drop({"nope", "owner.nope", "items[].nope"}), R"({"a":1})"), R"({"a":1})");
}

TEST(JsonProjection, DropAppliesAfterKeep) {
  ProjectionSpec s;
  s.keep = {"id", "owner", "items[].id", "items[].debug"};
  s.drop = {"owner.email", "owner.repos"};
  EXPECT_EQ(project(make(s), kRepo), R"({"id":1,"owner":{"login":"ada"},"items":[{"id":10,"debug":"x"},{"id":11,"debug":"y"}]})");
}

TEST(JsonProjection, NestedArrays) {
  const std::string body = R"({"a":[{"b":[{"c":1,"d":2},{"c":3,"d":4}],"e":5},{"b":[],"e":6},{"e":7}]})";
  EXPECT_EQ(project(keep({"a[].b[].c"}), body), R"({"a":[{"b":[{"c":1},{"c":3}]},{"b":[]},{}]})");
  EXPECT_EQ(project(drop({"a[].b[].d"}), body), R"({"a":[{"b":[{"c":1},{"c":3}],"e":5},{"b":[],"e":6},{"e":7}]})");
  // Arrays of arrays.
  EXPECT_EQ(project(keep({"m[][].x"}), R"({"m":[[{"x":1,"y":2}],[{"x":3}]],"n":0})"), R"({"m":[[{"x":1}],[{"x":3}]]})");
}

TEST(JsonProjection, TopLevelArray) {
  const std::string body = R"([{"id":1,"secret":"s"},{"id":2,"secret":"t"}])";
  EXPECT_EQ(project(keep({"[].id"}), body), R"([{"id":1},{"id":2}])");
  EXPECT_EQ(project(drop({"[].secret"}), body), R"([{"id":1},{"id":2}])");
  // keep paths that expect an object at the top meet an array: it is emptied (fail closed).
  EXPECT_EQ(project(keep({"id"}), body), "[]");
  // and the reverse.
  EXPECT_EQ(project(keep({"[].id"}), R"({"id":1})"), "{}");
}

TEST(JsonProjection, ArrayCaps) {
  const std::string body = R"({"items":[1,2,3,4,5,6],"owner":{"repos":[1,2,3,4]},"tags":["a","b","c"]})";
  ProjectionSpec global;
  global.maxArrayItems = 2;
  EXPECT_EQ(project(make(global), body), R"({"items":[1,2],"owner":{"repos":[1,2]},"tags":["a","b"]})");

  ProjectionSpec perPath;
  perPath.maxArrayItems = 2;
  perPath.arrayLimits = {{"items", 5}, {"owner.repos", 0}};
  EXPECT_EQ(project(make(perPath), body), R"({"items":[1,2,3,4,5],"owner":{"repos":[]},"tags":["a","b"]})");

  ProjectionSpec root;
  root.arrayLimits = {{"$", 1}};
  EXPECT_EQ(project(make(root), R"([{"a":[1,2]},{"a":[3]}])"), R"([{"a":[1,2]}])");

  ProjectionSpec inner;
  inner.arrayLimits = {{"m[]", 1}};
  EXPECT_EQ(project(make(inner), R"({"m":[[1,2],[3,4]]})"), R"({"m":[[1],[3]]})");

  // Caps inside a kept value, and on an array on the way to kept paths.
  ProjectionSpec withKeep;
  withKeep.keep = {"owner", "items[].id"};
  withKeep.arrayLimits = {{"owner.repos", 1}, {"items", 1}};
  EXPECT_EQ(project(make(withKeep), kRepo), R"({"owner":{"login":"ada","email":"ada@example.com","repos":[1]},"items":[{"id":10}]})");
}

TEST(JsonProjection, ShapeMismatches) {
  // A scalar where a path expects a container is left as it is.
  EXPECT_EQ(project(keep({"owner.login"}), R"({"owner":"ada","x":1})"), R"({"owner":"ada"})");
  EXPECT_EQ(project(keep({"owner.login"}), R"({"owner":null})"), R"({"owner":null})");
  EXPECT_EQ(project(keep({"items[].id"}), R"({"items":[1,{"id":2,"x":3},"s"]})"), R"({"items":[1,{"id":2},"s"]})");
  // With keep, a container of the other kind is removed: nothing listed reaches into it.
  EXPECT_EQ(project(keep({"owner.login", "id"}), R"({"id":1,"owner":[{"login":"ada","secret":1}]})"), R"({"id":1})");
  EXPECT_EQ(project(keep({"items[].id", "id"}), R"({"id":1,"items":{"id":2,"secret":1}})"), R"({"id":1})");
  EXPECT_EQ(project(keep({"m[][].x"}), R"({"m":[{"x":1},[{"x":2,"y":3}]]})"), R"({"m":[[{"x":2}]]})");
  // With drop or limits, a path that does not fit the body is absent: nothing changes.
  EXPECT_EQ(project(drop({"owner.email"}), R"({"owner":["email"]})"), R"({"owner":["email"]})");
  EXPECT_EQ(project(drop({"items[].id"}), R"({"items":{"id":1}})"), R"({"items":{"id":1}})");
  ProjectionSpec limit;
  limit.arrayLimits = {{"items", 1}};
  EXPECT_EQ(project(make(limit), R"({"items":{"a":[1,2]}})"), R"({"items":{"a":[1,2]}})");
}

TEST(JsonProjection, DuplicateKeysAreJudgedOneByOne) {
  EXPECT_EQ(project(keep({"a"}), R"({"a":1,"b":2,"a":3})"), R"({"a":1,"a":3})");
  EXPECT_EQ(project(drop({"a"}), R"({"a":1,"b":2,"a":3})"), R"({"b":2})");
}

TEST(JsonProjection, TokensAreCopiedByteForByte) {
  // Numbers keep their spelling, strings their escapes and raw UTF-8.
  const std::string body =
      "{\"big\":12345678901234567890,\"huge\":1e400,\"negzero\":-0.0,\"dec\":1.10,\"exp\":-2.5E+03,"
      "\"esc\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\",\"utf8\":\"h\xC3\xA9llo \xF0\x9F\x98\x80 \xE2\x82\xAC\","
      "\"t\":true,\"f\":false,\"n\":null,\"drop\":0}";
  std::string expected = body;
  expected.replace(expected.find(",\"drop\":0"), 9, "");
  EXPECT_EQ(project(drop({"drop"}), body), expected);
  // With keep too.
  EXPECT_EQ(project(keep({"big", "huge", "negzero"}), body), R"({"big":12345678901234567890,"huge":1e400,"negzero":-0.0})");
}

TEST(JsonProjection, EscapedKeysMatchTheirUnescapedPath) {
  EXPECT_EQ(project(keep({"A", "\xC3\xA9t\xC3\xA9"}), R"({"\u0041":1,"B":2,"\u00e9t\u00E9":3})"), R"({"\u0041":1,"\u00e9t\u00E9":3})");
  EXPECT_EQ(project(keep({"\xF0\x9F\x98\x80"}), R"({"\uD83D\uDE00":1,"x":2})"), R"({"\uD83D\uDE00":1})");
  // Keys holding '.', '[', ']' or '\' are written with '\' in the path.
  EXPECT_EQ(project(keep({"a\\.b", "c\\[\\]", "d\\\\e"}), R"({"a.b":1,"a":{"b":2},"c[]":3,"d\\e":4})"),
            R"({"a.b":1,"c[]":3,"d\\e":4})");
}

TEST(JsonProjection, OutputIsCompact) {
  EXPECT_EQ(project(drop({"x"}), " \r\n\t{ \"a\" : [ 1 , 2 , { \"b\" : \"s p\" } ] , \"x\" : 0 } \n"), R"({"a":[1,2,{"b":"s p"}]})");
}

TEST(JsonProjection, EmptyContainersAndScalarRoots) {
  EXPECT_EQ(project(keep({"a"}), "{}"), "{}");
  EXPECT_EQ(project(keep({"a"}), "[]"), "[]");
  EXPECT_EQ(project(drop({"a"}), " [ ] "), "[]");
  EXPECT_EQ(project(keep({"a"}), R"({"a":{},"b":[]})"), R"({"a":{}})");
  // A scalar body has nothing to project: it is sent (compact) as it is.
  EXPECT_EQ(project(keep({"a"}), " 42 "), "42");
  EXPECT_EQ(project(keep({"a"}), "\"s\""), "\"s\"");
  EXPECT_EQ(project(keep({"a"}), "null"), "null");
}

TEST(JsonProjection, InvalidJsonPassesThroughUnchanged) {
  // Each body is not strict RFC 8259 JSON: status not_json, `out` empty.
  const JsonProjection p = keep({"a"});
  for (const std::string& body : std::vector<std::string>{"", " ", "{", "}", "{\"a\":1", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\" 1}", "{a:1}", "{'a':1}",
                                 "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":1e}", "{\"a\":-}", "{\"a\":NaN}",
                                 "{\"a\":tru}", "{\"a\":nul}", "{\"a\":\"x}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12G4\"}",
                                 "{\"a\":\"tab\there\"}", "{\"a\":1} x", "{\"a\":1}{}", "\xEF\xBB\xBF{}", "{\"a\":1}//",
                                 "{\"a\":\"\xC3\"}", "{\"a\":\"\xC0\xAF\"}", "{\"a\":\"\xED\xA0\x80\"}", "{\"a\":\"\xF5\x80\x80\x80\"}",
                                 "{\"a\":\"\\uD83D\"}", "{\"a\":\"\\uDE00\"}", "{\"a\":\"\\uD83D\\u0041\"}",
                                 std::string("{\"a\":\"\0\"}", 8)}) {
    std::string out = "stale";
    const ProjectionResult r = p.apply(body, out);
    EXPECT_EQ(r.status, ProjectionStatus::kNotJson) << ::testing::PrintToString(body);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(r.bytesOut, body.size());
  }
}

TEST(JsonProjection, DepthAndSizeLimits) {
  ProjectionSpec s;
  s.drop = {"x"};
  s.maxDepth = 3;
  s.maxBodyBytes = 64;
  const JsonProjection p = make(s);
  std::string out;
  EXPECT_EQ(p.apply(R"({"a":[{"b":1}]})", out).status, ProjectionStatus::kApplied);
  EXPECT_EQ(p.apply(R"({"a":[{"b":[]}]})", out).status, ProjectionStatus::kTooDeep);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(p.apply(std::string(65, ' '), out).status, ProjectionStatus::kTooLarge);
  EXPECT_EQ(p.apply(std::string(64, ' ') , out).status, ProjectionStatus::kNotJson);

  // The default depth (64) guards the recursion: 100,000 '[' never overflow the stack.
  const JsonProjection d = drop({"x"});
  EXPECT_EQ(d.apply(std::string(100'000, '['), out).status, ProjectionStatus::kTooDeep);
  EXPECT_EQ(d.apply(std::string(64, '[') + std::string(64, ']'), out).status, ProjectionStatus::kApplied);
  EXPECT_EQ(d.apply(std::string(65, '[') + std::string(65, ']'), out).status, ProjectionStatus::kTooDeep);
}

TEST(JsonProjection, StatusNames) {
  EXPECT_STREQ(toString(ProjectionStatus::kApplied), "applied");
  EXPECT_STREQ(toString(ProjectionStatus::kNotJson), "not_json");
  EXPECT_STREQ(toString(ProjectionStatus::kTooDeep), "too_deep");
  EXPECT_STREQ(toString(ProjectionStatus::kTooLarge), "too_large");
}

TEST(JsonProjection, PathSyntax) {
  // Table: path -> steps, or a phrase of the error.
  using S = ProjectionStep;
  EXPECT_EQ(parseProjectionPath("a.b").steps, (std::vector<S>{{false, "a"}, {false, "b"}}));
  EXPECT_EQ(parseProjectionPath("a[].b").steps, (std::vector<S>{{false, "a"}, {true, ""}, {false, "b"}}));
  EXPECT_EQ(parseProjectionPath("[][].b").steps, (std::vector<S>{{true, ""}, {true, ""}, {false, "b"}}));
  EXPECT_EQ(parseProjectionPath("a\\.b\\[\\]\\\\\\x").steps, (std::vector<S>{{false, "a.b[]\\x"}}));
  EXPECT_EQ(parseProjectionPath("$").steps, (std::vector<S>{{false, "$"}}));
  EXPECT_TRUE(parseProjectionPath("$", true).steps.empty());
  EXPECT_TRUE(parseProjectionPath("$", true).error.empty());
  struct Bad {
    const char* path;
    const char* phrase;
  };
  for (const Bad& b : std::vector<Bad>{{"", "empty"},
                                       {".a", "cannot start with '.'"},
                                       {"a..b", "\"..\""},
                                       {"a.", "cannot end with '.'"},
                                       {"a[0]", "indexes"},
                                       {"a[", "indexes"},
                                       {"a]", "unmatched ']'"},
                                       {"a.[]", "a[]"},
                                       {"a[]b", "a[].b"},
                                       {"a\\", "escapes nothing"}}) {
    EXPECT_THAT(parseProjectionPath(b.path).error, HasSubstr(b.phrase)) << b.path;
  }
  EXPECT_THAT(parseProjectionPath(std::string(kMaxProjectionPathBytes + 1, 'a')).error, HasSubstr("at most"));
}

TEST(JsonProjection, SpecValidation) {
  // Table: a spec -> one error (field: phrase).
  struct Row {
    const char* what;
    ProjectionSpec spec;
    std::string expected;
  };
  auto spec = [](std::vector<std::string> k, std::vector<std::string> d, std::vector<ArrayLimitSpec> l = {}) {
    ProjectionSpec s;
    s.keep = std::move(k);
    s.drop = std::move(d);
    s.arrayLimits = std::move(l);
    return s;
  };
  ProjectionSpec tooBig;
  tooBig.maxArrayItems = kMaxProjectionArrayItems + 1;
  ProjectionSpec depth0 = spec({"a"}, {});
  depth0.maxDepth = 0;
  ProjectionSpec size0 = spec({"a"}, {});
  size0.maxBodyBytes = 0;
  ProjectionSpec tooMany;
  for (int i = 0; i < 257; ++i) tooMany.drop.push_back("k" + std::to_string(i));
  const std::vector<Row> rows = {
      {"nothing to do", ProjectionSpec{}, ": a projection needs at least one of"},
      {"malformed", spec({"a..b"}, {}), "keep[0]: \"a..b\": "},
      {"ends with []", spec({}, {"a[]"}), "drop[0]: \"a[]\" ends with \"[]\"; name the array itself (\"a\")"},
      {"listed twice", spec({"a", "b", "a"}, {}), "keep[2]: \"a\" is listed twice in keep (also keep[0])"},
      {"keep inside keep", spec({"owner", "owner.login"}, {}), "keep[1]: \"owner.login\" is inside \"owner\" (keep[0])"},
      {"kept and dropped", spec({"a"}, {"a"}), "drop[0]: \"a\" is both kept (keep[0]) and dropped"},
      {"drop above keep", spec({"a.b"}, {"a"}), "drop[0]: dropping \"a\" would remove the kept \"a.b\" (keep[0])"},
      {"drop inside drop", spec({}, {"a", "a.b"}), "drop[1]: \"a.b\" is already removed with \"a\" (drop[0])"},
      {"drop outside keep", spec({"a"}, {"b"}), "drop[0]: \"b\" is not inside any kept path"},
      {"limit on dropped", spec({}, {"a"}, {{"a", 1}}), "arrayLimits[0].path: the array \"a\" is removed by drop"},
      {"limit not kept", spec({"a"}, {}, {{"b", 1}}), "arrayLimits[0].path: the array \"b\" is not kept"},
      {"limit twice", spec({}, {}, {{"a", 1}, {"a", 2}}), "arrayLimits[1].path: \"a\" has two limits (also arrayLimits[0].path)"},
      {"limit too large", spec({}, {}, {{"a", kMaxProjectionArrayItems + 1}}), "arrayLimits[0].maxItems: must be between 0 and 1000000"},
      {"limit path malformed", spec({}, {}, {{"a[1]", 1}}), "arrayLimits[0].path: \"a[1]\""},
      {"global cap too large", tooBig, "maxArrayItems: must be between 0 and 1000000"},
      {"depth", depth0, "maxDepth: must be between 1 and 512"},
      {"size", size0, "maxBodyBytes: must be greater than 0"},
      {"too many paths", tooMany, ": at most 256 paths"},
  };
  for (const Row& row : rows) {
    const std::vector<std::string> errors = errorsOf(row.spec);
    ASSERT_EQ(errors.size(), 1u) << row.what << ": " << ::testing::PrintToString(errors);
    EXPECT_THAT(errors[0], HasSubstr(row.expected)) << row.what;
  }
  // Every problem is reported, not just the first.
  EXPECT_EQ(errorsOf(spec({"a..b", "c["}, {"", "x[]"})).size(), 4u);
  // Limits on the way to kept paths, on the root, inside kept values are fine.
  SpecErrors errors;
  EXPECT_TRUE(JsonProjection::create(spec({"a[].b", "c"}, {"c.d"}, {{"a", 1}, {"$", 2}, {"c.e", 3}}), errors).has_value());
  EXPECT_TRUE(errors.empty());
}

// ---- property test ------------------------------------------------------------------------------

// A random JSON document (fixed seed) as text with random whitespace, exercising every token kind.
class RandomJson {
 public:
  explicit RandomJson(std::uint32_t seed) : rng_(seed) {}

  std::string document(int depth) {
    std::string out;
    ws(out);
    value(out, depth);
    ws(out);
    return out;
  }
  std::string object(int depth, const std::vector<std::string>& keys) {
    std::string out = "{";
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) out += ',';
      ws(out);
      out += "\"" + keys[i] + "\"";
      ws(out);
      out += ':';
      ws(out);
      value(out, depth - 1);
      ws(out);
    }
    return out + "}";
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  void ws(std::string& out) {
    static const char* kWs[] = {"", "", "", " ", "\n  ", "\t", "\r\n"};
    out += kWs[pick(7)];
  }
  std::string key() {
    static const char* kKeys[] = {"id", "name", "a", "b", "items", "x y", "\\u00e9", "caf\xC3\xA9", "\\\"q\\\"", ""};
    return kKeys[pick(10)];
  }
  void value(std::string& out, int depth) {
    const int kind = depth <= 0 ? pick(5) : pick(7);
    switch (kind) {
      case 0: {
        static const char* kNumbers[] = {"0", "-0", "-0.0", "1.10", "12345678901234567890", "1e300", "-2.5E+03",
                                         "3.14159", "42", "1E-7", "-123456789012345678901234567890.5"};
        out += kNumbers[pick(11)];
        break;
      }
      case 1: {
        static const char* kStrings[] = {"\"\"", "\"plain\"", "\"\\u0000\\u001f\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
                                         "\"\\uD83D\\uDE00\"", "\"h\xC3\xA9llo \xF0\x9F\x98\x80\"", "\"\\u20AC \xE2\x82\xAC\""};
        out += kStrings[pick(6)];
        break;
      }
      case 2: out += "true"; break;
      case 3: out += "false"; break;
      case 4: out += "null"; break;
      case 5: {
        const int n = pick(5);
        out += '[';
        for (int i = 0; i < n; ++i) {
          if (i > 0) out += ',';
          ws(out);
          value(out, depth - 1);
          ws(out);
        }
        out += ']';
        break;
      }
      default: {
        const int n = pick(5);
        std::vector<std::string> keys;
        for (int i = 0; i < n; ++i) keys.push_back(key());
        out += object(depth, keys);
        break;
      }
    }
  }
  std::mt19937 rng_;
};

TEST(JsonProjection, PropertyKeepingEveryTopLevelKeyIsIdentity) {
  // Random documents: keep = every top-level key gives JSON that parses and equals the input.
  const std::vector<std::string> keys = {"id", "name", "a", "b", "items"};
  const JsonProjection p = keep(keys);
  RandomJson gen(20261207);
  for (int i = 0; i < 2000; ++i) {
    const std::string body = gen.object(4, keys);
    const std::string out = project(p, body);
    ASSERT_TRUE(nlohmann::json::accept(out)) << out;
    EXPECT_EQ(nlohmann::json::parse(out), nlohmann::json::parse(body)) << body;
    // Exact tokens: the output is the input without whitespace outside strings.
    EXPECT_EQ(out, project(drop({"none"}), body));
  }
}

TEST(JsonProjection, PropertyAgreesWithAReferenceProjection) {
  // Random documents of any shape (duplicate keys included) go through a projection that changes
  // nothing and parse to what the input parses to; then drop of "a" at depth 1 and 2 (objects
  // and arrays of objects) equals the same projection computed on nlohmann::ordered_json.
  RandomJson gen(7);
  std::size_t parsed = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string body = gen.document(4);
    const JsonProjection any = drop({"none"});
    std::string out;
    const ProjectionResult r = any.apply(body, out);
    const bool valid = nlohmann::json::accept(body);
    if (!valid) {
      // Duplicate keys are valid for both; nothing here is invalid JSON by construction.
      ADD_FAILURE() << "generator made invalid JSON: " << body;
      continue;
    }
    ASSERT_EQ(r.status, ProjectionStatus::kApplied) << body;
    EXPECT_EQ(nlohmann::json::parse(out), nlohmann::json::parse(body));
    ++parsed;
  }
  EXPECT_EQ(parsed, 2000u);

  // Drop "a" at depth 1 and 2 (objects and arrays of objects), no duplicate keys.
  ProjectionSpec s;
  s.drop = {"a", "b.a", "items[].a", "[].a"};
  const JsonProjection p = make(s);
  RandomJson gen2(99);
  const std::vector<std::string> keys = {"id", "a", "b", "items"};
  for (int i = 0; i < 1000; ++i) {
    const std::string body = gen2.object(3, keys);
    const auto in = nlohmann::ordered_json::parse(body);
    nlohmann::ordered_json want = nlohmann::ordered_json::object();
    for (auto it = in.begin(); it != in.end(); ++it) {
      if (it.key() == "a") continue;
      if (it.key() == "b" && it.value().is_object()) {
        nlohmann::ordered_json b = nlohmann::ordered_json::object();
        for (auto jt = it.value().begin(); jt != it.value().end(); ++jt) {
          if (jt.key() != "a") b[jt.key()] = jt.value();
        }
        want["b"] = b;
      } else if (it.key() == "items" && it.value().is_array()) {
        nlohmann::ordered_json items = nlohmann::ordered_json::array();
        for (const auto& e : it.value()) {
          if (!e.is_object()) {
            items.push_back(e);
            continue;
          }
          nlohmann::ordered_json o = nlohmann::ordered_json::object();
          for (auto jt = e.begin(); jt != e.end(); ++jt) {
            if (jt.key() != "a") o[jt.key()] = jt.value();
          }
          items.push_back(o);
        }
        want["items"] = items;
      } else {
        want[it.key()] = it.value();
      }
    }
    const std::string out = project(p, body);
    // Duplicate keys inside nested objects collapse in nlohmann; compare what it parses.
    EXPECT_EQ(nlohmann::ordered_json::parse(out), nlohmann::ordered_json::parse(want.dump())) << body;
  }
}

TEST(JsonProjection, PropertyValidityAgreesWithNlohmann) {
  // Random documents with one byte replaced, inserted or deleted: the projection applies exactly
  // when nlohmann::json accepts the body (digits and exponents are never written, so no number
  // overflows: nlohmann refuses 1e400, the projection copies it).
  RandomJson gen(424242);
  std::mt19937 rng(5);
  const std::string kBytes = std::string("\"\\,:{}[] x.-+/unt\x01\x7F\xC3\xA9\xFF\xED", 23);
  const JsonProjection p = drop({"a"});
  std::size_t rejected = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string body = gen.document(3);
    if (body.empty()) continue;
    const std::size_t at = std::uniform_int_distribution<std::size_t>(0, body.size() - 1)(rng);
    const char byte = kBytes[std::uniform_int_distribution<std::size_t>(0, kBytes.size() - 1)(rng)];
    switch (i % 3) {
      case 0: body[at] = byte; break;
      case 1: body.insert(body.begin() + static_cast<std::ptrdiff_t>(at), byte); break;
      default: body.erase(at, 1); break;
    }
    std::string out;
    const bool applied = p.apply(body, out).applied();
    ASSERT_EQ(applied, nlohmann::json::accept(body)) << ::testing::PrintToString(body);
    if (applied) {
      ASSERT_TRUE(nlohmann::json::accept(out)) << out;
    } else {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 1000u);  // the mutations do reach the validator
}

}  // namespace
}  // namespace gatelab::core::shaping
