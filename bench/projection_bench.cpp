// Response projection (backend-for-frontend shaping) per response body: a GitHub-API-like list of
// 30 repositories with nested owner and license objects (~21 KB compact, ~28 KB pretty-printed
// with two-space indentation as GitHub sends it), projected to a small mobile view (keep), with a
// deny-list (drop), with array caps, and through a projection that changes nothing (the
// validator/copier alone). For scale: nlohmann::json parse + dump of the same body (what a
// DOM-based projection costs at least, and it would reformat numbers).
// Run in Release: scripts/bench.sh (builds build-release/ and runs every *_bench).

#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/core/shaping/json_projection.hpp"

namespace {

using namespace gatelab::core;
using namespace gatelab::core::shaping;

std::string repoList(bool pretty) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (int i = 0; i < 30; ++i) {
    const std::string name = "project-" + std::to_string(i);
    const std::string login = "user" + std::to_string(i % 7);
    const std::string api = "https://api.github.com/repos/" + login + "/" + name;
    nlohmann::ordered_json owner = {
        {"login", login},
        {"id", 583231 + i % 7},
        {"avatar_url", "https://avatars.githubusercontent.com/u/583231?v=4"},
        {"url", "https://api.github.com/users/" + login},
        {"type", "User"},
        {"site_admin", false}};
    nlohmann::ordered_json repo = {
        {"id", 1296269 + i},
        {"name", name},
        {"full_name", login + "/" + name},
        {"private", false},
        {"owner", owner},
        {"description", "A \"gateway\" caf\u00e9 demo"},
        {"fork", i % 4 == 0},
        {"url", api},
        {"clone_url", "https://github.com/" + login + "/" + name + ".git"},
        {"language", i % 3 == 0 ? "C++" : "Python"},
        {"stargazers_count", 80 * i},
        {"forks_count", 9 * i},
        {"open_issues_count", i},
        {"score", 0.75 + i / 100.0},
        {"topics", {"api", "gateway", "proxy"}},
        {"license", {{"key", "mit"}, {"spdx_id", "MIT"}}},
        {"default_branch", "main"},
        {"updated_at", "2011-01-26T19:14:43Z"},
        {"pushed_at", "2011-01-26T19:06:43Z"},
        {"size", 108 + i}};
    list.push_back(repo);
  }
  return pretty ? list.dump(2) : list.dump();
}

const std::string& body(bool pretty) {
  static const std::string compact = repoList(false);
  static const std::string indented = repoList(true);
  return pretty ? indented : compact;
}

JsonProjection make(ProjectionSpec spec) {
  SpecErrors errors;
  return *JsonProjection::create(std::move(spec), errors);
}

// The mobile list view: 8 fields of each repository, 2 of them in the owner.
ProjectionSpec mobileSpec() {
  ProjectionSpec s;
  s.keep = {"[].id",       "[].name",           "[].full_name", "[].owner.login", "[].owner.avatar_url",
            "[].language", "[].stargazers_count", "[].updated_at"};
  return s;
}

void run(benchmark::State& state, const JsonProjection& p, bool pretty) {
  const std::string& in = body(pretty);
  std::string out;
  ProjectionResult r;
  for (auto _ : state) {
    r = p.apply(in, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
  state.counters["bytes_in"] = static_cast<double>(r.bytesIn);
  state.counters["bytes_out"] = static_cast<double>(r.bytesOut);
}

void BM_ProjectKeepMobile(benchmark::State& state) {
  static const JsonProjection p = make(mobileSpec());
  run(state, p, state.range(0) != 0);
}
BENCHMARK(BM_ProjectKeepMobile)->ArgName("pretty")->Arg(0)->Arg(1);

void BM_ProjectKeepMobileFirst10(benchmark::State& state) {
  static const JsonProjection p = [] {
    ProjectionSpec s = mobileSpec();
    s.arrayLimits = {{"$", 10}};
    return make(s);
  }();
  run(state, p, state.range(0) != 0);
}
BENCHMARK(BM_ProjectKeepMobileFirst10)->ArgName("pretty")->Arg(0)->Arg(1);

void BM_ProjectDropUrls(benchmark::State& state) {
  static const JsonProjection p = [] {
    ProjectionSpec s;
    s.drop = {"[].clone_url", "[].url", "[].owner.url", "[].license", "[].topics", "[].pushed_at"};
    s.maxArrayItems = 20;
    return make(s);
  }();
  run(state, p, state.range(0) != 0);
}
BENCHMARK(BM_ProjectDropUrls)->ArgName("pretty")->Arg(0)->Arg(1);

// Nothing removed: the cost of validating and copying (compacting) the body.
void BM_ProjectNothing(benchmark::State& state) {
  static const JsonProjection p = [] {
    ProjectionSpec s;
    s.drop = {"[].absent"};
    return make(s);
  }();
  run(state, p, state.range(0) != 0);
}
BENCHMARK(BM_ProjectNothing)->ArgName("pretty")->Arg(0)->Arg(1);

// For scale: a DOM round trip of the same body with nlohmann::json (no projection at all).
void BM_NlohmannParseDump(benchmark::State& state) {
  const std::string& in = body(state.range(0) != 0);
  std::string out;
  for (auto _ : state) {
    out = nlohmann::json::parse(in).dump();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}
BENCHMARK(BM_NlohmannParseDump)->ArgName("pretty")->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
