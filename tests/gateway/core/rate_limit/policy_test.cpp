// RateLimitPolicy: several limits that must all admit (a rejection charges no earlier limit),
// shadow mode, keys and missing-key behaviour, response headers.

#include <gtest/gtest.h>

#include "gateway/core/rate_limit/headers.hpp"
#include "gateway/core/rate_limit/key.hpp"
#include "gateway/core/rate_limit/policy.hpp"
#include "tests/gateway/core/rate_limit/test_support.hpp"

namespace gatelab::core::ratelimit {
namespace {

using namespace testing;

RateLimitPolicySpec policySpec(std::vector<LimitSpec> limits) {
  RateLimitPolicySpec p;
  p.name = "api";
  p.key = {KeyComponent{KeyPart::kClientIp, ""}};
  p.limits = std::move(limits);
  return p;
}

std::unique_ptr<RateLimitPolicy> make(RateLimitPolicySpec s) {
  std::string err;
  auto p = RateLimitPolicy::create(std::move(s), err);
  EXPECT_NE(p, nullptr) << err;
  return p;
}

TEST(RateLimitPolicy, AllLimitsMustAdmit) {
  // 2/s and 3/min: the per-minute limit binds on the third second.
  auto p = make(policySpec({spec(Algorithm::kFixedWindow, 2, 1s), spec(Algorithm::kFixedWindow, 3, 1min)}));
  EXPECT_EQ(p->evaluateKey(kKeyA, at(0s)).verdict, Verdict::kAllow);
  EXPECT_EQ(p->evaluateKey(kKeyA, at(0s)).verdict, Verdict::kAllow);
  const PolicyDecision third = p->evaluateKey(kKeyA, at(0s));
  EXPECT_EQ(third.verdict, Verdict::kReject) << "2/s exhausted";
  EXPECT_EQ(third.binding, 0);
  EXPECT_EQ(p->evaluateKey(kKeyA, at(1s)).verdict, Verdict::kAllow) << "new second, 3rd of the minute";
  const PolicyDecision d = p->evaluateKey(kKeyA, at(2s));
  EXPECT_EQ(d.verdict, Verdict::kReject) << "the minute's 3 are used";
  EXPECT_EQ(d.binding, 1);
  EXPECT_EQ(d.status, 429);
}

TEST(RateLimitPolicy, ARejectionDoesNotChargeEarlierLimits) {
  // Limit 0: 10/min (generous). Limit 1: 1/s. Requests rejected by limit 1 must not use up
  // limit 0's minute quota, as with nginx's several limit_req directives.
  auto p = make(policySpec({spec(Algorithm::kFixedWindow, 10, 1min), spec(Algorithm::kFixedWindow, 1, 1s)}));
  EXPECT_EQ(p->evaluateKey(kKeyA, at(0s)).verdict, Verdict::kAllow);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(p->evaluateKey(kKeyA, at(0s)).verdict, Verdict::kReject);
  int admitted = 0;
  for (int s = 1; s < 60; ++s) admitted += p->evaluateKey(kKeyA, at(std::chrono::seconds(s))).verdict == Verdict::kAllow;
  EXPECT_EQ(admitted, 9) << "the 50 rejections did not consume the per-minute quota";
}

TEST(RateLimitPolicy, DelayIsTheLongestAnyLimitAsks) {
  LimitSpec a = spec(Algorithm::kLeakyBucket, 1, 1s, 5);
  LimitSpec b = spec(Algorithm::kLeakyBucket, 2, 1s, 5);
  auto p = make(policySpec({a, b}));
  p->evaluateKey(kKeyA, at(0s));
  const PolicyDecision d = p->evaluateKey(kKeyA, at(0s));
  EXPECT_EQ(d.verdict, Verdict::kDelay);
  EXPECT_EQ(d.delay, 1s) << "max(1000 ms at 1 r/s, 500 ms at 2 r/s)";
}

TEST(RateLimitPolicy, ShadowDecidesAndCountsButNeverRejects) {
  RateLimitPolicySpec s = policySpec({spec(Algorithm::kFixedWindow, 1, 1s)});
  s.shadow = true;
  auto shadow = make(s);
  auto enforce = make(policySpec({spec(Algorithm::kFixedWindow, 1, 1s)}));
  for (int i = 0; i < 5; ++i) {
    const PolicyDecision sd = shadow->evaluateKey(kKeyA, at(0s));
    const PolicyDecision ed = enforce->evaluateKey(kKeyA, at(0s));
    EXPECT_EQ(sd.verdict, Verdict::kAllow) << "shadow never blocks";
    EXPECT_EQ(sd.wouldBe, ed.verdict) << "shadow reports what enforcement does";
  }
}

TEST(RateLimitPolicy, CostIsChargedPerRequest) {
  RateLimitPolicySpec s = policySpec({spec(Algorithm::kFixedWindow, 10, 1min)});
  s.cost = 4;
  auto p = make(s);
  EXPECT_EQ(p->evaluateKey(kKeyA, at(0s)).limits[0].remaining, 6u);
  EXPECT_EQ(p->evaluateKey(kKeyA, at(0s)).limits[0].remaining, 2u);
  EXPECT_EQ(p->evaluateKey(kKeyA, at(0s)).verdict, Verdict::kReject);
}

TEST(RateLimitPolicy, CreateRejectsInvalidSpecsWithAReason) {
  std::string err;
  EXPECT_EQ(RateLimitPolicy::create(policySpec({}), err), nullptr);
  EXPECT_NE(err.find("limits"), std::string::npos);
  RateLimitPolicySpec s = policySpec({spec(Algorithm::kFixedWindow, 2, 1s)});
  s.cost = 3;
  EXPECT_EQ(RateLimitPolicy::create(s, err), nullptr);
  EXPECT_NE(err.find("cost 3"), std::string::npos) << err;
}

// --- keys ------------------------------------------------------------------------------------

struct KeyCase {
  const char* why;
  std::vector<KeyComponent> key;
  MissingKey onMissing;
  bool expectApplies;
};

TEST(RateLimitKey, ComponentsAndMissingKeyBehaviour) {
  const Header headers[] = {{"X-Tenant-Id", "t1"}, {"Empty", ""}};
  RequestView req;
  req.clientAddress = "203.0.113.7";
  req.headers = headers;
  const KeyContext ctx{"users", "users-svc"};
  const std::vector<KeyCase> cases = {
      {"ip is always present", {{KeyPart::kClientIp, ""}}, MissingKey::kSkip, true},
      {"header lookup is case-insensitive", {{KeyPart::kHeader, "x-tenant-id"}}, MissingKey::kSkip, true},
      {"absent header skips", {{KeyPart::kHeader, "X-Other"}}, MissingKey::kSkip, false},
      {"empty header counts as missing", {{KeyPart::kHeader, "Empty"}}, MissingKey::kSkip, false},
      {"absent consumer shares a bucket", {{KeyPart::kConsumer, ""}}, MissingKey::kShared, true},
      {"absent claim falls back to ip", {{KeyPart::kJwtClaim, "sub"}}, MissingKey::kClientIp, true},
      {"route and service", {{KeyPart::kRoute, ""}, {KeyPart::kService, ""}}, MissingKey::kSkip, true},
  };
  std::string out;
  for (const KeyCase& c : cases) {
    EXPECT_EQ(buildKey(c.key, c.onMissing, req, ctx, out), c.expectApplies) << c.why;
  }
}

TEST(RateLimitKey, EncodingIsUnambiguous) {
  // ("a", "bc") must not collide with ("ab", "c"); a fallback IP never equals a header value.
  const Header h1[] = {{"A", "a"}, {"B", "bc"}};
  const Header h2[] = {{"A", "ab"}, {"B", "c"}};
  RequestView r1, r2;
  r1.headers = h1;
  r2.headers = h2;
  const std::vector<KeyComponent> k = {{KeyPart::kHeader, "A"}, {KeyPart::kHeader, "B"}};
  std::string o1, o2;
  buildKey(k, MissingKey::kSkip, r1, {}, o1);
  buildKey(k, MissingKey::kSkip, r2, {}, o2);
  EXPECT_NE(o1, o2);

  const Header spoof[] = {{"X-Tenant-Id", "203.0.113.7"}};
  RequestView withHeader, withoutHeader;
  withHeader.headers = spoof;
  withHeader.clientAddress = "198.51.100.1";
  withoutHeader.clientAddress = "203.0.113.7";
  const std::vector<KeyComponent> tenant = {{KeyPart::kHeader, "X-Tenant-Id"}};
  buildKey(tenant, MissingKey::kClientIp, withHeader, {}, o1);
  buildKey(tenant, MissingKey::kClientIp, withoutHeader, {}, o2);
  EXPECT_NE(o1, o2);
}

TEST(RateLimitPolicy, EvaluateSkipsWhenTheKeyIsMissingAndSkipIsConfigured) {
  RateLimitPolicySpec s = policySpec({spec(Algorithm::kFixedWindow, 1, 1s)});
  s.key = {{KeyPart::kHeader, "X-Api-Key"}};
  s.onMissingKey = MissingKey::kSkip;
  auto p = make(s);
  RequestView req;
  std::string scratch;
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(p->evaluate(req, {}, at(0s), scratch).applied);
}

// --- headers -----------------------------------------------------------------------------------

TEST(RateLimitHeaders, LegacyIetfAndRetryAfterOnRejection) {
  RateLimitPolicySpec s = policySpec({spec(Algorithm::kFixedWindow, 2, 1min)});
  auto p = make(s);
  std::vector<HeaderField> h;
  appendRateLimitHeaders(p->evaluateKey(kKeyA, at(15s)), s, h);
  EXPECT_EQ(h, (std::vector<HeaderField>{{"X-RateLimit-Limit", "2"},
                                          {"X-RateLimit-Remaining", "1"},
                                          {"X-RateLimit-Reset", "45"},
                                          {"RateLimit-Policy", "\"api\";q=2;w=60"},
                                          {"RateLimit", "\"api\";r=1;t=45"}}));
  p->evaluateKey(kKeyA, at(15s));
  h.clear();
  appendRateLimitHeaders(p->evaluateKey(kKeyA, at(20s) + 1ms), s, h);
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h.back(), (HeaderField{"Retry-After", "40"})) << "39.999 s rounds up";
}

TEST(RateLimitHeaders, ShadowPoliciesAreInvisibleToClients) {
  RateLimitPolicySpec s = policySpec({spec(Algorithm::kFixedWindow, 1, 1s)});
  s.shadow = true;
  auto p = make(s);
  std::vector<HeaderField> h;
  appendRateLimitHeaders(p->evaluateKey(kKeyA, at(0s)), s, h);
  appendRateLimitHeaders(p->evaluateKey(kKeyA, at(0s)), s, h);
  EXPECT_TRUE(h.empty());
}

TEST(RateLimitHeaders, SeveralLimitsAreListedInThePolicyField) {
  RateLimitPolicySpec s = policySpec({spec(Algorithm::kFixedWindow, 10, 1s), spec(Algorithm::kFixedWindow, 1000, 1h)});
  s.headers = HeaderStyle::kIetf;
  auto p = make(s);
  std::vector<HeaderField> h;
  appendRateLimitHeaders(p->evaluateKey(kKeyA, at(0s)), s, h);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].value, "\"api.0\";q=10;w=1, \"api.1\";q=1000;w=3600");
  EXPECT_EQ(h[1].value, "\"api.0\";r=9;t=1") << "9/10 left is the smaller share";
}

