#include "sim/trace/trace_record.hpp"

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

OwnedRecord::OwnedRecord(OwnedRecord&& other) noexcept
    : view_(other.view_),
      arena_(std::move(other.arena_)),
      offsets_(std::move(other.offsets_)),
      fields_(std::move(other.fields_)),
      headerCount_(other.headerCount_) {
  rebind();
  other.view_ = TraceRecord{};
  other.headerCount_ = 0;
}

OwnedRecord& OwnedRecord::operator=(OwnedRecord&& other) noexcept {
  if (this != &other) {
    view_ = other.view_;
    arena_ = std::move(other.arena_);
    offsets_ = std::move(other.offsets_);
    fields_ = std::move(other.fields_);
    headerCount_ = other.headerCount_;
    rebind();
    other.view_ = TraceRecord{};
    other.headerCount_ = 0;
  }
  return *this;
}

void OwnedRecord::assign(const TraceRecord& r) {
  // One pass to size the arena, one to copy: the arena and offsets keep their capacity, so a
  // recycled OwnedRecord does not allocate for records no larger than ones it has held.
  std::size_t total = 0;
  for (auto member : kStringMembers) total += (r.*member).size();
  for (const Field& f : r.headers) total += f.name.size() + f.value.size();
  for (const Field& f : r.extras) total += f.name.size() + f.value.size();
  arena_.resize(total);
  offsets_.resize(2 * (std::size(kStringMembers) + 2 * (r.headers.size() + r.extras.size())));
  char* dst = arena_.data();
  std::size_t pos = 0;
  std::size_t i = 0;
  const auto add = [&](std::string_view s) {
    offsets_[i++] = pos;
    offsets_[i++] = s.size();
    if (!s.empty()) std::memcpy(dst + pos, s.data(), s.size());
    pos += s.size();
  };
  for (auto member : kStringMembers) add(r.*member);
  for (const Field& f : r.headers) {
    add(f.name);
    add(f.value);
  }
  for (const Field& f : r.extras) {
    add(f.name);
    add(f.value);
  }
  headerCount_ = r.headers.size();
  fields_.resize(r.headers.size() + r.extras.size());
  view_.time = r.time;
  view_.status = r.status;
  view_.bytes = r.bytes;
  view_.requestTime = r.requestTime;
  view_.line = r.line;
  rebind();
}

void OwnedRecord::rebind() noexcept {
  if (offsets_.empty()) {
    for (auto member : kStringMembers) view_.*member = {};
    view_.headers = {};
    view_.extras = {};
    return;
  }
  std::size_t i = 0;
  const auto at = [this, &i]() {
    const std::string_view s(arena_.data() + offsets_[i], offsets_[i + 1]);
    i += 2;
    return s;
  };
  for (auto member : kStringMembers) view_.*member = at();
  for (Field& f : fields_) {
    f.name = at();
    f.value = at();
  }
  view_.headers = std::span<const Field>(fields_.data(), headerCount_);
  view_.extras = std::span<const Field>(fields_.data() + headerCount_, fields_.size() - headerCount_);
}

std::size_t OwnedRecord::capacityBytes() const noexcept {
  return arena_.capacity() + offsets_.capacity() * sizeof(std::size_t) + fields_.capacity() * sizeof(Field);
}

}  // namespace gatelab::sim::trace
