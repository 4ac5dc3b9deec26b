#include "gateway/core/rate_limit/key.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

namespace gatelab::core::ratelimit {

namespace {

std::optional<std::string_view> valueOf(const KeyComponent& c, const RequestView& req, const KeyContext& ctx) {
  std::optional<std::string_view> v;
  switch (c.part) {
    case KeyPart::kClientIp: v = req.clientAddress; break;
    case KeyPart::kHeader: v = req.header(c.name); break;
    case KeyPart::kConsumer: v = req.consumer; break;
    case KeyPart::kJwtClaim: v = req.claim(c.name); break;
    case KeyPart::kRoute: v = ctx.route; break;
    case KeyPart::kService: v = ctx.service; break;
    case KeyPart::kGlobal: v = std::string_view{}; return v;  // always present, always the same
  }
  if (v && v->empty()) v.reset();
  return v;
}

constexpr char kAnonymousTag = '\x7f';

}  // namespace

bool buildKey(std::span<const KeyComponent> components, MissingKey onMissing, const RequestView& req,
              const KeyContext& ctx, std::string& out) {
  // Resolve every part first, then write the key with one resize and one copy per part: this
  // runs once per request per policy, so it avoids per-byte appends.
  constexpr std::size_t kInline = 8;
  struct Part {
    char tag;
    std::string_view value;
  };
  std::array<Part, kInline> inlineParts;
  std::vector<Part> manyParts;
  const bool many = components.size() > kInline;
  if (many) manyParts.resize(components.size());
  Part* parts = many ? manyParts.data() : inlineParts.data();
  std::size_t total = 0;
  for (std::size_t i = 0; i < components.size(); ++i) {
    const KeyComponent& c = components[i];
    Part p{static_cast<char>('A' + static_cast<int>(c.part)), {}};
    if (const auto v = valueOf(c, req, ctx)) {
      p.value = *v;
    } else {
      switch (onMissing) {
        case MissingKey::kSkip:
          out.clear();
          return false;
        case MissingKey::kShared:
          p.tag = kAnonymousTag;
          break;
        case MissingKey::kClientIp:
          // Tagged as a client IP, so it never equals a header value that happens to look like one.
          p.tag = static_cast<char>('A' + static_cast<int>(KeyPart::kClientIp));
          p.value = req.clientAddress;
          break;
      }
    }
    parts[i] = p;
    total += 5 + p.value.size();
  }
  out.resize(total);
  char* w = out.data();
  for (std::size_t i = 0; i < components.size(); ++i) {
    const Part& p = parts[i];
    const auto n = static_cast<std::uint32_t>(p.value.size());
    *w++ = p.tag;
    for (int shift = 0; shift < 32; shift += 8) *w++ = static_cast<char>((n >> shift) & 0xFFu);
    if (n > 0) std::memcpy(w, p.value.data(), n);
    w += n;
  }
  return true;
}

}  // namespace gatelab::core::ratelimit