TEST(RateLimitHeaders, AReusedScratchGivesWhatAFreshOneGives) {
  // visitRateLimitHeaders keeps the last RateLimit-Policy value and binding name in its scratch:
  // one scratch used for decisions of policies that differ in name, in limit count, in one
  // limit's quota or window, and in which limit binds must give each decision exactly the fields a
  // fresh scratch gives it.
  struct Collect final : HeaderSink {
    std::vector<HeaderField> fields;
    void field(std::string_view name, std::string_view value) override { fields.push_back({name, std::string(value)}); }
  };
  std::vector<RateLimitPolicySpec> specs;
  specs.push_back(policySpec({spec(Algorithm::kFixedWindow, 3, 1s)}));
  specs.push_back(policySpec({spec(Algorithm::kFixedWindow, 4, 1s)}));   // another quota
  specs.push_back(policySpec({spec(Algorithm::kFixedWindow, 3, 2s)}));   // another window
  specs.push_back(policySpec({spec(Algorithm::kFixedWindow, 3, 1s), spec(Algorithm::kFixedWindow, 5, 1min)}));
  specs.push_back(policySpec({spec(Algorithm::kFixedWindow, 5, 1min), spec(Algorithm::kFixedWindow, 3, 1s)}));
  specs.push_back(policySpec({spec(Algorithm::kTokenBucket, 3, 1s)}));
  specs.back().name = "other";                                            // another name
  specs.push_back(policySpec({spec(Algorithm::kTokenBucket, 3, 1s)}));
  specs.back().name = "a\"b";                                             // one that needs escaping
  std::vector<std::unique_ptr<RateLimitPolicy>> policies;
  for (const auto& s : specs) policies.push_back(make(s));

  HeaderScratch reused;
  std::uint64_t state = 12345;
  int compared = 0;
  for (int i = 0; i < 600; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const std::size_t which = (state >> 33) % policies.size();
    const auto t = at(std::chrono::milliseconds(i * 37));
    const PolicyDecision d = policies[which]->evaluateKey((state >> 20) % 2 == 0 ? kKeyA : kKeyB, t);
    std::vector<HeaderField> fresh;  // (a fresh scratch per call)
    appendRateLimitHeaders(d, specs[which], fresh);
    Collect again;
    visitRateLimitHeaders(d, specs[which], reused, again);
    ASSERT_EQ(again.fields, fresh) << "decision " << i << " of policy " << which;
    compared += fresh.empty() ? 0 : 1;
  }
  EXPECT_GT(compared, 500);
}

}  // namespace
}  // namespace gatelab::core::ratelimit

