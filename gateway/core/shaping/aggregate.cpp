#include "gateway/core/shaping/aggregate.hpp"

#include <nlohmann/json.hpp>

namespace gatelab::core::shaping {
namespace {

bool isNameChar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool isHex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// RFC 3986 pchar plus '/': unreserved, sub-delims, ':' and '@', and %-escapes.
bool isPathChar(char c) noexcept {
  if (isNameChar(c) || c == '.' || c == '~' || c == '/' || c == ':' || c == '@') return true;
  switch (c) {
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';': case '=':
      return true;
    default: return false;
  }
}

std::string checkPath(std::string_view path) {
  if (path.empty() || path.front() != '/') return "must start with '/'";
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '?') return "must not hold a query ('?'): set forward_query to send the client's";
    if (c == '%') {
      if (i + 2 >= path.size() || !isHex(path[i + 1]) || !isHex(path[i + 2]))
        return "has a '%' not followed by two hex digits at offset " + std::to_string(i);
      i += 2;
      continue;
    }
    if (!isPathChar(c)) return "has a character not allowed in a URL path at offset " + std::to_string(i);
  }
  return {};
}

std::string_view trim(std::string_view s) noexcept {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

const char* toString(PartFailure f) noexcept {
  switch (f) {
    case PartFailure::kFail: return "fail";
    case PartFailure::kNull: return "null";
    case PartFailure::kOmit: return "omit";
  }
  return "fail";
}

std::optional<PartFailure> partFailureFromName(std::string_view name) noexcept {
  if (name == "fail") return PartFailure::kFail;
  if (name == "null") return PartFailure::kNull;
  if (name == "omit") return PartFailure::kOmit;
  return std::nullopt;
}

bool validateAggregate(const AggregateSpec& spec, SpecErrors& errors) {
  const std::size_t before = errors.size();
  if (spec.parts.empty() || spec.parts.size() > kMaxAggregateParts) {
    errors.push_back({"parts", "an aggregate needs 1 to " + std::to_string(kMaxAggregateParts) + " parts, not " +
                                   std::to_string(spec.parts.size())});
  }
  for (std::size_t i = 0; i < spec.parts.size(); ++i) {
    const AggregatePart& p = spec.parts[i];
    const std::string at = "parts[" + std::to_string(i) + "]";
    if (p.name.empty() || p.name.size() > kMaxPartNameBytes) {
      errors.push_back({at + ".name", "a part name has 1 to " + std::to_string(kMaxPartNameBytes) + " characters"});
    } else {
      for (char c : p.name) {
        if (!isNameChar(c)) {
          errors.push_back({at + ".name", "part name \"" + p.name + "\" may hold only letters, digits, '_' and '-'"});
          break;
        }
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (spec.parts[j].name == p.name && !p.name.empty()) {
        errors.push_back({at + ".name", "part name \"" + p.name + "\" is used twice (also parts[" + std::to_string(j) +
                                            "]): each part is one key of the merged object"});
        break;
      }
    }
    if (p.service.empty()) errors.push_back({at + ".service", "a part needs a service"});
    if (std::string why = checkPath(p.path); !why.empty()) errors.push_back({at + ".path", "path " + why});
    if (p.timeout && (*p.timeout <= Duration::zero() || *p.timeout > kMaxPartTimeout))
      errors.push_back({at + ".timeout", "a part timeout is more than 0 and at most 1h"});
  }
  return errors.size() == before;
}

bool partSucceeded(std::uint16_t status, std::string_view body) noexcept {
  if (status < 200 || status > 299 || body.size() > kMaxPartBodyBytes) return false;
  return nlohmann::json::accept(body.begin(), body.end());
}

AggregateVerdict decide(const AggregateSpec& spec, std::span<const bool> ok) noexcept {
  AggregateVerdict v;
  for (std::size_t i = 0; i < spec.parts.size() && i < ok.size(); ++i) {
    if (ok[i]) continue;
    ++v.failedParts;
    if (spec.parts[i].onFailure == PartFailure::kFail && v.failedPart < 0) {
      v.failedPart = static_cast<int>(i);
      v.status = kAggregateFailedStatus;
    }
  }
  return v;
}

void mergeBodies(const AggregateSpec& spec, std::span<const std::string_view> bodies, std::span<const bool> ok,
                 std::string& out) {
  out.clear();
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < spec.parts.size() && i < ok.size() && i < bodies.size(); ++i) {
    const AggregatePart& p = spec.parts[i];
    if (!ok[i] && p.onFailure == PartFailure::kOmit) continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += p.name;  // letters, digits, '_' and '-': nothing to escape
    out += "\":";
    out += ok[i] ? trim(bodies[i]) : std::string_view("null");
  }
  out += '}';
}

void failureBody(const AggregateSpec& spec, const AggregateVerdict& verdict, std::string& out) {
  out.assign("{\"error\":\"part_failed\",\"part\":\"");
  if (verdict.failedPart >= 0 && static_cast<std::size_t>(verdict.failedPart) < spec.parts.size())
    out += spec.parts[static_cast<std::size_t>(verdict.failedPart)].name;
  out += "\"}";
}

}  // namespace gatelab::core::shaping
