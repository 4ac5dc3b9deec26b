#include "gateway/core/auth/identity.hpp"

#include <algorithm>

#include "gateway/core/request.hpp"

namespace gatelab::core::auth {

const char* toString(IdentityField f) noexcept {
  switch (f) {
    case IdentityField::kConsumerId: return "consumer_id";
    case IdentityField::kGroups: return "groups";
    case IdentityField::kCredential: return "credential";
    case IdentityField::kAnonymous: return "anonymous";
    case IdentityField::kUserId: return "user_id";
    case IdentityField::kScopes: return "scopes";
  }
  return "?";
}

std::optional<IdentityPolicy> IdentityPolicy::create(IdentitySpec spec, SpecErrors& errors) {
  const std::size_t before = errors.size();
  if (spec.names.size() != kIdentityFieldCount) {
    errors.push_back({"names", "exactly " + std::to_string(kIdentityFieldCount) +
                                   " names are expected (consumer_id, groups, credential, anonymous, user_id, scopes), got " +
                                   std::to_string(spec.names.size())});
  }
  std::vector<std::pair<std::string, std::string>> seen;  // (name, field) for duplicate checks
  auto checkName = [&](const std::string& n, const std::string& field, bool allowEmpty) {
    if (n.empty()) {
      if (!allowEmpty) errors.push_back({field, "a field name may not be empty"});
      return;
    }
    if (!isToken(n)) {
      errors.push_back({field, "a field name must be an RFC 9110 token, got \"" + n + "\""});
      return;
    }
    for (const auto& [other, otherField] : seen) {
      if (equalsIgnoreCase(other, n)) {
        errors.push_back({field, "\"" + n + "\" is already used by " + otherField});
        return;
      }
    }
    seen.emplace_back(n, field);
  };
  for (std::size_t i = 0; i < spec.names.size(); ++i) checkName(spec.names[i], "names[" + std::to_string(i) + "]", true);
  for (std::size_t i = 0; i < spec.stripOnly.size(); ++i) {
    checkName(spec.stripOnly[i], "stripOnly[" + std::to_string(i) + "]", false);
  }
  if (errors.size() != before) return std::nullopt;

  IdentityPolicy p;
  p.names_ = std::move(spec.names);
  for (const std::string& n : p.names_) {
    if (!n.empty()) p.strip_.push_back(n);
  }
  for (std::string& n : spec.stripOnly) p.strip_.push_back(std::move(n));
  return p;
}

bool IdentityPolicy::isIdentityField(std::string_view name) const noexcept {
  return std::any_of(strip_.begin(), strip_.end(), [&](const std::string& n) { return equalsIgnoreCase(n, name); });
}

IdentityHeaders IdentityPolicy::headersFor(const Identity& identity) const {
  IdentityHeaders out;
  out.remove = strip_;
  auto put = [&](IdentityField f, std::string value) {
    const std::string& n = name(f);
    if (n.empty() || value.empty()) return;
    if (!isSafeFieldValue(value)) {
      out.unsafe = static_cast<std::uint8_t>(out.unsafe | (1u << static_cast<unsigned>(f)));
      return;
    }
    out.add.push_back({n, std::move(value)});
  };

  put(IdentityField::kConsumerId, std::string(identity.consumerId));
  if (!name(IdentityField::kGroups).empty() && !identity.groups.empty()) {
    std::string joined;
    bool ok = true;
    for (const std::string& g : identity.groups) {
      if (g.empty()) continue;
      if (g.find(',') != std::string::npos) ok = false;
      if (!joined.empty()) joined += ", ";
      joined += g;
    }
    if (ok) {
      put(IdentityField::kGroups, std::move(joined));
    } else {
      out.unsafe = static_cast<std::uint8_t>(out.unsafe | (1u << static_cast<unsigned>(IdentityField::kGroups)));
    }
  }
  put(IdentityField::kCredential, std::string(identity.credential));
  if (identity.anonymous) put(IdentityField::kAnonymous, "true");
  put(IdentityField::kUserId, std::string(identity.userId));
  put(IdentityField::kScopes, std::string(identity.scopes));
  return out;
}

std::uint8_t IdentityPolicy::apply(const Identity& identity, HeaderList& fields) const {
  IdentityHeaders h = headersFor(identity);
  fields.erase(std::remove_if(fields.begin(), fields.end(), [&](const HeaderField& f) { return isIdentityField(f.name); }),
               fields.end());
  for (HeaderField& f : h.add) fields.push_back(std::move(f));
  return h.unsafe;
}

}  // namespace gatelab::core::auth
