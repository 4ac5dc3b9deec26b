#include "sim/trace/trace_record.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <utility>

namespace gatelab::sim::trace {

std::optional<std::string_view> TraceRecord::header(std::string_view name) const noexcept {
  for (const Field& h : headers) {
    if (core::equalsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::optional<std::string_view> TraceRecord::extra(std::string_view name) const noexcept {
  for (const Field& f : extras) {
    if (f.name == name) return f.value;
  }
  return std::nullopt;
}

namespace {

// The string members in the order OwnedRecord stores them.
constexpr std::string_view TraceRecord::*kStringMembers[] = {
    &TraceRecord::method,   &TraceRecord::path,     &TraceRecord::query,   &TraceRecord::host,      &TraceRecord::client,
    &TraceRecord::user,     &TraceRecord::protocol, &TraceRecord::referer, &TraceRecord::userAgent,
};

}  // namespace

void OwnedRecord::assign(const TraceRecord& r) {
  // One pass to size the arena, one to copy: the arena and the field array keep their capacity,
  // so a recycled OwnedRecord does not allocate for records no larger than ones it has held.
  std::size_t total = 0;
  for (auto member : kStringMembers) total += (r.*member).size();
  for (const Field& f : r.headers) total += f.name.size() + f.value.size();
  for (const Field& f : r.extras) total += f.name.size() + f.value.size();
  if (arena_.size() < total) arena_.resize(std::max(total, arena_.size() * 2));
  char* const base = arena_.data();
  std::size_t pos = 0;
  const auto copy = [&](std::string_view s) {
    if (s.empty()) return std::string_view{};
    std::memcpy(base + pos, s.data(), s.size());
    const std::string_view out(base + pos, s.size());
    pos += s.size();
    return out;
  };
  for (auto member : kStringMembers) view_.*member = copy(r.*member);
  fields_.resize(r.headers.size() + r.extras.size());
  std::size_t i = 0;
  for (const Field& f : r.headers) fields_[i++] = Field{copy(f.name), copy(f.value)};
  for (const Field& f : r.extras) fields_[i++] = Field{copy(f.name), copy(f.value)};
  view_.headers = std::span<const Field>(fields_.data(), r.headers.size());
  view_.extras = std::span<const Field>(fields_.data() + r.headers.size(), r.extras.size());
  view_.time = r.time;
  view_.status = r.status;
  view_.bytes = r.bytes;
  view_.requestTime = r.requestTime;
  view_.line = r.line;
}

std::size_t OwnedRecord::capacityBytes() const noexcept {
  return arena_.capacity() + fields_.capacity() * sizeof(Field);
}

}  // namespace gatelab::sim::trace
