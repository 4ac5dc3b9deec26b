// Fuzz target: JSON response projection (gateway/core/shaping/json_projection.hpp). Any bytes are
// either projected or refused with a status and an empty output, never a crash; every projection
// accepts or refuses the same bodies (they share one validator); a projection that removes
// nothing returns the body with the whitespace outside strings removed, byte for byte; a
// projected body is valid (it projects again, to itself: projections are idempotent) and never
// longer than the compact body.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/core/shaping/json_projection.hpp"

namespace {

using gatelab::core::SpecErrors;
using gatelab::core::shaping::JsonProjection;
using gatelab::core::shaping::ProjectionResult;
using gatelab::core::shaping::ProjectionSpec;
using gatelab::core::shaping::ProjectionStatus;

JsonProjection make(std::vector<std::string> keep, std::vector<std::string> drop, std::optional<std::uint32_t> cap,
                    std::vector<gatelab::core::shaping::ArrayLimitSpec> limits) {
  ProjectionSpec s;
  s.keep = std::move(keep);
  s.drop = std::move(drop);
  s.maxArrayItems = cap;
  s.arrayLimits = std::move(limits);
  SpecErrors errors;
  auto p = JsonProjection::create(std::move(s), errors);
  if (!p) std::abort();
  return std::move(*p);
}

const std::vector<JsonProjection>& projections() {
  static const std::vector<JsonProjection> all = [] {
    std::vector<JsonProjection> v;
    v.push_back(make({}, {"\x01never"}, std::nullopt, {}));  // removes nothing: index 0
    v.push_back(make({"id", "owner.login", "items[].id", "[].id", "m[][].x", "a"}, {}, std::nullopt, {}));
    v.push_back(make({}, {"internal", "items[].debug", "[].secret", "owner.email", "b"}, std::nullopt, {}));
    v.push_back(make({"owner", "items", "[].x"}, {"owner.email", "items[].debug"}, 1, {{"owner.repos", 2}, {"$", 3}}));
    v.push_back(make({}, {}, 0, {}));
    return v;
  }();
  return all;
}

// The body without whitespace outside strings (what a projection that removes nothing returns).
std::string compact(std::string_view in) {
  std::string out;
  bool inString = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (inString) {
      out.push_back(c);
      if (c == '\\' && i + 1 < in.size()) {
        out.push_back(in[++i]);
      } else if (c == '"') {
        inString = false;
      }
    } else if (c == '"') {
      inString = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out = "stale";
  const ProjectionResult first = projections()[0].apply(in, out);
  if (first.bytesIn != in.size()) std::abort();
  if (!first.applied()) {
    if (!out.empty() || first.bytesOut != in.size() || first.errorOffset > in.size()) std::abort();
  } else if (out != compact(in) || first.bytesOut != out.size()) {
    std::abort();
  }
  const std::string whole = out;
  for (std::size_t k = 1; k < projections().size(); ++k) {
    const JsonProjection& p = projections()[k];
    const ProjectionResult r = p.apply(in, out);
    if (r.status != first.status) std::abort();
    if (!r.applied()) {
      if (!out.empty()) std::abort();
      continue;
    }
    if (out.size() > whole.size() || r.bytesOut != out.size()) std::abort();
    std::string again;
    if (!p.apply(out, again).applied() || again != out) std::abort();
  }
  return 0;
}
