// WorkloadGenerator: client counts and Zipf popularity through the whole generator, abusive
// clients' rates and windows, determinism (same seed -> same bytes), stream independence, limits,
// and the spec checks behind `gatelab trace gen`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "sim/workload/generator.hpp"
#include "sim/workload/spec.hpp"
#include "tests/sim/workload/test_support.hpp"

namespace gatelab::sim::workload {
namespace {

using testing::kSigmas;

struct Collected {
  std::vector<std::uint64_t> perClient;  // by global client index
  std::vector<std::string> clients;      // address per request
  std::vector<core::Duration> offsets;
  std::vector<bool> abusive;
  std::uint64_t requests = 0;
};

Collected collect(const WorkloadSpec& spec) {
  auto made = WorkloadGenerator::make(spec);
  EXPECT_TRUE(made.ok()) << made.error.message;
  Collected c;
  if (!made) return c;
  c.perClient.assign(made.ptr->totalClients(), 0);
  GeneratedRequest r;
  while (made.ptr->next(r)) {
    ++c.perClient[r.client];
    c.clients.emplace_back(r.record.client);
    c.offsets.push_back(r.offset);
    c.abusive.push_back(r.abusive);
    EXPECT_EQ(r.record.time, spec.start + r.offset);
    ++c.requests;
  }
  EXPECT_EQ(made.ptr->stats().requests, c.requests);
  return c;
}

AbusiveSpec abusive(std::uint64_t count, std::uint64_t ratePerSecond, AbusePattern pattern = AbusePattern::kConstant) {
  AbusiveSpec a;
  a.count = count;
  a.rate = core::Rate{ratePerSecond, std::chrono::seconds(1)};
  a.pattern = pattern;
  return a;
}

// Property: client addresses are 10.a.b.c / 172.(16+a).b.c with c in 1..254.
TEST(WorkloadGenerator, ClientAddresses) {
  const auto addr = [](std::uint64_t i, bool abusive) {
    char buf[16];
    return std::string(buf, clientAddress(buf, i, abusive));
  };
  EXPECT_EQ(addr(0, false), "10.0.0.1");
  EXPECT_EQ(addr(253, false), "10.0.0.254");
  EXPECT_EQ(addr(254, false), "10.0.1.1");
  EXPECT_EQ(addr(254 * 256, false), "10.1.0.1");
  EXPECT_EQ(addr(0, true), "172.16.0.1");
  EXPECT_EQ(addr(kMaxClients - 1, false).size() <= 15, true);
}

// Property: the generator uses exactly the configured number of clients (all of them show up
// when each is expected dozens of times), requests are in time order and inside the duration.
TEST(WorkloadGenerator, NumberOfClientsAndOrder) {
  const WorkloadSpec spec = testing::poissonSpec(200, 50, 0.8, 60);
  auto made = WorkloadGenerator::make(spec);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made.ptr->totalClients(), 50u);
  const Collected c = collect(spec);
  EXPECT_TRUE(std::is_sorted(c.offsets.begin(), c.offsets.end()));
  EXPECT_LT(c.offsets.back(), std::chrono::seconds(60));
  // The least popular client is expected 12000 * 50^-0.8 / H(50, 0.8) ~ 60 times.
  EXPECT_EQ(std::count(c.perClient.begin(), c.perClient.end(), 0u), 0);
  for (const std::string& a : c.clients) {
    ASSERT_TRUE(a.starts_with("10.0.0.")) << a;
    const int last = std::stoi(a.substr(7));
    ASSERT_GE(last, 1);
    ASSERT_LE(last, 50);
  }
  // Total count: Poisson(12000).
  EXPECT_NEAR(static_cast<double>(c.requests), 12000.0, kSigmas * std::sqrt(12000.0));
  EXPECT_NEAR(*made.ptr->expectedRequests(), 12000.0, 1e-6);
}

// Property: through the generator, client k (rank k + 1) gets a share proportional to (k + 1)^-s,
// so freq(rank 1) / freq(rank 2) ~ 2^s.
TEST(WorkloadGenerator, ZipfRanksThroughTheGenerator) {
  constexpr double kS = 1.3;
  const WorkloadSpec spec = testing::poissonSpec(2000, 500, kS, 100);
  const Collected c = collect(spec);
  const double c0 = static_cast<double>(c.perClient[0]);
  const double c1 = static_cast<double>(c.perClient[1]);
  const double c3 = static_cast<double>(c.perClient[3]);
  // log(c0 / c1) has standard error ~ sqrt(1/c0 + 1/c1).
  EXPECT_NEAR(std::log(c0 / c1), kS * std::log(2.0), kSigmas * std::sqrt(1.0 / c0 + 1.0 / c1));
  EXPECT_NEAR(std::log(c0 / c3), kS * std::log(4.0), kSigmas * std::sqrt(1.0 / c0 + 1.0 / c3));
  // Popularity decreases with rank (compare well-separated ranks to stay clear of noise).
  EXPECT_GT(c.perClient[0], c.perClient[9]);
  EXPECT_GT(c.perClient[9], c.perClient[99]);
}

// Property: zipf 0 spreads requests evenly over clients (each count ~ Poisson(total / n)).
TEST(WorkloadGenerator, ZipfZeroIsUniform) {
  const WorkloadSpec spec = testing::poissonSpec(1000, 20, 0.0, 60);
  const Collected c = collect(spec);
  const double each = static_cast<double>(c.requests) / 20.0;
  for (std::size_t k = 0; k < 20; ++k) {
    EXPECT_NEAR(static_cast<double>(c.perClient[k]), each, kSigmas * std::sqrt(each)) << "client " << k;
  }
}

// Property: abusive clients get their configured rate: the constant pattern exactly rate * window
// (+-1 for the random phase), the Poisson pattern within sampling error, and only in [from, until).
TEST(WorkloadGenerator, AbusiveClientsGetTheirRate) {
  WorkloadSpec spec = testing::poissonSpec(50, 100, 1.0, 60);
  spec.abusive.push_back(abusive(2, 20));
  AbusiveSpec poisson = abusive(1, 30, AbusePattern::kPoisson);
  poisson.name = "poisson";
  spec.abusive.push_back(poisson);
  AbusiveSpec windowed = abusive(1, 40);
  windowed.name = "windowed";
  windowed.from = std::chrono::seconds(10);
  windowed.until = std::chrono::seconds(25);
  spec.abusive.push_back(windowed);
  auto made = WorkloadGenerator::make(spec);
  ASSERT_TRUE(made.ok()) << made.error.message;
  ASSERT_EQ(made.ptr->totalClients(), 104u);
  ASSERT_EQ(made.ptr->sources().size(), 4u);
  EXPECT_TRUE(made.ptr->sources()[1].abusive);
  EXPECT_EQ(made.ptr->sources()[1].firstClient, 100u);
  EXPECT_DOUBLE_EQ(made.ptr->sources()[1].meanRate, 40.0);

  const Collected c = collect(spec);
  EXPECT_NEAR(static_cast<double>(c.perClient[100]), 1200.0, 1.0);
  EXPECT_NEAR(static_cast<double>(c.perClient[101]), 1200.0, 1.0);
  EXPECT_NEAR(static_cast<double>(c.perClient[102]), 1800.0, kSigmas * std::sqrt(1800.0));
  EXPECT_NEAR(static_cast<double>(c.perClient[103]), 600.0, 1.0);
  for (std::size_t i = 0; i < c.requests; ++i) {
    if (!c.abusive[i]) {
      ASSERT_TRUE(c.clients[i].starts_with("10.")) << c.clients[i];
      continue;
    }
    ASSERT_TRUE(c.clients[i].starts_with("172.16.0.")) << c.clients[i];
    if (c.clients[i] == "172.16.0.4") {  // the windowed client (abusive index 3)
      EXPECT_GE(c.offsets[i], std::chrono::seconds(10));
      EXPECT_LT(c.offsets[i], std::chrono::seconds(25));
    }
  }
  // The expectation the summary line prints includes the abusive clients.
  EXPECT_NEAR(*made.ptr->expectedRequests(), 50.0 * 60 + 2 * 1200 + 1800 + 600, 1e-6);
}

// Property: the CLI's --abusive syntax with an on/off cycle: requests only while on, the on
// fraction of the rate on average; bad syntax is an error naming the flag.
TEST(WorkloadGenerator, AbusiveFlagOnOffCycle) {
  auto parsed = parseAbusiveFlag("3@20/s,on=10s,off=50s", defaultContent());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed.value().count, 3u);
  EXPECT_EQ(parsed.value().on, std::chrono::seconds(10));
  EXPECT_EQ(parsed.value().off, std::chrono::seconds(50));
  WorkloadSpec spec = testing::poissonSpec(10, 10, 1.0, 600);
  spec.abusive.push_back(parsed.value());
  const Collected c = collect(spec);
  for (std::uint64_t k = 10; k < 13; ++k) {
    // 10 whole cycles in 600 s: 10 on periods of 200 requests each (+-1 for the phase at the
    // window's edges).
    EXPECT_NEAR(static_cast<double>(c.perClient[k]), 2000.0, 2.0) << "abusive client " << k;
  }
  // While on, the client sends 20/s: some second holds 20 +- 1 requests of client 10.
  std::map<std::int64_t, int> perSecond;
  for (std::size_t i = 0; i < c.requests; ++i) {
    if (c.clients[i] == "172.16.0.1") ++perSecond[std::chrono::duration_cast<std::chrono::seconds>(c.offsets[i]).count()];
  }
  EXPECT_LE(perSecond.size(), 10u * 11u) << "at most 11 distinct seconds per 10 s on period";
  for (const auto& [second, n] : perSecond) EXPECT_LE(n, 21) << "second " << second;

