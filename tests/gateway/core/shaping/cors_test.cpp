// CORS: preflight allowed and refused (origin, method, header), actual requests, exact and
// wildcard origins, the credentials rule, Vary: Origin, config validation, applyCors merging.

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "gateway/core/shaping/cors.hpp"

namespace gatelab::core::shaping {
namespace {

using namespace std::chrono_literals;

CorsPolicy make(CorsSpec spec) {
  SpecErrors errors;
  auto p = CorsPolicy::create(std::move(spec), errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].field + ": " + errors[0].message);
  return std::move(*p);
}

struct Req {
  std::string method = "GET";
  std::vector<Header> headers;
};

CorsDecision eval(const CorsPolicy& p, const Req& r) {
  RequestView v;
  v.method = r.method;
  v.headers = r.headers;
  return p.evaluate(v);
}

std::map<std::string, std::string> fieldsOf(const CorsDecision& d) {
  std::map<std::string, std::string> out;
  for (const Header& h : d.headers()) out[std::string(h.name)] = std::string(h.value);
  return out;
}

Req preflight(std::string origin, std::string method, std::string headers = {}) {
  Req r{"OPTIONS", {{"Origin", ""}, {"Access-Control-Request-Method", ""}}};
  static std::deque<std::string> keep;  // the views in Req point into these (deque: stable elements)
  keep.push_back(std::move(origin));
  r.headers[0].value = keep.back();
  keep.push_back(std::move(method));
  r.headers[1].value = keep.back();
  if (!headers.empty()) {
    keep.push_back(std::move(headers));
    r.headers.push_back({"Access-Control-Request-Headers", keep.back()});
  }
  return r;
}

const CorsSpec kListSpec{.origins = {"https://app.example.com", "http://localhost:8080", "https://*.example.org"},
                         .methods = {"GET", "POST", "PUT", "DELETE"},
                         .allowHeaders = {"Content-Type", "Authorization", "X-Request-ID"},
                         .exposeHeaders = {"X-RateLimit-Remaining"},
                         .credentials = true,
                         .maxAge = 600s};

TEST(Cors, PreflightAllowed) {
  const CorsPolicy p = make(kListSpec);
  const CorsDecision d = eval(p, preflight("https://app.example.com", "PUT", "content-type, x-request-id"));
  EXPECT_EQ(d.kind, CorsRequestKind::kPreflight);
  EXPECT_EQ(d.reason, CorsReason::kOk);
  EXPECT_EQ(d.status, 204);
  EXPECT_TRUE(d.respondNow());
  EXPECT_TRUE(d.varyOrigin);
  const std::map<std::string, std::string> expected = {
      {"Access-Control-Allow-Origin", "https://app.example.com"},
      {"Access-Control-Allow-Credentials", "true"},
      {"Access-Control-Allow-Methods", "GET, POST, PUT, DELETE"},
      {"Access-Control-Allow-Headers", "Content-Type, Authorization, X-Request-ID"},
      {"Access-Control-Max-Age", "600"},
  };
  EXPECT_EQ(fieldsOf(d), expected);
}

TEST(Cors, PreflightRefusals) {
  // Table: preflight -> reason; every refusal is a 403 without any CORS field.
  const CorsPolicy p = make(kListSpec);
  struct Row {
    const char* what;
    Req req;
    CorsReason reason;
    std::string refused;
  };
  const std::vector<Row> rows = {
      {"unknown origin", preflight("https://evil.example", "GET"), CorsReason::kOriginNotAllowed, ""},
      {"scheme differs", preflight("http://app.example.com", "GET"), CorsReason::kOriginNotAllowed, ""},
      {"port differs", preflight("http://localhost:8081", "GET"), CorsReason::kOriginNotAllowed, ""},
      {"suffix trick", preflight("https://app.example.com.evil.net", "GET"), CorsReason::kOriginNotAllowed, ""},
      {"pattern needs a label", preflight("https://example.org", "GET"), CorsReason::kOriginNotAllowed, ""},
      {"lookalike pattern domain", preflight("https://evilexample.org", "GET"), CorsReason::kOriginNotAllowed, ""},
      {"null origin", preflight("null", "GET"), CorsReason::kOriginNotAllowed, ""},
      {"origin with a path", preflight("https://app.example.com/", "GET"), CorsReason::kOriginNotAllowed, ""},
      {"method not listed", preflight("https://app.example.com", "PATCH"), CorsReason::kMethodNotAllowed, "PATCH"},
      {"methods are case-sensitive", preflight("https://app.example.com", "put"), CorsReason::kMethodNotAllowed, "put"},
      {"header not listed", preflight("https://app.example.com", "PUT", "Content-Type, X-Secret"),
       CorsReason::kHeaderNotAllowed, "X-Secret"},
      {"malformed header list", preflight("https://app.example.com", "PUT", "Content-Type, bad name"),
       CorsReason::kHeaderNotAllowed, "bad name"},
  };
  for (const Row& row : rows) {
    const CorsDecision d = eval(p, row.req);
    EXPECT_EQ(d.kind, CorsRequestKind::kPreflight) << row.what;
    EXPECT_EQ(d.reason, row.reason) << row.what;
    EXPECT_EQ(d.status, 403) << row.what;
    EXPECT_TRUE(d.headers().empty()) << row.what;
    EXPECT_TRUE(d.varyOrigin) << row.what;
    EXPECT_EQ(d.refused, row.refused) << row.what;
  }
}

TEST(Cors, OriginMatching) {
  // Table: Origin -> allowed by kListSpec.
  const CorsPolicy p = make(kListSpec);
  const std::vector<std::pair<std::string, bool>> rows = {
      {"https://app.example.com", true},
      {"HTTPS://APP.EXAMPLE.COM", true},        // case-insensitive scheme and host
      {"https://app.example.com:443", true},    // default port
      {"http://localhost:8080", true},
      {"http://localhost:08080", true},         // same port number
      {"http://localhost", false},
      {"https://a.example.org", true},          // wildcard: one label
      {"https://a.b.example.org", true},        // wildcard: several labels
      {"https://A.Example.ORG", true},
      {"http://a.example.org", false},          // pattern scheme is https
      {"https://a.example.org:8443", false},    // pattern port is the default
      {"https://.example.org", false},
      {"https://user@app.example.com", false},
      {"https://app.example.com?x", false},
      {"app.example.com", false},
      {"", false},
      {"https://app.example.com\r\nX: y", false},
  };
  for (const auto& [origin, allowed] : rows) EXPECT_EQ(p.originAllowed(origin), allowed) << origin;
}

TEST(Cors, SafelistedMethodsNeedNoListing) {
  const CorsPolicy p = make({.origins = {"https://a.example.com"}, .methods = {"PUT"}});
  for (const char* m : {"GET", "HEAD", "POST", "PUT"}) {
    EXPECT_EQ(eval(p, preflight("https://a.example.com", m)).reason, CorsReason::kOk) << m;
  }
  EXPECT_EQ(eval(p, preflight("https://a.example.com", "DELETE")).reason, CorsReason::kMethodNotAllowed);
  const auto fields = fieldsOf(eval(p, preflight("https://a.example.com", "PUT")));
  EXPECT_EQ(fields.at("Access-Control-Allow-Methods"), "PUT");
  EXPECT_EQ(fields.count("Access-Control-Allow-Headers"), 0u) << "no headers configured, none asked";
  EXPECT_EQ(fields.count("Access-Control-Max-Age"), 0u);
  EXPECT_EQ(fields.count("Access-Control-Allow-Credentials"), 0u);
}

TEST(Cors, WildcardsEchoWhatWasAsked) {
  // "*" methods / headers echo the request's, which works with credentials and covers Authorization.
  const CorsPolicy p = make({.origins = {"https://a.example.com"}, .methods = {"*"}, .allowHeaders = {"*"}, .credentials = true});
  const auto fields = fieldsOf(eval(p, preflight("https://a.example.com", "PATCH", "Authorization, X-Anything")));
  EXPECT_EQ(fields.at("Access-Control-Allow-Origin"), "https://a.example.com");
  EXPECT_EQ(fields.at("Access-Control-Allow-Methods"), "PATCH");
  EXPECT_EQ(fields.at("Access-Control-Allow-Headers"), "Authorization, X-Anything");
  EXPECT_EQ(fields.at("Access-Control-Allow-Credentials"), "true");
}

TEST(Cors, ActualRequests) {
  const CorsPolicy p = make(kListSpec);
  const CorsDecision ok = eval(p, {"GET", {{"Origin", "https://x.example.org"}}});
  EXPECT_EQ(ok.kind, CorsRequestKind::kActual);
  EXPECT_EQ(ok.reason, CorsReason::kOk);
  EXPECT_EQ(ok.status, 0);
  EXPECT_FALSE(ok.respondNow());
  EXPECT_TRUE(ok.varyOrigin);
  const std::map<std::string, std::string> expected = {{"Access-Control-Allow-Origin", "https://x.example.org"},
                                                        {"Access-Control-Allow-Credentials", "true"},
                                                        {"Access-Control-Expose-Headers", "X-RateLimit-Remaining"}};
  EXPECT_EQ(fieldsOf(ok), expected);

  const CorsDecision refused = eval(p, {"POST", {{"Origin", "https://evil.example"}}});
  EXPECT_EQ(refused.reason, CorsReason::kOriginNotAllowed);
  EXPECT_EQ(refused.status, 0) << "forwarded; the browser withholds the response";
  EXPECT_TRUE(refused.headers().empty());
  EXPECT_TRUE(refused.varyOrigin);

  const CorsDecision none = eval(p, {"GET", {}});
  EXPECT_EQ(none.kind, CorsRequestKind::kNone);
  EXPECT_EQ(none.reason, CorsReason::kNoOrigin);
  EXPECT_TRUE(none.varyOrigin) << "Vary: Origin even without Origin, so caches key on it";

  const CorsDecision optionsWithoutAcrm = eval(p, {"OPTIONS", {{"Origin", "https://app.example.com"}}});
  EXPECT_EQ(optionsWithoutAcrm.kind, CorsRequestKind::kActual) << "OPTIONS without Access-Control-Request-Method";
}

TEST(Cors, AnyOriginWithoutCredentials) {
  const CorsPolicy p = make({.origins = {"*"}, .exposeHeaders = {"*"}, .maxAge = 0s});
  const CorsDecision d = eval(p, {"GET", {{"Origin", "https://whoever.test"}}});
  EXPECT_EQ(fieldsOf(d), (std::map<std::string, std::string>{{"Access-Control-Allow-Origin", "*"},
                                                            {"Access-Control-Expose-Headers", "*"}}));
  EXPECT_FALSE(d.varyOrigin) << "the answer does not depend on Origin";
  const auto pre = fieldsOf(eval(p, preflight("null", "GET")));
  EXPECT_EQ(pre.at("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(pre.at("Access-Control-Max-Age"), "0");
  EXPECT_EQ(pre.count("Access-Control-Allow-Credentials"), 0u);
}

TEST(Cors, CredentialsNeverWithStar) {
  // The credentials rule: never "*" with credentials; the config is refused rather than echoing every origin.
  SpecErrors errors;
  EXPECT_FALSE(CorsPolicy::create({.origins = {"*"}, .credentials = true}, errors).has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "credentials");
  errors.clear();
  EXPECT_FALSE(CorsPolicy::create({.origins = {"https://a.example.com"}, .exposeHeaders = {"*"}, .credentials = true}, errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "exposeHeaders");
  // With listed origins and credentials, every allowed answer echoes the origin.
  const CorsPolicy p = make({.origins = {"https://a.example.com"}, .credentials = true});
  for (const CorsDecision& d : {eval(p, {"GET", {{"Origin", "https://a.example.com"}}}), eval(p, preflight("https://a.example.com", "GET"))}) {
    const auto f = fieldsOf(d);
    EXPECT_EQ(f.at("Access-Control-Allow-Origin"), "https://a.example.com");
    EXPECT_EQ(f.at("Access-Control-Allow-Credentials"), "true");
  }
}

TEST(Cors, Validation) {
  SpecErrors errors;
  CorsSpec spec;
  spec.origins = {"https://ok.example", "null", "https://a.example.com/", "ftp//x", "https://*.com", "*"};
  spec.methods = {"GET", "*"};
  spec.allowHeaders = {"X-Ok", "bad header"};
  spec.maxAge = 25h;
  EXPECT_FALSE(CorsPolicy::create(spec, errors).has_value());
  std::vector<std::string> fields;
  for (const SpecError& e : errors) fields.push_back(e.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"origins", "methods", "allowHeaders[1]", "maxAge"}));

  errors.clear();
  spec.origins = {"https://ok.example", "null", "https://a.example.com/", "ftp//x", "https://*.com", "https://x.example:0"};
  spec.methods = {"GET"};
  spec.allowHeaders = {};
  spec.maxAge = 1500ms;
  EXPECT_FALSE(CorsPolicy::create(spec, errors).has_value());
  fields.clear();
  for (const SpecError& e : errors) fields.push_back(e.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"origins[1]", "origins[2]", "origins[3]", "origins[4]", "origins[5]", "maxAge"}));
  EXPECT_NE(errors[3].message.find("top-level domain"), std::string::npos) << errors[3].message;
  EXPECT_NE(errors[5].message.find("whole seconds"), std::string::npos) << errors[5].message;

