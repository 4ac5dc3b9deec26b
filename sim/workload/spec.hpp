#pragma once
// WorkloadSpec: everything `gatelab trace gen` needs to generate a trace, as plain data. The YAML
// reader (spec_yaml.hpp) and the CLI flags both fill one in; checkWorkloadSpec() is the single
// place that decides what is valid, reporting every problem with the spec path it concerns
// ("groups[1].arrivals.states[0].rate") and what is allowed there.
//
// Shape (docs/traces.md, "Generating traces"):
//   a start time and zone, a duration and/or a request count, a seed;
//   client groups: N clients with Zipf(s) popularity, one arrival process for the whole group
//     (Poisson, MMPP or diurnal), each arrival assigned to a client by a Zipf draw;
//   abusive clients: K clients per entry, each with its own on-off arrival process;
//   request content (content.hpp): workload-wide, optionally replaced key by key per group or
//     abusive entry.
//
// Plain values; functions are pure and thread-safe.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/rate.hpp"
#include "gateway/core/time.hpp"
#include "sim/trace/trace_record.hpp"
#include "sim/trace/trace_time.hpp"
#include "sim/workload/arrival.hpp"
#include "sim/workload/content.hpp"

namespace gatelab::sim::workload {

/// Limits (checked; they keep memory and heap size bounded).
inline constexpr std::size_t kMaxGroups = 64;
inline constexpr std::size_t kMaxAbusiveEntries = 64;
inline constexpr std::uint64_t kMaxAbusiveClients = 100'000;  ///< over all entries
inline constexpr std::uint64_t kMaxClients = 10'000'000;      ///< over all groups (Zipf tables)
inline constexpr std::size_t kMaxChoices = 1000;               ///< entries per weighted list
inline constexpr std::size_t kMaxProfilePoints = 1000;

enum class ArrivalKind : std::uint8_t { kPoisson, kMmpp, kDiurnal };

struct MmppStateSpec {
  core::Rate rate;                        ///< arrivals per period in this state
  std::optional<core::Duration> sojourn;  ///< mean time per visit (sojourn form)
  friend bool operator==(const MmppStateSpec&, const MmppStateSpec&) = default;
};

struct ProfilePointSpec {
  core::Duration at{0};  ///< time of day, [0, 24h)
  core::Rate rate;       ///< count 0 allowed here (a quiet night)
  friend bool operator==(const ProfilePointSpec&, const ProfilePointSpec&) = default;
};

struct ArrivalSpec {
  ArrivalKind kind = ArrivalKind::kPoisson;
  core::Rate rate{100, std::chrono::seconds(1)};  ///< poisson: the rate; diurnal sinusoid: the daily mean
  // MMPP, explicit: states with rates, and either every state's sojourn (+ optional transition
  // probabilities) or a generator matrix (per second).
  // MMPP, shorthand (when `states` is empty): two states, quiet and burst, with long-run mean
  // `rate`; the burst state's rate is burstFactor times the quiet one; bursts last burstLength and
  // the quiet spells between them burstGap, both on average (exponential).
  double burstFactor = 5.0;
  core::Duration burstLength = std::chrono::seconds(10);
  core::Duration burstGap = std::chrono::minutes(2);
  std::vector<MmppStateSpec> states;
  std::vector<std::vector<double>> transitions;
  std::vector<std::vector<double>> generator;
  std::optional<std::size_t> initialState;
  // Diurnal: a sinusoid (rate = daily mean, peak hour, peak/trough ratio) or a profile.
  double peakHour = 14.0;
  double peakRatio = 3.0;
  std::vector<ProfilePointSpec> profile;
  friend bool operator==(const ArrivalSpec&, const ArrivalSpec&) = default;
};

struct GroupSpec {
  std::string name = "clients";
  std::uint64_t clients = 1000;
  double zipf = 1.0;  ///< Zipf exponent s >= 0 (0: all clients equally active)
  ArrivalSpec arrivals;
  ContentSpec content = defaultContent();  ///< usually WorkloadSpec::content, some keys replaced
  friend bool operator==(const GroupSpec&, const GroupSpec&) = default;
};

/// `base` with the user agents of scripts: what abusive clients send unless told otherwise.
[[nodiscard]] ContentSpec abusiveContent(ContentSpec base);

struct AbusiveSpec {
  std::string name = "abusive";
  std::uint64_t count = 1;  ///< clients in this entry
  core::Rate rate{50, std::chrono::seconds(1)};  ///< per client, while on
  AbusePattern pattern = AbusePattern::kConstant;
  std::optional<core::Duration> on;   ///< on/off cycle (both or neither)
  std::optional<core::Duration> off;
  core::Duration from{0};             ///< offset of the first possible request
  std::optional<core::Duration> until;
  ContentSpec content = abusiveContent(defaultContent());
  friend bool operator==(const AbusiveSpec&, const AbusiveSpec&) = default;
};

struct WorkloadSpec {
  std::uint64_t seed = 1;
  trace::TraceTime start = defaultStart();     ///< absolute time of offset 0
  trace::ZoneOffset zone{0};                   ///< local time: the diurnal hours and written log times
  std::optional<core::Duration> duration;      ///< generate [0, duration)
  std::optional<std::uint64_t> count;          ///< stop after this many requests (whichever first)
  ContentSpec content = defaultContent();      ///< workload-wide content (groups and abusive entries copy it)
  std::vector<GroupSpec> groups;
  std::vector<AbusiveSpec> abusive;
  friend bool operator==(const WorkloadSpec&, const WorkloadSpec&) = default;

  /// 2024-01-01T00:00:00Z: fixed, so nothing depends on when a trace is generated.
  [[nodiscard]] static trace::TraceTime defaultStart() noexcept;
};

/// One problem in a spec: where (a spec path), what is wrong, what is allowed.
struct SpecProblem {
  std::string path;
  std::string message;
  std::string allowed;
  friend bool operator==(const SpecProblem&, const SpecProblem&) = default;
};

/// Every problem of `spec` (empty when it can be generated). Checks ranges, weights, templates,
/// header names, the MMPP chain (via MmppModel), the diurnal profile, limits, and that a duration
/// or a count bounds the output.
[[nodiscard]] std::vector<SpecProblem> checkWorkloadSpec(const WorkloadSpec& spec);

/// The model a valid MMPP spec describes (precondition: kind kMmpp and checkWorkloadSpec clean
/// for it); the error otherwise.
[[nodiscard]] config::UnitResult<MmppModel> mmppModel(const ArrivalSpec& spec);
/// The diurnal profile of a valid spec.
[[nodiscard]] RateProfile rateProfile(const ArrivalSpec& spec);

/// Per-second value of a rate.
[[nodiscard]] inline double perSecond(const core::Rate& r) noexcept { return r.period.count() > 0 ? r.perSecond() : 0.0; }

/// Parses the CLI's "K@RATE[,poisson][,on=DUR,off=DUR][,from=DUR][,until=DUR]" ("3@50/s") into an
/// AbusiveSpec (content: the base content with script user agents).
[[nodiscard]] config::UnitResult<AbusiveSpec> parseAbusiveFlag(std::string_view text, const ContentSpec& base);
inline constexpr std::string_view kAbusiveFlagAllowed =
    "K@RATE[,poisson][,on=DURATION,off=DURATION][,from=DURATION][,until=DURATION], e.g. 3@50/s or 1@20/s,on=10s,off=50s";

}  // namespace gatelab::sim::workload
