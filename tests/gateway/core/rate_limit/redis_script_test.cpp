// The Redis store's script (redis_script.hpp) against a real redis-server (tests/support):
//  - it decides exactly as the local policy does: for every algorithm and variant, seeded random
//    timed sequences over several keys (equal timestamps, nanosecond jitter, small backward steps,
//    probes 1 ns around window and fill boundaries, idle gaps far beyond every expiry) give the same
//    PolicyDecision, field for field, from EVALSHA + parseReply as from RateLimitPolicy::evaluateKey;
//    requests at exactly the announced retry-after or reset (and 1 ns around it); multi-limit and
//    shadow policies; the sliding counter where its products exceed a double's 53 bits;
//  - the expiry it sets is never shorter than the time until Algorithm::idle holds (and not
//    needlessly longer), and an expired leaky-bucket key is new again, as in nginx;
//  - unreadable state under a key is an error reply, not a crash or a hang;
//  - parseReply refuses malformed replies with a message; validateForRedis refuses what the
//    script cannot carry exactly; keys follow the documented layout and share one hash tag.
//
// Redis expiry runs on Redis's wall clock, not on the test's virtual time: the differential test
// sets a one-hour TTL slack so no key expires while the sequence runs (idle states are then
// exercised by jumps in virtual time), and the expiry test reads the PTTL the script sets.

#include "gateway/core/rate_limit/redis_script.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gateway/core/rate_limit/algorithms.hpp"
#include "gateway/core/rate_limit/policy.hpp"
#include "tests/support/redis_server.hpp"

namespace gatelab::core::ratelimit::redis {
namespace {

using namespace std::chrono_literals;
using ::gatelab::testing::RedisConnection;
using ::gatelab::testing::RedisServer;
using ::gatelab::testing::ReplyPtr;

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kMs = 1'000'000;
/// A Unix-epoch-like start (2023-11), so times split into large second counts.
constexpr std::int64_t kEpochBase = 1'700'000'000 * kSec + 123'456'789;
/// ARGV[5], the TTL slack in ms (redis_script.cpp documents the argv layout).
constexpr std::size_t kSlackArg = 4;
const std::string kNoExpiryDuringTest = "3600000";

// ---------------------------------------------------------------------------------------------
// One redis-server for the whole binary (each ctest process runs one test, so one server each).

struct SharedRedis {
  RedisServer server;
  std::unique_ptr<RedisConnection> conn;
  std::string sha;
  std::string error;

  SharedRedis() {
    if (!server.running()) {
      error = "redis-server did not start: " + server.error();
      return;
    }
    conn = std::make_unique<RedisConnection>(server.port());
    const ReplyPtr r = conn->command({"SCRIPT", "LOAD", std::string(script())});
    if (r == nullptr) {
      error = "SCRIPT LOAD: " + conn->error();
    } else if (r->type != REDIS_REPLY_STRING) {
      error = "SCRIPT LOAD refused the script: " + std::string(r->str != nullptr ? r->str : "", r->len);
    } else {
      sha.assign(r->str, r->len);
    }
  }
};

SharedRedis& shared() {
  static SharedRedis s;
  return s;
}

class RedisScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedRedis& s = shared();
    ASSERT_TRUE(s.error.empty()) << s.error;
    const ReplyPtr r = s.conn->command({"FLUSHALL"});
    ASSERT_NE(r, nullptr) << s.conn->error();
  }
  RedisConnection& conn() { return *shared().conn; }
  const std::string& sha() { return shared().sha; }
};

// ---------------------------------------------------------------------------------------------
// Helpers

LimitSpec lim(Algorithm a, std::uint64_t count, Duration period, std::uint64_t burst = 0) {
  LimitSpec s;
  s.algorithm = a;
  s.rate = Rate{count, period};
  s.burst = burst;
  return s;
}

LimitSpec leaky(std::uint64_t count, Duration period, std::uint64_t burst, std::uint64_t delay) {
  LimitSpec s = lim(Algorithm::kLeakyBucket, count, period, burst);
  s.delay = delay;
  return s;
}

LimitSpec fixedFirst(std::uint64_t count, Duration period) {
  LimitSpec s = lim(Algorithm::kFixedWindow, count, period);
  s.align = WindowAlign::kFirstRequest;
  return s;
}

LimitSpec counter(std::uint64_t count, Duration period, bool countRejected) {
  LimitSpec s = lim(Algorithm::kSlidingWindowCounter, count, period);
  s.countRejected = countRejected;
  return s;
}

RateLimitPolicySpec policySpec(std::vector<LimitSpec> limits, std::uint32_t cost = 1, bool shadow = false) {
  RateLimitPolicySpec p;
  p.name = "api";
  p.key = {KeyComponent{KeyPart::kClientIp, ""}};
  p.limits = std::move(limits);
  p.cost = cost;
  p.shadow = shadow;
  p.store = StoreKind::kRedis;
  return p;
}

std::string show(const Decision& d) {
  std::ostringstream o;
  o << "{" << toString(d.verdict) << " delay=" << d.delay.count() << " limit=" << d.limit << " remaining=" << d.remaining
    << " window=" << d.window.count() << " reset=" << d.reset.count() << " retryAfter=" << d.retryAfter.count() << "}";
  return o.str();
}

std::string show(const PolicyDecision& p) {
  std::ostringstream o;
  o << "applied=" << p.applied << " verdict=" << toString(p.verdict) << " wouldBe=" << toString(p.wouldBe)
    << " delay=" << p.delay.count() << " status=" << p.status << " limitCount=" << int{p.limitCount}
    << " binding=" << int{p.binding};
  for (std::size_t i = 0; i < p.limits.size(); ++i) o << "\n    [" << i << "] " << show(p.limits[i]);
  return o.str();
}

bool same(const Decision& a, const Decision& b) {
  return a.verdict == b.verdict && a.delay == b.delay && a.limit == b.limit && a.remaining == b.remaining &&
         a.window == b.window && a.reset == b.reset && a.retryAfter == b.retryAfter;
}

bool same(const PolicyDecision& a, const PolicyDecision& b) {
  if (a.applied != b.applied || a.verdict != b.verdict || a.wouldBe != b.wouldBe || a.delay != b.delay ||
      a.status != b.status || a.limitCount != b.limitCount || a.binding != b.binding || !(a.key == b.key))
    return false;
  for (std::size_t i = 0; i < a.limits.size(); ++i) {
    if (!same(a.limits[i], b.limits[i])) return false;
  }
  return true;
}

