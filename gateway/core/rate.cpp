#include "gateway/core/rate.hpp"

namespace gatelab::core {

std::string formatRate(const Rate& r) {
  using namespace std::chrono_literals;
  std::string out = std::to_string(r.count);
  if (r.period == 1s) return out + "/s";
  if (r.period == 1min) return out + "/min";
  if (r.period == 1h) return out + "/h";
  if (r.period == 24h) return out + "/day";
  return out + "/" + formatDuration(r.period);
}

}  // namespace gatelab::core
