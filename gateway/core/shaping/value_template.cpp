#include "gateway/core/shaping/value_template.hpp"

#include <algorithm>

#include "gateway/core/http_field.hpp"

namespace gatelab::core::shaping {

namespace {

struct SimpleVariable {
  std::string_view name;
  TemplateVariable variable;
};

constexpr std::array<SimpleVariable, 7> kSimple = {{
    {"uuid", TemplateVariable::kUuid},
    {"client_ip", TemplateVariable::kClientIp},
    {"consumer", TemplateVariable::kConsumer},
    {"route", TemplateVariable::kRoute},
    {"service", TemplateVariable::kService},
    {"method", TemplateVariable::kMethod},
    {"host", TemplateVariable::kHost},
}};

constexpr std::string_view kClaimPrefix = "jwt.";
constexpr std::string_view kHeaderPrefix = "header.";
constexpr std::string_view kKnown =
    "uuid, client_ip, consumer, route, service, method, host, jwt.<claim>, header.<name>";

bool isClaimChar(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7F && c != '(' && c != ')' && c != '$';
}

/// Printable form of `s` for messages: at most 40 bytes, non-printable bytes as '?'.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7F ? c : '?');
  }
  if (s.size() > 40) out += "...";
  return out;
}

}  // namespace

const char* toString(RenderStatus s) noexcept {
  switch (s) {
    case RenderStatus::kOk: return "ok";
    case RenderStatus::kUnsafeValue: return "unsafe_value";
    case RenderStatus::kTooLong: return "too_long";
  }
  return "?";
}

std::optional<ValueTemplate> ValueTemplate::compile(std::string_view source, TemplateError& error) {
  if (source.size() > kMaxTemplateBytes) {
    error = {kMaxTemplateBytes, "a template may be at most " + std::to_string(kMaxTemplateBytes) + " bytes long, got " +
                                    std::to_string(source.size())};
    return std::nullopt;
  }
  ValueTemplate t;
  t.source_.assign(source);
  std::string literal;
  auto flushLiteral = [&] {
    if (literal.empty()) return;
    t.pieces_.push_back(Piece{true, TemplateVariable::kUuid, std::move(literal), {}});
    literal.clear();
  };

  for (std::size_t i = 0; i < source.size();) {
    const char c = source[i];
    if (c != '$') {
      if (findUnsafeFieldByte(std::string_view(&c, 1))) {
        error = {i, describeUnsafeByte(c) + " at offset " + std::to_string(i) +
                        " is not allowed in a header value (control characters could split or truncate the field)"};
        return std::nullopt;
      }
      literal.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 < source.size() && source[i + 1] == '$') {
      literal.push_back('$');
      i += 2;
      continue;
    }
    if (i + 1 >= source.size() || source[i + 1] != '(') {
      error = {i, "'$' at offset " + std::to_string(i) + " must start a variable \"$(name)\" or be escaped as \"$$\""};
      return std::nullopt;
    }
    const std::size_t close = source.find(')', i + 2);
    if (close == std::string_view::npos) {
      error = {i, "\"$(\" at offset " + std::to_string(i) + " is not closed by ')'"};
      return std::nullopt;
    }
    const std::string_view name = source.substr(i + 2, close - (i + 2));
    const std::size_t nameOffset = i + 2;
    Piece piece{false, TemplateVariable::kUuid, {}, std::string(name)};
    if (name.empty()) {
      error = {i, "empty variable \"$()\" at offset " + std::to_string(i) + "; known: " + std::string(kKnown)};
      return std::nullopt;
    }
    const auto simple = std::find_if(kSimple.begin(), kSimple.end(), [&](const SimpleVariable& v) { return v.name == name; });
    if (simple != kSimple.end()) {
      piece.variable = simple->variable;
    } else if (name.starts_with(kClaimPrefix)) {
      const std::string_view claim = name.substr(kClaimPrefix.size());
      const auto bad = std::find_if_not(claim.begin(), claim.end(), isClaimChar);
      if (claim.empty() || bad != claim.end()) {
        const std::size_t at = nameOffset + kClaimPrefix.size() + static_cast<std::size_t>(bad - claim.begin());
        error = {at, claim.empty() ? "\"$(jwt.)\" at offset " + std::to_string(i) + " names no claim; write $(jwt.sub)"
                                   : "claim name \"" + shown(claim) + "\" at offset " + std::to_string(nameOffset) +
                                         " may hold visible ASCII without '(' ')' '$' only"};
        return std::nullopt;
      }
      piece.variable = TemplateVariable::kClaim;
      piece.text.assign(claim);
    } else if (name.starts_with(kHeaderPrefix)) {
      const std::string_view field = name.substr(kHeaderPrefix.size());
      if (!isToken(field)) {
        error = {nameOffset + kHeaderPrefix.size(),
                 "field name \"" + shown(field) + "\" at offset " + std::to_string(nameOffset + kHeaderPrefix.size()) +
                     " is not an RFC 9110 token"};
        return std::nullopt;
      }
      piece.variable = TemplateVariable::kHeader;
      piece.text.assign(field);
    } else {
      error = {nameOffset, "unknown variable \"" + shown(name) + "\" at offset " + std::to_string(nameOffset) +
                               "; known: " + std::string(kKnown)};
      return std::nullopt;
    }
    flushLiteral();
    t.usedMask_ |= 1u << static_cast<unsigned>(piece.variable);
    ++t.variableCount_;
    t.pieces_.push_back(std::move(piece));
    i = close + 1;
  }
  flushLiteral();
  return t;
}