namespace gatelab::core::ratelimit {
namespace {

using namespace testing;

TEST(RateLimitPolicy, AReloadedPolicyKeepsItsCountsOnlyWhenItCountsTheSameWay) {
  // A config reload builds new policies; one that counts the same way takes the old counts over.
  auto old = make(policySpec({spec(Algorithm::kFixedWindow, 2, 1min)}));
  EXPECT_EQ(old->evaluateKey(kKeyA, at(0s)).verdict, Verdict::kAllow);
  EXPECT_EQ(old->evaluateKey(kKeyA, at(1s)).verdict, Verdict::kAllow);

  RateLimitPolicySpec sameCounting = policySpec({spec(Algorithm::kFixedWindow, 2, 1min)});
  sameCounting.rejectStatus = 503;  // answer details may change
  sameCounting.headers = HeaderStyle::kNone;
  auto kept = make(sameCounting);
  EXPECT_TRUE(kept->adoptStateFrom(*old));
  EXPECT_EQ(kept->evaluateKey(kKeyA, at(2s)).verdict, Verdict::kReject) << "the minute's 2 were used before the reload";
  EXPECT_EQ(kept->evaluateKey(kKeyA, at(2s)).status, 503);
  EXPECT_EQ(old->evaluateKey(kKeyB, at(2s)).verdict, Verdict::kAllow);  // the old one is left empty, still usable
  EXPECT_EQ(old->limiters()[0]->stats().keys, 1u);

  auto changedLimit = make(policySpec({spec(Algorithm::kFixedWindow, 3, 1min)}));
  EXPECT_FALSE(changedLimit->adoptStateFrom(*kept));
  EXPECT_EQ(changedLimit->evaluateKey(kKeyA, at(3s)).verdict, Verdict::kAllow) << "a changed limit starts fresh";
  EXPECT_EQ(kept->evaluateKey(kKeyA, at(3s)).verdict, Verdict::kReject) << "a refused adoption changes nothing";

  RateLimitPolicySpec renamed = policySpec({spec(Algorithm::kFixedWindow, 2, 1min)});
  renamed.name = "other";
  EXPECT_FALSE(make(renamed)->adoptStateFrom(*kept));
  RateLimitPolicySpec otherKey = policySpec({spec(Algorithm::kFixedWindow, 2, 1min)});
  otherKey.key = {KeyComponent{KeyPart::kHeader, "x-tenant"}};
  EXPECT_FALSE(make(otherKey)->adoptStateFrom(*kept));
  auto otherAlgorithm = make(policySpec({spec(Algorithm::kSlidingWindowLog, 2, 1min)}));
  EXPECT_FALSE(otherAlgorithm->adoptStateFrom(*kept));
}

}  // namespace
}  // namespace gatelab::core::ratelimit
