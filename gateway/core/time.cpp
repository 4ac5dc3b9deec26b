#include "gateway/core/time.hpp"

#include <array>
#include <cstdlib>

namespace gatelab::core {

std::string formatDuration(Duration d) {
  using std::chrono::nanoseconds;
  std::int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out.push_back('-');
    ns = -ns;  // durations near INT64_MIN are not produced by the core
  }
  // Largest units first; emit every non-zero component so the text is exact ("1m30s", "1s250ms").
  struct Unit {
    std::int64_t ns;
    const char* suffix;
  };
  static constexpr std::array<Unit, 7> kUnits{{{3'600'000'000'000, "h"},
                                               {60'000'000'000, "m"},
                                               {1'000'000'000, "s"},
                                               {1'000'000, "ms"},
                                               {1'000, "us"},
                                               {1, "ns"},
                                               {0, ""}}};
  for (const Unit& u : kUnits) {
    if (u.ns == 0) break;
    if (ns >= u.ns) {
      out += std::to_string(ns / u.ns);
      out += u.suffix;
      ns %= u.ns;
    }
  }
  return out;
}

}  // namespace gatelab::core