bool ValueTemplate::uses(TemplateVariable v) const noexcept {
  return (usedMask_ & (1u << static_cast<unsigned>(v))) != 0;
}

RenderResult ValueTemplate::render(const TemplateContext& ctx, std::string& out) const {
  out.clear();
  for (const Piece& p : pieces_) {
    if (p.literal) {
      out += p.text;
    } else {
      std::string_view value;
      switch (p.variable) {
        case TemplateVariable::kUuid: value = ctx.uuid; break;
        case TemplateVariable::kClientIp: value = ctx.request.clientAddress; break;
        case TemplateVariable::kConsumer: value = ctx.request.consumer; break;
        case TemplateVariable::kRoute: value = ctx.route; break;
        case TemplateVariable::kService: value = ctx.service; break;
        case TemplateVariable::kMethod: value = ctx.request.method; break;
        case TemplateVariable::kHost: value = ctx.request.host; break;
        case TemplateVariable::kClaim: value = ctx.request.claim(p.text).value_or(std::string_view{}); break;
        case TemplateVariable::kHeader: value = ctx.request.header(p.text).value_or(std::string_view{}); break;
      }
      if (findUnsafeFieldByte(value)) {
        out.clear();
        return {RenderStatus::kUnsafeValue, p.spelled};
      }
      if (out.size() + value.size() > kMaxRenderedBytes) {
        out.clear();
        return {RenderStatus::kTooLong, p.spelled};
      }
      out += value;
    }
    if (out.size() > kMaxRenderedBytes) {
      out.clear();
      return {RenderStatus::kTooLong, {}};
    }
  }
  return {};
}

std::array<char, 36> formatUuidV4(std::uint64_t high, std::uint64_t low) noexcept {
  high = (high & ~0xF000ull) | 0x4000ull;                       // version 4 in bits 48-51
  low = (low & ~(0xC000000000000000ull)) | 0x8000000000000000ull;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::array<char, 36> out{};
  std::size_t pos = 0;
  auto put = [&](std::uint64_t v, int nibbles) {
    for (int n = nibbles - 1; n >= 0; --n) out[pos++] = kHex[(v >> (4 * n)) & 0xF];
  };
  put(high >> 32, 8);
  out[pos++] = '-';
  put((high >> 16) & 0xFFFF, 4);
  out[pos++] = '-';
  put(high & 0xFFFF, 4);
  out[pos++] = '-';
  put(low >> 48, 4);
  out[pos++] = '-';
  put(low & 0xFFFFFFFFFFFFull, 12);
  return out;
}

}  // namespace gatelab::core::shaping
