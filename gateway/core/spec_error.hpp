#pragma once
// SpecError: one problem a core factory found in a policy spec, so that a config layer can report
// every problem of a spec at once (not just the first) with the YAML path in front.
//
// `field` is the path of the offending value relative to the spec, in the spec's own field
// names ("keys[2].key", "operations[0].value", "origins[1]"); the config layer maps it onto its
// YAML path. `message` says which rule failed and what is allowed. Never contains a secret: a
// factory that rejects a key names its position, not its text.

#include <string>
#include <vector>

namespace gatelab::core {

struct SpecError {
  std::string field{};
  std::string message{};
  friend bool operator==(const SpecError&, const SpecError&) = default;
};

using SpecErrors = std::vector<SpecError>;

}  // namespace gatelab::core
