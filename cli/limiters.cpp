// gatelab limiters: the same synthetic traffic from one client through every rate-limiting algorithm,
// each configured as "10 requests per second" in its own terms, decided by the real core.
#include <array>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "gateway/core/rate_limit/policy.hpp"

namespace gatelab::cli {

namespace {

using namespace std::chrono_literals;
using core::Duration;
using core::ratelimit::Algorithm;
using core::ratelimit::LimitSpec;
using core::ratelimit::Verdict;

struct Phase {
  const char* name;
  const char* shape;
};
constexpr std::array<Phase, 4> kPhases{{
    {"burst", "t=0s: 25 requests at once (a page and its assets)"},
    {"steady", "t=0.5-10s: one every 100 ms (exactly 10/s)"},
    {"overload", "t=10-12s: one every 25 ms (40/s, 4x the limit)"},
    {"burst2", "t=15s: 25 requests at once"},
}};

struct Arrival {
  Duration at;
  int phase;
};

std::vector<Arrival> traffic() {
  std::vector<Arrival> out;
  for (int i = 0; i < 25; ++i) out.push_back({0ms, 0});
  for (Duration t = 500ms; t < 10s; t += 100ms) out.push_back({t, 1});
  for (Duration t = 10s; t < 12s; t += 25ms) out.push_back({t, 2});
  for (int i = 0; i < 25; ++i) out.push_back({15s, 3});
  return out;
}

struct Variant {
  const char* algorithm;
  const char* config;  // as written in a gatelab config
  LimitSpec spec;
};

LimitSpec limit(Algorithm a, std::uint64_t burst = 0, std::uint64_t delay = 0) {
  LimitSpec s;
  s.algorithm = a;
  s.rate = core::Rate{10, 1s};
  s.burst = burst;
  s.delay = delay;
  return s;
}

std::vector<Variant> variants() {
  return {
      {"token_bucket", "limit: 10/s, burst: 20", limit(Algorithm::kTokenBucket, 20)},
      {"token_bucket (discrete)", "limit: 10/s, burst: 20, refill: discrete", limit(Algorithm::kTokenBucketDiscrete, 20)},
      {"gcra", "limit: 10/s, burst: 20", limit(Algorithm::kGcra, 20)},
      {"leaky_bucket (nginx)", "limit: 10r/s, burst: 20", limit(Algorithm::kLeakyBucket, 20)},
      {"leaky_bucket (nginx)", "limit: 10r/s, burst: 20, nodelay: true", limit(Algorithm::kLeakyBucket, 20, LimitSpec::kNoDelay)},
      {"leaky_bucket (nginx)", "limit: 10r/s, burst: 20, delay: 10", limit(Algorithm::kLeakyBucket, 20, 10)},
      {"fixed_window", "limit: 10/s", limit(Algorithm::kFixedWindow)},
      {"sliding_window_log", "limit: 10/s", limit(Algorithm::kSlidingWindowLog)},
      {"sliding_window_counter", "limit: 10/s", limit(Algorithm::kSlidingWindowCounter)},
  };
}

struct Result {
  std::array<int, kPhases.size()> rejected{};
  std::array<int, kPhases.size()> total{};
  int allowed = 0;
  int delayed = 0;
  int rejectedAll = 0;
  Duration maxDelay{0};
};

Result run(const Variant& v, const std::vector<Arrival>& arrivals) {
  core::ratelimit::RateLimitPolicySpec spec;
  spec.name = "demo";
  spec.key = {{core::ratelimit::KeyPart::kClientIp, ""}};
  spec.limits = {v.spec};
  std::string error;
  auto policy = core::ratelimit::RateLimitPolicy::create(spec, error);
  Result r;
  if (!policy) return r;
  const core::Hash128 client = core::hash128("203.0.113.7");
  for (const Arrival& a : arrivals) {
    const auto d = policy->evaluateKey(client, core::atOffset(a.at));
    ++r.total[static_cast<std::size_t>(a.phase)];
    switch (d.verdict) {
      case Verdict::kAllow: ++r.allowed; break;
      case Verdict::kDelay:
        ++r.delayed;
        r.maxDelay = std::max(r.maxDelay, d.delay);
        break;
      case Verdict::kReject:
        ++r.rejectedAll;
        ++r.rejected[static_cast<std::size_t>(a.phase)];
        break;
    }
  }
  return r;
}

std::string ms(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1e9);
  return d.count() == 0 ? "-" : buf;
}

}  // namespace

int runLimiters(const LimitersOptions& options) {
  const std::vector<Arrival> arrivals = traffic();
  const std::vector<Variant> vs = variants();
  std::vector<Result> results;
  for (const Variant& v : vs) results.push_back(run(v, arrivals));

  if (options.json) {
    nlohmann::json out;
    out["requests"] = arrivals.size();
    for (std::size_t i = 0; i < vs.size(); ++i) {
      nlohmann::json row;
      row["algorithm"] = vs[i].algorithm;
      row["config"] = vs[i].config;
      row["allowed"] = results[i].allowed;
      row["delayed"] = results[i].delayed;
      row["rejected"] = results[i].rejectedAll;
      row["max_delay_ns"] = results[i].maxDelay.count();
      for (std::size_t p = 0; p < kPhases.size(); ++p) row["rejected_by_phase"][kPhases[p].name] = results[i].rejected[p];
      out["variants"].push_back(row);
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }

  std::cout << "One client, " << arrivals.size() << " requests, every algorithm set to \"10 requests per second\":\n";
  for (std::size_t p = 0; p < kPhases.size(); ++p) {
    std::printf("  %-9s %3d requests  %s\n", kPhases[p].name, results.front().total[p], kPhases[p].shape);
  }
  std::printf("\n%-24s %-40s %7s %7s %8s %9s | %-29s\n", "", "", "", "", "", "", "rejected per phase");
  std::printf("%-24s %-40s %7s %7s %8s %9s | %5s %6s %8s %6s\n", "algorithm", "config", "allowed", "delayed",
              "rejected", "max delay", "burst", "steady", "overload", "burst2");
  for (std::size_t i = 0; i < vs.size(); ++i) {
    const Result& r = results[i];
    std::printf("%-24s %-40s %7d %7d %8d %9s | %5d %6d %8d %6d\n", vs[i].algorithm, vs[i].config, r.allowed, r.delayed,
                r.rejectedAll, ms(r.maxDelay).c_str(), r.rejected[0], r.rejected[1], r.rejected[2], r.rejected[3]);
  }
  std::cout << "\nDecided by gatelab's policy core in virtual time (no sleeping). Semantics of each algorithm:\n"
               "docs/rate-limiting.md. Delayed requests (nginx without nodelay) are admitted late, not rejected.\n";
  return 0;
}

}  // namespace gatelab::cli
