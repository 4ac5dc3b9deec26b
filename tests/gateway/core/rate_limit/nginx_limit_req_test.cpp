// The leaky bucket reproduces nginx's limit_req exactly (ngx_http_limit_req_module.c):
// milli-request arithmetic with nginx's integer truncation, millisecond time, the first request
// of a new key not counted, rejected requests not charged, burst / nodelay / delay=N.

#include <gtest/gtest.h>

#include "gateway/core/rate_limit/algorithms.hpp"
#include "gateway/core/rate_limit/limiter.hpp"
#include "tests/gateway/core/rate_limit/test_support.hpp"

namespace gatelab::core::ratelimit {
namespace {

using namespace testing;

LimitSpec nginx(std::uint64_t count, Duration period, std::uint64_t burst, std::uint64_t delay = 0) {
  LimitSpec s = spec(Algorithm::kLeakyBucket, count, period, burst);
  s.delay = delay;
  return s;
}

struct Outcome {
  int immediate = 0;
  int delayed = 0;
  int rejected = 0;
  std::vector<Duration> delays;
};

Outcome tenSimultaneous(const LimitSpec& s) {
  auto lim = makeLocalLimiter(s, 10);
  Outcome o;
  for (int i = 0; i < 10; ++i) {
    const Decision d = lim->acquire(kKeyA, at(1000s), 1);
    switch (d.verdict) {
      case Verdict::kAllow: ++o.immediate; break;
      case Verdict::kDelay: ++o.delayed; o.delays.push_back(d.delay); break;
      case Verdict::kReject: ++o.rejected; break;
    }
  }
  return o;
}

TEST(NginxLimitReq, RateTruncatesToMilliRequestsLikeNginx) {
  // nginx: ctx->rate = rate * 1000 / scale; 1r/m -> 16, 10r/s -> 10000, 30r/m -> 500.
  EXPECT_EQ(LeakyBucket(nginx(1, 1min, 0)).rateMilli(), 16);
  EXPECT_EQ(LeakyBucket(nginx(10, 1s, 0)).rateMilli(), 10000);
  EXPECT_EQ(LeakyBucket(nginx(30, 1min, 0)).rateMilli(), 500);
  EXPECT_EQ(LeakyBucket(nginx(7, 1min, 0)).rateMilli(), 116);
}

TEST(NginxLimitReq, OneRequestPerMinuteIsReallyOnePer62AndAHalfSeconds) {
  // 16 milli-req/s drains 1000 in 62.5 s: a second request passes only from 62,500 ms on.
  auto lim = makeLocalLimiter(nginx(1, 1min, 0), 10);
  EXPECT_EQ(lim->acquire(kKeyA, at(0s), 1).verdict, Verdict::kAllow) << "new key: not counted";
  EXPECT_EQ(lim->acquire(kKeyA, at(60s), 1).verdict, Verdict::kReject) << "a nominal minute is not enough";
  EXPECT_EQ(lim->acquire(kKeyA, at(62'499ms), 1).verdict, Verdict::kReject) << "16*62499/1000 = 999";
  EXPECT_EQ(lim->acquire(kKeyA, at(62'500ms), 1).verdict, Verdict::kAllow) << "16*62500/1000 = 1000";
}

TEST(NginxLimitReq, BurstFiveNoFlagOnTenSimultaneousRequests) {
  // nginx docs: burst=5 without nodelay: excess requests are delayed at the rate; more than
  // burst are rejected. 1 immediate (excess 0), 5 delayed by 1..5 s, 4 rejected.
  const Outcome o = tenSimultaneous(nginx(1, 1s, 5));
  EXPECT_EQ(o.immediate, 1);
  EXPECT_EQ(o.delayed, 5);
  EXPECT_EQ(o.rejected, 4);
  EXPECT_EQ(o.delays, (std::vector<Duration>{1s, 2s, 3s, 4s, 5s}));
}

TEST(NginxLimitReq, BurstFiveNodelayOnTenSimultaneousRequests) {
  // nodelay: everything within the burst is forwarded at once; the rest rejected.
  const Outcome o = tenSimultaneous(nginx(1, 1s, 5, LimitSpec::kNoDelay));
  EXPECT_EQ(o.immediate, 6);
  EXPECT_EQ(o.delayed, 0);
  EXPECT_EQ(o.rejected, 4);
}

TEST(NginxLimitReq, BurstFiveDelayThreeOnTenSimultaneousRequests) {
  // delay=3: excess up to 3 (requests 1-4) goes at once, the next are delayed by
  // (excess - 3000) * 1000 / rate ms = 1 s, 2 s; 4 rejected.
  const Outcome o = tenSimultaneous(nginx(1, 1s, 5, 3));
  EXPECT_EQ(o.immediate, 4);
  EXPECT_EQ(o.delayed, 2);
  EXPECT_EQ(o.rejected, 4);
  EXPECT_EQ(o.delays, (std::vector<Duration>{1s, 2s}));
}

TEST(NginxLimitReq, RejectedRequestsAreNotCharged) {
  // burst 0, 1r/s: a flood of rejected requests does not push the next admission further out.
  auto lim = makeLocalLimiter(nginx(1, 1s, 0), 10);
  EXPECT_TRUE(lim->acquire(kKeyA, at(0s), 1).admitted());
  for (int i = 1; i < 1000; ++i) EXPECT_FALSE(lim->acquire(kKeyA, at(std::chrono::milliseconds(i)), 1).admitted());
  EXPECT_TRUE(lim->acquire(kKeyA, at(1s), 1).admitted()) << "1 s after the admitted one";
}

TEST(NginxLimitReq, DrainIsComputedFromTheLastAccountedMillisecond) {
  // excess decays by rate*ms/1000 with truncation at each request, from the last accepted one.
  auto lim = makeLocalLimiter(nginx(3, 1s, 2, LimitSpec::kNoDelay), 10);  // 3000 milli/s
  lim->acquire(kKeyA, at(0ms), 1);                         // new: excess 0
  lim->acquire(kKeyA, at(0ms), 1);                         // 1000
  lim->acquire(kKeyA, at(0ms), 1);                         // 2000
  EXPECT_FALSE(lim->acquire(kKeyA, at(333ms), 1).admitted()) << "2000 - 999 + 1000 = 2001 > 2000";
  EXPECT_TRUE(lim->acquire(kKeyA, at(334ms), 1).admitted()) << "2000 - 1002 + 1000 = 1998";
  // Sub-millisecond time does not count: nginx works in whole milliseconds.
  EXPECT_FALSE(lim->acquire(kKeyA, at(334ms + 999'999ns), 1).admitted()) << "1998 + 1000 > 2000";
}

TEST(NginxLimitReq, RetryAfterPointsAtTheFirstMillisecondThatAdmits) {
  auto lim = makeLocalLimiter(nginx(1, 1min, 0), 10);
  lim->acquire(kKeyA, at(0s), 1);
  const Decision d = lim->acquire(kKeyA, at(10s), 1);
  ASSERT_EQ(d.verdict, Verdict::kReject);
  EXPECT_EQ(d.retryAfter, 52'500ms);
  EXPECT_TRUE(lim->acquire(kKeyA, at(10s) + d.retryAfter, 1).admitted());
}

TEST(NginxLimitReq, ClockGoingBackIsTreatedAsNoElapsedTime) {
  auto lim = makeLocalLimiter(nginx(1, 1s, 1, LimitSpec::kNoDelay), 10);
  lim->acquire(kKeyA, at(10s), 1);  // excess 0
  lim->acquire(kKeyA, at(10s), 1);  // 1000
  EXPECT_FALSE(lim->acquire(kKeyA, at(9s), 1).admitted()) << "ms < 0 counts as 0: 2000 > 1000";
}

TEST(NginxLimitReq, IdleNodesExpireByNginxRule) {
  // nginx drops a node untouched for >= 60 s whose excess has drained; a returning client is
  // then a new key again (its first request is free once more).
  LeakyBucket lb(nginx(1, 1s, 5));
  LeakyBucket::State s;
  lb.decide(s, ns(0s), 1, true);
  lb.decide(s, ns(0s), 1, true);
  EXPECT_FALSE(lb.idle(s, ns(59'999ms))) << "less than 60 s";
  EXPECT_TRUE(lb.idle(s, ns(60s))) << "60 s and drained";
}

}  // namespace
}  // namespace gatelab::core::ratelimit
