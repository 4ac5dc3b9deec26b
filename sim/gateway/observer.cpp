#include "sim/gateway/observer.hpp"

#include <cstring>

namespace gatelab::sim {
std::uint64_t ClientTable::hash(std::string_view identity) noexcept {
  // 8 bytes at a time, multiply and fold (a few ns for an IP address); its quality only affects
  // probe lengths, never results.
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  std::uint64_t h = 0x243F6A8885A308D3ULL ^ (identity.size() * kMul);
  std::size_t i = 0;
  for (; i + 8 <= identity.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, identity.data() + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  if (i < identity.size()) {
    std::uint64_t w = 0;
    std::memcpy(&w, identity.data() + i, identity.size() - i);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  h *= 0xBF58476D1CE4E5B9ULL;
  return h ^ (h >> 31);
}

bool ClientTable::matches(const Slot& s, std::uint32_t tag, std::string_view identity) const noexcept {
  if (s.tag != tag) return false;
  if (identity.size() <= kInline) return std::memcmp(s.bytes, identity.data(), identity.size()) == 0;
  return names_[s.id] == identity;
}

std::size_t ClientTable::probe(std::string_view identity, std::uint64_t hash, bool& found) const noexcept {
  const std::uint32_t tag = tagOf(hash, identity.size());
  std::size_t i = hash & mask_;
  for (;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.id == kEmpty) {
      found = false;
      return i;
    }
    if (matches(s, tag, identity)) {
      found = true;
      return i;
    }
  }
}

std::optional<ClientId> ClientTable::find(std::string_view identity) const noexcept {
  if (slots_.empty()) return std::nullopt;
  bool found = false;
  const std::size_t i = probe(identity, hash(identity), found);
  if (!found) return std::nullopt;
  return slots_[i].id;
}

ClientId ClientTable::intern(std::string_view identity, std::uint64_t hash) {
  if (!slots_.empty()) {
    bool found = false;
    const std::size_t i = probe(identity, hash, found);
    if (found) return slots_[i].id;
  }
  const auto id = static_cast<ClientId>(names_.size());
  names_.emplace_back(identity);
  hashes_.push_back(hash);
  if ((names_.size()) * 2 > slots_.size()) {
    grow();  // places every id, this one included
  } else {
    place(id);
  }
  return id;
}

void ClientTable::place(ClientId id) {
  const std::uint64_t h = hashes_[id];
  const std::string_view name = names_[id];
  std::size_t i = h & mask_;
  while (slots_[i].id != kEmpty) i = (i + 1) & mask_;
  Slot& s = slots_[i];
  s.id = id;
  s.tag = tagOf(h, name.size());
  if (name.size() <= kInline) std::memcpy(s.bytes, name.data(), name.size());
}

void ClientTable::grow() {
  const std::size_t n = slots_.empty() ? 64 : slots_.size() * 2;
  slots_.assign(n, Slot{});
  mask_ = n - 1;
  for (std::size_t id = 0; id < names_.size(); ++id) place(static_cast<ClientId>(id));
}

}  // namespace gatelab::sim
