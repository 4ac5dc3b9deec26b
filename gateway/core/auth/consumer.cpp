#include "gateway/core/auth/consumer.hpp"

#include <algorithm>

namespace gatelab::core::auth {

namespace {

bool isVchar(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7F;
}

}  // namespace

std::optional<std::string> checkGroupName(std::string_view g) {
  if (g.empty()) return "a group name may not be empty";
  if (g.size() > kMaxConsumerIdBytes) {
    return "a group name may be at most " + std::to_string(kMaxConsumerIdBytes) + " bytes long";
  }
  for (char c : g) {
    if (!isVchar(c)) return "a group name may hold visible characters only (no spaces or controls)";
    if (c == ',') return "a group name may not contain ',' (X-Consumer-Groups is a comma-separated list)";
  }
  return std::nullopt;
}

std::shared_ptr<const ConsumerRegistry> ConsumerRegistry::create(std::vector<Consumer> consumers, SpecErrors& errors) {
  const std::size_t before = errors.size();
  for (std::size_t i = 0; i < consumers.size(); ++i) {
    const std::string field = "consumers[" + std::to_string(i) + "]";
    const std::string& id = consumers[i].id;
    if (id.empty()) {
      errors.push_back({field + ".id", "a consumer id may not be empty"});
    } else if (id.size() > kMaxConsumerIdBytes) {
      errors.push_back({field + ".id", "a consumer id may be at most " + std::to_string(kMaxConsumerIdBytes) + " bytes long"});
    } else if (!std::all_of(id.begin(), id.end(), isVchar)) {
      errors.push_back({field + ".id", "a consumer id may hold visible characters only (no spaces or controls)"});
    }
    for (std::size_t j = 0; j < consumers[i].groups.size(); ++j) {
      if (auto problem = checkGroupName(consumers[i].groups[j])) {
        errors.push_back({field + ".groups[" + std::to_string(j) + "]", *problem});
      }
    }
  }
  // Duplicates are reported against the later entry, naming the earlier one.
  std::vector<std::size_t> order(consumers.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return consumers[a].id < consumers[b].id; });
  for (std::size_t k = 1; k < order.size(); ++k) {
    const Consumer& prev = consumers[order[k - 1]];
    const Consumer& cur = consumers[order[k]];
    if (!cur.id.empty() && cur.id == prev.id) {
      errors.push_back({"consumers[" + std::to_string(order[k]) + "].id",
                        "duplicate consumer id \"" + cur.id + "\" (also consumers[" + std::to_string(order[k - 1]) + "])"});
    }
  }
  if (errors.size() != before) return nullptr;

  for (Consumer& c : consumers) {
    std::vector<std::string> unique;
    for (std::string& g : c.groups) {
      if (std::find(unique.begin(), unique.end(), g) == unique.end()) unique.push_back(std::move(g));
    }
    c.groups = std::move(unique);
  }
  std::sort(consumers.begin(), consumers.end(), [](const Consumer& a, const Consumer& b) { return a.id < b.id; });
  return std::shared_ptr<const ConsumerRegistry>(new ConsumerRegistry(std::move(consumers)));
}

const Consumer* ConsumerRegistry::find(std::string_view id) const noexcept {
  const auto it = std::lower_bound(consumers_.begin(), consumers_.end(), id,
                                   [](const Consumer& c, std::string_view key) { return std::string_view(c.id) < key; });
  if (it == consumers_.end() || it->id != id) return nullptr;
  return &*it;
}

}  // namespace gatelab::core::auth
