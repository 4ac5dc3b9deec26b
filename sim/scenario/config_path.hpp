#pragma once
// INTERNAL to sim/scenario: the syntax of a variant's override path, e.g.
// "routes[api].policies[0].rate_limit.limits[0]". Pure functions, thread-safe.
//
//   path     := first { '.' KEY | '[' SELECTOR ']' }
//   first    := KEY | '[' SELECTOR ']'
//   KEY      := one or more characters other than '.', '[' and ']'
//   SELECTOR := one or more characters other than ']'
// A selector on a list is an index (decimal) or the name of an item (see variant_config.cpp); on a
// mapping it is a key, which lets a key contain dots.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatelab::sim::scenario::detail {

struct PathStep {
  bool selector = false;  ///< written in brackets
  std::string text;       ///< the key or the selector, without brackets
};

/// What parseConfigPath accepts, for messages.
inline constexpr std::string_view kConfigPathAllowed =
    "a config path: keys joined by '.', list items by [INDEX] or [NAME], e.g. "
    "routes[api].policies[0].rate_limit.algorithm";

/// The steps of `path`, or nullopt with `error` saying what is wrong.
[[nodiscard]] inline std::optional<std::vector<PathStep>> parseConfigPath(std::string_view path, std::string* error) {
  std::vector<PathStep> steps;
  std::size_t i = 0;
  const auto failWith = [error](std::string message) {
    if (error != nullptr) *error = std::move(message);
    return std::nullopt;
  };
  if (path.empty()) return failWith("empty config path");
  bool first = true;
  while (i < path.size()) {
    if (path[i] == '[') {
      const std::size_t close = path.find(']', i + 1);
      if (close == std::string_view::npos) return failWith("missing ']' after '[' at offset " + std::to_string(i));
      if (close == i + 1) return failWith("empty [] at offset " + std::to_string(i));
      steps.push_back(PathStep{true, std::string(path.substr(i + 1, close - i - 1))});
      i = close + 1;
    } else {
      if (!first) {
        if (path[i] != '.') return failWith("expected '.' or '[' at offset " + std::to_string(i));
        ++i;
      }
      const std::size_t start = i;
      while (i < path.size() && path[i] != '.' && path[i] != '[' && path[i] != ']') ++i;
      if (i == start) return failWith("empty key at offset " + std::to_string(start));
      steps.push_back(PathStep{false, std::string(path.substr(start, i - start))});
    }
    first = false;
  }
  return steps;
}

}  // namespace gatelab::sim::scenario::detail