std::vector<std::string> evalshaCommand(const std::string& sha, const Call& call, const std::string* slack) {
  std::vector<std::string> cmd;
  cmd.reserve(3 + call.keys.size() + call.argv.size());
  cmd.emplace_back("EVALSHA");
  cmd.push_back(sha);
  cmd.push_back(std::to_string(call.keys.size()));
  cmd.insert(cmd.end(), call.keys.begin(), call.keys.end());
  cmd.insert(cmd.end(), call.argv.begin(), call.argv.end());
  if (slack != nullptr) cmd[3 + call.keys.size() + kSlackArg] = *slack;
  return cmd;
}

/// The script's reply as integers, or why it is not an array of integers.
bool integers(const redisReply* r, std::vector<std::int64_t>& out, std::string& why) {
  out.clear();
  if (r == nullptr) {
    why = "no reply";
    return false;
  }
  if (r->type == REDIS_REPLY_ERROR) {
    why = "error reply: " + std::string(r->str, r->len);
    return false;
  }
  if (r->type != REDIS_REPLY_ARRAY) {
    why = "reply type " + std::to_string(r->type) + " is not an array";
    return false;
  }
  for (std::size_t i = 0; i < r->elements; ++i) {
    if (r->element[i]->type != REDIS_REPLY_INTEGER) {
      why = "element " + std::to_string(i) + " is not an integer";
      return false;
    }
    out.push_back(r->element[i]->integer);
  }
  return true;
}

