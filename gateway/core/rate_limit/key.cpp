#include "gateway/core/rate_limit/key.hpp"

#include <cstdint>
#include <optional>

namespace gatelab::core::ratelimit {

namespace {

void appendPart(std::string& out, char tag, std::string_view value) {
  out.push_back(tag);
  const auto n = static_cast<std::uint32_t>(value.size());
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((n >> shift) & 0xFFu));
  out.append(value);
}

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
  out.clear();
  for (const KeyComponent& c : components) {
    const char tag = static_cast<char>('A' + static_cast<int>(c.part));
    if (const auto v = valueOf(c, req, ctx)) {
      appendPart(out, tag, *v);
      continue;
    }
    switch (onMissing) {
      case MissingKey::kSkip:
        return false;
      case MissingKey::kShared:
        appendPart(out, kAnonymousTag, {});
        break;
      case MissingKey::kClientIp:
        // Tagged as a client IP, so it never equals a header value that happens to look like one.
        appendPart(out, static_cast<char>('A' + static_cast<int>(KeyPart::kClientIp)), req.clientAddress);
        break;
    }
  }
  return true;
}

}  // namespace gatelab::core::ratelimit