  errors.clear();
  EXPECT_FALSE(CorsPolicy::create({}, errors).has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "origins");
}

TEST(Cors, ApplyMergesVaryAndOwnsTheAccessControlFields) {
  const CorsPolicy p = make(kListSpec);
  const CorsDecision d = eval(p, {"GET", {{"Origin", "https://app.example.com"}}});
  HeaderList response = {{"Content-Type", "application/json"},
                         {"Access-Control-Allow-Origin", "*"},  // the upstream's own, replaced
                         {"Vary", "Accept-Encoding"}};
  applyCors(d, response);
  const HeaderList expected = {{"Content-Type", "application/json"},
                               {"Vary", "Accept-Encoding, Origin"},
                               {"Access-Control-Allow-Origin", "https://app.example.com"},
                               {"Access-Control-Allow-Credentials", "true"},
                               {"Access-Control-Expose-Headers", "X-RateLimit-Remaining"}};
  EXPECT_EQ(response, expected);

  // Table: existing Vary fields -> after applyCors of a refused origin (no CORS fields, Vary only).
  const CorsDecision refused = eval(p, {"GET", {{"Origin", "https://evil.example"}}});
  const std::vector<std::pair<HeaderList, HeaderList>> rows = {
      {{}, {{"Vary", "Origin"}}},
      {{{"vary", "origin"}}, {{"vary", "origin"}}},
      {{{"Vary", "*"}}, {{"Vary", "*"}}},
      {{{"Vary", "Accept"}, {"Vary", "Cookie"}}, {{"Vary", "Accept"}, {"Vary", "Cookie, Origin"}}},
      {{{"Vary", ""}}, {{"Vary", "Origin"}}},
      {{{"Access-Control-Allow-Origin", "https://evil.example"}}, {{"Vary", "Origin"}}},
  };
  for (const auto& [before, after] : rows) {
    HeaderList h = before;
    applyCors(refused, h);
    EXPECT_EQ(h, after);
  }
}

TEST(Cors, ReasonNames) {
  EXPECT_STREQ(toString(CorsReason::kOriginNotAllowed), "origin_not_allowed");
  EXPECT_STREQ(toString(CorsReason::kMethodNotAllowed), "method_not_allowed");
  EXPECT_STREQ(toString(CorsReason::kHeaderNotAllowed), "header_not_allowed");
  EXPECT_STREQ(toString(CorsRequestKind::kPreflight), "preflight");
}

}  // namespace
}  // namespace gatelab::core::shaping
