// Fuzz target: durations, rates, addresses. Any bytes give a value or a message, never a crash;
// accepted values are in range.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/config/address.hpp"
#include "gateway/config/units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto d = gatelab::config::parseDuration(in); d.ok() && d.value().count() < 0) std::abort();
  if (auto r = gatelab::config::parseRate(in); r.ok() && (r.value().count == 0 || r.value().period.count() <= 0)) std::abort();
  (void)gatelab::config::parsePercent(in);
  (void)gatelab::config::parseHostPort(in);
  if (auto u = gatelab::config::parseTargetUrl(in); u.ok() && u.value().port == 0) std::abort();
  return 0;
}