std::int64_t uniform(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {  // [lo, hi]
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/// Virtual time for a policy's requests: phases of overload and of light traffic, clumps at one
/// instant, gaps around the policy's own scale with nanosecond jitter, small steps back in time,
/// probes 1 ns before / at / after window and fill boundaries, and idle gaps from nginx's 60 s
/// expiry up to far beyond every horizon (and the clamp of the script's time differences).
class VirtualTime {
 public:
  VirtualTime(const RateLimitPolicySpec& ps, std::uint64_t seed, std::int64_t base) : rng_(seed), now_(base) {
    std::int64_t unit = INT64_MAX;
    for (const LimitSpec& l : ps.limits) {
      unit = std::min(unit, l.rate.period.count() / static_cast<std::int64_t>(l.rate.count));
      boundaries_.push_back(l.rate.period.count());
    }
    heavy_ = std::max<std::int64_t>(1, unit * ps.cost / 6);
    light_ = std::max<std::int64_t>(1, unit * ps.cost * 3 / 2);
  }

  std::int64_t now() const { return now_; }
  std::mt19937_64& rng() { return rng_; }
  /// Moves to `t` if that is not in the past (probes never step back far).
  void probe(std::int64_t t) { now_ = std::max(now_, t); }

  std::int64_t step() {
    static constexpr std::int64_t kLongGaps[] = {61 * kSec,   62'500 * kMs + 1, 120 * kSec,         600 * kSec,
                                                 3600 * kSec, 86'400 * kSec,    41 * 86'400 * kSec, 100 * 86'400 * kSec};
    if (rng_() % 100 == 0) overload_ = !overload_;
    const std::int64_t mean = overload_ ? heavy_ : light_;
    const auto r = rng_() % 1000;
    if (r < 250) {
      // same instant
    } else if (r < 300) {
      now_ -= uniform(rng_, 1, std::min<std::int64_t>(mean, 100 * kMs));  // the clock steps back a little
    } else if (r < 303) {
      now_ -= uniform(rng_, 60 * kSec, 90 * kSec);  // back more than nginx's 60 s
    } else if (r < 940) {
      const std::int64_t b = boundaries_[rng_() % boundaries_.size()];
      if (r < 880 || (b > 50 * mean && rng_() % 10 != 0)) {
        now_ += uniform(rng_, 1, 2 * mean);
      } else {
        now_ = (floorDiv(now_, b) + 1) * b + uniform(rng_, -1, 1);
      }
    } else if (r < 996) {
      now_ += uniform(rng_, mean, 20 * mean);
    } else {
      now_ += kLongGaps[rng_() % std::size(kLongGaps)] + uniform(rng_, 0, kMs);
    }
    return now_;
  }

 private:
  std::mt19937_64 rng_;
  std::int64_t now_;
  std::vector<std::int64_t> boundaries_ = {kMs, kSec};
  std::int64_t heavy_ = 1;
  std::int64_t light_ = 1;
  bool overload_ = true;
};

struct Tally {
  int allowed = 0;
  int delayed = 0;
  int rejected = 0;
  int probes = 0;
};

/// A key's latest request and the local policy's decision for it.
struct Last {
  std::int64_t t = 0;
  PolicyDecision d;
};

/// Picks request `i`: its key (< the number of keys) and time, given each key's latest request;
/// false ends the sequence.
using NextRequest = std::function<bool(std::size_t i, const std::vector<Last>& last, std::size_t& key, std::int64_t& t)>;

/// Evaluates a request sequence locally and in Redis (pipelined in batches) and compares every
/// decision; the first difference fails with both decisions.
::testing::AssertionResult replayInRedis(RedisConnection& conn, const std::string& sha, const RateLimitPolicySpec& ps,
                                         std::size_t keyCount, const NextRequest& next, Tally& tally) {
  std::string error;
  auto local = RateLimitPolicy::create(ps, error);
  if (!local) return ::testing::AssertionFailure() << "policy refused: " << error;
  for (std::size_t i = 0; i < ps.limits.size(); ++i) {
    if (auto why = validateForRedis(ps.limits[i], ps.cost)) return ::testing::AssertionFailure() << "limit " << i << ": " << *why;
  }
  if (conn.command({"FLUSHALL"}) == nullptr) return ::testing::AssertionFailure() << "FLUSHALL: " << conn.error();
  std::vector<Hash128> keys;
  for (std::size_t k = 0; k < keyCount; ++k) keys.push_back(hash128("client-" + std::to_string(k)));
  std::vector<Last> last(keyCount);

  constexpr std::size_t kBatch = 256;
  Call call;
  std::vector<std::vector<std::string>> commands;
  struct Step {
    std::size_t key;
    std::int64_t t;
    PolicyDecision want;
  };
  std::vector<Step> steps;
  std::vector<std::int64_t> values;
  std::int64_t previous = 0;
  std::size_t index = 0;
  bool more = true;
  while (more) {
    commands.clear();
    steps.clear();
    while (steps.size() < kBatch) {
      std::size_t key = 0;
      std::int64_t t = 0;
      if (!next(index + steps.size(), last, key, t)) {
        more = false;
        break;
      }
      const TimePoint now = atOffset(Duration{t});
      steps.push_back({key, t, local->evaluateKey(keys[key], now)});
      last[key] = {t, steps.back().want};
      buildCall(ps, "gltest", keys[key], now, call);
      commands.push_back(evalshaCommand(sha, call, &kNoExpiryDuringTest));
    }
    const std::vector<ReplyPtr> replies = conn.pipeline(commands);
    if (replies.size() != commands.size()) return ::testing::AssertionFailure() << "Redis connection: " << conn.error();
    for (std::size_t i = 0; i < steps.size(); ++i, ++index) {
      const Step& s = steps[i];
      std::string why;
      auto describe = [&] {
        std::ostringstream o;
        o << "request " << index << " (key " << s.key << ", t=" << s.t << ", " << (s.t - previous)
          << " ns after the previous request)\n  local: " << show(s.want);
        return o.str();
      };
      if (!integers(replies[i].get(), values, why)) return ::testing::AssertionFailure() << describe() << "\n  redis: " << why;
      const auto got = parseReply(ps, s.want.key, values, why);
      if (!got) return ::testing::AssertionFailure() << describe() << "\n  redis: parseReply: " << why;
      if (!same(s.want, *got)) return ::testing::AssertionFailure() << describe() << "\n  redis: " << show(*got);
      (s.want.wouldBe == Verdict::kAllow ? tally.allowed : s.want.wouldBe == Verdict::kDelay ? tally.delayed : tally.rejected)++;
      previous = s.t;
    }
  }
  return ::testing::AssertionSuccess();
}

/// Random traffic over five keys (VirtualTime), and some requests exactly at (or 1 ns around)
/// the retry-after or reset the key's previous decision announced: where the exact comparisons
/// of each algorithm flip.
::testing::AssertionResult sameInRedis(RedisConnection& conn, const std::string& sha, const RateLimitPolicySpec& ps,
                                       std::uint64_t seed, int requests, std::int64_t base, Tally& tally) {
  constexpr std::size_t kKeys = 5;
  VirtualTime clock(ps, seed, base);
  const std::size_t total = kKeys + static_cast<std::size_t>(requests);
  auto next = [&](std::size_t i, const std::vector<Last>& last, std::size_t& key, std::int64_t& t) {
    if (i >= total) return false;
    if (i < kKeys) {
      // Every key's first request comes first: the local store then never inserts a key later,
      // so it never drops an idle one (a dropped nginx-style leaky key would be new again; Redis
      // keeps states until their expiry, which this test pushes past its end).
      key = i;
      t = base + static_cast<std::int64_t>(i);
      return true;
    }
    std::mt19937_64& rng = clock.rng();
    key = rng() % 3 != 0 ? 0 : rng() % kKeys;
    t = clock.step();
    const Last& l = last[key];
    const bool rejected = l.d.wouldBe == Verdict::kReject;
    if (rejected ? rng() % 4 == 0 : rng() % 50 == 0) {
      const Decision& b = l.d.bindingDecision();
      const Duration at = rejected && rng() % 4 != 0 ? b.retryAfter : b.reset;
      clock.probe(l.t + at.count() + uniform(rng, -1, 1));
      t = clock.now();
      ++tally.probes;
    }
    return true;
  };
  return replayInRedis(conn, sha, ps, kKeys, next, tally);
}

// ---------------------------------------------------------------------------------------------
// Differential: Redis decides like the local policy

struct Case {
  std::string name;
  RateLimitPolicySpec spec;
  bool expectDelays = false;
  std::int64_t base = kEpochBase;
  int requests = 2200;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> cases() {
  using A = Algorithm;
  const auto nodelay = LimitSpec::kNoDelay;
  std::vector<Case> c;
  c.push_back({"token_bucket_3_per_s_burst_5", policySpec({lim(A::kTokenBucket, 3, 1s, 5)})});
  c.push_back({"token_bucket_7_per_13s_cost_3", policySpec({lim(A::kTokenBucket, 7, 13s, 6)}, 3)});
  c.push_back({"token_bucket_100_per_min", policySpec({lim(A::kTokenBucket, 100, 1min)})});
  c.push_back({"token_bucket_large_units", policySpec({lim(A::kTokenBucket, 1'000'000, 1h, 2'000'000)}, 40'000)});
  c.push_back({"discrete_10_per_s_burst_25", policySpec({lim(A::kTokenBucketDiscrete, 10, 1s, 25)})});
  c.push_back({"discrete_7_per_13s_cost_3", policySpec({lim(A::kTokenBucketDiscrete, 7, 13s, 7)}, 3)});
  c.push_back({"discrete_3_per_s", policySpec({lim(A::kTokenBucketDiscrete, 3, 1s)})});
  c.push_back({"leaky_3_per_s_burst_5_delay", policySpec({leaky(3, 1s, 5, 0)}), true});
  c.push_back({"leaky_10_per_s_burst_4_nodelay", policySpec({leaky(10, 1s, 4, nodelay)})});
  c.push_back({"leaky_7_per_13s_burst_6_delay_2", policySpec({leaky(7, 13s, 6, 2)}), true});
  c.push_back({"leaky_100_per_min_burst_8_delay_3_cost_3", policySpec({leaky(100, 1min, 8, 3)}, 3), true});
  c.push_back({"leaky_1_per_min_burst_2", policySpec({leaky(1, 1min, 2, 0)}), true, kEpochBase, 600});
  c.push_back({"fixed_10_per_s_clock", policySpec({lim(A::kFixedWindow, 10, 1s)})});
  c.push_back({"fixed_7_per_13s_first_request_cost_3", policySpec({fixedFirst(7, 13s)}, 3)});
  c.push_back({"fixed_100_per_min_clock_cost_3", policySpec({lim(A::kFixedWindow, 100, 1min)}, 3)});
  c.push_back({"fixed_3_per_s_first_request", policySpec({fixedFirst(3, 1s)})});
  c.push_back({"log_10_per_s", policySpec({lim(A::kSlidingWindowLog, 10, 1s)})});
  c.push_back({"log_7_per_13s_cost_3", policySpec({lim(A::kSlidingWindowLog, 7, 13s)}, 3)});
  c.push_back({"log_100_per_min", policySpec({lim(A::kSlidingWindowLog, 100, 1min)})});
  c.push_back({"counter_10_per_s", policySpec({counter(10, 1s, false)})});
  c.push_back({"counter_7_per_13s_count_rejected_cost_3", policySpec({counter(7, 13s, true)}, 3)});
  c.push_back({"counter_100_per_min_count_rejected", policySpec({counter(100, 1min, true)})});
  c.push_back({"counter_3_per_s_cost_3", policySpec({counter(3, 1s, false)}, 3)});
  // prev x (window - elapsed) reaches ~10^18: the script's two-limb products and exact division.
  c.push_back({"counter_wide_products", policySpec({counter(1'000'000, 1h, false)}, 40'000)});
  c.push_back({"counter_wide_products_count_rejected", policySpec({counter(1'000'000, 1h, true)}, 40'000)});
  // A 30-day window: products near 2^70 and quotients near 2^51, where double rounding would err.
  c.push_back({"counter_30_days", policySpec({counter(100'000, 720h, false)}, 1000)});
  c.push_back({"counter_30_days_count_rejected", policySpec({counter(100'000, 720h, true)}, 1000)});
  // Counts near 2^38 in a 30-day window: products near 2^89, far beyond a double's 53 bits.
  c.push_back({"counter_huge_units", policySpec({counter(200'000'000'000, 720h, false)}, 4'000'000'000)});
  c.push_back({"counter_huge_units_count_rejected", policySpec({counter(200'000'000'000, 720h, true)}, 4'000'000'000)});
  c.push_back({"gcra_3_per_s_burst_5", policySpec({lim(A::kGcra, 3, 1s, 5)})});
  c.push_back({"gcra_7_per_13s_burst_6_cost_3", policySpec({lim(A::kGcra, 7, 13s, 6)}, 3)});
  c.push_back({"gcra_100_per_min", policySpec({lim(A::kGcra, 100, 1min)})});
  c.push_back({"multi_token_bucket_and_fixed_window",
               policySpec({lim(A::kTokenBucket, 10, 1s, 5), lim(A::kFixedWindow, 100, 1min)})});
  c.push_back({"multi_leaky_log_counter",
               policySpec({leaky(3, 1s, 4, 1), lim(A::kSlidingWindowLog, 20, 13s), counter(100, 1min, true)}), true});
  c.push_back({"multi_shadow_gcra_discrete_fixed",
               policySpec({lim(A::kGcra, 5, 1s, 3), lim(A::kTokenBucketDiscrete, 20, 1min, 20), fixedFirst(7, 13s)}, 2, true)});
  c.push_back({"negative_times_token_bucket", policySpec({lim(A::kTokenBucket, 10, 1s, 3)}), false, -5 * kSec - 123});
  c.push_back({"times_around_zero_counter", policySpec({counter(7, 13s, true)}), false, -20 * kSec});
  c.push_back({"times_around_zero_discrete", policySpec({lim(A::kTokenBucketDiscrete, 7, 13s, 9)}, 2), false, -30 * kSec});
  return c;
}

class RedisDifferential : public RedisScriptTest, public ::testing::WithParamInterface<Case> {};

TEST_P(RedisDifferential, DecidesExactlyLikeTheLocalPolicy) {
  const Case& c = GetParam();
  Tally tally;
  for (std::uint64_t seed : {1u, 2u}) {
    ASSERT_TRUE(sameInRedis(conn(), sha(), c.spec, seed, c.requests, c.base, tally)) << c.name << " seed " << seed;
  }
  // The sequences exercise both sides of the limit (and nginx's delays where configured).
  EXPECT_GT(tally.allowed, 0) << c.name;
  EXPECT_GT(tally.rejected, 0) << c.name;
  if (c.expectDelays) {
    EXPECT_GT(tally.delayed, 0) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, RedisDifferential, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST_F(RedisScriptTest, SlidingCounterIsExactWhereDoublesWouldRound) {
  // prev x (window - elapsed) against room x window decides near 2^89 here; a double holds 53
  // bits. Each round fills a window, rejects early in the next one, then asks 1 ns before, at and
  // after the announced retry-after, where the two products are closest.
  for (const bool countRejected : {false, true}) {
    const RateLimitPolicySpec ps = policySpec({counter(200'000'000'000, 720h, countRejected)}, 4'000'000'000);
    const std::int64_t w = Duration{720h}.count();
    std::mt19937_64 rng(countRejected ? 2 : 1);
    std::int64_t windowStart = floorDiv(kEpochBase, w) * w;
    int phase = 0;  // 0: fill a window, 1: one instant of the next window until rejected, 2-4: probes
    int fill = 0;
    std::int64_t burstAt = 0;
    std::int64_t retry = 0;
    std::int64_t cursor = 0;
    int rounds = 0;
    Tally tally;
    auto next = [&](std::size_t, const std::vector<Last>& last, std::size_t& key, std::int64_t& t) {
      key = 0;
      if (phase == 1 && last[0].t == burstAt && last[0].d.wouldBe == Verdict::kReject) {
        retry = last[0].d.bindingDecision().retryAfter.count();
        phase = 2;
      }
      if (phase == 5) {
        if (++rounds == 150) return false;
        windowStart += 3 * w;  // the state is idle again
        phase = 0;
      }
      switch (phase) {
        case 0:
          if (fill == 0) {
            fill = 1 + static_cast<int>(rng() % 50);
            cursor = windowStart;
          }
          cursor += uniform(rng, 0, (windowStart + w - 1 - cursor) / fill);  // forward in time
          t = cursor;
          if (--fill == 0) {
            phase = 1;
            burstAt = windowStart + w + uniform(rng, 0, w / 3);
          }
          return true;
        case 1:
          t = burstAt;
          return true;
        default:
          t = burstAt + retry + (phase - 3);  // 1 ns before, at, 1 ns after
          ++phase;
          return true;
      }
    };
    ASSERT_TRUE(replayInRedis(conn(), sha(), ps, 1, next, tally)) << "count_rejected " << countRejected;
    EXPECT_GT(tally.rejected, 150);
  }
}

// ---------------------------------------------------------------------------------------------
// Expiry: PX is never shorter than the time until the state is idle

/// A TIME reply in microseconds.
std::int64_t micros(const redisReply* time) {
  if (time == nullptr || time->type != REDIS_REPLY_ARRAY || time->elements != 2) return 0;
  return std::stoll(std::string(time->element[0]->str, time->element[0]->len)) * 1'000'000 +
         std::stoll(std::string(time->element[1]->str, time->element[1]->len));
}

template <class Algo>
void checkExpiry(RedisConnection& conn, const std::string& sha, const LimitSpec& spec, std::uint32_t cost) {
  const RateLimitPolicySpec ps = policySpec({spec}, cost);
  ASSERT_FALSE(validateForRedis(spec, cost).has_value());
  const Algo algo(spec);
  typename Algo::State state{};
  const Hash128 key = hash128("expiry");
  const std::string noSlack = "0";
  Call call;
  std::vector<std::int64_t> values;
  int checked = 0;
  VirtualTime clock(ps, 99, kEpochBase);
  for (int i = 0; i < 300; ++i) {
    const std::int64_t t = clock.step();
    buildCall(ps, "gltest", key, atOffset(Duration{t}), call);
    // One transaction: no expiry, the script, the PTTL it left (-1: it wrote nothing), then a
    // long expiry so wall time passing between requests expires nothing under the next one. The
    // TIMEs around the script and PTTL measure how much of the expiry ran down in between.
    const std::vector<ReplyPtr> r = conn.pipeline({{"MULTI"},
                                                   {"PERSIST", call.keys[0]},
                                                   {"TIME"},
                                                   evalshaCommand(sha, call, &noSlack),
                                                   {"PTTL", call.keys[0]},
                                                   {"TIME"},
                                                   {"PEXPIRE", call.keys[0], kNoExpiryDuringTest},
                                                   {"EXEC"}});
    ASSERT_EQ(r.size(), 8u) << conn.error();
    const redisReply* exec = r[7].get();
    ASSERT_EQ(exec->type, REDIS_REPLY_ARRAY);
    ASSERT_EQ(exec->elements, 6u);
    std::string why;
    ASSERT_TRUE(integers(exec->element[2], values, why)) << why;
    const auto got = parseReply(ps, key, values, why);
    ASSERT_TRUE(got.has_value()) << why;
    const Decision want = algo.decide(state, t, cost, true);
    ASSERT_TRUE(same(want, got->limits[0])) << "t=" << t << "\n  local: " << show(want) << "\n  redis: " << show(got->limits[0]);
    const long long pttl = exec->element[3]->integer;
    if (pttl == -1) {
      ASSERT_EQ(want.verdict, Verdict::kReject) << "only a rejection that charges nothing leaves the state alone";
      continue;
    }
    ASSERT_NE(pttl, -2) << "an admitted request leaves a state, t=" << t;
    ASSERT_GE(pttl, 1);
    // The script's PX is at least pttl; the 1 ms it adds covers one millisecond tick between the
    // script and PTTL. A slower transaction (a loaded machine) adds what it measured.
    const std::int64_t spentMs = (micros(exec->element[4]) - micros(exec->element[1])) / 1000;
    const std::int64_t expiresAt = t + (pttl + spentMs) * kMs;
    EXPECT_TRUE(algo.idle(state, expiresAt)) << "state still live when the key expires: t=" << t << " pttl=" << pttl << "ms";
    if (pttl > 3) {
      EXPECT_FALSE(algo.idle(state, t + (pttl - 3) * kMs))
          << "expiry needlessly long: idle 3 ms before it, t=" << t << " pttl=" << pttl << "ms";
    }
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

TEST_F(RedisScriptTest, ExpiryIsNeverBeforeTheStateIsIdle) {
  using A = Algorithm;
  checkExpiry<TokenBucket>(conn(), sha(), lim(A::kTokenBucket, 7, 13s, 6), 3);
  checkExpiry<DiscreteTokenBucket>(conn(), sha(), lim(A::kTokenBucketDiscrete, 10, 1s, 25), 1);
  checkExpiry<LeakyBucket>(conn(), sha(), leaky(3, 1s, 5, 0), 1);
  checkExpiry<LeakyBucket>(conn(), sha(), leaky(1, 1min, 2, LimitSpec::kNoDelay), 1);
  checkExpiry<FixedWindow>(conn(), sha(), lim(A::kFixedWindow, 10, 1s), 1);
  checkExpiry<FixedWindow>(conn(), sha(), fixedFirst(7, 13s), 3);
  checkExpiry<SlidingWindowLog>(conn(), sha(), lim(A::kSlidingWindowLog, 7, 13s), 3);
  checkExpiry<SlidingWindowCounter>(conn(), sha(), counter(100, 1min, true), 1);
  checkExpiry<SlidingWindowCounter>(conn(), sha(), counter(10, 1s, false), 1);
  checkExpiry<Gcra>(conn(), sha(), lim(A::kGcra, 7, 13s, 6), 3);
}

TEST_F(RedisScriptTest, AnExpiredLeakyKeyIsNewAgainAsInNginx) {
  // nginx forgets a node 60 s after its last request once drained; the client is then new again.
  // With cost 3 that is visible: a new key is charged 2 units (its first unit is free), a drained
  // tracked key none (nginx clamps the excess at 0 after the drain).
  const RateLimitPolicySpec ps = policySpec({leaky(1, 1s, 3, LimitSpec::kNoDelay)}, 3);
  const Hash128 key = hash128("returning");
  Call call;
  std::vector<std::int64_t> values;
  std::string why;
  auto redisAt = [&](std::int64_t t) {
    buildCall(ps, "gltest", key, atOffset(Duration{t}), call);
    const ReplyPtr r = conn().command(evalshaCommand(sha(), call, nullptr));
    EXPECT_TRUE(integers(r.get(), values, why)) << why;
    auto d = parseReply(ps, key, values, why);
    EXPECT_TRUE(d.has_value()) << why;
    return d.value_or(PolicyDecision{});
  };
  std::string error;
  auto kept = RateLimitPolicy::create(ps, error);
  ASSERT_NE(kept, nullptr) << error;
  const PolicyDecision first = redisAt(kEpochBase);
  ASSERT_TRUE(same(first, kept->evaluateKey(key, atOffset(Duration{kEpochBase})))) << show(first);
  EXPECT_EQ(first.limits[0].remaining, 1u);
  const ReplyPtr ttl = conn().command({"PTTL", call.keys[0]});
  ASSERT_NE(ttl, nullptr);
  EXPECT_GE(ttl->integer, 60'000) << "nginx keeps a node for 60 s";
  // Redis expires the key (as it does PTTL ms later); 61 s on, the client is new.
  ASSERT_NE(conn().command({"DEL", call.keys[0]}), nullptr);
  const std::int64_t later = kEpochBase + 61 * kSec;
  auto fresh = RateLimitPolicy::create(ps, error);
  const PolicyDecision expired = redisAt(later);
  EXPECT_TRUE(same(expired, fresh->evaluateKey(key, atOffset(Duration{later})))) << show(expired);
  EXPECT_EQ(expired.limits[0].remaining, 1u) << "a new key: charged cost - 1";
  // A gateway that still tracks the key (nginx before its expiry ran) charges nothing here.
  EXPECT_EQ(kept->evaluateKey(key, atOffset(Duration{later})).limits[0].remaining, 3u);
}

TEST_F(RedisScriptTest, UnreadableStateIsAnErrorReplyNotACrash) {
  // Someone else's data under a limit's key: the script answers with an error naming the key,
  // which the store treats as an outage (on_store_error), and Redis keeps serving.
  struct Row {
    const char* property;
    LimitSpec spec;
    std::vector<std::string> plant;  ///< command writing the bad state; "{key}" is the limit's key
    const char* mentions;
  };
  const std::vector<Row> rows = {
      {"too few numbers", lim(Algorithm::kTokenBucket, 10, 1s), {"SET", "{key}", "1 2"}, "unreadable"},
      {"not a number", lim(Algorithm::kGcra, 10, 1s), {"SET", "{key}", "a b c"}, "unreadable"},
      {"a count beyond the exact range", counter(10, 1s, true), {"SET", "{key}", "99999999999999999 0 1 2"}, "unreadable"},
      {"a log without its header", lim(Algorithm::kSlidingWindowLog, 10, 1s), {"RPUSH", "{key}", "x"}, "unreadable"},
      {"a log record that is not one", lim(Algorithm::kSlidingWindowLog, 10, 1s), {"RPUSH", "{key}", "1", "5"}, "unreadable"},
      {"a string where a list belongs", lim(Algorithm::kSlidingWindowLog, 10, 1s), {"SET", "{key}", "1"}, "WRONGTYPE"},
  };
  for (const Row& r : rows) {
    ASSERT_NE(conn().command({"FLUSHALL"}), nullptr);
    const RateLimitPolicySpec ps = policySpec({r.spec});
    Call call;
    buildCall(ps, "gltest", hash128("k"), atOffset(Duration{kEpochBase}), call);
    std::vector<std::string> plant = r.plant;
    plant[1] = call.keys[0];
    ASSERT_NE(conn().command(plant), nullptr) << r.property;
    const ReplyPtr reply = conn().command(evalshaCommand(sha(), call, nullptr));
    ASSERT_NE(reply, nullptr) << r.property << ": " << conn().error();
    ASSERT_EQ(reply->type, REDIS_REPLY_ERROR) << r.property;
    EXPECT_NE(std::string(reply->str, reply->len).find(r.mentions), std::string::npos)
        << r.property << ": " << std::string(reply->str, reply->len);
  }
  const ReplyPtr ping = conn().command({"PING"});
  ASSERT_NE(ping, nullptr);
  EXPECT_EQ(ping->type, REDIS_REPLY_STATUS);
}

// ---------------------------------------------------------------------------------------------
// Keys and arguments

TEST(RedisCall, KeysFollowTheDocumentedLayoutAndShareOneHashTag) {
  const RateLimitPolicySpec ps = policySpec({lim(Algorithm::kTokenBucket, 10, 1s, 5), lim(Algorithm::kFixedWindow, 100, 1min)});
  const Hash128 key{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  Call call;
  buildCall(ps, "gatelab", key, atOffset(Duration{kEpochBase}), call);
  ASSERT_EQ(call.keys.size(), 2u);
  EXPECT_EQ(call.argv.size(), 5u + 8u * 2u);
  const std::string tag = "{fedcba98765432100123456789abcdef}";
  for (std::size_t i = 0; i < 2; ++i) {
    const std::string& k = call.keys[i];
    const std::string head = "gatelab:rl:api:" + std::to_string(i) + ":";
    ASSERT_EQ(k.substr(0, head.size()), head) << k;
    const std::string fp = k.substr(head.size(), 8);
    EXPECT_EQ(fp.find_first_not_of("0123456789abcdef"), std::string::npos) << k;
    EXPECT_EQ(k.substr(head.size() + 8), ":" + tag) << k;
  }
  EXPECT_NE(call.keys[0].substr(17, 8), call.keys[1].substr(17, 8)) << "different limits, different fingerprints";
}

TEST(RedisCall, AChangedLimitOrCostGetsFreshKeys) {
  const Hash128 key = hash128("k");
  Call a;
  Call b;
  buildCall(policySpec({lim(Algorithm::kGcra, 10, 1s, 5)}), "p", key, atOffset(0s), a);
  buildCall(policySpec({lim(Algorithm::kGcra, 10, 1s, 5)}), "p", key, atOffset(5s), b);
  EXPECT_EQ(a.keys[0], b.keys[0]) << "same limit: same key at any time";
  for (const RateLimitPolicySpec& changed :
       {policySpec({lim(Algorithm::kGcra, 10, 1s, 6)}), policySpec({lim(Algorithm::kGcra, 10, 1s, 5)}, 2),
        policySpec({lim(Algorithm::kTokenBucket, 10, 1s, 5)}), policySpec({lim(Algorithm::kGcra, 10, 2s, 5)})}) {
    buildCall(changed, "p", key, atOffset(0s), b);
    EXPECT_NE(a.keys[0], b.keys[0]);
  }
}

// A Call reused for one policy after another (a worker's) gives exactly the call a fresh one
// gives, whatever came before: another policy, another prefix, or the same object changed in place
// (as a reloaded policy may reuse an address).
TEST(RedisCall, AReusedCallGivesWhatAFreshOneGives) {
  RateLimitPolicySpec a = policySpec({lim(Algorithm::kTokenBucket, 10, 1s, 5), lim(Algorithm::kFixedWindow, 100, 1min)});
  const RateLimitPolicySpec b = policySpec({lim(Algorithm::kSlidingWindowCounter, 50, 10s)});
  Call reused;
  auto check = [&](const RateLimitPolicySpec& ps, std::string_view prefix, const char* client, std::int64_t t) {
    Call fresh;
    buildCall(ps, prefix, hash128(client), atOffset(Duration{kEpochBase + t}), fresh);
    buildCall(ps, prefix, hash128(client), atOffset(Duration{kEpochBase + t}), reused);
    EXPECT_EQ(reused.keys, fresh.keys) << client;
    EXPECT_EQ(reused.argv, fresh.argv) << client;
  };
  check(a, "gatelab", "x", 0);
  check(a, "gatelab", "y", 1'500'000'000);
  check(a, "gatelab", "y", 130'000'000'000);  // the same policy in another minute (fixed window start)
  check(b, "gatelab", "x", 7);
  check(b, "gatelab", "x", 25'000'000'000);  // another 10 s window (counter start)
  const RateLimitPolicySpec c = policySpec({lim(Algorithm::kTokenBucketDiscrete, 10, 1s, 5)});
  check(c, "gatelab", "x", 3);
  check(c, "gatelab", "x", 2'700'000'000);  // another fill interval
  check(a, "other", "x", 9);
  a.name = "renamed";
  check(a, "other", "x", 11);
  a.limits[1].rate.count = 101;
  check(a, "other", "x", 12);
  a.cost = 3;
  check(a, "other", "x", 13);
}

TEST(RedisCall, BracesInThePrefixOrNameCannotMoveTheHashTag) {
  RateLimitPolicySpec ps = policySpec({lim(Algorithm::kFixedWindow, 10, 1s)});
  ps.name = "a{b}%c";
  Call call;
  buildCall(ps, "pre{x}", hash128("k"), atOffset(0s), call);
  const std::string& k = call.keys[0];
  EXPECT_EQ(k.substr(0, 26), "pre%7bx%7d:rl:a%7bb%7d%25c") << k;
  EXPECT_EQ(std::count(k.begin(), k.end(), '{'), 1) << k;
  EXPECT_EQ(std::count(k.begin(), k.end(), '}'), 1) << k;
  EXPECT_EQ(k.back(), '}');
}

TEST(RedisCall, ArgumentsAreReusedAcrossCalls) {
  const RateLimitPolicySpec ps = policySpec({lim(Algorithm::kTokenBucketDiscrete, 10, 1s, 5), counter(10, 1min, true)});
  Call call;
  buildCall(ps, "gatelab", hash128("k"), atOffset(Duration{kEpochBase}), call);
  const auto* keys = call.keys.data();
  const auto* argv = call.argv.data();
  const char* key0 = call.keys[0].data();
  for (int i = 1; i < 50; ++i) buildCall(ps, "gatelab", hash128("k"), atOffset(Duration{kEpochBase + i * 987'654'321LL}), call);
  EXPECT_EQ(call.keys.data(), keys);
  EXPECT_EQ(call.argv.data(), argv);
  EXPECT_EQ(call.keys[0].data(), key0);
  // now = 1700000000.123456789 + 49 x 0.987654321 s, split as the script expects.
  const std::int64_t t = kEpochBase + 49 * 987'654'321LL;
  EXPECT_EQ(call.argv[0], std::to_string(t / kSec));
  EXPECT_EQ(call.argv[1], std::to_string(t % kSec));
  EXPECT_EQ(call.argv[2], std::to_string(t / kMs));
  EXPECT_EQ(call.argv[3], std::to_string(t % kMs));
}

TEST(RedisCall, NegativeTimesSplitWithNonNegativeNanoseconds) {
  const RateLimitPolicySpec ps = policySpec({lim(Algorithm::kFixedWindow, 10, 1s)});
  Call call;
  buildCall(ps, "g", hash128("k"), atOffset(Duration{-1'500'000'001}), call);
  EXPECT_EQ(call.argv[0], "-2");
  EXPECT_EQ(call.argv[1], "499999999");
  EXPECT_EQ(call.argv[2], "-1501");
  EXPECT_EQ(call.argv[3], "999999");
}

// ---------------------------------------------------------------------------------------------
// parseReply

TEST(RedisReply, AWellFormedReplyCombinesLikeALocalPolicy) {
  RateLimitPolicySpec ps = policySpec({lim(Algorithm::kFixedWindow, 10, 1s), lim(Algorithm::kGcra, 5, 1s)});
  ps.rejectStatus = 503;
  const Hash128 key = hash128("k");
  std::string error;
  // Both admit: the binding limit is the one with the smaller remaining share (1/5 < 8/10).
  const std::vector<std::int64_t> admit = {2, 0, 0, 10, 8, kSec, 400, 0, 0, 0, 5, 1, kSec, 800, 0};
  const auto a = parseReply(ps, key, admit, error);
  ASSERT_TRUE(a.has_value()) << error;
  EXPECT_EQ(a->verdict, Verdict::kAllow);
  EXPECT_EQ(a->limitCount, 2);
  EXPECT_EQ(a->binding, 1);
  EXPECT_EQ(a->limits[1].reset, Duration{800});
  // The second limit rejects: the first was only peeked at (zeros), the status applies.
  const std::vector<std::int64_t> reject = {2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 5, 0, kSec, kSec, 200};
  const auto r = parseReply(ps, key, reject, error);
  ASSERT_TRUE(r.has_value()) << error;
  EXPECT_EQ(r->verdict, Verdict::kReject);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->binding, 1);
  EXPECT_EQ(r->limits[1].retryAfter, Duration{200});
  // The first limit rejects: evaluation stops there.
  const auto first = parseReply(ps, key, std::vector<std::int64_t>{1, 2, 0, 10, 0, kSec, 5, 5}, error);
  ASSERT_TRUE(first.has_value()) << error;
  EXPECT_EQ(first->limitCount, 1);
  // Shadow: the verdict allows, wouldBe keeps the truth.
  ps.shadow = true;
  const auto s = parseReply(ps, key, reject, error);
  ASSERT_TRUE(s.has_value()) << error;
  EXPECT_EQ(s->verdict, Verdict::kAllow);
  EXPECT_EQ(s->wouldBe, Verdict::kReject);
}

TEST(RedisReply, MalformedRepliesAreErrorsNotCrashes) {
  const RateLimitPolicySpec ps = policySpec({lim(Algorithm::kFixedWindow, 10, 1s), leaky(5, 1s, 4, 1)});
  // leaky 5/s burst 4: limit 5, window ceil(5e6 / 5000) ms = 1 s.
  struct Bad {
    const char* property;
    std::vector<std::int64_t> reply;
    const char* mentions;
  };
  const std::int64_t big = std::int64_t{1} << 53;
  const std::vector<Bad> bad = {
      {"empty", {}, "empty"},
      {"evaluated 0", {0}, "evaluated"},
      {"evaluated beyond the policy", {3, 0, 0, 10, 9, kSec, 1, 0, 0, 0, 5, 4, kSec, 1, 0, 0, 0, 5, 4, kSec, 1, 0}, "evaluated"},
      {"too short", {2, 0, 0, 10, 9, kSec, 1, 0}, "values"},
      {"too long", {1, 2, 0, 10, 0, kSec, 5, 5, 0}, "values"},
      {"verdict out of range", {2, 3, 0, 10, 9, kSec, 1, 0, 0, 0, 5, 4, kSec, 1, 0}, "verdict"},
      {"negative verdict", {2, -1, 0, 10, 9, kSec, 1, 0, 0, 0, 5, 4, kSec, 1, 0}, "outside"},
      {"negative remaining", {2, 0, 0, 10, -9, kSec, 1, 0, 0, 0, 5, 4, kSec, 1, 0}, "outside"},
      {"negative retry-after", {1, 2, 0, 10, 0, kSec, 5, -5}, "outside"},
      {"beyond 2^53", {2, 0, 0, 10, 9, kSec, big, 0, 0, 0, 5, 4, kSec, 1, 0}, "outside"},
      {"stops early without a rejection", {1, 0, 0, 10, 9, kSec, 1, 0}, "without a rejection"},
      {"a rejection before the last", {2, 2, 0, 10, 0, kSec, 1, 1, 0, 0, 5, 4, kSec, 1, 0}, "last"},
      {"a peeked limit that is not zeros", {2, 0, 0, 10, 9, kSec, 1, 0, 2, 0, 5, 0, kSec, 1, 1}, "zeros"},
      {"delay without the delay verdict", {2, 0, 0, 10, 9, kSec, 1, 0, 0, 7, 5, 4, kSec, 1, 0}, "delay"},
      {"delay verdict without a delay", {2, 0, 0, 10, 9, kSec, 1, 0, 1, 0, 5, 4, kSec, 1, 0}, "delay"},
      {"rejection without retry-after", {1, 2, 0, 10, 0, kSec, 5, 0}, "retry-after"},
      {"retry-after on an admission", {2, 0, 0, 10, 9, kSec, 1, 3, 0, 0, 5, 4, kSec, 1, 0}, "retry-after"},
      {"limit of another spec", {2, 0, 0, 11, 9, kSec, 1, 0, 0, 0, 5, 4, kSec, 1, 0}, "differ"},
      {"window of another spec", {2, 0, 0, 10, 9, 2 * kSec, 1, 0, 0, 0, 5, 4, kSec, 1, 0}, "differ"},
      {"remaining above the limit", {2, 0, 0, 10, 11, kSec, 1, 0, 0, 0, 5, 4, kSec, 1, 0}, "exceeds"},
  };
  const std::vector<std::int64_t> good = {2, 0, 0, 10, 9, kSec, 1, 0, 0, 0, 5, 4, kSec, 1, 0};
  std::string error;
  ASSERT_TRUE(parseReply(ps, hash128("k"), good, error).has_value()) << error;
  for (const Bad& b : bad) {
    error.clear();
    EXPECT_FALSE(parseReply(ps, hash128("k"), b.reply, error).has_value()) << b.property;
    EXPECT_NE(error.find(b.mentions), std::string::npos) << b.property << ": " << error;
  }
}

TEST(RedisReply, RandomGarbageNeverCrashes) {
  const RateLimitPolicySpec ps = policySpec({lim(Algorithm::kGcra, 5, 1s), leaky(5, 1s, 4, 1), counter(7, 13s, true)});
  std::mt19937_64 rng(5);
  std::string error;
  std::vector<std::int64_t> reply;
  int accepted = 0;
  for (int i = 0; i < 20'000; ++i) {
    reply.resize(rng() % 24);
    for (std::int64_t& v : reply) {
      const auto r = rng() % 4;
      v = r == 0 ? static_cast<std::int64_t>(rng()) : r == 1 ? -static_cast<std::int64_t>(rng() % 3) : static_cast<std::int64_t>(rng() % 4);
    }
    if (parseReply(ps, hash128("k"), reply, error)) ++accepted;
  }
  EXPECT_LT(accepted, 20'000);
}

// ---------------------------------------------------------------------------------------------
// validateForRedis

TEST(ValidateForRedis, RefusesWhatTheScriptCannotCarryExactly) {
  using A = Algorithm;
  struct Row {
    const char* property;
    LimitSpec spec;
    std::uint64_t cost;
    const char* mentions;  ///< nullptr: accepted
  };
  const std::vector<Row> rows = {
      {"ordinary limits pass", lim(A::kTokenBucket, 10, 1s, 5), 1, nullptr},
      {"a refill of exactly 40 days passes", lim(A::kTokenBucket, 1, 24h, 40), 1, nullptr},
      {"token bucket: refilling from empty longer than 40 days", lim(A::kTokenBucket, 1, 24h, 41), 1, "960h"},
      {"gcra: refilling from empty longer than 40 days", lim(A::kGcra, 2, 24h, 100), 1, "960h"},
      {"token bucket: burst x p above 2^52 (7/13s needs p = 13e9)", lim(A::kTokenBucket, 7, 13s, 400'000), 1, "2^52"},
      {"gcra: burst x p above 2^52", lim(A::kGcra, 7, 13s, 400'000), 1, "2^52"},
      {"gcra: the same burst at a rate whose count divides the period passes", lim(A::kGcra, 8, 1s, 400'000), 1, nullptr},
      {"discrete: any fill interval, however short", lim(A::kTokenBucketDiscrete, 10, 1us, 10), 1, nullptr},
      {"discrete: refilling longer than 40 days", lim(A::kTokenBucketDiscrete, 1, 1h, 1000), 1, "960h"},
      {"discrete: more than 2^52 tokens", lim(A::kTokenBucketDiscrete, std::uint64_t{1} << 40, 1s, std::uint64_t{1} << 53), 1, "2^52"},
      {"leaky: nginx's 1r/m passes", leaky(1, 1min, 0, 0), 1, nullptr},
      {"leaky: a rate above 10^12 requests per second", leaky(std::uint64_t{1} << 40, 1s, 0, 0), 1, "10^15"},
      {"leaky: burst above 10^9", leaky(1'000'000, 1s, 2'000'000'000, 0), 1, "10^9"},
      {"leaky: draining the burst takes longer than 40 days", leaky(1, 1min, 100'000, 0), 1, "960h"},
      {"fixed window of 40 days passes", lim(A::kFixedWindow, 1000, 960h), 1, nullptr},
      {"fixed window longer than 40 days", lim(A::kFixedWindow, 1000, 961h), 1, "960h"},
      {"sliding log longer than 40 days", lim(A::kSlidingWindowLog, 10, 1000h), 1, "960h"},
      {"sliding counter longer than 40 days", counter(10, 1000h, true), 1, "960h"},
      {"the local rules still apply (cost above the limit)", lim(A::kFixedWindow, 3, 1s), 4, "cost"},
  };
  for (const Row& r : rows) {
    const auto why = validateForRedis(r.spec, r.cost);
    if (r.mentions == nullptr) {
      EXPECT_FALSE(why.has_value()) << r.property << ": " << why.value_or("");
    } else {
      ASSERT_TRUE(why.has_value()) << r.property;
      EXPECT_NE(why->find(r.mentions), std::string::npos) << r.property << ": " << *why;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The harness itself: an outage and a recovery on the same port

TEST(RedisServerHarness, StopsAndRestartsOnTheSamePort) {
  RedisServer server;
  ASSERT_TRUE(server.running()) << server.error();
  const std::uint16_t port = server.port();
  RedisConnection c(port, 1s);
  ASSERT_TRUE(c.connected()) << c.error();
  const ReplyPtr set = c.command({"SET", "k", "v"});
  ASSERT_NE(set, nullptr) << c.error();
  server.stop();
  EXPECT_FALSE(server.running());
  EXPECT_EQ(c.command({"GET", "k"}), nullptr);
  EXPECT_FALSE(c.error().empty());
  ASSERT_TRUE(server.start()) << server.error();
  EXPECT_EQ(server.port(), port);
  const ReplyPtr get = c.command({"GET", "k"});
  ASSERT_NE(get, nullptr) << c.error();
  EXPECT_EQ(get->type, REDIS_REPLY_NIL) << "nothing is persisted across a restart";
}

}  // namespace
}  // namespace gatelab::core::ratelimit::redis
