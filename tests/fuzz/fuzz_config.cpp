// Fuzz target: the config loader and runtime builder. Any bytes give a config or diagnostics,
// never a crash; a config that loads also builds (its services, consumers and policies always; the
// router unless RE2 rejects a regex), and diagnostics always carry a message.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  gatelab::config::LoadResult r = gatelab::config::loadConfigString(in, "<fuzz>");
  if (r.ok() != r.diagnostics.empty()) std::abort();
  for (const auto& d : r.diagnostics) {
    if (d.message.empty()) std::abort();
  }
  if (r.ok()) {
    // A loaded config's services, consumers and policies always build (the loader ran the
    // resilience and policy cores' checks); only the router ("routes") can still fail on RE2.
    gatelab::config::BuildResult b = gatelab::config::buildRuntime(r.config);
    for (const auto& d : b.diagnostics) {
      if (d.path.rfind("services", 0) == 0 || d.path.rfind("routes[", 0) == 0 || d.path.rfind("consumers", 0) == 0) {
        std::abort();
      }
    }
  }
  return 0;
}