  for (const char* bad : {"", "3", "@20/s", "x@20/s", "3@", "3@fast", "3@20/s,on=10s", "3@20/s,bogus", "0@20/s",
                          "3@20/s,on=-1s,off=5s", "3@20/s,from=abc"}) {
    auto r = parseAbusiveFlag(bad, defaultContent());
    if (r.ok()) {
      // Some syntax is only rejected by the spec check (a count of 0).
      WorkloadSpec s = testing::poissonSpec(10, 10, 1.0, 10);
      s.abusive.push_back(r.value());
      EXPECT_FALSE(checkWorkloadSpec(s).empty()) << "accepted: " << bad;
    } else {
      EXPECT_NE(r.error().message.find("--abusive"), std::string::npos) << r.error().message;
      EXPECT_FALSE(r.error().allowed.empty());
    }
  }
}

// Property: same spec and seed -> byte-identical output; another seed -> different output.
TEST(WorkloadGenerator, DeterministicPerSeed) {
  WorkloadSpec spec = testing::poissonSpec(300, 1000, 1.1, 20, 7);
  spec.abusive.push_back(abusive(1, 25, AbusePattern::kPoisson));
  for (const char* format : {"combined", "tsv", "jsonl"}) {
    const std::string a = testing::generateText(spec, format);
    const std::string b = testing::generateText(spec, format);
    ASSERT_GT(a.size(), 10'000u);
    EXPECT_EQ(a, b) << format;
    WorkloadSpec other = spec;
    other.seed = 8;
    EXPECT_NE(a, testing::generateText(other, format)) << format;
  }
  // gzip output is reproducible too (no mtime, no name in the header).
  EXPECT_EQ(testing::generateText(spec, "combined", true), testing::generateText(spec, "combined", true));
}

// Property: adding an abusive client does not change the base workload (separate named streams).
TEST(WorkloadGenerator, AbusiveClientsDoNotPerturbTheBaseWorkload) {
  const WorkloadSpec base = testing::poissonSpec(100, 200, 1.0, 30, 3);
  WorkloadSpec withAbuse = base;
  withAbuse.abusive.push_back(abusive(2, 50));
  const Collected a = collect(base);
  const Collected b = collect(withAbuse);
  std::vector<std::pair<core::Duration, std::string>> baseOnly;
  for (std::size_t i = 0; i < b.requests; ++i) {
    if (!b.abusive[i]) baseOnly.emplace_back(b.offsets[i], b.clients[i]);
  }
  ASSERT_EQ(baseOnly.size(), a.requests);
  for (std::size_t i = 0; i < a.requests; ++i) {
    ASSERT_EQ(baseOnly[i].first, a.offsets[i]) << i;
    ASSERT_EQ(baseOnly[i].second, a.clients[i]) << i;
  }
}

// Property: a count limit stops after exactly that many requests; with a duration too, whichever
// comes first.
TEST(WorkloadGenerator, CountLimit) {
  WorkloadSpec spec = testing::poissonSpec(100, 10, 1.0, 60);
  spec.duration.reset();
  spec.count = 123;
  EXPECT_EQ(collect(spec).requests, 123u);
  spec.duration = std::chrono::seconds(1);
  spec.count = 1'000'000;
  EXPECT_LT(collect(spec).requests, 200u);
}

// Property: diurnal hours are local: with time_zone +02:00 and a peak at 14:00 local, the busiest
// UTC hour is around 12:00; the per-hour counts follow the profile.
TEST(WorkloadGenerator, DiurnalHoursAreLocal) {
  WorkloadSpec spec;
  spec.zone = trace::ZoneOffset{120};
  trace::TraceTime start{};
  ASSERT_TRUE(trace::parseRfc3339("2024-03-01T00:00:00+02:00", spec.zone, start));
  spec.start = start;
  spec.duration = std::chrono::hours(24);
  GroupSpec g;
  g.clients = 100;
  g.arrivals.kind = ArrivalKind::kDiurnal;
  g.arrivals.rate = core::Rate{2, std::chrono::seconds(1)};
  g.arrivals.peakHour = 14;
  g.arrivals.peakRatio = 5;
  spec.groups.push_back(g);
  const Collected c = collect(spec);
  std::vector<double> perLocalHour(24, 0.0);
  for (const core::Duration& d : c.offsets) perLocalHour[static_cast<std::size_t>(d / std::chrono::hours(1))] += 1;
  const RateProfile profile = rateProfile(g.arrivals);
  for (std::size_t h = 0; h < 24; ++h) {
    const double expected = profile.integral(3600.0 * static_cast<double>(h), 3600.0 * static_cast<double>(h + 1));
    EXPECT_NEAR(perLocalHour[h], expected, kSigmas * std::sqrt(expected)) << "local hour " << h;
  }
  const auto busiest = std::max_element(perLocalHour.begin(), perLocalHour.end()) - perLocalHour.begin();
  EXPECT_NEAR(static_cast<double>(busiest), 13.5, 1.5);
}

// Property: an MMPP group through the generator keeps its long-run mean (shorthand form: mean
// `rate`, bursts burst_factor times the quiet rate).
TEST(WorkloadGenerator, MmppShorthandKeepsTheMeanRate) {
  WorkloadSpec spec = testing::poissonSpec(100, 100, 1.0, 3600);
  spec.groups[0].arrivals.kind = ArrivalKind::kMmpp;
  spec.groups[0].arrivals.burstFactor = 8;
  spec.groups[0].arrivals.burstLength = std::chrono::seconds(5);
  spec.groups[0].arrivals.burstGap = std::chrono::seconds(60);
  auto model = mmppModel(spec.groups[0].arrivals);
  ASSERT_TRUE(model.ok()) << model.error().message;
  EXPECT_NEAR(model.value().meanRate(), 100.0, 1e-9);
  ASSERT_EQ(model.value().rates().size(), 2u);
  EXPECT_NEAR(model.value().rates()[1] / model.value().rates()[0], 8.0, 1e-9);
  EXPECT_NEAR(model.value().stationary()[1], 5.0 / 65.0, 1e-12);
  const Collected c = collect(spec);
  const double horizon = 3600.0;
  EXPECT_NEAR(static_cast<double>(c.requests) / horizon, 100.0,
              kSigmas * std::sqrt(model.value().countVarianceRate() * horizon) / horizon);
}

// Property (regression): the MMPP shorthand has two states (0 quiet, 1 burst), so initial_state 1
// is valid and starts in a burst; 2 is refused with the real range (it used to refuse every
// initial state with an underflowed "0 to 18446744073709551615").
TEST(WorkloadGenerator, MmppShorthandInitialState) {
  WorkloadSpec spec = testing::poissonSpec(10, 10, 1.0, 10);
  spec.groups[0].arrivals.kind = ArrivalKind::kMmpp;
  spec.groups[0].arrivals.initialState = 1;
  EXPECT_TRUE(checkWorkloadSpec(spec).empty());
  spec.groups[0].arrivals.initialState = 2;
  const std::vector<SpecProblem> problems = checkWorkloadSpec(spec);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "groups[0].arrivals.initial_state");
  EXPECT_EQ(problems[0].allowed, "a state index from 0 to 1");
}

