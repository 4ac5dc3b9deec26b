#include "sim/trace/detail/fields.hpp"

#include <cstring>

namespace gatelab::sim::trace::detail {
namespace {
constexpr bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }
}  // namespace

bool parseUnsigned(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 20) return false;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (!isDigit(c)) return false;
    if (__builtin_mul_overflow(v, std::uint64_t{10}, &v) ||
        __builtin_add_overflow(v, static_cast<std::uint64_t>(c - '0'), &v)) {
      return false;
    }
  }
  out = v;
  return true;
}

bool parseSeconds(std::string_view s, core::Duration& out) noexcept {
  // An epoch-seconds count is exactly a decimal number of seconds: the same rule.
  TraceTime t;
  if (!parseEpoch(s, 0, t)) return false;
  out = core::Duration{t.time_since_epoch().count()};
  return true;
}

bool splitRequestLine(std::string_view line, std::string_view& method, std::string_view& target,
                      std::string_view& protocol) noexcept {
  const std::size_t first = line.find(' ');
  if (first == std::string_view::npos || first == 0) return false;
  const std::size_t second = line.find(' ', first + 1);
  if (second == std::string_view::npos || second == first + 1 || second + 1 >= line.size()) return false;
  if (line.find(' ', second + 1) != std::string_view::npos) return false;
  method = line.substr(0, first);
  target = line.substr(first + 1, second - first - 1);
  protocol = line.substr(second + 1);
  return true;
}

void splitTarget(std::string_view target, std::string_view& path, std::string_view& query, std::string_view& host) noexcept {
  std::string_view rest = target;
  const auto hasScheme = [&rest](std::string_view scheme) {
    if (rest.size() < scheme.size()) return false;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
      char c = rest[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != scheme[i]) return false;
    }
    return true;
  };
  if (hasScheme("http://") || hasScheme("https://")) {
    rest.remove_prefix(rest.find("//") + 2);
    const std::size_t end = rest.find_first_of("/?#");
    host = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  }
  const std::size_t q = rest.find('?');
  if (q == std::string_view::npos) {
    path = rest;
    query = {};
  } else {
    path = rest.substr(0, q);
    query = rest.substr(q + 1);
  }
  if (path.empty() && rest.data() != target.data()) path = "/";
}

std::string_view applyConvertedField(FieldKind kind, std::string_view value, TimeMemo& time, TraceRecord& out,
                                     bool isJsonNumber) noexcept {
  if (kind == FieldKind::kTime) {
    if (!time.parse(value, out.time, isJsonNumber)) return "not a time in the expected syntax";
    return {};
  }
  if (kind == FieldKind::kRequest) {
    std::string_view target;
    if (!splitRequestLine(value, out.method, target, out.protocol)) return "not a request line METHOD TARGET PROTOCOL";
    splitTarget(target, out.path, out.query, out.host);
    return {};
  }
  if (isDash(value)) return {};
  switch (kind) {
    case FieldKind::kUrl: splitTarget(value, out.path, out.query, out.host); break;
    case FieldKind::kStatus: {
      std::uint64_t v = 0;
      if (value.size() > 3 || !parseUnsigned(value, v)) return "not a status code (0-999)";
      out.status = static_cast<int>(v);
      break;
    }
    case FieldKind::kBytes: {
      std::uint64_t v = 0;
      if (!parseUnsigned(value, v)) return "not a byte count";
      out.bytes = v;
      break;
    }
    case FieldKind::kRequestTime: {
      core::Duration d{0};
      if (!parseSeconds(value, d)) return "not a duration in seconds";
      out.requestTime = d;
      break;
    }
    default: break;  // text fields: applyField stores them; kHeader: the caller
  }
  return {};
}

void clearRecord(TraceRecord& out) noexcept {
  // Member by member rather than `out = TraceRecord{}`: GCC zeroes a temporary of that size with
  // `rep stos`, whose start-up cost is most of the work for ~200 bytes, once per trace line.
  out.time = TraceTime{};
  out.method = out.path = out.query = out.host = out.client = out.user = out.protocol = out.referer = out.userAgent = {};
  out.status = 0;
  out.bytes.reset();
  out.requestTime.reset();
  out.headers = {};
  out.extras = {};
  out.line = 0;
  static_assert(sizeof(TraceRecord) == 232, "a TraceRecord member was added or removed: reset it here too");
}

}  // namespace gatelab::sim::trace::detail
