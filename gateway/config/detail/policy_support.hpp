#pragma once
// INTERNAL to gateway/config: pieces shared by the access and shaping builders (consumers,
// identity_headers, jwt, key_auth, acl, cors, request_headers / response_headers).
//
// - SpecFieldMap reports a core factory's SpecErrors (gateway/core/spec_error.hpp: a field path
//   relative to the spec, in the spec's own names such as "methodScopes[0].scopes[1]") at the YAML
//   node that holds the value (routes[0].policies[2].acl.method_scopes[0].scopes[1]).
// - readStringList reads a list of strings with one check per item and no duplicates.
// - readConfigFile reads a small file named in the config (a PEM key, a JWKS document).

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/config/detail/yaml_reader.hpp"
#include "gateway/core/spec_error.hpp"

namespace gatelab::config::detail {

/// Where each field of one core spec was written.
class SpecFieldMap {
 public:
  /// `fallback`: the node errors point at when no recorded field encloses theirs (the policy's
  /// body); `allowed`: the allowed-text of such errors.
  SpecFieldMap(Node fallback, std::string allowed);

  /// Records that the spec's `field` ("origins[1]", "maxAge") was read from `node`; errors about
  /// it (or about a field inside it) carry `allowed`.
  void add(std::string field, const Node& node, std::string allowed);

  /// Replaces `from` with `to` in every reported message: core messages that name another field
  /// in the spec's vocabulary ("(also sources[0])") then read in the YAML's.
  void renameInMessages(std::string from, std::string to);

  /// Reports each error at the node of its field, or of the nearest recorded field enclosing it
  /// ("methodScopes[0].methods[2]" -> "methodScopes[0].methods" -> "methodScopes[0]"), or at the
  /// fallback.
  void report(Sink& sink, const core::SpecErrors& errors) const;

 private:
  struct Entry {
    std::string field;
    Node node;
    std::string allowed;
  };
  [[nodiscard]] const Entry* find(std::string_view field) const noexcept;

  Node fallback_;
  std::string fallbackAllowed_;
  std::vector<Entry> entries_;
  std::vector<std::pair<std::string, std::string>> renames_;
};

/// One item of a list read by readStringList, with where it was written.
struct StringItem {
  std::string value;
  Node node;
};

/// Checks one item's text: an empty string when it is fine, else the reason (one line).
using ItemCheck = std::function<std::string(const std::string&)>;

/// Reads a list of strings. Each item must be a string (non-empty) that passes `check` (when
/// given); an item equal to an earlier one (ASCII case-insensitively with `ignoreCase`) is an
/// error naming the first ("duplicate WHAT "x"; first at L:C"). Returns the good items, or nullopt
/// when `node` is not a list (or is empty and !allowEmpty).
[[nodiscard]] std::optional<std::vector<StringItem>> readStringList(Sink& sink, const Node& node, std::string_view what,
                                                                    std::string_view allowed, bool allowEmpty,
                                                                    const ItemCheck& check = {},
                                                                    bool ignoreCase = false);

/// The values of `items`, in order.
[[nodiscard]] std::vector<std::string> valuesOf(const std::vector<StringItem>& items);

/// The contents of a file named in the config, or the reason it cannot be read ("no such
/// file", "it is a directory", "not a regular file", "larger than the limit of N bytes", an OS
/// error). Only regular files are opened (never a device or a FIFO that could block the load).
struct FileText {
  std::optional<std::string> text;
  std::string error;
};
[[nodiscard]] FileText readConfigFile(const std::string& path, std::size_t maxBytes);

/// The largest key file (PEM or JWKS) read at load.
inline constexpr std::size_t kMaxKeyFileBytes = 1024 * 1024;

/// "an RFC 9110 token"-style check for header field names: "" when `name` is a token.
[[nodiscard]] std::string checkFieldName(const std::string& name);

/// Records each item of a list read by readStringList as the spec's field FIELD[i] (and the list
/// itself as FIELD), so core errors on an item point at its YAML node.
void addItems(SpecFieldMap& fields, const std::string& field, const Node& list, const std::vector<StringItem>& items,
              std::string_view allowed);

/// Reads an auth policy's `realm` (for WWW-Authenticate): 1-128 printable ASCII characters
/// without '"' and '\'. nullopt (and an error) when invalid.
[[nodiscard]] std::optional<std::string> readRealm(Sink& sink, const Node& node);

}  // namespace gatelab::config::detail