// Property: checkWorkloadSpec names the path of every problem and what is allowed, and collects
// them all.
TEST(WorkloadSpecCheck, ProblemsNamePathAndAllowed) {
  struct Case {
    const char* property;
    void (*mutate)(WorkloadSpec&);
    const char* path;
  };
  const Case cases[] = {
      {"no bound", [](WorkloadSpec& s) { s.duration.reset(); s.count.reset(); }, "duration"},
      {"zero clients", [](WorkloadSpec& s) { s.groups[0].clients = 0; }, "groups[0].clients"},
      {"negative zipf", [](WorkloadSpec& s) { s.groups[0].zipf = -1; }, "groups[0].zipf"},
      {"zero rate", [](WorkloadSpec& s) { s.groups[0].arrivals.rate = core::Rate{0, std::chrono::seconds(1)}; }, "groups[0].arrivals.rate"},
      {"burst factor < 1", [](WorkloadSpec& s) { s.groups[0].arrivals.kind = ArrivalKind::kMmpp; s.groups[0].arrivals.burstFactor = 0.5; }, "groups[0].arrivals.burst_factor"},
      {"peak hour 24", [](WorkloadSpec& s) { s.groups[0].arrivals.kind = ArrivalKind::kDiurnal; s.groups[0].arrivals.peakHour = 24; }, "groups[0].arrivals.peak_hour"},
      {"bad template", [](WorkloadSpec& s) { s.content.paths[0].pattern = "/x/{nope}"; }, "content.paths[0].path"},
      {"no groups", [](WorkloadSpec& s) { s.groups.clear(); }, "groups"},
      {"abusive count 0", [](WorkloadSpec& s) { s.abusive.push_back(abusive(0, 10)); }, "abusive[0].count"},
      {"on without off", [](WorkloadSpec& s) { AbusiveSpec a = abusive(1, 10); a.on = std::chrono::seconds(1); s.abusive.push_back(a); }, "abusive[0]"},
  };
  for (const Case& c : cases) {
    WorkloadSpec spec = testing::poissonSpec(10, 10, 1.0, 10);
    c.mutate(spec);
    const std::vector<SpecProblem> problems = checkWorkloadSpec(spec);
    ASSERT_FALSE(problems.empty()) << c.property;
    const bool found = std::any_of(problems.begin(), problems.end(), [&](const SpecProblem& p) { return p.path.starts_with(c.path); });
    EXPECT_TRUE(found) << c.property << ": first problem at " << problems.front().path << ": " << problems.front().message;
    for (const SpecProblem& p : problems) EXPECT_FALSE(p.message.empty()) << c.property;
    EXPECT_FALSE(WorkloadGenerator::make(spec).ok()) << c.property;
  }
  // All problems are collected, not just the first.
  WorkloadSpec two = testing::poissonSpec(10, 10, 1.0, 10);
  two.groups[0].clients = 0;
  two.groups[0].zipf = -1;
  EXPECT_GE(checkWorkloadSpec(two).size(), 2u);
  EXPECT_TRUE(checkWorkloadSpec(testing::poissonSpec(10, 10, 1.0, 10)).empty());
}

}  // namespace
}  // namespace gatelab::sim::workload
