#pragma once
// RouteSpec: one validated route, as the config layer hands it to the router compiler.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gatelab::core {

enum class PathMatch : std::uint8_t {
  kExact,   ///< the normalized path equals `path`
  kPrefix,  ///< `path` is a prefix ending on a segment boundary ("/api" matches "/api", "/api/x",
            ///< not "/apix")
  kRegex,   ///< the whole normalized path matches the regular expression (RE2 syntax)
};

struct HeaderPredicate {
  enum class Kind : std::uint8_t {
    kPresent,  ///< the header exists (any value)
    kAbsent,   ///< the header does not exist
    kIn,       ///< the header's value equals one of `values` (exact, case-sensitive)
    kRegex,    ///< the header's value fully matches `regex`
  };
  std::string name;  ///< case-insensitive field name
  Kind kind = Kind::kPresent;
  std::vector<std::string> values;
  std::string regex;
};

/// A service a route forwards to, with a weight for traffic splitting (canary 90/10).
struct WeightedService {
  std::string service;
  std::uint32_t weight = 1;
};

struct RouteSpec {
  std::string name;
  PathMatch pathKind = PathMatch::kPrefix;
  std::string path = "/";                 ///< for kExact/kPrefix: a normalized absolute path
  std::vector<std::string> methods;       ///< empty: any method
  std::vector<std::string> hosts;         ///< empty: any host; "*.example.com" wildcards allowed
  std::vector<HeaderPredicate> headers;   ///< all must hold
  std::optional<std::int32_t> priority;   ///< explicit priority; higher wins before specificity
  bool stripPath = false;                 ///< remove the matched prefix before forwarding
  std::vector<WeightedService> services;  ///< at least one; weights > 0
};

}  // namespace gatelab::core
