// Fuzz target: path normalization. Invariants on success: absolute, no empty, "." or ".."
// segments, idempotent; never crashes on any bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/core/path.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out;
  if (gatelab::core::normalizePath(in, out) != gatelab::core::PathStatus::kOk) return 0;
  if (out.empty() || out[0] != '/') std::abort();
  if (out.find("//") != std::string::npos) std::abort();
  if (out.find("/./") != std::string::npos || out.find("/../") != std::string::npos) std::abort();
  if (out.size() >= 2 && (out.ends_with("/.") || out.ends_with("/.."))) std::abort();
  std::string again;
  if (gatelab::core::normalizePath(out, again) != gatelab::core::PathStatus::kOk || again != out) std::abort();
  return 0;
}
