// The `aggregate` policy: a valid one builds its parts into the runtime (a part without a service
// calls the route's); every mistake is reported at its line and column with what is allowed.

#include <gtest/gtest.h>

#include <string>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "tests/gateway/config/config_test_support.hpp"

namespace gatelab::config {
namespace {

using test::expectError;

std::string withParts(const std::string& body) {
  return R"(version: 1
services:
  - name: users
    targets: [http://10.0.0.1:80]
  - name: orders
    targets: [http://10.0.1.1:80]
routes:
  - name: home
    match: { path_prefix: /home }
    service: users
    policies:
      - aggregate:
)" + body;
}

TEST(AggregateConfig, AValidPolicyBuildsItsPartsIntoTheRuntime) {
  const LoadResult r = loadConfigString(withParts(R"(          on_part_failure: omit
          parts:
            - { name: profile, path: /me, timeout: 250ms, on_failure: fail }
            - { name: orders, service: orders, path: /v1/orders, forward_query: true }
            - { name: recent, service: orders, path: /v1/recent, on_failure: null }
)"),
                                        test::kFile);
  ASSERT_TRUE(r.ok()) << r.errorText();
  auto built = buildRuntime(r.config);
  ASSERT_TRUE(built.ok()) << formatDiagnostics(built.diagnostics);
  const core::shaping::AggregateSpec* spec = built.runtime->routes[0].aggregate;
  ASSERT_NE(spec, nullptr);
  ASSERT_EQ(spec->parts.size(), 3U);
  EXPECT_EQ(spec->parts[0].service, "users");  // the route's
  EXPECT_EQ(spec->parts[0].timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(spec->parts[0].onFailure, core::shaping::PartFailure::kFail);
  EXPECT_EQ(spec->parts[1].onFailure, core::shaping::PartFailure::kOmit);  // on_part_failure
  EXPECT_TRUE(spec->parts[1].forwardQuery);
  EXPECT_EQ(spec->parts[2].onFailure, core::shaping::PartFailure::kNull);  // YAML null
}

TEST(AggregateConfig, MistakesAreReportedWhereTheyAre) {
  expectError({"unknown service", withParts("          parts:\n            - { name: a, service: order, path: /x }\n"),
               "routes[0].policies[0].aggregate.parts[0].service", "order, path", false, "unknown service \"order\""});
  expectError({"a query in the path", withParts("          parts:\n            - { name: a, path: '/x?y=1' }\n"),
               "routes[0].policies[0].aggregate.parts[0].path", "'/x?y", false, "forward_query"});
  expectError({"a name used twice",
               withParts("          parts:\n            - { name: a, path: /x }\n            - { name: a, path: /y }\n"),
               "routes[0].policies[0].aggregate.parts[1].name", "a, path: /y", false, "used twice"});
  expectError({"a bad failure mode", withParts("          parts:\n            - { name: a, path: /x, on_failure: skip }\n"),
               "routes[0].policies[0].aggregate.parts[0].on_failure", "skip", false, "unknown value \"skip\""});
  expectError({"no parts", withParts("          parts: []\n"), "routes[0].policies[0].aggregate.parts", "[]", false,
               "must not be empty"});
  expectError({"an unknown key", withParts("          parts:\n            - { name: a, path: /x, timout: 1s }\n"),
               "routes[0].policies[0].aggregate.parts[0].timout", "timout", false, "timeout"});
}

}  // namespace
}  // namespace gatelab::config
